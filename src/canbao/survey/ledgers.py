"""The township's 花名册汇总 (counts per village) and 未参保落实台账 (every task, IDs masked)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from canbao.core.privacy import mask_id
from canbao.core.xlsx import (
    BORDER,
    FONT,
    Column,
    FastRows,
    cell_text,
    header_row,
    print_setup,
    put,
    title_rows,
)
from canbao.survey.rosters import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    SIGNATURE,
    RosterMeta,
    save_survey_workbook,
)
from canbao.survey.vocabulary import STATUS_NAMES, batch_label

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("村社区代码", "village_code", 15),
    Column("村社区", "village_name", 18),
    Column("下发人数", "people", 10),
    Column("户数", "households", 8),
    Column("其中再次下发", "reissued", 12),
    Column("养老应参保未参保", "pension_not_insured", 16),
    Column("医疗应参保未参保", "medical_not_insured", 16),
    Column("花名册文件", "file", 34),
)


def write_summary(counts: pd.DataFrame, path: Path, meta: RosterMeta) -> Path:
    """The township's 汇总 sheet: counts per village and a 合计 row (no person rows)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    cols = SUMMARY_COLUMNS
    title_rows(
        ws,
        f"{meta.district_name}{meta.township_name} 应参保人员花名册汇总",
        f"乡镇街道：{meta.township_name}（{meta.township_code}）　"
        f"下发批次：{batch_label(meta.batch)}　下发日期：{meta.issue_date.isoformat()}",
        len(cols),
    )
    header_row(ws, HEADER_ROW, cols)
    fast = FastRows(ws)
    body = fast.style("body", font=Font(name=FONT, size=10), border=BORDER)
    bold = fast.style("bold", font=Font(name=FONT, size=10, bold=True), border=BORDER)
    sums = ("people", "households", "reissued", "pension_not_insured", "medical_not_insured")
    recs = counts.to_dict("records")
    for k, rec in enumerate(recs):
        rec["seq"] = k + 1
        fast.row(FIRST_DATA_ROW + k, [rec.get(c.field) for c in cols], [body] * len(cols))
    total = [
        "合计"
        if j == 0
        else (int(counts[c.field].sum()) if len(counts) else 0)
        if c.field in sums
        else None
        for j, c in enumerate(cols)
    ]
    fast.row(FIRST_DATA_ROW + len(recs), total, [bold] + [body] * (len(cols) - 1))
    print_setup(
        ws,
        landscape=False,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{meta.district_name} {meta.township_name} 花名册汇总 {batch_label(meta.batch)}",
        footer_right=SIGNATURE,
    )
    return save_survey_workbook(wb, path, meta.issue_date)


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("单位名称", "township_name", 12),
    Column("下发批次", "batch_name", 9),
    Column("批内序号", "seq_in_batch", 8),
    Column("姓名", "name", 10),
    Column("身份证号码", "id_masked", 21),
    Column("统筹区", "district", 12),
    Column("乡镇街", "township_name", 12),
    Column("村社区", "village_name", 14),
    Column("是否已参保", "insured", 9),
    Column("参保时间", "insured_date", 10),
    Column("未参保原因", "uninsured_reason", 14),
    Column("核查状态", "status_name", 11),
    Column("核实情况", "result", 22),
    Column("再次下发", "reissued_name", 8),
    Column("结果期别", "result_period", 11),
)


def write_ledger(
    tasks: pd.DataFrame, path: Path, *, district_name: str, township_name: str, period: dt.date
) -> Path:
    """未参保落实台账 of one township: every task of every batch (IDs masked), and batch totals.

    Args: tasks with batch, seq_in_batch, name, id_number, village_name, insured,
    uninsured_reason, status, result, reissued, result_period. Returns: the path.
    """
    t = tasks.copy()
    t["id_masked"] = t["id_number"].map(mask_id)
    t["batch_name"] = t["batch"].map(lambda b: batch_label(int(b)))
    t["status_name"] = t["status"].map(lambda s: STATUS_NAMES.get(s, s))
    t["reissued_name"] = t["reissued"].map(lambda b: "是" if bool(b) else "")
    t["district"] = district_name
    t["township_name"] = township_name
    t["result_period"] = t["result_period"].map(cell_text)
    t["insured_date"] = ""
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    cols = LEDGER_COLUMNS
    title_rows(
        ws,
        f"{district_name}{township_name} 未参保落实台账",
        f"统筹区：{district_name}　乡镇街：{township_name}　截至：{period.isoformat()}",
        len(cols),
    )
    header_row(ws, HEADER_ROW, cols)
    fast = FastRows(ws)
    body = [fast.style("body", font=Font(name=FONT, size=10), border=BORDER)] * len(cols)
    t["seq"] = range(1, len(t) + 1)
    t["seq_in_batch"] = t["seq_in_batch"].astype(int)
    data = [t[c.field].tolist() for c in cols]
    for i in range(len(t)):
        fast.row(FIRST_DATA_ROW + i, [col[i] for col in data], body)
    print_setup(
        ws,
        landscape=True,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{district_name} {township_name} 未参保落实台账 {period.isoformat()}",
        footer_right=SIGNATURE,
    )
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"

    s = wb.create_sheet("批次汇总")
    heads = (
        Column("下发批次", "b", 10),
        Column("下发数", "n", 10),
        Column("已核实", "done", 10),
        Column("未核实", "open", 10),
        Column("合计", "total", 10),
    )
    title_rows(s, f"{township_name} 下发核实汇总", f"截至：{period.isoformat()}", len(heads))
    header_row(s, HEADER_ROW, heads)
    done_mask = t["status"].isin(["returned", "accepted"])
    per = (
        t.assign(done=done_mask)
        .groupby("batch", sort=True)
        .agg(n=("seq_in_batch", "size"), done=("done", "sum"))
        .reset_index()
    )
    r = HEADER_ROW
    for r, rec in enumerate(per.itertuples(index=False), start=FIRST_DATA_ROW):
        vals = [
            batch_label(int(rec.batch)),
            int(rec.n),
            int(rec.done),
            int(rec.n - rec.done),
            int(rec.n),
        ]
        for j, v in enumerate(vals, start=1):
            put(s, r, j, v).border = BORDER
    tot = [int(per["n"].sum()), int(per["done"].sum())]
    for j, v in enumerate(["合计", tot[0], tot[1], tot[0] - tot[1], tot[0]], start=1):
        cell = put(s, r + 1, j, v)
        cell.border = BORDER
        cell.font = Font(name=FONT, size=10, bold=True)
    print_setup(
        s,
        landscape=False,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{district_name} {township_name} 下发核实汇总",
        footer_right=SIGNATURE,
    )
    return save_survey_workbook(wb, path, period)
