"""Where one period's inputs and outputs are: the context every stage receives.

It lives in the core, not in ``pipeline``, so that stages can name it without
importing the module that orders them (no import circle).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from canbao.core.errors import UsageError


@dataclass(frozen=True)
class PeriodContext:
    """Where a period's inputs and outputs are, and its reference date."""

    district_code: str
    period: dt.date
    period_dir: Path  # data/raw/<district>/<period>
    out_root: Path  # reports/

    @property
    def district_dir(self) -> Path:
        return self.out_root / self.district_code

    @property
    def out_dir(self) -> Path:
        return self.district_dir / self.period.isoformat()

    @property
    def exports_dir(self) -> Path:
        return self.out_dir / "exports"

    @property
    def registry_path(self) -> Path:
        return self.district_dir / "registry.duckdb"

    @property
    def ref_date(self) -> dt.date:
        """A period's reference date is its extract date (contract §7)."""
        return self.period


def period_context(
    period_dir: Path, out_root: Path, district_code: str | None = None
) -> PeriodContext:
    """Context from a contract folder ``data/raw/<district>/<YYYY-MM-DD>``."""
    period_dir = Path(period_dir)
    period = parse_period_name(period_dir.name)
    if period is None:
        raise UsageError(str(period_dir), "period_folder_not_date")
    return PeriodContext(
        district_code=district_code or period_dir.parent.name,
        period=period,
        period_dir=period_dir,
        out_root=Path(out_root),
    )


_DATE_LIKE = re.compile(r"^\d{4}\D?\d{1,2}\D?\d{1,2}$")


def parse_period_name(name: str) -> dt.date | None:
    """The extract date a period folder is named for (``YYYY-MM-DD`` exactly), else None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


# What the tools around a folder leave in it while a file is open or a folder is browsed:
# Excel's and WPS's owner file ~$户籍人口.xlsx, LibreOffice's .~lock.户籍人口.xlsx#, hidden
# files (.DS_Store, ._hukou.csv), Windows' Thumbs.db / desktop.ini, a zip's __MACOSX/.
_NOISE_PREFIXES = (".", "~$")
_NOISE_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx"})


def is_folder_noise(relative: Path) -> bool:
    """A file (given relative to the period folder) that no sender put there: never read,
    never refused, and not part of the period's inputs (opening Excel changes nothing)."""
    return any(
        part.startswith(_NOISE_PREFIXES) or part.lower() in _NOISE_NAMES
        for part in Path(relative).parts
    )


def find_periods(district_dir: Path) -> list[Path]:
    """Period folders of a district, in date order.

    A folder that looks like a date but is none (``2026-13-01``, ``2026-11-5``,
    ``20261115``) is refused by name: skipping it would drop a period without a word.
    Other folders (notes, archives) are left alone.
    """
    out = []
    for p in sorted(Path(district_dir).iterdir()):
        if not p.is_dir() or p.name.startswith("."):
            continue
        if parse_period_name(p.name) is not None:
            out.append(p)
        elif _DATE_LIKE.match(p.name):
            raise UsageError(str(p), "period_folder_not_date")
    return out
