"""canbao.core.xlsx: the one deterministic workbook writer."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl

from canbao.core.xlsx import fixed_time, write_text_table

ROWS = [
    ['=HYPERLINK("http://x","点我")', "+86 138", "-5", "@SUM(A1)", "430302199001011234"],
    ["张三", "", "0012", "3.5", "1e5"],
]
COLS = ["姓名", "电话", "编号", "金额", "公民身份号码"]


def test_every_cell_is_text_and_nothing_evaluates(tmp_path):
    path = write_text_table(tmp_path / "t.xlsx", COLS, ROWS, fixed_time(dt.date(2026, 1, 31)))
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == COLS
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells)
    assert ws["A2"].value.startswith("=HYPERLINK") and ws["C3"].value == "0012"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["E"].width >= 18


def test_same_inputs_same_bytes_with_fixed_times_and_sorted_entries(tmp_path):
    when = fixed_time(dt.date(2026, 1, 31))
    a = write_text_table(tmp_path / "a.xlsx", COLS, ROWS, when).read_bytes()
    b = write_text_table(tmp_path / "b.xlsx", COLS, ROWS, when).read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        names = zf.namelist()
        assert names == sorted(names) and names[0] == "[Content_Types].xml"
        assert {i.date_time for i in zf.infolist()} == {(2026, 1, 31, 0, 0, 0)}
        assert b"2026-01-31T00:00:00Z" in zf.read("docProps/core.xml")
