"""Time the demo generator: wall and CPU seconds, peak RSS, rows written.

.venv/bin/python benchmarks/bench_demo.py --people 1000000 [--periods 3] [--out /tmp/bench]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from canbao.demo import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--periods", type=int, default=3)
    ap.add_argument("--district", default="430302")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument(
        "--out", default=None, help="output root (default: a temporary folder, removed after)"
    )
    ap.add_argument(
        "--no-survey",
        action="store_true",
        help="skip canbao.demo.returns (time the generator alone)",
    )
    a = ap.parse_args()
    if a.no_survey:
        import canbao.demo.district as district

        district._survey = lambda *args: None
    root = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="canbao-bench-"))
    t0, c0 = time.perf_counter(), time.process_time()
    folders = generate(a.district, a.people, a.seed, root / "raw", root / "truth", a.periods)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file())
    rows_csv = root / "truth" / a.district / folders[-1].name / "rows.csv"
    with rows_csv.open(encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    print(
        f"people={a.people} periods={a.periods} wall_s={wall:.1f} cpu_s={cpu:.1f} "
        f"peak_rss_mb={peak_mb:.0f} last_period_rows={rows} extract_mb={size / 1e6:.1f}"
    )
    if not a.out:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
