"""Dates as they arrive in Chinese extracts and returned rosters: Excel serials, 19900101,
1990-1-1, 1990年1月1日, 1990年1月1号, ….

Why: one parser for every date in the project, so 出生日期, 参保日期, 状态变更日期 and a
roster's 采集日期 agree on what is a real date and on one Excel serial range. Anything that
is not a real calendar date is None (never guessed).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from canbao.core import text

EXCEL_MIN, EXCEL_MAX = 1, 80000  # plausible 1900-system serials (1900-01-01 … 2119-01-10)
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01 (Excel's fake 1900-02-29 is 60)
_TIME = r"(?:[T\s]*\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2}(?:\.\d+)?秒?)?)?"  # dropped
_YMD_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?" + _TIME)
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\.0*)?" + _TIME)
_MONTH_DAY_RE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME)
_SERIAL_RE = re.compile(r"\d{1,5}(?:\.\d*)?")


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _bare_year(v: float) -> bool:
    """1800–2199 as a whole number is a year typed alone (serials 1800–2199 are 1904–1906 dates)."""
    return v.is_integer() and 1800 <= v <= 2199


def excel_serial_to_date(serial: float) -> date | None:
    """1900-system serial → date (fraction = time of day, dropped); None outside 1–80000 or for 60."""
    if not (EXCEL_MIN <= serial < EXCEL_MAX + 1):
        return None
    whole = int(serial)
    if whole == 60:  # 1900-02-29 does not exist
        return None
    if whole < 60:
        return date(1899, 12, 31) + timedelta(days=whole)
    return _EXCEL_EPOCH + timedelta(days=whole)


def _month_day(month: int, day: int, period: date) -> date | None:
    """3月5日 without a year: the latest such day not after ``period`` (a roster is filled in
    before its period closes, so 12月30日 read in a November period is last year's)."""
    try:
        this_year = date(period.year, month, day)
        return this_year if this_year <= period else this_year.replace(year=period.year - 1)
    except ValueError:  # 2月30日; 2月29日 in a year without it
        return None


def parse_date(raw: object, period: date | None = None) -> date | None:
    """One raw value → ``datetime.date`` or None.

    Accepts date/datetime/Timestamp/datetime64 objects; Excel 1900-system serials (number
    or numeric string, 1–80000, fraction ignored) except a bare year 1800–2199; 8-digit
    ``19900101`` (number or string); ``1990-1-1``, ``1990/01/01``, ``1990.01.01``,
    ``1990年1月1日``, ``1990年1月1号``; any of the text forms with a time after it; full-width
    digits. With ``period``, also a month and day without a year (``3月5日``, ``3月5号``):
    the latest such day not after ``period``. Not a real date → None.
    """
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return None
    if isinstance(raw, datetime):  # includes pd.Timestamp
        return None if pd.isna(raw) else raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, np.datetime64):
        return None if np.isnat(raw) else pd.Timestamp(raw).date()
    if isinstance(raw, bool | np.bool_):
        return None
    if isinstance(raw, int | float | np.integer | np.floating):
        v = float(raw)
        if v != v:
            return None
        if v.is_integer() and 10_000_101 <= v <= 99_991_231:
            m = _COMPACT_RE.fullmatch(str(int(v)))
            return _ymd(int(m[1]), int(m[2]), int(m[3])) if m else None
        return None if _bare_year(v) else excel_serial_to_date(v)
    s = text.strip_invisible(unicodedata.normalize("NFKC", str(raw))).strip().lstrip("'")
    if not s:
        return None
    if m := _COMPACT_RE.fullmatch(s):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := _YMD_RE.fullmatch(s):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if _SERIAL_RE.fullmatch(s):
        v = float(s)
        return None if _bare_year(v) else excel_serial_to_date(v)
    if period is not None and (m := _MONTH_DAY_RE.fullmatch(s)):
        return _month_day(int(m[1]), int(m[2]), period)
    return None


def parse_dates(values: pd.Series) -> pd.Series:
    """``parse_date`` per distinct value, mapped back.

    Returns an object-dtype Series of ``datetime.date`` or None (DuckDB reads it as DATE),
    with the index of ``values``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = np.empty(len(uniques) + 1, dtype=object)
    parsed[:-1] = [parse_date(v) for v in uniques]
    parsed[-1] = None
    return pd.Series(
        parsed[np.where(codes < 0, len(uniques), codes)], index=values.index, dtype=object
    )
