"""Fast, deterministic CSV output through Arrow kernels, in the encodings districts send
(minimal quoting, as Excel and most exporters write it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _text(s: pd.Series) -> pa.Array:
    """The column as Arrow strings, empty for missing (zero-copy for Arrow-backed str)."""
    if str(s.dtype) in ("str", "string"):
        try:
            a = pa.array(s.array)
        except (TypeError, pa.ArrowInvalid):
            a = pa.array(s.astype(object).to_numpy(dtype=object), pa.string(), from_pandas=True)
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()
        a = a.cast(pa.string())
    elif s.dtype == object:
        a = pa.array(s.fillna("").astype(str).to_numpy(dtype=object), pa.string())
    else:
        a = pa.array(s.astype("string").fillna("").to_numpy(dtype=object), pa.string())
    return pc.fill_null(a, "")


def _field(s: pd.Series) -> pa.Array:
    a = _text(s)
    needs = pc.match_substring_regex(a, '[",\\r\\n]')
    if pc.any(needs).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(a, '"', '""'), '"', "")
        a = pc.if_else(needs, quoted, a)
    return a


def joined_bytes(lines: pa.Array) -> bytes:
    """The UTF-8 bytes of all strings of ``lines`` back to back (no Python str per line)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if len(lines) == 0:
        return b""
    lines = lines.cast(pa.large_string())
    off = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return lines.buffers()[2].to_pybytes()[int(off[0]) : int(off[-1])]


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8", crlf: bool = False) -> None:
    """Every value written as text (empty for missing); ``encoding`` is gbk, gb18030,
    utf-8 or utf-8-sig."""
    eol = "\r\n" if crlf else "\n"
    header = (",".join(str(c) for c in df.columns) + eol).encode(encoding)
    body = b""
    if len(df):
        lines = pc.binary_join_element_wise(*[_field(df[c]) for c in df.columns], ",")
        body = joined_bytes(pc.binary_join_element_wise(lines, eol, ""))
        if encoding not in ("utf-8", "utf-8-sig"):
            body = body.decode("utf-8").encode(encoding)
    path.write_bytes(header + body)
