"""What ``canbao run`` is asked to do: the ``RunRequest`` and where its notebooks live.

Kept apart from the run itself so that the modules that plan a period or build its
notebook tasks, and ``canbao status`` and ``canbao verify``, take the same request
without importing the orchestration.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.run import manifest as mf

DISTRICT_NB = "10_district.ipynb"
TOWNSHIP_NB = "20_township.ipynb"
BULLETIN_NB = "40_bulletin.ipynb"

PeriodRunner = Callable[[Config, PeriodContext], object]


def default_notebook_dir() -> Path:
    """The checkout's ``notebooks/`` (the ones users open and edit) when run from a checkout;
    otherwise the copy a wheel ships inside the package (``canbao/notebooks``, setup.py)."""
    checkout = (mf.repo_root() or mf.package_dir().parents[1]) / "notebooks"
    if (checkout / DISTRICT_NB).exists():
        return checkout
    return Path(str(importlib.resources.files("canbao") / "notebooks"))


@dataclass(frozen=True)
class RunRequest:
    """Everything ``run_district`` takes, plus the seams tests and ``verify`` use."""

    district_dir: Path
    out_root: Path
    params_dir: Path
    period: dt.date | None = None
    workers: int | None = None  # None: params ``workers``; 0: the CPU count
    notebooks: bool = True
    force: bool = False
    params_explicit: bool = False  # --params typed: a folder that does not exist is refused
    notebook_dir: Path = field(default_factory=default_notebook_dir)
    # Runs the district stage when notebooks=False (default: canbao.run.pipeline.run_period).
    period_runner: PeriodRunner | None = None
    progress: bool = True
