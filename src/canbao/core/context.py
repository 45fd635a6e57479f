"""Where one period's inputs and outputs are: the context every stage receives.

It lives in the core, not in ``pipeline``, so that stages can name it without
importing the module that orders them (no import circle).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


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
        """A period's reference date is its extract date (docs/contract.md §7)."""
        return self.period


def period_context(
    period_dir: Path, out_root: Path, district_code: str | None = None
) -> PeriodContext:
    """Context from a contract folder ``data/raw/<district>/<YYYY-MM-DD>``."""
    period_dir = Path(period_dir)
    try:
        period = dt.date.fromisoformat(period_dir.name)
    except ValueError as exc:
        raise ValueError(f"{period_dir}: period folder must be named YYYY-MM-DD") from exc
    return PeriodContext(
        district_code=district_code or period_dir.parent.name,
        period=period,
        period_dir=period_dir,
        out_root=Path(out_root),
    )


def find_periods(district_dir: Path) -> list[Path]:
    """Period folders of a district, in date order."""
    out = []
    for p in sorted(Path(district_dir).iterdir()):
        if p.is_dir():
            try:
                dt.date.fromisoformat(p.name)
            except ValueError:
                continue
            out.append(p)
    return out
