"""Provenance of a period run: what went in, under which code and params, and what came out.

``reports/<district>/<period>/manifest.json`` lets a reviewer (or ``canbao verify``)
re-execute the period and check every output; its fingerprint lets a re-run skip a
period whose inputs, params, code and notebooks have not changed.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata as md
import json
import platform
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from canbao.core.context import is_folder_noise
from canbao.run.stages import RECORDS_NAME as STAGE_RECORDS

MANIFEST_NAME = "manifest.json"
# The period's log (warnings, kernel output, tracebacks): named in the manifest, not an output.
RUN_LOG_NAME = "run.log"
MANIFEST_VERSION = 1
# Files in a period folder that describe the run, not its results (never compared).
RUN_RECORDS = frozenset({MANIFEST_NAME, RUN_LOG_NAME, STAGE_RECORDS})
# Runtime pieces that are not direct dependencies but shape outputs (kernel, arrays, charts).
_EXTRA_PACKAGES = ("numpy", "nbclient", "nbformat", "jupyter_client", "altair", "python-calamine")
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_json(value: Any) -> str:
    """Hex SHA-256 of a value's canonical JSON (sorted keys), for params and lists of hashes."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def list_files(root: Path) -> list[Path]:
    """Files under ``root`` in a stable order, without caches (their bytes vary by run)."""
    root = Path(root)
    if not root.exists():
        return []
    out = [
        p
        for p in root.rglob("*")
        if p.is_file() and not (_SKIP_PARTS & set(p.relative_to(root).parts)) and p.suffix != ".pyc"
    ]
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def tree_digest(root: Path, files: Iterable[Path] | None = None) -> str:
    """One SHA-256 over relative names and contents of files under ``root``."""
    root = Path(root)
    files = list_files(root) if files is None else sorted(files, key=lambda p: p.as_posix())
    return sha256_json([[p.relative_to(root).as_posix(), sha256_file(p)] for p in files])


def describe_inputs(period_dir: Path) -> list[dict[str, Any]]:
    """Every file of a period folder with SHA-256 and size (survey returns included).

    Files only: nothing here opens an extract. Folder noise (an Excel owner file while an
    extract is open, Thumbs.db…) is no input: it coming and going changes no fingerprint. A damaged file must reach ingest, which
    refuses it by name; its row counts come from ingest's reconciliation
    (:func:`attach_row_counts`), the one reader of extracts.
    """
    period_dir = Path(period_dir)
    return [
        {
            "file": p.relative_to(period_dir).as_posix(),
            "sha256": sha256_file(p),
            "bytes": p.stat().st_size,
        }
        for p in list_files(period_dir)
        if not is_folder_noise(p.relative_to(period_dir))
    ]


def attach_row_counts(inputs: list[dict[str, Any]], reconciliation: Path) -> None:
    """Add ``rows`` (data rows read by ingest) to each input named in ``reconciliation.csv``."""
    if not Path(reconciliation).exists():
        return
    with Path(reconciliation).open(encoding="utf-8", newline="") as fh:
        counts = {r["file"]: int(r["rows_read"]) for r in csv.DictReader(fh) if r.get("file")}
    for item in inputs:
        if item["file"] in counts:
            item["rows"] = counts[item["file"]]


def describe_outputs(out_dir: Path) -> list[dict[str, Any]]:
    """Every file a period wrote with SHA-256 and size, bar the run's own records
    (the manifest, the run log, the stage records: they differ on every run)."""
    out_dir = Path(out_dir)
    return [
        {
            "file": p.relative_to(out_dir).as_posix(),
            "sha256": sha256_file(p),
            "bytes": p.stat().st_size,
        }
        for p in list_files(out_dir)
        if p.relative_to(out_dir).as_posix() not in RUN_RECORDS
    ]


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0]


def package_versions() -> dict[str, str]:
    """Exact versions of canbao and its declared dependencies (plus a few runtime pieces)."""
    names = ["canbao"]
    try:
        reqs = md.requires("canbao") or []
    except md.PackageNotFoundError:
        reqs = []
    names += [_dist_name(r) for r in reqs if "extra ==" not in r]
    names += list(_EXTRA_PACKAGES)
    out: dict[str, str] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return dict(sorted(out.items()))


def package_dir() -> Path:
    """The installed ``canbao`` package folder (source files fingerprinted as code)."""
    import canbao

    return Path(canbao.__file__).resolve().parent


def repo_root() -> Path | None:
    """The git checkout holding the package, if any (editable install)."""
    for parent in package_dir().parents:
        if (parent / ".git").exists():
            return parent
    return None


def git_state(root: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag, read without touching the index (``--no-optional-locks``)."""
    root = root or repo_root()
    if root is None:
        return {"commit": None, "dirty": None}

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(
                ["git", "--no-optional-locks", "-C", str(root), *args],
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain")
    return {
        "commit": commit.strip() if commit else None,
        "dirty": None if status is None else bool(status.strip()),
    }


def find_seeds(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every params value whose key names a seed (dotted path → value)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(find_seeds(value, path + "."))
        elif "seed" in key.lower():
            out[path] = value
    return out


def fingerprint_parts(
    inputs: list[dict[str, Any]],
    params: dict[str, Any],
    code_digest: str,
    notebooks_digest: str | None,
    previous: str | None,
) -> dict[str, Any]:
    """The pieces a fingerprint is made of (kept in the manifest to explain a re-run)."""
    return {
        "inputs": sha256_json([[i["file"], i["sha256"]] for i in inputs]),
        "params": sha256_json(params),
        "code": code_digest,
        "notebooks": notebooks_digest,
        "previous_period": previous,
    }


def fingerprint(parts: dict[str, Any]) -> str:
    """SHA-256 of inputs + params + package source + notebooks + the previous period's fingerprint.

    Chaining the previous period makes a change in an early period re-run every later one
    (they all build on the registry it left).
    """
    return sha256_json(parts)


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (a half-written manifest must never look complete)."""
    path = Path(out_dir) / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    tmp.replace(path)
    return path


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The period's manifest, or None if absent or unreadable."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
