"""Set-up shared by the tests, as pytest fixtures (helpers that are not fixtures live in
``tests/support/``).

- ``engine``: an empty in-memory DuckDB engine, closed after the test.
- ``demo_periods`` / ``demo_period``: one small synthetic district (300 people, two
  periods, the second with survey returns), generated once per session (per xdist worker).
  Read it, never write into it: copy a period first (``tests.support.hostile.copy_period``).
- ``stand_in_district``: a tiny district run by stand-in notebooks and a stand-in district
  stage, for the orchestration, status and verify tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canbao.core.engine import DuckDBEngine
from canbao.demo import generate
from tests.support.orchestrate import DISTRICT as STAND_IN
from tests.support.orchestrate import PARAMS, PEOPLE, write_fake_notebooks, write_period

DEMO_DISTRICT = "430302"
DEMO_PEOPLE = 300
DEMO_SEED = 11


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    """An empty in-memory DuckDB engine (the registry's engine kind)."""
    e = DuckDBEngine()
    yield e
    e.close()


@pytest.fixture(scope="session")
def demo_periods(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two valid 300-person period folders of 430302 (hukou GBK CSV, enrollment xlsx, …;
    the second with survey returns), once per session: ``<root>/raw/430302/<period>``."""
    root = tmp_path_factory.mktemp("demo")
    return generate(
        DEMO_DISTRICT,
        people=DEMO_PEOPLE,
        seed=DEMO_SEED,
        raw_root=root / "raw",
        truth_root=root / "truth",
        periods=2,
    )


@pytest.fixture(scope="session")
def demo_period(demo_periods: list[Path]) -> Path:
    """The demo's first period: what a district's first run reads."""
    return demo_periods[0]


@pytest.fixture
def stand_in_district(tmp_path: Path) -> dict[str, Path]:
    """One period of 4 people in 3 townships of 430321, its params and the stand-in
    notebooks (the township one fails for 故障镇): ``raw``, ``out``, ``params``, ``nb``."""
    raw = tmp_path / "raw"
    write_period(raw, "2026-01-15", PEOPLE)
    params = tmp_path / "params"
    params.mkdir()
    (params / f"{STAND_IN}.yaml").write_text(PARAMS, encoding="utf-8")
    return {
        "raw": raw / STAND_IN,
        "out": tmp_path / "reports",
        "params": params,
        "nb": write_fake_notebooks(tmp_path / "nb"),
    }
