"""Config, reference data, privacy mask and the engine seam."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from canbao.core import places, refdata
from canbao.core.config import load_config
from canbao.core.context import find_periods, period_context
from canbao.core.engine import open_engine
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
