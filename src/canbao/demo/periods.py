"""Half-monthly extract dates (the 15th and the last day of each month)."""

from __future__ import annotations

import calendar
import datetime as dt

LAST_PERIOD = dt.date(2026, 11, 15)


def _previous(d: dt.date) -> dt.date:
    if d.day > 15:
        return d.replace(day=15)
    first = d.replace(day=1) - dt.timedelta(days=1)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _latest_on_or_before(d: dt.date) -> dt.date:
    last = calendar.monthrange(d.year, d.month)[1]
    if d.day == last:
        return d
    if d.day >= 15:
        return d.replace(day=15)
    return _previous(d.replace(day=15))


def period_dates(periods: int, last: dt.date = LAST_PERIOD) -> list[dt.date]:
    """The ``periods`` half-monthly dates ending at the latest one on or before ``last``, oldest first."""
    if periods < 1:
        raise ValueError("periods must be at least 1")
    out = [_latest_on_or_before(last)]
    while len(out) < periods:
        out.append(_previous(out[-1]))
    return out[::-1]
