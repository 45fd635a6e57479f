"""应参保人员花名册: the village roster workbook, its township summary and the 落实台账.

A roster goes to one village officer, who verifies each person at home and fills
in the unlocked columns; the same layout comes back as a survey return
(``canbao.survey`` reads it by header name). Only a village's own roster and
registration forms carry full ID numbers; the summary and ledger mask them.

Titles, headers and sheet settings (validation, protection, print set-up) go
through openpyxl and :func:`put`; the body rows, thousands per village, go through
:class:`FastRows`, which writes the sheet XML directly (openpyxl's per-cell
objects made stage 9 take minutes at 50k people). Both keep text that looks like
a formula (``=``, ``+``, ``-``, ``@``) as literal text, and every workbook is saved
by :func:`save_workbook_fixed`, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from canbao.core.labels import COVERAGE_LABELS
from canbao.core.privacy import mask_id

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


@dataclass(frozen=True)
class Column:
    """One roster column: header, field name in the data, width, and who fills it."""

    header: str
    field: str
    width: float
    officer: bool = False  # True: unlocked, filled in by the village officer


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

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
OFFICER_FILL = PatternFill("solid", fgColor="FFF2CC")
FONT = "宋体"


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


def fixed_time(day: dt.date) -> dt.datetime:
    """The created/modified stamp of every workbook of a period: its date at midnight."""
    return dt.datetime(day.year, day.month, day.day)


def save_workbook_fixed(wb: Workbook, path: Path, when: dt.datetime) -> Path:
    """Save with fixed document and zip-entry times, so equal inputs give equal bytes.

    openpyxl's ``save`` stamps ``modified`` with now and its zip entries with the
    current time; this writes the same parts with ``when`` instead, and splices in
    the body rows a sheet's :class:`FastRows` holds.
    """
    wb.properties.creator = "canbao"
    wb.properties.lastModifiedBy = "canbao"
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True)).save()
    fast = {
        ws.path.lstrip("/"): ws._canbao_rows
        for ws in wb.worksheets
        if getattr(ws, "_canbao_rows", None) is not None
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename in fast:
                data = fast[info.filename].splice(data)
            out = zipfile.ZipInfo(info.filename, date_time=stamp)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o600 << 16
            dst.writestr(out, data, compresslevel=6)
    return path


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@")


def _xml_escape(s: str) -> str:
    """Text as XML character data; control characters XML cannot hold are dropped."""
    if _NEEDS_ESCAPE.search(s) is None:  # the common case: one scan, no copies
        return s
    s = _ILLEGAL_XML.sub("", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FastRows:
    """The body rows of one worksheet, written as SpreadsheetML text and spliced in at save.

    openpyxl builds a Cell object per cell and serialises each through
    ElementTree: stage 9 took minutes at 50k people. Title, header and sheet
    settings still go through openpyxl; the many body cells come here. Strings
    are always inline text (never a formula); text starting with = + - @ gets a
    quotePrefix style so Excel keeps it text when edited. Rows must come after
    any row openpyxl writes, in increasing order.
    """

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.parts: list[str] = []
        self.max_row = 0
        self.max_col = 0
        self.merges: list[str] = []
        self._styles: dict[str, tuple[int, int]] = {}
        self._letters = [get_column_letter(j) for j in range(1, 64)]
        ws._canbao_rows = self  # found by save_workbook_fixed

    def style(self, key: str, **attrs: Any) -> tuple[int, int]:
        """(style id, quote-prefixed style id) of ``attrs`` (font=, border=, ...), once per key."""
        ids = self._styles.get(key)
        if ids is None:
            cell = Cell(self.ws)  # never placed in the sheet: only builds the style
            for name, v in attrs.items():
                setattr(cell, name, v)
            table = self.ws.parent._cell_styles
            plain = table.add(copy(cell._style))
            cell.quotePrefix = True
            ids = (plain, table.add(copy(cell._style)))
            self._styles[key] = ids
        return ids

    def merge(self, min_row: int, min_col: int, max_row: int, max_col: int) -> None:
        """Merge a block; its cells are written by :meth:`row` (no openpyxl bookkeeping)."""
        a, b = self._letters[min_col - 1], self._letters[max_col - 1]
        self.merges.append(f'<mergeCell ref="{a}{min_row}:{b}{max_row}"/>')

    def row(
        self,
        r: int,
        values: Sequence[Any],
        styles: Sequence[tuple[int, int]],
        height: float | None = None,
    ) -> None:
        """Row ``r``: ``values[j]`` in column j+1 with ``styles[j]`` (None/NaN: styled blank)."""
        attrs = f' ht="{height:g}" customHeight="1"' if height else ""
        out = [f'<row r="{r}"{attrs}>']
        letters = self._letters
        for j, (v, (sid, qid)) in enumerate(zip(values, styles, strict=True)):
            if type(v) is not str:  # text is the common case: straight to the end
                if v is None or v is pd.NA or v is pd.NaT:
                    out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                    continue
                if isinstance(v, (dt.date, pd.Timestamp)):
                    v = _text(v)
                elif isinstance(v, (bool, np.bool_)):
                    v = int(v)
                if isinstance(v, (float, np.floating)):
                    if v != v:
                        out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                        continue
                    if float(v).is_integer():
                        v = int(v)
                    else:
                        out.append(
                            f'<c r="{letters[j]}{r}" s="{sid}" t="n"><v>{float(v)!r}</v></c>'
                        )
                        continue
                if isinstance(v, (int, np.integer)):
                    out.append(f'<c r="{letters[j]}{r}" s="{sid}" t="n"><v>{int(v)}</v></c>')
                    continue
                v = str(v)
            if not v:
                out.append(f'<c r="{letters[j]}{r}" s="{sid}"/>')
                continue
            space = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
            s = qid if v.startswith(_FORMULA_START) else sid
            out.append(
                f'<c r="{letters[j]}{r}" s="{s}" t="inlineStr"><is><t{space}>'
                f"{_xml_escape(v)}</t></is></c>"
            )
        out.append("</row>")
        self.parts.append("".join(out))
        if r > self.max_row:
            self.max_row = r
        if len(values) > self.max_col:
            self.max_col = len(values)

    def splice(self, xml: bytes) -> bytes:
        """The worksheet part openpyxl wrote, with these rows and merges added."""
        text = xml.decode("utf-8")
        rows = "".join(self.parts)
        if "</sheetData>" in text:
            text = text.replace("</sheetData>", rows + "</sheetData>", 1)
        else:
            text = re.sub(
                r"<sheetData\s*/>", lambda _: f"<sheetData>{rows}</sheetData>", text, count=1
            )
        if self.merges:
            text = _add_merges(text, self.merges)
        ws = self.ws
        last_row = max(self.max_row, ws.max_row if ws._cells else 1)
        last_col = max(self.max_col, ws.max_column if ws._cells else 1, 1)
        text = re.sub(
            r'<dimension ref="[^"]*"',
            lambda _: f'<dimension ref="A1:{get_column_letter(last_col)}{last_row}"',
            text,
            count=1,
        )
        return text.encode("utf-8")


# Elements a worksheet may have after <mergeCells>, in schema order (ECMA-376 CT_Worksheet).
_AFTER_MERGES = re.compile(
    r"<(phoneticPr|conditionalFormatting|dataValidations|hyperlinks|printOptions|pageMargins|"
    r"pageSetup|headerFooter|rowBreaks|colBreaks|customProperties|cellWatches|ignoredErrors|"
    r"smartTags|drawing|legacyDrawing|legacyDrawingHF|picture|oleObjects|controls|"
    r"webPublishItems|tableParts|extLst)[\s/>]|</worksheet>"
)


def _add_merges(text: str, merges: list[str]) -> str:
    """Add mergeCell elements to a worksheet part (to openpyxl's list, or a new one in place)."""
    m = re.search(r'<mergeCells count="(\d+)">', text)
    if m:
        end = text.index("</mergeCells>", m.end())
        count = int(m.group(1)) + len(merges)
        return (
            text[: m.start()]
            + f'<mergeCells count="{count}">'
            + text[m.end() : end]
            + "".join(merges)
            + text[end:]
        )
    at = _AFTER_MERGES.search(text, text.index("</sheetData>")).start()
    block = f'<mergeCells count="{len(merges)}">' + "".join(merges) + "</mergeCells>"
    return text[:at] + block + text[at:]


def put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value, never a formula: text is stored as text whatever it starts with."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        if not isinstance(cell, MergedCell):
            cell.value = None
        return cell
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would treat a leading '=' as a formula
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True  # Excel keeps it as text when the cell is edited
        return cell
    cell.value = value
    return cell


def row_height(cells: Sequence[tuple[Any, float]], *, line: float = 13.5) -> float:
    """Row height (points) that shows wrapped text whole: openpyxl cannot auto-fit.

    Args: (text, column width) pairs of the row's wrapped cells; CJK counts 2 wide.
    """
    lines = 1
    for text, width in cells:
        s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
        wide = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in s)
        lines = max(lines, -(-wide // max(int(width) - 2, 1)))
    return line * lines + 4


def safe_name(text: str) -> str:
    """A file-name part: path separators and reserved characters replaced."""
    bad = '<>:"/\\|?*\x00'
    out = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(text)).strip()
    return out.lstrip(".") or "_"


def _text(v: Any) -> str:
    """Display text of a value; missing values (None, NaN, NaT, NA) are empty."""
    if type(v) is str:
        return v
    if v is None or (not isinstance(v, (str, list, tuple)) and pd.isna(v)):
        return ""
    if isinstance(v, (dt.date, pd.Timestamp)):
        return pd.Timestamp(v).date().isoformat()
    return str(v)


def roster_values(df: pd.DataFrame) -> pd.DataFrame:
    """Display values of the pre-filled roster columns from registry-style columns.

    Args: df with id_number, name, sex, birth_date, household_no, relation, address,
    village_code, pension_status, medical_status, batch, reissued, prev_result.
    Returns: a frame with one column per roster field (officer fields blank unless given).
    """
    n = len(df)

    def texts(field: str) -> list[str]:  # lists, not Series.map: called once per village
        return [_text(v) for v in df[field].tolist()] if field in df else [""] * n

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


def _title_rows(ws: Worksheet, title: str, subtitle: str, ncols: int) -> None:
    last = get_column_letter(ncols)
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    put(ws, 1, 1, title).font = Font(name=FONT, size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    put(ws, 2, 1, subtitle).font = Font(name=FONT, size=10)
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 30
    ws.row_dimensions[2].height = 20


def _header(ws: Worksheet, row: int, columns: Sequence[Column]) -> None:
    for j, c in enumerate(columns, start=1):
        cell = put(ws, row, j, c.header)
        cell.font = Font(name=FONT, size=10, bold=True)
        cell.fill = OFFICER_FILL if c.officer else HEAD_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = c.width
    ws.row_dimensions[row].height = 30


def _print_setup(ws: Worksheet, *, landscape: bool, header: str, title_rows: str | None) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.center.text = header
    ws.oddHeader.center.size = 9
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 9
    ws.oddFooter.right.text = "采集人签字：__________"
    ws.oddFooter.right.size = 9


def _protect(ws: Worksheet, password: str | None) -> None:
    """Lock pre-filled cells; officers may still select, filter and resize."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    if password:
        ws.protection.password = password


def _protect_workbook(wb: Workbook, password: str | None) -> None:
    """Lock the structure so the hidden list sheet cannot be unhidden or deleted."""
    wb.security = WorkbookProtection(lockStructure=True)
    if password:
        wb.security.workbookPassword = password


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
    _protect(ls, None)
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
    _title_rows(
        ws,
        f"{meta.district_name}全民参保登记 应参保人员花名册",
        roster_subtitle(meta, len(values)),
        ncols,
    )
    _header(ws, HEADER_ROW, ROSTER_COLUMNS)
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
    _print_setup(
        ws,
        landscape=True,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{meta.district_name} {meta.township_name} {meta.village_name} "
        f"{batch_label(meta.batch)} {meta.issue_date.isoformat()}",
    )
    ws.print_area = f"A1:{get_column_letter(ncols)}{last_row}"
    if protect:
        _protect(ws, meta.password)
        _protect_workbook(wb, meta.password)
    return save_workbook_fixed(wb, path, fixed_time(meta.issue_date))


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
    _title_rows(
        ws,
        f"{meta.district_name}{meta.township_name} 应参保人员花名册汇总",
        f"乡镇街道：{meta.township_name}（{meta.township_code}）　"
        f"下发批次：{batch_label(meta.batch)}　下发日期：{meta.issue_date.isoformat()}",
        len(cols),
    )
    _header(ws, HEADER_ROW, cols)
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
    _print_setup(
        ws,
        landscape=False,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{meta.district_name} {meta.township_name} 花名册汇总 {batch_label(meta.batch)}",
    )
    return save_workbook_fixed(wb, path, fixed_time(meta.issue_date))


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
    t["result_period"] = t["result_period"].map(_text)
    t["insured_date"] = ""
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    cols = LEDGER_COLUMNS
    _title_rows(
        ws,
        f"{district_name}{township_name} 未参保落实台账",
        f"统筹区：{district_name}　乡镇街：{township_name}　截至：{period.isoformat()}",
        len(cols),
    )
    _header(ws, HEADER_ROW, cols)
    fast = FastRows(ws)
    body = [fast.style("body", font=Font(name=FONT, size=10), border=BORDER)] * len(cols)
    t["seq"] = range(1, len(t) + 1)
    t["seq_in_batch"] = t["seq_in_batch"].astype(int)
    data = [t[c.field].tolist() for c in cols]
    for i in range(len(t)):
        fast.row(FIRST_DATA_ROW + i, [col[i] for col in data], body)
    _print_setup(
        ws,
        landscape=True,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{district_name} {township_name} 未参保落实台账 {period.isoformat()}",
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
    _title_rows(s, f"{township_name} 下发核实汇总", f"截至：{period.isoformat()}", len(heads))
    _header(s, HEADER_ROW, heads)
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
    _print_setup(
        s,
        landscape=False,
        title_rows=f"1:{HEADER_ROW}",
        header=f"{district_name} {township_name} 下发核实汇总",
    )
    return save_workbook_fixed(wb, path, fixed_time(period))
