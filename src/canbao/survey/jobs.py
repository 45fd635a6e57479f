"""Stage 9's workbooks as independent jobs, written in this process or in worker processes.

Every roster, 登记表, 汇总, 台账 and 清理清单 depends only on its own rows and meta, so
the stage first reads what it needs from the registry (one query per kind, in this
process: the registry stays single-user) and then hands each workbook to a job. A
job writes the same bytes whichever process runs it, so a run with workers gives
files byte-identical to one without.

At 100,000 people the stage writes about 250 workbooks and nearly all of its time
is openpyxl building and saving them; two processes halve the wall time. Workers
are started with ``spawn``: the stage runs inside a Jupyter kernel holding DuckDB's
threads, which ``fork`` must not copy. Starting one costs about a second (imports),
so a small batch is written here, serially.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

# Rows (people, tasks, cleanup records) from which worker processes pay for their start.
PARALLEL_FROM = 3000


@dataclass(frozen=True)
class Job:
    """One workbook: ``write(*args)`` at module level (picklable), ``rows`` its size."""

    write: Callable[..., object]
    args: tuple[Any, ...]
    rows: int


def worker_count(configured: int, rows: int, asked: int | None = None) -> int:
    """Processes for a batch of ``rows``: ``asked`` if given, else 1 below
    :data:`PARALLEL_FROM` rows and the configured workers (``Config.worker_count``) above."""
    if asked is not None:
        return max(asked, 1)
    return configured if rows >= PARALLEL_FROM else 1


def run_jobs(jobs: Sequence[Job], workers: int) -> int:
    """Write every job's workbook; returns how many. The first failure is raised.

    With workers, the biggest go first so that no process is left with a long one
    at the end; the order changes nothing in any file.
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            job.write(*job.args)
        return len(jobs)
    ordered = sorted(jobs, key=lambda j: -j.rows)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=spawn) as pool:
        futures = [pool.submit(job.write, *job.args) for job in ordered]
        try:
            for fut in futures:
                fut.result()
        except BaseException:
            for fut in futures:  # what has not started never will
                fut.cancel()
            raise
    return len(jobs)
