"""The district stage of one period: ingest → clean → persons → link → survey → classify →
registry → exports → 批量导入 file → rosters.

Each stage is a function of ``(engine, cfg, ctx)`` in its own module; this module
only orders them (design: docs/design.md). Notebooks and the CLI call
:func:`run_period`, or the stages one by one. The stages are imported at the top:
none of them imports this module (``PeriodContext`` lives in ``canbao.core.context``),
and ``tests/test_imports.py`` keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable

from canbao import linkage, survey
from canbao.classify import status as classify
from canbao.clean import stage as clean
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, open_registry_db
from canbao.ingest import load_period
from canbao.registry.commit import commit_period
from canbao.registry.persons import resolve_persons
from canbao.report import exports
from canbao.run.stages import Recorder
from canbao.survey import provincial

Stage = Callable[[Engine, Config, PeriodContext], object]


def stages() -> list[tuple[str, Stage]]:
    """The district stage's steps in order."""
    return [
        ("ingest", load_period),
        ("clean", clean.standardise),
        ("persons", resolve_persons),
        ("link", linkage.link_period),
        ("survey_returns", survey.import_returns),
        ("classify", classify.classify),
        ("registry", commit_period),
        ("exports", exports.write_exports),
        ("provincial_import", provincial.write_import_file),
        ("rosters", survey.issue_rosters),
    ]


def open_registry(cfg: Config, ctx: PeriodContext, *, read_only: bool = False) -> Engine:
    """The district's registry database (created on first use)."""
    ctx.district_dir.mkdir(parents=True, exist_ok=True)
    return open_registry_db(ctx.registry_path, cfg.engine, read_only=read_only)


def run_period(
    cfg: Config, ctx: PeriodContext, *, engine: Engine | None = None, only: set[str] | None = None
) -> dict[str, object]:
    """Run the district stage for one period; returns each stage's result by name.

    Each stage is measured (time, CPU, peak memory, key counts) and its record appended
    to ``<period>/stages.jsonl`` (:mod:`canbao.run.stages`)."""
    own = engine is None
    engine = engine or open_registry(cfg, ctx)
    results: dict[str, object] = {}
    try:
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        recorder = Recorder(ctx.out_dir)
        for name, stage in stages():
            if only is None or name in only:
                results[name] = recorder.run(name, stage, engine, cfg, ctx)
    finally:
        if own:
            engine.close()
    return results
