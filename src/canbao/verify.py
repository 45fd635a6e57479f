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

from canbao import manifest as mf

# Text that legitimately differs between two executions (same list as tests/notebooks/sanitize.cfg).
SANITIZE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?", "TIMESTAMP"),
    (r"/tmp/[A-Za-z0-9_.\-/]+", "TMPDIR"),
    (r"0x[0-9a-fA-F]{6,}", "0xADDR"),
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
        return Comparison(rel, "missing", "not produced by the re-run")
    if not original.exists():
        return Comparison(rel, "different", "missing from the report folder")
    if original.suffix == ".ipynb":
        a, b = notebook_outputs(original), notebook_outputs(rerun)
        if a == b:
            return Comparison(rel, "identical")
        if len(a) != len(b):
            return Comparison(rel, "different", f"{len(a)} vs {len(b)} code cells")
        cells = [str(i) for (i, x), (_, y) in zip(a, b, strict=True) if x != y]
        return Comparison(rel, "different", f"outputs differ in cell(s) {', '.join(cells)}")
    if original.read_bytes() == rerun.read_bytes():
        return Comparison(rel, "identical")
    return Comparison(
        rel, "different", f"sha256 {mf.sha256_file(original)[:12]} vs {mf.sha256_file(rerun)[:12]}"
    )


def _input_changes(m: dict[str, Any]) -> list[str]:
    """Recorded inputs whose files changed or vanished since the run."""
    period_dir = Path(m["input"]["period_dir"])
    now = {i["file"]: i["sha256"] for i in mf.describe_inputs(period_dir)}
    was = {i["file"]: i["sha256"] for i in m["inputs"]}
    return sorted(f for f in set(now) | set(was) if now.get(f) != was.get(f))


def verify_report(report_dir: Path, work_dir: Path) -> tuple[list[Comparison], list[str]]:
    """Re-run the period recorded in ``report_dir`` under ``work_dir``; comparisons and notes."""
    from canbao.orchestrate import RunRequest, default_notebook_dir, run_request

    report_dir = Path(report_dir)
    m = mf.read_manifest(report_dir)
    if m is None:
        raise FileNotFoundError(f"{report_dir}: no readable {mf.MANIFEST_NAME}")
    notes: list[str] = []
    changed = _input_changes(m)
    if changed:
        notes.append(f"inputs changed since the run: {', '.join(changed)}")
    code_now = mf.tree_digest(mf.package_dir())
    if code_now != m["fingerprint_parts"]["code"]:
        notes.append("package source changed since the run (differences may come from that)")
    if m.get("status") != "complete":
        notes.append(f"the recorded run did not complete: {'; '.join(m.get('failures', []))}")

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
        notes.append("the re-run itself reported failures")
    rerun_dir = out_root / district / m["period"]
    recorded = [o["file"] for o in m["outputs"]]
    results = [compare_file(f, report_dir / f, rerun_dir / f) for f in recorded]
    produced = {o["file"] for o in mf.describe_outputs(rerun_dir)}
    results += [
        Comparison(f, "extra", "produced by the re-run, not recorded")
        for f in sorted(produced - set(recorded))
    ]
    return results, notes


def verify(report_dir: Path) -> int:
    """Print one line per output (identical / different); 0 only if all are identical."""
    with tempfile.TemporaryDirectory(prefix="canbao-verify-") as tmp:
        results, notes = verify_report(Path(report_dir), Path(tmp))
    width = max((len(r.status) for r in results), default=9)
    for r in results:
        line = f"{r.status.upper() if r.status != 'identical' else r.status:<{width}}  {r.file}"
        print(line + (f"  ({r.detail})" if r.detail else ""))
    for n in notes:
        print(f"note: {n}")
    bad = [r for r in results if r.status != "identical"]
    print(f"{len(results) - len(bad)} identical, {len(bad)} not identical", file=sys.stderr)
    return 0 if results and not bad else 1
