"""全民参保登记表 (个人): one printable A4-portrait page per person of a village roster.

No official layout is published (contract §8.8), so the form merges the field list of
contract §1: identity and known coverage pre-filled, the rest left blank for the
officer and the person's signature. One sheet per village with a page break after
each person prints a whole village in one go and keeps the file small; the
sheet is protected like the roster (only the blank fields are unlocked).
Like the roster it goes only to that village's officer, so it carries the full ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.worksheet.pagebreak import Break, RowBreak

from canbao.core.labels import COVERAGE_LABELS
from canbao.core.xlsx import (
    BORDER,
    FONT,
    HEAD_FILL,
    OFFICER_FILL,
    FastRows,
    cell_text,
    print_setup,
    protect_sheet,
    protect_workbook,
)
from canbao.survey.rosters import RosterMeta, save_survey_workbook
from canbao.survey.vocabulary import OUTCOME_NAMES, RELATION_NAMES, SEX_NAMES, batch_label

FORM_SHEET = "登记表"
WIDTHS = (16, 30, 16, 30)
POPULATION_NAMES = {"hukou": "户籍人口", "resident": "常住人口（非本地户籍）"}
BLANK = object()  # marks a cell the officer fills in


@dataclass(frozen=True)
class Field:
    """A form cell filled from the person: a key of :func:`_person_fields`."""

    key: str


# One person's form, row by row: (kind, cells). kind: title/info/section/pair/wide/table.
# A cell is fixed text, BLANK (the officer fills it in) or a Field of the person.
_LAYOUT: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("title", ("全民参保登记表（个人）",)),
    ("info", (Field("info"),)),
    ("section", ("一、基本信息",)),
    ("pair", ("姓名", Field("name"), "证件类型", "居民身份证")),
    ("pair", ("公民身份号码", Field("id_number"), "性别", Field("sex"))),
    ("pair", ("出生日期", Field("birth_date"), "民族", BLANK)),
    ("pair", ("户号", Field("household_no"), "与户主关系", Field("relation"))),
    ("wide", ("户籍地址", Field("address"))),
    ("pair", ("人员类别", Field("population"), "户籍性质", "□农业　□非农业　□居民")),
    ("wide", ("现居住地址", BLANK)),
    ("pair", ("联系电话", BLANK, "文化程度", BLANK)),
    ("pair", ("婚姻状况", BLANK, "就业状态", BLANK)),
    ("wide", ("从业单位名称", BLANK)),
    ("section", ("二、参保情况（系统比对结果已预填，请核实）",)),
    ("table", ("险种", "当前状态", "参保地", "首次参保日期")),
    ("pair", ("基本养老保险", Field("pension"), BLANK, BLANK)),
    ("pair", ("基本医疗保险", Field("medical"), BLANK, BLANK)),
    ("pair", ("失业/工伤/生育", BLANK, BLANK, BLANK)),
    ("section", ("三、核实情况",)),
    ("wide", ("核实情况", "　".join(f"□{o}" for o in OUTCOME_NAMES))),
    ("wide", ("未参保原因", BLANK)),
    ("wide", ("备注", BLANK)),
    ("pair", ("本人（家属）签字", BLANK, "签字日期", BLANK)),
    ("pair", ("采集人", BLANK, "采集日期", BLANK)),
)


def _person_fields(p: dict, meta: RosterMeta) -> dict[str, str]:
    """What one person's form shows in its :class:`Field` cells."""
    relation = cell_text(p.get("relation"))
    return {
        "info": f"{meta.district_name} {meta.township_name} {meta.village_name}　"
        f"{batch_label(meta.batch)}　登记编号：{cell_text(p.get('person_id'))}",
        "name": cell_text(p.get("name")),
        "id_number": cell_text(p.get("id_number")),
        "sex": SEX_NAMES.get(cell_text(p.get("sex")), ""),
        "birth_date": cell_text(p.get("birth_date")),
        "household_no": cell_text(p.get("household_no")),
        "relation": RELATION_NAMES.get(relation, relation),
        "address": cell_text(p.get("address")),
        "population": POPULATION_NAMES.get(cell_text(p.get("population")), ""),
        "pension": COVERAGE_LABELS.get(cell_text(p.get("pension_status")), ""),
        "medical": COVERAGE_LABELS.get(cell_text(p.get("medical_status")), ""),
    }


_BOX = {"border": BORDER, "alignment": Alignment(vertical="center", wrap_text=True)}
_BOLD = Font(name=FONT, size=10, bold=True)
_PLAIN = Font(name=FONT, size=10)
_UNLOCKED = Protection(locked=False)
_HEIGHTS = {"title": 36, "info": 18, "section": 22, "wide": 30, "pair": 26, "table": 26}


def write_registration_forms(people: pd.DataFrame, path: Path, meta: RosterMeta) -> Path:
    """Write a village's 登记表: one page per person, in roster order.

    Args: people with person_id, name, id_number, sex, birth_date, household_no,
    relation, address, population, pension_status, medical_status; the path; the
    village's meta. Returns: the path written.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = FORM_SHEET
    for j, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(64 + j)].width = w
    fast = FastRows(ws)
    label = fast.style("label", font=_BOLD, fill=HEAD_FILL, **_BOX)
    value = fast.style("value", font=_PLAIN, **_BOX)
    blank = fast.style("blank", font=_PLAIN, fill=OFFICER_FILL, protection=_UNLOCKED, **_BOX)
    edge = fast.style("edge", **_BOX)  # merged cells keep the border when printed
    heads = {
        kind: fast.style(
            kind,
            font=Font(name=FONT, size=size, bold=bold),
            alignment=Alignment(
                horizontal="center" if kind == "title" else "left", vertical="center"
            ),
        )
        for kind, size, bold in (("title", 16, True), ("info", 9, False), ("section", 11, True))
    }

    looks = _Looks(label, value, blank, edge, heads)
    fixed = _fixed_rows(fast, looks)
    r = 1
    breaks: list[Break] = []
    for p in people.to_dict("records"):
        fields = _person_fields(p, meta)
        for i, (kind, cells) in enumerate(_LAYOUT):
            if kind != "pair" and kind != "table":
                fast.merge(r, 1 if kind in heads else 2, r, 4)
            if i in fixed:
                fast.parts.append(fixed[i].replace(_NUMBER, b"%d" % r))
            else:
                row = [fields[c.key] if isinstance(c, Field) else c for c in cells]
                _write_row(fast, looks, r, kind, row)
            r += 1
        breaks.append(Break(id=r - 1))
        r += 1  # a spacer row, so merged blocks never touch
    if fixed and breaks:
        fast.max_row = max(fast.max_row, r - 2)
        fast.max_col = max(fast.max_col, 4)
    ws.row_breaks = RowBreak(brk=breaks)  # one validation (append re-checks the whole list)
    print_setup(
        ws,
        landscape=False,
        title_rows=None,
        header=f"{meta.district_name} {meta.township_name} {meta.village_name} "
        f"{batch_label(meta.batch)} {meta.issue_date.isoformat()}",
        footer_right="",  # the person signs on the form itself
    )
    ws.print_area = f"A1:D{max(r - 1, 1)}"
    protect_sheet(ws, meta.password)
    protect_workbook(wb, meta.password)
    return save_survey_workbook(wb, path, meta.issue_date)


@dataclass(frozen=True)
class _Looks:
    """The form's cell styles (FastRows style ids)."""

    label: tuple[int, int]
    value: tuple[int, int]
    blank: tuple[int, int]
    edge: tuple[int, int]
    heads: dict[str, tuple[int, int]]


def _write_row(fast: FastRows, looks: _Looks, r: int, kind: str, cells: list) -> None:
    """One row of a person's form at row ``r`` (its merge is the caller's)."""

    def filled(v: object) -> tuple[object, tuple[int, int]]:
        return (None, looks.blank) if v is BLANK else (v, looks.value)

    if kind in looks.heads:
        fast.row(r, cells[:1], [looks.heads[kind]], _HEIGHTS[kind])
    elif kind == "wide":
        v, st = filled(cells[1])
        fast.row(r, [cells[0], v, None, None], [looks.label, st, looks.edge, looks.edge],
                 _HEIGHTS[kind])  # fmt: skip
    else:  # pair / table
        vals, styles = [], []
        for j, v in enumerate(cells, start=1):
            if kind == "table" or j in (1, 3) and v is not BLANK:
                vals.append(v)
                styles.append(looks.label)
            else:
                v, st = filled(v)
                vals.append(v)
                styles.append(st)
        fast.row(r, vals, styles, _HEIGHTS[kind])


def _fixed_rows(fast: FastRows, looks: _Looks) -> dict[int, bytes]:
    """The XML of every :data:`_LAYOUT` row with no Field, by index, numbered :data:`_NUMBER`.

    Such a row is the same for every person but its number (15 of 24): built once
    per workbook and numbered per person, it gives the bytes FastRows.row would.
    """
    return {
        i: _row_xml(fast, looks, kind, list(cells))
        for i, (kind, cells) in enumerate(_LAYOUT)
        if not any(isinstance(c, Field) for c in cells)
    }


_NUMBER = b"987654321"  # a row number no form reaches, replaced by the real one


def _row_xml(fast: FastRows, looks: _Looks, kind: str, cells: list) -> bytes:
    """A fixed row's XML numbered :data:`_NUMBER`, leaving ``fast`` as it was."""
    max_row, max_col = fast.max_row, fast.max_col
    _write_row(fast, looks, int(_NUMBER), kind, cells)
    fast.max_row, fast.max_col = max_row, max_col
    xml = fast.parts.pop()
    assert xml.count(_NUMBER) == 1 + xml.count(b"<c "), "only row references hold the number"
    return xml
