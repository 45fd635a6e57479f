"""The three source notebooks run where they sit, as a statistician opens them in JupyterLab.

After a small demo run, each of ``notebooks/10_district``, ``20_township`` and
``40_bulletin`` is executed top to bottom with its *default* parameters (nbclient,
working directory ``notebooks/``, nothing injected). They must find the demo
district's latest period on their own, write only under ``reports/``, leave the
source notebook unchanged and keep library warnings out of the notebook.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from canbao.demo import generate
from canbao.run.kernels import PrivateIPCKernelManager
from canbao.run.orchestrate import run_request
from canbao.run.request import RunRequest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("10_district.ipynb", "20_township.ipynb", "40_bulletin.ipynb")


def _snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file outside ``reports/``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != "reports"
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder as the demo leaves it: notebooks/, params/, data/, reports/."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    raw, truth = root / "data" / "raw", root / "data" / "truth"
    generate(district_code="430302", people=800, seed=7, raw_root=raw, truth_root=truth, periods=2)
    code, _ = run_request(
        RunRequest(
            district_dir=raw / "430302",
            out_root=root / "reports",
            params_dir=root / "params",
            notebooks=False,
            progress=False,
        )
    )
    assert code == 0
    return root


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_notebook_runs_in_place_with_defaults(project, name):
    before = _snapshot(project)
    nb = nbformat.read(str(project / "notebooks" / name), as_version=4)
    NotebookClient(
        nb,
        kernel_name="canbao",
        timeout=900,
        resources={"metadata": {"path": str(project / "notebooks")}},
        kernel_manager_class=PrivateIPCKernelManager,
    ).execute()
    assert _snapshot(project) == before  # only reports/ changed; the notebook file too is as it was
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.get("text", "") for o in outputs if o.get("name") == "stderr"]
    assert not stderr, stderr  # library warnings go to the log, not into the notebook
    text = "\n".join(
        str(o.get("text", ""))
        + str(o.get("data", {}).get("text/html", ""))
        + str(o.get("data", {}).get("text/markdown", ""))
        for o in outputs
    )
    latest = sorted(p.name for p in (project / "data" / "raw" / "430302").iterdir())[-1]
    if name == "20_township.ipynb":
        assert f"期次 {latest}" in text
    elif name == "10_district.ipynb":
        assert f"期次：{latest}" in text
    else:
        assert "通报" in text
