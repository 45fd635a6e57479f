"""The bulletin's figures as frames: unit tables ranked with changes since the previous
bulletin, the two indicators, the trend (pandas over :mod:`canbao.report.bulletin.sql`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from canbao.core import places
from canbao.report.bulletin.columns import (
    ACCEPTED_STATUSES,
    COUNTS,
    DELTAS,
    SCOPE_COUNTS,
    TOTAL_LABEL,
    UNKNOWN_UNIT,
    Level,
    as_date,
)
from canbao.report.bulletin.sql import (
    indicators_sql,
    previous_period_sql,
    source_sql,
    trend_sql,
    unit_figures_sql,
)

if TYPE_CHECKING:
    from canbao.core.config import Config
    from canbao.core.engine import Engine


def _sources(engine: Engine) -> dict[str, str]:
    return {
        n: source_sql(n, engine.table_exists(n))
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
    p = engine.scalar(previous_period_sql(), [as_date(period)])
    return None if p is None or pd.isna(p) else pd.Timestamp(p).date()


def period_number(engine: Engine, period: dt.date | str) -> int:
    """第几期: how many registry periods up to and including ``period``."""
    return int(
        engine.scalar(
            "SELECT count(DISTINCT period) FROM registry_history WHERE period <= $1",
            [as_date(period)],
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
    p = as_date(period)
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
    p = as_date(period)

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
        trend_sql(_sources(engine)), [as_date(period), township_code, ACCEPTED_STATUSES]
    )
    df["period"] = pd.to_datetime(df["period"]).dt.date
    for c in SCOPE_COUNTS:
        df[c] = df[c].astype("int64")
    return df.assign(**_scope_rates(df))
