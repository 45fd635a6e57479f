"""Shared by the benchmark scripts: peak resident memory of this process (incl. DuckDB)."""

from __future__ import annotations

import threading

import psutil


class PeakRSS:
    """Samples this process's RSS every 50 ms in a thread; ``peak`` in bytes.

    ``resource.ru_maxrss`` would also count memory used before the measured block.
    """

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
