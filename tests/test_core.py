"""Config, reference data, privacy mask and the engine seam."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from canbao.core import places, refdata
from canbao.core.config import load_config
from canbao.core.context import find_periods, period_context
from canbao.core.engine import open_engine, transaction
from canbao.core.privacy import mask_id, mask_id_sql


def test_mask_is_first6_stars_last4() -> None:
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_id("") == ""
    assert mask_id("12345") == "********"


def test_mask_sql_matches_python() -> None:
    eng = open_engine()
    ids = ["11010519491231002X", "430302199001011234", "123", None]
    eng.execute("CREATE TABLE t (id VARCHAR)")
    for i in ids:
        eng.execute("INSERT INTO t VALUES (?)", [i])
    got = eng.query_df(f"SELECT {mask_id_sql('id')} AS m FROM t")["m"].tolist()
    assert got == [mask_id(i) for i in ids]


def test_reference_lists_have_the_real_yuhu_district() -> None:
    assert refdata.county_name("430302") == "湖南省湘潭市雨湖区"
    towns = refdata.townships("430302")
    villages = refdata.villages("430302")
    assert len(towns) == 12 and len(villages) == 106
    assert set(villages["township_code"]) <= set(towns["code"])
    assert (towns["code"].str.len() == 9).all() and (villages["code"].str.len() == 12).all()
    assert len(refdata.counties()) == 2978


def test_region_prefix_rule_is_province_only() -> None:
    assert refdata.is_known_region_prefix("510102")  # 重庆 before 1997: historical, still fine
    assert not refdata.is_known_region_prefix("990101")
    assert not refdata.is_known_region_prefix("700101")


def test_params_override_defaults_and_reject_typos(tmp_path: Path) -> None:
    (tmp_path / "430302.yaml").write_text(
        "district_code: '430302'\nworkers: 3\nlinkage:\n  match_threshold: 0.95\n", encoding="utf-8"
    )
    cfg = load_config("430302", tmp_path)
    assert cfg.worker_count == 3 and cfg.linkage.match_threshold == 0.95
    assert load_config("430321", tmp_path).linkage.match_threshold == 0.99  # no file: defaults
    (tmp_path / "430302.yaml").write_text("linkage:\n  match_treshold: 0.9\n", encoding="utf-8")
    with pytest.raises(ValueError, match="match_treshold"):
        load_config("430302", tmp_path)
    (tmp_path / "430302.yaml").write_text("linkage:\n  engine: sparks\n", encoding="utf-8")
    with pytest.raises(ValueError, match="sparks"):
        load_config("430302", tmp_path)
    (tmp_path / "430302.yaml").write_text("linkage:\n  engine: spark\n", encoding="utf-8")
    assert load_config("430302", tmp_path).linkage.engine == "spark"


def test_a_township_code_typed_full_width_or_spaced_is_folded(tmp_path: Path) -> None:
    """Old code: kept as typed, so it named no township and renamed nothing."""
    (tmp_path / "430302.yaml").write_text(
        "township_names:\n  ４３０３０２００１: 雨湖路\n  '430302 002': 城正街\n", encoding="utf-8"
    )
    names = load_config("430302", tmp_path).township_names
    assert names == {"430302001": "雨湖路", "430302002": "城正街"}


def test_period_folders_are_found_in_date_order(tmp_path: Path) -> None:
    for name in ["2026-10-31", "2026-10-15", "notes", "2026-11-15"]:
        (tmp_path / "430302" / name).mkdir(parents=True)
    periods = find_periods(tmp_path / "430302")
    assert [p.name for p in periods] == ["2026-10-15", "2026-10-31", "2026-11-15"]
    ctx = period_context(periods[0], tmp_path / "reports")
    assert ctx.district_code == "430302" and ctx.ref_date == dt.date(2026, 10, 15)
    assert ctx.out_dir == tmp_path / "reports" / "430302" / "2026-10-15"


def test_district_name_is_worked_out_in_one_place():
    """params' name first, else the bundled list's name of the county, else the code."""
    assert places.district_name("430302") == "雨湖区"
    assert places.district_name("430302", "湖南省湘潭市雨湖区") == "湖南省湘潭市雨湖区"
    assert places.district_name("999999") == "999999"


# ---------------------------------------------------------------- transaction()


def _registry_rows(engine) -> list[tuple]:
    return list(
        engine.query_df("SELECT * FROM registry ORDER BY person_id").itertuples(index=False)
    )


def _small_registry(engine) -> list[tuple]:
    engine.execute("CREATE TABLE registry (person_id VARCHAR, name VARCHAR, life_status VARCHAR)")
    engine.execute(
        "INSERT INTO registry VALUES ('P430302-0000001', '张秀英', 'alive'), "
        "('P430302-0000002', '欧阳娜娜', 'alive')"
    )
    return _registry_rows(engine)


@pytest.mark.parametrize("failure", [ValueError("半途失败"), KeyboardInterrupt()])
def test_a_failing_transaction_leaves_every_table_as_it_was(engine, failure) -> None:
    before = _small_registry(engine)
    with pytest.raises(type(failure)), transaction(engine):
        engine.execute("UPDATE registry SET life_status = 'deceased' WHERE name = '张秀英'")
        engine.execute("DELETE FROM registry WHERE name = '欧阳娜娜'")
        engine.execute("CREATE TABLE changelog AS SELECT 'P430302-0000001' AS person_id")
        raise failure
    assert _registry_rows(engine) == before
    assert not engine.table_exists("changelog")


def test_a_failing_sql_statement_inside_rolls_back_the_statements_before_it(engine) -> None:
    before = _small_registry(engine)
    with pytest.raises(duckdb.Error), transaction(engine):
        engine.execute("DELETE FROM registry")
        engine.execute("INSERT INTO no_such_table VALUES (1)")
    assert _registry_rows(engine) == before


def test_a_transaction_commits_when_its_block_ends_and_the_engine_goes_on(engine) -> None:
    _small_registry(engine)
    with pytest.raises(ValueError), transaction(engine):
        engine.execute("DELETE FROM registry")
        raise ValueError("回滚")
    with transaction(engine) as same:
        assert same is engine
        engine.execute("UPDATE registry SET life_status = 'deceased' WHERE name = '张秀英'")
    assert engine.scalar("SELECT count(*) FROM registry WHERE life_status = 'deceased'") == 1
    assert engine.scalar("SELECT count(*) FROM registry") == 2


def test_no_module_writes_begin_commit_or_rollback_by_hand() -> None:
    """Every multi-statement write goes through ``transaction()``: one rule for what a
    failure does (roll back, re-raise), not one per module."""
    src = Path(__file__).resolve().parents[1] / "src" / "canbao"
    hand = re.compile(r"""execute\(\s*["'](BEGIN|COMMIT|ROLLBACK)""", re.IGNORECASE)
    found = [
        f"{p.relative_to(src)}:{n}"
        for p in sorted(src.rglob("*.py"))
        if p.relative_to(src).as_posix() != "core/engine.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if hand.search(line)
    ]
    assert found == []
