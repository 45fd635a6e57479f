"""The folders a command is given, checked before anything is read or written.

A statistician types these paths by hand: the raw root instead of a district, a file
instead of a folder, ``--out data/raw`` (which would let a re-run delete the extracts
it is about to read), ``--params params/430302.yaml``. Each mistake is refused here
with one Chinese line naming the path, before a single file is touched.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from canbao.core.context import find_periods, parse_period_name
from canbao.core.errors import UsageError

DISTRICT_CODE_RE = re.compile(r"\d{6}")


def check_district_dir(district_dir: Path) -> None:
    """UsageError when ``district_dir`` is a file, a period folder or the raw root."""
    where = str(district_dir)
    path = Path(district_dir)
    if path.is_file():
        raise UsageError(where, "district_dir_is_file")
    if not path.is_dir():
        raise UsageError(where, "district_dir_missing")
    name = path.resolve().name
    if parse_period_name(name) is not None:
        raise UsageError(where, "district_dir_is_period")
    districts = _district_children(path)
    if districts and not DISTRICT_CODE_RE.fullmatch(name):
        raise UsageError(where, "district_dir_is_root", names=", ".join(districts))


def district_code_of(district_dir: Path) -> str:
    """The six-digit code a district folder holding periods is named for, else UsageError:
    person IDs (``P<code>-…``), the params file and the output folder all use it."""
    name = Path(district_dir).resolve().name
    if not DISTRICT_CODE_RE.fullmatch(name):
        raise UsageError(str(district_dir), "district_dir_not_code")
    return name


def _district_children(path: Path) -> list[str]:
    """Sub-folders named as district codes that hold period folders: ``path`` is the raw root."""
    out = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and DISTRICT_CODE_RE.fullmatch(child.name):
            try:
                if find_periods(child):
                    out.append(str(child))
            except UsageError:
                out.append(str(child))  # a period folder misnamed in it: still a district
    return out


def check_out_root(out_root: Path, district_dir: Path) -> None:
    """Refuse an output folder that overlaps the extracts, or one that cannot be written.

    ``run`` deletes a period's output folder before re-running it: with ``--out`` at the
    raw root that folder *is* the period's extracts. Refused: an output folder whose
    ``<district>`` folder holds the extracts, one inside the district folder or another
    district's, and any folder under the raw root of the documented layout (``data/raw``),
    which is read-only.
    """
    out = Path(out_root).resolve()
    district = Path(district_dir).resolve()
    raw_root = district.parent
    district_out = out / district.name
    overlaps = _within(out, district) or _within(district, district_out)
    in_raw = _within(out, raw_root) and (
        out == raw_root
        or raw_root.name == "raw"
        or DISTRICT_CODE_RE.fullmatch(out.relative_to(raw_root).parts[0]) is not None
    )
    if overlaps or in_raw:
        raise UsageError(str(out_root), "out_inside_raw", raw=raw_root)
    try:
        district_out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=district_out):
            pass
    except OSError as exc:
        reason = f"{exc.filename or district_out}：{exc.strerror or exc}"
        raise UsageError(str(out_root), "out_not_writable", reason=reason) from None


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_params_dir(params_dir: Path, district_code: str, *, explicit: bool) -> None:
    """Refuse ``--params`` naming a file, or (when typed by the user) a folder that does not exist.

    Without ``--params`` the default ``params`` folder may be absent: the defaults apply,
    as documented. A folder the user typed and mistyped would silently do the same.
    """
    path = Path(params_dir)
    name = f"{district_code}.yaml"
    if path.is_file():
        parent = path.parent if str(path.parent) != "" else Path(".")
        raise UsageError(str(params_dir), "params_dir_is_file", name=name, parent=parent)
    if explicit and not path.exists():
        raise UsageError(str(params_dir), "params_dir_missing", name=name)


def cpu_count() -> int:
    return os.cpu_count() or 1


# What the operating system says when the disk is full or a file cannot be written, as
# DuckDB passes it on inside its own exception types.
_STORAGE_WORDS = re.compile(
    r"No space left|File too large|Permission denied|Read-only file system|Disk quota"
    r"|Could not write|Could not open file|Could not set lock",
    re.I,
)


def storage_failure(exc: BaseException) -> str | None:
    """Why a write failed (disk full, no permission, file too large), or None for a bug.

    An ``OSError`` from Python, or a DuckDB error whose text carries the OS's reason:
    either is the machine's state, which the user can fix, not a program error. The
    exceptions it caused are followed back (a ROLLBACK after a failed COMMIT raises
    "no transaction is active", hiding the full disk behind it).
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            where = f"{seen.filename}：" if seen.filename else ""
            return f"{where}{seen.strerror or seen}"
        module = type(seen).__module__
        if module.startswith(("duckdb", "_duckdb")) and _STORAGE_WORDS.search(str(seen)):
            return str(seen).splitlines()[0]
        seen = seen.__cause__ or seen.__context__
    return None
