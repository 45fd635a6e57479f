"""Executing notebooks: papermill on a ``canbao`` kernel, the start retry, strip, render.

A notebook task is self-contained and picklable, so the same code runs it inline or
in a worker process (``run_tasks``). A failure is a ``TaskResult``, never an
exception: one township that fails must not stop the others. A kernel that dies
before its first cell (a lost port race on a busy machine) is started again; a
failure inside a cell is the notebook's own and is never retried. The executed
notebook is stripped of what differs between runs, so its bytes are reproducible.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canbao.core import messages

KERNEL_NAME = "canbao"
# A kernel that dies before its first cell is started again this many times in all.
START_ATTEMPTS = 3


@dataclass(frozen=True)
class NotebookTask:
    """One notebook to execute, strip and render (picklable for worker processes)."""

    kind: str  # district | township | bulletin
    label: str  # what the progress bar and the summary call it
    input_path: Path
    output_path: Path
    out_dir: Path
    parameters: dict[str, Any]
    title: str
    html_path: Path | None = None
    pdf_path: Path | None = None
    kernel_name: str = KERNEL_NAME
    log_path: Path | None = None  # the period's run.log: kernel output and tracebacks


@dataclass(frozen=True)
class TaskResult:
    """How one notebook went; ``cell``/``error`` say where and why it failed."""

    kind: str
    label: str
    ok: bool
    seconds: float
    cell: int | None = None
    source: str | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """``乡镇 易俗河镇 (430321100)：失败，第 3 个单元格 `x = 1`：ValueError: … [task_failed]``."""
        kind = (
            messages.text(f"task_kind_{self.kind}")
            if messages.known(f"task_kind_{self.kind}")
            else self.kind
        )
        if self.ok:
            return messages.line("task_ok", kind=kind, label=self.label)
        where = (
            messages.text("task_cell", cell=self.cell)
            if self.cell is not None
            else messages.text("task_outside_cells")
        )
        src = (self.source or "").strip().splitlines()
        first = f" `{src[0][:80]}`" if src else ""
        return messages.line(
            "task_failed", kind=kind, label=self.label, where=where + first, error=self.error
        )


def strip_volatile(nb_path: Path, out_dir: Path) -> None:
    """Make an executed notebook byte-identical across runs.

    Two papermill runs differ only in start/end/duration, execution timestamps, the
    output path and the injected cell's random id. Drops papermill/nbclient timings, renumbers cell ids and writes paths relative
    to the period's output folder.
    """
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    pm = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration"):
        pm.pop(key, None)
    if "input_path" in pm:
        pm["input_path"] = Path(str(pm["input_path"])).name
    if "output_path" in pm:
        pm["output_path"] = _relative(Path(str(pm["output_path"])), out_dir)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nbformat.write(nb, str(nb_path))


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), Path(base).resolve())).as_posix()
    except ValueError:
        return path.name


def _render(task: NotebookTask) -> tuple[str, ...]:
    """HTML (without code) of the executed notebook, and a PDF for bulletins, via canbao.report.render."""
    try:
        from canbao.report import render
    except ImportError:
        return ("html skipped: canbao.report.render not available",)
    if task.html_path is not None:
        task.html_path.parent.mkdir(parents=True, exist_ok=True)
        render.notebook_to_html(task.output_path, task.html_path, task.title)
        if task.pdf_path is not None:
            task.pdf_path.parent.mkdir(parents=True, exist_ok=True)
            render.html_to_pdf(task.html_path, task.pdf_path)
    return ()


def execute_task(task: NotebookTask) -> TaskResult:
    """Execute one notebook with papermill (kernel ``canbao``), strip it, render it.

    A kernel that dies before running any cell is started again (up to
    ``START_ATTEMPTS`` times); a failure inside a cell is never retried.
    """
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    task.output_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, START_ATTEMPTS + 1):
        task.output_path.unlink(missing_ok=True)  # papermill writes it once the kernel starts
        try:
            _papermill(task)
            break
        except PapermillExecutionError as exc:
            _strip_if_written(task)
            _log_failure(task, f"{exc.ename}: {exc.evalue}", exc.traceback)
            return TaskResult(
                task.kind,
                task.label,
                False,
                time.perf_counter() - start,
                cell=exc.cell_index,
                source=exc.source,
                error=f"{exc.ename}: {exc.evalue}",
            )
        except Exception as exc:  # noqa: BLE001 - a kernel that dies must not stop the others
            error = f"{type(exc).__name__}: {exc}"
            if attempt < START_ATTEMPTS and _died_before_first_cell(task.output_path):
                _log_failure(task, f"kernel start {attempt} failed, retrying: {error}")
                continue
            _strip_if_written(task)
            _log_failure(task, error)
            return TaskResult(
                task.kind, task.label, False, time.perf_counter() - start, error=error
            )
    strip_volatile(task.output_path, task.out_dir)
    try:
        notes = _render(task)
    except Exception as exc:  # noqa: BLE001
        _log_failure(task, f"rendering failed: {type(exc).__name__}: {exc}")
        return TaskResult(
            task.kind,
            task.label,
            False,
            time.perf_counter() - start,
            error=f"rendering failed: {type(exc).__name__}: {exc}",
        )
    return TaskResult(task.kind, task.label, True, time.perf_counter() - start, notes=notes)


def _papermill(task: NotebookTask) -> None:
    """One papermill execution on a private-IPC kernel whose output goes to the run log."""
    import papermill as pm

    from canbao.run.kernels import kernel_manager_class

    pm.execute_notebook(
        str(task.input_path),
        str(task.output_path),
        parameters=task.parameters,
        kernel_name=task.kernel_name,
        cwd=str(task.output_path.parent),
        progress_bar=False,
        log_output=False,
        kernel_manager_class=kernel_manager_class(task.log_path),
    )


def _died_before_first_cell(nb_path: Path) -> bool:
    """Whether papermill started the notebook (wrote it) but stamped no cell as started.

    No output notebook means papermill stopped before starting a kernel (bad
    parameters): not a start to retry. (A cell's ``status`` is no guide: papermill
    marks pending cells completed at the end.)
    """
    import nbformat

    if not nb_path.exists():
        return False
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:  # noqa: BLE001 - half-written: the kernel never got going
        return True
    return all(
        c.get("metadata", {}).get("papermill", {}).get("start_time") is None for c in nb.cells
    )


def _log_failure(task: NotebookTask, error: str, traceback: list[str] | None = None) -> None:
    """Append a failure and its full traceback to the run log (the console gets one line)."""
    if task.log_path is None:
        return
    import re

    ansi = re.compile(r"\x1b\[[0-9;]*m")
    lines = [f"--- {task.kind} {task.label} ({task.output_path.name}): {error}"]
    lines += [ansi.sub("", t) for t in traceback or []]
    task.log_path.parent.mkdir(parents=True, exist_ok=True)
    with task.log_path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _strip_if_written(task: NotebookTask) -> None:
    if task.output_path.exists():
        with contextlib.suppress(Exception):  # keep the failure that matters
            strip_volatile(task.output_path, task.out_dir)


def expected_cost(task: NotebookTask) -> tuple[int, int]:
    """A sort key, costliest first: a bulletin (HTML and a PDF) before a township notebook
    (HTML only), and the district's bulletin, which covers every township, first of all."""
    district_wide = task.kind == "bulletin" and "township_code" in task.parameters
    district_wide = district_wide and not task.parameters["township_code"]
    return (0 if district_wide else 1, 0 if task.pdf_path is not None else 1)


def longest_first(tasks: list[NotebookTask]) -> list[NotebookTask]:
    """The tasks in the order the worker pool should take them: the costliest first.

    Two workers on ~25 notebooks: whatever starts last decides when the phase ends, so the
    short ones go last and the workers finish close together (ties keep the given order).
    """
    return sorted(tasks, key=expected_cost)


def run_tasks(
    tasks: list[NotebookTask], workers: int, *, progress: bool = True, desc: str = ""
) -> list[TaskResult]:
    """Run notebooks in ``workers`` processes; a failure is a result, never an exception."""
    from tqdm import tqdm

    results: list[TaskResult] = []
    bar = tqdm(total=len(tasks), desc=desc, unit="nb", disable=not progress, file=sys.stderr)

    def done(res: TaskResult) -> None:
        results.append(res)
        bar.set_postfix_str(f"{res.label} {'✓' if res.ok else '✗'}", refresh=False)
        bar.update(1)
        if not res.ok:
            bar.write(f"  ✗ {res.describe()}", file=sys.stderr)

    try:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                done(execute_task(task))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {pool.submit(execute_task, t): t for t in longest_first(tasks)}
                for fut in as_completed(futures):
                    t = futures[fut]
                    try:
                        done(fut.result())
                    except Exception as exc:  # noqa: BLE001 - a dead worker process
                        done(
                            TaskResult(
                                t.kind, t.label, False, 0.0, error=f"{type(exc).__name__}: {exc}"
                            )
                        )
    finally:
        bar.close()
    order = {(t.kind, t.label): i for i, t in enumerate(tasks)}
    return sorted(results, key=lambda r: order.get((r.kind, r.label), 0))
