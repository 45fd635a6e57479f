"""Figures of the 全民参保登记工作进展通报 (contract §4, §8.5): aggregates only.

Everything is computed from the persistent registry tables (``registry_history``,
``findings_history``, ``changelog``, ``survey_tasks``) for one period; no
person-level row leaves this module. A *unit* is a 乡镇街道 (district bulletin)
or a 村社区 (township bulletin); each table ends with a 合计 row.

Definitions (period P = the bulletin date, the registry as committed for P):

* 户籍人数 ``hukou``: persons with ``population = 'hukou'`` and ``life_status = 'alive'``.
* 应参保人数 ``<family>_due``: 户籍人数 minus the family's exclusions
  (``exempt`` or ``not_applicable``), per family (pension, medical).
* 已参保人数 ``<family>_insured``: of those, ``insured_local`` + ``insured_elsewhere``.
* 参保率 ``<family>_rate`` = 已参保 / 应参保; 综合参保率 ``overall_rate`` =
  (养老已参保 + 医疗已参保) / (养老应参保 + 医疗应参保), the default ranking key.
  常住 (non-户籍) persons are outside the coverage base: they count where their 户籍 is.
* 下发核查数 ``tasks_issued``: persons with a ``survey_tasks`` row issued at or
  before P (a reissued task counts once), placed where the latest task placed them.
* 已核查数 ``tasks_done``: of those, persons with a task whose return was accepted
  (status ``returned`` or ``accepted``) with ``result_period`` at or before P. 核查完成率 = 已核查 / 下发.
* 本期新增参保 ``new_insured``: persons with a ``新参保`` change in P's changelog.
* 清理数: ``clean_deceased`` persons with a DECEASED_* finding in P,
  ``clean_moved`` persons with a ``迁出`` change in P, ``clean_duplicate``
  persons with a DUPLICATE_* finding in P; ``clean_total`` is their sum.
* 纠错数 ``corrections``: persons whose ``registration`` was ``needs_correction``
  in any period up to P (still pending or since corrected); ``corrections_open``
  those still ``needs_correction`` at P.
* 排名 ``rank``: by ``overall_rate`` (params ``bulletin.rank_by: coverage``) or
  by 核查完成率 (``survey_completion``), highest first, ties share a rank; units
  without a base are unranked.
* Change since the previous bulletin (``d_*``): P's figure minus the figure of
  the latest earlier period in ``registry_history`` (rates in percentage points;
  ``d_rank`` = previous rank − rank, so positive means moved up). NaN in the
  first bulletin or for a unit new in P.
* Events (changes, findings, corrections) are placed at the person's latest
  registry location at or before P.

The two official indicators (湖南 2017, contract §8.5), over everyone alive in the
registry (户籍 and 常住) of the scope:

* **已参保人员入库率** (target 100%) = persons insured in at least one family
  whose registry record is settled (``registration`` other than
  ``needs_correction``: their identity data agree with 公安) / persons insured in
  at least one family.
* **未参保人员登记率** (target ≥ 95%) = persons registered through the household
  survey (``registration = 'surveyed'``) / persons who needed it
  (``registration`` in ``survey``, ``surveyed``).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from canbao.core import places

if TYPE_CHECKING:
    from canbao.core.config import Config
    from canbao.core.engine import Engine

Level = Literal["township", "village"]

# survey_tasks.status of an accepted return: 'returned' at stage 5, 'accepted' from stage 9 on.
ACCEPTED_STATUSES = ["accepted", "returned"]
TOTAL_LABEL = "合计"
UNKNOWN_UNIT = "（未填写）"

# Count columns summed in the 合计 row; everything else is derived.
# Counts the unit table and the trend both have: coverage (COVERAGE_COUNTS) and survey tasks.
SCOPE_COUNTS = [
    "pension_due",
    "pension_insured",
    "medical_due",
    "medical_insured",
    "tasks_issued",
    "tasks_done",
]
COUNTS = [
    "hukou",
    *SCOPE_COUNTS,
    "new_insured",
    "clean_deceased",
    "clean_moved",
    "clean_duplicate",
    "corrections",
    "corrections_open",
]
RATES = ["pension_rate", "medical_rate", "overall_rate", "survey_rate"]
DELTAS = {
    "d_pension_insured": "pension_insured",
    "d_medical_insured": "medical_insured",
    "d_pension_rate": "pension_rate",
    "d_medical_rate": "medical_rate",
    "d_survey_rate": "survey_rate",
}

LABELS = {
    "unit_code": "代码",
    "unit_name": "单位",
    "hukou": "户籍人数",
    "pension_due": "养老应参保人数",
    "pension_insured": "养老已参保人数",
    "pension_rate": "养老参保率",
    "medical_due": "医疗应参保人数",
    "medical_insured": "医疗已参保人数",
    "medical_rate": "医疗参保率",
    "overall_rate": "综合参保率",
    "tasks_issued": "下发核查数",
    "tasks_done": "已核查数",
    "survey_rate": "核查完成率",
    "new_insured": "本期新增参保",
    "clean_deceased": "清理数（死亡）",
    "clean_moved": "清理数（迁出）",
    "clean_duplicate": "清理数（重复）",
    "clean_total": "清理数（合计）",
    "corrections": "纠错数",
    "corrections_open": "待纠错数",
    "rank": "排名",
    "d_pension_rate": "养老参保率较上期",
    "d_medical_rate": "医疗参保率较上期",
    "d_survey_rate": "核查完成率较上期",
    "d_rank": "排名较上期",
}

UNIT_WORD = {"township": "乡镇街道", "village": "村社区"}


# --------------------------------------------------------------------------- SQL


# 应参保 / 已参保 per family over 户籍 persons alive (contract §8.5); one definition shared by
# the unit table and the trend so the two can never disagree.
COVERAGE_COUNTS = """count_if(population = 'hukou' AND life_status = 'alive'
                 AND coalesce(pension_status, '') NOT IN ('exempt', 'not_applicable')) AS pension_due,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND pension_status IN ('insured_local', 'insured_elsewhere')) AS pension_insured,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND coalesce(medical_status, '') NOT IN ('exempt', 'not_applicable')) AS medical_due,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND medical_status IN ('insured_local', 'insured_elsewhere')) AS medical_insured"""


def _source_sql(name: str, present: bool) -> str:
    """The table itself, or an empty relation with its columns when it does not exist yet."""
    if present:
        return f'"{name}"'
    empty = {
        "findings_history": "SELECT NULL::DATE AS period, NULL::VARCHAR AS finding, NULL::VARCHAR AS person_id",
        "changelog": "SELECT NULL::DATE AS period, NULL::VARCHAR AS person_id, NULL::VARCHAR AS change",
        "survey_tasks": (
            "SELECT NULL::DATE AS period, NULL::VARCHAR AS person_id, NULL::VARCHAR AS township_code, "
            "NULL::VARCHAR AS village_code, NULL::VARCHAR AS status, NULL::DATE AS result_period"
        ),
    }[name]
    return f"({empty} WHERE false)"


def unit_figures_sql(level: Level, sources: dict[str, str]) -> str:
    """Counts per unit plus a total row (``is_total``) for one period.

    Parameters: ``$1`` period (DATE), ``$2`` township code ('' = whole district),
    ``$3`` accepted survey statuses (list). ``level`` picks the unit column from a fixed set.
    """
    unit = {"township": "township_code", "village": "village_code"}[level]
    return f"""
WITH reg AS (
    SELECT person_id, coalesce(township_code, '') AS township_code,
           coalesce(village_code, '') AS village_code, population, life_status,
           pension_status, medical_status
    FROM registry_history
    WHERE period = $1 AND ($2 = '' OR township_code = $2)
),
agg_reg AS (
    SELECT {unit} AS unit, grouping({unit}) AS is_total,
        count_if(population = 'hukou' AND life_status = 'alive') AS hukou,
        {COVERAGE_COUNTS}
    FROM reg
    GROUP BY GROUPING SETS (({unit}), ())
),
events AS (
    SELECT 'new_insured' AS measure, person_id FROM {sources["changelog"]}
        WHERE period = $1 AND change = '新参保'
    UNION ALL
    SELECT 'clean_moved', person_id FROM {sources["changelog"]}
        WHERE period = $1 AND change = '迁出'
    UNION ALL
    SELECT 'clean_deceased', person_id FROM {sources["findings_history"]}
        WHERE period = $1 AND starts_with(finding, 'DECEASED_')
    UNION ALL
    SELECT 'clean_duplicate', person_id FROM {sources["findings_history"]}
        WHERE period = $1 AND starts_with(finding, 'DUPLICATE_')
    UNION ALL
    SELECT DISTINCT 'corrections', person_id FROM registry_history
        WHERE period <= $1 AND registration = 'needs_correction'
    UNION ALL
    SELECT 'corrections_open', person_id FROM registry_history
        WHERE period = $1 AND registration = 'needs_correction'
),
loc AS (
    SELECT person_id,
           arg_max(coalesce(township_code, ''), period) AS township_code,
           arg_max(coalesce(village_code, ''), period) AS village_code
    FROM registry_history
    WHERE period <= $1 AND person_id IN (SELECT person_id FROM events)
    GROUP BY person_id
),
agg_evt AS (
    SELECT l.{unit} AS unit, grouping(l.{unit}) AS is_total,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'new_insured') AS new_insured,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_deceased') AS clean_deceased,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_moved') AS clean_moved,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_duplicate') AS clean_duplicate,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'corrections') AS corrections,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'corrections_open') AS corrections_open
    FROM events e JOIN loc l USING (person_id)
    WHERE $2 = '' OR l.township_code = $2
    GROUP BY GROUPING SETS ((l.{unit}), ())
),
task_person AS (
    SELECT person_id,
           arg_max(coalesce(township_code, ''), period) AS township_code,
           arg_max(coalesce(village_code, ''), period) AS village_code,
           bool_or(list_contains($3::VARCHAR[], status) AND result_period <= $1) AS done
    FROM {sources["survey_tasks"]}
    WHERE period <= $1
    GROUP BY person_id
),
agg_task AS (
    SELECT {unit} AS unit, grouping({unit}) AS is_total,
           count(*) AS tasks_issued, count_if(done) AS tasks_done
    FROM task_person
    WHERE $2 = '' OR township_code = $2
    GROUP BY GROUPING SETS (({unit}), ())
),
units AS (
    SELECT unit, is_total FROM agg_reg
    UNION SELECT unit, is_total FROM agg_evt
    UNION SELECT unit, is_total FROM agg_task
)
SELECT coalesce(u.unit, '') AS unit_code, u.is_total = 1 AS is_total,
    coalesce(r.hukou, 0) AS hukou,
    coalesce(r.pension_due, 0) AS pension_due,
    coalesce(r.pension_insured, 0) AS pension_insured,
    coalesce(r.medical_due, 0) AS medical_due,
    coalesce(r.medical_insured, 0) AS medical_insured,
    coalesce(t.tasks_issued, 0) AS tasks_issued,
    coalesce(t.tasks_done, 0) AS tasks_done,
    coalesce(e.new_insured, 0) AS new_insured,
    coalesce(e.clean_deceased, 0) AS clean_deceased,
    coalesce(e.clean_moved, 0) AS clean_moved,
    coalesce(e.clean_duplicate, 0) AS clean_duplicate,
    coalesce(e.corrections, 0) AS corrections,
    coalesce(e.corrections_open, 0) AS corrections_open
FROM units u
LEFT JOIN agg_reg r ON r.unit IS NOT DISTINCT FROM u.unit AND r.is_total = u.is_total
LEFT JOIN agg_evt e ON e.unit IS NOT DISTINCT FROM u.unit AND e.is_total = u.is_total
LEFT JOIN agg_task t ON t.unit IS NOT DISTINCT FROM u.unit AND t.is_total = u.is_total
ORDER BY u.is_total, unit_code
"""


def indicators_sql() -> str:
    """Numerators and denominators of the two official indicators (``$1`` period, ``$2`` township or '')."""
    return """
SELECT
    count_if(pension_status IN ('insured_local', 'insured_elsewhere')
             OR medical_status IN ('insured_local', 'insured_elsewhere')) AS insured,
    count_if((pension_status IN ('insured_local', 'insured_elsewhere')
              OR medical_status IN ('insured_local', 'insured_elsewhere'))
             AND coalesce(registration, '') <> 'needs_correction') AS insured_settled,
    count_if(registration IN ('survey', 'surveyed')) AS uninsured,
    count_if(registration = 'surveyed') AS uninsured_registered
FROM registry_history
WHERE period = $1 AND ($2 = '' OR township_code = $2) AND life_status = 'alive'
"""


def trend_sql(sources: dict[str, str]) -> str:
    """Scope totals for every period up to ``$1`` (``$2`` township or '', ``$3`` accepted statuses)."""
    return f"""
WITH periods AS (
    SELECT DISTINCT period FROM registry_history WHERE period <= $1
),
cov AS (
    SELECT period,
        {COVERAGE_COUNTS}
    FROM registry_history
    WHERE period <= $1 AND ($2 = '' OR township_code = $2)
    GROUP BY period
),
tasks AS (
    SELECT p.period, t.person_id,
           arg_max(coalesce(t.township_code, ''), t.period) AS township_code,
           bool_or(list_contains($3::VARCHAR[], t.status) AND t.result_period <= p.period) AS done
    FROM periods p JOIN {sources["survey_tasks"]} t ON t.period <= p.period
    GROUP BY p.period, t.person_id
),
agg_task AS (
    SELECT period, count(*) AS tasks_issued, count_if(done) AS tasks_done
    FROM tasks WHERE $2 = '' OR township_code = $2
    GROUP BY period
)
SELECT p.period,
    coalesce(c.pension_due, 0) AS pension_due, coalesce(c.pension_insured, 0) AS pension_insured,
    coalesce(c.medical_due, 0) AS medical_due, coalesce(c.medical_insured, 0) AS medical_insured,
    coalesce(t.tasks_issued, 0) AS tasks_issued, coalesce(t.tasks_done, 0) AS tasks_done
FROM periods p
LEFT JOIN cov c USING (period)
LEFT JOIN agg_task t USING (period)
ORDER BY p.period
"""


def previous_period_sql() -> str:
    """The latest registry period before ``$1`` (NULL for the first bulletin)."""
    return "SELECT max(period) FROM registry_history WHERE period < $1"


# --------------------------------------------------------------------------- helpers


def _as_date(period: dt.date | str) -> dt.date:
    return period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period))


def _sources(engine: Engine) -> dict[str, str]:
    return {
        n: _source_sql(n, engine.table_exists(n))
        for n in ("findings_history", "changelog", "survey_tasks")
    }


def _ratio(num: pd.Series | float, den: pd.Series | float) -> pd.Series | float:
    """num / den with NaN (not inf, not 0) where the base is empty."""
    if isinstance(num, pd.Series):
        den = pd.Series(den, index=num.index).astype("float64")
        return num.astype("float64") / den.where(den > 0)
    return float(num) / float(den) if den else math.nan


def previous_period(engine: Engine, period: dt.date | str) -> dt.date | None:
    """The period of the previous bulletin, or None for the first one."""
    p = engine.scalar(previous_period_sql(), [_as_date(period)])
    return None if p is None or pd.isna(p) else pd.Timestamp(p).date()


def period_number(engine: Engine, period: dt.date | str) -> int:
    """第几期: how many registry periods up to and including ``period``."""
    return int(
        engine.scalar(
            "SELECT count(DISTINCT period) FROM registry_history WHERE period <= $1",
            [_as_date(period)],
        )
        or 0
    )


def scope_name(engine: Engine, cfg: Config, township_code: str = "") -> str:
    """Display name of the district (township_code '') or of one township."""
    if township_code:
        names = unit_names(engine, cfg, "township")
        return names.get(township_code, township_code)
    return places.district_name(cfg.district_code, cfg.district_name)


def unit_names(engine: Engine, cfg: Config | None, level: Level) -> dict[str, str]:
    """Code → name of the units (:func:`canbao.core.places.unit_names`)."""
    if cfg is None:
        return places.unit_names(engine, level)
    overrides = cfg.township_names if level == "township" else None
    return places.unit_names(engine, level, cfg.district_code, overrides)


def _require_period(engine: Engine, period: dt.date) -> None:
    """A bulletin for a period the registry has not committed would be all zeros: refuse it."""
    if not engine.scalar("SELECT count(*) FROM registry_history WHERE period = $1", [period]):
        raise ValueError(
            f"registry_history has no rows for period {period.isoformat()} (run the period first)"
        )


def _unit_counts(engine: Engine, period: dt.date, level: Level, township_code: str) -> pd.DataFrame:
    df = engine.query_df(
        unit_figures_sql(level, _sources(engine)), [period, township_code, ACCEPTED_STATUSES]
    )
    for c in COUNTS:
        df[c] = df[c].astype("int64")
    df["is_total"] = df["is_total"].astype(bool)
    return df


def _scope_rates(df: pd.DataFrame) -> dict[str, pd.Series]:
    """Pension, medical and survey-completion rates: one formula for unit table and trend."""
    return {
        "pension_rate": _ratio(df["pension_insured"], df["pension_due"]),
        "medical_rate": _ratio(df["medical_insured"], df["medical_due"]),
        "survey_rate": _ratio(df["tasks_done"], df["tasks_issued"]),
    }


def _derive(df: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """Rates, cleanup total and rank (units only; the 合计 row is not ranked)."""
    out = df.assign(
        **_scope_rates(df),
        overall_rate=_ratio(
            df["pension_insured"] + df["medical_insured"], df["pension_due"] + df["medical_due"]
        ),
        clean_total=df["clean_deceased"] + df["clean_moved"] + df["clean_duplicate"],
    )
    key = {"coverage": "overall_rate", "survey_completion": "survey_rate"}[rank_by]
    units = ~out["is_total"]
    # Round before ranking so that equal displayed rates share a rank.
    rank = out.loc[units, key].round(6).rank(method="min", ascending=False)
    out["rank"] = pd.Series(rank, index=out.index).astype("Int64")
    return out


def _table(
    engine: Engine, period: dt.date | str, level: Level, township_code: str, cfg: Config | None
) -> pd.DataFrame:
    p = _as_date(period)
    _require_period(engine, p)
    rank_by = cfg.bulletin.rank_by if cfg is not None else "coverage"
    cur = _derive(_unit_counts(engine, p, level, township_code), rank_by)
    prev_p = previous_period(engine, p)
    if prev_p is not None:
        prev = _derive(_unit_counts(engine, prev_p, level, township_code), rank_by)
        prev = prev[["unit_code", "is_total", "rank", *DELTAS.values()]].rename(
            columns={c: f"prev_{c}" for c in ["rank", *DELTAS.values()]}
        )
        cur = cur.merge(prev, on=["unit_code", "is_total"], how="left")
    else:
        for c in ["rank", *DELTAS.values()]:
            cur[f"prev_{c}"] = np.nan
    for d, src in DELTAS.items():
        cur[d] = cur[src] - cur[f"prev_{src}"].astype("float64")
    cur["d_rank"] = (cur["prev_rank"].astype("Float64") - cur["rank"].astype("Float64")).astype(
        "Int64"
    )
    cur = cur.drop(columns=[c for c in cur.columns if c.startswith("prev_")])
    names = unit_names(engine, cfg, level)
    cur["unit_name"] = [
        TOTAL_LABEL if tot else (names.get(code, code) if code else UNKNOWN_UNIT)
        for code, tot in zip(cur["unit_code"], cur["is_total"], strict=True)
    ]
    cur.loc[cur["is_total"], "unit_code"] = ""
    cols = [
        "unit_code",
        "unit_name",
        "is_total",
        *COUNTS[:5],
        "pension_rate",
        "medical_rate",
        "overall_rate",
        "tasks_issued",
        "tasks_done",
        "survey_rate",
        "new_insured",
        "clean_deceased",
        "clean_moved",
        "clean_duplicate",
        "clean_total",
        "corrections",
        "corrections_open",
        "rank",
        *DELTAS,
        "d_rank",
    ]
    order = cur["is_total"].astype(int) * 10**9 + cur["rank"].astype("Float64").fillna(
        10**8
    ).astype("int64")
    cur = cur.assign(_o=order).sort_values(["_o", "unit_code"], kind="mergesort").drop(columns="_o")
    return cur[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- public API


def district_table(
    engine: Engine, period: dt.date | str, cfg: Config | None = None
) -> pd.DataFrame:
    """One row per 乡镇街道 in rank order, then the 合计 row (``is_total``).

    Args: ``engine`` on the registry, ``period`` (date or "YYYY-MM-DD"), ``cfg``
    for names and ``bulletin.rank_by``. Returns the columns listed in ``LABELS``
    (counts as int, rates as fractions, ``d_*`` changes since the previous bulletin).
    """
    return _table(engine, period, "township", "", cfg)


def township_table(
    engine: Engine, period: dt.date | str, township_code: str, cfg: Config | None = None
) -> pd.DataFrame:
    """One row per 村社区 of ``township_code`` in rank order, then the township's 合计 row."""
    if not township_code:
        raise ValueError("township_code is required (use district_table for the district)")
    return _table(engine, period, "village", township_code, cfg)


def indicators(engine: Engine, period: dt.date | str, township_code: str = "") -> pd.DataFrame:
    """The two official indicators for the scope, with numerator, denominator, target and change.

    Columns: ``indicator``, ``numerator``, ``denominator``, ``value``, ``target``,
    ``met`` (bool, NA without base), ``change`` (percentage points vs the previous bulletin).
    """
    p = _as_date(period)

    def one(day: dt.date) -> dict[str, float]:
        r = engine.query_df(indicators_sql(), [day, township_code]).iloc[0]
        return {k: 0 if pd.isna(r[k]) else int(r[k]) for k in r.index}

    cur = one(p)
    prev_p = previous_period(engine, p)
    prev = one(prev_p) if prev_p is not None else None
    rows = []
    for name, num, den, target in (
        ("已参保人员入库率", "insured_settled", "insured", 1.0),
        ("未参保人员登记率", "uninsured_registered", "uninsured", 0.95),
    ):
        value = _ratio(cur[num], cur[den])
        before = _ratio(prev[num], prev[den]) if prev else math.nan
        rows.append(
            {
                "indicator": name,
                "numerator": cur[num],
                "denominator": cur[den],
                "value": value,
                "target": target,
                "met": pd.NA if math.isnan(value) else bool(value >= target - 1e-12),
                "change": value - before,
            }
        )
    return pd.DataFrame(rows)


def trend_table(engine: Engine, period: dt.date | str, township_code: str = "") -> pd.DataFrame:
    """Scope totals and rates for every period up to ``period`` (for :func:`canbao.report.charts.trend`)."""
    df = engine.query_df(
        trend_sql(_sources(engine)), [_as_date(period), township_code, ACCEPTED_STATUSES]
    )
    df["period"] = pd.to_datetime(df["period"]).dt.date
    for c in SCOPE_COUNTS:
        df[c] = df[c].astype("int64")
    return df.assign(**_scope_rates(df))


# --------------------------------------------------------------------------- text and display


def cn_date(day: dt.date | str) -> str:
    d = _as_date(day)
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_pct(x: float) -> str:
    return "—" if x is None or pd.isna(x) else f"{x * 100:.1f}%"


def fmt_pp(x: float) -> str:
    """A change in percentage points, signed; '—' when there is nothing to compare."""
    if x is None or pd.isna(x):
        return "—"
    v = round(float(x) * 100, 1)
    return "持平" if v == 0 else f"{v:+.1f}"


def fmt_rank_change(x: object) -> str:
    if x is None or pd.isna(x):
        return "—"
    v = int(x)  # type: ignore[call-overload]
    return "—" if v == 0 else (f"↑{v}" if v > 0 else f"↓{-v}")


def _names(rows: pd.DataFrame) -> str:
    return "、".join(rows["unit_name"].astype(str))


def summary_text(
    table: pd.DataFrame,
    ind: pd.DataFrame,
    *,
    period: dt.date | str,
    scope: str,
    level: Level,
    rank_by: str = "coverage",
) -> str:
    """A short Chinese summary (plain paragraphs separated by blank lines).

    Args: the frame from :func:`district_table`/:func:`township_table`, the
    frame from :func:`indicators`, the period, the scope's name and the unit level.
    """
    tot = table.loc[table["is_total"]].iloc[0]
    units = table.loc[~table["is_total"]]
    word = UNIT_WORD[level]
    key, key_label = (
        ("overall_rate", "综合参保率") if rank_by == "coverage" else ("survey_rate", "核查完成率")
    )
    paras = [
        f"截至{cn_date(period)}，{scope}户籍人数{int(tot['hukou']):,}人。"
        f"基本养老保险应参保{int(tot['pension_due']):,}人、已参保{int(tot['pension_insured']):,}人，"
        f"参保率{fmt_pct(tot['pension_rate'])}{_since(tot['d_pension_rate'])}；"
        f"基本医疗保险应参保{int(tot['medical_due']):,}人、已参保{int(tot['medical_insured']):,}人，"
        f"参保率{fmt_pct(tot['medical_rate'])}{_since(tot['d_medical_rate'])}。"
        f"入户核查累计下发{int(tot['tasks_issued']):,}人、已核查{int(tot['tasks_done']):,}人，"
        f"核查完成率{fmt_pct(tot['survey_rate'])}{_since(tot['d_survey_rate'])}。"
    ]
    ranked = units.loc[units["rank"].notna()].sort_values(["rank", "unit_code"])
    if len(ranked) >= 2:
        n = 3 if len(ranked) >= 6 else 1
        lead, lag = ranked.head(n), ranked.tail(n).iloc[::-1]
        paras.append(
            f"按{key_label}排名，{_names(lead)}居前（{'、'.join(fmt_pct(v) for v in lead[key])}）；"
            f"{_names(lag)}靠后（{'、'.join(fmt_pct(v) for v in lag[key])}），请加快工作进度。"
        )
    moved = units.loc[
        units[f"d_{'survey_rate' if key == 'survey_rate' else 'pension_rate'}"].notna()
    ]
    if not moved.empty:
        col = "d_survey_rate" if key == "survey_rate" else "d_pension_rate"
        best = moved.sort_values([col, "unit_code"], ascending=[False, True]).iloc[0]
        worst = moved.sort_values([col, "unit_code"], ascending=[True, True]).iloc[0]
        what = "核查完成率" if key == "survey_rate" else "养老参保率"
        text = f"与上期相比，{what}提升最多的是{best['unit_name']}（{fmt_pp(best[col])}个百分点）"
        if worst[col] < 0:
            text += f"，下降最多的是{worst['unit_name']}（{fmt_pp(worst[col])}个百分点）"
        up = units.loc[units["d_rank"].fillna(0) > 0]
        if not up.empty:
            up = up.sort_values(["rank", "unit_code"])
            more = f"等{len(up)}个" if len(up) > 5 else ""
            text += f"；排名上升的{word}：{_names(up.head(5))}{more}"
        paras.append(text + "。")
    else:
        paras.append("本期为首期通报，暂无上期数据可比。")
    paras.append(
        f"本期新增参保{int(tot['new_insured']):,}人；待清理死亡人员{int(tot['clean_deceased']):,}人、"
        f"迁出人员{int(tot['clean_moved']):,}人、重复参保人员{int(tot['clean_duplicate']):,}人；"
        f"累计纠错{int(tot['corrections']):,}人，其中待纠错{int(tot['corrections_open']):,}人。"
    )
    parts = []
    for _, r in ind.iterrows():
        target = "100%" if r["target"] >= 1 else f"不低于{r['target'] * 100:.0f}%"
        state = "—" if pd.isna(r["met"]) else ("已达标" if r["met"] else "未达标")
        parts.append(f"{r['indicator']}{fmt_pct(r['value'])}（目标{target}，{state}）")
    paras.append("；".join(parts) + "。")
    return "\n\n".join(paras)


def _since(delta: float) -> str:
    if delta is None or pd.isna(delta):
        return ""
    s = fmt_pp(delta)
    return "，与上期持平" if s == "持平" else f"，较上期{s}个百分点"


def display_frame(table: pd.DataFrame, level: Level) -> pd.DataFrame:
    """The bulletin table as printed: formatted strings under a two-level Chinese header."""
    word = UNIT_WORD[level]
    t = table
    cols: dict[tuple[str, str], list[str]] = {
        ("", "排名"): [("" if pd.isna(r) else str(int(r))) for r in t["rank"]],
        ("", word): list(t["unit_name"]),
        ("", "户籍人数"): [f"{v:,}" for v in t["hukou"]],
        ("养老保险", "应参保"): [f"{v:,}" for v in t["pension_due"]],
        ("养老保险", "已参保"): [f"{v:,}" for v in t["pension_insured"]],
        ("养老保险", "参保率"): [fmt_pct(v) for v in t["pension_rate"]],
        ("养老保险", "较上期"): [fmt_pp(v) for v in t["d_pension_rate"]],
        ("医疗保险", "应参保"): [f"{v:,}" for v in t["medical_due"]],
        ("医疗保险", "已参保"): [f"{v:,}" for v in t["medical_insured"]],
        ("医疗保险", "参保率"): [fmt_pct(v) for v in t["medical_rate"]],
        ("医疗保险", "较上期"): [fmt_pp(v) for v in t["d_medical_rate"]],
        ("入户核查", "下发"): [f"{v:,}" for v in t["tasks_issued"]],
        ("入户核查", "已核查"): [f"{v:,}" for v in t["tasks_done"]],
        ("入户核查", "完成率"): [fmt_pct(v) for v in t["survey_rate"]],
        ("入户核查", "较上期"): [fmt_pp(v) for v in t["d_survey_rate"]],
        ("", "本期新增参保"): [f"{v:,}" for v in t["new_insured"]],
        ("清理数", "死亡"): [f"{v:,}" for v in t["clean_deceased"]],
        ("清理数", "迁出"): [f"{v:,}" for v in t["clean_moved"]],
        ("清理数", "重复"): [f"{v:,}" for v in t["clean_duplicate"]],
        ("", "纠错数"): [f"{v:,}" for v in t["corrections"]],
        ("", "排名变化"): [fmt_rank_change(v) for v in t["d_rank"]],
    }
    return pd.DataFrame(cols, columns=pd.MultiIndex.from_tuples(list(cols)))


def table_html(table: pd.DataFrame, level: Level) -> str:
    """The bulletin table in the one table style (the 合计 row, always last, set in bold)."""
    from canbao.report import tables

    shown = display_frame(table, level)
    text_cols = {"排名", UNIT_WORD[level]}
    kinds = {c[-1]: "text" if c[-1] in text_cols else "count" for c in shown.columns}
    return tables.table_html(
        shown, kinds=kinds, total_last=True, scroll_rows=10**9, css_class="bulletin-table"
    )


def indicators_html(ind: pd.DataFrame) -> str:
    """The indicator box: value, numerator/denominator, target, status, change."""
    rows = []
    for _, r in ind.iterrows():
        target = "100%" if r["target"] >= 1 else f"≥{r['target'] * 100:.0f}%"
        state = "—" if pd.isna(r["met"]) else ("达标" if r["met"] else "未达标")
        cls = "" if pd.isna(r["met"]) else (' class="met"' if r["met"] else ' class="unmet"')
        rows.append(
            f"<tr><td>{html.escape(str(r['indicator']))}</td><td>{fmt_pct(r['value'])}</td>"
            f"<td>{int(r['numerator']):,} / {int(r['denominator']):,}</td><td>{target}</td>"
            f"<td{cls}>{state}</td><td>{fmt_pp(r['change'])}</td></tr>"
        )
    return (
        '<table class="indicators"><thead><tr><th>指标</th><th>本期</th><th>分子 / 分母</th>'
        "<th>目标</th><th>状态</th><th>较上期（百分点）</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def summary_html(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def title_html(scope: str, period: dt.date | str, number: int, level: Level) -> str:
    """The red masthead (通报 name, issue number, date) and the document heading."""
    return (
        '<div class="bulletin-head"><div class="masthead">全民参保登记工作进展通报</div>'
        f'<div class="issue">第{number}期　{html.escape(scope)}　截至{cn_date(period)}</div></div>'
        f"<h1>{html.escape(scope)}全民参保登记工作进展情况（按{UNIT_WORD[level]}）</h1>"
    )


def signature_html(cfg: Config, period: dt.date | str) -> str:
    """Footer for printing and stamping: 填报单位（盖章）, 审核人, 填表人, 日期 (from params)."""
    b = cfg.bulletin

    def line(value: str) -> str:
        return f'<span class="line">{html.escape(value) or "&#160;"}</span>'

    return (
        '<table class="signature"><tbody>'
        f'<tr><td class="label">填报单位（盖章）：</td><td>{line(b.unit)}</td>'
        f'<td class="label">审核人：</td><td>{line(b.reviewer)}</td>'
        f'<td class="label">填表人：</td><td>{line(b.preparer)}</td>'
        f'<td class="label">日期：</td><td>{line(cn_date(period))}</td></tr>'
        "</tbody></table>"
        '<div class="stamp-note">（本通报仅含汇总数据，加盖填报单位公章后有效）</div>'
    )


def notes_html(level: Level, rank_by: str = "coverage") -> str:
    """Short definitions printed under the table (what each column counts)."""
    key = (
        "综合参保率（养老、医疗已参保人数之和 ÷ 应参保人数之和）"
        if rank_by == "coverage"
        else "核查完成率"
    )
    items = [
        "户籍人数：户籍在册且健在人员；应参保人数：户籍人数扣除不应参保（未满16周岁、在校学生、现役军人、服刑、出国定居等）人员，分险种计算。",
        "参保率 = 已参保人数 ÷ 应参保人数（含本地参保和外地参保）；较上期为与上期通报相比的变化（百分点）。",
        "下发核查数：截至本期累计下发入户核查人数；已核查数：核查结果已通过审核入库人数；完成率 = 已核查 ÷ 下发。",
        "清理数：本期发现的死亡人员仍参保或领待遇、本期迁出、重复参保人数；纠错数：截至本期身份信息需纠错（含已纠错）人数。",
        f"排名依据：{key}，由高到低；本表只含汇总数据，不含个人信息。",
    ]
    return '<ol class="notes">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ol>"
