"""Reading returned rosters: which files count, what each one really is (xlsx, a real
.xls, CSV, or no table at all), its sheets with merged blocks filled, the header row,
and the data rows by header name."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from canbao.core import text
from canbao.core.context import is_folder_noise
from canbao.ingest.decoding import decode_bytes
from canbao.ingest.workbook import (
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    column_index,
    looks_like_html,
    sheet_parts,
)
from canbao.survey.normalise import RETURN_FIELDS, _cell_text
from canbao.survey.rosters import ROSTER_COLUMNS

# Header aliases seen on 雨湖区 forms, besides the roster's own headers.
HEADER_ALIASES = {
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "证件号码": "id_number",
    "12位行政区划编码": "village_code",
    "批次": "batch",
}
HEADER_FIELDS = {c.header: c.field for c in ROSTER_COLUMNS} | HEADER_ALIASES


def file_township(name: str) -> str | None:
    """The township a return belongs to, from a name like ``430302100_鹤岭镇.xlsx``
    or a village roster ``430302100201_xx村.xlsx`` (first 9 digits)."""
    m = re.match(r"(\d{9})(\d{3})?(?!\d)", name)
    return m.group(1) if m else None


def _path_township(rel: str) -> str | None:
    """The township of ``survey_returns/[folder/…]file``: the file's own name first, then
    the nearest folder named like one (a township's sub-folder)."""
    for part in reversed(rel.split("/")[1:]):
        town = file_township(part)
        if town:
            return town
    return None


# Suffixes read as returns (by content: an xlsx saved under .xls is still read).
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


def return_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (sub-folders too) that someone sent, in name order.

    What the tools around a folder leave in it (Excel's ``~$…`` owner files, hidden
    files, Thumbs.db…: :func:`canbao.core.context.is_folder_noise`, the extracts' rule)
    is left out; any other file (a scan, a Word file) is listed so the import can report it.
    """
    if not folder.is_dir():
        return []
    out = [
        p for p in folder.rglob("*") if p.is_file() and not is_folder_noise(p.relative_to(folder))
    ]
    return sorted(out, key=lambda p: p.relative_to(folder).as_posix())


Sheet = tuple[str, list[list[Any]], bool]  # name, cells, whether formulas lost results
_UNREADABLE = "文件无法读取"
_NO_VALUE = object()  # a formula cell saved without its result (a program wrote it)


def _sniff(path: Path, data: bytes) -> tuple[str | None, str | None]:
    """("xlsx" | "csv", None) or (None, why the file is no return a clerk can fix)."""
    if path.suffix.lower() not in RETURN_SUFFIXES:
        return None, (
            f"{_UNREADABLE}：不是花名册表格文件（{path.suffix or '无扩展名'}），未导入；"
            "请报送 Excel 花名册（.xlsx）"
        )
    if not data.strip():
        return None, f"{_UNREADABLE}：文件为空（{len(data)} 字节）"
    if data.startswith(OLE_SIGNATURE) and "EncryptedPackage".encode("utf-16-le") in data:
        return None, f"{_UNREADABLE}：文件设有打开密码，请取消密码后重新报送"
    if data.startswith((ZIP_SIGNATURE, OLE_SIGNATURE)):
        return "xlsx", None
    if looks_like_html(data[:512]):
        return None, f"{_UNREADABLE}：文件是网页格式，请在 Excel 中另存为 .xlsx 后重新报送"
    if path.suffix.lower() != ".csv":
        return None, f"{_UNREADABLE}：不是 Excel 文件（已损坏，或扩展名被改过）"
    return "csv", None


def _csv_sheets(data: bytes) -> tuple[list[Sheet], str | None]:
    """The CSV as one sheet of text cells, decoded as every CSV is (canbao.ingest.decoding)."""
    decoded = decode_bytes(data)
    if decoded is None:
        return [], f"{_UNREADABLE}：CSV 编码无法识别，请另存为 .xlsx 后重新报送"
    body = decoded[0]
    grids = [list(csv.reader(io.StringIO(body, newline=""), delimiter=d)) for d in ",\t;"]
    found = [g for g in grids if _header_at(g) is not None]
    return [("CSV", found[0] if found else grids[0], False)], None


def _xlsx_sheets(data: bytes) -> tuple[list[Sheet], str | None]:
    """Visible sheets as grids (hidden ones only when no visible sheet is a roster), with
    merged blocks filled down and formulas saved without a result marked."""
    # calamine (Rust) reads a returned roster ~10x faster than openpyxl: at 1M people
    # a batch comes back as ~100k rows. Empty cells read as "", numbers as float.
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # a corrupt file is one rejected "row"
        return [], f"{_UNREADABLE}：文件已损坏或不是 Excel 格式（{type(exc).__name__}）"
    try:
        meta = [m for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        visible = [m.name for m in meta if m.visible == SheetVisibleEnum.Visible]
        hidden = [m.name for m in meta if m.name not in visible]
        no_value = _formulas_without_value(data) if data.startswith(ZIP_SIGNATURE) else {}
        sheets: list[Sheet] = []
        for names in (visible, hidden):
            for name in names:
                try:
                    sheet = wb.get_sheet_by_name(name)
                    grid = sheet.to_python(skip_empty_area=False)
                    merged = sheet.merged_cell_ranges or []
                except Exception as exc:
                    return [], f"{_UNREADABLE}：工作表“{name}”已损坏（{type(exc).__name__}）"
                marks = no_value.get(name, set())
                sheets.append((name, _fill_merged(grid, merged, marks), bool(marks)))
            if any(_header_at(g) is not None for _, g, _ in sheets):
                break
    finally:
        wb.close()
    return sheets, None


def _fill_merged(
    grid: list[list[Any]], merged: list, no_value: set[tuple[int, int]]
) -> list[list[Any]]:
    """A merged block shows its value on every row it spans (what the officer sees): the
    value goes down the block's first column. Formula cells with no result get a mark."""
    for r, c in no_value:
        if r < len(grid) and c < len(grid[r]) and _cell_text(grid[r][c]) == "":
            grid[r][c] = _NO_VALUE
    for (r0, c0), (r1, _c1) in merged:
        if r1 <= r0 or r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        width = len(grid[r0])
        while len(grid) <= r1:
            grid.append([""] * width)
        for r in range(r0 + 1, r1 + 1):
            if c0 < len(grid[r]) and _cell_text(grid[r][c0]) == "":
                grid[r][c0] = grid[r0][c0]
    return grid


def _formulas_without_value(data: bytes) -> dict[str, set[tuple[int, int]]]:
    """(row, column) from 0 of formula cells saved without a result, per sheet name.

    Excel and WPS save each formula's result, which calamine reads; a program may not,
    and such a cell would read as empty: a filled-in answer silently lost.
    """
    out: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = set(z.namelist())
            for name, part in sheet_parts(z):
                if not name or part not in members:
                    continue
                xml = z.read(part)
                if not re.search(rb"<f[\s>/]", xml):
                    continue
                cells = set()
                # <c …>…</c> (not <c …/>); a cached "" of a text formula is a real blank
                for c in re.finditer(rb"<c\b([^>]*[^/>])?>(.*?)</c>", xml, re.S):
                    attrs, inner = c[1] or b"", c[2]
                    ref = re.search(rb'\br="([A-Z]+)([0-9]+)"', attrs)
                    if (
                        ref is None
                        or not re.search(rb"<f[\s>/]", inner)
                        or re.search(rb"<v>[^<]", inner)
                        or (b't="str"' in attrs and b"<v>" in inner)
                    ):
                        continue
                    cells.add((int(ref[2]) - 1, column_index(ref[1].decode())))
                if cells:
                    out[name] = cells
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return {}
    return out


def _fold_header(v: Any) -> str:
    return re.sub("[\\s▼*＊]", "", text.strip_invisible(v) or "")


_ID_HEADERS = {h for h, f in HEADER_FIELDS.items() if f == "id_number"}


def _is_header(row: list[Any]) -> bool:
    names = {_fold_header(v) for v in row}
    return "姓名" in names and "核实情况" in names and bool(names & _ID_HEADERS)


def _header_at(grid: list[list[Any]]) -> int | None:
    """The header row (姓名, 公民身份号码, 核实情况) among the first 10 rows, if any."""
    return next((i for i, r in enumerate(grid[:10]) if _is_header(r)), None)


def _header_columns(row: list[Any]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for j, v in enumerate(row):
        field = HEADER_FIELDS.get(_fold_header(v))
        if field is not None and field not in cols:
            cols[field] = j
    return cols


_FIELD_HEADER = {c.field: c.header for c in ROSTER_COLUMNS}


def read_return_file(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, str | None]:
    """The data rows of a returned roster, by header name; (rows, file-level error).

    The file is read by its content (xlsx, an xlsx named .xls, a real .xls, or CSV in
    UTF-8 or GBK). Every visible sheet with a header row (姓名, 公民身份号码, 核实情况
    within its first 10 rows) is read; hidden sheets only when no visible one has it.
    ``source_row`` counts rows from the header (the header not counted) and continues
    across sheets, so it stays the row the officer sees below the header. Rows that
    hold nothing of a return (entirely blank; only a title or 序号) and rows repeating
    the header (rosters pasted one below another; their columns then apply) are
    skipped. A merged block counts on every row it spans; ``no_value`` lists the
    columns whose formula was saved without a result.
    """
    path = Path(path)
    data = path.read_bytes() if data is None else data
    kind, err = _sniff(path, data)
    if err:
        return pd.DataFrame(), err
    sheets, err = _csv_sheets(data) if kind == "csv" else _xlsx_sheets(data)
    if err:
        return pd.DataFrame(), err
    rows: list[dict] = []
    offset = 0
    found = False
    for _name, grid, marked in sheets:
        hdr = _header_at(grid)
        if hdr is None:
            continue
        found = True
        cols = _header_columns(grid[hdr])
        for i in range(hdr + 1, len(grid)):
            r = grid[i]
            if "姓名" in r and _is_header(r):  # a header pasted in again (exact 姓名: cheap)
                cols = _header_columns(r)
                continue
            vals = {f: (r[j] if j < len(r) else None) for f, j in cols.items()}
            if all(_cell_text(vals.get(f)) == "" for f in RETURN_FIELDS):
                continue
            if marked:
                lost = [f for f, v in vals.items() if v is _NO_VALUE]
                for f in lost:
                    vals[f] = None
                vals["no_value"] = [_FIELD_HEADER.get(f, f) for f in lost if f in RETURN_FIELDS]
            vals["source_row"] = offset + i - hdr
            rows.append(vals)
        offset += len(grid) - hdr - 1
    if not found:
        return pd.DataFrame(), "未找到表头（需含 姓名、公民身份号码、核实情况）"
    if not rows:
        return pd.DataFrame(), "文件中没有人员数据行（花名册的人员行被删除），请报送填写后的花名册"
    return pd.DataFrame(rows), None
