"""The district stage of one period: ingest → clean → persons → link → survey → classify → registry → exports.

Each stage is a function of ``(engine, cfg, ctx)`` in its own module; this module
only orders them (design: docs/design.md). Notebooks and the CLI call
:func:`run_period`, or the stages one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from canbao.config import Config
from canbao.engine import Engine, open_engine


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
        """Contract §7: a period's reference date is its extract date."""
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


Stage = Callable[[Engine, Config, PeriodContext], object]


def stages() -> list[tuple[str, Stage]]:
    """The district stage's steps in order (imported lazily: nothing runs at import)."""
    from canbao import classify, clean, exports, linkage, registry, survey
    from canbao.ingest import load_period

    return [
        ("ingest", load_period),
        ("clean", clean.standardise),
        ("persons", registry.resolve_persons),
        ("link", linkage.link_period),
        ("survey_returns", survey.import_returns),
        ("classify", classify.classify),
        ("registry", registry.commit_period),
        ("exports", exports.write_exports),
        ("rosters", survey.issue_rosters),
    ]


def open_registry(cfg: Config, ctx: PeriodContext, *, read_only: bool = False) -> Engine:
    """The district's registry database (created on first use)."""
    ctx.district_dir.mkdir(parents=True, exist_ok=True)
    return open_engine("duckdb", ctx.registry_path, read_only=read_only)


def run_period(
    cfg: Config, ctx: PeriodContext, *, engine: Engine | None = None, only: set[str] | None = None
) -> dict[str, object]:
    """Run the district stage for one period; returns each stage's result by name."""
    own = engine is None
    engine = engine or open_registry(cfg, ctx)
    results: dict[str, object] = {}
    try:
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        for name, stage in stages():
            if only is None or name in only:
                results[name] = stage(engine, cfg, ctx)
    finally:
        if own:
            engine.close()
    return results
