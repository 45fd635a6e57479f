"""Accuracy of a period's links and findings against the demo's truth (``data/truth/<district>/<period>``).

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


# Findings kept per person and code (compared on the person); the others per input row.
PERSON_FINDING_PREFIXES = ("DUPLICATE_", "DECEASED_")


def _finding_items(df: pd.DataFrame) -> pd.DataFrame:
    """finding + the item it is about: the true person for person codes, file#row otherwise."""
    person = df["finding"].str.startswith(PERSON_FINDING_PREFIXES)
    item = df["file"].fillna("") + "#" + df["source_row"].fillna("")
    item = item.where(~person, df["person_key"].fillna(""))
    ok = (person & (item != "")) | (~person & (df["source_row"].fillna("") != ""))
    return pd.DataFrame({"finding": df["finding"], "item": item})[ok].drop_duplicates()


def f1_score(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def finding_accuracy(engine: Engine, truth_dir: Path) -> pd.DataFrame:
    """Precision, recall and F1 of every finding code of the period in ``findings``.

    Person codes (DUPLICATE_*, DECEASED_*) are matched on the true person the
    ``person_id`` stands for, row codes on file + source_row. Returns finding, true,
    found, correct, precision, recall, f1 (precision/recall 1.0 when nothing was
    expected or found: no support is no error), sorted by finding.
    """
    engine.execute(truth_rows_sql(), [str(Path(truth_dir) / "rows.csv")])
    try:
        got = engine.query_df(
            f"""WITH keymap AS ({person_key_map_sql()})
            SELECT f.finding, k.person_key, f.file, CAST(f.source_row AS VARCHAR) AS source_row
            FROM findings f LEFT JOIN keymap k USING (person_id)"""
        )
    finally:
        engine.execute("DROP TABLE IF EXISTS temp._truth_rows")
    want = pd.read_csv(Path(truth_dir) / "findings.csv", dtype=str, keep_default_na=False)
    found, true = _finding_items(got), _finding_items(want)
    rows = []
    for code in sorted(set(found["finding"]) | set(true["finding"])):
        f = set(found.loc[found["finding"] == code, "item"])
        t = set(true.loc[true["finding"] == code, "item"])
        p = len(f & t) / len(f) if f else 1.0
        r = len(f & t) / len(t) if t else 1.0
        rows.append(
            {"finding": code, "true": len(t), "found": len(f), "correct": len(f & t),
             "precision": p, "recall": r, "f1": f1_score(p, r)}
        )  # fmt: skip
    return pd.DataFrame(
        rows, columns=["finding", "true", "found", "correct", "precision", "recall", "f1"]
    )
