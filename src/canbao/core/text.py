"""The one text folding: what is "no change" in a cell, for IDs, names, codes and headers.

IDs pasted from a web page or another system carry invisible format characters
(U+200E/U+200F direction marks, U+FEFF, U+2060, U+202A…, all Unicode category Cf)
and sometimes a NUL byte. No clerk typed them, so they are removed everywhere a value
is compared: ingest (every cell, before anything else sees it), cleaning (names, IDs,
codes), header matching and the survey-return reader all fold through this module,
so one field can never fold one way in one stage and another way in the next.

Folding levels, each adding to the previous one:
- :func:`strip_invisible`: Cf characters and NUL removed (every cell at ingest);
- :func:`fold_text`: NFKC (full-width → half-width) and all whitespace removed
  (codes, headers, IDs);
- :func:`fold_id`: also the leading apostrophe Excel users type, and ``x`` → ``X``;
- :func:`fold_name`: also the middle-dot variants of minority names unified to ``·``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Cf characters and NUL, as an RE2 class for Arrow's vectorised regex functions.
ARROW_INVISIBLE_RE = "[\\p{Cf}\\x00]"
DOT = "·"
# Middle-dot variants seen in minority names (after NFKC: ． → ., ･ → ・, U+0387 → U+00B7).
DOT_VARIANTS = (
    "·•．.・‧∙⋅･﹒\u00b7\u0387\u2e31\u30fb\u2022\u2027\u2219\u22c5\uff0e\uff65\u16eb\u318d"
)
_DOT_TABLE = {ord(c): DOT for c in DOT_VARIANTS}


# Unicode category Cf (format characters) as ranges (Unicode 14, Python 3.11's tables;
# tests/test_text.py checks it against unicodedata), plus NUL.
_INVISIBLE_CLASS = (
    "\x00\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CLASS}]")


def _class_chars(cls: str) -> list[str]:
    """Every character of a regex class body made of single characters and ``a-b`` ranges."""
    out, i = [], 0
    while i < len(cls):
        if i + 2 < len(cls) and cls[i + 1] == "-":
            out += [chr(c) for c in range(ord(cls[i]), ord(cls[i + 2]) + 1)]
            i += 3
        else:
            out.append(cls[i])
            i += 1
    return out


def _utf8_class_re(chars: list[str]) -> re.Pattern[bytes]:
    """A bytes pattern matching the UTF-8 encoding of any of ``chars`` (grouped by all but
    the last byte, so a scan tries a few alternatives where a lead byte matches)."""
    groups: dict[bytes, set[int]] = {}
    for c in chars:
        b = c.encode("utf-8")
        groups.setdefault(b[:-1], set()).add(b[-1])
    alts = [
        re.escape(prefix) + b"[" + b"".join(re.escape(bytes([x])) for x in sorted(last)) + b"]"
        for prefix, last in sorted(groups.items())
    ]
    return re.compile(b"|".join(alts))


# INVISIBLE_RE on UTF-8 bytes: one byte pass instead of a search of the decoded text
# (several times faster on text full of full-width digits and CJK).
INVISIBLE_UTF8_RE = _utf8_class_re(_class_chars(_INVISIBLE_CLASS))
_BLANKS_RE = re.compile(f"[\\s{_INVISIBLE_CLASS}]+")


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    try:
        if v != v:  # pandas.NA and friends
            return None
    except TypeError:
        return None
    return v if type(v) is str else str(v)


def strip_invisible(v: Any) -> str | None:
    """The cell without Cf characters or NUL bytes; None for a missing value."""
    s = _text(v)
    if s is None:
        return None
    return INVISIBLE_RE.sub("", s) if not s.isprintable() or "\u00ad" in s else s


def fold_text(v: Any) -> str | None:
    """NFKC, then every space and invisible character removed; None when nothing is left."""
    s = _text(v)
    if s is None:
        return None
    return _BLANKS_RE.sub("", unicodedata.normalize("NFKC", s)) or None


def fold_id(v: Any) -> str | None:
    """An ID number as compared: folded text, no leading apostrophe, uppercase ``X``."""
    s = fold_text(v)
    return (s.lstrip("'").upper() or None) if s else None


def fold_name(v: Any) -> str | None:
    """A name as compared: folded text with the middle-dot variants unified to ``·``."""
    s = fold_text(v)
    return s.translate(_DOT_TABLE) if s else None


def fold_header(v: Any) -> str:
    """A header cell as compared ('' for an empty one)."""
    return fold_text(v) or ""
