"""Fast, deterministic CSV output through Arrow kernels, in the encodings districts send
(minimal quoting, as Excel and most exporters write it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _field(s: pd.Series) -> pa.Array:
    if s.dtype == object or str(s.dtype) in ("str", "string"):
        a = pa.array(s.fillna("").astype(str).to_numpy(dtype=object), pa.string())
    else:
        a = pa.array(s.astype("string").fillna("").to_numpy(dtype=object), pa.string())
    needs = pc.match_substring_regex(a, '[",\\r\\n]')
    if pc.any(needs).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(a, '"', '""'), '"', "")
        a = pc.if_else(needs, quoted, a)
    return a


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8", crlf: bool = False) -> None:
    """Every value written as text (empty for missing); ``encoding`` is gbk, gb18030,
    utf-8 or utf-8-sig."""
    eol = "\r\n" if crlf else "\n"
    header = ",".join(str(c) for c in df.columns) + eol
    if len(df):
        lines = pc.binary_join_element_wise(*[_field(df[c]) for c in df.columns], ",")
        body = eol.join(lines.to_pylist()) + eol
    else:
        body = ""
    path.write_bytes((header + body).encode(encoding))
