"""Docs, docstrings and comments cite only this repository (a clone has no ../shared)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|contract\.md|domain\.md|toolchain\.md|splink5\.md")
FOLDERS = ("src", "tests", "benchmarks", "notebooks", "docs", "scripts", "params")
SUFFIXES = {".py", ".md", ".ipynb", ".sh", ".yaml", ".cfg", ".toml", ".j2", ".css"}


def test_nothing_points_outside_the_repository():
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "pyproject.toml"]
    for folder in FOLDERS:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES]
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        if path.is_file() and path != ROOT / "docs" / "contract.md" and ".venv" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line) and path != Path(__file__).resolve()
    ]
    assert hits == []
