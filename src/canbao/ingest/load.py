"""Stage 1: load a period's extracts into ``raw_<extract>``, ``rejects`` and ``reconciliation``.

All files are read and checked before any table is replaced, so a bad file raises one
:class:`~canbao.core.errors.InputError` and leaves the previous period's tables as they were.
Every data row is either loaded or rejected (``rows_read = rows_loaded + rows_rejected``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, transaction
from canbao.core.errors import InputError
from canbao.core.schema import EXTRACTS, Extract
from canbao.ingest.files import find_extract_files, unexpected_files
from canbao.ingest.headers import HeaderMap, map_headers
from canbao.ingest.rawfile import RawFile
from canbao.ingest.readers import read_file, unclosed_quote

RECONCILIATION_COLUMNS = [
    "extract",
    "file",
    "format",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "extra_columns",
    "unknown_codes",
    "rows_repeated",  # of rows_rejected: exact repeats of an earlier row of the file
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
REPEATED_ROW = "repeated_row"
REJECT_REASONS: dict[tuple[str, ...], str] = {
    ("id_raw", "name_raw"): "no_id_no_name",
    ("id_raw",): "no_id",
    ("employer_no", "credit_code_raw", "employer_name"): "no_employer_no_code_or_name",
}


# A totals or signature line under the data (合计：2000人, 制表人：张三): whichever column
# holds it, the row names nobody. The word must stand alone or be followed by a separator,
# a number or a space, so a name or address merely starting with it is not caught.
SUMMARY_RE = (
    r"^\s*(合计|小计|总计|共计|总数|汇总|制表人|审核人|填表人|制表日期|审核日期)"
    r"(\s|[:：,，.。()（）\d]|$)"
)
# The lines under a table that stand alone in their row (a count, a note, the end mark of a
# printed form): 共712人, 以下空白, 注：…, 数据来源…. Alone, because a 备注 cell of a person's
# row may well start with 注：.
FOOTER_RE = (
    r"^\s*(共\s*[\d,，]+\s*(人|条|户|行|名|项|笔|个|位)|以下空白|以下无|(注|说明|备注)\s*[:：]"
    r"|数据来源|资料来源|本页合计|本页小计|累计|总人数|总户数|人数合计|制表时间|打印时间|导出时间"
    r"|填报单位|单位（盖章）|（盖章）)"
)


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
            uncomputed = tuple((r - k - 1, c, ref) for r, c, ref in raw.uncomputed if r > k)
            counts = raw.field_counts
            if counts is not None:  # the header is as wide as its own row, not the widest
                cells, counts = cells[: max(counts[k].as_py(), 1)], counts.slice(k + 1)
            found = dataclasses.replace(
                raw, header=cells, table=body, uncomputed=uncomputed, field_counts=counts
            )
            return hmap, found
        raise first


def _header_label(raw: RawFile, index: int) -> str:
    cell = raw.header[index].strip() if index < len(raw.header) and raw.header[index] else ""
    return cell or f"(column {index + 1})"


def check_structure(raw: RawFile, hmap: HeaderMap) -> None:
    """InputError for damage that moves or hides cells, so no row can be trusted as read.

    A quote that is never closed pulls the following lines into one cell (rows vanish
    into it); a formula saved without its result reads as an empty cell in a column the
    contract uses.
    """
    if raw.odd_quotes:
        where = unclosed_quote(raw.table, raw.delimiter)
        if where is not None:
            row, col = where
            raise InputError(
                raw.file,
                "csv_unclosed_quote",
                row=row + 1,
                column=_header_label(raw, col),
            )
    used = set(hmap.columns.values())
    for row, col, ref in raw.uncomputed:
        if col in used or col < 0:
            raise InputError(
                raw.file,
                "xlsx_uncomputed_formula",
                cell=f"单元格 {ref}：" if ref else "",
                row=row + 1 if col >= 0 else None,
                column=_header_label(raw, col) if col >= 0 else None,
            )


def _damaged_rows(raw: RawFile) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array] | None:
    """Rows with a damage marker in any cell: (mask, reason, column, value) per row.

    The column is the first (leftmost) damaged cell's header; the value is that cell,
    a NUL shown as ␀ so the reject can be printed.
    """
    if not raw.damage:
        return None
    t = raw.table
    n = t.num_rows
    mask = pa.array(np.zeros(n, dtype=bool))
    reason = pa.nulls(n, pa.string())
    column = pa.nulls(n, pa.string())
    value = pa.nulls(n, pa.string())
    for j in reversed(range(t.num_columns)):
        col = t.column(j).combine_chunks()
        for marker, why in reversed(raw.damage):
            hit = pc.fill_null(pc.match_substring(col, marker), False)
            if not pc.any(hit).as_py():
                continue
            mask = pc.or_(mask, hit)
            reason = pc.if_else(hit, pa.scalar(why), reason)
            column = pc.if_else(hit, pa.scalar(_header_label(raw, j)), column)
            value = pc.if_else(hit, pc.replace_substring(col, "\x00", "␀"), value)
    if not pc.any(mask).as_py():
        return None
    return mask, reason, column, value


TOO_MANY_FIELDS = "too_many_fields"


def _surplus_rows(raw: RawFile) -> tuple[tuple[pa.Array, pa.Array] | None, RawFile]:
    """CSV rows with more fields than the header: ((mask, the row as sent), the file
    without the surplus columns), or (None, the file unchanged).

    An unquoted comma in an address splits one cell in two and moves every cell after it
    one column right: the row's ID column then holds another column's value. Such a row is
    rejected whole (``too_many_fields``, its text as the value) rather than loaded shifted.
    When most rows are that wide, the header merely lacks a name: an unnamed extra column.
    """
    t = raw.table
    width = len(raw.header)
    if raw.field_counts is None or t.num_columns <= width or t.num_rows == 0:
        return None, raw
    mask = pc.greater(raw.field_counts.slice(0, t.num_rows), width)
    hits = pc.sum(mask).as_py() or 0
    if hits == 0 or 2 * hits > t.num_rows:
        return None, raw
    text = pc.binary_join_element_wise(
        *t.columns, raw.delimiter, null_handling="replace", null_replacement=""
    )
    value = pc.if_else(mask, text, pa.scalar(None, pa.string()))
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    trimmed = dataclasses.replace(raw, table=t.select(range(width)))
    return (mask, pc.utf8_rtrim(value, characters=raw.delimiter)), trimmed


def _repeated_header(raw: RawFile, hmap: HeaderMap, key_index: int) -> pa.Array | None:
    """Rows that repeat the header (two exports pasted into one file): layout, not people.

    The identity column and at least one other contract column hold their header text.
    """
    t = raw.table
    key_text = raw.header[key_index] if key_index < len(raw.header) else ""
    if not key_text:
        return None
    mask = pc.fill_null(pc.equal(t.column(key_index), key_text), False)
    if not pc.any(mask).as_py():
        return None
    others = None
    for i in hmap.columns.values():
        if i == key_index or i >= len(raw.header) or not raw.header[i]:
            continue
        eq = pc.fill_null(pc.equal(t.column(i), raw.header[i]), False)
        others = eq if others is None else pc.or_(others, eq)
    if others is None:
        return None
    mask = pc.and_(mask, others)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def split_rows(
    raw: RawFile, extract: Extract, cfg: Config
) -> tuple[pa.Table, pa.Table, list[str], int]:
    """(loaded rows: canonical columns + source_row; rejects; extra header names; rows read)."""
    hmap, raw = locate_header(raw, extract, cfg)
    check_structure(raw, hmap)
    surplus, raw = _surplus_rows(raw)
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
    key = data[ident[0]]
    summary, summary_col, summary_value = _summary_rows(raw, n)
    rejected = pc.or_(pc.or_(blank, anonymous), summary)
    repeated = (
        _repeated_header(raw, hmap, hmap.columns[ident[0]]) if ident[0] in hmap.columns else None
    )
    if repeated is not None:
        rejected = pc.or_(rejected, repeated)
    damaged = _damaged_rows(raw)
    if damaged is not None:
        rejected = pc.or_(rejected, damaged[0])
    if surplus is not None:  # a blank or totals line with extra commas is that, not a person
        surplus = (pc.and_(surplus[0], pc.invert(pc.or_(blank, summary))), surplus[1])
        rejected = pc.or_(rejected, surplus[0])

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
    column = pc.if_else(is_blank, pa.scalar(None, pa.string()), pa.scalar(ident_header))
    column = pc.if_else(is_summary, pc.take(summary_col, rej_rows), column)
    value = pc.if_else(is_summary, pc.take(summary_value, rej_rows), pa.scalar(None, pa.string()))
    if repeated is not None:
        is_repeated = pc.take(repeated, rej_rows)
        reason = pc.if_else(is_repeated, pa.scalar("repeated_header"), reason)
        value = pc.if_else(is_repeated, pc.take(key, rej_rows), value)
    if surplus is not None:
        is_surplus = pc.take(surplus[0], rej_rows)
        reason = pc.if_else(is_surplus, pa.scalar(TOO_MANY_FIELDS), reason)
        column = pc.if_else(is_surplus, pa.scalar(None, pa.string()), column)
        value = pc.if_else(is_surplus, pc.take(surplus[1], rej_rows), value)
    if damaged is not None:
        is_damaged = pc.take(damaged[0], rej_rows)
        reason = pc.if_else(is_damaged, pc.take(damaged[1], rej_rows), reason)
        column = pc.if_else(is_damaged, pc.take(damaged[2], rej_rows), column)
        value = pc.if_else(is_damaged, pc.take(damaged[3], rej_rows), value)
    rejects = pa.table(
        {
            "file": pa.repeat(pa.scalar(raw.file, pa.string()), len(rej_rows)),
            "source_row": pc.take(source_row, rej_rows),
            "column": column,
            "reason": reason,
            "value": value,
        },
        schema=REJECT_SCHEMA,
    )
    loaded, repeats = _split_repeated(loaded, t, raw.file)
    if repeats.num_rows:
        rejects = pa.concat_tables([rejects, repeats]).sort_by("source_row")
    return loaded, rejects, extras, n


def _summary_rows(raw: RawFile, n: int) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Rows with a 合计/制表人 cell in any column, or a lone footer cell (共712人, 注：…):
    (mask, the column's header, the cell)."""
    t = raw.table
    mask = pa.array(np.zeros(n, dtype=bool))
    column = pa.nulls(n, pa.string())
    value = pa.nulls(n, pa.string())
    filled = np.zeros(n, dtype=np.int32)
    for j in range(t.num_columns):
        filled += np.asarray(pc.is_valid(t.column(j).combine_chunks()), dtype=np.int32)
    lone = np.flatnonzero(filled == 1)  # few rows: the footer pattern runs on them only
    for j in reversed(range(t.num_columns)):  # the leftmost hit wins
        col = t.column(j).combine_chunks()
        hit = pc.fill_null(pc.match_substring_regex(col, SUMMARY_RE), False)
        if len(lone):
            lone_hit = pc.match_substring_regex(col.take(pa.array(lone)), FOOTER_RE)
            footer = np.zeros(n, dtype=bool)
            footer[lone[np.asarray(pc.fill_null(lone_hit, False), dtype=bool)]] = True
            hit = pc.or_(hit, pa.array(footer))
        if not pc.any(hit).as_py():
            continue
        mask = pc.or_(mask, hit)
        column = pc.if_else(hit, pa.scalar(_header_label(raw, j)), column)
        value = pc.if_else(hit, col, value)
    return mask, column, value


def _split_repeated(loaded: pa.Table, t: pa.Table, file: str) -> tuple[pa.Table, pa.Table]:
    """(loaded rows without exact repeats, a reject per repeat naming the row it repeats).

    A row equal to an earlier row of the same file in every cell (an export pasted twice,
    a page exported again) is the same record read twice: loading it would count its
    person twice and invent duplicate findings. The first copy loads; every later copy is
    rejected as ``repeated_row`` with the first copy's row number as its value.
    """
    if loaded.num_rows < 2:
        return loaded, REJECT_SCHEMA.empty_table()
    first_of = _first_equal_row(t, pc.subtract(loaded.column("source_row"), 1))
    repeat = first_of != np.arange(len(first_of))
    if not repeat.any():
        return loaded, REJECT_SCHEMA.empty_table()
    source = loaded.column("source_row").to_numpy()
    rejects = pa.table(
        {
            "file": pa.repeat(pa.scalar(file, pa.string()), int(repeat.sum())),
            "source_row": pa.array(source[repeat], pa.int32()),
            "column": pa.nulls(int(repeat.sum()), pa.string()),
            "reason": pa.repeat(pa.scalar(REPEATED_ROW), int(repeat.sum())),
            "value": pa.array([str(v) for v in source[first_of[repeat]]], pa.string()),
        },
        schema=REJECT_SCHEMA,
    )
    return loaded.filter(pa.array(~repeat)), rejects


def _first_equal_row(t: pa.Table, rows: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """For each of ``rows`` of ``t``, the position (in ``rows``) of the first row equal to it
    in every cell (itself when it is the first).

    Each column is reduced to integer codes (Arrow's dictionary encoding, NULL its own
    code), one column at a time; the rows' code tuples are then sorted and compared. A
    2.5M-row file costs a few integer arrays, never a copy of its text.
    """
    keys = []
    for j in range(t.num_columns):
        col = t.column(j)
        if len(rows) != t.num_rows:
            col = pc.take(col, rows)
        encoded = pc.dictionary_encode(col)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        keys.append(pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64))
        del col, encoded
    n = len(rows)
    if not keys:
        return np.arange(n)
    order = np.lexsort(keys)  # stable: equal rows stay in file order
    new_group = np.ones(n, dtype=bool)
    if n > 1:
        new_group[1:] = np.any([k[order][1:] != k[order][:-1] for k in keys], axis=0)
    starts = order[new_group]  # the first (lowest) row of each group of equal rows
    first_of = np.empty(n, dtype=np.int64)
    first_of[order] = starts[np.cumsum(new_group) - 1]
    return first_of


def _maps(raw: RawFile, extract: Extract, cfg: Config) -> bool:
    try:
        locate_header(raw, extract, cfg)
    except InputError:
        return False
    return True


def pick_sheet(path: Path, raw: RawFile, extract: Extract, cfg: Config) -> RawFile:
    """The sheet of a workbook that holds the extract.

    A workbook whose first sheet is a 说明 page and whose data sit on another sheet is
    read from that sheet; rows of the extract on several sheets (Excel's 1,048,576-row
    limit splits big exports) are refused, because ``source_row`` must name one row.
    """
    if len(raw.sheets) < 2:
        return raw
    others: list[RawFile] = []
    for i in range(len(raw.sheets)):
        if i == raw.sheet_index:
            continue
        try:
            other = read_file(path, raw.file, sheet=i)
        except InputError:
            continue  # an empty or unreadable sheet holds no rows
        if _maps(other, extract, cfg):
            others.append(other)
    first = _maps(raw, extract, cfg)
    if len(others) + first > 1:
        names = ", ".join(
            x.sheet or ""
            for x in sorted([*([raw] if first else []), *others], key=lambda x: x.sheet_index)
        )
        raise InputError(raw.file, "extract_several_sheets", extract=extract.name, sheets=names)
    return others[0] if others and not first else raw


def _read_extract(cfg: Config, ctx: PeriodContext, extract: Extract) -> Iterator[_Loaded]:
    """The extract's files, read and checked one at a time."""
    paths = find_extract_files(ctx.period_dir, extract)
    if not paths and extract.required:
        raise InputError(
            f"{extract.name}.xlsx",
            "extract_missing",
            label=extract.label,
            extract=extract.name,
            folder=ctx.period_dir,
        )
    for path in paths:
        file = path.relative_to(ctx.period_dir).as_posix()
        raw = pick_sheet(path, read_file(path, file), extract, cfg)
        loaded, rejects, extras, rows_read = split_rows(raw, extract, cfg)
        if extract.required and rows_read == 0:
            raise InputError(file, "extract_header_only", extract=extract.name)
        if extract.required and loaded.num_rows == 0:
            raise InputError(file, "extract_no_usable_rows", rows=rows_read)
        assert rows_read == loaded.num_rows + rejects.num_rows, file
        fmt = f"csv {raw.encoding}" if raw.encoding else "xlsx"
        if raw.sheet_index:
            fmt += f" sheet {raw.sheet}"
        yield _Loaded(extract.name, file, fmt, rows_read, loaded.num_rows, rejects, extras, loaded)


# ------------------------------------------------------------------ SQL


def create_raw_sql(extract: Extract, table: str | None = None) -> str:
    """Empty ``raw_<extract>`` (or ``table``): canonical columns as VARCHAR, then file,
    source_row INTEGER."""
    defs = [f'"{c}" VARCHAR' for c in extract.columns.values()]
    defs += ["file VARCHAR", "source_row INTEGER"]
    return f'CREATE OR REPLACE TABLE "{table or raw_table_name(extract)}" ({", ".join(defs)})'


def insert_raw_sql(extract: Extract, view: str, table: str | None = None) -> str:
    """Append one file's rows in file order (to ``raw_<extract>`` or ``table``); the file
    name is parameter 1."""
    cols = ", ".join(f'"{c}"' for c in extract.columns.values())
    return (
        f'INSERT INTO "{table or raw_table_name(extract)}" SELECT {cols}, CAST(? AS VARCHAR), '
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
        "CAST(unknown_codes AS INTEGER) AS unknown_codes, "
        f'CAST(rows_repeated AS INTEGER) AS rows_repeated FROM "{view}" ORDER BY _order'
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


def staging_table_name(extract: Extract) -> str:
    """Where a file's rows wait until every file of the period has been read and checked."""
    return f"_ingest_{raw_table_name(extract)}"


def load_period(engine: Engine, cfg: Config, ctx: PeriodContext) -> pd.DataFrame:
    """Read every extract of the period; replace raw_*, rejects, reconciliation; return the latter.

    Nothing replaces a table until every file has been read and checked: each file's rows
    go into a staging table as soon as the file is checked (so only one file sits in
    memory at a time, not a million-person district's every extract), and the staging
    tables take the raw tables' names in one transaction at the end. A bad file leaves
    the previous period's tables as they were. A spreadsheet in the period folder that is
    no extract is refused by name: its rows would otherwise be lost without a word.
    """
    stray = unexpected_files(ctx.period_dir, EXTRACTS)
    if stray:
        file, code, fields = stray[0]
        raise InputError(file, code, **fields)
    try:
        parts: list[_Loaded] = []
        for extract in EXTRACTS:
            engine.execute(create_raw_sql(extract, staging_table_name(extract)))
            for part in _read_extract(cfg, ctx, extract):
                assert part.table is not None
                sql = insert_raw_sql(extract, "_ingest_rows", staging_table_name(extract))
                _with_arrow(engine, "_ingest_rows", part.table, sql, [part.file])
                part.table = None  # free it as soon as it is in the database
                parts.append(part)
        _commit(engine, parts)
    finally:
        for extract in EXTRACTS:
            engine.execute(f'DROP TABLE IF EXISTS "{staging_table_name(extract)}"')
    return _reconciliation(parts)


def _commit(engine: Engine, parts: list[_Loaded]) -> None:
    """The staged rows become ``raw_*``; ``rejects`` and ``reconciliation`` are replaced."""
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
    with transaction(engine):
        for extract in EXTRACTS:
            engine.execute(f'DROP TABLE IF EXISTS "{raw_table_name(extract)}"')
            engine.execute(
                f'ALTER TABLE "{staging_table_name(extract)}" RENAME TO "{raw_table_name(extract)}"'
            )
        _with_arrow(engine, "_ingest_rejects", rejects, create_rejects_sql("_ingest_rejects"), [])
        _with_arrow(
            engine, "_ingest_recon", recon_arrow, create_reconciliation_sql("_ingest_recon"), []
        )


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
                "rows_repeated": int(
                    pc.sum(pc.equal(x.rejects.column("reason"), REPEATED_ROW)).as_py() or 0
                ),
            }
        )
    df = pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)
    ints = ["rows_read", "rows_loaded", "rows_rejected", "unknown_codes", "rows_repeated"]
    df[ints] = df[ints].astype("int64")
    df["extra_columns"] = df["extra_columns"].astype(object)
    return df
