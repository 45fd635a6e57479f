"""Orchestration: parallel township notebooks, failure summary, up-to-date skip, lock.

Runs small stand-in notebooks (written into tmp_path) with the real papermill kernel
``canbao`` and a stand-in district stage, so these tests do not depend on the
pipeline stages of other engineers.
"""

from __future__ import annotations

import datetime as dt
import json

import nbformat
import pandas as pd
import pytest

from canbao.core.errors import RegistryBusy
from canbao.run import manifest as mf
from canbao.run.lock import registry_lock
from canbao.run.notebooks import strip_volatile
from canbao.run.orchestrate import (
    run_district,
    run_request,
)
from canbao.run.plan import _up_to_date
from canbao.run.request import RunRequest
from tests.support.orchestrate import (
    DISTRICT,
    PARAMS,
    PEOPLE,
    TOWNSHIPS,
    FakeStage,
    notebook,
    write_period,
)


def test_broken_township_is_reported_and_others_complete(stand_in_district, capsys):
    (stand_in_district["params"] / f"{DISTRICT}.yaml").write_text(
        PARAMS + "township_names:\n" + "".join(f"  '{c}': {n}\n" for c, n in TOWNSHIPS.items()),
        encoding="utf-8",
    )
    req = RunRequest(
        stand_in_district["raw"],
        stand_in_district["out"],
        stand_in_district["params"],
        workers=2,
        notebook_dir=stand_in_district["nb"],
        progress=False,
    )
    code, outcomes = run_request(req)
    assert code == 1
    results = {r.label: r for r in outcomes[0].results}
    broken = results["故障镇 (430321102)"]
    assert not broken.ok and broken.cell == 3 and broken.error == "ValueError: 故意失败 430321102"
    assert results["易俗河镇 (430321100)"].ok and results["谭家山镇 (430321101)"].ok
    out = stand_in_district["out"] / DISTRICT / "2026-01-15"
    ok_nb = nbformat.read(str(out / "notebooks" / "20_township_430321100.ipynb"), as_version=4)
    assert ok_nb.cells[-1].outputs[0]["text"] == "易俗河镇 2\n"
    err = capsys.readouterr().err
    assert "乡镇 故障镇 (430321102)：失败，第 3 个单元格" in err and "ValueError: 故意失败" in err
    assert "[task_failed]" in err and "2026-01-15：失败（笔记本" in err
    m = mf.read_manifest(out)
    assert m["status"] == "failed" and any("故障镇" in f for f in m["failures"])
    # a failed period is not "complete": the next run does it again
    assert not _up_to_date(out, m["fingerprint"])


def test_up_to_date_period_is_skipped_and_rerun_when_input_changes(stand_in_district):
    write_period(stand_in_district["raw"].parent, "2026-01-31", PEOPLE[:3])
    stage = FakeStage()
    req = RunRequest(
        stand_in_district["raw"],
        stand_in_district["out"],
        stand_in_district["params"],
        notebooks=False,
        period_runner=stage,
        progress=False,
    )
    assert run_request(req)[0] == 0
    assert stage.calls == ["2026-01-15", "2026-01-31"]
    run_request(req)
    assert stage.calls == ["2026-01-15", "2026-01-31"]  # nothing changed: no work
    # a changed input in the later period re-runs only that period
    write_period(stand_in_district["raw"].parent, "2026-01-31", PEOPLE)
    run_request(req)
    assert stage.calls[2:] == ["2026-01-31"]
    # a changed earlier period re-runs it and every later one (they build on its registry)
    write_period(stand_in_district["raw"].parent, "2026-01-15", PEOPLE[:2])
    run_request(req)
    assert stage.calls[3:] == ["2026-01-15", "2026-01-31"]
    # params that only change speed do not count; params that change results do
    p = stand_in_district["params"] / f"{DISTRICT}.yaml"
    p.write_text(PARAMS + "workers: 3\n", encoding="utf-8")
    run_request(req)
    assert len(stage.calls) == 5
    p.write_text(PARAMS + "linkage:\n  match_threshold: 0.95\n", encoding="utf-8")
    run_request(req)
    assert stage.calls[5:] == ["2026-01-15", "2026-01-31"]
    # --period runs only up to that date; force re-runs a completed period
    run_request(
        RunRequest(
            stand_in_district["raw"],
            stand_in_district["out"],
            stand_in_district["params"],
            period=dt.date(2026, 1, 15),
            notebooks=False,
            force=True,
            period_runner=stage,
            progress=False,
        )
    )
    assert stage.calls[7:] == ["2026-01-15"]


def test_manifest_records_inputs_params_versions_and_outputs(stand_in_district):
    period_dir = stand_in_district["raw"] / "2026-01-15"
    pd.DataFrame({"个人编号": ["1001", "1002", "1003"], "公民身份号码": ["a", "b", ""]}).to_excel(
        period_dir / "enrollment.xlsx", index=False
    )
    req = RunRequest(
        stand_in_district["raw"],
        stand_in_district["out"],
        stand_in_district["params"],
        notebooks=False,
        period_runner=FakeStage(),
        progress=False,
    )
    assert run_request(req)[0] == 0
    out = stand_in_district["out"] / DISTRICT / "2026-01-15"
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    inputs = {i["file"]: i for i in m["inputs"]}
    assert inputs["enrollment.xlsx"]["bytes"] == (period_dir / "enrollment.xlsx").stat().st_size
    assert inputs["hukou.csv"]["sha256"] == mf.sha256_file(period_dir / "hukou.csv")
    assert m["params"]["bulletin"]["unit"] == "湘潭县人力资源和社会保障局"
    assert m["seeds"] == {"linkage.seed": m["params"]["linkage"]["seed"]}
    assert {"duckdb", "pandas", "splink", "papermill", "python"} <= set(m["packages"])
    assert set(m["git"]) == {"commit", "dirty"}
    assert m["status"] == "complete" and len(m["fingerprint"]) == 64
    assert m["params_file"]["sha256"] == mf.sha256_file(
        stand_in_district["params"] / f"{DISTRICT}.yaml"
    )
    outputs = {o["file"]: o["sha256"] for o in m["outputs"]}
    assert outputs == {"exports/registry.csv": mf.sha256_file(out / "exports/registry.csv")}
    assert [t["code"] for t in m["townships"]] == sorted(TOWNSHIPS)[:3]


def test_second_run_on_same_registry_refuses(stand_in_district):
    with registry_lock(stand_in_district["out"] / DISTRICT), pytest.raises(RegistryBusy) as exc:
        run_district(
            stand_in_district["raw"],
            stand_in_district["out"],
            stand_in_district["params"],
            None,
            None,
            False,
            False,
        )
    assert exc.value.code == "registry_busy"
    assert "登记库正被另一个运行使用" in str(exc.value) and "run.lock" in str(exc.value)


def test_strip_volatile_removes_timings_and_renumbers_ids(tmp_path):
    nb = notebook("print(1)", params="x = 1")
    nb.metadata["papermill"] = {
        "start_time": "2026-11-28T13:00:00",
        "end_time": "t",
        "duration": 1.5,
        "parameters": {"x": 2},
        "input_path": "/abs/notebooks/10_district.ipynb",
        "output_path": str(tmp_path / "out" / "notebooks" / "a.ipynb"),
    }
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-11-28T13:00:01"}
    nb.cells[1].metadata["papermill"] = {"duration": 0.1}
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    strip_volatile(path, tmp_path / "out")
    got = json.loads(path.read_text(encoding="utf-8"))
    assert got["metadata"]["papermill"] == {
        "parameters": {"x": 2},
        "input_path": "10_district.ipynb",
        "output_path": "notebooks/a.ipynb",
    }
    assert [c["id"] for c in got["cells"]] == ["cell-0", "cell-1"]
    assert all("execution" not in c["metadata"] for c in got["cells"])
