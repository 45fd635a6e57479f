"""``canbao verify reports/<district>/<period>``: re-execute a period from its manifest and compare.

The re-run uses the recorded input folder and params (every earlier period too, since
the registry builds on them) in a temporary folder; then each output is compared with
the one in the report folder: data files byte for byte, notebooks on their outputs
with volatile text sanitised. Exit 0 only if everything is identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from canbao.core import messages
from canbao.core.errors import UsageError
from canbao.run import manifest as mf
from canbao.run.stages import VOLATILE_PATTERN

# Text that legitimately differs between two executions (same list as tests/notebooks/sanitize.cfg).
SANITIZE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?", "TIMESTAMP"),
    (r"/tmp/[A-Za-z0-9_.\-/]+", "TMPDIR"),
    (r"0x[0-9a-fA-F]{6,}", "0xADDR"),
    (VOLATILE_PATTERN, "VOLATILE"),  # the district report's stage timings
)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One output: ``identical``, ``different``, ``missing`` (not re-created) or ``extra``."""

    file: str
    status: str
    detail: str = ""


def sanitise(text: str) -> str:
    """Replace volatile fragments (timestamps, temp dirs, addresses) by placeholders."""
    for pattern, repl in SANITIZE_PATTERNS:
        text = re.sub(pattern, repl, text)
    return text


def notebook_outputs(path: Path) -> list[tuple[int, str]]:
    """Per code cell (bar the injected parameters): its outputs as sanitised canonical JSON."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue  # holds the run's paths; its effect shows in the other cells
        outputs = [{k: v for k, v in o.items() if k != "metadata"} for o in cell.get("outputs", [])]
        out.append((i, sanitise(json.dumps(outputs, sort_keys=True, ensure_ascii=False))))
    return out


def compare_file(rel: str, original: Path, rerun: Path) -> Comparison:
    """Compare one output of the report folder with its re-executed twin."""
    if not rerun.exists():
        return Comparison(rel, "missing")
    if not original.exists():
        return Comparison(rel, "different", messages.line("verify_missing_in_report"))
    if original.suffix == ".ipynb":
        a, b = notebook_outputs(original), notebook_outputs(rerun)
        if a == b:
            return Comparison(rel, "identical")
        if len(a) != len(b):
            return Comparison(
                rel, "different", messages.line("verify_cell_count", a=len(a), b=len(b))
            )
        cells = [str(i) for (i, x), (_, y) in zip(a, b, strict=True) if x != y]
        return Comparison(
            rel, "different", messages.line("verify_cells_differ", cells="、".join(cells))
        )
    if original.read_bytes() == rerun.read_bytes():
        return Comparison(rel, "identical")
    if original.suffix == ".html" and _without_volatile(original) == _without_volatile(rerun):
        return Comparison(rel, "identical")  # only the stage timings differ
    a, b = mf.sha256_file(original)[:12], mf.sha256_file(rerun)[:12]
    return Comparison(rel, "different", messages.line("verify_bytes_differ", a=a, b=b))


def _without_volatile(path: Path) -> str:
    """A page's text without its volatile blocks (the stage table's timings)."""
    return re.sub(VOLATILE_PATTERN, "VOLATILE", path.read_text(encoding="utf-8", errors="replace"))


def _input_changes(m: dict[str, Any]) -> list[str]:
    """Recorded inputs whose files changed or vanished since the run."""
    period_dir = Path(m["input"]["period_dir"])
    now = {i["file"]: i["sha256"] for i in mf.describe_inputs(period_dir)}
    was = {i["file"]: i["sha256"] for i in m["inputs"]}
    return sorted(f for f in set(now) | set(was) if now.get(f) != was.get(f))


def verify_report(report_dir: Path, work_dir: Path) -> tuple[list[Comparison], list[str]]:
    """Re-run the period recorded in ``report_dir`` under ``work_dir``; comparisons and notes."""
    from canbao.run.orchestrate import run_request
    from canbao.run.request import RunRequest, default_notebook_dir

    report_dir = Path(report_dir)
    m = mf.read_manifest(report_dir)
    if m is None:
        raise UsageError(str(report_dir), "verify_no_manifest", name=mf.MANIFEST_NAME)
    notes: list[str] = []
    changed = _input_changes(m)
    if changed:
        notes.append(messages.line("verify_inputs_changed", files="、".join(changed)))
    code_now = mf.tree_digest(mf.package_dir())
    if code_now != m["fingerprint_parts"]["code"]:
        notes.append(messages.line("verify_code_changed"))
    if m.get("status") != "complete":
        failures = "；".join(m.get("failures", []))
        notes.append(messages.line("verify_run_incomplete", failures=failures))

    district = m["district_code"]
    params_dir = Path(work_dir) / "params"
    params_dir.mkdir(parents=True, exist_ok=True)
    (params_dir / f"{district}.yaml").write_text(
        yaml.safe_dump(m["params"], allow_unicode=True, sort_keys=True), encoding="utf-8"
    )
    out_root = Path(work_dir) / "reports"
    nb_dir = m["input"].get("notebook_dir")
    req = RunRequest(
        district_dir=Path(m["input"]["district_dir"]),
        out_root=out_root,
        params_dir=params_dir,
        period=dt.date.fromisoformat(m["period"]),
        notebooks=bool(m["notebooks"]),
        force=True,
        notebook_dir=Path(nb_dir) if nb_dir else default_notebook_dir(),
        progress=False,
    )
    code, _ = run_request(req)
    if code != 0:
        notes.append(messages.line("verify_rerun_failed"))
    rerun_dir = out_root / district / m["period"]
    recorded = [o["file"] for o in m["outputs"]]
    results = [compare_file(f, report_dir / f, rerun_dir / f) for f in recorded]
    produced = {o["file"] for o in mf.describe_outputs(rerun_dir)}
    results += [Comparison(f, "extra") for f in sorted(produced - set(recorded))]
    return results, notes


def report_line(r: Comparison) -> str:
    """``一致 [identical]  exports/registry.csv``, with the detail of a difference after it."""
    label = f"{messages.text('verify_' + r.status)} [{r.status}]"
    return f"{label}  {r.file}" + (f"  （{r.detail}）" if r.detail else "")


def verify(report_dir: Path) -> int:
    """Print one line per output (identical / different); 0 only if all are identical."""
    with tempfile.TemporaryDirectory(prefix="canbao-verify-") as tmp:
        results, notes = verify_report(Path(report_dir), Path(tmp))
    for r in results:
        print(report_line(r))
    for n in notes:
        print(f"{messages.text('verify_note')}：{n}")
    bad = [r for r in results if r.status != "identical"]
    summary = messages.line("verify_summary", same=len(results) - len(bad), bad=len(bad))
    print(summary, file=sys.stderr)
    return 0 if results and not bad else 1
