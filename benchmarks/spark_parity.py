"""DuckDB and Spark give the same district: run the demo's periods once with
``linkage.engine: duckdb`` and once with ``linkage.engine: spark`` and compare every
output file byte for byte; print each engine's link-stage time.

    .venv/bin/python benchmarks/spark_parity.py --people 20000 --periods 2

The registry is DuckDB either way; Spark scores the pairs Splink blocks (the model is
trained on the registry's capped sample, so both engines score with the same model).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

from canbao.run import manifest as mf

DISTRICT = "430302"


def run_engine(kind: str, raw: Path, out: Path, master: str) -> dict[str, float]:
    """Every period of ``raw`` into ``out``; seconds per stage, summed over periods."""
    from canbao.core.config import load_config
    from canbao.core.context import find_periods, period_context
    from canbao.run.pipeline import open_registry, stages

    cfg = load_config(DISTRICT)
    cfg = dataclasses.replace(
        cfg, linkage=dataclasses.replace(cfg.linkage, engine=kind, spark_master=master)
    )
    seconds: dict[str, float] = {}
    for pdir in find_periods(raw / DISTRICT):
        ctx = period_context(pdir, out)
        engine = open_registry(cfg, ctx)
        try:
            ctx.out_dir.mkdir(parents=True, exist_ok=True)
            for name, stage in stages():
                t0 = time.perf_counter()
                stage(engine, cfg, ctx)
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
        finally:
            engine.close()
    return seconds


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every output file except the registry database itself."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.name.startswith("registry.duckdb")
        and p.name not in mf.RUN_RECORDS  # the stage records hold timings
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--periods", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--master", default="local[*]", help="Spark master URL")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)

    from canbao.demo import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="canbao-spark-parity-"))
    raw = work / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    generate(DISTRICT, args.people, args.seed, raw, work / "truth", periods=args.periods)
    times = {}
    for kind in ("duckdb", "spark"):
        out = work / kind
        shutil.rmtree(out, ignore_errors=True)
        times[kind] = run_engine(kind, raw, out, args.master)
        print(f"{kind}: link stage {times[kind]['link']:.1f} s over {args.periods} period(s)")
    a, b = digests(work / "duckdb"), digests(work / "spark")
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    print(f"{len(a) - len(differ)} files identical, {len(differ)} differ")
    for name in differ[:20]:
        print(f"  differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
