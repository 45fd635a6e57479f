"""应参保人员花名册: the village roster workbook, the survey's one layout.

A roster goes to one village officer, who verifies each person at home and fills
in the unlocked columns; the same layout comes back as a survey return
(``canbao.survey`` reads it by header name). Only a village's own roster and
registration forms carry full ID numbers; the summary and ledger
(:mod:`canbao.survey.ledgers`) mask them.

Every workbook is built and saved by :mod:`canbao.core.xlsx` (titles, headers and
sheet settings through openpyxl; the body rows, thousands per village, through
:class:`~canbao.core.xlsx.FastRows`), so text that looks like a formula stays
text and the same inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from canbao.core.labels import COVERAGE_LABELS
from canbao.core.xlsx import (
    BORDER,
    FONT,
    OFFICER_FILL,
    Column,
    FastRows,
    cell_text,
    fixed_time,
    header_row,
    print_setup,
    protect_sheet,
    protect_workbook,
    put,
    row_height,
    save_workbook_fixed,
    title_rows,
)
from canbao.survey.vocabulary import (
    OUTCOMES,
    REASONS,
    RELATION_NAMES,
    SEX_NAMES,
    batch_label,
)

ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("下发批次", "batch", 8),
    Column("户号", "household_no", 12),
    Column("与户主关系", "relation_name", 10),
    Column("姓名", "name", 10),
    Column("公民身份号码", "id_number", 21),
    Column("性别", "sex_name", 5),
    Column("出生日期", "birth_text", 11),
    Column("户籍地址", "address", 28),
    Column("村社区代码", "village_code", 14),
    Column("养老保险", "pension_text", 10),
    Column("医疗保险", "medical_text", 10),
    Column("列入原因", "listed_reason", 22),
    Column("核实情况", "outcome", 14, officer=True),
    Column("未参保原因", "uninsured_reason", 14, officer=True),
    Column("联系电话", "phone", 13, officer=True),
    Column("实际居住地", "actual_address", 22, officer=True),
    Column("备注", "note", 16, officer=True),
    Column("采集人", "collector", 8, officer=True),
    Column("采集日期", "collected_date", 11, officer=True),
)
HEADER_ROW = 3  # rows 1-2: title and the district/township/village/batch line
FIRST_DATA_ROW = HEADER_ROW + 1
LISTS_SHEET = "选项"
ROSTER_SHEET = "花名册"

SIGNATURE = "采集人签字：__________"  # bottom right of every printed survey page


@dataclass(frozen=True)
class RosterMeta:
    """What a roster's title, page header and file name say about it."""

    district_code: str
    district_name: str
    township_code: str
    township_name: str
    village_code: str
    village_name: str
    batch: int
    issue_date: dt.date
    password: str | None = None
    # 核实情况 → import code shown on the hidden list sheet: the table the 批量导入 file
    # uses (params provincial_import.codes over :data:`OUTCOMES`).
    import_codes: tuple[tuple[str, str], ...] = OUTCOMES


def save_survey_workbook(wb: Workbook, path: Path, day: dt.date) -> Path:
    """Save a survey workbook (roster, summary, ledger, forms, 退回清单) stamped with ``day``.

    Its zip entries keep openpyxl's order (the other workbooks sort theirs): both
    are fixed, and keeping it keeps the bytes every earlier batch was issued with.
    """
    return save_workbook_fixed(wb, path, fixed_time(day), sort_entries=False)


def roster_values(df: pd.DataFrame) -> pd.DataFrame:
    """Display values of the pre-filled roster columns from registry-style columns.

    Args: df with id_number, name, sex, birth_date, household_no, relation, address,
    village_code, pension_status, medical_status, batch, reissued, prev_result.
    Returns: a frame with one column per roster field (officer fields blank unless given).
    """
    n = len(df)

    def texts(field: str) -> list[str]:  # lists, not Series.map: called once per village
        return [cell_text(v) for v in df[field].tolist()] if field in df else [""] * n

    out: dict[str, Any] = {"seq": list(range(1, n + 1))}
    out["batch"] = df["batch"].astype("Int64").tolist() if "batch" in df else [pd.NA] * n
    for f in ("household_no", "name", "id_number", "address", "village_code"):
        out[f] = texts(f)
    out["relation_name"] = [RELATION_NAMES.get(r, r) for r in texts("relation")]
    out["sex_name"] = [SEX_NAMES.get(x, x) for x in texts("sex")]
    out["birth_text"] = texts("birth_date")
    pension, medical = texts("pension_status"), texts("medical_status")
    out["pension_text"] = [COVERAGE_LABELS.get(x, x) for x in pension]
    out["medical_text"] = [COVERAGE_LABELS.get(x, x) for x in medical]
    out["listed_reason"] = [
        _listed_reason(pe, me, r, prev)
        for pe, me, r, prev in zip(
            pension,
            medical,
            df["reissued"].tolist() if "reissued" in df else [False] * n,
            texts("prev_result"),
            strict=True,
        )
    ]
    for c in ROSTER_COLUMNS:
        if c.officer:
            out[c.field] = df[c.field].tolist() if c.field in df else [None] * n
    return pd.DataFrame(out, index=df.index)


def _listed_reason(pension: str, medical: str, reissued: Any, prev: str) -> str:
    parts = []
    if pension == "not_insured":
        parts.append("养老保险应参保未参保")
    if medical == "not_insured":
        parts.append("医疗保险应参保未参保")
    if not pd.isna(reissued) and bool(reissued):
        parts.append("再次下发" + (f"（{prev}）" if prev else ""))
    return "；".join(parts)


def _lists_sheet(wb: Workbook, codes: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The hidden sheet holding the drop-down lists (核实情况 with its import code, 未参保原因);
    returns the two range formulas."""
    ls = wb.create_sheet(LISTS_SHEET)
    put(ls, 1, 1, "核实情况")
    put(ls, 1, 2, "导入代码")
    put(ls, 1, 3, "未参保原因")
    for i, (name, code) in enumerate(codes, start=2):
        put(ls, i, 1, name)
        put(ls, i, 2, code)
    for i, name in enumerate(REASONS, start=2):
        put(ls, i, 3, name)
    ls.sheet_state = "hidden"
    protect_sheet(ls, None)
    return (
        f"'{LISTS_SHEET}'!$A$2:$A${len(codes) + 1}",
        f"'{LISTS_SHEET}'!$C$2:$C${len(REASONS) + 1}",
    )


def roster_subtitle(meta: RosterMeta, n: int) -> str:
    return (
        f"区县：{meta.district_name}（{meta.district_code}）　"
        f"乡镇街道：{meta.township_name}（{meta.township_code}）　"
        f"村社区：{meta.village_name}（{meta.village_code}）　"
        f"下发批次：{batch_label(meta.batch)}　下发日期：{meta.issue_date.isoformat()}　"
        f"共 {n} 人"
    )


def write_roster(
    values: pd.DataFrame, path: Path, meta: RosterMeta, *, protect: bool = True
) -> Path:
    """Write one 应参保人员花名册 (a village's, or a township's return in the same layout).

    Args: values from :func:`roster_values` (one row per person, in print order);
    the output path; the roster's meta. Returns: the path written.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = ROSTER_SHEET
    ncols = len(ROSTER_COLUMNS)
    title_rows(
        ws,
        f"{meta.district_name}全民参保登记 应参保人员花名册",
        roster_subtitle(meta, len(values)),
        ncols,
    )
    header_row(ws, HEADER_ROW, ROSTER_COLUMNS)
    body = Font(name=FONT, size=10)
    wrap = ("address", "listed_reason", "actual_address", "note")
    fast = FastRows(ws)
    looks = []  # per column: its style ids, built once
    for c in ROSTER_COLUMNS:
        extra = {"protection": Protection(locked=False), "fill": OFFICER_FILL} if c.officer else {}
        looks.append(
            fast.style(
                f"{c.officer}{c.field in wrap}",
                font=body,
                border=BORDER,
                **extra,
                alignment=Alignment(vertical="center", wrap_text=c.field in wrap),
            )
        )
    n = len(values)
    data = [values[c.field].tolist() if c.field in values else [None] * n for c in ROSTER_COLUMNS]
    wrapped = [(k, c.width) for k, c in enumerate(ROSTER_COLUMNS) if c.field in wrap]
    for i in range(n):
        row = [col[i] for col in data]
        fast.row(
            FIRST_DATA_ROW + i,
            row,
            looks,
            row_height([(row[k], w) for k, w in wrapped]),
        )
    last_row = max(FIRST_DATA_ROW, FIRST_DATA_ROW + len(values) - 1)
    outcome_range, reason_range = _lists_sheet(wb, meta.import_codes)
    col_of = {c.field: get_column_letter(j) for j, c in enumerate(ROSTER_COLUMNS, start=1)}
    for field, formula, label, choices in (
        ("outcome", outcome_range, "核实情况", "请从下拉列表选择核实情况"),
        (
            "uninsured_reason",
            reason_range,
            "未参保原因",
            "请从下拉列表选择未参保原因（已参保可留空）",
        ),
    ):
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorTitle=f"{label}不在选项中",
            error=f"{label}只能从下拉列表中选择",
            promptTitle=label,
            prompt=choices,
            errorStyle="stop",
        )
        dv.add(f"{col_of[field]}{FIRST_DATA_ROW}:{col_of[field]}{last_row}")
        ws.add_data_validation(dv)
    ws.freeze_panes = f"F{FIRST_DATA_ROW}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(ncols)}{last_row}"
    print_setup(
        ws,
        landscape=True,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{meta.district_name} {meta.township_name} {meta.village_name} "
        f"{batch_label(meta.batch)} {meta.issue_date.isoformat()}",
        footer_right=SIGNATURE,
    )
    ws.print_area = f"A1:{get_column_letter(ncols)}{last_row}"
    if protect:
        protect_sheet(ws, meta.password)
        protect_workbook(wb, meta.password)
    return save_survey_workbook(wb, path, meta.issue_date)
