"""Read one extract file (CSV or XLSX) into text cells, whatever the sender's tool did to it.

Every cell comes back as text or NULL: no type or NA inference ("NA" stays text),
because IDs, codes and dates must reach the standardise step exactly as sent.
Excel's numeric accidents are turned into the text Excel itself would show
(an 18-digit ID stored as a number becomes ``4.30302199001011E+17``) so the ID
check can report ID_PRECISION_LOST instead of guessing the lost digits.

Damage is kept visible, never repaired by guessing: a row holding a NUL byte or bytes
that decode in no encoding is marked (``RawFile.damage``) so ingest rejects it by name;
an Excel error cell reads as the text Excel shows (``#N/A``); a formula saved without
its result is listed (``RawFile.uncomputed``) instead of reading as an empty cell.

This module picks the reader by the file's first bytes, not its name (``csv_reader``,
``xlsx_reader``), and does the cell cleaning both need: invisible characters out,
blank cells NULL, trailing blank rows dropped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from canbao.core.errors import InputError
from canbao.core.text import ARROW_INVISIBLE_RE
from canbao.ingest.csv_reader import CONTROL_RE, read_csv, read_utf16
from canbao.ingest.decoding import utf16_encoding
from canbao.ingest.rawfile import RawFile
from canbao.ingest.workbook import OLE_SIGNATURE, ZIP_SIGNATURE, looks_like_html
from canbao.ingest.xlsx_reader import read_xlsx

_XLSX_SUFFIXES = (".xlsx", ".xls", ".xlsm")
# What a file is when its first bytes say so; named in the message instead of "cannot decode".
_BINARY_SIGNATURES = {
    b"%PDF": "PDF 文档",
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"GIF8": "GIF 图片",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf\x27\x1c": "7-Zip 压缩包",
    b"\x1f\x8b": "gzip 压缩包",
}


def read_file(path: Path, file: str, sheet: int | None = None) -> RawFile:
    """Read ``path`` by its content (a renamed xlsx is still an xlsx, a renamed CSV a CSV),
    naming it ``file``; ``sheet`` picks an xlsx sheet (default: the first with any cell)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise InputError(file, "file_unreadable", reason=exc.strerror or exc) from exc
    if not head:
        raise InputError(file, "file_empty")
    if head.startswith((ZIP_SIGNATURE, OLE_SIGNATURE)):
        raw = read_xlsx(path, file, sheet)
    elif looks_like_html(head):
        raise InputError(file, "file_is_html")
    elif what := next((w for sig, w in _BINARY_SIGNATURES.items() if head.startswith(sig)), None):
        raise InputError(file, "file_is_binary", what=what)
    elif (utf16 := utf16_encoding(_head(path))) is not None:
        raw = read_utf16(path, file, utf16)
    else:
        try:
            raw = read_csv(path, file)
        except InputError:
            if path.suffix.lower() in _XLSX_SUFFIXES:
                raise InputError(file, "xlsx_unreadable") from None
            raise
    table = _drop_trailing_blank(_clean_cells(raw.table, raw.zero_width, raw.cleaning))
    return dataclasses.replace(raw, table=table, cleaning=())


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(1 << 16)


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _clean_column(
    col: pa.ChunkedArray, zero_width: bool, cleaning: tuple[str, ...] = ()
) -> pa.ChunkedArray:
    """Invisible characters (Cf, NUL) removed; a cell of only spaces (any width) becomes NULL.

    ``utf8_is_space`` is one cheap pass; the invisible-character search runs only where the
    file may hold such characters, and ``cleaning`` only where the reader saw the bytes
    it undoes: ``controls`` (C0 control characters dropped) and ``eq_quote`` (a CSV cell
    ``="0123"``, Excel's way of keeping a number as text, is the text ``0123``).
    """
    changed = False
    if zero_width and _any(pc.match_substring_regex(col, ARROW_INVISIBLE_RE)):
        col, changed = pc.replace_substring_regex(col, ARROW_INVISIBLE_RE, ""), True
    if "controls" in cleaning and _any(pc.match_substring_regex(col, CONTROL_RE)):
        col, changed = pc.replace_substring_regex(col, CONTROL_RE, ""), True
    if "eq_quote" in cleaning and _any(pc.starts_with(col, '="')):
        col, changed = pc.replace_substring_regex(col, '^="([^"]*)"$', "\\1"), True
    blank = pc.equal(col, "") if changed else None
    spaces = pc.utf8_is_space(col)
    blank = spaces if blank is None else pc.or_(blank, spaces)
    if _any(blank):
        col = pc.if_else(blank, pa.scalar(None, pa.string()), col)
    return col


def _clean_cells(
    table: pa.Table, zero_width: bool = True, cleaning: tuple[str, ...] = ()
) -> pa.Table:
    return pa.table(
        {
            name: _clean_column(table.column(name), zero_width, cleaning)
            for name in table.column_names
        }
    )


def _drop_trailing_blank(table: pa.Table) -> pa.Table:
    """Blank rows after the last filled row are layout, not data: they are not counted."""
    n = table.num_rows
    window = 64
    while n > 0:
        lo = max(0, n - window)
        tail = table.slice(lo, n - lo)
        filled = None
        for name in tail.column_names:
            nn = pc.is_valid(tail.column(name))
            filled = nn if filled is None else pc.or_(filled, nn)
        if filled is None:
            return table.slice(0, 0)
        idx = pc.indices_nonzero(
            filled.combine_chunks() if isinstance(filled, pa.ChunkedArray) else filled
        )
        if len(idx):
            return table.slice(0, lo + idx[-1].as_py() + 1)
        n = lo
        window *= 4
    return table.slice(0, 0)


def unclosed_quote(table: pa.Table, delimiter: str) -> tuple[int, int] | None:
    """(row index, column index) of a cell that swallowed lines after a quote left open.

    Worth asking only when the file holds an odd number of quote characters. Such a
    cell holds a line break followed by a line with the delimiter in it (the following
    rows ran into it); at the end of the file, the last row's last cell holds the
    delimiter (the rest of its own line ran into it).
    """
    swallowed = f"[\r\n][^\r\n]*[{delimiter}]"
    best: tuple[int, int] | None = None
    for j, name in enumerate(table.column_names):
        hit = pc.indices_nonzero(
            pc.fill_null(pc.match_substring_regex(table.column(name), swallowed), False)
        )
        if len(hit) and (best is None or hit[0].as_py() < best[0]):
            best = (hit[0].as_py(), j)
    if best is not None or table.num_rows == 0:
        return best
    last = [table.column(j)[table.num_rows - 1].as_py() for j in range(table.num_columns)]
    filled = [j for j, v in enumerate(last) if v is not None]
    if filled and delimiter in last[filled[-1]]:
        return table.num_rows - 1, filled[-1]
    return None
