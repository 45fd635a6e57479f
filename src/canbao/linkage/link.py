"""Stage 4: link every enrollment, national_match and students row to a person.

Order of evidence: the exact ID, then a repaired ID (upgrade, one digit,
transposition, check character) confirmed by name and birth date, then the
Splink model for the rest; reviewer decisions override the uncertain band.
Everything else stays unlinked (contract: NOT_IN_POPULATION is found downstream).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.linkage import memory as mem
from canbao.linkage import model as mdl
from canbao.linkage.exact import SETTLED_TABLE, link_exact
from canbao.linkage.inputs import ROWS_TABLE, build_link_rows, scalar, table_columns
from canbao.linkage.repair import link_repaired
from canbao.linkage.review import (
    DECISIONS_TABLE,
    NO,
    YES,
    import_decisions,
    review_key_sql,
    why_text,
    write_review_workbook,
)

BEST_TABLE = "link_best"
REVIEW_TABLE = "review_queue"
REVIEW_TOP_N = 3  # candidates shown per uncertain row


def model_path(ctx: PeriodContext) -> Path:
    return ctx.out_dir / "linkage" / "model.json"


def workbook_path(ctx: PeriodContext) -> Path:
    return ctx.out_dir / "linkage" / "clerical_review.xlsx"


def decisions_dir(ctx: PeriodContext) -> Path:
    return ctx.district_dir / "review" / "decisions"


def empty_candidates_sql() -> list[str]:
    return [
        f"CREATE OR REPLACE TABLE {mdl.CANDIDATES_TABLE} (rid VARCHAR, person_id VARCHAR, "
        "match_weight DOUBLE, match_probability DOUBLE, match_key VARCHAR)",
        f"CREATE OR REPLACE TABLE {mdl.PREDICTIONS_TABLE} (unique_id_l VARCHAR, "
        "unique_id_r VARCHAR, match_weight DOUBLE, match_probability DOUBLE)",
    ]


def best_candidates_sql() -> str:
    """Per row: the best candidate and whether it is accepted or goes to review.

    Accepted: probability ≥ match threshold and no runner-up also at or above it
    (two strong candidates, or a tie on weight, is ambiguous → review). Ranking is by
    match weight because probabilities saturate at 1.0. Params: review, match.
    """
    return f"""
    CREATE OR REPLACE TABLE {BEST_TABLE} AS
    WITH c AS (
        SELECT rid, person_id, match_weight, match_probability,
               row_number() OVER (PARTITION BY rid ORDER BY match_weight DESC, person_id) AS rk
        FROM {mdl.CANDIDATES_TABLE} WHERE match_probability >= $1
    ), top AS (
        SELECT rid,
               any_value(person_id) FILTER (WHERE rk = 1) AS person_id,
               max(match_probability) FILTER (WHERE rk = 1) AS p1,
               max(match_weight) FILTER (WHERE rk = 1) AS w1,
               max(match_probability) FILTER (WHERE rk = 2) AS p2,
               max(match_weight) FILTER (WHERE rk = 2) AS w2
        FROM c GROUP BY rid
    )
    SELECT rid, person_id, p1 AS match_probability, w1 AS match_weight,
           CASE WHEN p1 >= $2 AND (p2 IS NULL OR (p2 < $2 AND w2 < w1))
                THEN 'accept' ELSE 'review' END AS outcome
    FROM top ORDER BY rid
    """


def decided_sql() -> str:
    """Reviewer decisions that apply to this run's unsettled rows (person still exists)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE link_decided AS
    SELECT r.rid,
           count(DISTINCT d.person_id) FILTER (WHERE d.decision = '{YES}') AS n_yes,
           min(d.person_id) FILTER (WHERE d.decision = '{YES}') AS yes_person,
           max(d.match_probability) FILTER (WHERE d.decision = '{YES}') AS yes_p,
           list(d.person_id) FILTER (WHERE d.decision = '{NO}') AS no_persons
    FROM {ROWS_TABLE} r
    JOIN {DECISIONS_TABLE} d ON d.review_key = {review_key_sql("r")}
    JOIN persons p ON p.person_id = d.person_id
    WHERE NOT EXISTS (SELECT 1 FROM {SETTLED_TABLE} s WHERE s.rid = r.rid)
    GROUP BY r.rid
    """


def links_sql() -> str:
    """The ``links`` table: one row per input row, in (source, file, source_row) order."""
    auto_ok = (
        "b.outcome = 'accept' AND (d.rid IS NULL OR (d.n_yes = 0 "
        "AND NOT list_contains(coalesce(d.no_persons, []), b.person_id)))"
    )
    return f"""
    CREATE OR REPLACE TABLE links AS
    WITH pick AS (
        SELECT r.source, r.file, r.source_row, r.member_no,
               CASE WHEN s.rid IS NOT NULL THEN s.person_id
                    WHEN d.n_yes = 1 THEN d.yes_person
                    WHEN {auto_ok} THEN b.person_id END AS person_id,
               CASE WHEN s.rid IS NOT NULL THEN s.method
                    WHEN d.n_yes = 1 OR ({auto_ok}) THEN 'probabilistic'
                    ELSE 'unlinked' END AS method,
               CASE WHEN s.rid IS NOT NULL THEN s.match_probability
                    WHEN d.n_yes = 1 THEN round(d.yes_p, 6)
                    WHEN {auto_ok} THEN round(b.match_probability, 6) END
                   AS match_probability,
               s.repair
        FROM {ROWS_TABLE} r
        LEFT JOIN {SETTLED_TABLE} s ON s.rid = r.rid
        LEFT JOIN link_decided d ON d.rid = r.rid
        LEFT JOIN {BEST_TABLE} b ON b.rid = r.rid
    )
    SELECT * FROM pick ORDER BY source, file, source_row
    """


def review_rows_sql() -> str:
    """Candidates of rows still uncertain (review band, ambiguous, or conflicting 是)."""
    return f"""
    WITH open AS (
        SELECT b.rid FROM {BEST_TABLE} b LEFT JOIN link_decided d ON d.rid = b.rid
        WHERE (b.outcome = 'review' AND d.rid IS NULL) OR d.n_yes > 1
    ), cand AS (
        SELECT p.*, row_number() OVER (PARTITION BY p.unique_id_r
                                       ORDER BY p.match_weight DESC, p.unique_id_l) AS rank
        FROM {mdl.PREDICTIONS_TABLE} p JOIN open o ON o.rid = p.unique_id_r
        WHERE p.match_probability >= $1
    )
    SELECT {review_key_sql("r")} AS review_key, r.source, r.file, r.source_row, r.member_no,
           c.rank, c.unique_id_l AS person_id, c.match_probability, c.match_weight,
           r.id_raw AS row_id_raw, r.name AS row_name, r.sex AS row_sex,
           r.birth_date AS row_birth, pe.id_number AS person_id_number,
           pe.name AS person_name, pe.sex AS person_sex, pe.birth_date AS person_birth,
           pe.village_code, c.* EXCLUDE (rank, match_probability, match_weight)
    FROM cand c JOIN {ROWS_TABLE} r ON r.rid = c.unique_id_r
    JOIN persons pe ON pe.person_id = c.unique_id_l
    WHERE c.rank <= {REVIEW_TOP_N}
    ORDER BY r.source, r.file, r.source_row, c.rank
    """


def level_labels(model: dict[str, Any]) -> tuple[dict[str, dict[int, str]], dict[str, str]]:
    """gamma value → level label per comparison, and each comparison's title."""
    labels: dict[str, dict[int, str]] = {}
    titles: dict[str, str] = {}
    for comp in model["comparisons"]:
        col = comp["output_column_name"]
        titles[col] = mdl.TITLES.get(col, col)
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        labels[col] = {len(levels) - 1 - i: lv["label_for_charts"] for i, lv in enumerate(levels)}
        nulls = [lv for lv in comp["comparison_levels"] if lv.get("is_null_level")]
        if nulls:
            labels[col][-1] = nulls[0]["label_for_charts"]
    return labels, titles


REVIEW_COLUMNS = [
    "review_key", "source", "file", "source_row", "member_no", "rank", "person_id",
    "match_probability", "match_weight", "why", "row_id_raw", "row_name", "row_sex",
    "row_birth", "person_id_number", "person_name", "person_sex", "person_birth",
    "village_code",
]  # fmt: skip


def build_review_queue(engine: Engine, cfg: Config, model: dict[str, Any] | None) -> pd.DataFrame:
    """``review_queue`` table (full IDs stay inside the registry) and its frame."""
    if model is None:
        df = pd.DataFrame(columns=REVIEW_COLUMNS)
    else:
        df = engine.query_df(review_rows_sql(), [cfg.linkage.review_threshold])
        labels, titles = level_labels(model)
        df["why"] = [why_text(row, labels, titles) for _, row in df.iterrows()] if len(df) else []
        df = df[REVIEW_COLUMNS]
    engine.register_df(REVIEW_TABLE, df)
    return df


def _unsettled(engine: Engine) -> int:
    return int(
        scalar(
            engine,
            f"SELECT count(*) FROM {ROWS_TABLE} r "
            f"WHERE NOT EXISTS (SELECT 1 FROM {SETTLED_TABLE} s WHERE s.rid = r.rid)",
        )
    )


def _splink_stage(
    engine: Engine, cfg: Config, ctx: PeriodContext, summary: dict[str, int]
) -> dict[str, Any] | None:
    """Score the rows exact and repaired links left, reusing the earlier model and
    stored results unless ``full_relink``; returns the model used (None if none)."""
    mpath = model_path(ctx)
    pop_cols = table_columns(engine, "population")
    engine.execute(
        mdl.splink_persons_sql(
            {"file", "source_row", "id_raw", "id_number", "id_status", "id_candidate"} <= pop_cols
        )
    )
    earlier = None if cfg.linkage.full_relink else mem.earlier_model(ctx.district_dir, ctx.period)
    summary["model_reused"] = int(earlier is not None)
    if earlier is not None:
        mem.adopt_model(earlier, mpath)
        summary.update(mem.reuse(engine, mpath))
    engine.execute(mdl.splink_rows_sql())
    n_left = int(scalar(engine, f"SELECT count(*) FROM {mdl.ROWS_SPLINK}"))
    summary["splink_rows"] = n_left
    if earlier is None:
        engine.execute(mdl.splink_train_sql())
        model = mdl.train_model(engine, cfg, mpath)
    else:
        model = json.loads(mpath.read_text(encoding="utf-8"))
    if n_left:
        summary["blocked_pairs"] = mdl.predict(engine, mpath, cfg.linkage)
    else:
        for sql in empty_candidates_sql():
            engine.execute(sql)
        summary["blocked_pairs"] = 0
    return model


def link_period(engine: Engine, cfg: Config, ctx: PeriodContext) -> dict[str, int]:
    """Stage 4: create ``links`` and ``review_queue``; write the model JSON and the
    clerical-review workbook under ``ctx.out_dir/linkage``. Returns counts.

    With an earlier period's model and ``cfg.linkage.full_relink`` off, the model is
    reused (no EM) and rows whose accepted result is remembered (``memory``) skip
    Splink; the links are those a full prediction with that model would give."""
    per_source = build_link_rows(engine)
    summary: dict[str, int] = {f"rows_{k}": v for k, v in per_source.items()}
    summary.update(link_exact(engine))
    summary.update(link_repaired(engine))
    summary["decisions_read"] = import_decisions(engine, decisions_dir(ctx))
    n_left = _unsettled(engine)
    n_persons = int(scalar(engine, "SELECT count(*) FROM persons"))
    summary.update(memory_reused=0, memory_rechecked=0, model_reused=0, splink_rows=0)
    model = None
    mpath = model_path(ctx)
    if n_left and n_persons:
        model = _splink_stage(engine, cfg, ctx, summary)
    else:
        mpath.unlink(missing_ok=True)  # no model this run: do not leave a stale one
        mdl.tf_path_for(mpath).unlink(missing_ok=True)
        for sql in empty_candidates_sql():
            engine.execute(sql)
        summary["blocked_pairs"] = 0
    engine.execute(
        best_candidates_sql(), [cfg.linkage.review_threshold, cfg.linkage.match_threshold]
    )
    engine.execute(decided_sql())
    summary["decisions_applied"] = int(scalar(engine, "SELECT count(*) FROM link_decided"))
    engine.execute(links_sql())
    if model is not None:
        mem.remember(engine, mem.model_digest(mpath), ctx.period, summary["model_reused"] == 1)
    review = build_review_queue(engine, cfg, model)
    write_review_workbook(review, workbook_path(ctx), ctx.period)
    df = engine.query_df("SELECT method, count(*) AS n FROM links GROUP BY method")
    for m in ("exact_id", "repaired_id", "probabilistic", "unlinked"):
        summary[m] = 0
    summary.update({r.method: int(r.n) for r in df.itertuples()})
    summary["review_rows"] = len(review[["source", "file", "source_row"]].drop_duplicates())
    summary["review_candidates"] = len(review)
    return summary


def load_model(ctx: PeriodContext) -> dict[str, Any]:
    """The saved model JSON of a period."""
    return json.loads(model_path(ctx).read_text(encoding="utf-8"))
