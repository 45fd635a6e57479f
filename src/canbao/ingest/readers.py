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
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime as dt
import io
import math
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from canbao.core.errors import InputError
from canbao.core.text import ARROW_INVISIBLE_RE, INVISIBLE_RE, INVISIBLE_UTF8_RE
from canbao.ingest.decoding import ENCODINGS, too_many_nuls, utf16_encoding
from canbao.ingest.workbook import (
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    column_index,
    looks_like_html,
    sheet_parts,
)

_CHUNK = 8 << 20
_ROWS_PER_BATCH = 200_000
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
# C0 control characters other than tab, LF and CR (and DEL): never data, e.g. the DOS end-of-file
# mark \x1a or a vertical tab from an old system. NUL is removed with the invisible characters
# (canbao.core.text): a NUL in an address is no reason to drop the person.
CONTROL_RE = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"
_NOT_CONTROL = bytes(b for b in range(256) if not re.fullmatch(CONTROL_RE.encode(), bytes([b])))
_DAMAGED_LINES_MAX = 0.01  # at most this share of lines may hold undecodable bytes
UNDECODABLE = "undecodable"


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
    # may hold invisible characters (Cf, NUL) to remove (CSV: known from decoding)
    zero_width: bool = True
    # (marker character, reject reason): a row with a cell holding the marker is damaged
    damage: tuple[tuple[str, str], ...] = ()
    delimiter: str = ","
    odd_quotes: bool = False  # CSV: an odd number of quote characters (one may be unclosed)
    sheet: str | None = None  # xlsx: the sheet read
    sheet_index: int = 0
    sheets: tuple[str, ...] = ()  # xlsx: every sheet of the workbook
    # xlsx: (table row, column index, cell reference) of formulas saved without their result
    uncomputed: tuple[tuple[int, int, str], ...] = ()
    cleaning: tuple[str, ...] = ()  # extra cell cleaning asked for by the reader (read_file)
    # CSV read row by row: fields per data row (blank cells counted), to find rows longer
    # than the header whatever their surplus cells hold; None when every row is as wide
    field_counts: pa.Array | None = None


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
        raw = _read_utf16(path, file, utf16)
    else:
        try:
            raw = read_csv(path, file)
        except InputError:
            if path.suffix.lower() in _XLSX_SUFFIXES:
                raise InputError(file, "xlsx_unreadable") from None
            raise
    table = _drop_trailing_blank(_clean_cells(raw.table, raw.zero_width, raw.cleaning))
    return dataclasses.replace(raw, table=table, cleaning=())


# --------------------------------------------------------------------------- CSV


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(1 << 16)


def _read_utf16(path: Path, file: str, encoding: str) -> RawFile:
    """A UTF-16 text file (Excel's "Unicode 文本": tab-separated, with a BOM), read as the
    same text in UTF-8 through the one CSV reader; its encoding is reported as sent."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="canbao-utf16-") as tmp:
        copy = Path(tmp) / "utf8.csv"
        try:
            with open(path, "rb") as src, open(copy, "w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(_CHUNK):
                    dst.write(decoder.decode(chunk))
                dst.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise InputError(file, "csv_undecodable", encodings=encoding) from None
        raw = read_csv(copy, file)
    return dataclasses.replace(raw, encoding=encoding)


@dataclass(frozen=True)
class TextScan:
    """How a CSV's bytes decode, and what one pass over them saw."""

    encoding: str
    skip: int = 0  # bytes before the text: a UTF-8 BOM in front of GBK text
    errors: str = "strict"  # "replace" when a few lines decode in no encoding
    zero_width: bool = False
    nul: bool = False
    controls: bool = False  # C0 control characters (CONTROL_RE)
    quotes: int = 0  # number of '"' characters
    eq_quote: bool = False  # ="…" cells, Excel's keep-as-text trick
    replaced: int = 0  # undecodable sequences (errors="replace")
    damaged_lines: int = 0  # lines holding one (errors="replace")
    lines: int = 0
    multibyte: int = 0  # bytes that start a UTF-8 multi-byte character

    def few_damaged(self) -> bool:
        """Damage confined to a few lines: the rest of the file is this encoding."""
        return self.damaged_lines <= max(10, _DAMAGED_LINES_MAX * self.lines)

    def mostly_utf8(self) -> bool:
        """Valid UTF-8 characters outnumber the damage twofold. GBK text read as UTF-8 is
        nearly all damage: about one bad sequence per byte that could start a character."""
        return self.few_damaged() and self.multibyte - self.replaced >= 2 * self.replaced


_TRIED = "、".join(ENCODINGS)
_NOT_UTF8_LEAD = bytes(b for b in range(256) if not 0xC2 <= b <= 0xF4)


def scan_text(path: Path, file: str) -> TextScan:
    """The first of :data:`ENCODINGS` that decodes the whole file, with what the pass saw.

    Many NUL bytes mean UTF-16 or binary: refused. A few NUL bytes, or a few lines in
    another encoding (a row typed in another editor), leave the rest of the file
    readable: those rows are rejected by name (``RawFile.damage``), never guessed.
    """
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if too_many_nuls(head):
        raise InputError(file, "csv_undecodable", encodings=_TRIED)
    has_bom = head.startswith(codecs.BOM_UTF8)
    utf8 = "utf-8-sig" if has_bom else "utf-8"
    found = _scan(path, utf8, 0, "strict")
    if found is not None:
        return found
    # Not clean UTF-8: a few damaged lines in a UTF-8 file, or another encoding.
    damaged = _scan(path, utf8, 0, "replace")
    if damaged is not None and damaged.mostly_utf8():
        return damaged
    skip = 3 if has_bom else 0
    for enc in ("gbk", "gb18030"):
        found = _scan(path, enc, skip, "strict")
        if found is not None:
            return found
    damaged = _scan(path, "gb18030", skip, "replace")
    if (
        damaged is not None
        and damaged.few_damaged()
        and 10 * damaged.damaged_lines <= damaged.lines
    ):
        return damaged
    raise InputError(file, "csv_undecodable", encodings=_TRIED)


def _scan(path: Path, enc: str, skip: int, errors: str) -> TextScan | None:
    """One pass over ``path`` as ``enc`` text from byte ``skip``, or None when it is not:
    strict, at the first bad byte; "replace", as soon as damage is more than a few lines."""
    decoder = codecs.getincrementaldecoder(enc)(errors=errors)
    zero_width = nul = controls = eq_quote = False
    quotes = replaced = damaged = lines = multibyte = 0
    last = tail = b""
    size = 1 << 16  # a small first chunk: a file in another encoding fails fast
    try:
        with open(path, "rb") as fh:
            fh.seek(skip)
            while chunk := fh.read(size):
                size = _CHUNK
                text = decoder.decode(chunk)
                nul = nul or b"\x00" in chunk
                controls = controls or bool(chunk.translate(None, _NOT_CONTROL))
                if b'"' in chunk:
                    quotes += chunk.count(b'"')
                if not eq_quote and (b"=" in chunk or last == b"="):
                    eq_quote = b'="' in chunk or (last == b"=" and chunk[:1] == b'"')
                last = chunk[-1:]
                zero_width = zero_width or nul or _holds_invisible(enc, errors, chunk, tail, text)
                tail = chunk[-3:]
                if errors == "strict":
                    continue
                lines += chunk.count(b"\n") or chunk.count(b"\r")
                bad = text.count("\ufffd")
                if bad or not multibyte:  # estimated from the first chunk and damaged ones
                    multibyte += len(chunk.translate(None, _NOT_UTF8_LEAD))
                if bad:
                    replaced += bad
                    damaged += sum(1 for ln in text.splitlines() if "\ufffd" in ln)
                    if damaged > max(10, _DAMAGED_LINES_MAX * lines) and 10 * damaged > lines:
                        return None
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return TextScan(
        enc,
        skip,
        errors,
        zero_width,
        nul,
        controls,
        quotes,
        eq_quote,
        replaced,
        damaged,
        max(lines, 1),
        multibyte,
    )


def _holds_invisible(encoding: str, errors: str, chunk: bytes, before: bytes, text: str) -> bool:
    """Whether ``text`` (``chunk`` decoded; ``before``: the previous chunk's last bytes,
    empty for the first)
    holds a Cf character or NUL (:data:`~canbao.core.text.INVISIBLE_RE`).

    Searching the decoded text is the slow part of a scan, so a strict decode answers
    from the bytes: GBK has no Cf character (NUL is a byte of its own); UTF-8 is
    searched as bytes, with the last bytes of the previous chunk in front, where a
    character cut by the chunk boundary starts.
    """
    if errors == "strict" and encoding == "gbk":
        return b"\x00" in chunk
    if errors == "strict" and encoding.startswith("utf-8"):
        if encoding == "utf-8-sig" and not before and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]  # the decoder drops the file's BOM
        return INVISIBLE_UTF8_RE.search(before + chunk) is not None
    return INVISIBLE_RE.search(text) is not None


def _text_stream(path: Path, scan: TextScan) -> io.TextIOWrapper:
    fh = open(path, "rb")  # noqa: SIM115 (closed with the wrapper)
    fh.seek(scan.skip)
    return io.TextIOWrapper(fh, encoding=scan.encoding, errors=scan.errors, newline="")


def _sniff_header(path: Path, scan: TextScan) -> tuple[list[str], int, str]:
    """Header cells, records before the data (blank lines + header), and the delimiter."""
    with _text_stream(path, scan) as fh:
        sample = fh.read(1 << 16)
    first_line = next((ln for ln in sample.splitlines() if ln.strip(" \t\u3000\ufeff,")), "")
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[delimiter] == 0:
        delimiter = ","
    # newline="": a file with CR-only line ends (old Mac exports) splits into lines too
    records = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    for skipped, rec in enumerate(records):
        if any(c.strip(" \t\u3000\ufeff\u200b") for c in rec):
            return [c.lstrip("\ufeff") for c in rec], skipped + 1, delimiter
    return [], 0, delimiter


def read_csv(path: Path, file: str) -> RawFile:
    """CSV in UTF-8 (BOM or not), GBK or GB18030; every cell as text, blank lines kept as rows."""
    scan = scan_text(path, file)
    header, skip, delimiter = _sniff_header(path, scan)
    if not header:
        raise InputError(file, "file_no_header")
    table = None
    if scan.errors == "strict":
        # Ragged rows (a short or long line) fail here: the slower reader pads them.
        with contextlib.suppress(pa.ArrowInvalid, UnicodeDecodeError):
            table = _read_csv_arrow(path, scan, len(header), skip, delimiter)
    field_counts = None
    if table is None:
        table, field_counts = _read_csv_python(path, file, scan, len(header), skip, delimiter)
    damage = []
    if scan.errors != "strict":
        damage.append(("\ufffd", UNDECODABLE))
    cleaning = (("controls",) if scan.controls else ()) + (("eq_quote",) if scan.eq_quote else ())
    return RawFile(
        file,
        header,
        table,
        scan.encoding,
        scan.zero_width,
        damage=tuple(damage),
        delimiter=delimiter,
        odd_quotes=scan.quotes % 2 == 1,
        cleaning=cleaning,
        field_counts=field_counts,
    )


def _names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def _read_csv_arrow(path: Path, scan: TextScan, width: int, skip: int, delimiter: str) -> pa.Table:
    names = _names(width)
    arrow_enc = "utf8" if scan.encoding.startswith("utf-8") else scan.encoding
    source: str | Path | pa.NativeFile = path
    if scan.skip:
        source = pa.input_stream(str(path))
        source.read(scan.skip)
    return pacsv.read_csv(
        source,
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


def _read_csv_python(
    path: Path, file: str, scan: TextScan, width: int, skip: int, delimiter: str
) -> tuple[pa.Table, pa.Array]:
    """Row-by-row fallback: pads short rows, widens for long ones (surplus = unnamed columns);
    with the number of fields each row had."""
    batches: list[list[list[str | None]]] = []
    counts: list[int] = []
    cols: list[list[str | None]] = [[] for _ in range(width)]
    n = 0
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, path.stat().st_size + 1))  # a 1 MB cell is still a cell
    i = -1
    try:
        with _text_stream(path, scan) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            for i, rec in enumerate(reader):
                if i < skip:
                    continue
                counts.append(len(rec))
                if len(rec) > len(cols):
                    cols.extend([None] * n for _ in range(len(rec) - len(cols)))
                for j, col in enumerate(cols):
                    col.append(rec[j] or None if j < len(rec) else None)
                n += 1
                if n >= _ROWS_PER_BATCH:
                    batches.append(cols)
                    cols = [[] for _ in range(len(cols))]
                    n = 0
    except csv.Error as exc:  # the record after the last one read
        row = i - skip + 2 if i + 1 >= skip else None
        raise InputError(file, "csv_unreadable", row=row, detail=exc) from exc
    finally:
        csv.field_size_limit(limit)
    batches.append(cols)
    return _batches_to_table(batches), pa.array(counts, type=pa.int32())


def _batches_to_table(batches: list[list[list[str | None]]]) -> pa.Table:
    width = max(len(b) for b in batches)
    arrays: list[list[pa.Array]] = [[] for _ in range(width)]
    for b in batches:
        rows = len(b[0]) if b else 0
        for j in range(width):
            arrays[j].append(pa.array(b[j] if j < len(b) else [None] * rows, type=pa.string()))
    return pa.table({f"c{j}": pa.chunked_array(a, type=pa.string()) for j, a in enumerate(arrays)})


# --------------------------------------------------------------------------- XLSX


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
        if len(rows) >= _ROWS_PER_BATCH:
            batches.append(_columns_from_rows(rows, len(header)))
            rows = []
    if not header:
        raise InputError(file, "sheet_no_header", sheet=names[index])
    batches.append(_columns_from_rows(rows, len(header)))
    return RawFile(
        file,
        header,
        _batches_to_table(batches),
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


# --------------------------------------------------------------------------- common


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
