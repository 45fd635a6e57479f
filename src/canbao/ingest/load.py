"""Stage 1: load a period's extracts into ``raw_<extract>``, ``rejects`` and ``reconciliation``.

All files are read and checked before any table is replaced, so a bad file raises one
:class:`~canbao.errors.InputError` and leaves the previous period's tables as they were.
Every data row is either loaded or rejected (``rows_read = rows_loaded + rows_rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from canbao.config import Config
from canbao.engine import Engine
from canbao.errors import InputError
from canbao.ingest.files import find_extract_files
from canbao.ingest.headers import HeaderMap, map_headers
from canbao.ingest.readers import RawFile, read_file
from canbao.pipeline import PeriodContext
from canbao.schema import EXTRACTS, Extract

RECONCILIATION_COLUMNS = [
    "extract",
    "file",
    "format",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "extra_columns",
    "unknown_codes",
]
REJECT_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("source_row", pa.int32()),
        ("column", pa.string()),
        ("reason", pa.string()),
        ("value", pa.string()),
    ]
)

# Columns of which at least one must be filled for a row to name somebody.
IDENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "hukou": ("id_raw", "name_raw"),
    "residents": ("id_raw", "name_raw"),
    "enrollment": ("id_raw", "name_raw"),
    "national_match": ("id_raw",),
    "students": ("id_raw",),
    "employers": ("employer_no", "credit_code_raw", "employer_name"),
}
REJECT_REASONS: dict[tuple[str, ...], str] = {
    ("id_raw", "name_raw"): "no_id_no_name",
    ("id_raw",): "no_id",
    ("employer_no", "credit_code_raw", "employer_name"): "no_employer_no_code_or_name",
}


SUMMARY_RE = r"^\s*(合计|小计|总计|共计|总数|汇总)"


@dataclass
class _Loaded:
    """One file, checked and split into loaded rows and rejects, not yet written."""

    extract: str
    file: str
    format: str
    rows_read: int
    rows_loaded: int
    rejects: pa.Table
    extras: list[str] = field(default_factory=list)
    table: pa.Table | None = None  # loaded rows (canonical columns + source_row)


def raw_table_name(extract: Extract) -> str:
    return f"raw_{extract.name}"


def _all_null(cols: list[Any], n: int) -> pa.Array:
    """Row mask: every one of ``cols`` is NULL (the readers turned blank cells into NULL)."""
    mask = pa.array(np.ones(n, dtype=bool))
    for col in cols:
        isnull = pc.is_null(col)
        if isinstance(isnull, pa.ChunkedArray):
            isnull = isnull.combine_chunks()
        mask = pc.and_(mask, isnull)
    return mask


def _extra_labels(raw: RawFile, used: set[int], named: list[str]) -> list[str]:
    """Header texts of unused columns; an unnamed column with no data is layout, not listed."""
    out = []
    it = iter(named)
    t = raw.table
    for i in range(t.num_columns):
        if i in used:
            continue
        label = next(it, None) if i < len(raw.header) else None
        label = label or f"(column {i + 1})"
        if label.startswith("(column ") and t.column(i).null_count == t.num_rows:
            continue
        out.append(label)
    return out


TITLE_ROWS_MAX = 10


def locate_header(raw: RawFile, extract: Extract, cfg: Config) -> tuple[HeaderMap, RawFile]:
    """The header map, tolerating title rows above the header (表头上方的标题行).

    Government exports often start with a title such as 雨湖区户籍人口信息表; when the
    first row lacks a required column but one of the next rows has them all, that row is
    the header and ``source_row`` counts from below it.
    """
    mapping = cfg.headers.get(extract.name)
    try:
        return map_headers(raw.header, extract, mapping, raw.file), raw
    except InputError as first:
        t = raw.table
        for k in range(min(TITLE_ROWS_MAX, t.num_rows)):
            cells = [t.column(i)[k].as_py() or "" for i in range(t.num_columns)]
            try:
                hmap = map_headers(cells, extract, mapping, raw.file)
            except InputError:
                continue
            body = t.slice(k + 1)
            return hmap, RawFile(raw.file, cells, body, raw.encoding, raw.zero_width)
        raise first


def split_rows(
    raw: RawFile, extract: Extract, cfg: Config
) -> tuple[pa.Table, pa.Table, list[str], int]:
    """(loaded rows: canonical columns + source_row; rejects; extra header names; rows read)."""
    hmap, raw = locate_header(raw, extract, cfg)
    t = raw.table
    n = t.num_rows
    data = {
        c: (t.column(hmap.columns[c]) if c in hmap.columns else pa.nulls(n, pa.string()))
        for c in extract.columns.values()
    }
    extras = _extra_labels(raw, set(hmap.columns.values()), hmap.extras)

    source_row = pa.array(np.arange(1, n + 1, dtype=np.int32))
    blank = _all_null(t.columns, n)
    ident = IDENTITY_COLUMNS[extract.name]
    anonymous = _all_null([data[c] for c in ident], n)
    # A 合计/小计 line under the data: its label sits in the first column, nobody is named.
    key = data[ident[0]]
    summary = pc.fill_null(pc.match_substring_regex(key, SUMMARY_RE), False)
    if "name_raw" in data:
        summary = pc.and_(summary, pc.is_null(data["name_raw"]))
    if isinstance(summary, pa.ChunkedArray):
        summary = summary.combine_chunks()
    rejected = pc.or_(pc.or_(blank, anonymous), summary)

    loaded = pa.table({**data, "source_row": source_row})
    rej_rows = pc.indices_nonzero(rejected)
    if len(rej_rows):
        loaded = loaded.filter(pc.invert(rejected))
    ident_header = hmap.source.get(ident[0]) or next(
        k for k, v in extract.columns.items() if v == ident[0]
    )
    is_blank = pc.take(blank, rej_rows)
    is_summary = pc.and_(pc.take(summary, rej_rows), pc.invert(is_blank))
    reason = pc.if_else(
        is_blank,
        pa.scalar("blank_row"),
        pc.if_else(is_summary, pa.scalar("summary_row"), pa.scalar(REJECT_REASONS[ident])),
    )
    rejects = pa.table(
        {
            "file": pa.repeat(pa.scalar(raw.file, pa.string()), len(rej_rows)),
            "source_row": pc.take(source_row, rej_rows),
            "column": pc.if_else(is_blank, pa.scalar(None, pa.string()), pa.scalar(ident_header)),
            "reason": reason,
            "value": pc.if_else(is_summary, pc.take(key, rej_rows), pa.scalar(None, pa.string())),
        },
        schema=REJECT_SCHEMA,
    )
    return loaded, rejects, extras, n


def _read_extract(cfg: Config, ctx: PeriodContext, extract: Extract) -> list[_Loaded]:
    paths = find_extract_files(ctx.period_dir, extract)
    if not paths and extract.required:
        raise InputError(
            f"{extract.name}.xlsx",
            f"required extract missing: {extract.label} ({extract.name}.xlsx or "
            f"{extract.name}.csv) not found in {ctx.period_dir}",
        )
    out = []
    for path in paths:
        file = path.relative_to(ctx.period_dir).as_posix()
        raw = read_file(path, file)
        loaded, rejects, extras, rows_read = split_rows(raw, extract, cfg)
        if extract.required and rows_read == 0:
            raise InputError(file, f"no data rows (header only) in required extract {extract.name}")
        if extract.required and loaded.num_rows == 0:
            raise InputError(file, f"no usable rows: all {rows_read} rows are blank or name nobody")
        assert rows_read == loaded.num_rows + rejects.num_rows, file
        fmt = f"csv {raw.encoding}" if raw.encoding else "xlsx"
        out.append(
            _Loaded(extract.name, file, fmt, rows_read, loaded.num_rows, rejects, extras, loaded)
        )
    return out


# ------------------------------------------------------------------ SQL


def create_raw_sql(extract: Extract) -> str:
    """Empty ``raw_<extract>``: canonical columns as VARCHAR, then file, source_row INTEGER."""
    defs = [f'"{c}" VARCHAR' for c in extract.columns.values()]
    defs += ["file VARCHAR", "source_row INTEGER"]
    return f'CREATE OR REPLACE TABLE "{raw_table_name(extract)}" ({", ".join(defs)})'


def insert_raw_sql(extract: Extract, view: str) -> str:
    """Append one file's rows in file order; the file name is parameter 1."""
    cols = ", ".join(f'"{c}"' for c in extract.columns.values())
    return (
        f'INSERT INTO "{raw_table_name(extract)}" SELECT {cols}, CAST(? AS VARCHAR), '
        f'CAST(source_row AS INTEGER) FROM "{view}" ORDER BY source_row'
    )


def create_rejects_sql(view: str) -> str:
    return (
        "CREATE OR REPLACE TABLE rejects AS SELECT CAST(file AS VARCHAR) AS file, "
        'CAST(source_row AS INTEGER) AS source_row, CAST("column" AS VARCHAR) AS "column", '
        "CAST(reason AS VARCHAR) AS reason, CAST(value AS VARCHAR) AS value "
        f'FROM "{view}" ORDER BY _order, source_row'
    )


def create_reconciliation_sql(view: str) -> str:
    return (
        "CREATE OR REPLACE TABLE reconciliation AS SELECT CAST(extract AS VARCHAR) AS extract, "
        "CAST(file AS VARCHAR) AS file, CAST(format AS VARCHAR) AS format, "
        "CAST(rows_read AS INTEGER) AS rows_read, CAST(rows_loaded AS INTEGER) AS rows_loaded, "
        "CAST(rows_rejected AS INTEGER) AS rows_rejected, "
        "CAST(extra_columns AS VARCHAR) AS extra_columns, "
        f'CAST(unknown_codes AS INTEGER) AS unknown_codes FROM "{view}" ORDER BY _order'
    )


def _with_arrow(engine: Engine, view: str, table: pa.Table, sql: str, params: list[Any]) -> None:
    """Run ``sql`` reading ``table`` as ``view``.

    DuckDB scans the Arrow table in place (no copy); an engine that only takes
    DataFrames gets a temporary table instead.
    """
    con = getattr(engine, "con", None)
    if con is not None and hasattr(con, "register"):
        con.register(view, table)
        try:
            engine.execute(sql, params)
        finally:
            con.unregister(view)
        return
    engine.register_df(view, table.to_pandas(types_mapper=pd.ArrowDtype))
    try:
        engine.execute(sql, params)
    finally:
        engine.execute(f'DROP TABLE IF EXISTS "{view}"')


# ------------------------------------------------------------------ stage


def load_period(engine: Engine, cfg: Config, ctx: PeriodContext) -> pd.DataFrame:
    """Read every extract of the period; replace raw_*, rejects, reconciliation; return the latter.

    Nothing is written until every file has been read and checked; the tables are then
    replaced in one transaction.
    """
    loaded = {extract.name: _read_extract(cfg, ctx, extract) for extract in EXTRACTS}
    parts = [x for xs in loaded.values() for x in xs]
    recon = _reconciliation(parts)
    rejects = pa.concat_tables(
        [REJECT_SCHEMA.empty_table(), *(x.rejects for x in parts)]
    ).append_column(
        "_order",
        pa.array(
            np.repeat(
                np.arange(len(parts) + 1, dtype=np.int32),
                [0, *(x.rejects.num_rows for x in parts)],
            )
        ),
    )
    recon_arrow = pa.Table.from_pandas(recon, preserve_index=False).append_column(
        "_order", pa.array(np.arange(len(recon), dtype=np.int32))
    )
    engine.execute("BEGIN TRANSACTION")
    try:
        for extract in EXTRACTS:
            engine.execute(create_raw_sql(extract))
            for part in loaded[extract.name]:
                assert part.table is not None
                view = "_ingest_rows"
                _with_arrow(engine, view, part.table, insert_raw_sql(extract, view), [part.file])
                part.table = None  # free it as soon as it is in the database
        _with_arrow(engine, "_ingest_rejects", rejects, create_rejects_sql("_ingest_rejects"), [])
        _with_arrow(
            engine, "_ingest_recon", recon_arrow, create_reconciliation_sql("_ingest_recon"), []
        )
        engine.execute("COMMIT")
    except BaseException:
        engine.execute("ROLLBACK")
        raise
    return recon


def _reconciliation(parts: list[_Loaded]) -> pd.DataFrame:
    rows = []
    for x in parts:
        assert x.rows_read == x.rows_loaded + x.rejects.num_rows, x.file
        rows.append(
            {
                "extract": x.extract,
                "file": x.file,
                "format": x.format,
                "rows_read": x.rows_read,
                "rows_loaded": x.rows_loaded,
                "rows_rejected": x.rejects.num_rows,
                "extra_columns": "; ".join(x.extras) if x.extras else None,
                "unknown_codes": 0,
            }
        )
    df = pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)
    ints = ["rows_read", "rows_loaded", "rows_rejected", "unknown_codes"]
    df[ints] = df[ints].astype("int64")
    df["extra_columns"] = df["extra_columns"].astype(object)
    return df
