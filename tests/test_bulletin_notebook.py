"""notebooks/40_bulletin.ipynb: thin, parameterised, and it runs end to end into HTML and PDF."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from canbao.core.engine import DuckDBEngine
from canbao.report import render
from tests.support.bulletin import SYNTH_PERIODS, build_synthetic

NB = Path(__file__).resolve().parents[1] / "notebooks" / "40_bulletin.ipynb"


def test_notebook_is_thin_and_parameterised():
    nb = nbformat.read(str(NB), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    params = ast.parse(code[0].source)
    names = set()
    for node in params.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)
        names.add(node.targets[0].id)
    assert {"registry_path", "district_code", "period", "township_code", "params_dir"} <= names
    for c in code:
        tree = ast.parse(c.source)
        assert not any(
            isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            for n in ast.walk(tree)
        )
    assert nb.metadata["kernelspec"]["name"] == "canbao"
    assert any(
        re.search(r"[\u4e00-\u9fff]", c.source) for c in nb.cells if c.cell_type == "markdown"
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("nbreg")
    path = d / "430302" / "registry.duckdb"
    path.parent.mkdir()
    eng = DuckDBEngine(path)
    build_synthetic(eng, per_village=3)
    eng.close()
    params = d / "params"
    params.mkdir()
    (params / "430302.yaml").write_text(
        "district_code: '430302'\ndistrict_name: 雨湖区\nbulletin:\n  unit: 湘潭市雨湖区人力资源和社会保障局\n"
        "  reviewer: 李明\n  preparer: 王芳\n",
        encoding="utf-8",
    )
    return d, path, params


@pytest.mark.parametrize("township_code", ["", pytest.param("430302100", marks=pytest.mark.slow)])
def test_notebook_runs_and_renders(registry, township_code, tmp_path):
    import papermill as pm

    d, path, params = registry
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NB),
        str(out),
        kernel_name="canbao",
        progress_bar=False,
        cwd=str(tmp_path),
        parameters={
            "registry_path": str(path),
            "district_code": "430302",
            "period": SYNTH_PERIODS[-1].isoformat(),
            "township_code": township_code,
            "township_name": "",
            "params_dir": str(params),
        },
    )
    html = render.notebook_to_html(out, tmp_path / "b.html", "通报")
    text = html.read_text(encoding="utf-8")
    scope = "鹤岭镇" if township_code else "雨湖区"
    assert (
        f"{scope}全民参保登记工作进展情况（按{'村社区' if township_code else '乡镇街道'}）" in text
    )
    assert "第4期" in text and "截至2026年11月30日" in text
    assert text.count("data:image/png;base64,") == 3
    assert "李明" in text and "王芳" in text
    assert "P430302-" not in text  # no person-level row
    assert "DuckDBEngine" not in text
    pdf = render.html_to_pdf(html, tmp_path / "b.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
