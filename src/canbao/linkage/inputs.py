"""The rows to link: enrollment, national_match and students stacked into one table.

Stacking lets every later step (exact, repair, Splink, review) be one set-based
query instead of three. Sources without sex/birth columns get NULLs, so "no birth
date" is visible to the repair rule that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from canbao.core.engine import Engine

SOURCES = ("enrollment", "national_match", "students")

# Canonical columns every link row carries (name, SQL type for the NULL filler).
ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("member_no", "VARCHAR"),
    ("id_raw", "VARCHAR"),
    ("id_number", "VARCHAR"),
    ("id_status", "VARCHAR"),
    ("id_candidate", "VARCHAR"),
    ("name_raw", "VARCHAR"),
    ("name", "VARCHAR"),
    ("name_simp", "VARCHAR"),
    ("name_pinyin", "VARCHAR"),
    ("sex", "VARCHAR"),
    ("birth_date", "DATE"),
)

ROWS_TABLE = "link_rows"


def table_columns(engine: Engine, table: str) -> set[str]:
    """Column names of ``table`` (empty if it does not exist)."""
    df = engine.query_df(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    )
    return set(df["column_name"])


def id_hint_sql(a: str = "") -> str:
    """Whatever digits of the written ID survive, for the Splink ID comparison.

    valid/upgraded → the canonical number; invalid with 18 chars → the folded
    candidate; precision_lost → the float's mantissa digits minus the last one
    (it may be rounded); other invalid → the raw digits if 15–19 long. ``a`` is an
    optional table alias prefix such as ``"pop."``.
    """
    digits = f"regexp_replace(upper(coalesce({a}id_raw, '')), '[^0-9X]', '', 'g')"
    mantissa = (
        f"regexp_replace(regexp_extract(upper(coalesce({a}id_raw, '')), "
        "'([0-9][.]?[0-9]*)E', 1), '[.]', '', 'g')"
    )
    nozeros = f"rtrim({digits}, '0')"
    lost = (
        f"CASE WHEN {mantissa} <> '' THEN left({mantissa}, length({mantissa}) - 1) "
        f"ELSE left({nozeros}, length({nozeros}) - 1) END"
    )
    return (
        f"CASE WHEN {a}id_number IS NOT NULL THEN {a}id_number "
        f"WHEN {a}id_status = 'invalid' AND {a}id_candidate IS NOT NULL THEN {a}id_candidate "
        f"WHEN {a}id_status = 'precision_lost' THEN nullif(CASE WHEN length({lost}) >= 8 "
        f"THEN {lost} END, '') "
        f"WHEN {a}id_status = 'invalid' AND length({digits}) BETWEEN 15 AND 19 THEN {digits} "
        "END"
    )


def md5_key_sql(parts: Sequence[str]) -> str:
    """Hex md5 of SQL text expressions joined by U+001F, a byte no field holds."""
    return "md5(" + " || '\x1f' || ".join(parts) + ")"


def row_key_sql(alias: str, columns: Sequence[str]) -> str:
    """Content key of a ``link_rows`` row over ``columns``, in that order.

    ``source`` and ``file`` are never NULL (``stack_rows_sql`` sets them) and go in
    as they are; the nullable ``ROW_COLUMNS`` go in as text, '' when NULL. Callers
    store these keys (registry, reviewers' workbooks), so the rendering of a column
    must not change.
    """
    types = dict(ROW_COLUMNS)
    parts = []
    for c in columns:
        if c not in types and c not in ("source", "file"):
            raise ValueError(f"not a link_rows key column: {c}")
        e = f"{alias}.{c}"
        if c in types:
            text = e if types[c] == "VARCHAR" else f"CAST({e} AS VARCHAR)"
            e = f"coalesce({text}, '')"
        parts.append(e)
    return md5_key_sql(parts)


def stack_rows_sql(present: dict[str, set[str]]) -> str:
    """One SELECT per present source table, filling absent columns with typed NULLs."""
    parts = []
    for source, cols in present.items():
        exprs = [
            (f'CAST("{c}" AS {t}) AS {c}' if c in cols else f"CAST(NULL AS {t}) AS {c}")
            for c, t in ROW_COLUMNS
        ]
        parts.append(
            f"SELECT '{source}' AS source, file, CAST(source_row AS INTEGER) AS source_row, "
            + ", ".join(exprs)
            + f' FROM "{source}"'
        )
    union = " UNION ALL ".join(parts)
    return (
        f"CREATE OR REPLACE TABLE {ROWS_TABLE} AS "
        "SELECT source || '|' || file || '|' || CAST(source_row AS VARCHAR) AS rid, *, "
        f"{id_hint_sql()} AS id_hint, nullif(name, '') IS NULL AS no_name "
        f"FROM ({union}) ORDER BY source, file, source_row"
    )


def build_link_rows(engine: Engine) -> dict[str, int]:
    """Create ``link_rows``; returns the row count per source present."""
    present = {}
    for source in SOURCES:
        cols = table_columns(engine, source)
        if cols:
            present[source] = cols
    if "enrollment" not in present:
        raise ValueError("linkage needs the enrollment table (stage clean.standardise)")
    engine.execute(stack_rows_sql(present))
    df = engine.query_df(f"SELECT source, count(*) AS n FROM {ROWS_TABLE} GROUP BY source")
    return {r.source: int(r.n) for r in df.itertuples()}


def scalar(engine: Engine, sql: str, params: list | None = None):
    """First value of a query, fully fetched.

    ``DuckDBEngine.scalar`` uses ``fetchone()``, which under DuckDB 2 leaves the
    shared connection busy and breaks Splink's next query on it.
    """
    df = engine.query_df(sql, params)
    return None if df.empty else df.iat[0, 0]
