"""The district's front page, ``reports/<district>/index.html``: every output of every period.

Per period, newest first: the district's own outputs by kind (district report,
bulletin, clerical-review workbook, exports, …, run log, manifest), then one row per
乡镇街道 (its report, bulletin HTML and PDF, roster folder, and any other file that
carries its code). Files are *discovered* in the period folder and sorted by kind
from their folder and name, so an output another stage adds later (an Excel copy,
a work list, an import file) appears on the page without a change here; a folder
this module has no Chinese label for is shown under its own name. Links are
relative, so the whole ``reports/<district>/`` folder can be copied or zipped.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import pandas as pd

from canbao.core import fonts, places
from canbao.report import tables
from canbao.report.webfont import embed_font
from canbao.run import manifest as mf
from canbao.survey.provincial import file_rows

INDEX_NAME = "index.html"
LANG = "zh-CN"
# Kinds of district-level outputs in page order, with their Chinese labels.
KINDS: dict[str, str] = {
    "report": "区县比对报告",
    "bulletin": "工作进展通报",
    "review": "人工复核工作簿",
    "exports": "导出数据",
    "import": "批量导入文件（报送人社系统，含完整身份证号码，不得发给乡镇街道）",
    "rosters": "花名册及工作清单",
    "survey": "调查表回收",
    "linkage": "比对模型",
    "notebooks": "已执行笔记本",
    "other": "其他文件",
    "log": "运行日志",
    "manifest": "运行清单（manifest）",
}
STATUS_LABELS = {"complete": "已完成", "failed": "有失败"}


@dataclass(frozen=True)
class Link:
    """One link: its text and the file's path relative to the district folder."""

    text: str
    path: PurePosixPath

    @property
    def href(self) -> str:
        return quote(self.path.as_posix(), safe="/")


@dataclass
class TownshipRow:
    """What the front page shows for one 乡镇街道 in one period."""

    code: str
    name: str
    report: Link | None = None
    bulletin: list[Link] = field(default_factory=list)
    rosters: Link | None = None
    other: list[Link] = field(default_factory=list)


@dataclass
class PeriodSection:
    """One period: its status, the district's outputs by kind and a row per township."""

    period: str
    status: str | None
    failures: int
    district: dict[str, list[Link]]
    townships: list[TownshipRow]


def kind_of(rel: PurePosixPath) -> str:
    """The kind of a period output from where it sits (``html/`` → report, …)."""
    top = rel.parts[0] if len(rel.parts) > 1 else ""
    if not top:
        return {mf.RUN_LOG_NAME: "log", mf.MANIFEST_NAME: "manifest"}.get(rel.name, "other")
    if top == "html":
        return "report"
    if top == "bulletins":
        return "bulletin"
    if top == "linkage" and rel.suffix == ".xlsx":
        return "review"
    return top


def _township_codes(period_dir: Path, manifest: dict | None) -> dict[str, str]:
    """code → name from the manifest, else the township reports' and roster folders' names."""
    if manifest and manifest.get("townships"):
        return {t["code"]: t["name"] for t in manifest["townships"]}
    codes: dict[str, str] = {}
    for p in (
        sorted((period_dir / "rosters").glob("*")) if (period_dir / "rosters").is_dir() else []
    ):
        m = re.match(r"(\d{9})_?(.*)", p.name)
        if m:
            codes[m.group(1)] = m.group(2) or m.group(1)
    for p in sorted((period_dir / "html").glob("*.html")) if (period_dir / "html").is_dir() else []:
        m = re.search(r"(\d{9})", p.stem)
        if m:
            codes.setdefault(m.group(1), m.group(1))
    return codes


def _owner(rel: PurePosixPath, codes: list[str]) -> str | None:
    """The township whose code appears in the path (longest code first), if any."""
    text = rel.as_posix()
    return next((c for c in codes if c in text), None)


def _short(rel: PurePosixPath, code: str, name: str) -> str:
    """A township file's link text: its name without the township's code and name.

    ``rosters/430302001_雨湖路街道/430302001_雨湖路街道_汇总.xlsx`` → ``汇总``; a name with
    nothing left (``survey/rejections/430302001_雨湖路街道.xlsx``) → its kind's label.
    """
    stem = rel.stem
    for part in (code, name):
        if part:
            stem = stem.replace(part, "")
    stem = stem.strip("_- ")
    label = stem or KINDS.get(kind_of(rel), kind_of(rel))
    return label if rel.suffix in (".xlsx", ".csv", "") else f"{label}{rel.suffix}"


def period_section(district_dir: Path, period_dir: Path) -> PeriodSection:
    """Discover one period folder's outputs and sort them onto the page."""
    manifest = mf.read_manifest(period_dir)
    names = _township_codes(period_dir, manifest)
    codes = sorted(names, key=lambda c: (-len(c), c))
    rows = {c: TownshipRow(c, names[c]) for c in sorted(names)}
    district: dict[str, list[Link]] = {}
    roster_files: dict[str, int] = {}
    for p in mf.list_files(period_dir):
        rel = PurePosixPath(p.relative_to(period_dir).as_posix())
        link_path = PurePosixPath(period_dir.name) / rel
        kind = kind_of(rel)
        owner = _owner(rel, codes)
        if owner is None:
            text = (PurePosixPath(*rel.parts[1:]) if len(rel.parts) > 1 else rel).as_posix()
            if kind == "import" and rel.suffix == ".xlsx":  # the 批量导入 file: its row count
                text += f"（{file_rows(p):,} 行）"
            district.setdefault(kind, []).append(Link(text, link_path))
            continue
        row = rows[owner]
        if kind == "report" and rel.suffix == ".html":
            row.report = Link("HTML", link_path)
        elif kind == "bulletin":
            row.bulletin.append(Link(rel.suffix.lstrip(".").upper(), link_path))
        elif kind == "rosters" and re.search(rf"{owner}\d", rel.name):
            roster_files[owner] = roster_files.get(owner, 0) + 1  # a village's file
            folder = PurePosixPath(period_dir.name, *rel.parts[:-1])
            row.rosters = Link("", folder)
        else:
            row.other.append(Link(_short(rel, owner, row.name), link_path))
    for code, row in rows.items():
        if row.rosters is not None:
            row.rosters = Link(f"{roster_files[code]} 个文件", row.rosters.path)
    status = manifest.get("status") if manifest else None
    failures = len(manifest.get("failures", [])) if manifest else 0
    return PeriodSection(period_dir.name, status, failures, district, list(rows.values()))


def _links(links: list[Link]) -> str:
    return "　".join(f'<a href="{lk.href}">{html.escape(lk.text)}</a>' for lk in links) or "—"


def _section_html(sec: PeriodSection) -> str:
    status = STATUS_LABELS.get(sec.status or "", "未完成")
    if sec.failures:
        status += f"（{sec.failures} 项失败，见运行日志）"
    parts = [
        f'<section id="p{sec.period}"><h2>{sec.period}　<span class="status {sec.status or ""}">'
        f"{html.escape(status)}</span></h2>",
        "<h3>区县</h3>",
    ]
    kinds = [k for k in KINDS if k in sec.district] + sorted(
        k for k in sec.district if k not in KINDS
    )
    district = pd.DataFrame(
        {
            "项目": [KINDS.get(k, k) for k in kinds],
            "文件": [_links(sec.district[k]) for k in kinds],
        }
    )
    parts.append(tables.table_html(district, kinds={"文件": "html"}, scroll_rows=10**9))
    if sec.townships:
        rows = [
            {
                "代码": row.code,
                "名称": row.name,
                "比对结果": _links([row.report] if row.report else []),
                "通报": _links(sorted(row.bulletin, key=lambda lk: lk.text != "HTML")),
                "花名册": _links([row.rosters] if row.rosters else []),
                "其他文件": _links(sorted(row.other, key=lambda lk: (lk.path.parts[1], lk.text))),
            }
            for row in sec.townships
        ]
        links = {c: "html" for c in ("比对结果", "通报", "花名册", "其他文件")}
        parts += [
            "<h3>乡镇街道</h3>",
            tables.table_html(pd.DataFrame(rows), kinds=links, scroll_rows=10**9),
        ]
    parts.append("</section>")
    return "\n".join(parts)


_CSS = (
    "body{font-family:" + fonts.CSS_STACK + ";max-width:72em;margin:2em auto;padding:0 1em;"
    "color:#1a1a1a;line-height:1.5}"
    "h1{color:#c00000;font-size:1.5em}h2{font-size:1.2em;border-left:4px solid #c00000;"
    "padding-left:.4em;margin-top:2em}h3{font-size:1em;margin:1em 0 .3em}"
    "table.cb-table{width:100%}"
    ".status{font-size:.8em;font-weight:normal;color:#2e7d32}.status.failed{color:#c00000}"
    "nav a{margin-right:1em}"
)


def front_page_html(
    district_code: str, sections: list[PeriodSection], district_name: str = ""
) -> str:
    """The page for these periods (newest first as given); runs nothing.

    ``district_name``: params' name of the district ('': the bundled list's).
    """
    name = places.district_name(district_code, district_name)
    title = f"{name}（{district_code}）全民参保登记 成果总览"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{LANG}"><head><meta charset="utf-8"/>',
        f"<title>{html.escape(title)}</title><style>{_CSS}{tables.css()}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>每期一节，最新一期在前：区县比对报告、通报（HTML、PDF）、人工复核工作簿、导出数据、"
        "报送人社系统的批量导入文件、运行日志和运行清单，以及各乡镇街道的比对结果、通报、花名册和"
        "工作清单。</p>",
    ]
    if sections:
        nav = "".join(f'<a href="#p{s.period}">{s.period}</a>' for s in sections)
        parts.append(f"<nav>{nav}</nav>")
    else:
        parts.append("<p>尚无运行结果。</p>")
    parts += [_section_html(s) for s in sections]
    parts.append("</body></html>\n")
    return embed_font("\n".join(parts))


def period_dirs(district_dir: Path) -> list[Path]:
    """Period output folders (``YYYY-MM-DD``), newest first."""
    out = []
    for p in Path(district_dir).iterdir() if Path(district_dir).is_dir() else []:
        try:
            dt.date.fromisoformat(p.name)
        except ValueError:
            continue
        if p.is_dir():
            out.append(p)
    return sorted(out, key=lambda p: p.name, reverse=True)


def write_front_page(district_dir: Path | str) -> Path:
    """Write ``<district_dir>/index.html`` from what the period folders hold now."""
    root = Path(district_dir)
    dirs = period_dirs(root)
    sections = [period_section(root, p) for p in dirs]
    newest = mf.read_manifest(dirs[0]) if dirs else None  # the params of the latest run
    name = str(((newest or {}).get("params") or {}).get("district_name") or "")
    out = root / INDEX_NAME
    out.write_text(front_page_html(root.name, sections, name), encoding="utf-8")
    return out


def links_of(page: Path) -> list[str]:
    """Every ``href`` of a page, unquoted (for checks that each resolves to a file)."""
    from urllib.parse import unquote

    text = page.read_text(encoding="utf-8")
    return [unquote(h) for h in re.findall(r'href="([^"#][^"]*)"', text)]
