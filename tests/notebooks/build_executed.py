"""Build the executed demo notebooks that nbval checks (nbval re-runs papermill's output, parameters cell included).

    .venv/bin/python tests/notebooks/build_executed.py build/nbval
    .venv/bin/pytest -o addopts="" -p no:cacheprovider --nbval --nbval-kernel-name canbao \
        --nbval-sanitize-with tests/notebooks/sanitize.cfg build/nbval/reports/430302/*/notebooks

Generates a small demo district (``canbao.demo.generate``) under ``<out>/data``, then runs
``canbao run`` with notebooks into ``<out>/reports``. Everything stays under ``<out>``
(``build/`` is git-ignored): nothing tracked changes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from canbao.demo import generate
from canbao.run.orchestrate import run_district


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="build folder, e.g. build/nbval (emptied first)")
    p.add_argument("--district", default="430302")
    p.add_argument("--people", type=int, default=2000)
    p.add_argument("--periods", type=int, default=1)
    p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    out = Path(a.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    raw, truth, params = out / "data" / "raw", out / "data" / "truth", out / "params"
    params.mkdir(parents=True)
    generate(
        district_code=a.district,
        people=a.people,
        seed=a.seed,
        raw_root=raw,
        truth_root=truth,
        periods=a.periods,
    )
    return run_district(raw / a.district, out / "reports", params, None, a.workers, True, True)


if __name__ == "__main__":
    sys.exit(main())
