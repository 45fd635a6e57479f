"""Find each extract's file(s) in a period folder.

``hukou.xlsx``, ``hukou.csv`` or ``hukou.txt`` (any case), or parts ``hukou_1.csv``, ``hukou_2.xlsx``…
that are read in natural order and concatenated, each row keeping its own file name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from canbao.core.context import is_folder_noise
from canbao.core.errors import InputError
from canbao.core.schema import Extract

SHEET_SUFFIXES = (".xlsx", ".csv", ".xls", ".xlsm")
# Excel's "Unicode 文本" and "文本文件(制表符分隔)" exports: read when named as an extract
# (hukou.txt); a .txt not named as one is a note and left alone.
TEXT_SUFFIXES = (".txt", ".tsv")
READABLE_SUFFIXES = (*SHEET_SUFFIXES, *TEXT_SUFFIXES)
# Where a sender's other exports may hide: a stem with these suffixes is refused, not skipped.
DATA_SUFFIXES = (*READABLE_SUFFIXES, ".et", ".ods", ".dbf", ".zip", ".rar", ".7z")


def _natural_key(name: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name.lower())]


def find_extract_files(period_dir: Path, extract: Extract) -> list[Path]:
    """The files of ``extract`` in ``period_dir``; [] if none, InputError if ambiguous."""
    whole: list[Path] = []
    parts: list[Path] = []
    stem = extract.name.lower()
    for p in sorted(Path(period_dir).iterdir()):
        if _skipped(p) or p.suffix.lower() not in READABLE_SUFFIXES:
            continue
        s = p.stem.lower()
        if s == stem:
            whole.append(p)
        elif _belongs(s, extract):
            parts.append(p)
    if len(whole) > 1 or (whole and parts):
        names = ", ".join(p.name for p in sorted(whole + parts, key=lambda p: _natural_key(p.name)))
        raise InputError(whole[0].name, "extract_several_files", extract=extract.name, names=names)
    parts = sorted(parts, key=lambda p: _natural_key(p.name))
    _refuse_copies(parts, extract)
    return whole or parts


def _refuse_copies(parts: list[Path], extract: Extract) -> None:
    """Two parts with the same bytes are one file sent twice (hukou_2.csv a copy of
    hukou_1.csv): read, every person would be there twice, so the copy is refused."""
    seen: dict[tuple[int, str], Path] = {}
    by_size: dict[int, list[Path]] = {}
    for p in parts:
        by_size.setdefault(p.stat().st_size, []).append(p)
    for size, same in by_size.items():
        if len(same) < 2:
            continue
        for p in same:
            with p.open("rb") as fh:
                key = (size, hashlib.file_digest(fh, "sha256").hexdigest())
            if key in seen:
                raise InputError(
                    p.name, "extract_part_copy", extract=extract.name, first=seen[key].name
                )
            seen[key] = p


def _skipped(p: Path) -> bool:
    return not p.is_file() or is_folder_noise(Path(p.name))


def _belongs(stem: str, extract: Extract) -> bool:
    name = extract.name.lower()
    return stem == name or stem.startswith(name + "_")


def unexpected_files(
    period_dir: Path, extracts: Sequence[Extract]
) -> list[tuple[str, str, dict[str, str]]]:
    """(file, message code, its fields) for each file in ``period_dir`` whose rows ingest would never read.

    A spreadsheet or CSV whose name is no extract (``户籍人口.xlsx``, ``hukou (1).csv``,
    a survey return outside ``survey_returns/``), or an extract in a format that is not
    read (``hukou.ods``, ``students.zip``). Other files (notes, Word documents, PDFs)
    hold no rows and are left alone.
    """
    out: list[tuple[str, str, dict[str, str]]] = []
    names = ", ".join(e.name for e in extracts)
    for p in sorted(Path(period_dir).iterdir(), key=lambda p: _natural_key(p.name)):
        suffix = p.suffix.lower()
        if _skipped(p) or suffix not in DATA_SUFFIXES:
            continue
        stem = p.stem.lower()
        known = next((e for e in extracts if _belongs(stem, e)), None)
        if known is None and suffix in SHEET_SUFFIXES:
            out.append((p.name, "file_not_an_extract", {"names": names}))
        elif known is not None and suffix not in READABLE_SUFFIXES:
            out.append(
                (p.name, "extract_format_not_read", {"extract": known.name, "suffix": suffix})
            )
    return out
