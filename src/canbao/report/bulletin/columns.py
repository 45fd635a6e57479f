"""The bulletin's columns, their Chinese labels and the unit words (乡镇街道, 村社区)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

Level = Literal["township", "village"]

# survey_tasks.status of an accepted return: 'returned' at stage 5, 'accepted' from stage 9 on.
ACCEPTED_STATUSES = ["accepted", "returned"]
TOTAL_LABEL = "合计"
UNKNOWN_UNIT = "（未填写）"

# Count columns summed in the 合计 row; everything else is derived.
# Counts the unit table and the trend both have: coverage (COVERAGE_COUNTS) and survey tasks.
SCOPE_COUNTS = [
    "pension_due",
    "pension_insured",
    "medical_due",
    "medical_insured",
    "tasks_issued",
    "tasks_done",
]
COUNTS = [
    "hukou",
    *SCOPE_COUNTS,
    "new_insured",
    "clean_deceased",
    "clean_moved",
    "clean_duplicate",
    "corrections",
    "corrections_open",
]
RATES = ["pension_rate", "medical_rate", "overall_rate", "survey_rate"]
DELTAS = {
    "d_pension_insured": "pension_insured",
    "d_medical_insured": "medical_insured",
    "d_pension_rate": "pension_rate",
    "d_medical_rate": "medical_rate",
    "d_survey_rate": "survey_rate",
}

LABELS = {
    "unit_code": "代码",
    "unit_name": "单位",
    "hukou": "户籍人数",
    "pension_due": "养老应参保人数",
    "pension_insured": "养老已参保人数",
    "pension_rate": "养老参保率",
    "medical_due": "医疗应参保人数",
    "medical_insured": "医疗已参保人数",
    "medical_rate": "医疗参保率",
    "overall_rate": "综合参保率",
    "tasks_issued": "下发核查数",
    "tasks_done": "已核查数",
    "survey_rate": "核查完成率",
    "new_insured": "本期新增参保",
    "clean_deceased": "清理数（死亡）",
    "clean_moved": "清理数（迁出）",
    "clean_duplicate": "清理数（重复）",
    "clean_total": "清理数（合计）",
    "corrections": "纠错数",
    "corrections_open": "待纠错数",
    "rank": "排名",
    "d_pension_rate": "养老参保率较上期",
    "d_medical_rate": "医疗参保率较上期",
    "d_survey_rate": "核查完成率较上期",
    "d_rank": "排名较上期",
}

UNIT_WORD = {"township": "乡镇街道", "village": "村社区"}


def as_date(period: dt.date | str) -> dt.date:
    """A period given as a date or as ``YYYY-MM-DD`` text."""
    return period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period))
