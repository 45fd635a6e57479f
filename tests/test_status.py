"""``canbao status``: each period's state by the same test ``canbao run`` uses to skip it.

The district stage is the stand-in of tests/support/orchestrate.py (fast, no pipeline); status
itself runs as the user runs it, ``canbao status`` in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from canbao.run.orchestrate import run_request
from canbao.run.request import RunRequest
from canbao.run.status import district_status
from tests.support.orchestrate import DISTRICT, PARAMS, PEOPLE, FakeStage, write_period


class FailingOn(FakeStage):
    def __init__(self, period: str) -> None:
        super().__init__()
        self.period = period

    def __call__(self, cfg, ctx) -> None:  # noqa: ANN001
        if ctx.period.isoformat() == self.period:
            raise RuntimeError("stand-in stage failed")
        super().__call__(cfg, ctx)


def _district(tmp_path: Path) -> tuple[Path, Path, Path]:
    raw = tmp_path / "raw"
    for period in ("2026-01-15", "2026-01-31", "2026-02-15"):
        write_period(raw, period, PEOPLE)
    params = tmp_path / "params"
    params.mkdir()
    (params / f"{DISTRICT}.yaml").write_text(PARAMS, encoding="utf-8")
    return raw / DISTRICT, tmp_path / "reports", params


def _status(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "canbao", "status", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_status_names_each_period_state_after_an_input_changed(tmp_path: Path) -> None:
    raw, out, params = _district(tmp_path)
    req = RunRequest(raw, out, params, notebooks=False, period_runner=FailingOn("2026-02-15"),
                     progress=False)  # fmt: skip
    assert run_request(req)[0] == 1  # 01-15 and 01-31 complete, 02-15 failed
    write_period(raw.parent, "2026-01-31", PEOPLE[:2])  # an input changed after its run
    write_period(raw.parent, "2026-02-28", PEOPLE)  # a new period, never run

    res = _status(str(out / DISTRICT), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line for line in res.stdout.splitlines() if line.startswith("  ")}
    assert "已是最新 [status_up_to_date]" in rows["2026-01-15"]
    assert "[status_inputs_changed]" in rows["2026-01-31"]
    assert "变化：输入文件" in rows["2026-01-31"]
    assert "上次运行失败 [status_failed]" in rows["2026-02-15"]
    assert "从未运行 [status_never_run]" in rows["2026-02-28"]
    assert "最近运行：20" in rows["2026-01-15"] and "最近运行：—" in rows["2026-02-28"]
    assert str(raw) in res.stdout and "Traceback" not in res.stderr

    # the whole reports folder lists the same, and run agrees on what is up to date
    assert _status("--out", str(out), cwd=tmp_path).stdout == res.stdout
    stage = FakeStage()
    run_request(RunRequest(raw, out, params, notebooks=False, period_runner=stage, progress=False))
    assert stage.calls == ["2026-01-31", "2026-02-15", "2026-02-28"]
    _, periods = district_status(out / DISTRICT)
    assert {p.state for p in periods} == {"status_up_to_date"}


def test_status_without_runs_is_a_chinese_input_error(tmp_path: Path) -> None:
    res = _status("--out", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 3
    assert "[status_nothing_run]" in res.stderr and "Traceback" not in res.stderr
