"""Pages as a reader sees them: headless Chromium screenshots, Tesseract OCR, a machine with no CJK font.

Shared by the browser tests (pages, front page). ``scripts/bootstrap.sh test``
installs ``chromium``, ``tesseract-ocr`` and ``tesseract-ocr-chi-sim``; outside CI a
test skips with the missing binaries as its reason; in CI (``CI`` set) or under
the test command (``CANBAO_REQUIRE_BROWSER`` set) it fails instead, so the test
command always runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BINARIES = ("chromium", "tesseract")
# Fonts a bare Debian machine has (DejaVu): Latin only, no CJK glyph at all.
LATIN_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)


def missing() -> list[str]:
    """Binaries the browser tests need that are not on PATH (tesseract's chi_sim included)."""
    gone = [b for b in BINARIES if shutil.which(b) is None]
    if "tesseract" not in gone:
        langs = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
        ).stdout.split()
        if "chi_sim" not in langs:
            gone.append("tesseract-ocr-chi-sim")
    return gone


def require_browser() -> None:
    """Skip (outside CI) or fail (in CI) when chromium/tesseract are missing."""
    gone = missing()
    if not gone:
        return
    msg = f"missing {', '.join(gone)}: run `bash scripts/bootstrap.sh test` (it installs them)"
    if os.environ.get("CI") or os.environ.get("CANBAO_REQUIRE_BROWSER"):
        pytest.fail(msg)  # the test command: these tests must run
    pytest.skip(msg)


def no_cjk_fontconfig(root: Path) -> Path:
    """A fonts.conf that sees only Latin fonts, like a fresh server (``fc-list :lang=zh`` empty)."""
    root.mkdir(parents=True, exist_ok=True)
    dirs = "".join(f"<dir>{d}</dir>" for d in LATIN_FONT_DIRS if Path(d).is_dir())
    conf = root / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>{dirs}<cachedir>{root / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def cjk_fonts_seen(fontconfig: Path) -> str:
    """What ``fc-list :lang=zh`` lists under that configuration ('' = no CJK font)."""
    if shutil.which("fc-list") is None:
        return ""
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig)}
    return subprocess.run(
        ["fc-list", ":lang=zh"], capture_output=True, text=True, env=env, check=False
    ).stdout.strip()


def screenshot(
    page: Path, png: Path, fontconfig: Path, width: int = 1280, height: int = 2000
) -> Path:
    """Screenshot a local page in headless Chromium (no network, a throw-away profile)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    profile = png.parent / f"{png.stem}-profile"
    env = {
        "FONTCONFIG_FILE": str(fontconfig),
        "HOME": str(profile),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            Path(page).resolve().as_uri(),
        ],
        env=env,
        capture_output=True,
        timeout=180,
        check=False,
    )
    shutil.rmtree(profile, ignore_errors=True)
    if not png.is_file():
        raise AssertionError(f"chromium wrote no screenshot of {page}")
    return png


def ocr(png: Path, lang: str = "chi_sim") -> str:
    """Tesseract's reading of a screenshot (one thread: the machine is shared)."""
    out = subprocess.run(
        ["tesseract", str(png), "-", "-l", lang],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        timeout=300,
        check=True,
    )
    return out.stdout


def squeeze(text: str) -> str:
    """OCR text without whitespace (Tesseract puts spaces between CJK characters)."""
    return "".join(text.split())
