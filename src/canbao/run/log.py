"""The period's ``run.log``: library warnings and log records go there, not to the console.

Why: Splink's EM notes (``Level … not observed``), Python warnings and the kernels'
own lines are useful to a maintainer and noise to a statistician. During a period
the root logger writes to the log file and ``warnings`` are captured into it; the
console keeps the one-line news. In a kernel (a notebook run by ``canbao run`` or in
JupyterLab) :func:`route_to_process_stderr` sends them to the process's real stderr,
which the run points at the same file.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

_FORMAT = "%(levelname)s %(name)s: %(message)s"


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


def route_to_process_stderr() -> None:
    """In a kernel: warnings and log records to the process stderr, not the notebook.

    ``canbao run`` points a kernel's stderr at the period's ``run.log``; in JupyterLab
    it is the server's console. Idempotent.
    """
    root = logging.getLogger()
    if not any(getattr(h, "_canbao_stderr", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._canbao_stderr = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    _quiet_splink()
    logging.captureWarnings(True)
