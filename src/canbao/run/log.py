"""The period's ``run.log``: library warnings and log records go there, not to the console.

Why: Splink's EM notes (``Level … not observed``), Python warnings and the kernels'
own lines are useful to a maintainer and noise to a statistician. During a period
the root logger writes to the log file and ``warnings`` are captured into it; the
console keeps the one-line news. In a kernel (a notebook run by ``canbao run`` or in
JupyterLab) :func:`route_library_logs` sends them to the same file, or to the
Jupyter server's console.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Set by the run in each kernel's environment: the period's run.log.
LOG_ENV = "CANBAO_RUN_LOG"


@contextlib.contextmanager
def period_log(path: Path) -> Iterator[Path]:
    """Send every log record (WARNING and up) and Python warning to ``path`` meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    console = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    for h in console:
        root.removeHandler(h)
    root.addHandler(handler)
    splink = _quiet_splink()
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()
        for h in console:
            root.addHandler(h)
        for h in splink:
            logging.getLogger("splink").addHandler(h)


def _quiet_splink() -> list[logging.Handler]:
    """Detach Splink's own console handler (it would print past the root logger)."""
    logger = logging.getLogger("splink")
    own = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    for h in own:
        logger.removeHandler(h)
    logger.propagate = True
    return own


def route_library_logs() -> None:
    """In a kernel: warnings and log records to the run log, never into the notebook.

    ``canbao run`` names the period's ``run.log`` in the kernel's environment
    (:data:`LOG_ENV`); in JupyterLab they go to the server's console (the stderr the
    kernel started with, before ipykernel captured it). Idempotent.
    """
    root = logging.getLogger()
    if not any(getattr(h, "_canbao_route", False) for h in root.handlers):
        target = os.environ.get(LOG_ENV)
        if target:
            handler: logging.Handler = logging.FileHandler(target, encoding="utf-8")
        else:
            handler = logging.StreamHandler(_console_stream())
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._canbao_route = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    _quiet_splink()
    logging.captureWarnings(True)


def _console_stream() -> TextIO:
    """The process's stderr as it was before ipykernel piped fd 2 into the notebook."""
    original = getattr(sys.stderr, "_original_stdstream_copy", None)
    if isinstance(original, int):
        return os.fdopen(os.dup(original), "w", buffering=1, encoding="utf-8")
    return sys.__stderr__ or sys.stderr
