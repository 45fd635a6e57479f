"""HTML and PDF of a bulletin checked as a reader would: no code, inline charts, CJK glyphs, page numbers.

The PDF page is rasterised with pdftoppm and its fonts listed with pdffonts
(poppler-utils); the HTML is screenshotted with headless chromium when it is installed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from matplotlib import image as mpimg
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from canbao.core import fonts
from canbao.core.config import BulletinConfig, Config
from canbao.core.engine import DuckDBEngine
from canbao.report import bulletin, charts, render
from tests.support.browser import screenshot
from tests.support.bulletin import P2, build_small

CFG = Config(
    district_code="430302",
    bulletin=BulletinConfig(
        unit="湘潭市雨湖区人力资源和社会保障局", reviewer="李明", preparer="王芳"
    ),
)
SECRET = "registry_path = '/secret/registry.duckdb'"
poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")


def executed_notebook(path: Path) -> Path:
    """A notebook as papermill leaves it: parameter cells, code with HTML outputs, markdown."""
    eng = DuckDBEngine()
    build_small(eng)
    table = bulletin.district_table(eng, P2, CFG)
    ind = bulletin.indicators(eng, P2)
    text = bulletin.summary_text(table, ind, period=P2, scope="雨湖区", level="township")
    trend = bulletin.trend_table(eng, P2)

    def html_cell(src: str, html: str):
        c = new_code_cell(src, execution_count=1)
        c.outputs = [new_output("display_data", data={"text/html": html})]
        return c

    params = new_code_cell(SECRET)
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell("period = '2026-11-30'")
    injected.metadata["tags"] = ["injected-parameters"]
    setup = new_code_cell("import canbao\nengine = DuckDBEngine(db_path)")
    noisy = new_code_cell("warnings.warn('x')")
    noisy.outputs = [new_output("stream", name="stderr", text="UserWarning: internal noise\n")]
    nb = new_notebook(
        cells=[
            params,
            injected,
            setup,
            html_cell("display(HTML(title))", bulletin.title_html("雨湖区", P2, 2, "township")),
            new_markdown_cell("## 一、总体情况"),
            html_cell("display(HTML(summary))", bulletin.summary_html(text)),
            new_markdown_cell("## 二、分单位进展情况"),
            html_cell(
                "display(HTML(table_html))",
                bulletin.table_html(table, "township") + bulletin.notes_html("township"),
            ),
            html_cell(
                "display(HTML(charts_html))",
                charts.figures_html(
                    charts.coverage_by_unit(table), charts.survey_completion(table)
                ),
            ),
            html_cell("display(HTML(trend_html))", charts.figures_html(charts.trend(trend))),
            html_cell("display(HTML(sig))", bulletin.signature_html(CFG, P2)),
            noisy,
        ]
    )
    nb.metadata["kernelspec"] = {"name": "canbao", "display_name": "canbao", "language": "python"}
    nbformat.write(nb, str(path))
    eng.close()
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    d = tmp_path_factory.mktemp("render")
    nb = executed_notebook(d / "40_bulletin_430302.ipynb")
    html = render.notebook_to_html(
        nb, d / "bulletins" / "bulletin_430302.html", "雨湖区 全民参保登记工作进展通报 2026-11-30"
    )
    pdf = render.html_to_pdf(html, d / "bulletins" / "bulletin_430302.pdf")
    return d, nb, html, pdf


def test_html_has_no_code_no_parameters_no_stderr(rendered):
    _, _, html, _ = rendered
    text = html.read_text(encoding="utf-8")
    for code in (
        "import canbao",
        "DuckDBEngine",
        "/secret/registry.duckdb",
        "display(HTML",
        "internal noise",
    ):
        assert code not in text, code
    assert "In&nbsp;[" not in text and "Out[" not in text
    assert "全民参保登记工作进展通报" in text and "一、总体情况" in text


def test_html_is_self_contained(rendered):
    _, _, html, _ = rendered
    text = html.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text
    assert "<title>雨湖区 全民参保登记工作进展通报 2026-11-30</title>" in text
    assert "<script src" not in text and "<link " not in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert text.count("data:image/png;base64,") == 3
    assert len(text) < 600_000  # no JupyterLab CSS (263 KB) inlined


def test_html_is_deterministic(rendered, tmp_path):
    d, nb, html, _ = rendered
    again = render.notebook_to_html(
        nb, tmp_path / "again.html", "雨湖区 全民参保登记工作进展通报 2026-11-30"
    )
    assert again.read_bytes() == html.read_bytes()


@poppler
def test_pdf_embeds_the_cjk_font(rendered):
    _, _, _, pdf = rendered
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows, out
    # hermetic: nothing else than the bundled font, as the page's own inline subset of it
    assert all(r[0].endswith(("+Noto-Sans-CJK-SC", "+canbao-CJK-SC")) for r in rows), out
    assert all(r[-5] == "yes" for r in rows), out  # emb column


@poppler
def test_pdf_text_has_chinese_title_header_and_page_numbers(rendered):
    _, _, _, pdf = rendered
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "全民参保登记工作进展通报" in text
    assert "雨湖路街道" in text and "合计" in text
    flat = "".join(text.split())
    assert "第1页/共3页" in flat and "第3页/共3页" in flat
    assert "填报单位（盖章）" in text and "湘潭市雨湖区人力资源和社会保障局" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "841.89 x 595.276" in info  # A4 landscape


@poppler
def test_pdf_first_page_is_not_blank_and_has_the_red_masthead(rendered, tmp_path):
    _, _, _, pdf = rendered
    subprocess.run(
        ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    img = mpimg.imread(str(png))[:, :, :3]
    ink = (img < 0.9).any(axis=2).mean()
    assert ink > 0.02, f"page looks blank ({ink:.3%} ink)"
    red = ((img[:, :, 0] > 0.6) & (img[:, :, 1] < 0.25) & (img[:, :, 2] < 0.25)).sum()
    assert red > 200, "red masthead missing"


def test_pdf_is_byte_identical_across_runs(rendered, tmp_path):
    _, _, html, pdf = rendered
    again = render.html_to_pdf(html, tmp_path / "again.pdf")
    assert (
        hashlib.sha256(again.read_bytes()).hexdigest()
        == hashlib.sha256(pdf.read_bytes()).hexdigest()
    )


def test_fontconfig_is_hermetic():
    conf = fonts.fontconfig_file().read_text(encoding="utf-8")
    assert f"<dir>{fonts.font_dir()}</dir>" in conf
    assert "/usr/share/fonts" not in conf and "/etc/fonts" not in conf
    assert fonts.font_path().name == "NotoSansCJK-Regular.ttc"


def test_matplotlib_draws_chinese_with_the_pip_font(engine):
    from matplotlib import font_manager as fm

    fonts.setup_matplotlib()
    fonts.setup_matplotlib()  # idempotent
    pip_faces = [f for f in fm.fontManager.ttflist if f.fname == str(fonts.font_path())]
    assert fonts.FAMILY in {f.name for f in pip_faces}  # registered from the pip package itself
    assert len(pip_faces) == len({(f.name, f.style, f.weight) for f in pip_faces})
    found = fm.findfont(fm.FontProperties(family=fonts.FAMILY), fallback_to_default=False)
    assert Path(found).name == fonts.FONT_FILE
    build_small(engine)
    table = bulletin.district_table(engine, P2, CFG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise
        png = charts.png_bytes(charts.coverage_by_unit(table, "各乡镇街道参保率"))
        charts.png_bytes(charts.survey_completion(table))
        charts.png_bytes(charts.trend(bulletin.trend_table(engine, P2)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == charts.png_bytes(charts.coverage_by_unit(table, "各乡镇街道参保率"))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_html_screenshot_in_headless_chromium(rendered, tmp_path):
    _, _, html, _ = rendered
    shot = screenshot(html, tmp_path / "shot.png", fonts.fontconfig_file(), height=1600)
    img = mpimg.imread(str(shot))[:, :, :3]
    assert (img < 0.9).any(axis=2).mean() > 0.02
    red = ((img[:, :, 0] > 0.6) & (img[:, :, 1] < 0.25) & (img[:, :, 2] < 0.25)).sum()
    assert red > 500
    assert np.isfinite(img).all()
