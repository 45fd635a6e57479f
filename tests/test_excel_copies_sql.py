"""The Excel copies built in DuckDB give the bytes the Python row-by-row path gives.

The CSVs are written the way the exports stage writes them (pandas, ``\\n`` endings)
and hold what a damaged extract carries into ``rejects.csv`` or ``findings.csv``:
formula-like text, white space at the edges, control characters, markup, ID numbers
alone and inside text (ASCII, full-width and other digits), Chinese.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from canbao.core.privacy import mask_id
from canbao.report import excel_copies

PERIOD = dt.date(2026, 11, 15)
ZHANG = "430302196203151234"
LI_X = "43030219900101123X"
FULL_WIDTH_ID = "４３０３０２１９９００１０１１２３４"  # Excel users type these too
HOSTILE = [
    "=SUM(1)", "+1", "-1", "@x", "=HYPERLINK(\"http://x\",\"点我\")", " leading", "trailing ",
    "\ttab", "tab\t", "\u3000全角空格", "中间\u3000空格\u3000", "nbsp\xa0", "\x1fus", "a\x01b",
    "\x01", "\x0b\x0c", "x\x7fy", "a & b < c > d", "&amp;", "<t>", "line\nbreak",
    "\r\n", "\"quoted\"", "comma,inside", "'apostrophe", ZHANG, LI_X, LI_X.lower(),
    f"身份证{ZHANG}有误", f"{ZHANG},{LI_X},{ZHANG}", f"x{ZHANG}", f"{ZHANG}1", f"1{ZHANG}",
    f"id:{ZHANG}.", f"{ZHANG}\n{LI_X}", FULL_WIDTH_ID, f"号码{FULL_WIDTH_ID}", "٤٣٠٣٠٢١٩٩٠٠١٠١١٢٣٤",
    "12345678901234567", "1234567890123456789", "4303021962", "430302196", "", " ", "  ",
    "张三", "王\u00a0五", "𠀀𠀁 ext-B", "e\u0301", "=\u0301", "-\u3000", "NULL", "nan", "1.000000",
    "0012", "4.30302E+17", "x" * 5000, "\u2028sep\u2029", "\x85nel", "&" * 3,
]  # fmt: skip
COLUMNS = ["person_id", "id_number", "name", "detail", "value", "reason_text"]


def _hostile_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` rows: every hostile value in every column at least once, the rest plain."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        row = [f"P430302-{i:07d}", ZHANG if i % 3 else LI_X, "李四", "出生日期不符", "1", "正常"]
        if i < len(HOSTILE) * len(COLUMNS):
            row[i % len(COLUMNS)] = HOSTILE[(i // len(COLUMNS)) % len(HOSTILE)]
        elif rnd.random() < 0.3:
            row[rnd.randrange(len(COLUMNS))] = rnd.choice(HOSTILE)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:  # as the exports stage writes
        df.to_csv(fh, index=False, lineterminator="\n", na_rep="")
    return path


def _both(csv_path: Path, tmp_path: Path, rows_per_file: int) -> tuple[list[Path], list[Path]]:
    """(the SQL path's files, the Python path's): the SQL path may not fall back here."""
    python = excel_copies.write_excel_copy_python
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(excel_copies, "write_excel_copy_python", _no_fallback)
        new = excel_copies.write_excel_copy(
            csv_path, tmp_path / "sql", PERIOD, rows_per_file=rows_per_file
        )
    old = python(csv_path, tmp_path / "python", PERIOD, rows_per_file=rows_per_file)
    return new, old


def _no_fallback(*args: object, **kwargs: object) -> None:
    raise AssertionError("the SQL path fell back to Python")


def _shown(value: str, column: str) -> str:
    """What Excel shows for a cell: the masked text less the characters XML cannot hold.

    (An XML reader also turns a stored CR LF into LF.)
    """
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", excel_copies.mask_cell(column, value))
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("rows_per_file", [200_000, 97])
def test_hostile_values_give_the_same_bytes_as_the_python_path(
    tmp_path: Path, rows_per_file: int
) -> None:
    df = _hostile_frame(700)
    csv_path = _write_csv(df, tmp_path / "rejects.csv")
    new, old = _both(csv_path, tmp_path, rows_per_file)
    assert [p.name for p in new] == [p.name for p in old]
    assert len(new) == (1 if rows_per_file > 700 else 8)
    for a, b in zip(new, old, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name

    got = []
    for part in new:
        ws = openpyxl.load_workbook(part).active
        assert [c.value for c in ws[1]] == [excel_copies.column_title(c) for c in COLUMNS]
        for row in ws.iter_rows(min_row=2):
            assert all(c.data_type == "s" for c in row if c.value is not None)
            for c in row:
                if c.value is not None:
                    assert bool(c.quotePrefix) == c.value.startswith(("=", "+", "-", "@"))
            got.append(["" if c.value is None else c.value for c in row])
    want = [[_shown(v, c) for c, v in zip(COLUMNS, r, strict=True)] for r in df.values.tolist()]
    assert got == want
    shown = "\n".join("\t".join(r) for r in got)
    for full in (ZHANG, LI_X, LI_X.lower()):  # whole only where it is no ID (digits run on)
        for m in re.finditer(full, shown):
            assert shown[m.start() - 1].isalnum() or shown[m.end()].isalnum(), full
    assert FULL_WIDTH_ID not in shown and f"号码{mask_id(FULL_WIDTH_ID)}" in shown
    assert f"身份证{mask_id(ZHANG)}有误" in shown
    assert f"{mask_id(ZHANG)},{mask_id(LI_X)},{mask_id(ZHANG)}" in shown  # IDs back to back
    assert f"x{ZHANG}" in shown and f"{ZHANG}1" in shown  # not an ID: left whole


def test_an_id_column_with_other_characters_and_a_header_only_csv(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "id_number": [
                FULL_WIDTH_ID,
                "＝" + ZHANG,
                " " + ZHANG,
                "abc",
                "",
                "身份证号码未填写",
                ZHANG,
            ]
        }
    )
    csv_path = _write_csv(df, tmp_path / "registry.csv")
    new, old = _both(csv_path, tmp_path, 200_000)
    assert new[0].read_bytes() == old[0].read_bytes()
    ws = openpyxl.load_workbook(new[0]).active
    values = [c.value for c in ws["A"][1:]]
    assert values == [mask_id(v) or None for v in df["id_number"]]

    empty = _write_csv(pd.DataFrame(columns=COLUMNS), tmp_path / "field_issues.csv")
    new, old = _both(empty, tmp_path, 200_000)
    assert new[0].read_bytes() == old[0].read_bytes()
    assert openpyxl.load_workbook(new[0]).active.max_row == 1


def test_a_real_looking_export_matches_byte_for_byte_over_a_split(tmp_path: Path) -> None:
    """Plain rows take SQL's short way; their widths come from each part's first 2,000 rows."""
    rnd = random.Random(3)
    n = 4_500
    df = pd.DataFrame(
        {
            "source_row": [str(i + 1) for i in range(n)],
            "file": ["enrollment.xlsx"] * n,
            "member_no": [f"4303{rnd.randrange(10**8):08d}" for _ in range(n)],
            "person_id": [f"P430302-{rnd.randrange(10**7):07d}" if i % 9 else "" for i in range(n)],
            "method": [rnd.choice(["exact_id", "splink", "name_birth"]) for _ in range(n)],
            "match_probability": [f"{rnd.random():.6f}" for _ in range(n)],
        }
    )
    df.loc[2100, "file"] = "一个很长很长很长很长很长很长的文件名称.xlsx"  # second part's width
    csv_path = _write_csv(df, tmp_path / "links.csv")
    new, old = _both(csv_path, tmp_path, 2_000)
    assert [p.name for p in new] == ["links_1.xlsx", "links_2.xlsx", "links_3.xlsx"]
    for a, b in zip(new, old, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    ws = openpyxl.load_workbook(new[1]).active
    assert ws.max_row == 2_001 and ws["A2"].value == "2001"
    assert (
        ws.column_dimensions["B"].width
        > openpyxl.load_workbook(new[0]).active.column_dimensions["B"].width
    )


def test_copies_written_two_at_a_time_are_the_files_one_at_a_time_gives(tmp_path: Path) -> None:
    for name, n in (("registry", 300), ("links", 650), ("findings", 40), ("rejects", 0)):
        _write_csv(_hostile_frame(n, seed=len(name)), tmp_path / f"{name}.csv")
    one = excel_copies.write_excel_copies(tmp_path, PERIOD, rows_per_file=250, workers=1)
    one_bytes = {p.name: p.read_bytes() for paths in one.values() for p in paths}
    two = excel_copies.write_excel_copies(tmp_path, PERIOD, rows_per_file=250, workers=2)
    assert list(two) == ["findings", "links", "registry", "rejects"]  # the CSVs' name order
    assert [p.name for p in two["links"]] == ["links_1.xlsx", "links_2.xlsx", "links_3.xlsx"]
    assert {p.name: p.read_bytes() for paths in two.values() for p in paths} == one_bytes
    assert sorted(p.name for p in (tmp_path / "xlsx").glob("*.xlsx")) == sorted(one_bytes)


def test_copies_at_work_together_share_duckdbs_part_of_the_budget(tmp_path, monkeypatch):
    # Two exports copied at once open two DuckDB connections in one process: together
    # they keep to DuckDB's share of the budget, not twice it.
    for name in ("links", "registry"):
        (tmp_path / f"{name}.csv").write_text("person_id\nP1\n", encoding="utf-8")
    seen: list[str | None] = []

    def record(csv_path, out, period, **kw):
        seen.append(kw["memory_limit"])
        return []

    monkeypatch.setattr(excel_copies, "write_excel_copy", record)
    excel_copies.write_excel_copies(tmp_path, dt.date(2026, 11, 15), memory_limit="1024MiB")
    assert seen == ["512MiB", "512MiB"]
