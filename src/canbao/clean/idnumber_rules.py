"""公民身份号码 (GB 11643-1999), one value at a time: folding, the MOD 11-2 check, the
15→18 upgrade, birth date and sex, and :func:`validate_id` with its reasons.

Why: every stage keys on the canonical 18-character ID. Folding (spaces, full-width,
apostrophe, lowercase x) is normalisation, not a fault (contract §7); anything else is
reported with a reason, and an Excel-mangled number is reported as ``precision_lost``,
never guessed. :mod:`canbao.clean.idnumber` applies the same rules to whole columns.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np
import pandas as pd

from canbao.core import text
from canbao.core.refdata import is_known_region_prefix

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
MIN_YEAR = 1880
STATUSES = ("valid", "upgraded", "invalid", "precision_lost", "missing")
REASONS = ("length", "characters", "date", "region", "check")

# Characters removed anywhere: whitespace is handled by str.isspace(); these are not spaces to Python.
_APOSTROPHES = "'`\u2018\u2019\u2032"
ID18_RE = re.compile(r"[0-9]{17}[0-9X]")
ID15_RE = re.compile(r"[0-9]{15}")
_ID_CHARS_RE = re.compile(r"[0-9X]+")
# Float evidence: 4.30302199E+17, 4.30302199001011e+17, 430302199001011000.0
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+|[0-9]+\.[0-9]*")


class IdResult(NamedTuple):
    id_number: str | None
    status: str
    reason: str | None
    candidate: str | None


def _is_na(raw: object) -> bool:
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return True
    return isinstance(raw, float) and raw != raw


def _numeric_to_text(raw: object) -> str | None:
    """A number cell: exact when it is an integer below 2**53, otherwise float text."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int | np.integer):
        return str(int(raw))
    if isinstance(raw, float | np.floating):
        v = float(raw)
        if v.is_integer() and abs(v) < 2**53:
            return str(int(v))
        return repr(v)  # e.g. '4.30302199001011e+17' -> precision_lost
    return None


def fold_id(raw: str | None) -> str | None:
    """Strip; drop every kind of space, invisible marks and a leading apostrophe; NFKC; x → X."""
    if _is_na(raw):
        return None
    numeric = _numeric_to_text(raw)
    s = str(raw) if numeric is None else numeric
    s = (text.fold_text(s) or "").lstrip(_APOSTROPHES).replace("x", "X")
    return s or None


def check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a 17-digit body."""
    total = sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade15(id15: str) -> str:
    """15 → 18: insert the century (18 for 顺序码 996–999, else 19) and append the check char."""
    century = "18" if id15[12:15] in ("996", "997", "998", "999") else "19"
    body = id15[:6] + century + id15[6:15]
    return body + check_char(body)


def birth_from_id(id18: str) -> date | None:
    """The 出生日期 encoded in positions 7–14, or None if it is no real date."""
    try:
        return date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except (ValueError, TypeError):
        return None


def sex_from_id(id18: str) -> str:
    """GB/T 2261.1 sex from the 顺序码's last digit: odd → "1" 男, even → "2" 女."""
    return "1" if int(id18[16]) % 2 else "2"


def _precision_lost(s: str) -> bool:
    """True if the text is a float rendering of an ID-sized number (≥ 1e14)."""
    if not _FLOAT_RE.fullmatch(s):
        return False
    try:
        v = Decimal(s)
    except InvalidOperation:
        return False
    return abs(v) >= Decimal("1e14")


def _recover_15(s: str) -> str | None:
    """'110105491231002.0' is exact (15 digits < 2**53): return the digits, else None."""
    m = re.fullmatch(r"([0-9]{15})\.0*", s)
    return m.group(1) if m else None


def _date_ok(d: date | None, ref_date: date | None) -> bool:
    return d is not None and d.year >= MIN_YEAR and (ref_date is None or d <= ref_date)


def _validate_18(s: str, ref_date: date | None) -> IdResult:
    if not _date_ok(birth_from_id(s), ref_date):
        return IdResult(None, "invalid", "date", s)
    if not is_known_region_prefix(s[:6]):
        return IdResult(None, "invalid", "region", s)
    if check_char(s[:17]) != s[17]:
        return IdResult(None, "invalid", "check", s)
    return IdResult(s, "valid", None, None)


def validate_id(raw: str | None, ref_date: date | None = None) -> IdResult:
    """Classify one raw value: valid, upgraded (15→18), invalid (+reason), precision_lost, missing.

    ``candidate`` is the folded string of an invalid value that is 18 characters of
    digits/X, or the 15 digits of an invalid 15-digit value (the linkage stage repairs
    from it); None otherwise.
    """
    if isinstance(ref_date, datetime):
        ref_date = ref_date.date()
    s = fold_id(raw)
    if s is None:
        return IdResult(None, "missing", None, None)
    if _precision_lost(s):
        rec = _recover_15(s)
        if rec is None:
            return IdResult(None, "precision_lost", None, None)
        s = rec
    if len(s) == 18 and ID18_RE.fullmatch(s):
        return _validate_18(s, ref_date)
    if len(s) == 15 and ID15_RE.fullmatch(s):
        up = upgrade15(s)
        res = _validate_18(up, ref_date)
        if res.status == "valid":
            return IdResult(up, "upgraded", None, None)
        return IdResult(None, "invalid", res.reason, s)
    if not _ID_CHARS_RE.fullmatch(s):
        return IdResult(None, "invalid", "characters", None)
    if len(s) not in (15, 18):
        return IdResult(None, "invalid", "length", None)
    # Right length, only digits/X, but an X before the last place (or any X in 15).
    return IdResult(None, "invalid", "characters", s if len(s) == 18 else None)
