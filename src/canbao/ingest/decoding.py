"""Which text encoding a CSV is in: one policy for every CSV the project reads.

Extracts (streamed, :func:`canbao.ingest.readers.scan_text`) and survey returns (small,
held in memory, :func:`decode_bytes`) are decoded the same way: UTF-8 (a BOM dropped),
else GBK, else GB18030; a file with many NUL bytes is UTF-16 or binary and is refused.
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


def decode_bytes(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a CSV held in memory, or None when no encoding reads it."""
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
