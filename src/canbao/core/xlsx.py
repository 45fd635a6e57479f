"""The one deterministic xlsx writer: every workbook canbao writes is saved here.

Workbooks are built with openpyxl's public API (titles, headers, validation,
protection, print set-up); body rows, thousands per sheet, go through
:class:`FastRows`, which writes the sheet XML directly and splices it in at save.
:func:`save_workbook_fixed` fixes the document properties and every zip entry's
time to the period's date and writes the entries in sorted order, so the same
inputs give byte-identical files. No value is ever stored as a formula: text that
starts with ``=``, ``+``, ``-`` or ``@`` stays text (with Excel's quote prefix).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

FONT = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
OFFICER_FILL = PatternFill("solid", fgColor="FFF2CC")
FORMULA_START = ("=", "+", "-", "@")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")


def fixed_time(day: dt.date) -> dt.datetime:
    """The created/modified stamp of every workbook of a period: its date at midnight."""
    return dt.datetime(day.year, day.month, day.day)


def save_workbook_fixed(
    wb: Workbook, path: Path, when: dt.datetime, *, sort_entries: bool = True
) -> Path:
    """Save with fixed properties, fixed zip-entry times and a fixed entry order.

    openpyxl's ``save`` stamps ``modified`` and its zip entries with the wall
    clock; this writes the same parts with ``when`` instead, and splices in the
    body rows a sheet's :class:`FastRows` holds. Entries go in sorted order, or
    (``sort_entries=False``, the survey workbooks) in the order openpyxl writes
    them: both are fixed, and keeping each workbook's order keeps its bytes.
    """
    wb.properties.creator = "canbao"
    wb.properties.lastModifiedBy = "canbao"
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True)).save()
    fast = {
        ws.path.lstrip("/"): ws._canbao_rows
        for ws in wb.worksheets
        if getattr(ws, "_canbao_rows", None) is not None
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in sorted(names) if sort_entries else names:  # "[Content_Types].xml" first
            data = src.read(name)
            out = zipfile.ZipInfo(name, date_time=stamp)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o600 << 16
            if name not in fast:
                dst.writestr(out, data, compresslevel=6)
                continue
            # A big sheet streams in: the bytes writestr would give, never whole in memory.
            out._compresslevel = 6  # what writestr(compresslevel=6) sets
            with dst.open(out, "w") as fh:
                for chunk in fast[name].splice_chunks(data):
                    fh.write(chunk)
    return path


def xml_escape(s: str) -> str:
    """Text as XML character data; control characters XML cannot hold are dropped."""
    if _NEEDS_ESCAPE.search(s) is None:  # the common case: one scan, no copies
        return s
    s = _ILLEGAL_XML.sub("", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FastRows:
    """The body rows of one worksheet, written as SpreadsheetML text and spliced in at save.

    openpyxl builds a Cell object per cell: minutes at 50k people. Title, header
    and sheet settings still go through openpyxl; the many body cells come here.
    Strings are always inline text (never a formula); text starting with = + - @
    gets a quotePrefix style so Excel keeps it text when edited. Rows must come
    after any row openpyxl writes, in increasing order.
    """

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.parts: list[bytes] = []  # one row's XML each, UTF-8
        self.max_row = 0
        self.max_col = 0
        self.merges: list[str] = []
        self._styles: dict[str, tuple[int, int]] = {}
        self._letters = [get_column_letter(j) for j in range(1, 64)]
        ws._canbao_rows = self  # found by save_workbook_fixed

    def style(self, key: str, **attrs: Any) -> tuple[int, int]:
        """(style id, quote-prefixed style id) of ``attrs`` (font=, border=, ...), once per key."""
        ids = self._styles.get(key)
        if ids is None:
            cell = Cell(self.ws)  # never placed in the sheet: only builds the style
            for name, v in attrs.items():
                setattr(cell, name, v)
            table = self.ws.parent._cell_styles
            plain = table.add(copy(cell._style))
            cell.quotePrefix = True
            ids = (plain, table.add(copy(cell._style)))
            self._styles[key] = ids
        return ids

    def merge(self, min_row: int, min_col: int, max_row: int, max_col: int) -> None:
        """Merge a block; its cells are written by :meth:`row` (no openpyxl bookkeeping)."""
        a, b = self._letters[min_col - 1], self._letters[max_col - 1]
        self.merges.append(f'<mergeCell ref="{a}{min_row}:{b}{max_row}"/>')

    def row(
        self,
        r: int,
        values: Sequence[Any],
        styles: Sequence[tuple[int, int]],
        height: float | None = None,
    ) -> None:
        """Row ``r``: ``values[j]`` in column j+1 with ``styles[j]`` (None/NaN: styled blank)."""
        attrs = f' ht="{height:g}" customHeight="1"' if height else ""
        out = [f'<row r="{r}"{attrs}>']
        letters = self._letters
        for j, (v, (sid, qid)) in enumerate(zip(values, styles, strict=True)):
            if type(v) is not str:  # text is the common case: straight to the end
                if v is None or v is pd.NA or v is pd.NaT:
                    out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                    continue
                if isinstance(v, (dt.date, pd.Timestamp)):
                    v = cell_text(v)
                elif isinstance(v, (bool, np.bool_)):
                    v = int(v)
                if isinstance(v, (float, np.floating)):
                    if v != v:
                        out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                        continue
                    if float(v).is_integer():
                        v = int(v)
                    else:
                        out.append(
                            f'<c r="{letters[j]}{r}" s="{sid}" t="n"><v>{float(v)!r}</v></c>'
                        )
                        continue
                if isinstance(v, (int, np.integer)):
                    out.append(f'<c r="{letters[j]}{r}" s="{sid}" t="n"><v>{int(v)}</v></c>')
                    continue
                v = str(v)
            if not v:
                out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                continue
            space = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
            s = qid if v.startswith(FORMULA_START) else sid
            out.append(
                f'<c r="{letters[j]}{r}" s="{s}" t="inlineStr"><is><t{space}>'
                f"{xml_escape(v)}</t></is></c>"
            )
        out.append("</row>")
        self.parts.append("".join(out).encode("utf-8"))  # bytes: half a str's size for 汉字
        self.max_row = max(self.max_row, r)
        self.max_col = max(self.max_col, len(values))

    def splice(self, xml: bytes) -> bytes:
        """The worksheet part openpyxl wrote, with these rows and merges added."""
        return b"".join(self.splice_chunks(xml))

    def splice_chunks(self, xml: bytes, rows_per_chunk: int = 10_000) -> Iterator[bytes]:
        """:meth:`splice`'s bytes in pieces, so a 200,000-row sheet is never one string.

        The sheet's own XML is spliced around a marker (a NUL, which XML cannot hold),
        then split there: the rows stream in between, as stored.
        """
        text = xml.decode("utf-8")
        if "</sheetData>" in text:
            text = text.replace("</sheetData>", _ROWS_MARK + "</sheetData>", 1)
        else:
            text = re.sub(
                r"<sheetData\s*/>", lambda _: f"<sheetData>{_ROWS_MARK}</sheetData>", text, count=1
            )
        if self.merges:
            text = _add_merges(text, self.merges)
        ws = self.ws
        last_row = max(self.max_row, ws.max_row if ws._cells else 1)
        last_col = max(self.max_col, ws.max_column if ws._cells else 1, 1)
        text = re.sub(
            r'<dimension ref="[^"]*"',
            lambda _: f'<dimension ref="A1:{get_column_letter(last_col)}{last_row}"',
            text,
            count=1,
        )
        head, tail = text.split(_ROWS_MARK, 1)
        yield head.encode("utf-8")
        yield from self.body_chunks(rows_per_chunk)
        yield tail.encode("utf-8")

    def body_chunks(self, rows_per_chunk: int) -> Iterator[bytes]:
        """The rows' XML, ``rows_per_chunk`` rows a piece."""
        for i in range(0, len(self.parts), rows_per_chunk):
            yield b"".join(self.parts[i : i + rows_per_chunk])


class StreamedRows(FastRows):
    """Body rows that arrive as ready SpreadsheetML (built in SQL), streamed in at save.

    ``body`` is read once, while the sheet is written into the zip: a 200,000-row
    sheet never sits in memory. ``rows``/``cols`` give the sheet's dimension.
    """

    def __init__(self, ws: Worksheet, rows: int, cols: int) -> None:
        super().__init__(ws)
        self.body: Iterable[bytes] = ()
        self.max_row = rows
        self.max_col = cols

    def row_bytes(self, r: int, values: Sequence[Any], styles: Sequence[tuple[int, int]]) -> bytes:
        """One row's XML exactly as :meth:`FastRows.row` writes it (for rows SQL leaves out)."""
        max_row, max_col = self.max_row, self.max_col
        self.row(r, values, styles)
        self.max_row, self.max_col = max_row, max_col
        return self.parts.pop()

    def body_chunks(self, rows_per_chunk: int) -> Iterator[bytes]:
        yield from self.body


_ROWS_MARK = "\x00canbao-rows\x00"


# Elements a worksheet may have after <mergeCells>, in schema order (ECMA-376 CT_Worksheet).
_AFTER_MERGES = re.compile(
    r"<(phoneticPr|conditionalFormatting|dataValidations|hyperlinks|printOptions|pageMargins|"
    r"pageSetup|headerFooter|rowBreaks|colBreaks|customProperties|cellWatches|ignoredErrors|"
    r"smartTags|drawing|legacyDrawing|legacyDrawingHF|picture|oleObjects|controls|"
    r"webPublishItems|tableParts|extLst)[\s/>]|</worksheet>"
)


def _add_merges(text: str, merges: list[str]) -> str:
    """Add mergeCell elements to a worksheet part (to openpyxl's list, or a new one in place)."""
    m = re.search(r'<mergeCells count="(\d+)">', text)
    if m:
        end = text.index("</mergeCells>", m.end())
        count = int(m.group(1)) + len(merges)
        return (
            text[: m.start()]
            + f'<mergeCells count="{count}">'
            + text[m.end() : end]
            + "".join(merges)
            + text[end:]
        )
    at = _AFTER_MERGES.search(text, text.index("</sheetData>")).start()
    block = f'<mergeCells count="{len(merges)}">' + "".join(merges) + "</mergeCells>"
    return text[:at] + block + text[at:]


def put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value, never a formula: text is stored as text whatever it starts with."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        if not isinstance(cell, MergedCell):
            cell.value = None
        return cell
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would treat a leading '=' as a formula
        if value[:1] in FORMULA_START:
            cell.quotePrefix = True  # Excel keeps it as text when the cell is edited
        return cell
    cell.value = value
    return cell


def cell_text(v: Any) -> str:
    """Display text of a value; missing values (None, NaN, NaT, NA) are empty."""
    if type(v) is str:
        return v
    if v is None or (not isinstance(v, (str, list, tuple)) and pd.isna(v)):
        return ""
    if isinstance(v, (dt.date, pd.Timestamp)):
        return pd.Timestamp(v).date().isoformat()
    return str(v)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: CJK and full-width characters count 2."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def row_height(cells: Sequence[tuple[Any, float]], *, line: float = 13.5) -> float:
    """Row height (points) that shows wrapped text whole: openpyxl cannot auto-fit.

    Args: (text, column width) pairs of the row's wrapped cells; CJK counts 2 wide.
    """
    lines = 1
    for text, width in cells:
        wide = display_width(cell_text(text))
        lines = max(lines, -(-wide // max(int(width) - 2, 1)))
    return line * lines + 4


def fit_width(header: str, values: Iterable[str], *, low: int = 6, high: int = 50) -> int:
    """A column width that shows the header and most values whole, within [low, high]."""
    widest = display_width(header)
    for v in values:
        widest = max(widest, display_width(v))
    return min(max(widest + 2, low), high)


def print_setup(
    ws: Worksheet,
    *,
    landscape: bool,
    header: str,
    title_rows: str | None,
    footer_right: str | None = None,
) -> None:
    """A4, fit to page width, repeated title rows, page header, 第 N 页 footer.

    ``footer_right``: a line at the bottom right of every page, such as the
    signature line of whoever fills the sheet in (None: no right footer).
    """
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.center.text = header
    ws.oddHeader.center.size = 9
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 9
    if footer_right is not None:
        ws.oddFooter.right.text = footer_right
        ws.oddFooter.right.size = 9


@dataclass(frozen=True)
class Column:
    """One column of a titled sheet: header, field name in the data, width, who fills it."""

    header: str
    field: str
    width: float
    officer: bool = False  # True: unlocked and shaded, filled in by hand (an officer)


def title_rows(
    ws: Worksheet, title: str, subtitle: str, ncols: int, *, subtitle_height: float = 20
) -> None:
    """Rows 1-2 of a titled sheet: the title and a subtitle line, each merged across."""
    last = get_column_letter(ncols)
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    put(ws, 1, 1, title).font = Font(name=FONT, size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    put(ws, 2, 1, subtitle).font = Font(name=FONT, size=10)
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 30
    ws.row_dimensions[2].height = subtitle_height


def header_row(ws: Worksheet, row: int, columns: Sequence[Column]) -> None:
    """The column headers at ``row``: bold, boxed, shaded (officer columns in yellow), widths."""
    for j, c in enumerate(columns, start=1):
        cell = put(ws, row, j, c.header)
        cell.font = Font(name=FONT, size=10, bold=True)
        cell.fill = OFFICER_FILL if c.officer else HEAD_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = c.width
    ws.row_dimensions[row].height = 30


def protect_sheet(ws: Worksheet, password: str | None) -> None:
    """Lock pre-filled cells; users may still select, filter and resize."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    if password:
        ws.protection.password = password


def protect_workbook(wb: Workbook, password: str | None) -> None:
    """Lock the structure so a hidden list sheet cannot be unhidden or deleted."""
    wb.security = WorkbookProtection(lockStructure=True)
    if password:
        wb.security.workbookPassword = password


def write_text_table(
    path: Path,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    when: dt.datetime,
    *,
    sheet: str = "Sheet1",
    title: str | None = None,
) -> Path:
    """A plain table workbook where every cell is text: header frozen, filter, fitted widths.

    For people opening a CSV's content in Excel or WPS: nothing is evaluated
    (no formula, no number guessing that turns an ID into 4.3e17). ``title``, when
    given, goes in row 1 above the header (and is repeated on printed pages).
    """
    widths = text_widths(columns, rows)
    wb, ws, head_row = _text_table_head(columns, widths, title=title, sheet=sheet)
    fast = FastRows(ws)
    look = fast.style("body", font=Font(name=FONT, size=10))
    looks = [look] * len(columns)
    for i, r in enumerate(rows, start=head_row + 1):
        fast.row(i, ["" if v is None else str(v) for v in r], looks)
    _text_table_tail(ws, len(columns), len(rows), head_row, title=title, sheet=sheet)
    return save_workbook_fixed(wb, path, when)


def text_widths(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Each column's width in a text table: fitted to its header and the first 2,000 rows."""
    return [fit_width(name, (str(r[j]) for r in rows[:2000])) for j, name in enumerate(columns)]


def write_streamed_text_table(
    path: Path,
    columns: Sequence[str],
    widths: Sequence[int],
    n_rows: int,
    body: Callable[[StreamedRows, tuple[int, int], int], Iterable[bytes]],
    when: dt.datetime,
    *,
    sheet: str = "Sheet1",
    title: str | None = None,
) -> Path:
    """:func:`write_text_table`'s workbook, byte for byte, with the body rows built elsewhere.

    ``widths`` are :func:`text_widths` of the same rows; ``body(rows, look, first_row)``
    gives the ``n_rows`` rows' XML (cells styled ``look``: plain and quote-prefixed
    style ids; first row number ``first_row``), as :meth:`FastRows.row` writes them.
    """
    wb, ws, head_row = _text_table_head(columns, widths, title=title, sheet=sheet)
    fast = StreamedRows(ws, head_row + n_rows if n_rows else 0, len(columns) if n_rows else 0)
    look = fast.style("body", font=Font(name=FONT, size=10))
    fast.body = body(fast, look, head_row + 1)
    _text_table_tail(ws, len(columns), n_rows, head_row, title=title, sheet=sheet)
    return save_workbook_fixed(wb, path, when)


def _text_table_head(
    columns: Sequence[str], widths: Sequence[int], *, title: str | None, sheet: str
) -> tuple[Workbook, Worksheet, int]:
    """A text table's workbook up to its header row (title, header cells, widths)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    head_row = 1
    if title:
        put(ws, 1, 1, title).font = Font(name=FONT, size=12, bold=True)
        head_row = 2
    for j, name in enumerate(columns, start=1):
        cell = put(ws, head_row, j, name)
        cell.font = Font(name=FONT, size=10, bold=True)
        cell.fill = HEAD_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    return wb, ws, head_row


def _text_table_tail(
    ws: Worksheet, ncols: int, n_rows: int, head_row: int, *, title: str | None, sheet: str
) -> None:
    """A text table's frozen header, filter range and print set-up."""
    last = get_column_letter(max(ncols, 1))
    ws.freeze_panes = f"A{head_row + 1}"
    ws.auto_filter.ref = f"A{head_row}:{last}{head_row + max(n_rows, 1)}"
    print_setup(ws, landscape=True, header=title or sheet, title_rows=f"1:{head_row}")
