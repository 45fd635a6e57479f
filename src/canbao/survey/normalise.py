"""A returned row's values as compared: names, IDs, codes and list entries folded
(contract §7: width, spaces and invisible marks are no change), batches and dates
parsed, and one file's rows typed into the import's input table."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

import pandas as pd

from canbao.core import dates, text
from canbao.core.privacy import mask_id
from canbao.survey.vocabulary import OUTCOME_NAMES, REASONS

RETURN_FIELDS = (
    "batch",
    "name",
    "id_number",
    "village_code",
    "outcome",
    "uninsured_reason",
    "phone",
    "actual_address",
    "note",
    "collector",
    "collected_date",
)


_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九")}
_ID_DIGITS_LOST = 1e15  # a number this large held an 18-digit ID: Excel keeps 15 digits


def fold_name(v: Any) -> str | None:
    """Name as compared (contract §7: width, spaces and middle-dot variants are not changes)."""
    return text.fold_name(_cell_text(v) or None)


def fold_id(v: Any) -> str | None:
    """ID as compared: width-folded, no spaces or leading apostrophe, uppercase X."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # a number-typed ID (Excel keeps 15 digits: it will not match)
    return text.fold_id(_cell_text(v) or None)


def _id_lost(v: Any) -> str | None:
    """The digits an ID cell still holds when Excel made it a number (``4.30302E+17``,
    or an 18-digit number it cut to 15 digits), else None: never guessed (contract §1)."""
    if isinstance(v, float) and math.isfinite(v) and abs(v) >= _ID_DIGITS_LOST:
        return str(int(Decimal(f"{v:.15g}")))
    s = fold_id(v) if isinstance(v, str) and ("E" in v or "e" in v) else None
    if s and re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]{1,2}", s):
        return str(int(Decimal(s)))
    return None


def _cell_text(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _opt(v: Any) -> str | None:
    """Optional free text as written (trimmed; width forms kept: it is what the officer wrote)."""
    s = _cell_text(v).strip()
    return s or None


def _nfkc(s: str) -> str:
    return text.fold_text(s) or ""


# List entries keyed by their width-folded form: 出国(境)人员 typed with ASCII
# brackets, or with stray spaces, is the same entry (contract §7: normalisation is no change).
_CANON = {_nfkc(x): x for x in (*OUTCOME_NAMES, *REASONS)}


def _listed(v: Any) -> str | None:
    """A 核实情况 / 未参保原因 value: the list's own spelling if it folds to an entry."""
    s = _opt(v)
    return None if s is None else _CANON.get(_nfkc(s), s)


def _code_text(v: Any) -> str | None:
    """A 12-digit code as text (an Excel number stays exact up to 15 digits)."""
    s = _opt(v)
    return _nfkc(s).lstrip("'") or None if s else None


def parse_batch(v: Any) -> int | None:
    """下发批次 as written: 1, '1', '第1批', '第一批', '第十二批'."""
    s = _cell_text(v)
    m = re.search(r"\d+", s)
    if m:
        return int(m.group())
    s = s.replace("第", "").replace("批", "")
    if not s or any(ch not in _CN_NUM and ch != "十" for ch in s):
        return None
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)
    return _CN_NUM[s] if len(s) == 1 else None


def collected_date(v: Any, period: dt.date | None = None) -> tuple[dt.date | None, bool]:
    """(date, unreadable) of a returned 采集日期: a blank cell is no date and no error;
    anything else is read by :func:`canbao.core.dates.parse_date` (with ``period``, a month
    and day without a year too), and unreadable when that finds no real date."""
    if _cell_text(v) == "":
        return None, False
    day = dates.parse_date(v, period)
    return day, day is None


def _normalise_rows(
    raw: pd.DataFrame, file: str, sha: str, town: str | None, period: dt.date | None = None
) -> pd.DataFrame:
    """Typed, folded columns of one file's rows (Python only for what SQL cannot read)."""
    out = []
    for rec in raw.to_dict("records"):
        cd, bad = collected_date(rec.get("collected_date"), period)
        lost = _id_lost(rec.get("id_number"))
        no_value = rec.get("no_value")
        no_value = no_value if isinstance(no_value, list) else []
        out.append(
            {
                "file_sha256": sha,
                "file": file,
                "source_row": int(rec["source_row"]),
                "file_township": town,
                "batch": parse_batch(rec.get("batch")),
                "name": fold_name(rec.get("name")),
                "id_number": lost or fold_id(rec.get("id_number")),
                "village_code": _code_text(rec.get("village_code")),
                "outcome": _listed(rec.get("outcome")),
                "uninsured_reason": _listed(rec.get("uninsured_reason")),
                "phone": _code_text(rec.get("phone")),
                "actual_address": _opt(rec.get("actual_address")),
                "note": _opt(rec.get("note")),
                "collector": _opt(rec.get("collector")),
                "collected_raw": _cell_text(rec.get("collected_date")) or None,
                "collected_date": cd,
                "collected_bad": bad,
                "file_error": None,
                "id_problem": None
                if lost is None
                else "公民身份号码被存成了数字，后几位已丢失（" + mask_id(lost) + "），"
                "请将该列设为文本格式后按下发号码重新填写",
                "problems": "；".join(
                    f"{h}是公式且没有保存计算结果，请复制后“粘贴为数值”再报送" for h in no_value
                )
                or None,
                "problem_columns": "、".join(no_value) or None,
            }
        )
    return pd.DataFrame(out, columns=_INPUT_COLUMNS)


# What _normalise_rows returns: the return's fields (the date also as written), plus
# where each row came from and what went wrong reading it.
_INPUT_COLUMNS = [
    "file_sha256",
    "file",
    "source_row",
    "file_township",
    *(f for f in RETURN_FIELDS if f != "collected_date"),
    "collected_raw",
    "collected_date",
    "collected_bad",
    "file_error",
    "id_problem",
    "problems",
    "problem_columns",
]
