"""Township stage wall time with 1 and 2 workers, and the per-notebook overhead (kernel start).

    .venv/bin/python benchmarks/bench_notebooks.py --build build/bench --people 50000

Generates the demo under ``<build>/data`` if absent, runs the district stage once
(``notebooks=False``), then times the township stage (every ``20_township`` notebook,
plus the bulletins with ``--bulletins``) with 1 and 2 workers, and a trivial one-cell
notebook run ``--repeat`` times (papermill in-process: kernel start + stop).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from canbao.core.config import load_config
from canbao.core.context import find_periods, period_context
from canbao.run.notebooks import NotebookTask, execute_task, run_tasks
from canbao.run.orchestrate import run_request
from canbao.run.request import RunRequest
from canbao.run.tasks import township_list, township_tasks


def trivial_overhead(repeat: int) -> list[float]:
    """Seconds per execution of a notebook with one parameters cell and ``pass``."""
    with tempfile.TemporaryDirectory(prefix="canbao-bench-") as tmp:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell("pass")]
        nb.metadata["kernelspec"] = {
            "name": "canbao",
            "display_name": "canbao",
            "language": "python",
        }
        src = Path(tmp) / "trivial.ipynb"
        nbformat.write(nb, str(src))
        times = []
        for i in range(repeat):
            task = NotebookTask(
                "bench",
                f"trivial {i}",
                src,
                Path(tmp) / f"out{i}.ipynb",
                Path(tmp),
                {"x": i},
                "trivial",
            )
            start = time.perf_counter()
            res = execute_task(task)
            times.append(time.perf_counter() - start)
            assert res.ok, res.describe()
        return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build/bench")
    p.add_argument("--district", default="430302")
    p.add_argument("--people", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--bulletins", action="store_true", help="time the bulletins too")
    p.add_argument("--reuse", action="store_true", help="keep an existing district stage output")
    a = p.parse_args(argv)
    build = Path(a.build).resolve()
    raw, params, reports = build / "data" / "raw", build / "params", build / "reports"
    params.mkdir(parents=True, exist_ok=True)
    district_dir = raw / a.district
    result: dict[str, object] = {"people": a.people}
    if not district_dir.exists():
        from canbao.demo import generate

        generate(
            district_code=a.district,
            people=a.people,
            seed=a.seed,
            raw_root=raw,
            truth_root=build / "data" / "truth",
            periods=1,
        )
    period_dir = find_periods(district_dir)[0]
    cfg = load_config(a.district, params)
    ctx = period_context(period_dir, reports, a.district)
    if not (a.reuse and (ctx.exports_dir / "registry.csv").exists()):
        req = RunRequest(district_dir, reports, params, notebooks=False, progress=False)
        start = time.perf_counter()
        code, outcomes = run_request(req)
        result["district_stage_s"] = None if outcomes[0].skipped else time.perf_counter() - start
        if code != 0:
            print(json.dumps(result), file=sys.stderr)
            return code
    towns = township_list(cfg, ctx)
    nb_req = RunRequest(district_dir, reports, params, progress=False)
    tasks = [
        t for t in township_tasks(nb_req, ctx, cfg, towns) if a.bulletins or t.kind == "township"
    ]
    result["townships"] = len(towns)
    result["notebooks"] = len(tasks)
    for workers in (1, 2):
        start = time.perf_counter()
        res = run_tasks(tasks, workers, progress=False)
        result[f"township_stage_{workers}_workers_s"] = round(time.perf_counter() - start, 2)
        result[f"failures_{workers}_workers"] = [r.describe() for r in res if not r.ok]
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr, flush=True)
    times = trivial_overhead(a.repeat)
    result["trivial_notebook_s"] = [round(t, 2) for t in times]
    result["trivial_notebook_median_s"] = round(statistics.median(times), 2)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
