"""The pages read right on a machine with no CJK font: headless Chromium screenshots, Tesseract reads the title.

A font configuration holding only DejaVu (``fc-list :lang=zh`` empty, like a fresh
Debian server) is given to Chromium; the front page, the district report, one
township report and one HTML bulletin of a small demo run are screenshotted and
OCR'd with ``tesseract -l chi_sim``. Each page's Chinese title (its first
``<h1>``) must be read back. Pages that only name system fonts show empty boxes
there, and Tesseract reads ``0000…``.

The test command runs it after nbval on the pages nbval built
(``CANBAO_PAGES_DIR=build/nbval/reports/430302``); without that variable it
generates and runs its own small demo through the ``canbao`` command.
"""

from __future__ import annotations

import difflib
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.browser import (
    cjk_fonts_seen,
    no_cjk_fontconfig,
    ocr,
    require_browser,
    screenshot,
)

pytestmark = pytest.mark.browser

DISTRICT = "430302"
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_TAG = re.compile(r"<[^>]+>")
_CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def district_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``reports/430302`` of a small demo run with notebooks (built by nbval, or here)."""
    require_browser()
    given = os.environ.get("CANBAO_PAGES_DIR")
    if given:
        return Path(given)
    root = tmp_path_factory.mktemp("pages")
    canbao = [sys.executable, "-m", "canbao"]
    subprocess.run(
        [*canbao, "demo", "--district", DISTRICT, "--people", "1500", "--periods", "1",
         "--seed", "20261128", "--raw", str(root / "raw"), "--truth", str(root / "truth")],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*canbao, "run", str(root / "raw" / DISTRICT), "--out", str(root / "reports")],
        check=True,
        capture_output=True,
    )
    return root / "reports" / DISTRICT


@pytest.fixture(scope="module")
def fontconfig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    conf = no_cjk_fontconfig(tmp_path_factory.mktemp("nocjk"))
    assert cjk_fonts_seen(conf) == "", "the test font configuration must hold no CJK font"
    return conf


def _pages(district_dir: Path) -> dict[str, Path]:
    period = sorted(p for p in district_dir.iterdir() if re.fullmatch(r"\d{4}-\d\d-\d\d", p.name))[
        -1
    ]
    townships = sorted((period / "html").glob("20_township_*.html"))
    return {
        "front page": district_dir / "index.html",
        "district report": period / "html" / "10_district.html",
        "township report": townships[0],
        "bulletin": period / "bulletins" / f"bulletin_{DISTRICT}.html",
    }


def title_of(page: Path) -> str:
    """The page's first ``<h1>`` as CJK characters only (what OCR is compared on)."""
    m = _H1.search(page.read_text(encoding="utf-8"))
    assert m, f"{page.name} has no <h1>"
    return "".join(_CJK.findall(html.unescape(_TAG.sub("", m.group(1)))))


def read_share(title: str, text: str) -> float:
    """Share of the title found in one piece in the OCR text (CJK characters only)."""
    seen = "".join(_CJK.findall(text))
    match = difflib.SequenceMatcher(None, title, seen, autojunk=False).find_longest_match()
    return match.size / len(title)


@pytest.mark.parametrize("which", ["front page", "district report", "township report", "bulletin"])
def test_page_title_is_readable_without_any_cjk_font(
    which: str, district_dir: Path, fontconfig: Path, tmp_path: Path
) -> None:
    page = _pages(district_dir)[which]
    title = title_of(page)
    assert len(title) >= 6, title
    text = ocr(screenshot(page, tmp_path / "shot.png", fontconfig))
    share = read_share(title, text)
    assert share >= 0.8, f"{which}: OCR read {text[:200]!r}, title {title!r} ({share:.0%})"


def test_read_share_tells_boxes_from_text() -> None:
    # What Tesseract read from a bulletin whose font was missing, and from one with it.
    assert read_share("全民参保登记工作进展通报", "0UUU00000000 2026 11 15") == 0
    assert read_share("全民参保登记工作进展通报", "全 民 参 保 登 记 工 作 进 展 通 报\n") == 1
