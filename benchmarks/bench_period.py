"""One period through ``canbao run`` with notebooks: wall, CPU and peak memory per stage and in all.

    .venv/bin/python benchmarks/bench_period.py --people 100000 1000000 \
        [--budget 2GiB duckdb-default] [--cache /tmp/canbao-bench] [--workers 2] [--src DIR]

For each size the demo district (one period) is generated once and cached under
``--cache``; each budget then runs the period from scratch (a fresh output folder) as
a subprocess, the way a statistician runs it. Printed per run:

* per stage of the district stage (from the manifest's stage records): wall, CPU,
  peak RSS of the kernel during the stage, key counts;
* per phase (the district notebook; then townships and bulletins): wall, and the
  largest process and the sum over the process tree, polled every 0.2 s (psutil);
* in all: wall, CPU of every process (``wait4``'s rusage, children included) and the
  maximum RSS of any process: the largest of rusage's (the figure ``/usr/bin/time -v``
  prints), the stage records' peaks and the polled sizes (the stage records reset the
  kernel's peak mark, and with it its rusage figure).

``--budget`` values are ``engine.memory_limit`` params (``2GiB``, ``512MiB``…),
``duckdb-default`` (no limit set: DuckDB takes 80 % of the machine) or ``none`` (no
``engine`` section at all: for code from before the budget existed, with ``--src``
pointing at that code's ``src/``). After the runs, the outputs of every budget are
compared with the first's (``canbao verify``'s comparison: data files byte for byte,
stage timings left out).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = "430302"
SEED = 20261128
GiB = 2**30


@dataclass
class Phase:
    name: str
    start: float
    end: float = 0.0
    max_proc: int = 0  # largest single process RSS seen
    max_tree: int = 0  # largest sum over the process tree seen


@dataclass
class RunFigures:
    label: str
    out_root: Path
    period: str
    wall: float = 0.0
    cpu: float = 0.0
    max_rss: int = 0  # rusage: largest process of the tree
    exit_code: int = 0
    phases: list[Phase] = field(default_factory=list)
    biggest: str = ""


def generate(people: int, cache: Path) -> Path:
    """The cached demo district folder for ``people`` (generated on first use)."""
    raw = cache / f"{people}" / "raw"
    district = raw / DISTRICT
    if district.is_dir() and any(district.iterdir()):
        return district
    shutil.rmtree(cache / f"{people}", ignore_errors=True)
    print(f"== generating {people:,} people (once; cached in {cache / str(people)})", flush=True)
    cmd = [str(ROOT / ".venv/bin/canbao"), "demo", "--district", DISTRICT, "--people", str(people)]
    cmd += ["--periods", "1", "--seed", str(SEED), "--raw", str(raw)]
    cmd += ["--truth", str(cache / f"{people}" / "truth")]
    subprocess.run(cmd, check=True)
    return district


def write_params(folder: Path, budget: str) -> Path:
    """The demo's params with ``engine.memory_limit`` set for this budget."""
    folder.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((ROOT / "params" / f"{DISTRICT}.yaml").read_text(encoding="utf-8"))
    params.pop("engine", None)
    if budget != "none":
        limit = "" if budget == "duckdb-default" else budget
        params.setdefault("engine", {})["memory_limit"] = limit
    text = yaml.safe_dump(params, allow_unicode=True, sort_keys=False)
    (folder / f"{DISTRICT}.yaml").write_text(text, encoding="utf-8")
    return folder


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def _name(p: psutil.Process) -> str:
    try:
        cmd = p.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "?"
    text = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd[:4]))
    return "kernel" if "ipykernel" in text else text[:60]


def run_once(
    district: Path, budget: str, work: Path, src: Path | None, workers: int, notebooks: bool = True
) -> RunFigures:
    """``canbao run`` of the district's one period under ``budget``, measured."""
    out_root = work / f"reports-{budget}"
    shutil.rmtree(out_root, ignore_errors=True)
    params = write_params(work / f"params-{budget}", budget)
    period = sorted(p.name for p in district.iterdir() if p.is_dir())[-1]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [str(ROOT / ".venv/bin/canbao"), "run", str(district), "--out", str(out_root)]
    cmd += ["--params", str(params), "--period", period, "--force", "--workers", str(workers)]
    if not notebooks:
        cmd.append("--no-notebooks")
    figs = RunFigures(budget, out_root, period)
    district_html = out_root / DISTRICT / period / "html" / "10_district.html"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    root = psutil.Process(proc.pid)
    phase = Phase("district notebook", t0)
    figs.phases.append(phase)
    biggest = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        procs = _tree(root)
        sizes = [(_rss(p), p) for p in procs]
        total = sum(s for s, _ in sizes)
        top, top_proc = max(sizes, key=lambda x: x[0], default=(0, None))
        phase.max_proc = max(phase.max_proc, top)
        phase.max_tree = max(phase.max_tree, total)
        if top > biggest and top_proc is not None:
            biggest, figs.biggest = top, _name(top_proc)
        if phase.name.startswith("district") and district_html.exists():
            phase.end = time.perf_counter()
            phase = Phase("townships + bulletins", phase.end)
            figs.phases.append(phase)
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    phase.end = time.perf_counter()
    figs.wall = phase.end - t0
    figs.cpu = usage.ru_utime + usage.ru_stime
    figs.max_rss = usage.ru_maxrss * 1024
    figs.exit_code = proc.returncode
    return figs


def _gib(n: int) -> str:
    return f"{n / GiB:.2f} GiB"


def print_run(people: int, figs: RunFigures) -> None:
    from canbao.run import manifest as mf

    head = f"-- {people:,} people, budget {figs.label}: exit {figs.exit_code}"
    print(head, flush=True)
    m = mf.read_manifest(figs.out_root / DISTRICT / figs.period) or {}
    stages = m.get("stages") or []
    if stages:
        print(f"   {'stage':15s} {'wall s':>8s} {'CPU s':>8s} {'peak RSS':>10s}  counts")
        for s in stages:
            counts = ", ".join(f"{k} {v:,}" for k, v in s["counts"].items())
            print(
                f"   {s['stage']:15s} {s['wall_s']:8.1f} {s['cpu_s']:8.1f} "
                f"{_gib(s['peak_rss']):>10s}  {counts}"
            )
        wall = sum(s["wall_s"] for s in stages)
        cpu = sum(s["cpu_s"] for s in stages)
        print(f"   {'district stage':15s} {wall:8.1f} {cpu:8.1f}")
    else:
        print("   (no stage records in the manifest: code from before they existed)")
    for ph in figs.phases:
        print(
            f"   phase {ph.name:22s} {ph.end - ph.start:8.1f} s wall, largest process "
            f"{_gib(ph.max_proc)}, process tree {_gib(ph.max_tree)}"
        )
    # The stage records reset the kernel's peak mark (clear_refs), which resets its
    # ru_maxrss too: the largest of rusage, the stage peaks and the polled sizes is the figure.
    stage_peak = max((int(s["peak_rss"]) for s in stages), default=0)
    polled = max((ph.max_proc for ph in figs.phases), default=0)
    peak = max(figs.max_rss, stage_peak, polled)
    print(
        f"   in all: {figs.wall:.1f} s wall, {figs.cpu:.1f} s CPU, max RSS of any process "
        f"{_gib(peak)} (rusage {_gib(figs.max_rss)}, district stage {_gib(stage_peak)}, "
        f"polled {_gib(polled)}; largest seen: {figs.biggest})",
        flush=True,
    )


def compare(first: RunFigures, other: RunFigures) -> str:
    """verify's comparison of two runs' recorded outputs."""
    from canbao.run import manifest as mf
    from canbao.run.verify import compare_file

    a = first.out_root / DISTRICT / first.period
    b = other.out_root / DISTRICT / other.period
    files = sorted(
        {o["file"] for o in mf.describe_outputs(a)} | {o["file"] for o in mf.describe_outputs(b)}
    )
    bad = [c for c in (compare_file(f, a / f, b / f) for f in files) if c.status != "identical"]
    if not bad:
        return f"outputs of {other.label} identical to {first.label}: {len(files)} files"
    listed = "; ".join(f"{c.file} ({c.detail})" for c in bad[:5])
    return f"outputs of {other.label} DIFFER from {first.label} in {len(bad)} files: {listed}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[100_000])
    ap.add_argument("--budget", nargs="+", default=["2GiB", "duckdb-default"])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/canbao-bench"))
    ap.add_argument("--raw", type=Path, help="use this district folder instead (one size)")
    ap.add_argument("--work", type=Path, help="output folder (default: <cache>/runs)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--src", type=Path, help="run the code in this src/ (PYTHONPATH)")
    ap.add_argument(
        "--no-notebooks", action="store_true", help="district stage only (in the main process)"
    )
    args = ap.parse_args()

    work = args.work or args.cache / "runs"
    print(
        f"machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / GiB:.0f} GiB; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for people in args.people:
        district = args.raw or generate(people, args.cache)
        runs = []
        for budget in args.budget:
            figs = run_once(
                district, budget, work / str(people), args.src, args.workers, not args.no_notebooks
            )
            print_run(people, figs)
            runs.append(figs)
        for other in runs[1:]:
            print("   " + compare(runs[0], other), flush=True)
        print(f"load average now {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
