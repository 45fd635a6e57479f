"""Which text encoding a CSV is in: one policy for every CSV the project reads.

Extracts (streamed, :func:`canbao.ingest.csv_reader.scan_text`) and survey returns (small,
held in memory, :func:`decode_bytes`) are decoded the same way: UTF-8 (a BOM dropped),
else GBK, else GB18030; UTF-16 (Excel's "Unicode 文本", with or without a BOM) is
recognised by its bytes; any other file with many NUL bytes is binary and is refused.
"""

from __future__ import annotations

import codecs

# Tried in this order; GBK before GB18030 so the common case is named as such.
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gbk", "gb18030")
# More NUL bytes than this share of the first 64 KiB: UTF-16 or binary, not a CSV.
NUL_SHARE_MAX = 0.05


def too_many_nuls(head: bytes) -> bool:
    """The first bytes of a file look like UTF-16 or binary data, not CSV text."""
    return head.count(b"\x00") > NUL_SHARE_MAX * len(head)


def utf16_encoding(head: bytes) -> str | None:
    """``utf-16`` (with a BOM), ``utf-16-le`` / ``utf-16-be`` (without), or None.

    Excel's "Unicode 文本" export and some systems' CSVs are UTF-16 with a BOM. Without one,
    the ASCII half of the text (digits, commas, tabs, line ends) gives it away: a NUL in
    most odd bytes (little-endian) or most even ones (big-endian), hardly any in the other.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    half = len(head) // 2
    if half < 8:
        return None
    odd, even = head[1 : 2 * half : 2].count(0), head[0 : 2 * half : 2].count(0)
    if odd > 0.3 * half and even < 0.01 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.01 * half:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a CSV held in memory, or None when no encoding reads it."""
    utf16 = utf16_encoding(data[: 1 << 16])
    if utf16 is not None:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            return None
    if too_many_nuls(data[: 1 << 16]):
        return None
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[3:] if bom else data
    for enc in ENCODINGS[1:]:
        try:
            return body.decode(enc), ("utf-8-sig" if bom and enc == "utf-8" else enc)
        except UnicodeDecodeError:
            continue
    return None
