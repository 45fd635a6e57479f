"""The memory budget (``engine:`` in params): checked on load, applied to every DuckDB
connection a run opens, and without effect on any output."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from canbao.core.config import EngineConfig, load_config
from canbao.core.context import period_context
from canbao.core.engine import duckdb_memory_limit, open_registry_db
from canbao.demo import generate
from canbao.run import manifest as mf
from canbao.run.pipeline import run_period

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = "430302"


def _params(tmp_path: Path, text: str) -> Path:
    (tmp_path / f"{DISTRICT}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_default_budget_is_two_gib_and_the_demo_params_say_so(tmp_path):
    assert load_config(DISTRICT).engine == EngineConfig("2GiB", "", 0)
    assert load_config(DISTRICT, ROOT / "params").engine.memory_limit == "2GiB"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("engine:\n  memory_limit: lots\n", "engine.memory_limit"),
        ("engine:\n  memory_limit: 2\n", "engine.memory_limit"),
        ("engine:\n  threads: -1\n", "engine.threads"),
        ("engine:\n  threads: two\n", "engine.threads"),
        ("engine:\n  memory_limt: 1GiB\n", "memory_limt"),
    ],
)
def test_bad_budget_values_are_refused_by_name(tmp_path, text, key):
    with pytest.raises(ValueError, match=re.escape(key)):
        load_config(DISTRICT, _params(tmp_path, text))


def test_good_budget_values_are_accepted(tmp_path):
    text = "engine:\n  memory_limit: 512MiB\n  threads: 1\n  temp_directory: /tmp/x\n"
    assert load_config(DISTRICT, _params(tmp_path, text)).engine == EngineConfig(
        "512MiB", "/tmp/x", 1
    )
    assert load_config(DISTRICT, _params(tmp_path, "engine:\n  memory_limit: ''\n")).engine


def test_a_registry_connection_gets_the_budget_and_its_own_spill_folder(tmp_path):
    db = tmp_path / "reports" / DISTRICT / "registry.duckdb"
    db.parent.mkdir(parents=True)
    a = open_registry_db(db, EngineConfig(memory_limit="600MiB", threads=1))
    b = open_registry_db(db.with_name("other.duckdb"), EngineConfig(memory_limit="600MiB"))
    limit = a.scalar("SELECT current_setting('memory_limit')")
    # DuckDB gets its share of the process's budget; the rest is Python's.
    assert limit.replace(" ", "") in {"300.0MiB", "314.5MB", "300MiB"}, limit
    assert a.scalar("SELECT current_setting('threads')") == 1
    spill = Path(a.scalar("SELECT current_setting('temp_directory')"))
    assert spill.parent == db.parent / "duckdb_tmp" and spill.is_dir()
    assert Path(b.scalar("SELECT current_setting('temp_directory')")) != spill
    a.close()
    b.close()
    assert not spill.exists()  # removed with its connection


@pytest.mark.parametrize(
    ("budget", "duckdb"), [("2GiB", "1024MiB"), ("512MiB", "256MiB"), ("1GB", "476MiB"), ("", None)]
)
def test_duckdb_gets_half_the_budget(budget, duckdb):
    assert duckdb_memory_limit(budget) == duckdb


def test_duckdb_default_means_no_limit_set(tmp_path):
    db = tmp_path / "registry.duckdb"
    default = open_registry_db(db, EngineConfig(memory_limit=""))
    plain = open_registry_db(tmp_path / "plain.duckdb", EngineConfig())
    try:
        unset = default.scalar("SELECT current_setting('memory_limit')")
        assert unset != plain.scalar("SELECT current_setting('memory_limit')")
    finally:
        default.close()
        plain.close()


def test_no_connection_bypasses_the_budget():
    """Only canbao.core.engine connects; everything else opens the registry through it."""
    offenders = []
    files = [
        *sorted((ROOT / "src" / "canbao").rglob("*.py")),
        *sorted((ROOT / "notebooks").glob("*.ipynb")),
    ]
    for path in files:
        if path.name == "engine.py" and path.parent.name == "core":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"duckdb\.connect\(", r"DuckDBEngine\(", r"open_engine\("):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def _run(raw: Path, out_root: Path, engine: EngineConfig) -> dict[str, str]:
    cfg = dataclasses.replace(load_config(DISTRICT), engine=engine)
    ctx = period_context(raw, out_root, DISTRICT)
    run_period(cfg, ctx)
    return {o["file"]: o["sha256"] for o in mf.describe_outputs(ctx.out_dir)}


def test_outputs_are_byte_identical_under_a_tight_budget(tmp_path):
    (period,) = generate(DISTRICT, people=600, seed=9, raw_root=tmp_path / "raw",
                         truth_root=tmp_path / "truth", periods=1)  # fmt: skip
    free = _run(period, tmp_path / "free", EngineConfig(memory_limit=""))
    tight = _run(period, tmp_path / "tight", EngineConfig(memory_limit="192MiB", threads=1))
    assert any(f.startswith("exports/") for f in free)
    assert any(f.startswith("rosters/") for f in free)
    assert tight == free
    assert list((tmp_path / "tight" / DISTRICT / "duckdb_tmp").iterdir()) == []


def test_a_batched_export_has_the_bytes_of_one_write(tmp_path):
    """Exports stream in Arrow batches; the CSV is byte for byte what one pandas write gave."""
    import pandas as pd

    from canbao.core.engine import DuckDBEngine
    from canbao.report.exports import write_query_csv

    eng = DuckDBEngine()
    values = ["张三", "a,b", 'say "hi"', "two\nlines", "", None, "=1+1", " lead", "尾 ", "x"]
    eng.execute("CREATE TABLE t (k INTEGER, v VARCHAR, w VARCHAR)")
    for i, v in enumerate(values * 3):
        eng.execute("INSERT INTO t VALUES (?, ?, ?)", [i, v, None if i % 4 else "甲"])
    sql = "SELECT CAST(k AS VARCHAR) AS k, v, w FROM t ORDER BY k"
    one = tmp_path / "one.csv"
    eng.query_df(sql).to_csv(one, index=False, encoding="utf-8", lineterminator="\n", na_rep="")
    batched = write_query_csv(eng, sql, None, tmp_path / "batched.csv", batch_rows=4)
    assert batched.read_bytes() == one.read_bytes()
    empty = write_query_csv(eng, sql.replace("ORDER", "WHERE k < 0 ORDER"), None,
                            tmp_path / "empty.csv", batch_rows=4)  # fmt: skip
    assert empty.read_bytes() == b"k,v,w\n"
    missing = write_query_csv(eng, "", None, tmp_path / "missing.csv", ["a", "b"])
    assert missing.read_bytes() == pd.DataFrame(columns=["a", "b"]).to_csv(index=False).encode()
    eng.close()
