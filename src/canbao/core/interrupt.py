"""Ctrl+C, remembered: DuckDB turns it into its own error in the middle of a query.

A query running when the user presses Ctrl+C ends with DuckDB's ``Query interrupted``
error, not ``KeyboardInterrupt``, and a period's error handler would record it as a
failed period. The command line installs :func:`install`; code that catches broad
errors asks :func:`seen` and lets the interruption through.
"""

from __future__ import annotations

import signal
from types import FrameType

_seen = False


def _handler(signum: int, frame: FrameType | None) -> None:
    global _seen
    _seen = True
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt as before


def install() -> None:
    """Remember Ctrl+C from now on (only where Python's own handler is in place)."""
    global _seen
    _seen = False
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)


def seen() -> bool:
    """Whether Ctrl+C was pressed since :func:`install`."""
    return _seen
