"""Bulletin figures on a hand-countable registry (see tests/support/bulletin.py::build_small).

Worked figures for 2026-11-30 (P2):
雨湖路街道 (A): 户籍 4 alive (p1,p2,p3,p5; p4 dead, p6 常住 not counted), 养老 应参保 3 (p3 exempt),
已参保 3; 医疗 4/4; 核查 1 issued (p2), 1 accepted; 新增参保 1 (p2); 死亡清理 1 (p4, two
DECEASED codes = one person); 纠错 1 (p5, needs_correction in P1, corrected in P2).
鹤岭镇 (B): 户籍 2 (p8,p9; p7 moved out); 养老 1/2; 医疗 2/2; 核查 2 issued (p7, p9), 0 done;
迁出 1 (p7); 重复 1 (p7 DUPLICATE_REGION).
P1: A 养老 2/3, B 养老 1/2, 医疗 B 1/2; nothing surveyed yet.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from canbao.core.config import BulletinConfig, Config
from canbao.core.engine import DuckDBEngine
from canbao.report import bulletin
from tests.support.bulletin import A1, A2, P1, P2, A, B, build_small, build_synthetic

CFG = Config(district_code="430302")


@pytest.fixture(scope="module")
def small():
    eng = DuckDBEngine()
    build_small(eng)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def synth():
    eng = DuckDBEngine()
    build_synthetic(eng, per_village=12)
    yield eng
    eng.close()


def row(df: pd.DataFrame, name: str) -> pd.Series:
    hit = df.loc[df["unit_name"] == name]
    assert len(hit) == 1, f"{name} not exactly once in {list(df['unit_name'])}"
    return hit.iloc[0]


def test_district_table_counts_per_township_and_total(small):
    t = bulletin.district_table(small, P2, CFG)
    assert list(t["unit_name"]) == ["雨湖路街道", "鹤岭镇", "合计"]
    assert list(t["is_total"]) == [False, False, True]
    a, b, tot = row(t, "雨湖路街道"), row(t, "鹤岭镇"), row(t, "合计")
    got = {k: (int(a[k]), int(b[k]), int(tot[k])) for k in bulletin.COUNTS}
    assert got == {
        "hukou": (4, 2, 6),
        "pension_due": (3, 2, 5),
        "pension_insured": (3, 1, 4),
        "medical_due": (4, 2, 6),
        "medical_insured": (4, 2, 6),
        "tasks_issued": (1, 2, 3),
        "tasks_done": (1, 0, 1),
        "new_insured": (1, 0, 1),
        "clean_deceased": (1, 0, 1),
        "clean_moved": (0, 1, 1),
        "clean_duplicate": (0, 1, 1),
        "corrections": (1, 0, 1),
        "corrections_open": (0, 0, 0),
    }
    assert a["pension_rate"] == 1.0 and b["pension_rate"] == 0.5 and tot["pension_rate"] == 0.8
    assert b["overall_rate"] == 0.75
    assert tot["survey_rate"] == pytest.approx(1 / 3)
    assert int(tot["clean_total"]) == 3
    assert (int(a["rank"]), int(b["rank"])) == (1, 2) and pd.isna(tot["rank"])
    assert a["unit_code"] == A and b["unit_code"] == B and tot["unit_code"] == ""


def test_change_since_previous_bulletin(small):
    t = bulletin.district_table(small, P2, CFG)
    a, b, tot = row(t, "雨湖路街道"), row(t, "鹤岭镇"), row(t, "合计")
    assert a["d_pension_rate"] == pytest.approx(1 - 2 / 3)
    assert b["d_pension_rate"] == 0
    assert b["d_medical_rate"] == pytest.approx(0.5)
    assert a["d_survey_rate"] == 1.0
    assert tot["d_pension_rate"] == pytest.approx(0.8 - 0.6)
    assert a["d_pension_insured"] == 1
    assert int(a["d_rank"]) == 0


def test_first_bulletin_has_no_change_and_counts_pending_correction(small):
    t = bulletin.district_table(small, P1, CFG)
    assert t[list(bulletin.DELTAS)].isna().all().all()
    assert t["d_rank"].isna().all()
    a = row(t, "雨湖路街道")
    assert (int(a["corrections"]), int(a["corrections_open"])) == (1, 1)
    assert int(a["tasks_issued"]) == 1 and int(a["tasks_done"]) == 0  # accepted only in P2
    text = bulletin.summary_text(
        t, bulletin.indicators(small, P1), period=P1, scope="雨湖区", level="township"
    )
    assert "首期" in text


def test_township_table_rows_are_villages_with_shared_rank_on_ties(small):
    t = bulletin.township_table(small, P2, A, CFG)
    assert list(t["unit_code"]) == [A1, A2, ""]
    assert list(t["unit_name"]) == ["雨湖路社区居委会", "关圣殿社区居委会", "合计"]
    v1, v2, tot = t.iloc[0], t.iloc[1], t.iloc[2]
    assert (int(v1["hukou"]), int(v2["hukou"]), int(tot["hukou"])) == (3, 1, 4)
    assert (int(v1["rank"]), int(v2["rank"])) == (1, 1)  # both 100%
    assert int(v1["d_rank"]) == 1  # was 2nd in P1 (4/5 against 2/2)
    assert math.isnan(v2["survey_rate"])  # nothing issued there: no rate, not 0%
    assert int(v2["corrections"]) == 1
    # the township's total equals its row in the district table
    d = row(bulletin.district_table(small, P2, CFG), "雨湖路街道")
    for c in bulletin.COUNTS:
        assert int(tot[c]) == int(d[c]), c


def test_rank_by_survey_completion_leaves_units_without_tasks_unranked(small):
    cfg = dataclasses.replace(CFG, bulletin=BulletinConfig(rank_by="survey_completion"))
    t = bulletin.township_table(small, P2, A, cfg)
    assert list(t["unit_code"]) == [A1, A2, ""]
    assert int(t.iloc[0]["rank"]) == 1 and pd.isna(t.iloc[1]["rank"])


def test_township_code_and_a_committed_period_required(small):
    with pytest.raises(ValueError):
        bulletin.township_table(small, P2, "", CFG)
    with pytest.raises(ValueError, match="no rows for period 2026-12-15"):
        bulletin.district_table(small, "2026-12-15", CFG)


def test_unknown_township_gives_only_a_zero_total(small):
    t = bulletin.township_table(small, P2, "430302999", CFG)
    assert list(t["unit_name"]) == ["合计"] and int(t.iloc[0]["hukou"]) == 0
    ind = bulletin.indicators(small, P2, "430302999")
    assert ind["value"].isna().all() and ind["met"].isna().all()
    text = bulletin.summary_text(t, ind, period=P2, scope="某镇", level="village")
    assert "户籍人数0人" in text and "—" in text


def test_indicators_exact(small):
    ind = bulletin.indicators(small, P2).set_index("indicator")
    ruku = ind.loc["已参保人员入库率"]
    assert (int(ruku["numerator"]), int(ruku["denominator"])) == (7, 7)
    assert ruku["value"] == 1.0 and bool(ruku["met"])
    assert ruku["change"] == pytest.approx(1 - 5 / 6)
    dengji = ind.loc["未参保人员登记率"]
    assert (int(dengji["numerator"]), int(dengji["denominator"])) == (1, 2)
    assert dengji["value"] == 0.5 and not bool(dengji["met"]) and dengji["target"] == 0.95
    assert dengji["change"] == pytest.approx(0.5)
    tw = bulletin.indicators(small, P2, B).set_index("indicator")
    assert (
        int(tw.loc["未参保人员登记率", "numerator"]),
        int(tw.loc["未参保人员登记率", "denominator"]),
    ) == (0, 1)


def test_summary_names_leader_laggard_movement_and_indicators(small):
    t = bulletin.district_table(small, P2, CFG)
    text = bulletin.summary_text(
        t, bulletin.indicators(small, P2), period=P2, scope="雨湖区", level="township"
    )
    assert text.startswith("截至2026年11月30日，雨湖区户籍人数6人")
    assert "雨湖路街道居前（100.0%）" in text and "鹤岭镇靠后（75.0%）" in text
    assert "提升最多的是雨湖路街道（+33.3个百分点）" in text
    assert "未参保人员登记率50.0%（目标不低于95%，未达标）" in text
    assert "较上期+20.0个百分点" in text


def test_trend_table_has_every_period(small):
    tr = bulletin.trend_table(small, P2)
    assert list(tr["period"]) == [P1, P2]
    assert list(tr["pension_rate"]) == pytest.approx([0.6, 0.8])
    assert list(tr["survey_rate"]) == pytest.approx([0.0, 1 / 3])
    assert list(bulletin.trend_table(small, P2, B)["tasks_issued"]) == [1, 2]


def test_optional_tables_missing_gives_zeros(engine, small):
    engine.register_df("registry_history", small.query_df("SELECT * FROM registry_history"))
    t = bulletin.district_table(engine, P2, CFG)
    tot = t.loc[t["is_total"]].iloc[0]
    assert int(tot["hukou"]) == 6
    assert int(tot["tasks_issued"]) == 0 and int(tot["clean_total"]) == 0
    assert int(tot["corrections"]) == 1  # comes from registry_history itself
    assert len(bulletin.trend_table(engine, P2)) == 2


def test_total_row_is_sum_of_units(synth):
    day = max(synth.query_df("SELECT DISTINCT period FROM registry_history")["period"]).date()
    t = bulletin.district_table(synth, day, CFG)
    units, tot = t.loc[~t["is_total"]], t.loc[t["is_total"]].iloc[0]
    assert len(units) == 12
    for c in bulletin.COUNTS:
        assert units[c].sum() == tot[c], c
    assert list(units["rank"]) == sorted(units["rank"])  # rows in rank order
    tw = bulletin.township_table(synth, day, "430302100", CFG)
    assert len(tw) - 1 == 21  # villages of 鹤岭镇 in the bundled list


def test_names_from_params_override(small):
    cfg = dataclasses.replace(CFG, township_names={B: "鹤岭镇（新）"})
    t = bulletin.district_table(small, P2, cfg)
    assert "鹤岭镇（新）" in list(t["unit_name"])
    assert bulletin.scope_name(small, cfg, B) == "鹤岭镇（新）"
    assert bulletin.scope_name(small, cfg) == "雨湖区"


def test_displayed_bulletin_has_no_person_level_data(small):
    t = bulletin.district_table(small, P2, CFG)
    ind = bulletin.indicators(small, P2)
    shown = (
        bulletin.table_html(t, "township")
        + bulletin.indicators_html(ind)
        + bulletin.summary_html(
            bulletin.summary_text(t, ind, period=P2, scope="雨湖区", level="township")
        )
    )
    people = small.query_df("SELECT DISTINCT person_id, id_number, name FROM registry_history")
    for col in ("person_id", "id_number", "name"):
        for v in people[col]:
            assert v not in shown, v
    assert not {"person_id", "id_number", "name"} & set(t.columns)
    assert '<tr class="total">' in shown and shown.count('<tr class="total">') == 1
    assert bulletin.table_html(t, "township") == bulletin.table_html(t, "township")


def test_display_frame_formats(small):
    d = bulletin.display_frame(bulletin.district_table(small, P2, CFG), "township")
    assert d[("养老保险", "参保率")].tolist() == ["100.0%", "50.0%", "80.0%"]
    assert d[("养老保险", "较上期")].tolist() == ["+33.3", "持平", "+20.0"]
    assert d[("", "排名")].tolist() == ["1", "2", ""]
    assert bulletin.fmt_rank_change(2) == "↑2" and bulletin.fmt_rank_change(-1) == "↓1"


def test_signature_block_from_params():
    cfg = dataclasses.replace(
        CFG,
        bulletin=BulletinConfig(
            unit="湘潭市雨湖区人力资源和社会保障局", reviewer="李明", preparer="王芳"
        ),
    )
    s = bulletin.signature_html(cfg, P2)
    for text in (
        "填报单位（盖章）",
        "湘潭市雨湖区人力资源和社会保障局",
        "审核人",
        "李明",
        "填表人",
        "王芳",
        "2026年11月30日",
    ):
        assert text in s
