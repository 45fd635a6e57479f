"""Read one sheet of an xlsx (or a legacy xls) extract: every cell as the text Excel shows.

calamine reads the cells; a number is rendered as Excel's General format would, so an
ID stored as a number reads ``4.30302199001011E+17`` and the lost digits stay visible.
calamine reads an error cell or a formula saved without its result as empty: the
sheet's XML is looked at for those, so ``#N/A`` reads as itself and an uncomputed
formula is listed instead of passing for a blank cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
import zlib
from pathlib import Path

from canbao.core.errors import InputError
from canbao.ingest.rawfile import ROWS_PER_BATCH, RawFile, batches_to_table
from canbao.ingest.workbook import OLE_SIGNATURE, column_index, sheet_parts


def read_xlsx(path: Path, file: str, sheet: int | None = None) -> RawFile:
    """One sheet of an xlsx (or a legacy xls) via calamine; cells rendered as Excel shows them.

    ``sheet`` is a sheet index; by default the first sheet holding any cell (an empty
    first sheet in front of the data is layout). Which sheet holds the extract when
    several hold rows is decided by ingest, which knows the headers.
    """
    import python_calamine

    with open(path, "rb") as fh:
        head = fh.read(8)
        ole = head.startswith(OLE_SIGNATURE)
        encrypted = ole and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00" in fh.read()
    if encrypted:
        raise InputError(file, "xlsx_unreadable")
    try:
        with open(path, "rb") as fh:
            wb = python_calamine.CalamineWorkbook.from_filelike(fh)
        names = tuple(wb.sheet_names)
        order = [sheet] if sheet is not None else list(range(len(names)))
        for index in order:
            try:
                ws = wb.get_sheet_by_index(index)
            except Exception:  # a chart sheet has no cells
                if sheet is not None:
                    raise
                continue
            if ws.start is not None or sheet is not None:
                break
        else:
            raise InputError(file, "workbook_no_header")
        rows_iter = ws.iter_rows()
    except InputError:
        raise
    except Exception as exc:  # calamine raises several types for broken containers
        raise InputError(file, "xlsx_unreadable") from exc

    first_col = ws.start[1] if ws.start is not None else 0
    errors, uncomputed = ({}, []) if ole else _xlsx_cell_notes(path, index, first_col)
    header: list[str] = []
    header_row = -1
    batches: list[list[list[str | None]]] = []
    rows: list[list[object]] = []
    for r, row in enumerate(rows_iter):
        if errors and r in errors:
            row = _patched(row, errors[r])
        if not header:
            if any(_cell_text(c) for c in row):
                header = [_cell_text(c) or "" for c in row]
                header_row = r
            continue
        rows.append(row)
        if len(rows) >= ROWS_PER_BATCH:
            batches.append(_columns_from_rows(rows, len(header)))
            rows = []
    if not header:
        raise InputError(file, "sheet_no_header", sheet=names[index])
    batches.append(_columns_from_rows(rows, len(header)))
    return RawFile(
        file,
        header,
        batches_to_table(batches),
        sheet=names[index],
        sheet_index=index,
        sheets=names,
        uncomputed=tuple(
            (r - header_row - 1, c, ref) for r, c, ref in uncomputed if r > header_row
        ),
    )


def _patched(row: list[object], cells: list[tuple[int, str]]) -> list[object]:
    row = list(row)
    for c, text in cells:
        row.extend([""] * (c + 1 - len(row)))
        row[c] = text
    return row


_XML_WINDOW = 4 << 20  # decompressed sheet XML looked at for formulas and error cells
_CELL_RE = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF_RE = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_TYPE_RE = re.compile(rb'\bt="([a-zA-Z]+)"')
_VALUE_RE = re.compile(rb"<v>([^<]*)</v>")


def _xlsx_cell_notes(
    path: Path, index: int, first_col: int
) -> tuple[dict[int, list[tuple[int, str]]], list[tuple[int, int, str]]]:
    """Cells calamine reads as empty although Excel shows something, from the sheet's XML.

    Error cells (``#N/A`` from a VLOOKUP) come back as their text, by sheet row; formulas
    saved without a result (written by a program, never opened in Excel) are listed as
    (sheet row, column index, cell reference). Only the first few MB of the sheet are
    looked at: a program that writes formulas writes them from the first data row on.
    """
    errors: dict[int, list[tuple[int, str]]] = {}
    uncomputed: list[tuple[int, int, str]] = []
    try:
        with zipfile.ZipFile(path) as zf:
            parts = sheet_parts(zf)
            part = parts[index][1] if index < len(parts) else None
            if part is None:
                return errors, uncomputed
            with zf.open(part) as fh:
                xml = fh.read(_XML_WINDOW)
    except (
        OSError,
        zipfile.BadZipFile,
        KeyError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
        UnicodeDecodeError,
    ):
        return errors, uncomputed  # best effort: calamine has read the cells already
    if not any(m in xml for m in (b"<f>", b"<f ", b'"e"')):
        return errors, uncomputed
    if len(xml) == _XML_WINDOW:
        xml = xml[: xml.rfind(b"</row>") + 6]
    for m in _CELL_RE.finditer(xml):
        attrs, inner = m.group(1), m.group(2) or b""
        t = _TYPE_RE.search(attrs)
        kind = t.group(1) if t else b"n"
        value = _VALUE_RE.search(inner)
        is_error = kind == b"e" and value is not None
        is_uncomputed = (
            b"<f" in inner and not (value and value.group(1)) and kind not in (b"str", b"inlineStr")
        )
        if not (is_error or is_uncomputed):
            continue
        ref = _REF_RE.search(attrs)
        if ref is None:  # a writer that leaves out cell references: the cell cannot be named
            if is_uncomputed:
                uncomputed.append((-1, -1, ""))
            continue
        letters, row_no = ref.group(1).decode(), int(ref.group(2))
        col = column_index(letters) - first_col
        if is_error:
            errors.setdefault(row_no - 1, []).append((col, value.group(1).decode()))
        else:
            uncomputed.append((row_no - 1, col, f"{letters}{row_no}"))
    return errors, uncomputed


def _columns_from_rows(rows: list[list[object]], width: int) -> list[list[str | None]]:
    width = max([width, *(len(r) for r in rows)]) if rows else width
    cols: list[list[str | None]] = []
    for j in range(width):
        raw = [r[j] if j < len(r) else None for r in rows]
        if all(type(v) is str for v in raw):
            cols.append([v or None for v in raw])  # type: ignore[misc]
        else:
            cols.append([_cell_text(v) for v in raw])
    return cols


def _cell_text(v: object) -> str | None:
    """Text of one calamine cell as Excel displays it in the General format."""
    if v is None or v == "":
        return None
    if type(v) is str:
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def float_text(v: float) -> str:
    """Excel's General rendering: exact integers below 16 digits, else 15 significant digits.

    An ID number that Excel stored as a number keeps only 15 significant digits; rendering it
    in scientific form (``4.30302199001011E+17``) makes the loss visible instead of inventing
    the missing digits.
    """
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if abs(v) >= 1e15 or (v != 0 and abs(v) < 1e-9):
        mantissa, exp = f"{v:.14E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{exp[0]}{int(exp[1:]):02d}"
    return f"{v:.15g}"
