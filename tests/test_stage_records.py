"""Stage records: each district-stage step's time, CPU, peak memory and key counts reach the
console (one line per stage), the manifest and the district report, and never ``canbao verify``."""

from __future__ import annotations

import csv
import json
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from canbao.demo import generate
from canbao.run import manifest as mf
from canbao.run import stages
from canbao.run.orchestrate import run_request
from canbao.run.request import RunRequest
from canbao.run.verify import compare_file

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = "430302"
STAGES = [
    "ingest",
    "clean",
    "persons",
    "link",
    "survey_returns",
    "classify",
    "registry",
    "exports",
    "provincial_import",
    "rosters",
]
MiB = 2**20


def test_peak_memory_is_the_stage_own_not_the_process_since_start(tmp_path):
    rec = stages.Recorder(tmp_path)

    def big(engine, cfg, ctx):
        block = bytearray(300 * MiB)
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just mapped
        return len(block)

    def small(engine, cfg, ctx):
        return 0

    rec.run("big", big, None, None, None)
    rec.run("small", small, None, None, None)
    first, second = stages.read_records(tmp_path)
    assert [first.stage, second.stage] == ["big", "small"]
    assert first.peak_rss >= 300 * MiB
    assert second.peak_rss < first.peak_rss - 200 * MiB  # the peak was reset between stages
    assert not first.peak_since_start
    assert first.wall_s >= 0 and first.cpu_s >= 0
    assert rec.records == [first, second]


def _worker_burns_and_holds() -> None:
    """A worker process's share of a stage: 1 s of CPU and 400 MiB resident."""
    block = bytearray(400 * MiB)
    block[::4096] = b"x" * len(block[::4096])
    end = time.process_time() + 1.0
    while time.process_time() < end:
        pass


def test_a_stage_counts_its_worker_processes_cpu_and_peak(tmp_path):
    # The rosters stage writes its workbooks in spawned workers: their CPU and their
    # memory are the stage's, or the record shows a 13 s stage as 1.6 s.
    rec = stages.Recorder(tmp_path)

    def with_workers(engine, cfg, ctx):
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            pool.submit(_worker_burns_and_holds).result()

    rec.run("rosters", with_workers, None, None, None)
    (record,) = stages.read_records(tmp_path)
    assert record.cpu_s >= 1.0
    assert record.peak_rss >= 400 * MiB


def test_a_new_recorder_starts_a_new_file(tmp_path):
    stages.Recorder(tmp_path).add(stages.StageRecord("ingest", 1.0, 1.0, MiB, {"read": 3}))
    stages.Recorder(tmp_path)
    assert stages.read_records(tmp_path) == []


def test_console_line_is_chinese_first_with_the_code():
    rec = stages.StageRecord(
        "link", 35.5, 30.25, 3 * 2**30 // 2, {"exact": 2_300_000, "unlinked": 47}
    )
    line = rec.console_line()
    assert line.startswith("比对：用时 35.5 秒（CPU 30.2 秒），内存峰值 1.50 GiB")
    assert "身份证号一致 2,300,000" in line and "未比对上 47" in line
    assert line.endswith("[stage_done]")


def test_verify_leaves_out_the_stage_table_and_nothing_else(tmp_path):
    def page(folder: str, seconds: str, body: str) -> Path:
        rec = stages.StageRecord("ingest", float(seconds), 1.0, MiB, {"read": 10})
        path = tmp_path / folder / "10_district.html"
        path.parent.mkdir()
        path.write_text(
            f"<html><body>{stages.table_html([rec])}<p>{body}</p></body></html>", encoding="utf-8"
        )
        return path

    a = page("a", "12.5", "读入 10 行")
    b = page("b", "99.0", "读入 10 行")
    c = page("c", "12.5", "读入 11 行")
    assert a.read_bytes() != b.read_bytes()
    assert compare_file("html/10_district.html", a, b).status == "identical"
    assert compare_file("html/10_district.html", a, c).status == "different"


@pytest.fixture(scope="module")
def district_run(tmp_path_factory):
    """A 400-person demo period through ``canbao run`` with the real district notebook
    (no township notebooks: one kernel), console captured."""
    root = tmp_path_factory.mktemp("stages")
    generate(DISTRICT, people=400, seed=5, raw_root=root / "raw", truth_root=root / "truth",
             periods=1)  # fmt: skip
    nb_dir = root / "notebooks"
    nb_dir.mkdir()
    shutil.copy(ROOT / "notebooks" / "10_district.ipynb", nb_dir)
    req = RunRequest(
        district_dir=root / "raw" / DISTRICT,
        out_root=root / "reports",
        params_dir=ROOT / "params",
        workers=1,
        notebook_dir=nb_dir,
        progress=True,
    )
    return req, root


def test_a_period_run_records_every_stage(district_run, capsys):
    req, root = district_run
    code, outcomes = run_request(req)
    err = capsys.readouterr().err
    assert code == 0, err
    out = root / "reports" / DISTRICT / outcomes[0].period.isoformat()

    # the console: one line per stage, in order, as the kernel wrote them
    lines = [line for line in err.splitlines() if line.endswith("[stage_done]")]
    labels = [stages.stage_label(s) for s in STAGES]
    assert [line.strip().split("：", 1)[0] for line in lines] == labels

    # the manifest: the same records, with counts that agree with the exports
    m = mf.read_manifest(out)
    records = {s["stage"]: s for s in m["stages"]}
    assert list(records) == STAGES
    assert all(s["wall_s"] >= 0 and s["cpu_s"] >= 0 and s["peak_rss"] > 10 * MiB
               for s in m["stages"])  # fmt: skip
    recon = list(csv.DictReader((out / "exports" / "reconciliation.csv").open(encoding="utf-8")))
    ingest = records["ingest"]["counts"]
    assert ingest["read"] == sum(int(r["rows_read"]) for r in recon)
    assert ingest["read"] == ingest["loaded"] + ingest["rejected"]
    registry = list(csv.DictReader((out / "exports" / "registry.csv").open(encoding="utf-8")))
    assert records["registry"]["counts"]["new"] == len(registry)  # the first period: all new
    targets = sum(r["registration"] == "survey" for r in registry)
    assert records["rosters"]["counts"]["targets"] == targets
    assert records["classify"]["counts"]["targets"] == targets
    link = records["link"]["counts"]
    assert set(link) == {"exact", "repaired", "probabilistic", "unlinked", "review"}
    assert link["exact"] > 0

    # the records are not an output: neither listed nor compared
    files = {o["file"] for o in m["outputs"]}
    assert stages.RECORDS_NAME not in files and (out / stages.RECORDS_NAME).exists()
    assert len(stages.read_records(out)) == len(STAGES)

    # the district report shows the table, inside the block verify leaves out
    page = (out / "html" / "10_district.html").read_text(encoding="utf-8")
    start, end = page.index(stages.VOLATILE_START), page.index(stages.VOLATILE_END)
    table = page[start:end]
    for label in [*labels, "内存峰值", "合计"]:
        assert label in table, label
    assert f"读入 {ingest['read']:,} 行" in table
    nb = json.loads((out / "notebooks" / "10_district.ipynb").read_text(encoding="utf-8"))
    assert any(stages.VOLATILE_START in json.dumps(c.get("outputs", [])) for c in nb["cells"])
