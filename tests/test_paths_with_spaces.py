"""Folders as a Windows user names them: spaces, Chinese and brackets in the raw folder and
in ``--out``, with the notebooks on (papermill, the HTML pages, the bulletin's PDF).

The district and bulletin notebooks only (two kernels, not one per township): what is
tested is that every path handed to papermill, nbconvert and the PDF printer survives
the spaces and the Chinese, not the township pages themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from canbao.demo import generate
from canbao.run.orchestrate import run_request
from canbao.run.request import BULLETIN_NB, DISTRICT_NB, RunRequest

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = "430302"


@pytest.mark.slow  # two kernels and a bulletin per township printed to PDF: minutes
def test_a_run_with_notebooks_in_folders_with_spaces_and_chinese(tmp_path: Path) -> None:
    raw = tmp_path / "数据 目录 (副本)" / "raw"
    generate(DISTRICT, people=300, seed=11, raw_root=raw, truth_root=tmp_path / "真值 t",
             periods=1)  # fmt: skip
    nb_dir = tmp_path / "笔记本 nb"
    nb_dir.mkdir()
    for name in (DISTRICT_NB, BULLETIN_NB):
        shutil.copy(ROOT / "notebooks" / name, nb_dir)
    params = tmp_path / "参数 p"
    params.mkdir()
    out_root = tmp_path / "输出 报告 (1)"
    req = RunRequest(
        district_dir=raw / DISTRICT,
        out_root=out_root,
        params_dir=params,
        workers=1,
        notebook_dir=nb_dir,
        progress=False,
    )
    code, outcomes = run_request(req)
    assert code == 0, outcomes
    out = out_root / DISTRICT / outcomes[0].period.isoformat()
    assert (out / "notebooks" / DISTRICT_NB).stat().st_size > 0
    page = (out / "html" / "10_district.html").read_text(encoding="utf-8")
    assert "Traceback" not in page and str(tmp_path) not in page  # links stay relative
    pdf = out / "bulletins" / f"bulletin_{DISTRICT}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
