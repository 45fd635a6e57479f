"""``canbao status``: each period's state, last run and the front page, without running anything.

A period is *up to date* exactly when ``canbao run`` would skip it: the same
fingerprint (:func:`canbao.run.plan.plan_period`, chained period to period)
and the same check against its manifest. Otherwise it *failed* (its last run did
not complete), was *never run*, or its *inputs changed* (the manifest's
fingerprint parts say which: input files, params, code, notebooks, or an earlier
period).
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from canbao.core import messages
from canbao.core.context import find_periods, parse_period_name
from canbao.core.errors import InputError, UsageError
from canbao.run import manifest as mf
from canbao.run.plan import plan_period
from canbao.run.request import RunRequest, default_notebook_dir

# Fingerprint parts (manifest.fingerprint_parts) → what a user calls them.
PART_NAMES = {
    "inputs": "输入文件",
    "params": "参数",
    "code": "程序代码",
    "notebooks": "笔记本",
    "previous_period": "前一期",
}


@dataclass(frozen=True)
class PeriodStatus:
    """One period's state (a catalogue code), when it last ran, and why it is stale."""

    period: str
    state: str  # status_up_to_date | status_inputs_changed | status_failed | status_never_run | status_no_inputs
    last_run: str | None = None
    changed: tuple[str, ...] = ()


def _manifests(report_dir: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for p in sorted(report_dir.iterdir()) if report_dir.is_dir() else []:
        m = mf.read_manifest(p) if p.is_dir() else None
        if m is not None:
            out[p.name] = m
    return out


def _last_run(report_dir: Path, period: str) -> str | None:
    path = report_dir / period / mf.MANIFEST_NAME
    if not path.exists():
        return None
    return dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def _request(report_dir: Path, manifests: dict[str, dict], raw: Path | None,
             params_dir: Path | None) -> RunRequest:  # fmt: skip
    """The run request the last run used (raw folder, params, notebooks), unless overridden."""
    latest = manifests[max(manifests)] if manifests else {}
    given = latest.get("input", {})
    if raw is None and given.get("district_dir"):
        raw = Path(given["district_dir"])
    if raw is None or not raw.is_dir():
        raise InputError(str(raw or report_dir), "status_no_raw_dir")
    if params_dir is None:
        pf = latest.get("params_file") or {}
        params_dir = Path(pf["file"]).parent if pf.get("file") else Path("params")
    nb_dir = given.get("notebook_dir")
    return RunRequest(
        district_dir=raw,
        out_root=report_dir.parent,
        params_dir=params_dir,
        notebooks=bool(latest.get("notebooks", True)),
        notebook_dir=Path(nb_dir) if nb_dir else default_notebook_dir(),
        progress=False,
    )


def district_status(
    report_dir: Path, raw: Path | None = None, params_dir: Path | None = None
) -> tuple[RunRequest, list[PeriodStatus]]:
    """Every period of a district (input folders and past runs), in date order."""
    report_dir = Path(report_dir)
    manifests = _manifests(report_dir)
    req = _request(report_dir, manifests, raw, params_dir)
    code_digest = mf.tree_digest(mf.package_dir())
    previous: str | None = None
    out: list[PeriodStatus] = []
    seen: set[str] = set()
    for period_dir in find_periods(req.district_dir):
        plan = plan_period(req, period_dir, previous, code_digest)
        previous = plan.fingerprint
        name = period_dir.name
        seen.add(name)
        m = manifests.get(name)
        last = _last_run(report_dir, name)
        if m is None:
            out.append(PeriodStatus(name, "status_never_run"))
        elif m.get("status") != "complete":
            out.append(PeriodStatus(name, "status_failed", last))
        elif plan.up_to_date:
            out.append(PeriodStatus(name, "status_up_to_date", last))
        else:
            before = m.get("fingerprint_parts") or {}
            changed = tuple(k for k, v in plan.parts.items() if before.get(k) != v)
            out.append(PeriodStatus(name, "status_inputs_changed", last, changed or ("outputs",)))
    for name in sorted(set(manifests) - seen):
        out.append(PeriodStatus(name, "status_no_inputs", _last_run(report_dir, name)))
    return req, sorted(out, key=lambda s: s.period)


def format_status(report_dir: Path, req: RunRequest, periods: list[PeriodStatus]) -> str:
    """The table ``canbao status`` prints: Chinese state first, its code in brackets."""
    lines = [
        messages.line(
            "status_header",
            district=report_dir.name,
            raw=req.district_dir,
            params=req.params_dir,
        )
    ]
    for s in periods:
        state = f"{messages.text(s.state)} [{s.state}]"
        row = f"  {s.period}  {state:<28}  {messages.text('status_last_run')}：{s.last_run or '—'}"
        if s.changed:
            names = "、".join(PART_NAMES.get(c, messages.text("status_outputs_missing"))
                             for c in s.changed)  # fmt: skip
            row += f"  {messages.text('status_changed')}：{names}"
        lines.append(row)
    front = report_dir / "index.html"
    lines.append(
        messages.line("status_front_page", path=front)
        if front.exists()
        else messages.line("status_no_front_page")
    )
    return "\n".join(lines)


def status_cli(
    report_dir: Path | None, out_root: Path, raw: Path | None, params_dir: Path | None
) -> int:
    """``canbao status``: one district, or every district with runs under ``out_root``."""
    if report_dir is None:
        dirs = [p for p in sorted(Path(out_root).glob("*")) if p.is_dir() and _manifests(p)]
        if not dirs:
            raise InputError(str(out_root), "status_nothing_run")
    else:
        dirs = [Path(report_dir)]
        if not dirs[0].is_dir():
            raise InputError(str(report_dir), "status_no_report_dir")
        if not _manifests(dirs[0]) and any(
            parse_period_name(p.name) for p in dirs[0].iterdir() if p.is_dir()
        ):  # period folders without run records: the extracts, typed where the reports go
            raise UsageError(str(report_dir), "status_given_raw_dir")
    blocks = []
    for d in dirs:
        req, periods = district_status(d, raw if report_dir else None, params_dir)
        blocks.append(format_status(d, req, periods))
    print("\n\n".join(blocks), file=sys.stdout)
    return 0
