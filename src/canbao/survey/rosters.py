"""应参保人员花名册: the village roster workbook, its township summary and the 落实台账.

A roster goes to one village officer, who verifies each person at home and fills
in the unlocked columns; the same layout comes back as a survey return
(``canbao.survey`` reads it by header name). Only a village's own roster and
registration forms carry full ID numbers; the summary and ledger mask them.

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
from canbao.core.privacy import mask_id
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

# 核实情况 (contract §8.4) with the 湖南 import code 参保意愿/状态 + reason or 身份.
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("参加省职保", "0/200"),
    ("参加机关保", "0/201"),
    ("参加省外职保", "0/202"),
    ("在校学生", "0/203"),
    ("现役军人", "0/204"),
    ("服刑人员", "0/205"),
    ("出国（境）人员", "0/206"),
    ("死亡未销户人员", "0/207"),
    ("其他人员", "0/208"),
    ("我区参加居保", "1/011"),
    ("无参保意愿", "2/011"),
)
OUTCOME_NAMES: tuple[str, ...] = tuple(name for name, _ in OUTCOMES)

# 未参保原因: no national list (contract §8.4, §8.8); the 雨湖区 normalised list plus the
# reasons seen elsewhere, and 其他 so an officer is never forced to pick a wrong one.
REASONS: tuple[str, ...] = (
    "16岁以上在校生",
    "参军",
    "服刑人员",
    "死亡（失踪）",
    "空挂户",
    "户口不在本地",
    "数据错误",
    "参职保（含退休）",
    "已录入居保",
    "自愿放弃",
    "异地居保",
    "已录入未审核",
    "经济困难（交不起）",
    "不了解政策",
    "其他",
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

SEX_NAMES: dict[str, str] = {"1": "男", "2": "女"}
# GB/T 4761-2008, the codes seen in 户籍 extracts (others are shown as received).
RELATION_NAMES: dict[str, str] = {
    "01": "本人",
    "02": "户主",
    "10": "配偶",
    "11": "夫",
    "12": "妻",
    "20": "子",
    "21": "独生子",
    "22": "长子",
    "23": "次子",
    "24": "三子",
    "27": "养子或继子",
    "28": "女婿",
    "29": "其他儿子",
    "30": "女",
    "31": "独生女",
    "32": "长女",
    "33": "次女",
    "34": "三女",
    "37": "养女或继女",
    "38": "儿媳",
    "39": "其他女儿",
    "40": "孙子女",
    "41": "孙子",
    "42": "孙女",
    "43": "外孙子",
    "44": "外孙女",
    "50": "父母",
    "51": "父亲",
    "52": "母亲",
    "53": "公公",
    "54": "婆婆",
    "55": "岳父",
    "56": "岳母",
    "60": "祖父母",
    "61": "祖父",
    "62": "祖母",
    "70": "兄弟姐妹",
    "71": "兄",
    "72": "嫂",
    "73": "弟",
    "74": "弟媳",
    "75": "姐姐",
    "76": "姐夫",
    "77": "妹妹",
    "78": "妹夫",
    "80": "其他",
    "93": "侄子",
    "94": "侄女",
    "97": "其他亲属",
    "99": "非亲属",
}
CN_DIGITS = "零一二三四五六七八九"
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


def batch_label(batch: int) -> str:
    """下发批次 as officers write it: 第一批, 第十二批 (digits beyond 99)."""
    if batch < 10:
        num = CN_DIGITS[batch]
    elif batch < 100:
        tens, ones = divmod(batch, 10)
        num = ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    else:
        num = str(batch)
    return f"第{num}批"


def save_survey_workbook(wb: Workbook, path: Path, day: dt.date) -> Path:
    """Save a survey workbook (roster, summary, ledger, forms, 退回清单) stamped with ``day``.

    Its zip entries keep openpyxl's order (the other workbooks sort theirs): both
    are fixed, and keeping it keeps the bytes every earlier batch was issued with.
    """
    return save_workbook_fixed(wb, path, fixed_time(day), sort_entries=False)


def safe_name(text: str) -> str:
    """A file-name part: path separators and reserved characters replaced."""
    bad = '<>:"/\\|?*\x00'
    out = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(text)).strip()
    return out.lstrip(".") or "_"


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
STATUS_NAMES: dict[str, str] = {
    "issued": "已下发未回收",
    "returned": "已回收待入库",
    "accepted": "已落实",
    "rejected": "退回重填",
}


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
