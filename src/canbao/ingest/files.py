"""Find each extract's file(s) in a period folder.

``hukou.xlsx`` or ``hukou.csv`` (any case), or parts ``hukou_1.csv``, ``hukou_2.xlsx``…
that are read in natural order and concatenated, each row keeping its own file name.
"""

from __future__ import annotations

import re
from pathlib import Path

from canbao.errors import InputError
from canbao.schema import Extract

READABLE_SUFFIXES = (".xlsx", ".csv", ".xls", ".xlsm")


def _natural_key(name: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name.lower())]


def find_extract_files(period_dir: Path, extract: Extract) -> list[Path]:
    """The files of ``extract`` in ``period_dir``; [] if none, InputError if ambiguous."""
    whole: list[Path] = []
    parts: list[Path] = []
    stem = extract.name.lower()
    for p in sorted(Path(period_dir).iterdir()):
        if not p.is_file() or p.name.startswith((".", "~$")):
            continue
        if p.suffix.lower() not in READABLE_SUFFIXES:
            continue
        s = p.stem.lower()
        if s == stem:
            whole.append(p)
        elif s.startswith(stem + "_"):
            parts.append(p)
    if len(whole) > 1 or (whole and parts):
        names = ", ".join(p.name for p in sorted(whole + parts, key=lambda p: _natural_key(p.name)))
        raise InputError(
            whole[0].name,
            f"several files for extract {extract.name} ({names}); keep one, or name all parts "
            f"{extract.name}_1, {extract.name}_2, …",
        )
    return whole or sorted(parts, key=lambda p: _natural_key(p.name))
