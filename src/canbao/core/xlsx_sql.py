"""SpreadsheetML text cells written in SQL: the twin of :meth:`canbao.core.xlsx.FastRows.row`.

For tables of millions of rows (the exports' Excel copies) each row's XML is built
in DuckDB rather than cell by cell in Python; the expressions here give, for a
text value, exactly the bytes ``FastRows.row`` gives for the same ``str``: the
empty cell form, the quote-prefix style for text starting with = + - @,
``xml:space="preserve"`` for white space at either end (Python's ``str.isspace``),
``&``/``<``/``>`` escaped and the control characters XML cannot hold dropped.
Patterns are RE2 (DuckDB's regular expressions).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence


@functools.cache
def _space_class() -> str:
    """Python's ``str.isspace()`` characters (FastRows.row's test for xml:space), as RE2."""
    spaces = (c for c in map(chr, range(0x10000)) if c.isspace())  # none lies above U+3000
    return "[" + "".join(f"\\x{{{ord(c):04x}}}" for c in spaces) + "]"


_ILLEGAL_CLASS = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def text_cell_sql(value: str, ref: str, look: tuple[int, int]) -> str:
    """SQL for one text cell's XML, as :meth:`FastRows.row` writes a ``str`` value.

    ``value``: a VARCHAR expression, never NULL (empty: the styled blank cell);
    ``ref``: the cell reference (``'A' || r``). Same quote-prefix style for text
    starting with = + - @, ``xml:space`` for leading/trailing white space, the same
    escaping with XML's illegal control characters dropped.
    """
    sid, qid = look
    space = _space_class()
    escaped = (
        f"CASE WHEN regexp_matches({value}, '[&<>\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]') THEN "
        f"replace(replace(replace(regexp_replace({value}, '{_ILLEGAL_CLASS}', '', 'g'), "
        f"'&', '&amp;'), '<', '&lt;'), '>', '&gt;') ELSE {value} END"
    )
    return (
        f"CASE WHEN {value} = '' THEN '<c r=\"' || {ref} || '\" s=\"{sid}\"/>' "
        f"ELSE '<c r=\"' || {ref} || '\" s=\"' || "
        f"CASE WHEN regexp_matches({value}, '^[-=+@]') THEN '{qid}' ELSE '{sid}' END"
        f' || \'" t="inlineStr"><is><t\' || '
        f"CASE WHEN regexp_matches({value}, '^{space}|{space}$') "
        f"THEN ' xml:space=\"preserve\"' ELSE '' END || '>' || ({escaped}) || '</t></is></c>' END"
    )


def plain_text_cell_sql(value: str, ref: str, look: tuple[int, int]) -> str:
    """:func:`text_cell_sql` for a value :func:`text_care_sql` has cleared (the common case)."""
    sid = look[0]
    return (
        f"CASE WHEN {value} = '' THEN concat('<c r=\"', {ref}, '\" s=\"{sid}\"/>') "
        f'ELSE concat(\'<c r="\', {ref}, \'" s="{sid}" t="inlineStr"><is><t>\', {value}, '
        "'</t></is></c>') END"
    )


def text_care_sql(values: Sequence[str], also: Sequence[str] = ()) -> str:
    """SQL: True when one of ``values`` may need escaping, ``xml:space`` or the quote prefix.

    One test a row instead of three a cell, over the values joined by DEL (\\x7f: not white space, kept in
    XML); a false alarm (a value holding DEL) only sends the row through :func:`text_cell_sql`.
    ``also``: more RE2 patterns that raise the alarm (a match never spans two values).
    """
    space = _space_class()
    joined = "concat(chr(127), " + ", chr(127), ".join(values) + ", chr(127))"
    pattern = "|".join(
        [
            "[&<>\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]",
            "\\x7f[-=+@]",
            f"\\x7f{space}",
            f"{space}\\x7f",
        ]
        + [f"(?:{p})" for p in also]
    )
    return f"regexp_matches({joined}, '{pattern}')"
