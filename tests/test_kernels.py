"""The run's kernels: IPC transport in a private folder, and a retry for a kernel dying at start."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from canbao.run import notebooks
from canbao.run.notebooks import NotebookTask, execute_task

# Starts a real ipykernel, except while the marker file has fewer than `deaths` lines:
# then it appends a line and exits at once, as a kernel that lost its port race does.
LAUNCHER = """
import runpy, sys
conn, marker, deaths = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    seen = open(marker, encoding="utf-8").read().count("\\n")
except FileNotFoundError:
    seen = 0
if seen < deaths:
    with open(marker, "a", encoding="utf-8") as fh:
        fh.write("died\\n")
    sys.exit(3)
sys.argv = ["ipykernel_launcher", "-f", conn]
runpy.run_module("ipykernel_launcher", run_name="__main__")
"""

PROBE = """
import json, os
from ipykernel import get_connection_info
info = get_connection_info(unpack=True)
print(json.dumps({"transport": info["transport"], "ip": info["ip"], "sum": 1 + 1}))
"""


def _flaky_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int) -> Path:
    """A kernel spec ``canbao-flaky`` whose first ``deaths`` starts exit; returns the marker."""
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    marker = tmp_path / "starts.txt"
    spec = tmp_path / "jupyter" / "kernels" / "canbao-flaky"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(launcher), "{connection_file}", str(marker), str(deaths)]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "flaky", "language": "python"}),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return marker


def _task(tmp_path: Path) -> NotebookTask:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(src))
    out = tmp_path / "out" / "notebooks" / "probe.ipynb"
    return NotebookTask(
        kind="township",
        label="probe",
        input_path=src,
        output_path=out,
        out_dir=tmp_path / "out",
        parameters={},
        title="probe",
        kernel_name="canbao-flaky",
        log_path=tmp_path / "out" / "run.log",
    )


def _printed(nb_path: Path) -> dict:
    nb = nbformat.read(str(nb_path), as_version=4)
    return json.loads(nb.cells[-1].outputs[0]["text"])


def test_kernel_dying_at_start_is_retried(tmp_path, monkeypatch):
    marker = _flaky_kernel(tmp_path, monkeypatch, deaths=1)
    task = _task(tmp_path)
    result = execute_task(task)
    assert result.ok, result.describe()
    assert marker.read_text(encoding="utf-8") == "died\n"  # the first start did die
    printed = _printed(task.output_path)
    assert printed["sum"] == 2
    log = task.log_path.read_text(encoding="utf-8")
    assert "kernel start 1 failed, retrying" in log
    assert "probe" in log


def test_kernel_uses_ipc_in_a_private_folder_removed_afterwards(tmp_path, monkeypatch):
    _flaky_kernel(tmp_path, monkeypatch, deaths=0)
    task = _task(tmp_path)
    assert execute_task(task).ok
    printed = _printed(task.output_path)
    assert printed["transport"] == "ipc"
    socket_dir = Path(printed["ip"]).parent
    assert socket_dir.name.startswith("canbao-k-")
    assert not socket_dir.exists()  # sockets and connection file cleaned up
    log = task.log_path.read_text(encoding="utf-8")
    assert "without encryption" not in log  # the TCP warning is gone with TCP


def test_kernel_that_never_starts_fails_with_its_cause(tmp_path, monkeypatch):
    marker = _flaky_kernel(tmp_path, monkeypatch, deaths=99)
    task = _task(tmp_path)
    result = execute_task(task)
    assert not result.ok
    assert marker.read_text(encoding="utf-8").count("died") == notebooks.START_ATTEMPTS
    assert "Kernel died" in (result.error or "") or "RuntimeError" in (result.error or "")
    assert result.describe().startswith("乡镇 probe：失败")
    log = task.log_path.read_text(encoding="utf-8")
    assert log.count("retrying") == notebooks.START_ATTEMPTS - 1
