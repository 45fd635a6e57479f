"""The exports' Excel copies of one period: the SQL path against the Python path.

    .venv/bin/python benchmarks/bench_excel_copies.py <period>/exports [--workers 2] [--python]

Copies every ``<exports>/*.csv`` into a scratch folder, writes their Excel copies
with :func:`canbao.report.excel_copies.write_excel_copies` (DuckDB builds the rows,
``--workers`` exports at once) and, with ``--python``, with the row-by-row Python
path too; prints wall time, CPU time (every thread) and peak RSS of each, and
checks that both give the same bytes (and the same bytes as the period's own
``exports/xlsx`` when it is there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from canbao.report import excel_copies


def _timed(label: str, fn: object) -> dict[str, bytes]:
    wall, cpu = time.perf_counter(), time.process_time()
    written = fn()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    files = {p.name: p.read_bytes() for paths in written.values() for p in paths}
    print(f"{label:8} {wall:8.1f} s wall {cpu:8.1f} s CPU  peak RSS so far {peak:.2f} GiB  "
          f"{len(files)} files, {sum(map(len, files.values())) / 2**20:.1f} MiB")  # fmt: skip
    return files


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("exports", type=Path)
    ap.add_argument("--workers", type=int, default=excel_copies.WORKERS)
    ap.add_argument("--python", action="store_true", help="time the Python path too")
    ap.add_argument("--period", default="2026-11-15")
    args = ap.parse_args()
    period = dt.date.fromisoformat(args.period)
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as tmp:
        work = Path(tmp)
        for csv_path in sorted(args.exports.glob("*.csv")):
            shutil.copy(csv_path, work / csv_path.name)
        sql = _timed(
            "sql",
            lambda: excel_copies.write_excel_copies(work, period, workers=args.workers),
        )
        same = True
        own = args.exports / excel_copies.XLSX_DIR
        if own.is_dir():
            mine = {p.name: p.read_bytes() for p in own.glob("*.xlsx")}
            same &= mine == sql
            print("same bytes as the period's own copies:", mine == sql)
        if args.python:

            def python() -> dict[str, list[Path]]:
                out = work / "python"
                out.mkdir()
                return {
                    p.stem: excel_copies.write_excel_copy_python(p, out, period)
                    for p in sorted(work.glob("*.csv"))
                }

            py = _timed("python", python)
            same &= py == sql
            print("same bytes as the Python path:", py == sql)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
