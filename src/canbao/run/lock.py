"""The registry lock: one ``canbao run`` at a time per district's reports.

Every period of a district appends to one registry (``reports/<district>/registry.duckdb``);
two runs writing it at once would interleave periods. The lock is an ``flock`` on
``reports/<district>/run.lock`` holding the holder's pid, so a second run is refused
with that pid (``RegistryBusy``, exit 5) instead of waiting, and a crashed holder
leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from canbao.core.errors import RegistryBusy

LOCK_NAME = "run.lock"


@contextlib.contextmanager
def registry_lock(district_out: Path) -> Iterator[Path]:
    """Hold ``reports/<district>/run.lock`` for the whole run; a second run gets RegistryBusy.

    ``flock`` is released by the OS if the holder dies, so a crash leaves no stale lock.
    """
    district_out.mkdir(parents=True, exist_ok=True)
    path = district_out / LOCK_NAME
    fh = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "pid ?"
        fh.close()
        raise RegistryBusy("registry_busy", holder=holder, lock=path) from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        yield path
    finally:
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
