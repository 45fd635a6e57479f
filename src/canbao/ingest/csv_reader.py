"""Read a CSV extract: find its encoding in one pass, then every cell as text.

UTF-8 (with or without a BOM), GBK or GB18030, whichever decodes the whole file; a few
lines in another encoding (a row typed in another editor) leave the rest readable and
are marked as damaged, never guessed. Arrow reads a clean file; a ragged one (short or
long rows) is read row by row, padded, with each row's field count kept so ingest can
name the rows longer than the header.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from canbao.core.errors import InputError
from canbao.core.text import INVISIBLE_RE, INVISIBLE_UTF8_RE
from canbao.ingest.decoding import ENCODINGS, too_many_nuls
from canbao.ingest.rawfile import ROWS_PER_BATCH, RawFile, batches_to_table

_CHUNK = 8 << 20
# C0 control characters other than tab, LF and CR (and DEL): never data, e.g. the DOS end-of-file
# mark \x1a or a vertical tab from an old system. NUL is removed with the invisible characters
# (canbao.core.text): a NUL in an address is no reason to drop the person.
CONTROL_RE = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"
_NOT_CONTROL = bytes(b for b in range(256) if not re.fullmatch(CONTROL_RE.encode(), bytes([b])))
_DAMAGED_LINES_MAX = 0.01  # at most this share of lines may hold undecodable bytes
UNDECODABLE = "undecodable"


def read_utf16(path: Path, file: str, encoding: str) -> RawFile:
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
                if n >= ROWS_PER_BATCH:
                    batches.append(cols)
                    cols = [[] for _ in range(len(cols))]
                    n = 0
    except csv.Error as exc:  # the record after the last one read
        row = i - skip + 2 if i + 1 >= skip else None
        raise InputError(file, "csv_unreadable", row=row, detail=exc) from exc
    finally:
        csv.field_size_limit(limit)
    batches.append(cols)
    return batches_to_table(batches), pa.array(counts, type=pa.int32())
