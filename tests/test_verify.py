"""``canbao verify``: identical on an unchanged re-run, different when an output is tampered with."""

from __future__ import annotations

import json

import nbformat

from canbao.run import manifest as mf
from canbao.run.orchestrate import run_request
from canbao.run.request import RunRequest
from canbao.run.verify import notebook_outputs, sanitise, verify
from tests.support.orchestrate import PEOPLE, write_period


def test_rerun_is_byte_identical_and_verify_spots_tampering(stand_in_district, capsys):
    # one township only, to keep the kernel starts few
    write_period(
        stand_in_district["raw"].parent, "2026-01-15", [p for p in PEOPLE if p[1] == "430321100"]
    )
    req = RunRequest(
        stand_in_district["raw"],
        stand_in_district["out"],
        stand_in_district["params"],
        workers=1,
        notebook_dir=stand_in_district["nb"],
        progress=False,
    )
    assert run_request(req)[0] == 0
    out = stand_in_district["out"] / "430321" / "2026-01-15"
    first = mf.read_manifest(out)
    assert {o["file"] for o in first["outputs"]} == {
        "exports/registry.csv",
        "html/10_district.html",
        "html/20_township_430321100.html",
        "notebooks/10_district.ipynb",
        "notebooks/20_township_430321100.ipynb",
    }
    # executed notebooks are byte-identical across runs (volatile metadata stripped)
    run_request(RunRequest(**{**req.__dict__, "force": True}))
    second = mf.read_manifest(out)
    assert second["outputs"] == first["outputs"]

    capsys.readouterr()
    assert verify(out) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "一致 [identical]  exports/registry.csv" in lines
    assert "一致 [identical]  notebooks/20_township_430321100.ipynb" in lines
    assert "一致 [identical]  html/20_township_430321100.html" in lines

    # tamper with a data file and with a notebook's printed output
    reg = out / "exports" / "registry.csv"
    reg.write_text(
        reg.read_text(encoding="utf-8").replace("430321100", "430321101", 1), encoding="utf-8"
    )
    nb_path = out / "notebooks" / "20_township_430321100.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells[-1].outputs[0]["text"] = "易俗河镇 3\n"
    nbformat.write(nb, str(nb_path))
    assert verify(out) == 1
    text = capsys.readouterr().out
    assert "不一致 [different]  exports/registry.csv" in text
    assert (
        "不一致 [different]  notebooks/20_township_430321100.ipynb  （第 4 个单元格的输出不同 [verify_cells_differ]）"
        in text
    )
    assert "一致 [identical]  notebooks/10_district.ipynb" in text


def test_sanitise_and_notebook_outputs_ignore_volatile_text(tmp_path):
    assert sanitise("写于 2026-11-28T13:45:01.123 于 /tmp/pytest-1/x <obj at 0x7f3a2b4c5d60>") == (
        "写于 TIMESTAMP 于 TMPDIR <obj at 0xADDR>"
    )
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("period_dir = '/abs/a'")
    injected.metadata["tags"] = ["injected-parameters"]
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = [injected, cell]
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert notebook_outputs(path) == [
        (1, '[{"name": "stdout", "output_type": "stream", "text": "1\\n"}]')
    ]


def test_verify_of_a_folder_without_manifest_is_a_chinese_input_error(tmp_path):
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "canbao", "verify", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 2  # a folder argument that is no period output: usage
    assert "[verify_no_manifest]" in res.stderr and "没有可读的 manifest.json" in res.stderr
    assert "Traceback" not in res.stderr
