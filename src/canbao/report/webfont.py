"""Every HTML page carries its own Chinese font: a WOFF2 subset of the bundled Noto Sans CJK SC.

A page that only *names* system fonts ("Microsoft YaHei", "PingFang SC"…) shows
empty boxes on a machine without a CJK font (a Linux server, a locked-down PC).
:func:`embed_font` collects the characters a finished page uses, subsets the
pip-installed font (:mod:`canbao.core.fonts`) to those glyphs with fontTools, and
inlines it as a base64 ``data:`` URL in an ``@font-face`` named :data:`FAMILY`,
which every page stylesheet names first (``fonts.CSS_STACK``). The page stays
one self-contained file, and the same page gives the same bytes (fixed subsetter
options, no font timestamp recalculated).

Any page writer calls ``embed_font(page_html)`` on its finished HTML string.
"""

from __future__ import annotations

import base64
import html
import io
import re
from functools import cache, lru_cache

from canbao.core import fonts

FAMILY = fonts.WEB_FAMILY
# Always in the subset, whatever the page: printable ASCII, the CJK punctuation and
# full-width forms a 统计员 types, so numbers and signs never fall back to another font.
ALWAYS = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "\u00a0\u00b7\u00d7\u2014\u2018\u2019\u201c\u201d\u2026\u2030\u2103\u2191\u2193\u2192"
    + "\u3000\u3001\u3002\u300a\u300b\u300c\u300d\u3010\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff05"
)
MARKER = "<!-- canbao web font -->"
_HEAD = re.compile(r"<head[^>]*>", re.I)
_BASE64_RUN = re.compile(r"base64,[A-Za-z0-9+/=]+")


def page_characters(page_html: str) -> str:
    """The characters a page can show, sorted: its text with entities decoded, plus :data:`ALWAYS`.

    Inline images' base64 runs are skipped (they are ASCII, already in ALWAYS,
    and can be megabytes long).
    """
    text = html.unescape(_BASE64_RUN.sub("", page_html))
    chars = {c for c in text if c.isprintable()} | set(ALWAYS)
    return "".join(sorted(chars))


@cache
def _sc_face_index() -> int:
    """Index of the Simplified Chinese face in the bundled TrueType collection."""
    from fontTools.ttLib import TTCollection

    with TTCollection(str(fonts.font_path()), lazy=True) as ttc:
        for i, face in enumerate(ttc.fonts):
            if face["name"].getDebugName(1) == fonts.FAMILY:
                return i
    raise RuntimeError(f"{fonts.FAMILY} not found in {fonts.font_path()}")


def _subset_options():
    """Fixed subsetter options: the same characters always give the same bytes."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "locl", "ccmp", "palt", "halt", "vert", "vrt2"]
    options.hinting = False  # screens scale the outlines; hints add bytes, not legibility
    options.desubroutinize = True  # WOFF2's Brotli compresses plain charstrings better
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # copyright, names, version: the OFL asks to keep them
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.ignore_missing_unicodes = True
    return options


@lru_cache(maxsize=8)
def subset_woff2(characters: str) -> bytes:
    """WOFF2 bytes of Noto Sans CJK SC holding just ``characters`` (and .notdef).

    Kept for the same characters: a subset costs ~2 s of CPU (fontTools in pure
    Python), and the district's front page is written again, unchanged, after
    every period and at the end of the run.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(
        str(fonts.font_path()), fontNumber=_sc_face_index(), recalcTimestamp=False, lazy=True
    )
    try:
        subsetter = subset.Subsetter(_subset_options())
        subsetter.populate(unicodes=sorted({ord(c) for c in characters}))
        subsetter.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff2"
        font.save(buf, reorderTables=True)
    finally:
        font.close()
    return buf.getvalue()


def font_face_css(woff2: bytes) -> str:
    """The ``@font-face`` rule carrying the font inline, and a page-wide default stack."""
    data = base64.b64encode(woff2).decode("ascii")
    return (
        f'@font-face{{font-family:"{FAMILY}";font-style:normal;font-weight:400;'
        f'font-display:block;src:url(data:font/woff2;base64,{data}) format("woff2")}}'
        f"html{{font-family:{fonts.CSS_STACK}}}"
    )


def embed_font(page_html: str) -> str:
    """The page with its font subset inlined first in ``<head>`` (idempotent).

    Call it on a finished page: characters added afterwards are not in the subset.
    A page without ``<head>`` gets the style block at its start.
    """
    if MARKER in page_html:
        return page_html
    style = f"{MARKER}<style>{font_face_css(subset_woff2(page_characters(page_html)))}</style>"
    m = _HEAD.search(page_html)
    if m is None:
        return style + page_html
    return page_html[: m.end()] + style + page_html[m.end() :]
