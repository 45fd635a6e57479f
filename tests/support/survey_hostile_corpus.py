"""Hostile survey returns: genuine issued rosters damaged the way township staff damage them.

Each case is a function ``case(kit) -> Expect``: it writes one or more files into
the period's ``survey_returns/`` (always starting from the roster canbao issued,
opened and saved with openpyxl as Excel would, or re-encoded as Excel's CSV), and
says what the import must make of them. Its docstring says what a township clerk
would expect where the contract is silent.

The world (``tests.support.survey``): batch 1 issued on 2026-01-31 for two towns,
雨湖路街道 (430302001: villages …001001-003) and 鹤岭镇 (430302100: …100001-003);
the returns are imported on 2026-02-28. Village 430302001001 has 8 people, the first
four with names that look like formulas (=HYPERLINK…, +张三, -李四, @王五).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from tests.support.survey import id_number

T1, T2 = "430302001", "430302100"
V1, V2, V3 = "430302001001", "430302001002", "430302001003"
V4, V5 = "430302100001", "430302100002"
T1_FILE = "430302001_雨湖路街道.xlsx"
DAY = dt.date(2026, 2, 10)
GOOD = {"采集人": "张伟", "采集日期": DAY}
# The first three people of a village, answered as most rows are.
STD = (
    {"核实情况": "无参保意愿", "未参保原因": "自愿放弃", **GOOD},
    {"核实情况": "参加省职保", "未参保原因": "参职保（含退休）", **GOOD},
    {"核实情况": "其他人员", "未参保原因": "空挂户", **GOOD},
)
ROSTER_SHEET, LISTS_SHEET, HEADER_ROW = "花名册", "选项", 3
ID_LOST = "公民身份号码被存成了数字，后几位已丢失"


@dataclass
class Expect:
    """What importing the case's files must give.

    ``accepted``: id_number → 核实情况 in survey_results; ``values``: id_number →
    {survey_results column: value}; ``rejected``: (file, source_row, column, a piece
    of the reason); ``file_errors``: (file, a piece of the reason) for files that
    cannot be read at all (source_row 0); ``rows``: rows holding anything of a
    return (= accepted + rejected + duplicate + not_returned); ``open_tasks``: IDs
    whose task must still be open ('issued' or 'rejected') after the import.
    """

    accepted: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[tuple[str, int, str, str]] = field(default_factory=list)
    file_errors: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 0
    not_returned: int = 0
    duplicate: int = 0
    same_content_files: int = 0
    files: int = 1
    open_tasks: list[str] = field(default_factory=list)


@dataclass
class Kit:
    """The issued rosters, the issued tasks, and the folder the returns go to."""

    rosters: dict[str, Path]  # village code → issued roster
    tasks: pd.DataFrame  # survey_tasks of batch 1, in print order
    returns: Path

    def people(self, village: str) -> pd.DataFrame:
        return self.tasks[self.tasks["village_code"] == village].reset_index(drop=True)

    def ids(self, village: str = V1) -> list[str]:
        return list(self.people(village)["id_number"])

    def name(self, id_number: str) -> str:
        return str(self.tasks.set_index("id_number").loc[id_number, "name"])

    def open(self, village: str = V1) -> tuple[openpyxl.Workbook, Any, dict[str, int]]:
        """The issued roster as the officer opens it: (workbook, roster sheet, header → column)."""
        wb = openpyxl.load_workbook(self.rosters[village])
        ws = wb[ROSTER_SHEET]
        return wb, ws, {c.value: c.column for c in ws[HEADER_ROW]}

    def save(self, wb: openpyxl.Workbook, name: str) -> str:
        """Save into survey_returns/ (sub-folders allowed); returns the contract's file name."""
        path = self.returns / name
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return f"survey_returns/{name}"

    def filled(self, village: str, name: str, answers: dict[str, dict[str, Any]]) -> str:
        """The issued roster with ``answers`` ({id_number: {header: value}}) filled in, saved."""
        wb, ws, col = self.open(village)
        fill(ws, col, answers)
        return self.save(wb, name)


def row_of(ws: Any, col: dict[str, int], id_number: str) -> int:
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, col["公民身份号码"]).value == id_number:
            return r
    raise KeyError(id_number)


def fill(ws: Any, col: dict[str, int], answers: dict[str, dict[str, Any]]) -> None:
    for id_, values in answers.items():
        r = row_of(ws, col, id_)
        for header, value in values.items():
            ws.cell(r, col[header]).value = value


def std(ids: list[str], n: int = 3) -> dict[str, dict[str, Any]]:
    return {i: dict(STD[k % 3]) for k, i in enumerate(ids[:n])}


def std_accepted(ids: list[str], n: int = 3) -> dict[str, str]:
    return {i: STD[k % 3]["核实情况"] for k, i in enumerate(ids[:n])}


def copy_value(src: Any, dst: Any) -> None:
    """Move a cell's value as Excel does: text that looks like a formula stays text."""
    dst._value, dst.data_type = src._value, src.data_type


def cache_formula_results(path: Path, results: dict[str, Any]) -> None:
    """Give formula cells the results Excel saves with them (openpyxl writes none)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                for ref, value in results.items():
                    kind = ' t="str"' if isinstance(value, str) else ""
                    text = re.sub(
                        rf'(<c r="{ref}"[^>]*?)>(<f>.*?</f>)<v\s*/>',
                        lambda m, v=value, k=kind: f"{m[1]}{k}>{m[2]}<v>{v}</v>",
                        text,
                    )
                data = text.encode("utf-8")
            dst.writestr(info, data)
    tmp.replace(path)


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def as_csv(ws: Any, path: Path, encoding: str) -> None:
    """The roster sheet as Excel's "save as CSV" writes it (dates as 2026/2/10)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        for row in ws.iter_rows(values_only=True):
            w.writerow(
                [
                    f"{v.year}/{v.month}/{v.day}"
                    if isinstance(v, dt.date)
                    else ""
                    if v is None
                    else str(v)
                    for v in row
                ]
            )


# --------------------------------------------------------------------------- the cases

CASES: dict[str, Callable[[Kit], Expect]] = {}


def case(fn: Callable[[Kit], Expect]) -> Callable[[Kit], Expect]:
    CASES[fn.__name__] = fn
    return fn


@case
def sheet_renamed(kit: Kit) -> Expect:
    """花名册 renamed to the officer's own title: read by its header, not its name."""
    wb, ws, col = kit.open()
    ws.title = "雨湖路社区核查结果"
    fill(ws, col, std(kit.ids()))
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(accepted=std_accepted(kit.ids()), rows=8, not_returned=5)


@case
def sheets_reordered(kit: Kit) -> Expect:
    """The hidden list sheet unhidden and moved first, an empty sheet between: only the
    sheet with the roster header holds rows (the list sheet has no 姓名 column)."""
    wb, ws, col = kit.open()
    wb[LISTS_SHEET].sheet_state = "visible"
    wb.move_sheet(LISTS_SHEET, offset=-1)
    wb.create_sheet("Sheet1", 1)
    fill(ws, col, std(kit.ids()))
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(accepted=std_accepted(kit.ids()), rows=8, not_returned=5)


@case
def extra_sheets(kit: Kit) -> Expect:
    """A notes sheet and a phone list (no roster header) are ignored; a sheet the officer
    added with the roster's header is read too, its rows numbered on after the first
    sheet's (data rows 1-8, then 9): one file, one numbering, as the contract's
    ``source_row`` is per file."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    fill(ws, col, std(ids))
    notes = wb.create_sheet("说明")
    notes["A1"] = "第5户外出务工，电话联系核实"
    phones = wb.create_sheet("联系电话")
    phones.append(["姓名", "联系电话"])
    phones.append([kit.name(ids[4]), "13800000000"])
    extra = wb.create_sheet("补充")
    extra.append([c.value for c in ws[HEADER_ROW]])
    row = {h: ws.cell(row_of(ws, col, ids[3]), j).value for h, j in col.items()}
    row.update({"核实情况": "现役军人", **GOOD})
    extra.append([row[h] for h in col])
    extra.cell(2, col["姓名"]).data_type = "s"  # '@王五' stays text
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted={**std_accepted(ids), ids[3]: "现役军人"},
        values={ids[3]: {"source_row": 9, "exemption": "military"}},
        rows=9,
        not_returned=5,
    )


@case
def rows_resorted(kit: Kit) -> Expect:
    """Rows sorted the other way round (by 姓名 descending, say): people are matched by
    ID, and rows are reported where they now stand (the officer's row numbers)."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    first, last = HEADER_ROW + 1, HEADER_ROW + len(ids)
    grid = [[ws.cell(r, c) for c in range(1, ws.max_column + 1)] for r in range(first, last + 1)]
    saved = [[(c._value, c.data_type) for c in row] for row in grid]
    for row, values in zip(grid, reversed(saved), strict=True):
        for cell, (v, t) in zip(row, values, strict=True):
            cell._value, cell.data_type = v, t
    fill(ws, col, {**std(ids), ids[4]: {"核实情况": "乱填", **GOOD}})
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted=std_accepted(ids),
        values={ids[0]: {"source_row": 8}, ids[2]: {"source_row": 6}},
        rejected=[(name, 4, "核实情况", "核实情况不在选项中：乱填")],
        rows=8,
        not_returned=4,
        open_tasks=[ids[4]],
    )


@case
def rows_deleted(kit: Kit) -> Expect:
    """Two people's rows deleted and one row's contents cleared (Delete key): nothing to
    import for them; their tasks stay open (the 落实台账 shows them 未回收), the other
    rows import as usual. The cleared row is blank, not counted, but keeps its place:
    the 8th person, now the 6th row, is reported as row 6."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    fill(ws, col, {**std(ids), ids[7]: {"核实情况": "乱填", **GOOD}})
    for cell in ws[row_of(ws, col, ids[3])]:
        cell.value = None
    ws.delete_rows(row_of(ws, col, ids[5]), 2)
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted=std_accepted(ids),
        rejected=[(name, 6, "核实情况", "核实情况不在选项中：乱填")],
        rows=5,
        not_returned=1,
        open_tasks=[ids[3], ids[5], ids[6], ids[7]],
    )


@case
def row_inserted(kit: Kit) -> Expect:
    """Three rows inserted by hand after the 2nd person: someone not on the roster with a
    核实情况; someone not on the roster with no 核实情况 (still rejected: the clerk must
    learn the district cannot add people this way, not see the row vanish as
    未回收); a person with a 核实情况 and no ID. Later rows move down by three."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    fill(ws, col, std(ids))
    at = row_of(ws, col, ids[1]) + 1
    ws.insert_rows(at, 3)
    stranger = id_number("430302", dt.date(1990, 1, 1), 123)
    added = (
        {"姓名": "外来人", "公民身份号码": stranger, "村社区代码": V1, "核实情况": "无参保意愿"},
        {"姓名": "新生儿", "公民身份号码": id_number("430302", dt.date(2025, 12, 1), 124)},
        {"姓名": "无证人", "村社区代码": V1, "核实情况": "其他人员"},
    )
    for k, values in enumerate(added):
        for header, value in {**values, **GOOD}.items():
            ws.cell(at + k, col[header]).value = value
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted=std_accepted(ids),
        values={ids[2]: {"source_row": 6}},
        rejected=[
            (name, 3, "公民身份号码", "身份证号码不在下发名单"),
            (name, 4, "公民身份号码、村社区代码", "身份证号码不在下发名单；村社区代码为空"),
            (name, 5, "公民身份号码", "身份证号码为空"),
        ],
        rows=11,
        not_returned=5,
    )


@case
def id_edited(kit: Kit) -> Expect:
    """The protected ID column edited (protection removed first): one ID changed by a
    digit, one cleared. Rejected, never matched to the issued person; where the name is
    that of exactly one open task of the township, the reason shows that person's
    issued number (masked) and says IDs on the roster may not be changed."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    ws.protection.sheet = False
    fill(ws, col, std(ids))
    changed = ids[7][:10] + ("1" if ids[7][10] != "1" else "2") + ids[7][11:]
    fill(
        ws,
        col,
        {
            ids[7]: {"公民身份号码": changed, "核实情况": "无参保意愿", **GOOD},
            ids[6]: {"公民身份号码": None, "核实情况": "无参保意愿", **GOOD},
        },
    )
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    hint = f"（下发名单中{kit.name(ids[7])}的号码为{ids[7][:6]}********{ids[7][-4:]}，"
    return Expect(
        accepted=std_accepted(ids),
        rejected=[
            (name, 8, "公民身份号码", "身份证号码不在下发名单" + hint),
            (name, 7, "公民身份号码", "身份证号码为空"),
        ],
        rows=8,
        not_returned=3,
        open_tasks=[ids[6], ids[7]],
    )


@case
def id_retyped_as_number(kit: Kit) -> Expect:
    """IDs turned into numbers: a number cell (Excel kept 15 digits: 4.30302196403030E+17)
    and the text 4.30302E+17 (pasted from a CSV). Precision is lost: rejected with that
    said, never guessed (contract §1), even though the first 15 digits match. An
    unanswered row with a number ID is simply not returned (nothing to import)."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    fill(ws, col, std(ids, 1))
    fill(
        ws,
        col,
        {
            ids[1]: {"公民身份号码": float(ids[1][:15] + "000"), **STD[1]},
            ids[2]: {"公民身份号码": "4.30302E+17", **STD[2]},
            ids[3]: {"公民身份号码": float(ids[3][:15] + "000")},
        },
    )
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted=std_accepted(ids, 1),
        rejected=[
            (name, 2, "公民身份号码", f"{ID_LOST}（{ids[1][:6]}********0000）"),
            (name, 3, "公民身份号码", f"{ID_LOST}（430302********0000）"),
        ],
        rows=8,
        not_returned=5,
        open_tasks=[ids[1], ids[2]],
    )


@case
def id_spaces_and_widths(kit: Kit) -> Expect:
    """IDs retyped with spaces (also a no-break space, a zero-width space from a chat, a
    tab), in full-width digits, with a leading apostrophe, with a lowercase x: the same
    ID (contract §7: normalisation is not a change), accepted."""
    ids = kit.ids()
    wide = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
    typed = {
        ids[0]: f"{ids[0][:6]} {ids[0][6:14]} {ids[0][14:]}",
        ids[1]: ids[1].translate(wide),
        ids[2]: f"\u00a0{ids[2][:9]}\u200b{ids[2][9:]}\t",
        ids[4]: "'" + ids[4],
        ids[6]: ids[6].lower(),  # 43030219510909017X
    }
    answers = {i: {"公民身份号码": v, **STD[k % 3]} for k, (i, v) in enumerate(typed.items())}
    wb, ws, col = kit.open()
    fill(ws, col, answers)
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted={i: STD[k % 3]["核实情况"] for k, i in enumerate(typed)},
        rows=8,
        not_returned=3,
    )


@case
def outcome_free_text(kit: Kit) -> Expect:
    """核实情况 typed instead of picked: free text is rejected naming the value (the
    contract's codes from the lists), the import code 2/011 too (the list is the
    names); a picked value with a trailing newline or ASCII brackets is the entry."""
    ids = kit.ids()
    answers = {
        ids[0]: {"核实情况": "已参加职保", **GOOD},
        ids[1]: {"核实情况": "外出务工，联系不上", **GOOD},
        ids[2]: {"核实情况": "无参保意愿 \n", **GOOD},
        ids[3]: {"核实情况": "出国(境)人员", **GOOD},
        ids[4]: {"核实情况": "2/011", **GOOD},
    }
    name = kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", answers)
    return Expect(
        accepted={ids[2]: "无参保意愿", ids[3]: "出国（境）人员"},
        rejected=[
            (name, 1, "核实情况", "核实情况不在选项中：已参加职保"),
            (name, 2, "核实情况", "核实情况不在选项中：外出务工，联系不上"),
            (name, 5, "核实情况", "核实情况不在选项中：2/011"),
        ],
        rows=8,
        not_returned=3,
    )


@case
def dates_typed(kit: Kit) -> Expect:
    """采集日期 typed as text or left as a serial number: 2026.2.3, 2026-02-03 00:00:00,
    an Excel serial, and 2月3日 / 2月5号 without a year (the latest such day not after
    the period date: what the officer meant, checked like any date, so 12月30日 is
    2025-12-30, before the roster was issued, and rejected). Words are rejected."""
    ids = kit.ids()
    typed = [
        "2026.2.3",
        "2月3日",
        "2月5号",
        excel_serial(dt.date(2026, 2, 3)),
        "2026-02-03 00:00:00",
    ]
    answers = {
        i: {"核实情况": "无参保意愿", "采集人": "张伟", "采集日期": v}
        for i, v in zip(ids, typed, strict=False)
    }
    answers[ids[5]] = {"核实情况": "无参保意愿", "采集日期": "下周补"}
    answers[ids[6]] = {"核实情况": "无参保意愿", "采集日期": "12月30日"}
    name = kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", answers)
    days = [dt.date(2026, 2, 3), dt.date(2026, 2, 3), dt.date(2026, 2, 5)] + [
        dt.date(2026, 2, 3)
    ] * 2
    return Expect(
        accepted=dict.fromkeys(ids[:5], "无参保意愿"),
        values={i: {"collected_date": pd.Timestamp(d)} for i, d in zip(ids, days, strict=False)},
        rejected=[
            (name, 6, "采集日期", "采集日期无法识别：下周补"),
            (name, 7, "采集日期", "采集日期早于下发日期2026-01-31"),
        ],
        rows=8,
        not_returned=1,
    )


def _formulas(kit: Kit, cached: bool) -> tuple[str, list[str]]:
    ids = kit.ids()
    wb, ws, col = kit.open()
    r0, r1 = row_of(ws, col, ids[4]), row_of(ws, col, ids[5])
    ws.cell(r0, col["核实情况"]).value = f"='{LISTS_SHEET}'!$A$12"  # 无参保意愿
    ws.cell(r0, col["采集人"]).value = '="张"&"伟"'
    ws.cell(r0, col["采集日期"]).value = "=DATE(2026,2,3)"
    ws.cell(r1, col["核实情况"]).value = "参加省职保"
    ws.cell(r1, col["采集人"]).value = "=S8"
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    if cached:
        letter = openpyxl.utils.get_column_letter
        cache_formula_results(
            kit.returns / name.removeprefix("survey_returns/"),
            {
                f"{letter(col['核实情况'])}{r0}": "无参保意愿",
                f"{letter(col['采集人'])}{r0}": "张伟",
                f"{letter(col['采集日期'])}{r0}": excel_serial(dt.date(2026, 2, 3)),
                f"{letter(col['采集人'])}{r1}": "李娜",
            },
        )
    return name, ids


@case
def formulas_with_results(kit: Kit) -> Expect:
    """Formulas in cells, as Excel or WPS saves them (with their results): the result the
    officer saw is the value."""
    _, ids = _formulas(kit, cached=True)
    return Expect(
        accepted={ids[4]: "无参保意愿", ids[5]: "参加省职保"},
        values={
            ids[4]: {"collector": "张伟", "collected_date": pd.Timestamp("2026-02-03")},
            ids[5]: {"collector": "李娜"},
        },
        rows=8,
        not_returned=6,
    )


@case
def formulas_without_results(kit: Kit) -> Expect:
    """The same formulas saved by a program that stores no results: the cells would read
    empty and the answers vanish. Such a row is rejected naming the column (paste as
    values and send again), even when only 采集人 is a formula."""
    name, ids = _formulas(kit, cached=False)
    return Expect(
        rejected=[
            (name, 5, "核实情况、采集人、采集日期", "核实情况是公式且没有保存计算结果"),
            (name, 6, "采集人", "采集人是公式且没有保存计算结果"),
        ],
        rows=8,
        not_returned=6,
        open_tasks=[ids[4], ids[5]],
    )


@case
def merged_cells(kit: Kit) -> Expect:
    """A household's 核实情况, 采集人 and 采集日期 merged over its three rows: a merged
    block shows one value on every row it spans, so each row gets it (what the officer
    sees). A 备注 merged across 备注:采集人 is the note only."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    r0 = row_of(ws, col, ids[0])
    letter = openpyxl.utils.get_column_letter
    for header, value in (("核实情况", "无参保意愿"), ("采集人", "张伟"), ("采集日期", DAY)):
        ws.cell(r0, col[header]).value = value
        c = letter(col[header])
        ws.merge_cells(f"{c}{r0}:{c}{r0 + 2}")
    r3 = row_of(ws, col, ids[3])
    fill(ws, col, {ids[3]: {"核实情况": "其他人员", "备注": "户口在外地", "采集日期": DAY}})
    ws.merge_cells(f"{letter(col['备注'])}{r3}:{letter(col['采集人'])}{r3}")
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    three = {i: {"collector": "张伟", "collected_date": pd.Timestamp(DAY)} for i in ids[:3]}
    return Expect(
        accepted={**dict.fromkeys(ids[:3], "无参保意愿"), ids[3]: "其他人员"},
        values={**three, ids[3]: {"note": "户口在外地", "collector": None}},
        rows=8,
        not_returned=4,
    )


@case
def header_deleted(kit: Kit) -> Expect:
    """The header row deleted: columns are not guessed by position (the officer may have
    moved them too); the whole file is reported, naming it, for the township to
    restore the header and send again. No row is imported."""
    wb, ws, col = kit.open()
    fill(ws, col, std(kit.ids()))
    ws.delete_rows(HEADER_ROW)
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(file_errors=[(name, "未找到表头")], open_tasks=kit.ids()[:3])


@case
def wrong_extension(kit: Kit) -> Expect:
    """An xlsx saved under .xls, another as .XLSX: read by content and case-blind suffix
    (both were skipped before)."""
    a = kit.filled(V1, f"{V1}_雨湖路社区居委会.xls", std(kit.ids()))
    b = kit.filled(V2, f"{V2}_湖滨社区.XLSX", std(kit.ids(V2)))
    assert a and b
    return Expect(
        accepted={**std_accepted(kit.ids()), **std_accepted(kit.ids(V2))},
        rows=15,
        not_returned=9,
        files=2,
    )


@case
def saved_as_csv(kit: Kit) -> Expect:
    """The roster saved as CSV: "CSV UTF-8" (with BOM) and plain CSV, which Chinese Excel
    writes in GBK. Title rows, header and rows come through as text and import like
    the workbook (formula-like names stay text)."""
    for village, name, enc in ((V1, "csv_utf8.csv", "utf-8-sig"), (V2, "csv_gbk.csv", "gbk")):
        wb, ws, col = kit.open(village)
        fill(ws, col, std(kit.ids(village)))
        as_csv(ws, kit.returns / f"{village}_{name}", enc)
    return Expect(
        accepted={**std_accepted(kit.ids()), **std_accepted(kit.ids(V2))},
        values={kit.ids()[0]: {"collected_date": pd.Timestamp(DAY)}},
        rows=15,
        not_returned=9,
        files=2,
    )


@case
def empty_files(kit: Kit) -> Expect:
    """An empty file (0 bytes), a workbook with one empty sheet, and the roster with every
    person row deleted: each reported once, naming the file (the last one as having no
    person rows: before, it was silently 'imported' with nothing in it)."""
    kit.returns.mkdir(parents=True, exist_ok=True)
    (kit.returns / f"{V1}_空.xlsx").write_bytes(b"")
    blank = openpyxl.Workbook()
    kit.save(blank, f"{V2}_空白.xlsx")
    wb, ws, _ = kit.open(V3)
    ws.delete_rows(HEADER_ROW + 1, ws.max_row)
    kit.save(wb, f"{V3}_无数据.xlsx")
    return Expect(
        file_errors=[
            (f"survey_returns/{V1}_空.xlsx", "文件为空"),
            (f"survey_returns/{V2}_空白.xlsx", "未找到表头"),
            (f"survey_returns/{V3}_无数据.xlsx", "文件中没有人员数据行"),
        ],
        files=3,
    )


@case
def returned_twice(kit: Kit) -> Expect:
    """The same file sent twice under another name is one file (same SHA-256: counted in
    same_content_files, its rows judged once). A re-saved copy (other bytes, same
    answers) is read, and its answers are duplicates of the first file's: counted as
    'duplicate', neither imported twice nor listed for the township to fix."""
    ids = kit.ids()
    kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", std(ids))
    shutil.copy(kit.returns / f"{V1}_雨湖路社区居委会.xlsx", kit.returns / f"{V1}_再次报送.xlsx")
    wb = openpyxl.load_workbook(kit.returns / f"{V1}_雨湖路社区居委会.xlsx")
    wb.properties.title = "副本"
    kit.save(wb, f"{V1}_副本.xlsx")
    return Expect(
        accepted=std_accepted(ids),
        rows=16,
        not_returned=10,
        duplicate=3,
        same_content_files=1,
        files=3,
    )


@case
def other_township_file(kit: Kit) -> Expect:
    """鹤岭镇's roster filled in and sent under 雨湖路街道's name: every answered row is
    rejected as not this township's (the district cannot tell who verified them); the
    rejections go to 雨湖路街道's 退回清单, whose name the file bears."""
    ids = kit.ids(V4)
    name = kit.filled(V4, T1_FILE, std(ids))
    return Expect(
        rejected=[
            (name, k + 1, "公民身份号码、村社区代码", f"不属于本乡镇下发名单（下发至{T2}）")
            for k in range(3)
        ],
        rows=7,
        not_returned=4,
        open_tasks=ids[:3],
    )


@case
def township_subfolder(kit: Kit) -> Expect:
    """Returns kept in a township's sub-folder (read, before they were skipped). A file's
    own name says whose it is first, then its folder's: 鹤岭镇's village roster kept in
    雨湖路街道's folder under its own name is 鹤岭镇's (accepted); the same township's
    roster renamed 回收表.xlsx in that folder is taken as 雨湖路街道's, so rejected."""
    folder = "430302001_雨湖路街道"
    kit.filled(V4, f"{folder}/{V4}_鹤岭村.xlsx", std(kit.ids(V4)))
    name = kit.filled(V5, f"{folder}/回收表.xlsx", std(kit.ids(V5), 1))
    return Expect(
        accepted=std_accepted(kit.ids(V4)),
        rejected=[(name, 1, "公民身份号码、村社区代码", f"不属于本乡镇下发名单（下发至{T2}）")],
        rows=14,
        not_returned=10,
        files=2,
    )


@case
def half_filled(kit: Kit) -> Expect:
    """Half the roster answered: the answers import, the rest are not returned (their
    tasks stay open for the next batch)."""
    ids = kit.ids()
    answers = {**std(ids), ids[3]: {"核实情况": "死亡未销户人员", **GOOD}}
    kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", answers)
    return Expect(
        accepted={**std_accepted(ids), ids[3]: "死亡未销户人员"},
        values={ids[3]: {"reported_deceased": True}},
        rows=8,
        not_returned=4,
        open_tasks=ids[4:],
    )


@case
def protection_removed(kit: Kit) -> Expect:
    """Sheet and workbook protection removed: the list sheet unhidden and given a new
    entry (外出务工) that is then picked, and a name corrected to a homophone. The
    lists and names are the district's: both rows rejected, the rest accepted."""
    ids = kit.ids()
    wb, ws, col = kit.open()
    ws.protection.sheet = False
    wb.security = None
    lists = wb[LISTS_SHEET]
    lists.sheet_state = "visible"
    lists.protection.sheet = False
    lists.cell(13, 1).value = "外出务工"
    fill(ws, col, std(ids))
    fill(
        ws,
        col,
        {
            ids[5]: {
                "姓名": kit.name(ids[5]).replace("芳", "方"),
                "核实情况": "无参保意愿",
                **GOOD,
            },
            ids[6]: {"核实情况": "外出务工", **GOOD},
        },
    )
    name = kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(
        accepted=std_accepted(ids),
        rejected=[
            (name, 6, "姓名", f"姓名与下发名单不一致（下发：{kit.name(ids[5])}）"),
            (name, 7, "核实情况", "核实情况不在选项中：外出务工"),
        ],
        rows=8,
        not_returned=3,
    )


LONG = 10_000


@case
def cell_of_10000_characters(kit: Kit) -> Expect:
    """A 10,000-character 备注 is kept whole; a 10,000-character 核实情况 is rejected with
    the value cut to 40 characters in the reason (and 200 in the 退回清单's cells), so
    the list stays readable and Excel can open it."""
    ids = kit.ids()
    note = ("入户三次未遇，" * LONG)[:LONG]
    answers = {
        ids[0]: {"核实情况": "无参保意愿", "备注": note, **GOOD},
        ids[1]: {"核实情况": ("无参保意愿" * LONG)[:LONG], **GOOD},
    }
    name = kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", answers)
    return Expect(
        accepted={ids[0]: "无参保意愿"},
        values={ids[0]: {"note": note}},
        rejected=[(name, 2, "核实情况", f"核实情况不在选项中：{'无参保意愿' * 8}…（共{LONG}字）")],
        rows=8,
        not_returned=6,
    )


@case
def rosters_pasted_together(kit: Kit) -> Expect:
    """The township pastes a second village's whole roster (title rows, header, rows)
    under the first in one sheet: the repeated header is a header again (its columns
    apply below it), title rows hold nothing of a return and are skipped; rows keep
    their place numbers (the second roster's first person is data row 12)."""
    wb, ws, col = kit.open()
    fill(ws, col, std(kit.ids()))
    _, ws2, col2 = kit.open(V2)
    fill(ws2, col2, std(kit.ids(V2)))
    base = ws.max_row
    for r, row in enumerate(ws2.iter_rows(), start=1):
        for c in row:
            if c.value is not None:
                copy_value(c, ws.cell(base + r, c.column))
    kit.save(wb, T1_FILE)
    return Expect(
        accepted={**std_accepted(kit.ids()), **std_accepted(kit.ids(V2))},
        values={kit.ids(V2)[0]: {"source_row": 12}},
        rows=15,
        not_returned=9,
    )


@case
def other_files_in_folder(kit: Kit) -> Expect:
    """A scanned PDF and a Word file beside the returns are reported (not a roster, not
    imported); Excel's lock file ~$…, .DS_Store and Thumbs.db are nobody's return and
    are not."""
    kit.filled(V1, f"{V1}_雨湖路社区居委会.xlsx", std(kit.ids()))
    (kit.returns / f"{V1}_签字扫描件.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (kit.returns / f"{V1}_情况说明.docx").write_bytes(b"PK\x03\x04docx")
    (kit.returns / f"~${V1}_雨湖路社区居委会.xlsx").write_bytes(b"\x00lock")
    (kit.returns / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (kit.returns / "Thumbs.db").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1"))
    return Expect(
        accepted=std_accepted(kit.ids()),
        file_errors=[
            (f"survey_returns/{V1}_情况说明.docx", "不是花名册表格文件（.docx）"),
            (f"survey_returns/{V1}_签字扫描件.pdf", "不是花名册表格文件（.pdf）"),
        ],
        rows=8,
        not_returned=5,
        files=3,
    )


@case
def unreadable_files(kit: Kit) -> Expect:
    """A workbook with an open password (an OLE container holding an EncryptedPackage, as
    Excel writes it), a web page saved as .xls, a truncated xlsx: each reported naming
    the file, in words a clerk can act on, never a traceback."""
    kit.returns.mkdir(parents=True, exist_ok=True)
    ole = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
    (kit.returns / f"{V1}_加密.xlsx").write_bytes(ole + "EncryptedPackage".encode("utf-16-le"))
    (kit.returns / f"{V2}_网页.xls").write_bytes("<html><table><tr><td>姓名</td></tr>".encode())
    good = kit.rosters[V3].read_bytes()
    (kit.returns / f"{V3}_截断.xlsx").write_bytes(good[: len(good) // 2])
    return Expect(
        file_errors=[
            (f"survey_returns/{V1}_加密.xlsx", "文件设有打开密码"),
            (f"survey_returns/{V2}_网页.xls", "网页格式"),
            (f"survey_returns/{V3}_截断.xlsx", "文件无法读取"),
        ],
        files=3,
    )


@case
def roster_sheet_hidden(kit: Kit) -> Expect:
    """The filled 花名册 hidden by mistake, an empty visible sheet left: hidden sheets are
    read when no visible sheet holds a roster (the hidden list sheet never does)."""
    wb, ws, col = kit.open()
    fill(ws, col, std(kit.ids()))
    wb.create_sheet("Sheet1")
    ws.sheet_state = "hidden"
    wb.active = 2
    kit.save(wb, f"{V1}_雨湖路社区居委会.xlsx")
    return Expect(accepted=std_accepted(kit.ids()), rows=8, not_returned=5)
