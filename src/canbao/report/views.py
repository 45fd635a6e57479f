"""Tables the district and township notebooks show, so the notebooks hold no logic.

Every function reads the registry (read-only in the township notebooks) and returns a
DataFrame with Chinese column labels and a total order. A township's people are those
whose *registry* township is that township (户籍/居住 registration), never an employer's
township: a person is handled once, by one township.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from canbao.core import messages, schema
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, open_registry_db
from canbao.core.labels import FINDING_LABELS, STATUS_LABELS
from canbao.core.privacy import mask_id

METHOD_LABELS = {
    "exact_id": "身份证号码一致",
    "repaired_id": "号码修复后一致",
    "probabilistic": "概率比对",
    "unlinked": "未比对上",
}
# The three cleanup (清理/纠错) lists a township works through.
CLEANUP_LISTS: dict[str, tuple[str, ...]] = {
    "重复参保": ("DUPLICATE_RECORD", "DUPLICATE_PENSION", "DUPLICATE_MEDICAL",
                 "DUPLICATE_BENEFIT", "DUPLICATE_REGION", "DUPLICATE_PERSON"),
    "死亡人员仍参保或领待遇": ("DECEASED_BENEFIT", "DECEASED_ACTIVE"),
    "信息纠错": ("ID_REPAIRED", "ID_UPGRADED", "ID_PRECISION_LOST", "ID_INVALID",
                 "NAME_MISMATCH", "SEX_MISMATCH", "BIRTH_MISMATCH"),
}  # fmt: skip


def open_registry_read_only(ctx: PeriodContext, cfg: Config | None = None) -> Engine:
    """The registry for reading only: township notebooks run side by side and never write.

    Under the params' memory budget (``cfg.engine``; the default budget without ``cfg``)."""
    return open_registry_db(ctx.registry_path, cfg.engine if cfg else None, read_only=True)


def _as_date(period: dt.date | str) -> dt.date:
    return period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period))


# --------------------------------------------------------------------------- district


def reconciliation_sql() -> str:
    return (
        "SELECT extract, file, rows_read, rows_loaded, rows_rejected, extra_columns, "
        "unknown_codes FROM reconciliation ORDER BY extract, file"
    )


def reconciliation_note(
    read: int, loaded: int, rejected: int, extra: object, unknown: object
) -> str:
    """The 说明 of one file's reconciliation: balanced or not, and what was set aside."""
    balanced = read == loaded + rejected
    parts = [
        messages.line("recon_balanced", read=read, loaded=loaded, rejected=rejected)
        if balanced
        else messages.line("recon_unbalanced", read=read, loaded=loaded, rejected=rejected)
    ]
    if isinstance(extra, str) and extra.strip():
        parts.append(messages.line("recon_extra_columns", columns=extra))
    if unknown is not None and not pd.isna(unknown) and int(unknown) > 0:
        parts.append(messages.line("recon_unknown_codes", n=int(unknown)))
    return "；".join(parts)


def reconciliation(engine: Engine) -> pd.DataFrame:
    """Rows read = loaded + rejected per input file, with a 是否平衡 check and a 说明 column."""
    df = engine.query_df(reconciliation_sql())
    df = df.sort_values(  # the contract's order of extracts (户籍 first), then the file
        ["extract", "file"],
        key=lambda s: s.map(schema.extract_rank) if s.name == "extract" else s,
        kind="stable",
        ignore_index=True,
    )
    df["extract"] = df["extract"].map(schema.extract_label)
    df["balanced"] = df["rows_read"] == df["rows_loaded"] + df["rows_rejected"]
    df["balanced"] = df["balanced"].map({True: "是", False: "否"})
    df["note"] = [
        reconciliation_note(*row)
        for row in zip(df["rows_read"], df["rows_loaded"], df["rows_rejected"],
                       df["extra_columns"], df["unknown_codes"], strict=True)
    ]  # fmt: skip
    return df.drop(columns=["extra_columns", "unknown_codes"]).rename(
        columns={
            "extract": "数据",
            "file": "文件",
            "rows_read": "读入行数",
            "rows_loaded": "入库行数",
            "rows_rejected": "拒收行数",
            "balanced": "是否平衡",
            "note": "说明",
        }
    )


def link_counts_sql() -> str:
    return (
        "SELECT source, method, count(*) AS n FROM links GROUP BY source, method "
        "ORDER BY source, method"
    )


def link_counts(engine: Engine) -> pd.DataFrame:
    """Rows per source extract and link method (every enrollment row is in exactly one)."""
    df = engine.query_df(link_counts_sql())
    wide = df.pivot_table(index="source", columns="method", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[m for m in METHOD_LABELS if m in wide.columns])
    wide["合计"] = wide.sum(axis=1)
    wide = wide.sort_index(key=lambda s: s.map(schema.extract_rank), kind="stable")
    wide = wide.rename(columns=METHOD_LABELS, index=schema.extract_label)
    wide = wide.rename_axis(index="数据", columns=None)
    return wide.reset_index().astype({c: "int64" for c in wide.columns})


def finding_counts_sql() -> str:
    return (
        "SELECT finding, count(*) AS n, count(DISTINCT person_id) AS persons "
        "FROM findings_history WHERE period = ? GROUP BY finding ORDER BY finding"
    )


def finding_counts(engine: Engine, period: dt.date | str) -> pd.DataFrame:
    """Findings of the period per code, and persons concerned (the page shows the code's Chinese label)."""
    df = engine.query_df(finding_counts_sql(), [_as_date(period)])
    return df.rename(columns={"finding": "问题", "n": "条数", "persons": "涉及人数"})


def coverage_counts_sql(township: bool) -> str:
    where = "period = ?" + (" AND township_code = ?" if township else "")
    return f"""
        SELECT '养老保险' AS item, pension_status AS status, count(*) AS n
        FROM registry_history WHERE {where} GROUP BY ALL
        UNION ALL
        SELECT '医疗保险', medical_status, count(*) FROM registry_history WHERE {where} GROUP BY ALL
        UNION ALL
        SELECT '登记状态', registration, count(*) FROM registry_history WHERE {where} GROUP BY ALL
    """


def coverage_counts(
    engine: Engine, period: dt.date | str, township_code: str | None = None
) -> pd.DataFrame:
    """Persons per coverage status (养老, 医疗) and registration status, district or township."""
    params: list[object] = [_as_date(period)]
    if township_code:
        params.append(township_code)
    df = engine.query_df(coverage_counts_sql(bool(township_code)), params * 3)
    order = {k: i for i, k in enumerate(STATUS_LABELS)}
    items = {"养老保险": 0, "医疗保险": 1, "登记状态": 2}
    df = df.assign(_i=df["item"].map(items), _s=df["status"].map(order).fillna(99))
    df = df.sort_values(["_i", "_s", "status"]).drop(columns=["_i", "_s"])
    df["status"] = df["status"].map(lambda s: STATUS_LABELS.get(s, s))
    return df.rename(columns={"item": "项目", "status": "状态", "n": "人数"}).reset_index(drop=True)


def truth_dir_for(period_dir: Path) -> Path:
    """``data/truth/<district>/<period>`` beside ``data/raw/<district>/<period>`` (the demo)."""
    period_dir = Path(period_dir)
    return period_dir.parents[2] / "truth" / period_dir.parent.name / period_dir.name


# --------------------------------------------------------------------------- township


def township_people_sql() -> str:
    """The township's people this period, by registry township only."""
    return (
        "SELECT person_id, id_number, name, village_code FROM registry_history "
        "WHERE period = ? AND township_code = ?"
    )


def cleanup_list_sql(codes: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in codes)
    return f"""
        SELECT f.finding, p.village_code, p.person_id, p.name, p.id_number, f.file,
               f.source_row, f.detail
        FROM findings_history f JOIN ({township_people_sql()}) p USING (person_id)
        WHERE f.period = ? AND f.finding IN ({marks})
        ORDER BY p.village_code NULLS LAST, p.person_id, f.finding, f.file NULLS FIRST,
                 f.source_row NULLS FIRST, f.detail
    """


def cleanup_list(
    engine: Engine, period: dt.date | str, township_code: str, codes: tuple[str, ...]
) -> pd.DataFrame:
    """One cleanup list of a township (IDs masked: the list leaves the village office)."""
    day = _as_date(period)
    df = engine.query_df(cleanup_list_sql(codes), [day, township_code, day, *codes])
    df["id_number"] = df["id_number"].map(mask_id)
    df["finding"] = df["finding"].map(lambda c: FINDING_LABELS.get(c, c))
    df["source_row"] = df["source_row"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    df = df.fillna("")
    return df.rename(
        columns={
            "finding": "问题",
            "village_code": "村社区代码",
            "person_id": "人员编号",
            "name": "姓名",
            "id_number": "公民身份号码",
            "file": "文件",
            "source_row": "行号",
            "detail": "说明",
        }
    )


def cleanup_lists(
    engine: Engine, period: dt.date | str, township_code: str
) -> dict[str, pd.DataFrame]:
    """The township's 重复参保, 死亡 and 纠错 lists, by name."""
    return {
        name: cleanup_list(engine, period, township_code, codes)
        for name, codes in CLEANUP_LISTS.items()
    }


def roster_files(out_dir: Path, township_code: str) -> pd.DataFrame:
    """Roster workbooks the survey stage wrote for the township (paths relative to the period)."""
    root = Path(out_dir) / "rosters"
    dirs = sorted(d for d in root.glob(f"{township_code}*") if d.is_dir()) if root.exists() else []
    files = sorted(p for d in dirs for p in d.rglob("*") if p.is_file())
    return pd.DataFrame(
        {
            "文件": [p.relative_to(out_dir).as_posix() for p in files],
            "大小(KB)": [round(p.stat().st_size / 1024, 1) for p in files],
        }
    )


def head(df: pd.DataFrame, n: int = 200) -> pd.DataFrame:
    """At most ``n`` rows for display (the notebook says how many there are in all)."""
    return df.head(n)


def cleanup_summary(lists: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows and persons per cleanup list."""
    return pd.DataFrame(
        {
            "名单": list(lists),
            "条数": [len(df) for df in lists.values()],
            "人数": [df["人员编号"].nunique() for df in lists.values()],
        }
    )


def truth_accuracy(engine: Engine, ctx: PeriodContext) -> pd.DataFrame | None:
    """Link precision/recall against the demo truth, or None when there is no truth folder."""
    truth_dir = truth_dir_for(ctx.period_dir)
    if not (truth_dir / "rows.csv").exists():
        return None
    from canbao.demo.accuracy import link_accuracy

    df = link_accuracy(engine, truth_dir)
    df["method"] = df["method"].map(lambda m: METHOD_LABELS.get(m, m))
    return df.rename(
        columns={
            "method": "比对方式",
            "rows": "行数",
            "linked": "已比对",
            "correct": "正确",
            "wrong": "错误",
            "missed": "漏比对",
            "precision": "准确率",
            "recall": "召回率",
        }
    ).round(4)


def linkage_review_html(engine: Engine, cfg: Config, ctx: PeriodContext) -> str:
    """The linkage model for a reviewer (Splink parameters, match weights, waterfalls).

    Drawn by :func:`canbao.linkage.model_charts.charts_html` on a writable engine (Splink
    builds working tables); a period that needed no probabilistic linkage has no model.
    """
    from canbao.linkage import model_charts as charts

    try:
        html = charts.charts_html(engine, cfg, ctx)
    except FileNotFoundError:
        return "<p>本期所有参保记录均按身份证号码比对，未使用概率比对模型。</p>"
    return stable_chart_ids(html)


def stable_chart_ids(html: str) -> str:
    """Number Splink's random chart element ids (``splink-chart-<uuid4 hex>``) in order.

    The random ids would make every executed notebook and its HTML differ between runs.
    """
    ids: dict[str, str] = {}

    def number(m: re.Match[str]) -> str:
        return ids.setdefault(m.group(1), f"splink-chart-{len(ids) + 1}")

    return re.sub(r"splink-chart-([0-9a-f]{32})", number, html)
