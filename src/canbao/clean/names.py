"""Names: folding (normalisation, not a mismatch), 繁→简, and a 同音字 pinyin key.

Why: contract §7 says spaces, full-width forms and middle-dot variants are folded before
comparing; a 繁体 character or a 同音字 is still NAME_MISMATCH, but linkage needs
``name_simp`` and ``name_pinyin`` to find the person despite it. OpenCC and pypinyin
are slow per call, so ``name_keys`` works on distinct names with per-character fast paths
that give exactly what ``to_simplified``/``pinyin_key`` give.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from canbao.core import text
from canbao.core.text import _DOT_TABLE, DOT, DOT_VARIANTS  # noqa: F401 (re-exported)

# Only CJK Unified Ideographs (NFKC-stable, no spaces or dots): nothing to fold.
_PLAIN_RE = re.compile("[\u4e00-\u9fff]+")


def fold_name(raw: str | None) -> str | None:
    """The one name folding (:func:`canbao.core.text.fold_name`), with a fast path."""
    if type(raw) is str and _PLAIN_RE.fullmatch(raw):
        return raw
    return text.fold_name(raw)


@cache
def _t2s():
    import opencc

    cc = opencc.OpenCC("t2s")
    cc.convert("")  # load dictionaries
    return cc


@cache
def _t2s_chars() -> frozenset[str]:
    """Characters that can make t2s change a name; a name without any is returned unchanged.

    A character that t2s changes on its own, plus every character of a dictionary phrase
    made only of unchanged characters that still converts differently (``么麼`` → ``幺麽``).
    Any other phrase match leaves the text as it is.
    """
    cc = _t2s()
    entries = [
        (k, str(v).split()[0] if str(v).split() else "")
        for group in cc._dict_chain_data
        for entry in group
        for k, v in entry[2].items()
    ]
    changing = {k for k, v in entries if len(k) == 1 and v != k}
    for k, v in entries:
        if len(k) > 1 and v != k and changing.isdisjoint(k):
            changing.update(k)
    return frozenset(changing)


def to_simplified(name: str) -> str:
    """繁体 → 简体 with OpenCC t2s (張偉 → 张伟)."""
    if not name:
        return name
    if _t2s_chars().isdisjoint(name):
        return name
    return _t2s().convert(name)


@cache
def _phrases() -> dict:
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


@cache
def _char_pinyin(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(ch, style=Style.NORMAL))


@cache
def _phrase_bigrams() -> frozenset[str]:
    return frozenset(p[:2] for p in _phrases() if len(p) >= 2)


def _has_phrase(s: str) -> bool:
    """True if a pypinyin dictionary phrase occurs in ``s`` (then segmentation matters)."""
    bigrams = _phrase_bigrams()
    n = len(s)
    if n == 3:  # most names: the two bigrams without a generator
        if s[:2] not in bigrams and s[1:] not in bigrams:
            return False
    elif not any(s[i : i + 2] in bigrams for i in range(n - 1)):
        return False
    phrases = _phrases()
    return any(s[i:j] in phrases for i in range(n) for j in range(i + 2, n + 1))


_PY_TABLE: dict[int, str] = {}  # ord(char) -> its lazy_pinyin reading; a cache, filled on demand


def _ensure_table(chars: set[str]) -> dict[int, str]:
    for ch in chars:
        if ord(ch) not in _PY_TABLE:
            _PY_TABLE[ord(ch)] = _char_pinyin(ch)
    return _PY_TABLE


def _pinyin(s: str) -> str:
    if _has_phrase(s):
        from pypinyin import Style, lazy_pinyin

        return "".join(lazy_pinyin(s, style=Style.NORMAL))
    # No dictionary phrase inside: lazy_pinyin converts character by character.
    return s.translate(_PY_TABLE)


def _key(orig: str, simp: str) -> str:
    """Pinyin key from the dot-free folded name and its simplified form (table already filled)."""
    out = _pinyin(simp)
    if not out.isascii() and len(simp) == len(orig) and simp != orig:
        out = "".join(
            _PY_TABLE[ord(o)] if not _PY_TABLE[ord(c)].isascii() else _PY_TABLE[ord(c)]
            for c, o in zip(simp, orig, strict=True)
        )
    return out.lower()


def _undot(name: str) -> str:
    return name if _PLAIN_RE.fullmatch(name) else name.translate(_DOT_TABLE).replace(DOT, "")


def pinyin_key(name: str) -> str:
    """Toneless pinyin of the simplified name, no separators, dot dropped, lowercase (张伟/章伟 → zhangwei).

    A character that OpenCC turns into a rare simplified form without a reading (顅 → 𫖶)
    keeps the reading of the original character.
    """
    if not name:
        return ""
    orig = _undot(name)
    simp = to_simplified(orig)
    _ensure_table(set(orig) | set(simp))
    return _key(orig, simp)


def name_keys(values: pd.Series) -> pd.DataFrame:
    """Columns ``name`` (folded), ``name_simp``, ``name_pinyin`` per distinct raw name, mapped back.

    All three have pandas' default ``str`` dtype (missing = NaN); index of ``values``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = [fold_name(v) for v in uniques.tolist()]
    simp = [None if f is None else to_simplified(f) for f in folded]
    present = [(f, s) for f, s in zip(folded, simp, strict=True) if f is not None]
    undotted = [_undot(f) for f, _ in present]
    # Most names hold no dot: their simplified form is already known.
    simp_undotted = [
        s if u == f else to_simplified(u) for u, (f, s) in zip(undotted, present, strict=True)
    ]
    _ensure_table(set().union(*undotted, *simp_undotted))
    keys = iter([_key(u, su) for u, su in zip(undotted, simp_undotted, strict=True)])
    pin = [None if f is None else next(keys) for f in folded]
    table = pd.DataFrame(
        {"name": folded + [None], "name_simp": simp + [None], "name_pinyin": pin + [None]},
        dtype=object,
    )
    take = np.where(codes < 0, len(uniques), codes)
    return pd.DataFrame(
        {
            col: pd.Series(table[col].to_numpy()[take], index=values.index, dtype="str")
            for col in table.columns
        },
        index=values.index,
    )
