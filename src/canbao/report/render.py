"""Executed notebook → self-contained HTML (nbconvert) → PDF (WeasyPrint); the reports index.

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

import datetime as dt
import html
import os
import re
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd

from canbao.core import fonts
from canbao.report import tables, webfont

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


# --------------------------------------------------------------------------- index

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _title_of(path: Path) -> str:
    m = _TITLE.search(path.read_text(encoding="utf-8", errors="replace")[:4000])
    return html.unescape(m.group(1)).strip() if m else path.stem


def _code_of(stem: str) -> str:
    """``bulletin_430302100`` → ``430302100`` (the first run of 6+ digits)."""
    m = re.search(r"\d{6,}", stem)
    return m.group(0) if m else stem


LINKS: dict[str, tables.Kind] = {"代码": "text", "HTML": "html", "PDF": "html"}


def _index_frame(period: str, rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    """One period's bulletins as a table: code, title, links (rows in the order given)."""
    records = []
    for code, title, name, has_pdf in rows:
        href = html.escape(f"{period}/bulletins/{name}")
        pdf = html.escape(f"{period}/bulletins/{Path(name).with_suffix('.pdf').name}")
        records.append(
            {
                "代码": code,
                "通报": title,
                "HTML": f'<a href="{href}">HTML</a>',
                "PDF": f'<a href="{pdf}">PDF</a>' if has_pdf else "—",
            }
        )
    return pd.DataFrame(records, columns=["代码", "通报", "HTML", "PDF"])


def index_html(
    district_code: str, periods: list[tuple[str, list[tuple[str, str, str, bool]]]]
) -> str:
    """The index page (runs nothing): per period, rows of (code, title, html name, has pdf)."""
    from canbao.core import refdata

    name = f"{refdata.county_name(district_code) or ''}（{district_code}）"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{LANG}"><head><meta charset="utf-8"/>',
        f"<title>{html.escape(name)}全民参保登记工作进展通报</title>",
        "<style>body{font-family:"
        + fonts.CSS_STACK
        + ";max-width:60em;margin:2em auto;padding:0 1em;color:#1a1a1a}"
        "h1{color:#c00000;font-size:1.5em}h2{font-size:1.15em;border-left:4px solid #c00000;padding-left:.4em}"
        + tables.css()
        + "</style></head><body>",
        f"<h1>{html.escape(name)}全民参保登记工作进展通报</h1>",
    ]
    if not periods:
        parts.append("<p>尚无通报。</p>")
    for period, rows in periods:
        parts.append(f"<h2>{html.escape(period)}</h2>")
        parts.append(tables.table_html(_index_frame(period, rows), kinds=LINKS))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_index(district_dir: Path | str) -> Path:
    """Write ``<district_dir>/index.html`` listing every period's bulletins (newest first).

    The district bulletin (its code is the folder's name) comes first, then the
    townships by code; links are relative, so the folder can be copied as is.
    """
    root = Path(district_dir)
    district_code = root.name
    periods = []
    for pdir in sorted(
        (p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True
    ):
        try:
            dt.date.fromisoformat(pdir.name)
        except ValueError:
            continue
        bdir = pdir / "bulletins"
        if not bdir.is_dir():
            continue
        rows = []
        for f in sorted(bdir.glob("*.html")):
            code = _code_of(f.stem)
            rows.append((code, _title_of(f), f.name, f.with_suffix(".pdf").is_file()))
        rows.sort(key=lambda r: (r[0] != district_code, r[0], r[2]))
        if rows:
            periods.append((pdir.name, rows))
    out = root / "index.html"
    out.write_text(webfont.embed_font(index_html(district_code, periods)), encoding="utf-8")
    return out
