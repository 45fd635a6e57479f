"""Start many kernels in parallel through the run's own code path; print the failure count.

    .venv/bin/python benchmarks/kernel_stress.py --kernels 200            # params' workers
    .venv/bin/python benchmarks/kernel_stress.py --kernels 200 --workers 4

Each task is a one-cell notebook executed by ``canbao.run.notebooks.run_tasks`` (the
same pool, papermill call, private-IPC kernel manager and start retry as a township
notebook). Before IPC, one start in about 80 failed with ``Address already in use``
(papermill #511). Prints one JSON object; the goal is ``"failures": 0``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from canbao.core.config import load_config
from canbao.run.notebooks import NotebookTask, run_tasks


def stress_tasks(tmp: Path, kernels: int) -> list[NotebookTask]:
    """``kernels`` tasks on one notebook that proves its kernel ran a cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "canbao", "language": "python", "display_name": "canbao"}
    params = nbformat.v4.new_code_cell("n = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("assert n >= 0\nprint(n)")]
    src = tmp / "stress.ipynb"
    nbformat.write(nb, str(src))
    return [
        NotebookTask(
            kind="stress",
            label=f"k{i:04d}",
            input_path=src,
            output_path=tmp / "out" / f"stress_{i:04d}.ipynb",
            out_dir=tmp / "out",
            parameters={"n": i},
            title="stress",
            log_path=tmp / "out" / "run.log",
        )
        for i in range(kernels)
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None, help="default: params/<district>.yaml")
    ap.add_argument("--district", default="430302", help="whose params give the parallelism")
    ap.add_argument("--params", default="params")
    a = ap.parse_args()
    workers = a.workers or load_config(a.district, Path(a.params)).worker_count
    with tempfile.TemporaryDirectory(prefix="canbao-stress-") as tmp:
        tasks = stress_tasks(Path(tmp), a.kernels)
        start = time.perf_counter()
        results = run_tasks(tasks, workers, progress=False)
        wall = time.perf_counter() - start
        log = Path(tmp) / "out" / "run.log"
        log_text = log.read_text(encoding="utf-8") if log.exists() else ""
    failed = [r for r in results if not r.ok]
    print(
        json.dumps(
            {
                "kernels": len(results),
                "workers": workers,
                "failures": len(failed),
                "start_retries": log_text.count("retrying"),
                "wall_seconds": round(wall, 1),
                "first_failures": [r.describe() for r in failed[:5]],
            },
            ensure_ascii=False,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
