"""退回清单: one workbook per township listing the rejected rows and why (IDs masked)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from canbao.core.privacy import mask_id
from canbao.core.xlsx import (
    BORDER,
    FONT,
    Column,
    FastRows,
    header_row,
    print_setup,
    row_height,
    title_rows,
)
from canbao.survey.places import _place
from canbao.survey.rosters import SIGNATURE, save_survey_workbook

REJECTION_COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("文件", "file", 30),
    Column("行号", "source_row", 6),
    Column("村社区代码", "village_code", 14),
    Column("姓名", "name", 10),
    Column("身份证号码", "id_masked", 21),
    Column("核实情况", "outcome", 14),
    Column("退回原因", "reason", 48),
)


def _clip(v: Any, limit: int = 200) -> Any:
    """A cell of the 退回清单: a 10,000-character value cut, so the list stays a list."""
    if isinstance(v, str) and len(v) > limit:
        return v[:limit] + f"…（共{len(v)}字）"
    return v


def write_rejections(
    rej: pd.DataFrame, folder: Path, towns: dict[str, str], period: dt.date
) -> int:
    """One 退回清单 per township (IDs masked); returns the number of files written."""
    if folder.exists():
        for old in folder.glob("*.xlsx"):
            old.unlink()  # this stage's own output of an earlier run
    if rej.empty:
        return 0
    rej = rej.assign(
        township_code=rej["township_code"].fillna(""), id_masked=rej["id_number"].map(mask_id)
    )
    n = 0
    for tcode, tdf in rej.groupby("township_code", sort=True):
        wb = Workbook()
        ws = wb.active
        ws.title = "退回清单"
        tname = towns.get(tcode, "")
        title_rows(
            ws,
            f"{tname or tcode or '未识别乡镇'} 入户调查回收表退回清单",
            f"乡镇街道：{tname}（{tcode}）　导入日期：{period.isoformat()}　共 {len(tdf)} 行，"
            "请按退回原因更正后重新报送",
            len(REJECTION_COLUMNS),
        )
        header_row(ws, 3, REJECTION_COLUMNS)
        fast = FastRows(ws)
        looks = [
            fast.style(
                str(c.field == "reason"),
                font=Font(name=FONT, size=10),
                border=BORDER,
                alignment=Alignment(wrap_text=c.field == "reason", vertical="center"),
            )
            for c in REJECTION_COLUMNS
        ]
        width = REJECTION_COLUMNS[-1].width
        for i, rec in enumerate(tdf.to_dict("records"), start=4):
            rec["seq"] = i - 3
            fast.row(
                i,
                [_clip(rec.get(c.field)) for c in REJECTION_COLUMNS],
                looks,
                row_height([(rec.get("reason"), width)]),
            )
        print_setup(
            ws,
            landscape=True,
            title_rows="1:3",
            header=f"{tname} 退回清单 {period.isoformat()}",
            footer_right=SIGNATURE,
        )
        name = _place(tcode, towns, "未识别乡镇")
        save_survey_workbook(wb, folder / f"{name}.xlsx", period)
        n += 1
    return n
