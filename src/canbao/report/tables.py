"""The one table style of every page: tables a 统计员 would print.

No index column; Chinese column titles; counts right-aligned with thousands
separators; rates with one decimal and %; a finding shown by its Chinese label
with its code small beside it; headers aligned like their column; long tables
scroll inside a frame on screen (the header stays visible) and print whole.
The notebooks (district, township), the bulletins and the front page all draw
their tables here; the rules live in ``tables.css`` beside the page template.

:func:`table_html` returns the HTML; :func:`show` wraps it for a notebook cell.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping
from importlib import resources
from typing import Literal

import pandas as pd

from canbao.core.labels import FINDING_LABELS

Kind = Literal["text", "count", "rate", "pp", "finding", "html"]
RIGHT = frozenset({"count", "rate", "pp"})
SCROLL_ROWS = 25  # more rows than this scroll inside a frame on screen
# Columns holding finding codes (shown as 中文 label + small code).
FINDING_COLUMNS = frozenset({"问题", "问题代码"})


def css() -> str:
    """The table rules (one file, also included by the notebook page template)."""
    path = resources.files("canbao").joinpath("templates", "canbao_bulletin", "tables.css")
    return path.read_text(encoding="utf-8")


def finding_labels() -> Mapping[str, str]:
    """Finding code → Chinese label."""
    return FINDING_LABELS


def column_kind(name: str, values: pd.Series) -> Kind:
    """What a column holds, from its name and dtype (override with ``kinds=``)."""
    if name in FINDING_COLUMNS:
        return "finding"
    if pd.api.types.is_bool_dtype(values):
        return "text"
    if pd.api.types.is_integer_dtype(values):
        return "count"
    if pd.api.types.is_float_dtype(values):
        return "rate" if name.endswith("率") else "count"
    return "text"


def cell(value: object, kind: Kind) -> str:
    """One value as the page shows it (escaped; a formatted string passes through)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "—" if kind in RIGHT else ""
    if kind == "html":
        return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, numbers.Number) and kind in RIGHT:
        v = float(value)  # type: ignore[arg-type]
        if kind == "rate":
            return f"{v * 100:.1f}%"
        if kind == "pp":
            return "持平" if round(v * 100, 1) == 0 else f"{v * 100:+.1f}"
        return f"{int(v):,}" if v.is_integer() else f"{v:,.1f}"
    text = str(value)
    if kind == "finding":
        return finding_cell(text)
    return html.escape(text)


def finding_cell(value: str) -> str:
    """A finding as its Chinese label with the code small beside it (given either one)."""
    labels = finding_labels()
    codes = {label: code for code, label in labels.items()}
    code, label = (value, labels[value]) if value in labels else (codes.get(value), value)
    if not code:
        return html.escape(value)
    return (
        f'<span class="finding">{html.escape(label)}</span>'
        f' <span class="code">{html.escape(code)}</span>'
    )


def _header(columns: pd.Index, kinds: list[Kind]) -> str:
    """One header row, or two for a two-level header (groups spanning their columns)."""
    align = ["num" if k in RIGHT else "txt" for k in kinds]
    if not isinstance(columns, pd.MultiIndex):
        ths = "".join(
            f'<th class="{a}">{html.escape(str(c))}</th>'
            for c, a in zip(columns, align, strict=True)
        )
        return f"<tr>{ths}</tr>"
    top, sub = [], []
    i = 0
    pairs = list(columns)
    while i < len(pairs):
        group = pairs[i][0]
        if not group:
            top.append(f'<th rowspan="2" class="{align[i]}">{html.escape(str(pairs[i][1]))}</th>')
            i += 1
            continue
        j = i
        while j < len(pairs) and pairs[j][0] == group:
            sub.append(f'<th class="{align[j]}">{html.escape(str(pairs[j][1]))}</th>')
            j += 1
        top.append(f'<th colspan="{j - i}" class="group">{html.escape(str(group))}</th>')
        i = j
    return f"<tr>{''.join(top)}</tr><tr>{''.join(sub)}</tr>"


def table_html(
    df: pd.DataFrame,
    *,
    kinds: Mapping[str, Kind] | None = None,
    total_last: bool = False,
    scroll_rows: int = SCROLL_ROWS,
    css_class: str = "",
) -> str:
    """A frame as a printed office table (never its index).

    ``kinds`` overrides what a column holds (keys are column titles, or the
    bottom title of a two-level header); ``total_last`` sets the last row as the
    合计 row; tables longer than ``scroll_rows`` scroll on screen.
    """
    names = [c[-1] if isinstance(c, tuple) else c for c in df.columns]
    given = dict(kinds or {})
    col_kinds: list[Kind] = [
        given.get(str(n), column_kind(str(n), df.iloc[:, i])) for i, n in enumerate(names)
    ]
    rows = []
    last = len(df) - 1
    for r, values in enumerate(df.itertuples(index=False, name=None)):
        tds = "".join(
            f'<td class="{"num" if k in RIGHT else "txt"}">{cell(v, k)}</td>'
            for v, k in zip(values, col_kinds, strict=True)
        )
        cls = ' class="total"' if total_last and r == last else ""
        rows.append(f"<tr{cls}>{tds}</tr>")
    classes = " ".join(c for c in ("cb-table", css_class) if c)
    table = (
        f'<table class="{classes}"><thead>{_header(df.columns, col_kinds)}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    frame = "cb-frame cb-scroll" if len(df) > scroll_rows else "cb-frame"
    return f'<div class="{frame}">{table}</div>'


class Table:
    """A table for a notebook cell: shows as :func:`table_html`, never as pandas' own HTML."""

    def __init__(self, df: pd.DataFrame, **options: object) -> None:
        self.html = table_html(df, **options)  # type: ignore[arg-type]
        self.rows = len(df)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<表格 {self.rows} 行>"


def show(df: pd.DataFrame, **options: object) -> Table:
    """The frame in the one table style, for a notebook cell's last line or ``display``."""
    return Table(df, **options)
