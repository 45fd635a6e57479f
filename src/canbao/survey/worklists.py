"""清理清单: per township, the records it must clean up or correct, as a workbook it fills in.

The district-wide ``findings.csv`` names every problem; a township needs its own
share as a work list: grouped by kind (one sheet each: 重复参保, 死亡人员仍参保或领待遇,
信息纠错 — the lists the township notebook shows, :data:`canbao.report.views.CLEANUP_LISTS`),
one row per record involved (file, row, 险种, 参保/待遇状态), IDs masked (the list
leaves the village office), and four columns the township fills in: 处理结果 (a
drop-down), 处理说明, 经办人, 处理日期. Pre-filled columns are locked; print set-up
as the rosters. A person finding (duplicates, deceased) lists each active enrollment
record its detail names; a row finding lists its row.

Returns are not imported: the fix is made in the source systems (人社/医保), and the
next period's extract shows whether the finding is gone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from canbao.clean.codes import BENEFIT_STATUS, ENROLL_STATUS, SCHEMES
from canbao.core.catalog import table_names
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.core.privacy import mask_id
from canbao.core.xlsx import (
    BORDER,
    FONT,
    OFFICER_FILL,
    Column,
    FastRows,
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
from canbao.report.views import CLEANUP_LISTS, FINDING_LABELS
from canbao.survey.jobs import Job, run_jobs
from canbao.survey.places import _place

WORKLIST_SUFFIX = "_清理清单.xlsx"
LISTS_SHEET = "选项"
HEADER_ROW = 3
FIRST_DATA_ROW = HEADER_ROW + 1
# 处理结果: what a township reports back for one record.
RESULTS: tuple[str, ...] = (
    "已清理（终止重复参保关系）",
    "已停保或办理死亡注销",
    "已停发并追回待遇",
    "已更正身份信息",
    "已更正单位信息",
    "经核实无误，无需处理",
    "已移交其他部门处理",
    "无法处理（请在处理说明中写明原因）",
)
# officer=True: filled in by the township
COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("问题", "finding_name", 18),
    Column("村社区代码", "village_code", 14),
    Column("人员编号", "person_id", 16),
    Column("姓名", "name", 10),
    Column("公民身份号码", "id_masked", 21),
    Column("文件", "file", 16),
    Column("行号", "source_row", 7),
    Column("险种", "scheme_name", 18),
    Column("参保状态", "enroll_name", 10),
    Column("待遇状态", "benefit_name", 10),
    Column("个人编号", "member_no", 14),
    Column("问题说明", "detail", 36),
    Column("处理结果", "result", 22, officer=True),
    Column("处理说明", "result_note", 24, officer=True),
    Column("经办人", "handler", 9, officer=True),
    Column("处理日期", "handled_date", 11, officer=True),
)


def _records_sql(codes: tuple[str, ...], have_enrollment: bool) -> str:
    """Every cleanup finding with its township and the records involved (one row each)."""
    listed = ", ".join(f"'{c}'" for c in codes)
    if have_enrollment:
        rows = """
        person_rows AS (
            SELECT l.person_id, l.file, l.source_row
            FROM links l JOIN enrollment e USING (file, source_row)
            WHERE l.source = 'enrollment' AND (e.active OR e.benefit_status = 1)),
        -- a person finding's detail names its rows as ``file#row 险种``: list those
        recs AS (
            SELECT f.*, f.file AS rec_file, f.source_row AS rec_row FROM f WHERE f.file IS NOT NULL
            UNION ALL
            SELECT f.*, pr.file, pr.source_row
            FROM f LEFT JOIN person_rows pr
              ON pr.person_id = f.person_id
             AND strpos(f.detail, pr.file || '#' || pr.source_row || ' ') > 0
            WHERE f.file IS NULL)"""
        enr = "LEFT JOIN enrollment e ON e.file = r.rec_file AND e.source_row = r.rec_row"
        cols = "e.scheme, e.enroll_status, e.benefit_status, e.member_no"
    else:
        rows = "recs AS (SELECT f.*, f.file AS rec_file, f.source_row AS rec_row FROM f)"
        enr = ""
        cols = "NULL AS scheme, NULL AS enroll_status, NULL AS benefit_status, NULL AS member_no"
    return f"""
    WITH f AS (SELECT finding, person_id, file, source_row, detail FROM findings
               WHERE finding IN ({listed})),
    {rows}
    SELECT r.finding, g.township_code, g.village_code, r.person_id, g.name, g.id_number,
           r.rec_file AS file, r.rec_row AS source_row, {cols}, r.detail
    FROM recs r JOIN registry g USING (person_id) {enr}
    ORDER BY g.township_code NULLS LAST, r.finding, g.village_code NULLS LAST, r.person_id,
             r.rec_file NULLS FIRST, r.rec_row NULLS FIRST, r.detail
    """


def cleanup_records(engine: Engine) -> pd.DataFrame:
    """All townships' cleanup records, display-ready (labels, masked IDs), in print order."""
    codes = tuple(c for group in CLEANUP_LISTS.values() for c in group)
    tables = table_names(engine)
    if not {"findings", "registry"} <= tables:
        return pd.DataFrame()
    df = engine.query_df(_records_sql(codes, {"links", "enrollment"} <= tables))
    kind_of = {c: kind for kind, group in CLEANUP_LISTS.items() for c in group}
    df["kind"] = df["finding"].map(kind_of)
    df["finding_name"] = df["finding"].map(lambda c: FINDING_LABELS.get(c, c))
    df["id_masked"] = df["id_number"].map(mask_id)
    df["scheme_name"] = df["scheme"].map(lambda s: f"{s} {SCHEMES[s]}" if s in SCHEMES else s)
    df["enroll_name"] = df["enroll_status"].map(lambda v: ENROLL_STATUS.get(_int(v), ""))
    df["benefit_name"] = df["benefit_status"].map(lambda v: BENEFIT_STATUS.get(_int(v), ""))
    df["source_row"] = df["source_row"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    df["township_code"] = df["township_code"].fillna("")
    df = df.drop(columns=["id_number", "enroll_status", "benefit_status", "scheme"])
    return df.astype(object).fillna("")


def _int(v: object) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _lists_sheet(wb: Workbook) -> str:
    ls = wb.create_sheet(LISTS_SHEET)
    put(ls, 1, 1, "处理结果")
    for i, name in enumerate(RESULTS, start=2):
        put(ls, i, 1, name)
    ls.sheet_state = "hidden"
    protect_sheet(ls, None)
    return f"'{LISTS_SHEET}'!$A$2:$A${len(RESULTS) + 1}"


def _sheet(wb: Workbook, kind: str, df: pd.DataFrame, title: str, subtitle: str,
           page_header: str, results: str, password: str | None) -> None:  # fmt: skip
    ws = wb.create_sheet(kind)
    ncols = len(COLUMNS)
    last = get_column_letter(ncols)
    title_rows(ws, title, subtitle, ncols, subtitle_height=32)
    header_row(ws, HEADER_ROW, COLUMNS)
    fast = FastRows(ws)
    body = Font(name=FONT, size=10)
    wrap = {"detail", "finding_name", "scheme_name", "result_note"}
    looks = []
    for c in COLUMNS:
        extra = {"protection": Protection(locked=False), "fill": OFFICER_FILL} if c.officer else {}
        align = Alignment(vertical="center", wrap_text=c.field in wrap)
        looks.append(fast.style(f"{c.officer}{c.field in wrap}", font=body, border=BORDER,
                                alignment=align, **extra))  # fmt: skip
    wrapped = [(k, c.width) for k, c in enumerate(COLUMNS) if c.field in wrap]
    df = df.assign(seq=range(1, len(df) + 1))
    data = [df[c.field].tolist() if c.field in df else [None] * len(df) for c in COLUMNS]
    for i in range(len(df)):
        row = [col[i] for col in data]
        fast.row(FIRST_DATA_ROW + i, row, looks, row_height([(row[k], w) for k, w in wrapped]))
    last_row = FIRST_DATA_ROW + max(len(df), 1) - 1
    col = get_column_letter(next(j for j, c in enumerate(COLUMNS, 1) if c.field == "result"))
    dv = DataValidation(
        type="list",
        formula1=results,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle="处理结果不在选项中",
        error="处理结果只能从下拉列表中选择",
        promptTitle="处理结果",
        prompt="请从下拉列表选择处理结果",
        errorStyle="stop",
    )
    dv.add(f"{col}{FIRST_DATA_ROW}:{col}{last_row}")
    ws.add_data_validation(dv)
    ws.freeze_panes = f"G{FIRST_DATA_ROW}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{last_row}"
    print_setup(ws, landscape=True, header=page_header, title_rows=f"1:{HEADER_ROW}",
                footer_right="经办人签字：__________")  # fmt: skip
    ws.print_area = f"A1:{last}{last_row}"
    protect_sheet(ws, password)


def write_work_list(records: pd.DataFrame, path: Path, ctx: PeriodContext, district_name: str,
                    township_name: str, password: str | None = None) -> Path:  # fmt: skip
    """One township's 清理清单: a sheet per kind of cleanup, in :data:`CLEANUP_LISTS` order."""
    wb = Workbook()
    wb.remove(wb.active)
    results = _lists_sheet(wb)
    period = ctx.period.isoformat()
    for kind in CLEANUP_LISTS:
        df = records[records["kind"] == kind].reset_index(drop=True)
        if df.empty:
            continue
        subtitle = (
            f"区县：{district_name}　乡镇街道：{township_name}　期次：{period}　"
            f"共 {len(df)} 条记录，涉及 {df['person_id'].nunique()} 人　"
            "请逐条核实处理，在“处理结果”列选择结果，填写处理说明、经办人和日期后交回区人社局"
        )
        _sheet(wb, kind, df, f"{district_name}{township_name} 参保数据清理清单（{kind}）",
               subtitle, f"{district_name} {township_name} 清理清单 {kind} {period}",
               results, password)  # fmt: skip
    wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames) - 1)
    wb.active = 0
    protect_workbook(wb, password)
    return save_workbook_fixed(wb, path, fixed_time(ctx.period))


def write_work_lists(engine: Engine, out: Path, ctx: PeriodContext, towns: dict[str, str],
                     district_name: str, password: str | None = None) -> int:  # fmt: skip
    """``rosters/<township>/<township>_清理清单.xlsx`` for every township with records."""
    return run_jobs(work_list_jobs(engine, out, ctx, towns, district_name, password), 1)


def work_list_jobs(engine: Engine, out: Path, ctx: PeriodContext, towns: dict[str, str],
                   district_name: str, password: str | None = None) -> list[Job]:  # fmt: skip
    """:func:`write_work_lists`'s workbooks as jobs (stage 9 runs them with the rosters)."""
    records = cleanup_records(engine)
    jobs = []
    for tcode, tdf in records.groupby("township_code", sort=True) if len(records) else []:
        tdir = out / _place(tcode, towns, "未分乡镇")
        args = (tdf, tdir / f"{tdir.name}{WORKLIST_SUFFIX}", ctx, district_name,
                towns.get(tcode, tcode) or "未分乡镇", password)  # fmt: skip
        jobs.append(Job(write_work_list, args, len(tdf)))
    return jobs
