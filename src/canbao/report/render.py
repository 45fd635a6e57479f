"""Executed notebook → self-contained HTML (nbconvert) → PDF (WeasyPrint).

The district's front page, which links them all, is :mod:`canbao.report.front_page`.

Why this route (measured on Debian 12, offline): nbconvert is the renderer of record, with
the custom template ``canbao_bulletin`` (no code, no CDN scripts, no JupyterLab
CSS, charts inline as data: URIs). WeasyPrint then prints that same HTML to
PDF: no browser, CSS paged media for the running header and page numbers,
fonts embedded as subsets from the pip CJK font (hermetic fontconfig, see
:mod:`canbao.core.fonts`), and byte-identical output for identical input. Chromium
``--print-to-pdf`` embeds a creation date and needs 476 MB; xelatex drops CJK
with the stock template and needs 736 MB.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from canbao.core import fonts
from canbao.report import webfont

TEMPLATE = "canbao_bulletin"
DROP_TAGS = {"parameters", "injected-parameters", "remove-cell"}
LANG = "zh-CN"


def template_dir() -> Path:
    """The folder holding ``canbao_bulletin/`` (package data)."""
    return Path(str(resources.files("canbao").joinpath("templates")))


def prepare_notebook(nb):  # nbformat.NotebookNode -> NotebookNode
    """Drop parameter and ``remove-cell`` cells, renumber ids, drop timings (deterministic HTML)."""
    cells = [c for c in nb.cells if not DROP_TAGS & set(c.get("metadata", {}).get("tags", []))]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nb.cells = cells
    return nb


def notebook_to_html(nb_path: Path | str, html_path: Path | str, title: str) -> Path:
    """Render an executed notebook to one self-contained HTML file without code.

    Args: the executed ``.ipynb``, the target ``.html``, the document title
    (``<title>``). Returns ``html_path``.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = prepare_notebook(nbformat.read(str(nb_path), as_version=4))
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(template_dir())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        language_code="zh",  # nbconvert accepts ISO 639-1 only; made zh-CN below
    )
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": Path(html_path).stem}}
    )
    body = body.replace('<html lang="zh">', f'<html lang="{LANG}">', 1)
    body = webfont.embed_font(body)  # last: the subset holds exactly the finished page's glyphs
    out = Path(html_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


@contextmanager
def _fontconfig():
    """Point fontconfig at the hermetic pip-font config while WeasyPrint loads fonts."""
    old = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(fonts.fontconfig_file())
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = old


def html_to_pdf(html_path: Path | str, pdf_path: Path | str) -> Path:
    """Print the HTML to an A4 PDF with WeasyPrint (CJK font embedded, same bytes every run)."""
    with _fontconfig():
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()  # reads FONTCONFIG_FILE now
        doc = weasyprint.HTML(filename=str(html_path), base_url=str(Path(html_path).parent))
        out = Path(pdf_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc.write_pdf(str(out), font_config=font_config)
    return out
