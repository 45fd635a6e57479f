"""Wall time and peak RSS of stages 1 (ingest) and 2 (clean) on one period folder.

    .venv/bin/python benchmarks/bench_ingest.py data/raw/<district>/<YYYY-MM-DD> [--db PATH]
        [--only ingest]

Peak RSS is sampled every 50 ms (psutil) for this process; DuckDB memory is in-process.
CPU time (all threads of this process) is printed beside wall time because wall time on
a shared machine says more about the neighbours than about the code.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psutil
from _measure import PeakRSS  # noqa: E402  (benchmarks/ is on sys.path when run)

from canbao.clean.stage import standardise
from canbao.core.config import Config
from canbao.core.context import period_context
from canbao.core.engine import DuckDBEngine
from canbao.ingest import load_period


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("period_dir", type=Path)
    ap.add_argument("--db", type=Path, help="DuckDB file (default: a temporary file)")
    ap.add_argument("--only", choices=["ingest"], help="stop after stage 1")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        ctx = period_context(args.period_dir, Path(tmp) / "reports")
        cfg = Config(district_code=ctx.district_code)
        engine = DuckDBEngine(db)
        base = psutil.Process().memory_info().rss / 2**20
        with PeakRSS() as rss:
            t0, c0 = time.perf_counter(), time.process_time()
            recon = load_period(engine, cfg, ctx)
            t1, c1 = time.perf_counter(), time.process_time()
            print(
                f"stage 1 ingest: {t1 - t0:7.1f} s wall {c1 - c0:7.1f} s CPU  peak RSS {rss.peak / 2**20:6.0f} MiB"
            )
            if args.only != "ingest":
                standardise(engine, cfg, ctx)
                t2, c2 = time.perf_counter(), time.process_time()
                print(
                    f"stage 2 clean : {t2 - t1:7.1f} s wall {c2 - c1:7.1f} s CPU  peak RSS {rss.peak / 2**20:6.0f} MiB"
                )
                print(f"stages 1+2    : {t2 - t0:7.1f} s wall {c2 - c0:7.1f} s CPU")
        print(f"load average during run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"baseline RSS {base:.0f} MiB")
        print(recon.to_string(index=False))
        for t in ("population", "enrollment", "national_match", "students", "employers"):
            if engine.table_exists(t):
                print(f"{t:15s} {engine.scalar(f'SELECT count(*) FROM {t}'):>10,d} rows")
        engine.close()


if __name__ == "__main__":
    main()
