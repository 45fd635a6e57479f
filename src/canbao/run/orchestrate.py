"""``canbao run``: every period of a district, in date order, as executed notebooks.

Per period: the district notebook (``10_district``: the whole pipeline, once), then
every township notebook (``20_township``) and the bulletins (``40_bulletin`` per
township and once for the district) in parallel worker processes. A township that
fails does not stop the others; the summary names it, the cell and the error. A
period whose fingerprint (inputs + params + code + notebooks) matches its manifest
is skipped. One run at a time per registry (a lock file in ``reports/<district>/``).

This module keeps the order of a run only. What a run is asked is ``run.request``;
the fingerprint, ``run.plan``; the notebooks a period runs, ``run.tasks``; executing
them (papermill, the kernel-start retry, the worker pool), ``run.notebooks``; the
lock, ``run.lock``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from canbao.core import interrupt, messages
from canbao.core.config import Config
from canbao.core.context import PeriodContext, find_periods, parse_period_name
from canbao.core.errors import CanbaoError, ExitCode, PeriodAborted, UsageError
from canbao.report.front_page import write_front_page
from canbao.run import manifest as mf
from canbao.run.lock import registry_lock
from canbao.run.log import period_log
from canbao.run.notebooks import KERNEL_NAME, TaskResult, execute_task, run_tasks
from canbao.run.paths import (
    check_district_dir,
    check_out_root,
    check_params_dir,
    cpu_count,
    district_code_of,
    storage_failure,
)
from canbao.run.plan import plan_period
from canbao.run.request import DISTRICT_NB, RunRequest
from canbao.run.stages import Follower, read_records
from canbao.run.tasks import district_task, township_list, township_tasks

RUN_LOG = mf.RUN_LOG_NAME


def _params_file(params_dir: Path, district_code: str) -> dict[str, str] | None:
    path = Path(params_dir) / f"{district_code}.yaml"
    if not path.exists():
        return None
    return {"file": str(path.resolve()), "sha256": mf.sha256_file(path)}


@dataclass
class PeriodOutcome:
    """What happened to one period."""

    period: dt.date
    skipped: bool
    fingerprint: str
    results: list[TaskResult] = field(default_factory=list)
    error: str | None = None
    # A refused input or a safety abort: its ExitCode (3 or 4) instead of 1.
    exit_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.results)


def _follow_stages(req: RunRequest, ctx: PeriodContext) -> contextlib.AbstractContextManager:
    """One console line per district-stage step, as the (kernel's) records arrive."""
    if not req.progress:
        return contextlib.nullcontext()
    return Follower(ctx.out_dir, lambda line: _say(req, f"  {line}"))


def _run_one_period(
    req: RunRequest, cfg: Config, ctx: PeriodContext
) -> tuple[list[TaskResult], str | None, list[tuple[str, str]]]:
    """District stage (notebook or direct), then townships and bulletins in parallel."""
    if not req.notebooks:
        runner = req.period_runner
        if runner is None:
            from canbao.run.pipeline import run_period as runner
        with _follow_stages(req, ctx):
            runner(cfg, ctx)
        return [], None, township_list(cfg, ctx)
    _say(req, messages.line("run_district_stage", notebook=DISTRICT_NB))
    with _follow_stages(req, ctx):
        district = execute_task(district_task(req, ctx, cfg))
    if district.ok:
        _say(req, messages.line("run_district_done", seconds=f"{district.seconds:.0f}"))
    if not district.ok:
        return [district], district.describe(), []
    townships = township_list(cfg, ctx)
    tasks = township_tasks(req, ctx, cfg, townships)
    workers = _worker_count(req, cfg, len(tasks))
    results = run_tasks(
        tasks, workers, progress=req.progress, desc=f"{ctx.period.isoformat()} 乡镇"
    )
    return [district, *results], None, townships


def _worker_count(req: RunRequest, cfg: Config, tasks: int) -> int:
    """``--workers`` (else params ``workers``; 0 = CPU count), at most one per CPU and task.

    More processes than cores only adds kernels competing for memory: a typed
    ``--workers 100`` on a 4-core PC runs 4, and says so.
    """
    asked = req.workers if req.workers is not None else cfg.workers
    asked = asked or cpu_count()
    cap = max(1, min(cpu_count(), tasks))
    if asked > cap:
        _say(req, messages.line("run_workers_capped", asked=asked, cap=cap))
    return min(asked, cap)


def _say(req: RunRequest, text: str) -> None:
    """One line of news on the console (stderr, beside the progress bar)."""
    if req.progress:
        print(text, file=sys.stderr, flush=True)


def run_period_with_manifest(
    req: RunRequest, period_dir: Path, previous_fp: str | None, code_digest: str, earlier: list[str]
) -> PeriodOutcome:
    """Run one period unless up to date, and write its manifest."""
    district_code = Path(req.district_dir).resolve().name
    plan = plan_period(req, period_dir, previous_fp, code_digest)
    ctx, cfg, inputs, parts, fp = plan.ctx, plan.cfg, plan.inputs, plan.parts, plan.fingerprint
    params = cfg.to_dict()
    if not req.force and plan.up_to_date:
        return PeriodOutcome(ctx.period, True, fp)
    if ctx.out_dir.exists():
        shutil.rmtree(ctx.out_dir)  # generated only: stale files must not survive a re-run
    ctx.out_dir.mkdir(parents=True)
    error: str | None = None
    results: list[TaskResult] = []
    townships: list[tuple[str, str]] = []
    log_path = ctx.out_dir / RUN_LOG
    _say(req, messages.line("run_period_log", period=ctx.period.isoformat(), log=log_path))
    exit_code: int | None = None
    with period_log(log_path):
        try:
            results, error, townships = _run_one_period(req, cfg, ctx)
        except CanbaoError as exc:  # refused input or a safety rule: the user's message, its code
            error, exit_code = str(exc), int(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - recorded in the manifest and the summary
            if interrupt.seen():  # Ctrl+C mid-query: no manifest, the period is redone
                raise KeyboardInterrupt from exc
            logging.getLogger("canbao.run").exception("period %s failed", ctx.period)
            reason = storage_failure(exc)  # a full disk is no bug: say so, in Chinese
            error = (
                messages.line("os_error", reason=reason)
                if reason
                else f"{type(exc).__name__}: {exc}"
            )
            exit_code = int(ExitCode.USAGE) if reason else None
    mf.attach_row_counts(inputs, ctx.exports_dir / "reconciliation.csv")
    failed = [r for r in results if not r.ok]
    status = "complete" if error is None and not failed else "failed"
    manifest = {
        "manifest_version": mf.MANIFEST_VERSION,
        "status": status,
        "district_code": district_code,
        "period": ctx.period.isoformat(),
        "earlier_periods": earlier,
        "input": {
            "district_dir": str(Path(req.district_dir).resolve()),
            "period_dir": str(Path(period_dir).resolve()),
            "notebook_dir": str(Path(req.notebook_dir).resolve()) if req.notebooks else None,
        },
        "inputs": inputs,
        "params": params,
        "params_file": _params_file(req.params_dir, district_code),
        "seeds": mf.find_seeds(params),
        "packages": mf.package_versions(),
        "git": mf.git_state(),
        "notebooks": req.notebooks,
        "kernel": KERNEL_NAME if req.notebooks else None,
        "log": RUN_LOG,
        "fingerprint": fp,
        "fingerprint_parts": parts,
        "townships": [{"code": c, "name": n} for c, n in townships],
        "failures": [r.describe() for r in failed] + ([error] if error and not failed else []),
        "outputs": mf.describe_outputs(ctx.out_dir),
        "stages": [r.to_dict() for r in read_records(ctx.out_dir)],
    }
    mf.write_manifest(ctx.out_dir, manifest)
    write_front_page(ctx.district_dir)
    return PeriodOutcome(ctx.period, False, fp, results, error, exit_code)


def _summary(outcomes: list[PeriodOutcome]) -> str:
    lines = []
    for o in outcomes:
        p = o.period.isoformat()
        if o.skipped:
            lines.append(messages.line("run_up_to_date", period=p, fingerprint=o.fingerprint[:12]))
            continue
        code = "run_period_ok" if o.ok else "run_period_failed"
        if o.results:
            n_ok = sum(r.ok for r in o.results)
            lines.append(
                messages.line(code + "_notebooks", period=p, ok=n_ok, total=len(o.results))
            )
        else:
            lines.append(messages.line(code, period=p))
        lines += [f"  {r.describe()}" for r in o.results if not r.ok]
        if o.error and all(r.ok for r in o.results):
            lines.append(f"  {o.error}")
        notes = sorted({n for r in o.results for n in r.notes})
        lines += [f"  {messages.text('run_note')}：{n}" for n in notes]
    return "\n".join(lines)


def _periods(req: RunRequest) -> list[Path]:
    """The period folders to run, or a UsageError naming the folder and why.

    The folders are checked first (``canbao.run.paths``): nothing is read or written
    for a district folder, output folder or params folder that is a mistake.
    """
    where = str(req.district_dir)
    check_district_dir(req.district_dir)
    periods = find_periods(req.district_dir)
    if req.period is not None:
        periods = [p for p in periods if dt.date.fromisoformat(p.name) <= req.period]
        if not periods or periods[-1].name != req.period.isoformat():
            raise UsageError(where, "run_no_period_folder", period=req.period.isoformat())
    if not periods:
        raise UsageError(where, "run_no_periods")
    district_code = district_code_of(req.district_dir)
    check_params_dir(req.params_dir, district_code, explicit=req.params_explicit)
    check_out_root(req.out_root, req.district_dir)
    return periods


def committed_periods(registry: Path) -> list[dt.date]:
    """The periods the registry holds, oldest first ([] before the first commit)."""
    if not registry.exists():
        return []
    from canbao.core.engine import open_registry_db

    eng = open_registry_db(registry, read_only=True)  # under the budget, like every connection
    try:
        if not eng.table_exists("registry_history"):
            return []
        rows = eng.con.execute("SELECT DISTINCT period FROM registry_history ORDER BY 1").fetchall()
    finally:
        eng.close()
    return [r[0] for r in rows]


def refuse_period_before_registry(periods: list[Path], district_out: Path) -> None:
    """PeriodAborted for a period folder older than the registry's latest period and not in it.

    The registry accumulates in date order: a roster issued in one period is what the next
    period's survey returns are checked against. An extract folder for an earlier date
    that turns up after a later period was committed cannot be slotted in: running it
    would re-run the later period on a history it never had (its returns rejected as
    "不在下发名单" a second time, without a word). Rerunning a period already in the
    registry (``--force``, changed inputs) stays allowed.
    """
    committed = committed_periods(district_out / "registry.duckdb")
    if not committed:
        return
    for p in periods:
        date = parse_period_name(p.name)
        if date is not None and date < committed[-1] and date not in committed:
            raise PeriodAborted(
                "run_period_before_registry",
                period=p.name,
                latest=committed[-1].isoformat(),
                out=district_out,
            )


def run_request(req: RunRequest) -> tuple[int, list[PeriodOutcome]]:
    """Run (or skip) every period up to ``req.period``; exit code and outcomes."""
    periods = _periods(req)
    district_code = Path(req.district_dir).resolve().name
    if not (Path(req.params_dir) / f"{district_code}.yaml").is_file():
        name = f"{district_code}.yaml"
        _say(req, messages.line("params_defaults_used", params=req.params_dir, name=name))
    outcomes: list[PeriodOutcome] = []
    with registry_lock(Path(req.out_root) / district_code):
        refuse_period_before_registry(periods, Path(req.out_root) / district_code)
        code_digest = mf.tree_digest(mf.package_dir())
        previous: str | None = None
        earlier: list[str] = []
        for period_dir in periods:
            outcome = run_period_with_manifest(
                req, period_dir, previous, code_digest, list(earlier)
            )
            outcomes.append(outcome)
            if outcome.error is not None:
                break  # later periods build on this one's registry
            previous = outcome.fingerprint
            earlier.append(period_dir.name)
        write_front_page(Path(req.out_root) / district_code)  # skipped periods too
    print(_summary(outcomes), file=sys.stderr)
    return _exit_code(outcomes), outcomes


def _exit_code(outcomes: list[PeriodOutcome]) -> int:
    """0 when all went well; a refused input or abort gives its own code; else 1."""
    for o in outcomes:
        if o.exit_code is not None:
            return o.exit_code
    return 0 if all(o.ok for o in outcomes) else int(ExitCode.NOTEBOOKS_FAILED)


def run_district(
    district_dir: Path,
    out_root: Path,
    params_dir: Path,
    period: dt.date | None,
    workers: int | None,
    notebooks: bool,
    force: bool,
    params_explicit: bool = False,
) -> int:
    """``canbao run data/raw/<district>``: exit code 0 when every period and notebook succeeded."""
    code, _ = run_request(
        RunRequest(
            district_dir=Path(district_dir),
            out_root=Path(out_root),
            params_dir=Path(params_dir),
            period=period,
            workers=workers,
            notebooks=notebooks,
            force=force,
            params_explicit=params_explicit,
        )
    )
    return code
