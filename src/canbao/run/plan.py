"""A period's plan: its context, params, inputs and the fingerprint that decides a re-run.

``canbao run`` skips a period whose fingerprint (inputs + params + code + notebooks +
the previous period's fingerprint) matches a complete manifest with every output in
place; ``canbao status`` asks the same question without running anything, so both
take it from here. Params that change only how fast a run goes, not what it writes,
are left out of the fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canbao.core.config import Config, load_config
from canbao.core.context import PeriodContext, period_context
from canbao.run import manifest as mf
from canbao.run.request import BULLETIN_NB, DISTRICT_NB, TOWNSHIP_NB, RunRequest

# Fields of the params that change how fast, not what: excluded from the fingerprint.
_NON_OUTPUT_PARAMS = ("workers", "engine")


def _params_for_fingerprint(cfg: Config) -> dict[str, Any]:
    d = cfg.to_dict()
    for key in _NON_OUTPUT_PARAMS:
        d.pop(key, None)
    return d


def _notebooks_digest(notebook_dir: Path) -> str:
    files = [notebook_dir / n for n in (DISTRICT_NB, TOWNSHIP_NB, BULLETIN_NB)]
    return mf.tree_digest(notebook_dir, [f for f in files if f.exists()])


def _up_to_date(out_dir: Path, fp: str) -> bool:
    m = mf.read_manifest(out_dir)
    if not m or m.get("status") != "complete" or m.get("fingerprint") != fp:
        return False
    return all((out_dir / o["file"]).exists() for o in m.get("outputs", []))


@dataclass(frozen=True)
class PeriodPlan:
    """A period's context, params, inputs and fingerprint, before anything runs."""

    ctx: PeriodContext
    cfg: Config
    inputs: list[dict[str, Any]]
    parts: dict[str, Any]
    fingerprint: str

    @property
    def up_to_date(self) -> bool:
        """True when ``run`` would skip this period (``canbao status`` asks the same)."""
        return _up_to_date(self.ctx.out_dir, self.fingerprint)


def plan_period(
    req: RunRequest, period_dir: Path, previous_fp: str | None, code_digest: str
) -> PeriodPlan:
    """The fingerprint ``run`` compares with the manifest: inputs, params, code, notebooks, chain."""
    district_code = Path(req.district_dir).resolve().name
    ctx = period_context(period_dir, req.out_root, district_code)
    cfg = load_config(district_code, req.params_dir)
    inputs = mf.describe_inputs(period_dir)
    parts = mf.fingerprint_parts(
        inputs,
        _params_for_fingerprint(cfg),
        code_digest,
        _notebooks_digest(req.notebook_dir) if req.notebooks else None,
        previous_fp,
    )
    return PeriodPlan(ctx, cfg, inputs, parts, mf.fingerprint(parts))
