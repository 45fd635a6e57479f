"""What a notebook opens first: its period, its params and the district's registry.

The three source notebooks (district, township, bulletin) call :func:`open_period`
with their parameters. ``canbao run`` injects paths relative to the executed copy's
folder; opened in JupyterLab from ``notebooks/`` the defaults are empty strings,
and the paths then resolve from the project root (the nearest folder above the
working directory holding ``params/`` and ``notebooks/``): ``data/raw/<district>/``,
``reports/``, ``params/``. An empty ``period`` means the latest period folder of the
district, found now, so the notebooks follow the data instead of a hard-coded date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from canbao.core.config import Config, load_config
from canbao.core.context import PeriodContext, find_periods, period_context
from canbao.core.engine import Engine, open_registry_db
from canbao.run.log import route_library_logs


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``params/`` and ``notebooks/`` at or above ``start`` (default: cwd).

    Falls back to the checkout the package is installed from, then to ``start``.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    from canbao.run import manifest

    return manifest.repo_root() or here


def latest_period(district_raw: Path) -> str:
    """The newest ``YYYY-MM-DD`` folder of a district's extracts."""
    periods = find_periods(district_raw) if Path(district_raw).is_dir() else []
    if not periods:
        raise FileNotFoundError(
            f"{district_raw}: no period folders YYYY-MM-DD (run `bash scripts/bootstrap.sh demo` first)"
        )
    return periods[-1].name


@dataclass(frozen=True)
class NotebookPeriod:
    """The period a notebook works on: its params (``cfg``), folders (``ctx``) and registry."""

    cfg: Config
    ctx: PeriodContext
    registry_path: Path

    @property
    def period(self) -> dt.date:
        return self.ctx.period

    def registry(self, *, read_only: bool = True) -> Engine:
        """The district's registry (read-only unless the notebook runs the district stage),
        under the params' memory budget like every connection of a run."""
        if not read_only:
            self.registry_path.parent.mkdir(parents=True, exist_ok=True)
        return open_registry_db(self.registry_path, self.cfg.engine, read_only=read_only)


def open_period(
    district_code: str,
    period: str = "",
    *,
    period_dir: str = "",
    out_root: str = "",
    params_dir: str = "",
    registry_path: str = "",
) -> NotebookPeriod:
    """Resolve a notebook's parameters into a :class:`NotebookPeriod`; empty means default.

    Also sends library warnings and log records to the run log (or the Jupyter
    server's console), not into the notebook.
    """
    route_library_logs()
    root = project_root()
    raw = root / "data" / "raw" / district_code
    pdir = Path(period_dir) if period_dir else raw / (period or latest_period(raw))
    out = Path(out_root) if out_root else root / "reports"
    params = Path(params_dir) if params_dir else root / "params"
    cfg = load_config(district_code, params)
    ctx = period_context(pdir, out, district_code)
    if period and ctx.period.isoformat() != period:
        raise ValueError(f"period {period} does not match its folder {pdir}")
    reg = Path(registry_path) if registry_path else ctx.registry_path
    return NotebookPeriod(cfg, ctx, reg)
