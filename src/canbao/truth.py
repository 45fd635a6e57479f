"""Accuracy of a period's links against the demo's truth (``data/truth/<district>/<period>``).

The pipeline never reads the truth; only the district notebook (when a truth folder
exists), tests and benchmarks do. Each population row's true ``person_key`` tells
which key a ``person_id`` stands for (majority of its rows); an enrollment row is
linked correctly when its person_id stands for the row's true key.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from canbao.core.engine import Engine

POPULATION_EXTRACTS = ("hukou", "residents")
METHODS = ("exact_id", "repaired_id", "probabilistic", "unlinked")


def truth_rows_sql() -> str:
    """``rows.csv`` of the truth folder ($1) as a temp table (works on a read-only registry)."""
    return """
        CREATE OR REPLACE TEMP TABLE _truth_rows AS
        SELECT extract, file, CAST(source_row AS INTEGER) AS source_row,
               coalesce(person_key, '') AS person_key
        FROM read_csv(?, all_varchar = true, header = true)
    """


def person_key_map_sql() -> str:
    """person_id → the true person_key most of its population rows carry (ties: smallest key)."""
    return """
        SELECT person_id, arg_min(person_key, (-n, person_key)) AS person_key FROM (
            SELECT r.person_id, t.person_key, count(*) AS n
            FROM person_records r JOIN _truth_rows t USING (file, source_row)
            WHERE t.person_key <> '' GROUP BY ALL)
        GROUP BY person_id
    """


def link_outcomes_sql() -> str:
    """Each enrollment row: method, whether it should link, whether its link is right."""
    return f"""
        WITH keymap AS ({person_key_map_sql()}),
        pop_keys AS (SELECT DISTINCT person_key FROM _truth_rows
                     WHERE extract IN ('hukou', 'residents') AND person_key <> '')
        SELECT l.method,
               t.person_key IN (SELECT person_key FROM pop_keys) AS linkable,
               l.person_id IS NOT NULL AS linked,
               coalesce(k.person_key = t.person_key, false) AS correct
        FROM links l
        JOIN _truth_rows t USING (file, source_row)
        LEFT JOIN keymap k ON k.person_id = l.person_id
        WHERE l.source = 'enrollment'
    """


def link_accuracy(engine: Engine, truth_dir: Path) -> pd.DataFrame:
    """Precision and recall of enrollment links, per method and overall.

    Args: ``engine`` on the registry holding this period's ``links`` and
    ``person_records``; ``truth_dir`` the period's truth folder.
    Returns: method, rows, linked, correct, wrong, precision, recall (recall = correct /
    rows whose person is in the population; per method it is the share of all such rows).
    """
    engine.execute(truth_rows_sql(), [str(Path(truth_dir) / "rows.csv")])
    try:
        df = engine.query_df(link_outcomes_sql())
    finally:
        engine.execute("DROP TABLE IF EXISTS temp._truth_rows")
    linkable_total = int(df["linkable"].sum())
    rows = []
    order = {m: i for i, m in enumerate(METHODS)}
    methods = sorted(df["method"].unique(), key=lambda m: (order.get(m, len(order)), m))
    groups = [(m, df[df["method"] == m]) for m in methods] + [("合计", df)]
    for method, g in groups:
        linked, correct = int(g["linked"].sum()), int(g["correct"].sum())
        rows.append(
            {
                "method": method,
                "rows": len(g),
                "linked": linked,
                "correct": correct,
                "wrong": linked - correct,
                "missed": int((g["linkable"] & ~g["linked"]).sum()),
                "precision": correct / linked if linked else float("nan"),
                "recall": correct / linkable_total if linkable_total else float("nan"),
            }
        )
    return pd.DataFrame(rows)
