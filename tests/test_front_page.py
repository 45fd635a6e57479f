"""The front page ``reports/<district>/index.html``: every output of every period, by kind.

The unit test builds period folders by hand (including files no stage writes yet, to
show that new outputs appear without a code change); the browser test loads the
page of a real small run in headless Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canbao.report.front_page import links_of, period_dirs, write_front_page
from tests.support import browser

TOWNS = {"430302001": "雨湖路街道", "430302100": "鹤岭镇"}


def _touch(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _period(root: Path, period: str, *, extra: bool) -> None:
    d = root / period
    _touch(d / "html" / "10_district.html")
    _touch(d / "bulletins" / "bulletin_430302.html")
    _touch(d / "bulletins" / "bulletin_430302.pdf")
    _touch(d / "linkage" / "clerical_review.xlsx")
    _touch(d / "linkage" / "model.json")
    _touch(d / "exports" / "registry.csv")
    _touch(d / "exports" / "findings.csv")
    _touch(d / "run.log")
    for code, name in TOWNS.items():
        _touch(d / "html" / f"20_township_{code}.html")
        _touch(d / "bulletins" / f"bulletin_{code}.html")
        _touch(d / "bulletins" / f"bulletin_{code}.pdf")
        folder = d / "rosters" / f"{code}_{name}"
        _touch(folder / f"{code}001_某村.xlsx")
        _touch(folder / f"{code}001_某村_登记表.xlsx")
        _touch(folder / f"{code}_{name}_汇总.xlsx")
    if extra:  # outputs other stages add: found by kind, no code change
        _touch(d / "exports" / "xlsx" / "registry.xlsx")
        _touch(d / "rosters" / "430302001_雨湖路街道" / "430302001_雨湖路街道_清理清单.xlsx")
        _touch(d / "provincial" / "430302_批量导入.xlsx")
    manifest = {
        "status": "complete",
        "townships": [{"code": c, "name": n} for c, n in TOWNS.items()],
        "failures": [],
        "log": "run.log",
    }
    _touch(d / "manifest.json", json.dumps(manifest, ensure_ascii=False))


def test_front_page_links_every_output_by_kind_newest_first(tmp_path):
    root = tmp_path / "430302"
    _period(root, "2026-11-15", extra=False)
    _period(root, "2026-11-30", extra=True)
    (root / "registry.duckdb").write_bytes(b"")
    page = write_front_page(root)
    text = page.read_text(encoding="utf-8")
    assert page == root / "index.html"
    assert text.index('id="p2026-11-30"') < text.index('id="p2026-11-15"')  # newest first
    links = links_of(page)
    for rel in (
        "2026-11-30/html/10_district.html",
        "2026-11-30/bulletins/bulletin_430302.pdf",
        "2026-11-30/html/20_township_430302100.html",
        "2026-11-30/bulletins/bulletin_430302100.html",
        "2026-11-30/bulletins/bulletin_430302100.pdf",
        "2026-11-30/rosters/430302100_鹤岭镇",
        "2026-11-30/rosters/430302100_鹤岭镇/430302100_鹤岭镇_汇总.xlsx",
        "2026-11-30/linkage/clerical_review.xlsx",
        "2026-11-30/exports/registry.csv",
        "2026-11-30/run.log",
        "2026-11-30/manifest.json",
        # added by other stages, listed without a change to the front page
        "2026-11-30/exports/xlsx/registry.xlsx",
        "2026-11-30/rosters/430302001_雨湖路街道/430302001_雨湖路街道_清理清单.xlsx",
        "2026-11-30/provincial/430302_批量导入.xlsx",
        "2026-11-15/run.log",
    ):
        assert rel in links, rel
    assert "清理清单" in text and "人工复核工作簿" in text and "鹤岭镇" in text
    assert not [h for h in links if "某村" in h.rsplit("/", 1)[-1]]  # villages: via the folder
    assert all((root / h).exists() for h in links)
    assert write_front_page(root).read_text(encoding="utf-8") == text  # same bytes


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A real small period: the district stage, then the district report, one township
    report and the district bulletin through the run's own notebook tasks."""
    from canbao.core.config import load_config
    from canbao.core.context import period_context
    from canbao.demo import generate
    from canbao.run.notebooks import execute_task
    from canbao.run.orchestrate import run_request
    from canbao.run.request import RunRequest
    from canbao.run.tasks import district_task, township_list, township_tasks

    root = tmp_path_factory.mktemp("front")
    raw = root / "data" / "raw"
    generate(
        district_code="430302",
        people=600,
        seed=11,
        raw_root=raw,
        truth_root=root / "data" / "truth",
        periods=1,
    )
    params = Path(__file__).resolve().parents[1] / "params"
    req = RunRequest(
        district_dir=raw / "430302",
        out_root=root / "reports",
        params_dir=params,
        notebooks=False,
        progress=False,
    )
    code, _ = run_request(req)
    assert code == 0
    period_dir = sorted((raw / "430302").iterdir())[-1]
    ctx = period_context(period_dir, req.out_root, "430302")
    cfg = load_config("430302", params)
    tasks = [district_task(req, ctx, cfg)]
    more = township_tasks(req, ctx, cfg, township_list(cfg, ctx)[:1])
    tasks += [more[0], more[-1]]  # one township report, the district bulletin
    for task in tasks:
        result = execute_task(task)
        assert result.ok, result.describe()
    write_front_page(ctx.district_dir)
    return ctx.district_dir


def _ink(png: Path) -> float:
    """Share of pixels darker than light grey (0 for a blank page)."""
    from PIL import Image

    img = Image.open(png).convert("L")
    hist = img.histogram()
    return sum(hist[:200]) / (img.width * img.height)


def test_front_page_in_headless_chromium(small_run, tmp_path):
    """On a machine with no Chinese font at all: the pages draw Chinese with their own font."""
    browser.require_browser()
    fontconfig = browser.no_cjk_fontconfig(tmp_path / "fc")
    assert not browser.cjk_fonts_seen(fontconfig)
    index = small_run / "index.html"
    links = links_of(index)
    assert links and all((small_run / h).exists() for h in links), [
        h for h in links if not (small_run / h).exists()
    ]
    dirs = [small_run / h for h in links if (small_run / h).is_dir()]
    assert dirs and all(any(d.iterdir()) for d in dirs)  # roster folders hold files
    period = period_dirs(small_run)[0].name  # the newest period folder (not duckdb_tmp/)
    pages = {
        "index": (index, "成果总览"),
        "district": (small_run / period / "html" / "10_district.html", "比对"),
        "bulletin": (small_run / period / "bulletins" / "bulletin_430302.html", "工作进展通报"),
    }
    for name, (page, words) in pages.items():
        assert name == "index" or page.relative_to(small_run).as_posix() in links
        png = browser.screenshot(page, tmp_path / f"{name}.png", fontconfig, height=1200)
        assert _ink(png) > 0.002, f"{name}: the screenshot is blank"
        seen = browser.squeeze(browser.ocr(png))
        assert words in seen, f"{name}: {seen[:200]}"  # Chinese glyphs drawn, not boxes


def test_front_page_names_the_district_as_params_do(tmp_path: Path) -> None:
    """The title takes the district name of the latest run's params (the rosters' and
    bulletins' name), not a name of its own; without one, the bundled list's."""
    period = tmp_path / "430302" / "2026-01-31"
    period.mkdir(parents=True)
    (period / "manifest.json").write_text(
        json.dumps({"params": {"district_name": "雨湖区（测试）"}}), encoding="utf-8"
    )
    assert "<h1>雨湖区（测试）（430302）" in write_front_page(tmp_path / "430302").read_text(
        "utf-8"
    )
    (period / "manifest.json").write_text(json.dumps({"params": {}}), encoding="utf-8")
    assert "<h1>雨湖区（430302）" in write_front_page(tmp_path / "430302").read_text("utf-8")
