"""A period that is refused or interrupted leaves the registry as it was (issue 7, contract §8.7).

Through ``canbao.run.pipeline.run_period`` on a small demo: period 1 is committed, then
period 2 is (a) fed bad extracts, which must abort before the registry changes, or
(b) killed with SIGKILL at several points in a subprocess, after which the registry
must equal its state before the run and a rerun must give the exports of an
uninterrupted run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from canbao.core.config import config_from_dict, load_config
from canbao.core.context import find_periods, period_context
from canbao.core.engine import DuckDBEngine
from canbao.core.errors import InputError, PeriodAborted
from canbao.demo import generate
from canbao.run.pipeline import run_period

DISTRICT = "430302"
PEOPLE = 800
# Tables that must not change when a period is refused or interrupted.
REGISTRY_TABLES = ("registry", "registry_history", "person_ids", "changelog", "findings_history")
# The persistent survey tables stage 5 imports into (through staging, applied by the commit).
SURVEY_TABLES = ("survey_tasks", "survey_results", "survey_return_rows")
SURVEY_STAGED = ("survey_results_staged", "survey_return_rows_staged", "survey_task_updates_staged")

CHILD = """
import os, signal, sys
from pathlib import Path
import canbao.run.pipeline as pl
from canbao.core.config import load_config
from canbao.core.context import period_context

period_dir, out_root, point = sys.argv[1], sys.argv[2], sys.argv[3]

def die(*_a, **_k):
    os.kill(os.getpid(), signal.SIGKILL)

if point.startswith("after:"):
    stage, orig = point[len("after:"):], pl.stages
    def patched():
        out = []
        for name, fn in orig():
            if name == stage:
                def fn(e, c, x, _f=fn):
                    _f(e, c, x)
                    die()
            out.append((name, fn))
        return out
    pl.stages = patched
elif point == "mid:commit":
    import canbao.registry.commit as reg
    reg.affected_persons_sql = die  # called inside commit_period's open transaction
elif point == "end:commit":
    import canbao.registry.commit as reg
    apply = reg.apply_staged_sql
    def applied_then_die():  # the staged survey rows applied, the transaction still open
        yield from apply()
        die()
    reg.apply_staged_sql = applied_then_die
pl.run_period(load_config("430302"), period_context(Path(period_dir), Path(out_root)))
"""


def table_state(
    registry: Path, tables: tuple[str, ...] = REGISTRY_TABLES
) -> dict[str, pd.DataFrame]:
    """Each table's rows in a total order (a missing table is an empty frame)."""
    eng = DuckDBEngine(registry, read_only=True)
    try:
        out = {}
        for t in tables:
            if not eng.table_exists(t):
                out[t] = pd.DataFrame()
                continue
            cols = eng.query_df(f"SELECT * FROM {t} LIMIT 0").columns
            order = ", ".join(f'"{c}" NULLS FIRST' for c in cols)
            out[t] = eng.query_df(f"SELECT * FROM {t} ORDER BY {order}")
        return out
    finally:
        eng.close()


def assert_same_state(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], check_dtype=False, obj=t)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Period 1 committed (``base``) and period 2 run uninterrupted on a copy (``ref``)."""
    root = tmp_path_factory.mktemp("safety")
    generate(DISTRICT, PEOPLE, 11, root / "raw", root / "truth", 2)
    p1, p2 = find_periods(root / "raw" / DISTRICT)
    cfg = load_config(DISTRICT)
    run_period(cfg, period_context(p1, root / "base"))
    shutil.copytree(root / "base", root / "ref")
    ctx2 = period_context(p2, root / "ref")
    run_period(cfg, ctx2)
    return {
        "root": root,
        "p2": p2,
        "before": table_state(root / "base" / DISTRICT / "registry.duckdb"),
        "after": table_state(ctx2.registry_path),
        "survey_before": table_state(root / "base" / DISTRICT / "registry.duckdb", SURVEY_TABLES),
        "survey_after": table_state(ctx2.registry_path, SURVEY_TABLES),
        "exports": digests(ctx2.exports_dir),
    }


def fresh_reports(demo: dict, name: str) -> Path:
    out = demo["root"] / name
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(demo["root"] / "base", out)
    return out


def mutated_period(demo: dict, name: str) -> Path:
    """A copy of period 2's folder to damage (the demo's own stays intact)."""
    target = demo["root"] / name / DISTRICT / demo["p2"].name
    shutil.rmtree(target.parent.parent, ignore_errors=True)
    shutil.copytree(demo["p2"], target)
    return target


def _registry(out: Path) -> Path:
    return out / DISTRICT / "registry.duckdb"


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"cannot decode {path}")


# ------------------------------------------------------------------ refused extracts


def test_empty_hukou_extract_aborts_before_the_registry_changes(demo):
    period = mutated_period(demo, "raw-empty")
    df, enc = _read_csv(period / "hukou.csv")
    df.iloc[0:0].to_csv(period / "hukou.csv", index=False, encoding=enc)
    out = fresh_reports(demo, "out-empty")
    with pytest.raises((InputError, PeriodAborted), match="hukou|no data rows|empty"):
        run_period(load_config(DISTRICT), period_context(period, out))
    assert_same_state(table_state(_registry(out)), demo["before"])


def test_missing_required_extract_aborts_before_the_registry_changes(demo):
    period = mutated_period(demo, "raw-missing")
    (period / "enrollment.xlsx").unlink()
    out = fresh_reports(demo, "out-missing")
    with pytest.raises(InputError, match="extract_missing"):
        run_period(load_config(DISTRICT), period_context(period, out))
    assert_same_state(table_state(_registry(out)), demo["before"])


def test_too_many_rows_without_a_usable_id_abort_the_period(demo):
    period = mutated_period(demo, "raw-noid")
    df, enc = _read_csv(period / "hukou.csv")
    blank = df.index[: int(len(df) * 0.08) + 1]  # 8 % > the default 5 % limit
    df.loc[blank, "公民身份号码"] = ""
    df.to_csv(period / "hukou.csv", index=False, encoding=enc)
    out = fresh_reports(demo, "out-noid")
    with pytest.raises(PeriodAborted, match="max_unusable_id_share"):
        run_period(load_config(DISTRICT), period_context(period, out))
    assert_same_state(table_state(_registry(out)), demo["before"])
    # The same extract passes when the district raises its limit.
    cfg = config_from_dict({"district_code": DISTRICT, "safety": {"max_unusable_id_share": 0.5}})
    out_ok = fresh_reports(demo, "out-noid-ok")
    run_period(cfg, period_context(period, out_ok), only={"ingest", "clean", "persons"})


# ------------------------------------------------------------------ interrupted runs


def _run_child(demo: dict, out: Path, point: str, kill_after: float | None = None) -> int:
    script = demo["root"] / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    cmd = [sys.executable, str(script), str(demo["p2"]), str(out), point]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode in (-signal.SIGKILL, 0), err.decode(errors="replace")[-2000:]
    return proc.returncode


def _check_interrupted_then_rerun(demo: dict, out: Path, committed_ok: bool = False) -> None:
    state = table_state(_registry(out))
    try:
        assert_same_state(state, demo["before"])
    except AssertionError:
        if not committed_ok:
            raise
        assert_same_state(state, demo["after"])  # killed after the commit finished
    else:  # not committed: the survey returns were not imported either
        assert_same_state(table_state(_registry(out), SURVEY_TABLES), demo["survey_before"])
    ctx = period_context(demo["p2"], out)
    run_period(load_config(DISTRICT), ctx)
    assert_same_state(table_state(ctx.registry_path), demo["after"])
    assert_same_state(table_state(ctx.registry_path, SURVEY_TABLES), demo["survey_after"])
    assert digests(ctx.exports_dir) == demo["exports"]


def test_killed_inside_the_commit_transaction_leaves_the_registry_unchanged(demo):
    out = fresh_reports(demo, "out-kill-commit")
    assert _run_child(demo, out, "mid:commit") == -signal.SIGKILL
    _check_interrupted_then_rerun(demo, out)


def test_killed_after_the_survey_import_leaves_the_survey_tables_unchanged(demo):
    """Stage 5 only stages what it imports: abandoned before the commit, the persistent
    survey tables are as before; the re-run imports the same files again (a staged file
    is not 'already imported') and ends as an uninterrupted run."""
    out = fresh_reports(demo, "out-kill-survey")
    assert _run_child(demo, out, "after:survey_returns") == -signal.SIGKILL
    assert_same_state(table_state(_registry(out), SURVEY_TABLES), demo["survey_before"])
    staged = table_state(_registry(out), SURVEY_STAGED)
    assert len(staged["survey_results_staged"]) > 0  # the demo's returns were judged...
    assert len(staged["survey_return_rows_staged"]) >= len(staged["survey_results_staged"])
    assert len(staged["survey_task_updates_staged"]) > 0
    _check_interrupted_then_rerun(demo, out)  # ...and imported again by the re-run
    assert all(df.empty for df in table_state(_registry(out), SURVEY_STAGED).values())


def test_killed_after_applying_the_survey_returns_inside_the_commit_rolls_them_back(demo):
    out = fresh_reports(demo, "out-kill-apply")
    assert _run_child(demo, out, "end:commit") == -signal.SIGKILL
    _check_interrupted_then_rerun(demo, out)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["ingest", "persons", "link", "survey_returns", "classify"])
def test_killed_after_a_stage_leaves_the_registry_unchanged(demo, stage):
    out = fresh_reports(demo, f"out-kill-{stage}")
    assert _run_child(demo, out, f"after:{stage}") == -signal.SIGKILL
    _check_interrupted_then_rerun(demo, out)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [3.0, 8.0, 15.0])
def test_killed_after_a_delay_then_rerun_completes(demo, delay):
    """Wherever the kill lands, the registry is the state before or after the commit."""
    out = fresh_reports(demo, f"out-kill-{delay:g}s")
    _run_child(demo, out, "none", kill_after=delay)
    _check_interrupted_then_rerun(demo, out, committed_ok=True)
