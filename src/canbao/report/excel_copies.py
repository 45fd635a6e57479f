"""Excel-friendly copies of a period's CSV exports: ``exports/xlsx/<name>.xlsx``.

Excel and WPS on a Chinese Windows open a UTF-8 CSV without a byte-order mark as
GBK, and every name turns to mojibake; they also turn ID numbers into 4.3e17 and
evaluate a name that starts with ``=``. The copies fix all three: the CSV's rows
and order unchanged, Chinese column titles (one table, :data:`COLUMN_TITLES`),
every cell a text cell, the header frozen, widths fitted. The CSVs stay the
machine-readable contract files.

Privacy: the copies are district-wide, read by office staff, not by the village
officer who verifies a person, so every ID number in them is masked with the one
style (first 6 + ``********`` + last 4), including ``registry``'s ``id_number``
(the CSV keeps the full number for the machines that need it).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from canbao.core import messages
from canbao.core.engine import size_bytes
from canbao.core.privacy import MASK, mask_id, mask_id_sql
from canbao.core.xlsx import fixed_time, write_streamed_text_table, write_text_table

XLSX_DIR = "xlsx"
# Rows per Excel copy: under Excel's 1,048,576-row sheet, and a workbook this size
# is built in well under 1 GiB.
ROWS_PER_FILE = 200_000
# Exports copied at once (threads): two cores' worth, each with a batch of rows in memory.
WORKERS = 2

# Every export column's Chinese title (shared by all exports; a column means one thing).
COLUMN_TITLES: dict[str, str] = {
    "person_id": "人员编号",
    "id_number": "公民身份号码",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "population": "人口类别",
    "township_code": "乡镇街道代码",
    "village_code": "村社区代码",
    "life_status": "户籍状态",
    "pension_status": "养老保险状态",
    "medical_status": "医疗保险状态",
    "registration": "登记状态",
    "source_row": "数据行号",
    "file": "文件",
    "member_no": "个人编号",
    "method": "匹配方式",
    "match_probability": "匹配概率",
    "finding": "问题代码",
    "detail": "问题说明",
    "extract": "数据类别",
    "rows_read": "读取行数",
    "rows_loaded": "载入行数",
    "rows_rejected": "拒收行数",
    "extra_columns": "未使用的列",
    "unknown_codes": "未知代码数",
    "rows_repeated": "其中重复行数",
    "column": "列",
    "reason": "原因代码",
    "reason_text": "原因说明",
    "value": "原值",
    "period": "期次",
    "change": "变更类型",
    "field": "字段",
    "old_value": "原值",
    "new_value": "新值",
}
SHEET_NAMES: dict[str, str] = {
    "registry": "登记库",
    "links": "参保记录匹配",
    "findings": "问题清单",
    "reconciliation": "数据核对",
    "rejects": "拒收行",
    "field_issues": "字段问题",
    "changelog": "变更记录",
}
# Columns that hold ID numbers whole; elsewhere an 18-character number inside text is masked.
ID_COLUMNS = frozenset({"id_number"})
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
ID_RUN = "[0-9]{17}[0-9Xx]"  # RE2: where mask_cell_sql may change text (ASCII digits)
_ID_IN_TEXT_RE2 = "(^|[^0-9A-Za-z])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])($|[^0-9A-Za-z])"


def column_title(column: str) -> str:
    """The Chinese title of an export column (its code if it has none yet, never blank)."""
    return COLUMN_TITLES.get(column, column)


def mask_cell(column: str, value: str) -> str:
    """The value with every ID number masked: whole ID columns, and IDs inside any text."""
    if not value:
        return value
    if column in ID_COLUMNS:
        return mask_id(value)
    return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), value)


def mask_cell_sql(column: str, value: str) -> str:
    """:func:`mask_cell` in SQL over a never-NULL text ``value`` (ASCII digits only).

    RE2 has no look-around: the ID's neighbours are matched and put back, and a
    second pass masks an ID whose left neighbour the first pass used up.
    """
    if column in ID_COLUMNS:
        return mask_id_sql(value)

    def once(text: str) -> str:
        return f"regexp_replace({text}, '{_ID_IN_TEXT_RE2}', '\\1\\2{MASK}\\3\\4', 'g')"

    twice = once(once(value))
    return f"CASE WHEN regexp_matches({value}, '{ID_RUN}') THEN {twice} ELSE {value} END"


def _chunks(path: Path, size: int) -> Iterator[tuple[list[str], list[list[str]]]]:
    """(header, up to ``size`` rows) at a time: a 2.5M-row links.csv never sits in memory whole."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        while True:
            rows = list(islice(reader, size))
            yield header, rows
            if len(rows) < size:
                return


def write_excel_copy(
    csv_path: Path,
    out_dir: Path,
    period: dt.date,
    *,
    rows_per_file: int = ROWS_PER_FILE,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> list[Path]:
    """One export's Excel copy (same rows and order; titles in Chinese; IDs masked).

    An export longer than ``rows_per_file`` is split into ``<name>_1.xlsx``,
    ``<name>_2.xlsx``… in row order: a sheet holds at most 1,048,576 rows in Excel,
    and Excel opens a smaller file faster. The body rows' XML is built in DuckDB
    straight from the CSV (:mod:`canbao.report.excel_sql`) and streamed into the
    zip: the same bytes as :func:`write_excel_copy_python`, several times faster.
    """
    import duckdb

    try:
        return _write_excel_copy_sql(
            csv_path, out_dir, period, rows_per_file, memory_limit, threads
        )
    except duckdb.Error:  # a CSV DuckDB will not read as Python's csv does: the slow way
        return write_excel_copy_python(csv_path, out_dir, period, rows_per_file=rows_per_file)


def _write_excel_copy_sql(
    csv_path: Path,
    out_dir: Path,
    period: dt.date,
    rows_per_file: int,
    memory_limit: str | None,
    threads: int | None,
) -> list[Path]:
    from canbao.report.excel_sql import CsvRows

    name = csv_path.stem
    sheet = SHEET_NAMES.get(name, name)
    with CsvRows(
        csv_path, rows_per_file, mask_cell, mask_cell_sql, ID_COLUMNS, ID_RUN,
        memory_limit=memory_limit, threads=threads,
    ) as src:  # fmt: skip
        if not src.header:
            return write_excel_copy_python(csv_path, out_dir, period, rows_per_file=rows_per_file)
        titles = [column_title(c) for c in src.header]
        paths = _part_paths(csv_path, out_dir, src.files)
        return [
            write_streamed_text_table(
                path,
                titles,
                src.widths(k, titles),
                src.part_rows(k),
                src.part_body(k),
                fixed_time(period),
                sheet=sheet,
            )  # fmt: skip
            for k, path in enumerate(paths)
        ]


def write_excel_copy_python(
    csv_path: Path, out_dir: Path, period: dt.date, *, rows_per_file: int = ROWS_PER_FILE
) -> list[Path]:
    """:func:`write_excel_copy` row by row in Python: the reference the SQL path must match."""
    name = csv_path.stem
    sheet = SHEET_NAMES.get(name, name)
    parts = list(_chunk_paths(csv_path, out_dir, rows_per_file))
    written = []
    for (header, rows), path in zip(_chunks(csv_path, rows_per_file), parts, strict=False):
        for r in rows:  # masked in place: one copy of the chunk in memory, not two
            r[:] = [mask_cell(c, v) for c, v in zip(header, r, strict=False)]
        titles = [column_title(c) for c in header]
        written.append(write_text_table(path, titles, rows, fixed_time(period), sheet=sheet))
        del rows
    return written


def _part_paths(csv_path: Path, out_dir: Path, files: int) -> list[Path]:
    """``<name>.xlsx`` when one file holds the export, else ``<name>_1.xlsx``, ``<name>_2.xlsx``…"""
    if files == 1:
        return [out_dir / f"{csv_path.stem}.xlsx"]
    return [out_dir / f"{csv_path.stem}_{k}.xlsx" for k in range(1, files + 1)]


def _chunk_paths(csv_path: Path, out_dir: Path, rows_per_file: int) -> Iterator[Path]:
    """``<name>.xlsx`` when one file holds the export, else ``<name>_1.xlsx``, ``<name>_2.xlsx``…"""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    files = max(1, -(-rows // rows_per_file))
    if files == 1:
        yield out_dir / f"{csv_path.stem}.xlsx"
        return
    for k in range(1, files + 1):
        yield out_dir / f"{csv_path.stem}_{k}.xlsx"


def write_excel_copies(
    exports_dir: Path,
    period: dt.date,
    *,
    rows_per_file: int = ROWS_PER_FILE,
    memory_limit: str | None = None,
    workers: int = WORKERS,
) -> dict[str, list[Path]]:
    """Every ``exports/*.csv`` copied to ``exports/xlsx/<name>.xlsx`` (split when long).

    ``workers`` exports are copied at once, in threads (the time goes to DuckDB and
    zlib, which let go of Python's lock; a Jupyter kernel runs threads as they are),
    the largest first; each file's bytes do not depend on the order. ``memory_limit``:
    DuckDB's share of the budget, split between the connections that build rows at once.
    """
    out = exports_dir / XLSX_DIR
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.xlsx"):
        old.unlink()  # this stage's own output of an earlier run
    csvs = sorted(exports_dir.glob("*.csv"))
    threads = 1 if workers > 1 else None  # one core per export when several run at once
    if memory_limit and workers > 1:  # the connections at work together keep to the one share
        memory_limit = f"{max(1, size_bytes(memory_limit) // workers // 2**20)}MiB"
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        running = {
            p: pool.submit(
                write_excel_copy,
                p,
                out,
                period,
                rows_per_file=rows_per_file,
                memory_limit=memory_limit,
                threads=threads,
            )  # fmt: skip
            for p in sorted(csvs, key=lambda p: -p.stat().st_size)
        }
        return {p.stem: running[p].result() for p in csvs}


def reason_text(code: str | None) -> str:
    """The Chinese sentence of a reject reason code (the code itself if not catalogued)."""
    if not code:
        return ""
    return messages.text(code) if messages.known(code) else code
