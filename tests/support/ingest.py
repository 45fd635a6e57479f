"""Extract writers for the ingest and clean tests: the hukou/enrollment headers, a hukou row
with realistic 湘潭 defaults, plain CSV and xlsx files."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

from canbao.core.schema import HUKOU

HUKOU_HEADER = list(HUKOU.columns)
ENROLL_HEADER = [
    "个人编号",
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "险种类型",
    "参保状态",
    "待遇享受状态",
    "参保日期",
    "单位编号",
    "参保地区划代码",
]


def hukou_row(id_, name, status="管理中", **kw: str) -> list[str]:
    row = {
        "公民身份号码": id_,
        "姓名": name,
        "性别": "1",
        "出生日期": "1949-12-31",
        "民族": "01",
        "户号": "430302001000123",
        "与户主关系": "02",
        "户籍地址": "湖南省湘潭市雨湖区城正街街道熙春路12号",
        "乡镇街道代码": "430302001",
        "乡镇街道": "城正街街道",
        "村社区代码": "430302001001",
        "村社区": "熙春路社区",
        "户籍状态": status,
        "状态变更日期": "",
    }
    row.update(kw)
    return [row[h] for h in HUKOU_HEADER]


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
