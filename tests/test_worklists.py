"""清理清单: one workbook per township with the records it must clean up, opened with openpyxl."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from canbao.core.privacy import mask_id
from canbao.survey import worklists as wl
from tests.support.exports import LIU, STRANGER, ZHANG, ingest_tables, three_people
from tests.support.period import context, run_period

TOWNS = {"430302001": "雨湖路街道"}


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("worklists")
    engine = ingest_tables()
    run_period(engine, three_people(), "2026-10-31", root)
    out = root / "rosters"
    n = wl.write_work_lists(engine, out, context("2026-10-31", root), TOWNS, "雨湖区", "pw")
    files = sorted(out.rglob("*_清理清单.xlsx"))
    assert n == len(files) >= 1
    return out, files


def _town_list(lists) -> openpyxl.Workbook:  # noqa: ANN001
    path = next(p for p in lists[1] if p.parent.name.startswith("430302001"))
    assert path.name == "430302001_雨湖路街道_清理清单.xlsx"
    return openpyxl.load_workbook(path)


def test_grouped_by_kind_with_the_records_involved(lists) -> None:  # noqa: ANN001
    wb = _town_list(lists)
    assert wb.sheetnames[:2] == ["重复参保", "死亡人员仍参保或领待遇"]
    assert wb["选项"].sheet_state == "hidden"
    dup = wb["重复参保"]
    header = [c.value for c in dup[wl.HEADER_ROW]]
    assert header == [c.header for c in wl.COLUMNS]
    rows = [dict(zip(header, r, strict=True))
            for r in dup.iter_rows(min_row=wl.FIRST_DATA_ROW, values_only=True)]  # fmt: skip
    pension = [r for r in rows if r["问题"] == "职工与居民养老重复参保"]
    assert {(r["文件"], r["险种"], r["参保状态"]) for r in pension} == {
        ("enrollment.csv", "110 企业职工基本养老保险", "正常参保"),
        ("enrollment.csv", "170 城乡居民基本养老保险", "正常参保"),
    }
    assert all(r["行号"] and r["姓名"] == "张建国" for r in pension)
    dead = [dict(zip(header, r, strict=True)) for r in wb["死亡人员仍参保或领待遇"].iter_rows(
        min_row=wl.FIRST_DATA_ROW, values_only=True)]  # fmt: skip
    assert dead and dead[0]["问题"] == "死亡人员仍领取待遇" and dead[0]["待遇状态"] == "正常享受"
    assert "共" in dup["A2"].value and "雨湖路街道" in dup["A1"].value


def test_ids_masked_and_nothing_is_a_formula(lists) -> None:  # noqa: ANN001
    for path in lists[1]:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            cells = [c for row in ws.iter_rows() for c in row]
            assert not [c.coordinate for c in cells if c.data_type == "f"]
            text = " ".join(str(c.value) for c in cells if c.value is not None)
            for full in (ZHANG, LIU, STRANGER):
                assert full not in text
    ids = [r[5] for r in _town_list(lists)["重复参保"].iter_rows(
        min_row=wl.FIRST_DATA_ROW, values_only=True)]  # fmt: skip
    assert set(ids) == {mask_id(ZHANG)}
    assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", i) for i in ids)


def test_result_drop_down_protection_and_print_setup(lists) -> None:  # noqa: ANN001
    ws = _town_list(lists)["重复参保"]
    result_col = next(j for j, c in enumerate(wl.COLUMNS, 1) if c.field == "result")
    letter = openpyxl.utils.get_column_letter(result_col)
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1 and dvs[0].type == "list" and dvs[0].formula1.startswith("'选项'!")
    assert str(dvs[0].sqref).startswith(f"{letter}{wl.FIRST_DATA_ROW}:")
    assert ws.protection.sheet and ws.parent.security.lockStructure
    first = wl.FIRST_DATA_ROW
    assert ws.cell(first, 1).protection.locked  # pre-filled: locked
    for j, officer in enumerate((c.officer for c in wl.COLUMNS), 1):
        assert ws.cell(first, j).protection.locked is not officer
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"$1:${wl.HEADER_ROW}"
    assert "第 &P 页" in ws.oddFooter.center.text
    assert ws.freeze_panes == f"G{wl.FIRST_DATA_ROW}"


def test_same_inputs_same_bytes(lists, tmp_path: Path) -> None:  # noqa: ANN001
    engine = ingest_tables(order=-1)
    run_period(engine, three_people(order=-1), "2026-10-31", tmp_path)
    out = tmp_path / "rosters"
    wl.write_work_lists(engine, out, context("2026-10-31", tmp_path), TOWNS, "雨湖区", "pw")
    again = sorted(out.rglob("*_清理清单.xlsx"))
    assert [p.relative_to(out) for p in again] == [p.relative_to(lists[0]) for p in lists[1]]
    for a, b in zip(again, lists[1], strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
