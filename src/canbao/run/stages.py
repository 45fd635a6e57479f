"""Stage records: what each step of a period's district stage cost and what it did.

One :class:`StageRecord` per stage (wall time, CPU time, peak resident memory during
the stage, key counts) is the single source for the console's line per stage, the
manifest's ``stages`` list and the table in the district report. The district stage
runs inside the district notebook's kernel, so the records travel to the orchestrator
as JSON lines in ``<period>/stages.jsonl`` (appended stage by stage, so the console
can follow them live). That file and the report's table hold timings, which differ on
every run: the file is not a period output, and the table is marked volatile so
``canbao verify`` leaves it out of its comparisons.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from canbao.core import messages

RECORDS_NAME = "stages.jsonl"
# The report's stage table sits between these comments; verify and nbval drop the block.
VOLATILE_START = "<!-- canbao:volatile -->"
VOLATILE_END = "<!-- /canbao:volatile -->"
VOLATILE_PATTERN = r"(?s)<!-- canbao:volatile -->.*?<!-- /canbao:volatile -->"

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


@dataclasses.dataclass(frozen=True)
class StageRecord:
    """One stage of one period: seconds of wall and CPU time, peak RSS in bytes, counts.

    ``peak_rss`` is the process's peak resident memory during the stage (DuckDB works
    inside the process, so its buffers count); where the peak cannot be reset (not
    Linux) it is the peak since the process started, and ``peak_since_start`` says so.
    """

    stage: str
    wall_s: float
    cpu_s: float
    peak_rss: int
    counts: dict[str, int]
    peak_since_start: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageRecord:
        return cls(
            stage=str(d["stage"]),
            wall_s=float(d["wall_s"]),
            cpu_s=float(d["cpu_s"]),
            peak_rss=int(d["peak_rss"]),
            counts={str(k): int(v) for k, v in dict(d.get("counts") or {}).items()},
            peak_since_start=bool(d.get("peak_since_start", False)),
        )

    def console_line(self) -> str:
        """``读入：用时 12.3 秒（CPU 10.1 秒），内存峰值 812 MiB；读入 3,500,000 行 … [stage_done]``."""
        return messages.line(
            "stage_done",
            stage=stage_label(self.stage),
            wall=f"{self.wall_s:.1f}",
            cpu=f"{self.cpu_s:.1f}",
            peak=format_bytes(self.peak_rss),
            counts=counts_text(self.counts),
        )


def stage_label(stage: str) -> str:
    """The stage's Chinese name (its code when the catalogue has none)."""
    code = f"stage_{stage}"
    return messages.text(code) if messages.known(code) else stage


def counts_text(counts: dict[str, int]) -> str:
    """``读入 3,500,000 行，入库 3,499,990 行``: each count with its Chinese label."""
    parts = []
    for key, n in counts.items():
        code = f"count_{key}"
        parts.append(messages.text(code, n=f"{n:,}") if messages.known(code) else f"{key} {n:,}")
    return "，".join(parts) if parts else "—"


def format_bytes(n: int) -> str:
    """MiB below 1 GiB, GiB with two decimals above (what a task manager shows)."""
    if n >= 2**30:
        return f"{n / 2**30:.2f} GiB"
    return f"{n / 2**20:.0f} MiB"


# ------------------------------------------------------------------ measuring


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux: clear_refs ← 5)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _peak_rss(reset: bool) -> int:
    """Peak RSS in bytes: VmHWM since the reset, else getrusage's peak since start."""
    if reset:
        try:
            for line in _STATUS.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return _maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF))


def _maxrss_bytes(use: resource.struct_rusage) -> int:
    """``ru_maxrss`` in bytes (Linux counts KiB, macOS bytes)."""
    return int(use.ru_maxrss if sys.platform == "darwin" else use.ru_maxrss * 1024)


@dataclasses.dataclass
class Measurement:
    """Filled in when the measured block ends."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss: int = 0
    peak_since_start: bool = False


def _children() -> tuple[float, int]:
    """(CPU seconds, largest peak RSS in bytes) of the worker processes that have ended."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime, _maxrss_bytes(use)


@contextmanager
def measure() -> Iterator[Measurement]:
    """Wall time, CPU time and peak RSS of a block, its worker processes included.

    A stage that writes its workbooks in worker processes (rosters) spends most of
    its CPU there: their CPU is added, and the peak is the largest process's (this
    one, or a worker that ended in the block and set a new high for the children).
    """
    m = Measurement()
    reset = _reset_peak()
    w0, c0 = time.perf_counter(), time.process_time()
    k0, kpeak0 = _children()
    try:
        yield m
    finally:
        k1, kpeak1 = _children()
        m.wall_s = time.perf_counter() - w0
        m.cpu_s = time.process_time() - c0 + (k1 - k0)
        m.peak_rss = max(_peak_rss(reset), kpeak1 if kpeak1 > kpeak0 else 0)
        m.peak_since_start = not reset


# ------------------------------------------------------------------ key counts


def _count(engine: Any, sql: str, params: list[Any] | None = None) -> int:
    return int(engine.scalar(sql, params) or 0)


def _exists(engine: Any, table: str) -> bool:
    return bool(engine.table_exists(table))


def _ingest_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    if not _exists(engine, "reconciliation"):
        return {}
    row = engine.query_df(
        "SELECT coalesce(sum(rows_read), 0) AS r, coalesce(sum(rows_loaded), 0) AS l, "
        "coalesce(sum(rows_rejected), 0) AS j FROM reconciliation"
    ).iloc[0]
    return {"read": int(row["r"]), "loaded": int(row["l"]), "rejected": int(row["j"])}


def _clean_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    tables = {"population": "population", "enrollment": "enrollment"}
    return {
        k: _count(engine, f"SELECT count(*) FROM {t}")
        for k, t in tables.items()
        if _exists(engine, t)
    }


def _persons_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    return (
        {"persons": _count(engine, "SELECT count(*) FROM persons")}
        if _exists(engine, "persons")
        else {}
    )


def _link_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    r = dict(result or {})
    keys = {
        "exact": "exact_id",
        "repaired": "repaired_id",
        "probabilistic": "probabilistic",
        "unlinked": "unlinked",
        "review": "review_rows",
    }
    return {k: int(r.get(v) or 0) for k, v in keys.items()}


def _returns_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    r = dict(result or {})
    return {k: int(r.get(k) or 0) for k in ("files", "rows", "accepted", "rejected")}


def _classify_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    if _exists(engine, "person_status"):
        out["persons"] = _count(engine, "SELECT count(*) FROM person_status")
        out["targets"] = _count(
            engine, "SELECT count(*) FROM person_status WHERE registration = 'survey'"
        )
    if _exists(engine, "findings"):
        out["findings"] = _count(engine, "SELECT count(*) FROM findings")
    return out


def _registry_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    if not _exists(engine, "changelog"):
        return {}
    row = engine.query_df(
        """
        SELECT count(DISTINCT person_id) FILTER (WHERE change = '新增') AS new,
               count(DISTINCT person_id) FILTER (WHERE change NOT IN ('新增', '取消')) AS changed,
               count(DISTINCT person_id) FILTER (WHERE change = '取消') AS ended
        FROM changelog WHERE period = CAST($1 AS DATE)
        """,
        [ctx.period],
    ).iloc[0]
    return {k: int(row[k]) for k in ("new", "changed", "ended")}


def _exports_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    return {"files": len(dict(result or {}))}


def _import_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    r = dict(result or {})
    return {"import_rows": int(r.get("rows") or 0), "corrections": int(r.get("corrections") or 0)}


def _rosters_counts(engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    r = dict(result or {})
    return {"targets": int(r.get("people") or 0), "files": int(r.get("files") or 0)}


CountFn = Callable[[Any, Any, Any], dict[str, int]]
COUNTS: dict[str, CountFn] = {
    "ingest": _ingest_counts,
    "clean": _clean_counts,
    "persons": _persons_counts,
    "link": _link_counts,
    "survey_returns": _returns_counts,
    "classify": _classify_counts,
    "registry": _registry_counts,
    "exports": _exports_counts,
    "provincial_import": _import_counts,
    "rosters": _rosters_counts,
}


def key_counts(stage: str, engine: Any, ctx: Any, result: Any) -> dict[str, int]:
    """The stage's key counts, read from its result or the tables it wrote."""
    fn = COUNTS.get(stage)
    return fn(engine, ctx, result) if fn else {}


# ------------------------------------------------------------------ the records file


def records_path(out_dir: Path) -> Path:
    return Path(out_dir) / RECORDS_NAME


class Recorder:
    """Runs stages one by one, measuring each and appending its record to ``stages.jsonl``.

    Creating a recorder starts a new file: the records are those of this run only.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = records_path(out_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        self.records: list[StageRecord] = []

    def run(self, name: str, stage: Callable[..., Any], engine: Any, cfg: Any, ctx: Any) -> Any:
        """Run ``stage(engine, cfg, ctx)``; record it (counts only when it succeeded)."""
        with measure() as m:
            result = stage(engine, cfg, ctx)
        counts = key_counts(name, engine, ctx, result)
        self.add(StageRecord(name, m.wall_s, m.cpu_s, m.peak_rss, counts, m.peak_since_start))
        return result

    def add(self, record: StageRecord) -> None:
        self.records.append(record)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")


def read_records(out_dir: Path) -> list[StageRecord]:
    """The records a period's district stage left (complete lines only)."""
    path = records_path(out_dir)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(StageRecord.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue  # a line still being written
    return out


class Follower:
    """Prints each new record's console line while the district stage runs elsewhere."""

    def __init__(self, out_dir: Path, emit: Callable[[str], None], every: float = 0.5) -> None:
        self.out_dir = Path(out_dir)
        self.emit = emit
        self.every = every
        self.shown = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _poll(self) -> None:
        records = read_records(self.out_dir)
        for rec in records[self.shown :]:
            self.emit(rec.console_line())
        self.shown = max(self.shown, len(records))

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._poll()

    def __enter__(self) -> Follower:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()


# ------------------------------------------------------------------ the report's table


def table_html(records: list[StageRecord]) -> str:
    """The district report's stage table in the one table style, inside the volatile markers.

    Seconds and memory arrive formatted (one decimal, GiB/MiB); the shared style
    right-aligns them and sets the 合计 row apart.
    """
    from canbao.report import tables  # late: the report package imports the registry stack

    rows = [
        [stage_label(r.stage), f"{r.wall_s:.1f}", f"{r.cpu_s:.1f}", format_bytes(r.peak_rss),
         counts_text(r.counts)]
        for r in records
    ]  # fmt: skip
    rows.append(
        [
            messages.text("stage_total"),
            f"{sum(r.wall_s for r in records):.1f}",
            f"{sum(r.cpu_s for r in records):.1f}",
            format_bytes(max((r.peak_rss for r in records), default=0)),
            "",
        ]
    )
    titles = [messages.text(c) for c in _TABLE_HEADERS]
    frame = pd.DataFrame(rows, columns=titles)
    kinds = dict(zip(titles, ("text", "count", "count", "count", "text"), strict=True))
    table = tables.table_html(frame, kinds=kinds, total_last=True, scroll_rows=10**9)
    return f"{VOLATILE_START}{table}{VOLATILE_END}"


_TABLE_HEADERS = (
    "stage_col_stage",
    "stage_col_wall",
    "stage_col_cpu",
    "stage_col_peak",
    "stage_col_counts",
)
