"""The period's CSV exports: contract columns in order, text formatting, byte determinism."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from canbao.report import excel_copies, exports
from tests.support.exports import LIU, STRANGER, ZHANG, ingest_tables, three_people
from tests.support.period import (
    Period,
    config,
    context,
    pop_row,
    run_period,
)
from tests.support.registry_tables import REGISTRY_COLUMNS


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    return run_period(ingest_tables(), three_people(), "2026-10-31", root)


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def test_headers_are_the_contract_columns_in_order(written: dict[str, Path]) -> None:
    assert _read(written["registry"])[0] == list(exports.REGISTRY_CSV_COLUMNS)
    assert _read(written["registry"])[0] == REGISTRY_COLUMNS
    assert _read(written["links"])[0] == [
        "source_row", "file", "member_no", "person_id", "method", "match_probability",
    ]  # fmt: skip
    assert _read(written["findings"])[0] == ["finding", "person_id", "file", "source_row", "detail"]
    assert _read(written["reconciliation"])[0] == [
        "extract", "file", "rows_read", "rows_loaded", "rows_rejected", "extra_columns",
        "unknown_codes", "rows_repeated",
    ]  # fmt: skip
    assert _read(written["rejects"])[0] == [
        "file", "source_row", "column", "reason", "value", "reason_text",
    ]  # fmt: skip


def test_utf8_newline_endings_and_no_bom(written: dict[str, Path]) -> None:
    for path in written.values():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        assert data.endswith(b"\n")


def test_registry_rows_and_formats(written: dict[str, Path]) -> None:
    rows = _read(written["registry"])[1:]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    by_name = {r[2]: r for r in rows}
    assert by_name["张建国"][1:6] == [ZHANG, "张建国", "1", "1962-03-15", "hukou"]
    assert by_name["阿依古丽·买买提"][1] == ""  # no valid ID: empty
    assert by_name["刘桂英"][8:] == ["deceased", "not_applicable", "not_applicable",
                                    "not_applicable"]  # fmt: skip
    assert "李,四" not in by_name  # outside the population: no registry row


def test_links_are_enrollment_rows_only_with_fixed_decimals(written: dict[str, Path]) -> None:
    rows = _read(written["links"])[1:]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r[4] for r in rows] == ["exact_id", "exact_id", "exact_id", "unlinked", "probabilistic"]
    assert [r[5] for r in rows] == ["1.000000", "1.000000", "1.000000", "", "0.995000"]
    assert rows[3][2] == 'A"1' and rows[3][3] == ""
    assert 'A""1' in written["links"].read_text(encoding="utf-8")  # quoted, not mangled


def test_findings_are_in_total_order_and_ids_masked(written: dict[str, Path]) -> None:
    rows = _read(written["findings"])[1:]
    codes = [r[0] for r in rows]
    assert codes == sorted(codes)
    assert {"DECEASED_BENEFIT", "DUPLICATE_PENSION", "DUPLICATE_REGION", "EMPLOYER_INVALID",
            "ID_INVALID", "ID_REPAIRED", "NOT_IN_POPULATION"} <= set(codes)  # fmt: skip
    text = written["findings"].read_text(encoding="utf-8")
    for full in (ZHANG, LIU, STRANGER):
        assert full not in text
    per_person = [r for r in rows if r[0].startswith(("DUPLICATE_", "DECEASED_"))]
    assert all(r[3] == "" and r[2] == "" and r[1] for r in per_person)


def test_reconciliation_rejects_and_changelog_copied(written: dict[str, Path]) -> None:
    assert _read(written["reconciliation"])[1:] == [
        ["enrollment", "enrollment.csv", "5", "5", "0", "", "0", "0"],
        ["hukou", "hukou.csv", "4", "3", "1", "备注", "1", "0"],
    ]
    assert _read(written["rejects"])[1:] == [
        ["hukou.csv", "4", "公民身份号码", "no_id_no_name", "",
         "公民身份号码和姓名均为空，无法识别是谁"],
        ["hukou.csv", "5", "公民身份号码", "summary_row", "=SUM(B2:B9)",
         "合计、小计等汇总行，不是人员数据"],
    ]  # fmt: skip
    changes = _read(written["changelog"])
    assert changes[0] == ["period", "person_id", "change", "field", "old_value", "new_value"]
    assert [r[2] for r in changes[1:]] == ["新增"] * 3


def test_same_inputs_in_another_row_order_give_identical_bytes(
    written: dict[str, Path], tmp_path: Path
) -> None:
    again = run_period(ingest_tables(order=-1), three_people(order=-1), "2026-10-31", tmp_path)
    for name, path in written.items():
        assert again[name].read_bytes() == path.read_bytes(), name
        copy = f"xlsx/{name}.xlsx"
        assert (again[name].parent / copy).read_bytes() == (path.parent / copy).read_bytes(), copy


def _copy(written: dict[str, Path], name: str) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(written[name].parent / "xlsx" / f"{name}.xlsx").active


def test_every_export_has_an_excel_copy_with_chinese_titles_and_text_cells(
    written: dict[str, Path],
) -> None:
    for name, path in written.items():
        ws = _copy(written, name)
        header = _read(path)[0]
        titles = [c.value for c in ws[1]]
        assert titles == [excel_copies.COLUMN_TITLES[c] for c in header], name
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in titles), name
        assert ws.freeze_panes == "A2"
        cells = [c for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], name
        assert all(c.data_type == "s" for c in cells if c.value is not None), name
        assert ws.max_row == len(_read(path)), name  # every CSV row, no more
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(6 <= w <= 50 for w in widths), name


def test_excel_copies_mask_every_id_and_keep_formula_text_as_text(
    written: dict[str, Path],
) -> None:
    registry = _copy(written, "registry")
    ids = [r[1] for r in registry.iter_rows(min_row=2, values_only=True) if r[1]]
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", i) for i in ids)
    assert ZHANG[:6] + "********" + ZHANG[-4:] in ids
    for name in written:
        values = [str(v) for row in _copy(written, name).iter_rows(values_only=True)
                  for v in row if v is not None]  # fmt: skip
        for full in (ZHANG, LIU, STRANGER):
            assert not any(full in v for v in values), name
    rejects = _copy(written, "rejects")
    cell = rejects["E3"]
    assert cell.value == "=SUM(B2:B9)" and cell.data_type == "s" and cell.quotePrefix


def test_missing_optional_tables_give_header_only_files(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1")]),
               "2026-10-31", tmp_path, exports=False)  # fmt: skip
    out = exports.write_exports(engine, config(), context("2026-10-31", tmp_path))
    assert (
        out["rejects"].read_text(encoding="utf-8")
        == "file,source_row,column,reason,value,reason_text\n"
    )
    assert len(_read(out["registry"])) == 2


def test_a_long_export_is_split_into_excel_copies_that_hold_every_row_in_order(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """Excel holds 1,048,576 rows a sheet; a 1M district's links.csv has 2.5M: split by rule."""
    path = written["links"]
    header, *rows = _read(path)
    parts = excel_copies.write_excel_copy(path, tmp_path, dt.date(2026, 10, 31), rows_per_file=2)
    assert [p.name for p in parts] == [f"links_{k}.xlsx" for k in range(1, -(-len(rows) // 2) + 1)]
    got = []
    for part in parts:
        ws = openpyxl.load_workbook(part).active
        assert [c.value for c in ws[1]] == [excel_copies.COLUMN_TITLES[c] for c in header]
        body = [[v or "" for v in r] for r in ws.iter_rows(min_row=2, values_only=True)]
        assert 1 <= len(body) <= 2
        got += body
    assert got == [
        [excel_copies.mask_cell(c, v) for c, v in zip(header, r, strict=True)] for r in rows
    ]
