"""Stage 8: the period's machine-readable exports (contract §2), byte-deterministic.

Every export is one ``SELECT`` whose columns are all text (dates ``YYYY-MM-DD``,
probabilities with 6 decimals, NULL → empty) under a total ``ORDER BY``, written as
UTF-8, comma-separated, with a header and ``\\n`` line endings. ``registry.csv`` is
read from ``registry_history`` so :func:`canbao.registry.as_of.export_as_of` reproduces it
byte for byte. ID numbers outside ``registry.csv`` are masked (contract §5). Each CSV also
gets an Excel copy in ``exports/xlsx/`` (:mod:`canbao.report.excel_copies`).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from canbao.clean.field_issues import FIELD_ISSUE_COLUMNS, field_issues_csv_sql
from canbao.core import messages
from canbao.core.catalog import table_names
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, duckdb_memory_limit
from canbao.core.privacy import mask_id_sql

REGISTRY_CSV_COLUMNS: tuple[str, ...] = (
    "person_id", "id_number", "name", "sex", "birth_date", "population",
    "township_code", "village_code", "life_status", "pension_status",
    "medical_status", "registration",
)  # fmt: skip
LINKS_CSV_COLUMNS = ("source_row", "file", "member_no", "person_id", "method", "match_probability")
FINDINGS_CSV_COLUMNS = ("finding", "person_id", "file", "source_row", "detail")
RECONCILIATION_CSV_COLUMNS = (
    "extract",
    "file",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "extra_columns",
    "unknown_codes",
    "rows_repeated",
)
REJECTS_CSV_COLUMNS = ("file", "source_row", "column", "reason", "value", "reason_text")
CHANGELOG_CSV_COLUMNS = ("period", "person_id", "change", "field", "old_value", "new_value")


def _txt(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


def registry_csv_sql() -> str:
    """registry.csv of period $1, contract columns in order, by person_id."""
    cols = [
        "strftime(birth_date, '%Y-%m-%d') AS birth_date"
        if c == "birth_date"
        else f"{_txt(c)} AS {c}"
        for c in REGISTRY_CSV_COLUMNS
    ]
    return (
        f"SELECT {', '.join(cols)} FROM registry_history "
        "WHERE period = CAST($1 AS DATE) ORDER BY person_id"
    )


def links_csv_sql() -> str:
    """links.csv: enrollment rows only, by file and row."""
    return """
    SELECT CAST(source_row AS VARCHAR) AS source_row, file, CAST(member_no AS VARCHAR) AS member_no,
           person_id, method,
           CASE WHEN match_probability IS NULL THEN NULL
                ELSE printf('%.6f', CAST(match_probability AS DOUBLE)) END AS match_probability
    FROM links WHERE source = 'enrollment'
    ORDER BY file, source_row, person_id NULLS FIRST
    """


def findings_csv_sql() -> str:
    """findings.csv in a total order (code, file, row, person, detail)."""
    return """
    SELECT finding, person_id, file, CAST(source_row AS VARCHAR) AS source_row, detail
    FROM findings
    ORDER BY finding, file NULLS FIRST, source_row NULLS FIRST, person_id NULLS FIRST,
             detail NULLS FIRST
    """


def reconciliation_csv_sql() -> str:
    """Per file: read = loaded + rejected, plus what was ignored or unknown (contract §7)."""
    return """
    SELECT extract, file, CAST(rows_read AS VARCHAR) AS rows_read,
           CAST(rows_loaded AS VARCHAR) AS rows_loaded,
           CAST(rows_rejected AS VARCHAR) AS rows_rejected,
           CAST(extra_columns AS VARCHAR) AS extra_columns,
           CAST(unknown_codes AS VARCHAR) AS unknown_codes,
           CAST(rows_repeated AS VARCHAR) AS rows_repeated
    FROM reconciliation ORDER BY extract, file
    """


def rejects_csv_sql() -> str:
    """rejects.csv: the reason code for scripts, then its Chinese text for people."""
    return f"""
    SELECT file, CAST(source_row AS VARCHAR) AS source_row, "column", reason,
           CAST(value AS VARCHAR) AS value, {messages.sql_case("reason")} AS reason_text
    FROM rejects
    ORDER BY file, source_row, "column" NULLS FIRST, reason NULLS FIRST, value NULLS FIRST
    """


def changelog_csv_sql() -> str:
    """changelog.csv of period $1; ID numbers in the values are masked."""
    old = f"CASE WHEN field = 'id_number' THEN {mask_id_sql('old_value')} ELSE old_value END"
    new = f"CASE WHEN field = 'id_number' THEN {mask_id_sql('new_value')} ELSE new_value END"
    return f"""
    SELECT strftime(period, '%Y-%m-%d') AS period, person_id, change, field,
           {old} AS old_value, {new} AS new_value
    FROM changelog WHERE period = CAST($1 AS DATE)
    ORDER BY person_id, change, field NULLS FIRST, old_value NULLS FIRST, new_value NULLS FIRST
    """


def write_query_csv(
    engine: Engine,
    sql: str,
    params: Sequence[Any] | None,
    path: Path,
    columns: Sequence[str] | None = None,
    *,
    batch_rows: int = 100_000,
) -> Path:
    """Run ``sql`` (text columns) and write it as UTF-8 CSV with ``\\n`` endings.

    ``columns`` gives the header when the source table is missing (empty export).
    The rows arrive in batches (a 2.5M-row ``links.csv`` never sits in memory whole);
    each is written by the same pandas writer, so the bytes are those of one write.
    """
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    batches = engine.query_batches(sql, params, batch_rows) if sql else None
    if batches is None:
        batches = iter([pd.DataFrame(columns=list(columns or ()))])
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i, df in enumerate(batches):
            if _holds_bare_cr(df):
                _write_rows_quoting_cr(fh, df, header=i == 0)
            else:
                df.to_csv(fh, index=False, header=i == 0, lineterminator="\n", na_rep="")
    return path


def _holds_bare_cr(df: Any) -> bool:
    """Whether any text cell holds a carriage return (a value as sent, e.g. in rejects)."""
    import pandas as pd

    for col in df.columns:
        s = df[col]
        text = pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)
        if text and s.astype("string").str.contains("\r", regex=False, na=False).any():
            return True
    return False


def _missing(v: Any) -> bool:
    import pandas as pd

    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _write_rows_quoting_cr(fh: Any, df: Any, *, header: bool) -> None:
    """The rows as ``to_csv`` writes them, but a cell holding ``\r`` is quoted.

    The csv writer quotes a cell holding a character of its line ending; with ``\n``
    alone a bare CR went out unquoted and a reader split the row there (the Excel
    copies then failed). Written with ``\r\n`` as the ending, such a cell is quoted;
    each line's own ending is then put back to ``\n``. Other cells: the same bytes.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    rows = df.itertuples(index=False, name=None)
    if header:
        rows = itertools.chain([tuple(df.columns)], rows)
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow(["" if _missing(v) else v for v in row])
        fh.write(buf.getvalue()[:-2] + "\n")


def write_exports(engine: Engine, cfg: Config, ctx: PeriodContext) -> dict[str, Path]:
    """Stage 8: write the period's CSV exports into ``ctx.exports_dir``.

    Args: engine with the committed registry and the period's tables; config; context.
    Returns: export name → path. A missing optional table gives a header-only file.
    """
    out = ctx.exports_dir
    out.mkdir(parents=True, exist_ok=True)
    period = [ctx.period]
    specs: list[tuple[str, str, str, list[Any] | None, tuple[str, ...]]] = [
        ("registry", "registry_history", registry_csv_sql(), period, REGISTRY_CSV_COLUMNS),
        ("links", "links", links_csv_sql(), None, LINKS_CSV_COLUMNS),
        ("findings", "findings", findings_csv_sql(), None, FINDINGS_CSV_COLUMNS),
        ("reconciliation", "reconciliation", reconciliation_csv_sql(), None,
         RECONCILIATION_CSV_COLUMNS),
        ("rejects", "rejects", rejects_csv_sql(), None, REJECTS_CSV_COLUMNS),
        ("field_issues", "field_issues", field_issues_csv_sql(), None, FIELD_ISSUE_COLUMNS),
        ("changelog", "changelog", changelog_csv_sql(), period, CHANGELOG_CSV_COLUMNS),
    ]  # fmt: skip
    written: dict[str, Path] = {}
    tables = table_names(engine)
    for name, table, sql, params, columns in specs:
        present = table in tables
        written[name] = write_query_csv(
            engine, sql if present else "", params, out / f"{name}.csv", columns
        )
    from canbao.report.excel_copies import write_excel_copies

    write_excel_copies(
        out,
        ctx.period,
        memory_limit=duckdb_memory_limit(cfg.engine.memory_limit),
    )
    return written
