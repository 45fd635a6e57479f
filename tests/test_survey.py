"""Survey returns: validation rules, idempotent import, rejection workbooks, task statuses."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from canbao import survey
from canbao.core.engine import DuckDBEngine
from tests.support.survey import (
    DISTRICT,
    build_registry,
    fill_roster,
    make_cfg,
    make_ctx,
    make_engine,
)

P1, P2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)
V1 = "430302001001"  # 雨湖路社区居委会 of 雨湖路街道
GOOD = {"采集人": "张伟", "采集日期": dt.date(2026, 2, 10)}


@pytest.fixture()
def world(tmp_path):
    """Batch 1 issued at P1 for one town (3 villages); the P2 folder is ready for returns."""
    eng = make_engine(villages=3)
    cfg = make_cfg()
    survey.issue_rosters(eng, cfg, make_ctx(tmp_path, P1))
    ctx2 = make_ctx(tmp_path, P2)
    yield eng, cfg, make_ctx(tmp_path, P1), ctx2
    eng.close()


def _roster(ctx, village: str) -> Path:
    return next(
        p for p in (ctx.out_dir / "rosters").rglob(f"{village}_*.xlsx") if "登记表" not in p.name
    )


def _people(eng, village: str) -> pd.DataFrame:
    return eng.query_df(
        "SELECT * FROM survey_tasks WHERE village_code = ? ORDER BY seq_in_batch", [village]
    )


def _returns(ctx) -> Path:
    return ctx.period_dir / "survey_returns"


def test_each_rule_rejects_with_its_reason(world):
    eng, cfg, ctx1, ctx2 = world
    p = _people(eng, V1)
    ids = list(p["id_number"])
    # an older person of another village of the same town, claimed as a student
    v2 = _people(eng, "430302001002")
    v2 = v2[v2["birth_date"].map(lambda b: (P2 - b.date()).days // 366 >= 30)].iloc[0]
    old_id = v2["id_number"]
    fills = {
        ids[0]: {"核实情况": "参加省职保", **GOOD},
        ids[1]: {"核实情况": "我区参加居保", "未参保原因": "已录入未审核", **GOOD},
        ids[2]: {"核实情况": "现役军人", "采集日期": "2026年2月3日"},
        ids[3]: {"核实情况": "乱填", **GOOD},
        ids[4]: {"核实情况": "无参保意愿", "未参保原因": "没钱", **GOOD},
        ids[5]: {"核实情况": "无参保意愿", "姓名": "改名字", **GOOD},
        ids[6]: {"核实情况": "其他人员", "村社区代码": "430302100001", **GOOD},
        ids[7]: {"核实情况": "无参保意愿", "采集日期": dt.date(2026, 3, 5)},
    }
    extra = [
        {
            "姓名": "外来人",
            "公民身份号码": "11010519491231002X",
            "村社区代码": V1,
            "核实情况": "无参保意愿",
            **GOOD,
        },
        {
            "姓名": v2["name"],
            "公民身份号码": old_id,
            "村社区代码": v2["village_code"],
            "核实情况": "在校学生",
            **GOOD,
        },
    ]
    fill_roster(
        _roster(ctx1, V1), _returns(ctx2) / f"{V1}_雨湖路社区居委会.xlsx", fills, extra_rows=extra
    )
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    rej = eng.query_df("SELECT * FROM survey_rejects ORDER BY source_row").set_index("id_number")[
        "reason"
    ]
    assert "核实情况不在选项中：乱填" in rej[ids[3]]
    assert "未参保原因不在选项中：没钱" in rej[ids[4]]
    assert rej[ids[5]].startswith("姓名与下发名单不一致")
    assert "村社区代码不属于本乡镇：430302100001" in rej[ids[6]]
    assert "采集日期晚于本期日期" in rej[ids[7]]
    assert re.search(r"在校学生年龄\d+岁（≥25岁）", rej[old_id])
    assert rej["11010519491231002X"] == "身份证号码不在下发名单"
    acc = eng.query_df("SELECT * FROM survey_results ORDER BY source_row").set_index("person_id")
    by_id = dict(zip(p["id_number"], p["person_id"], strict=True))
    assert acc.loc[by_id[ids[0]], "insured_status"] == "insured_elsewhere"
    assert acc.loc[by_id[ids[0]], "insured_family"] == "pension"
    assert acc.loc[by_id[ids[0]], "outcome_code"] == "0/200"
    assert acc.loc[by_id[ids[1]], "insured_status"] == "insured_local"
    assert acc.loc[by_id[ids[2]], "exemption"] == "military"
    assert acc.loc[by_id[ids[2]], "collected_date"] == pd.Timestamp("2026-02-03")
    assert set(acc["batch"]) == {1} and set(acc["period"]) == {pd.Timestamp(P2)}
    filled = len(fills) + len(extra)
    assert res["accepted"] == 3 and res["rejected"] == filled - 3
    # blank 核实情况 rows are neither accepted nor rejected
    assert res["not_returned"] == len(ids) - len(fills)
    assert res["rows"] == res["accepted"] + res["rejected"] + res["not_returned"] + res["duplicate"]
    st = eng.query_df("SELECT id_number, status FROM survey_tasks").set_index("id_number")["status"]
    assert st[ids[0]] == "returned" and st[ids[3]] == "rejected"
    assert set(st[_people(eng, "430302001003")["id_number"]]) == {"issued"}


def test_collected_before_issue_and_young_student(world):
    eng, cfg, ctx1, ctx2 = world
    reg, _ = build_registry()
    p = _people(eng, V1)
    fills = {p["id_number"][0]: {"核实情况": "无参保意愿", "采集日期": dt.date(2026, 1, 2)}}
    fill_roster(_roster(ctx1, V1), _returns(ctx2) / f"{V1}.xlsx", fills)
    survey.import_returns(eng, cfg, ctx2, commit=True)
    [reason] = eng.query_df("SELECT reason FROM survey_rejects")["reason"]
    assert reason == "采集日期早于下发日期2026-01-31"
    # a student under 25 is accepted (exempt from pension: classify's rule)
    eng.execute(
        "UPDATE survey_tasks SET birth_date = DATE '2004-06-01' WHERE id_number = ?",
        [p["id_number"][1]],
    )
    fill_roster(
        _roster(ctx1, V1),
        _returns(ctx2) / f"{V1}_b.xlsx",
        {p["id_number"][1]: {"核实情况": "在校学生", **GOOD}},
    )
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert res["accepted"] == 1
    assert eng.scalar("SELECT exemption FROM survey_results") == "student"


def test_import_twice_changes_nothing(world):
    eng, cfg, ctx1, ctx2 = world
    ids = list(_people(eng, V1)["id_number"])
    fills = {ids[0]: {"核实情况": "参加省外职保", **GOOD}, ids[1]: {"核实情况": "乱填", **GOOD}}
    fill_roster(_roster(ctx1, V1), _returns(ctx2) / f"{V1}.xlsx", fills)
    first = survey.import_returns(eng, cfg, ctx2, commit=True)
    snap = {
        t: eng.query_df(f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("survey_results", "survey_tasks", "survey_rejects", "survey_return_rows")
    }
    second = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert second["already_imported_files"] == 1
    assert {k: v for k, v in first.items() if k != "already_imported_files"} == {
        k: v for k, v in second.items() if k != "already_imported_files"
    }
    for t, df in snap.items():
        pd.testing.assert_frame_equal(df, eng.query_df(f"SELECT * FROM {t} ORDER BY ALL"))
    # the same content under another name is still the same file
    shutil.copy(_returns(ctx2) / f"{V1}.xlsx", _returns(ctx2) / f"{V1}_copy.xlsx")
    third = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert (
        third["accepted"] == first["accepted"]
        and eng.scalar("SELECT count(*) FROM survey_results") == 1
    )


def test_half_filled_then_complete_roster(world):
    eng, cfg, ctx1, ctx2 = world
    ids = list(_people(eng, V1)["id_number"])
    half = {i: {"核实情况": "无参保意愿", **GOOD} for i in ids[:3]}
    fill_roster(_roster(ctx1, V1), _returns(ctx2) / f"{V1}_1.xlsx", half)
    r1 = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert (r1["accepted"], r1["not_returned"]) == (3, len(ids) - 3)
    full = {i: {"核实情况": "无参保意愿", **GOOD} for i in ids}
    full[ids[0]] = {"核实情况": "参加省职保", **GOOD}  # changes an already accepted answer
    fill_roster(_roster(ctx1, V1), _returns(ctx2) / f"{V1}_2.xlsx", full)
    survey.import_returns(eng, cfg, ctx2, commit=True)
    log = eng.query_df(
        "SELECT id_number, verdict, reason FROM survey_return_rows WHERE file LIKE '%_2.xlsx'"
    ).set_index("id_number")
    assert log.loc[ids[1], "verdict"] == "duplicate"
    assert log.loc[ids[0], "verdict"] == "rejected" and "不能改报" in log.loc[ids[0], "reason"]
    assert set(log.loc[ids[3:], "verdict"]) == {"accepted"}
    assert eng.scalar("SELECT count(DISTINCT person_id) FROM survey_results") == len(ids)
    assert eng.scalar("SELECT count(*) FROM survey_results") == len(ids)


def test_township_return_other_town_and_same_person_twice(tmp_path):
    eng = make_engine()  # both towns
    cfg = make_cfg()
    ctx1, ctx2 = make_ctx(tmp_path, P1), make_ctx(tmp_path, P2)
    survey.issue_rosters(eng, cfg, ctx1)
    other = eng.query_df(
        "SELECT * FROM survey_tasks WHERE township_code = '430302100' ORDER BY seq_in_batch LIMIT 1"
    ).iloc[0]
    ids = list(_people(eng, V1)["id_number"])
    # the town returns one file for all its villages (file named by township code)
    extra = [
        {
            "姓名": other["name"],
            "公民身份号码": other["id_number"],
            "村社区代码": other["village_code"],
            "核实情况": "无参保意愿",
            **GOOD,
        },
        {
            "姓名": eng.scalar("SELECT name FROM survey_tasks WHERE id_number = ?", [ids[4]]),
            "公民身份号码": ids[4],
            "村社区代码": V1,
            "核实情况": "参加省职保",
            **GOOD,
        },
    ]
    fill_roster(
        _roster(ctx1, V1),
        _returns(ctx2) / "430302001_雨湖路街道.xlsx",
        {ids[4]: {"核实情况": "无参保意愿", **GOOD}},
        extra_rows=extra,
    )
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    rej = eng.query_df("SELECT * FROM survey_rejects ORDER BY source_row")
    assert res["accepted"] == 1 and res["rejected"] == 2
    assert rej["reason"].iloc[0].startswith("不属于本乡镇下发名单（下发至430302100）")
    assert "村社区代码不属于本乡镇" in rej["reason"].iloc[0]
    assert rej["reason"].iloc[1].startswith("同一人员重复填报且结果不同")
    eng.close()


def test_rejection_workbook_masks_ids(world):
    eng, cfg, ctx1, ctx2 = world
    ids = list(_people(eng, V1)["id_number"])
    fill_roster(
        _roster(ctx1, V1),
        _returns(ctx2) / f"{V1}.xlsx",
        {ids[0]: {"核实情况": "已参保", **GOOD}, ids[1]: {"核实情况": "无参保意愿", **GOOD}},
    )
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert res["rejection_files"] == 1
    path = ctx2.out_dir / "survey" / "rejections" / "430302001_雨湖路街道.xlsx"
    ws = openpyxl.load_workbook(path)["退回清单"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 1
    seq, file, row, village, name, masked, outcome, reason = rows[0]
    assert file == f"survey_returns/{V1}.xlsx" and row == 1 and outcome == "已参保"
    assert masked == ids[0][:6] + "********" + ids[0][-4:]
    assert reason == "核实情况不在选项中：已参保"
    assert ids[0] not in "".join(str(c) for r in ws.iter_rows(values_only=True) for c in r)


def test_unreadable_file_is_reported_not_dropped(world):
    eng, cfg, _, ctx2 = world
    _returns(ctx2).mkdir(parents=True, exist_ok=True)
    (_returns(ctx2) / "430302001_坏文件.xlsx").write_bytes(b"not a zip")
    wb = openpyxl.Workbook()
    wb.active.append(["随便", "一张表"])
    wb.save(_returns(ctx2) / "430302001_无表头.xlsx")
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert res["file_errors"] == 2
    reasons = set(eng.query_df("SELECT reason FROM survey_rejects")["reason"])
    assert any(r.startswith("文件无法读取") for r in reasons)
    assert any(r.startswith("未找到表头") for r in reasons)


def test_stage9_confirms_returned_tasks(world):
    eng, cfg, ctx1, ctx2 = world
    ids = list(_people(eng, V1)["id_number"])
    fill_roster(
        _roster(ctx1, V1),
        _returns(ctx2) / f"{V1}.xlsx",
        {ids[0]: {"核实情况": "无参保意愿", **GOOD}, ids[1]: {"核实情况": "乱填", **GOOD}},
    )
    survey.import_returns(eng, cfg, ctx2, commit=True)
    # classify + commit would mark the accepted person surveyed
    eng.execute("UPDATE registry SET registration = 'surveyed' WHERE id_number = ?", [ids[0]])
    res = survey.issue_rosters(eng, cfg, ctx2)
    t = eng.query_df("SELECT batch, id_number, status, reissued FROM survey_tasks")
    first = t[t["batch"] == 1].set_index("id_number")["status"]
    assert first[ids[0]] == "accepted" and first[ids[1]] == "rejected"
    second = t[t["batch"] == 2].set_index("id_number")
    assert ids[0] not in second.index and bool(second.loc[ids[1], "reissued"])
    assert res["batch"] == 2
    roster = _roster(ctx2, V1)
    ws = openpyxl.load_workbook(roster)["花名册"]
    listed = {r[5]: r[12] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert "第1批退回：核实情况不在选项中：乱填" in listed[ids[1]]


def test_parsers():
    assert survey.parse_batch("第十二批") == 12 and survey.parse_batch("第三批") == 3
    assert (
        survey.parse_batch(2) == 2
        and survey.parse_batch("第2批") == 2
        and survey.parse_batch("") is None
    )
    assert survey.collected_date("2026/3/5") == (dt.date(2026, 3, 5), False)
    assert survey.collected_date("2026.03.05") == (dt.date(2026, 3, 5), False)
    assert survey.collected_date(20260305) == (dt.date(2026, 3, 5), False)
    assert survey.collected_date(46086) == (dt.date(2026, 3, 5), False)
    assert survey.collected_date("46086") == (dt.date(2026, 3, 5), False)  # serial as text
    assert survey.collected_date("2026年3月5号") == (dt.date(2026, 3, 5), False)
    assert survey.collected_date("三月五日") == (None, True)
    assert survey.collected_date("2026-02-30") == (None, True)
    assert survey.collected_date(80001) == (None, True)  # past the one serial range
    assert survey.collected_date(None) == survey.collected_date("  ") == (None, False)
    assert survey.file_township("430302100_鹤岭镇.xlsx") == "430302100"
    assert survey.file_township("430302100201_xx村.xlsx") == "430302100"
    assert survey.file_township("鹤岭镇.xlsx") is None
    assert survey.fold_name(" 阿依古丽•买买提 ") == "阿依古丽·买买提"
    assert (
        survey.fold_id("'４３０３０２１９９００１０１００１ｘ") == "430302199001010012"[:17] + "X"
    )


def test_cli_imports_into_registry_file(tmp_path, capsys):
    reg, pop = build_registry()
    out_root = tmp_path / "reports"
    (out_root / DISTRICT).mkdir(parents=True)
    eng = DuckDBEngine(out_root / DISTRICT / "registry.duckdb")
    eng.register_df("registry", reg[reg["village_code"] == V1])
    eng.execute("ALTER TABLE registry ALTER birth_date TYPE DATE")
    eng.register_df("population", pop)
    ctx1 = make_ctx(tmp_path, P1)
    survey.issue_rosters(eng, make_cfg(), ctx1)
    eng.close()
    ctx2 = make_ctx(tmp_path, P2)
    eng = DuckDBEngine(out_root / DISTRICT / "registry.duckdb", read_only=True)
    first = eng.scalar("SELECT id_number FROM survey_tasks ORDER BY seq_in_batch LIMIT 1")
    eng.close()
    fill_roster(
        _roster(ctx1, V1), _returns(ctx2) / f"{V1}.xlsx", {first: {"核实情况": "服刑人员", **GOOD}}
    )
    assert survey.import_returns_cli(ctx2.period_dir, out_root, tmp_path / "params") == 0
    assert "accepted=1" in capsys.readouterr().out
    eng = DuckDBEngine(out_root / DISTRICT / "registry.duckdb", read_only=True)
    assert eng.scalar("SELECT exemption FROM survey_results") == "prison"
    eng.close()


def test_width_variants_are_not_mistakes(world):
    eng, cfg, ctx1, ctx2 = world
    ids = list(_people(eng, V1)["id_number"])
    wide_code = V1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    fill_roster(
        _roster(ctx1, V1),
        _returns(ctx2) / f"{V1}.xlsx",
        {
            ids[4]: {
                "核实情况": " 出国(境)人员",
                "村社区代码": wide_code,
                "公民身份号码": " " + ids[4].lower(),
                **GOOD,
            }
        },
    )
    res = survey.import_returns(eng, cfg, ctx2, commit=True)
    assert res["accepted"] == 1, eng.query_df("SELECT reason FROM survey_rejects")
    row = eng.query_df("SELECT outcome, exemption, village_code FROM survey_results").iloc[0]
    assert tuple(row) == ("出国（境）人员", "abroad", V1)
