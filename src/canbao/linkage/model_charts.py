"""Splink charts of the period's model, for the district notebook's reviewer.

Each function returns a Splink ``SplinkChart`` (``.to_html(inline=True)`` gives a
self-contained HTML string; no altair or internet needed) or an HTML string.
The model is reloaded from ``out_dir/linkage/model.json`` over the staging tables
the link stage left in the registry (``link_splink_persons``, ``link_splink_rows``).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.linkage import model as mdl
from canbao.linkage.link import model_path


def load_linker(engine: Engine, cfg: Config, ctx: PeriodContext):
    """A Splink Linker with the period's saved model over its staging tables."""
    del cfg  # the model JSON carries everything; kept for a uniform signature
    path = model_path(ctx)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no model (the period needed no probabilistic linkage)")
    if not engine.table_exists(mdl.ROWS_SPLINK):
        raise FileNotFoundError(f"{mdl.ROWS_SPLINK} missing: run the link stage first")
    return mdl.load_linker(engine, path)


def match_weights_chart(linker: Any):
    """Partial match weight of every comparison level (what agreement is worth)."""
    return linker.visualisations.match_weights_chart()


def m_u_parameters_chart(linker: Any):
    """m and u probabilities of every comparison level."""
    return linker.visualisations.m_u_parameters_chart()


def blocking_rule_counts(linker: Any) -> pd.DataFrame:
    """Exact pair counts per prediction blocking rule (marginal and cumulative)."""
    recs = linker.blocking_analysis.count_comparisons_from_blocking_rules(
        record_sample_proportion=1.0
    )
    df = pd.DataFrame(recs)
    df.insert(0, "rule", [label for label, _ in mdl.BLOCKING_RULES][: len(df)])
    return df


def blocking_rule_table(counts: pd.DataFrame) -> str:
    """The blocking-rule counts as a reviewer reads them: the rule, its join, the pairs
    it adds and the running total, in the one table style (not Splink's own columns)."""
    from canbao.report import tables  # late: the report package imports the registry stack

    shown = pd.DataFrame(
        {
            "分块规则": counts["rule"],
            "连接条件": counts["blocking_rule"].astype(str),
            "新增比较对数": counts["marginal_comparison_count"].astype("int64"),
            "累计比较对数": counts["cumulative_comparison_count"].astype("int64"),
        }
    )
    return tables.table_html(shown, scroll_rows=10**9)


def blocking_rule_chart(linker: Any):
    """Splink's cumulative comparisons chart for the prediction blocking rules."""
    return linker.blocking_analysis.chart_comparisons_from_blocking_rules(
        record_sample_proportion=1.0
    )


def sample_links(engine: Engine, cfg: Config, per_band: int = 3) -> pd.DataFrame:
    """A few scored pairs per probability band (best candidate per row), deterministic."""
    lk = cfg.linkage
    bands = [
        ("accepted", lk.match_threshold, 1.01),
        ("review", lk.review_threshold, lk.match_threshold),
        ("rejected", 0.0, lk.review_threshold),
    ]
    parts = []
    for label, lo, hi in bands:
        df = engine.query_df(
            f"""
            SELECT * FROM (
                SELECT *, row_number() OVER (PARTITION BY unique_id_r
                    ORDER BY match_weight DESC, unique_id_l) AS best
                FROM {mdl.PREDICTIONS_TABLE})
            WHERE best = 1 AND match_probability >= ? AND match_probability < ?
            ORDER BY md5(unique_id_r), unique_id_r LIMIT ?
            """,
            [lo, hi, per_band],
        )
        parts.append(df.assign(band=label))
    return pd.concat(parts, ignore_index=True)


def waterfall_chart(linker: Any, pairs: pd.DataFrame, *, mask_ids: bool = True):
    """Waterfall of how each sampled pair's weight adds up. IDs are masked unless
    ``mask_ids=False`` (the notebook's HTML may leave the office)."""
    from canbao.core.privacy import mask_id

    records = pairs.drop(columns=["best", "band"], errors="ignore").to_dict("records")
    for r in records:
        for k in ("id_hint_l", "id_hint_r"):
            if mask_ids and isinstance(r.get(k), str):
                r[k] = mask_id(r[k])
        for k, v in list(r.items()):
            if isinstance(v, pd.Timestamp):
                r[k] = v.strftime("%Y-%m-%d")
    return linker.visualisations.waterfall_chart(records, filter_nulls=False)


def charts_html(engine: Engine, cfg: Config, ctx: PeriodContext, per_band: int = 3) -> str:
    """All charts as one self-contained HTML fragment (for a notebook cell or a file)."""
    linker = load_linker(engine, cfg, ctx)
    counts = blocking_rule_counts(linker)
    sample = sample_links(engine, cfg, per_band)
    parts = [
        "<h3>匹配权重 (match weights)</h3>",
        match_weights_chart(linker).to_html(inline=True),
        "<h3>m/u 参数</h3>",
        m_u_parameters_chart(linker).to_html(inline=True),
        "<h3>分块规则 (blocking rules)</h3>",
        blocking_rule_table(counts),
    ]
    if len(sample):
        parts += [
            "<h3>抽样比对 (waterfall, 各概率段)</h3>",
            "<p>"
            + html.escape(", ".join(f"{b}: {n}" for b, n in sample["band"].value_counts().items()))
            + "</p>",
            waterfall_chart(linker, sample).to_html(inline=True),
        ]
    return "\n".join(parts)
