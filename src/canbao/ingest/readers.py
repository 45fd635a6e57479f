"""Read one extract file (CSV or XLSX) into text cells, whatever the sender's tool did to it.

Every cell comes back as text or NULL: no type or NA inference ("NA" stays text),
because IDs, codes and dates must reach the standardise step exactly as sent.
Excel's numeric accidents are turned into the text Excel itself would show
(an 18-digit ID stored as a number becomes ``4.30302199001011E+17``) so the ID
check can report ID_PRECISION_LOST instead of guessing the lost digits.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from canbao.errors import InputError

# Tried in this order; GBK before GB18030 so the common case is named as such.
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gbk", "gb18030")
ZERO_WIDTH_RE = "[\u200b\u200c\u200d\u2060\ufeff]"
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_CHUNK = 8 << 20
_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_SIGNATURE = b"PK\x03\x04"
_ROWS_PER_BATCH = 200_000


@dataclass
class RawFile:
    """A file read as text: its header cells and one string column per header cell.

    Row ``i`` of ``table`` is data row ``i + 1`` (header not counted, blank rows kept),
    which is the ``source_row`` the sender sees.
    """

    file: str  # name relative to the period folder
    header: list[str]
    table: pa.Table  # columns c0..c{n-1}, all pa.string(), NULL for blank cells
    encoding: str | None = None  # CSV only
    zero_width: bool = True  # may hold zero-width characters (CSV: known from decoding)


def read_file(path: Path, file: str) -> RawFile:
    """Read ``path`` by its content (a renamed xlsx is still an xlsx), naming it ``file``."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head:
        raise InputError(file, "empty file (0 bytes, no header row)")
    if head.startswith(_ZIP_SIGNATURE) or head.startswith(_OLE_SIGNATURE):
        raw = read_xlsx(path, file)
    elif _looks_like_html(head):
        raise InputError(
            file,
            "cannot open: this is a web page (HTML or XML table) saved under a spreadsheet name, "
            "not an xlsx or CSV; open it in Excel and save it as .xlsx or CSV",
        )
    elif path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        raise InputError(file, "cannot open: password-protected or not an xlsx")
    else:
        raw = read_csv(path, file)
    table = _drop_trailing_blank(_clean_cells(raw.table, raw.zero_width))
    return RawFile(raw.file, raw.header, table, raw.encoding, raw.zero_width)


def _looks_like_html(head: bytes) -> bool:
    """Many 人社 systems export "xls" files that are HTML tables."""
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    return text.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta"))


# --------------------------------------------------------------------------- CSV


def detect_encoding(path: Path, file: str) -> tuple[str, bool]:
    """The first of :data:`ENCODINGS` that decodes the whole file, and whether the text
    holds zero-width characters. NUL bytes mean UTF-16 or binary: not accepted."""
    with open(path, "rb") as fh:
        has_bom = fh.read(3) == codecs.BOM_UTF8
    candidates = ENCODINGS if has_bom else ENCODINGS[1:]
    for enc in candidates:
        zero_width = _decodes(path, enc)
        if zero_width is not None:
            return enc, zero_width
    raise InputError(
        file,
        "cannot decode the file as text (tried " + ", ".join(ENCODINGS) + "); it may be "
        "UTF-16 or not a CSV at all. Save it as CSV UTF-8 (or GBK) from Excel",
    )


def _decodes(path: Path, enc: str) -> bool | None:
    """None if ``path`` is not ``enc`` text; else whether zero-width characters occur."""
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    zero_width = False
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                if b"\x00" in chunk:
                    return None
                text = decoder.decode(chunk)
                zero_width = zero_width or any(ch in text for ch in _ZERO_WIDTH)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return zero_width


def _sniff_header(path: Path, enc: str) -> tuple[list[str], int, str]:
    """Header cells, records before the data (blank lines + header), and the delimiter."""
    with open(path, encoding=enc, newline="") as fh:
        sample = fh.read(1 << 16)
    first_line = next((ln for ln in sample.splitlines() if ln.strip(" \t\u3000\ufeff,")), "")
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[delimiter] == 0:
        delimiter = ","
    for skipped, rec in enumerate(csv.reader(io.StringIO(sample), delimiter=delimiter)):
        if any(c.strip(" \t\u3000\ufeff\u200b") for c in rec):
            return [c.lstrip("\ufeff") for c in rec], skipped + 1, delimiter
    return [], 0, delimiter


def read_csv(path: Path, file: str) -> RawFile:
    """CSV in UTF-8 (BOM or not), GBK or GB18030; every cell as text, blank lines kept as rows."""
    enc, zero_width = detect_encoding(path, file)
    header, skip, delimiter = _sniff_header(path, enc)
    if not header:
        raise InputError(file, "empty file (no header row)")
    try:
        table = _read_csv_arrow(path, enc, len(header), skip, delimiter)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        # Ragged rows (a short or long line): the slower reader pads them instead of failing.
        table = _read_csv_python(path, enc, len(header), skip, delimiter)
    return RawFile(file, header, table, enc, zero_width)


def _names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def _read_csv_arrow(path: Path, enc: str, width: int, skip: int, delimiter: str) -> pa.Table:
    names = _names(width)
    arrow_enc = "utf8" if enc.startswith("utf-8") else enc
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=names, skip_rows=skip, encoding=arrow_enc, block_size=16 << 20
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, ignore_empty_lines=False, newlines_in_values=True
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _read_csv_python(path: Path, enc: str, width: int, skip: int, delimiter: str) -> pa.Table:
    """Row-by-row fallback: pads short rows, widens for long ones (surplus = unnamed columns)."""
    batches: list[list[list[str | None]]] = []
    cols: list[list[str | None]] = [[] for _ in range(width)]
    n = 0
    with open(path, encoding=enc, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for i, rec in enumerate(reader):
            if i < skip:
                continue
            if len(rec) > len(cols):
                cols.extend([None] * n for _ in range(len(rec) - len(cols)))
            for j, col in enumerate(cols):
                col.append(rec[j] or None if j < len(rec) else None)
            n += 1
            if n >= _ROWS_PER_BATCH:
                batches.append(cols)
                cols = [[] for _ in range(len(cols))]
                n = 0
    batches.append(cols)
    return _batches_to_table(batches)


def _batches_to_table(batches: list[list[list[str | None]]]) -> pa.Table:
    width = max(len(b) for b in batches)
    arrays: list[list[pa.Array]] = [[] for _ in range(width)]
    for b in batches:
        rows = len(b[0]) if b else 0
        for j in range(width):
            arrays[j].append(pa.array(b[j] if j < len(b) else [None] * rows, type=pa.string()))
    return pa.table({f"c{j}": pa.chunked_array(a, type=pa.string()) for j, a in enumerate(arrays)})


# --------------------------------------------------------------------------- XLSX


def read_xlsx(path: Path, file: str) -> RawFile:
    """First sheet of an xlsx (or a legacy xls) via calamine; cells rendered as Excel shows them."""
    import python_calamine

    with open(path, "rb") as fh:
        head = fh.read(8)
        ole = head.startswith(_OLE_SIGNATURE)
        encrypted = ole and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00" in fh.read()
    if encrypted:
        raise InputError(file, "cannot open: password-protected or not an xlsx")
    try:
        with open(path, "rb") as fh:
            wb = python_calamine.CalamineWorkbook.from_filelike(fh)
        sheet = wb.get_sheet_by_index(0)
        rows_iter = sheet.iter_rows()
    except Exception as exc:  # calamine raises several types for broken containers
        raise InputError(file, "cannot open: password-protected or not an xlsx") from exc

    header: list[str] = []
    batches: list[list[list[str | None]]] = []
    rows: list[list[object]] = []
    for row in rows_iter:
        if not header:
            if any(_cell_text(c) for c in row):
                header = [_cell_text(c) or "" for c in row]
            continue
        rows.append(row)
        if len(rows) >= _ROWS_PER_BATCH:
            batches.append(_columns_from_rows(rows, len(header)))
            rows = []
    if not header:
        raise InputError(file, "empty file (no header row in the first sheet)")
    batches.append(_columns_from_rows(rows, len(header)))
    return RawFile(file, header, _batches_to_table(batches))


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


# --------------------------------------------------------------------------- common


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _clean_column(col: pa.ChunkedArray, zero_width: bool) -> pa.ChunkedArray:
    """Zero-width characters removed; a cell of only spaces (any width) becomes NULL.

    ``utf8_is_space`` is one cheap pass; the zero-width search runs only where the
    file may hold such characters.
    """
    blank = None
    if zero_width and any(_any(pc.match_substring(col, ch)) for ch in _ZERO_WIDTH):
        col = pc.replace_substring_regex(col, ZERO_WIDTH_RE, "")
        blank = pc.equal(col, "")
    spaces = pc.utf8_is_space(col)
    blank = spaces if blank is None else pc.or_(blank, spaces)
    if _any(blank):
        col = pc.if_else(blank, pa.scalar(None, pa.string()), col)
    return col


def _clean_cells(table: pa.Table, zero_width: bool = True) -> pa.Table:
    return pa.table(
        {name: _clean_column(table.column(name), zero_width) for name in table.column_names}
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
