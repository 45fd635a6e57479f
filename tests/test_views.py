"""Notebook tables: township membership by registry village only, masked cleanup lists, accuracy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from canbao.core.context import period_context
from canbao.core.engine import open_engine
from canbao.demo.accuracy import link_accuracy
from canbao.report import views

P1 = dt.date(2026, 1, 15)
A, B = "430302001", "430302002"  # 昭潭街道, 窑湾街道 (stand-ins)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.duckdb"
    eng = open_engine("duckdb", path)
    eng.register_df(
        "registry_history",
        pd.DataFrame(
            {
                "period": [P1] * 4,
                "person_id": [
                    "P430302-0000001",
                    "P430302-0000002",
                    "P430302-0000003",
                    "P430302-0000004",
                ],
                "id_number": [
                    "430302199001011234",
                    "43030219851212002X",
                    None,
                    "430302197707070022",
                ],
                "name": ["张伟", "李娜", "王芳", "刘洋"],
                "township_code": [A, A, B, B],
                "village_code": [A + "201", A + "202", B + "201", B + "201"],
                "pension_status": ["insured_local", "not_insured", "exempt", "not_applicable"],
                "medical_status": [
                    "insured_local",
                    "insured_local",
                    "insured_elsewhere",
                    "not_applicable",
                ],
                "registration": ["confirmed", "survey", "confirmed", "not_applicable"],
            }
        ),
    )
    # 张伟 lives (户籍) in A; his employer is in B: the findings are A's only.
    eng.register_df(
        "findings_history",
        pd.DataFrame(
            {
                "period": [P1] * 5,
                "finding": [
                    "DUPLICATE_PENSION",
                    "NAME_MISMATCH",
                    "DECEASED_BENEFIT",
                    "EMPLOYER_INVALID",
                    "ID_REPAIRED",
                ],
                "person_id": [
                    "P430302-0000001",
                    "P430302-0000002",
                    "P430302-0000004",
                    None,
                    "P430302-0000001",
                ],
                "file": [None, "enrollment.xlsx", None, "employers.csv", "enrollment.xlsx"],
                "source_row": pd.array([None, 12, None, 3, 40], dtype="Int32"),
                "detail": [
                    "enrollment.xlsx#40 110; enrollment.xlsx#41 170",
                    "李那 ≠ 李娜",
                    "enrollment.xlsx#7 170 正常享受",
                    "统一社会信用代码校验位错误",
                    "一位数字错误",
                ],
            }
        ),
    )
    eng.close()
    return path


def test_cleanup_lists_follow_registry_township_and_mask_ids(registry):
    eng = open_engine("duckdb", registry, read_only=True)
    try:
        a = views.cleanup_lists(eng, P1, A)
        b = views.cleanup_lists(eng, P1, B)
    finally:
        eng.close()
    assert a["重复参保"][["人员编号", "姓名", "公民身份号码"]].values.tolist() == [
        ["P430302-0000001", "张伟", "430302********1234"]
    ]
    assert a["信息纠错"]["问题"].tolist() == ["号码有误已按其他信息比对", "姓名与公安不一致"]
    assert a["信息纠错"]["行号"].tolist() == ["40", "12"]
    assert a["死亡人员仍参保或领待遇"].empty
    # nobody of A appears in B's lists, and the employer finding (no person) is in neither
    assert b["重复参保"].empty and b["信息纠错"].empty
    assert b["死亡人员仍参保或领待遇"]["公民身份号码"].tolist() == ["430302********0022"]
    everything = pd.concat([*a.values(), *b.values()])
    assert "单位信息错误" not in set(everything["问题"])
    assert not everything["公民身份号码"].str.fullmatch(r"\d{17}[\dX]").any()
    assert views.cleanup_summary(a)["条数"].tolist() == [1, 0, 2]


def test_coverage_counts_for_district_and_township(registry):
    eng = open_engine("duckdb", registry, read_only=True)
    try:
        district = views.coverage_counts(eng, P1)
        town = views.coverage_counts(eng, P1, A)
    finally:
        eng.close()
    assert district["人数"].sum() == 12  # 4 persons × 3 items
    got = town.loc[town["项目"] == "养老保险", ["状态", "人数"]].values.tolist()
    assert got == [["本地参保", 1], ["应参保未参保", 1]]


def test_roster_files_only_of_the_township(tmp_path):
    for folder in (f"{A}_昭潭街道", f"{B}_窑湾街道"):
        d = tmp_path / "rosters" / folder
        d.mkdir(parents=True)
        (d / "和平村.xlsx").write_bytes(b"x" * 2048)
    got = views.roster_files(tmp_path, A)
    assert got["文件"].tolist() == [f"rosters/{A}_昭潭街道/和平村.xlsx"]
    assert got["大小(KB)"].tolist() == [2.0]


def test_link_accuracy_against_truth(tmp_path):
    eng = open_engine("duckdb", None)
    eng.register_df(
        "person_records",
        pd.DataFrame(
            {"person_id": ["P1", "P2", "P2"], "file": ["hukou.csv"] * 3, "source_row": [1, 2, 3]}
        ),
    )
    eng.register_df(
        "links",
        pd.DataFrame(
            {
                "source": ["enrollment"] * 5,
                "file": ["enrollment.xlsx"] * 5,
                "source_row": [1, 2, 3, 4, 5],
                "person_id": ["P1", "P2", "P1", None, None],
                "method": ["exact_id", "probabilistic", "probabilistic", "unlinked", "unlinked"],
            }
        ),
    )
    truth = tmp_path / "truth"
    truth.mkdir()
    pd.DataFrame(
        {
            "extract": ["hukou"] * 3 + ["enrollment"] * 5,
            "file": ["hukou.csv"] * 3 + ["enrollment.xlsx"] * 5,
            "source_row": [1, 2, 3, 1, 2, 3, 4, 5],
            "person_key": ["K1", "K2", "K2", "K1", "K2", "K2", "K1", ""],
            "faults": [""] * 8,
        }
    ).to_csv(truth / "rows.csv", index=False)
    acc = link_accuracy(eng, truth).set_index("method")
    # row 3 (true K2) wrongly linked to K1's person; row 4 (K1) missed; row 5 nobody
    assert acc.loc["合计", ["rows", "linked", "correct", "wrong", "missed"]].tolist() == [
        5,
        3,
        2,
        1,
        1,
    ]
    assert acc.loc["合计", "precision"] == pytest.approx(2 / 3)
    assert acc.loc["合计", "recall"] == pytest.approx(2 / 4)
    assert acc.loc["probabilistic", "wrong"] == 1
    assert not eng.table_exists("_truth_rows")


def test_truth_dir_sits_beside_raw(tmp_path):
    ctx = period_context(tmp_path / "data" / "raw" / "430302" / "2026-01-15", tmp_path / "reports")
    assert views.truth_dir_for(ctx.period_dir) == (
        tmp_path / "data" / "truth" / "430302" / "2026-01-15"
    )


def test_stable_chart_ids_numbers_random_ids_in_order():
    a, b = "1614de3db9ab49c0828957c7c95fa40c", "70dcdc1580f341aea20235461cde1891"
    html = (
        f'<div id="splink-chart-{a}"></div><style>#splink-chart-{a}.vega-embed{{}}</style>'
        f'<div id="splink-chart-{b}"></div><script>embed("#splink-chart-{b}")</script>'
    )
    assert views.stable_chart_ids(html) == (
        '<div id="splink-chart-1"></div><style>#splink-chart-1.vega-embed{}</style>'
        '<div id="splink-chart-2"></div><script>embed("#splink-chart-2")</script>'
    )


def test_reconciliation_and_link_counts_name_extracts_in_chinese(tmp_path: Path) -> None:
    """The report's 数据 column reads 公安户籍人口, not the file stem ``hukou``."""
    eng = open_engine("duckdb", tmp_path / "registry.duckdb")
    eng.register_df(
        "reconciliation",
        pd.DataFrame(
            {
                "extract": ["hukou", "enrollment", "survey_returns"],
                "file": ["hukou.xlsx", "enrollment.csv", "survey_returns/雨湖路街道.xlsx"],
                "rows_read": [10, 8, 3],
                "rows_loaded": [9, 8, 2],
                "rows_rejected": [1, 0, 1],
                "extra_columns": ["", "", ""],
                "unknown_codes": [0, 0, 0],
            }
        ),
    )
    eng.register_df(
        "links",
        pd.DataFrame(
            {"source": ["enrollment", "national_match"], "method": ["exact_id", "unlinked"]}
        ),
    )
    recon = views.reconciliation(eng)
    assert list(recon["数据"]) == ["公安户籍人口", "参保信息", "入户调查回收表"]
    assert list(recon["是否平衡"]) == ["是", "是", "是"]
    counts = views.link_counts(eng)
    assert list(counts["数据"]) == ["参保信息", "全国信息比对结果"]
    assert list(counts["合计"]) == [1, 1]
    assert list(counts["身份证号码一致"]) == [1, 0]
    eng.close()
