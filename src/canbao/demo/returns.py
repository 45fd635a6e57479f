"""Demo survey returns: the rosters of the previous period, filled in as towns return them.

雨湖区 towns returned one workbook per town (domain §5), filling in the village;
so does the demo. Most rows are good; some carry the mistakes officers make
(codes not from the lists, a changed name, a village outside the town, another
town's person, a 在校学生 aged 25+, a date after the period, rows left blank).
Deterministic by seed; files are written with the roster writer, so the layout
is exactly the roster's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from canbao import refdata
from canbao.rosters import RosterMeta, roster_values, safe_name, write_roster

# Good outcomes and their weights; 在校学生 is drawn separately (only for ages 16-24).
GOOD_OUTCOMES: tuple[tuple[str, float], ...] = (
    ("无参保意愿", 0.28),
    ("我区参加居保", 0.16),
    ("参加省职保", 0.16),
    ("参加省外职保", 0.08),
    ("参加机关保", 0.02),
    ("现役军人", 0.02),
    ("服刑人员", 0.01),
    ("出国（境）人员", 0.03),
    ("死亡未销户人员", 0.02),
    ("其他人员", 0.22),
)
REASON_FOR = {
    "无参保意愿": ("自愿放弃", "经济困难（交不起）", "不了解政策"),
    "其他人员": ("空挂户", "户口不在本地", "数据错误"),
    "我区参加居保": ("已录入未审核", "已录入居保"),
    "参加省职保": ("参职保（含退休）",),
    "参加省外职保": ("参职保（含退休）",),
    "在校学生": ("16岁以上在校生",),
    "现役军人": ("参军",),
    "服刑人员": ("服刑人员",),
    "死亡未销户人员": ("死亡（失踪）",),
}
# Mistakes and their shares of the rows (the rest are good).
MISTAKES: tuple[tuple[str, float], ...] = (
    ("blank", 0.08),
    ("bad_outcome", 0.03),
    ("name_changed", 0.03),
    ("village_outside", 0.02),
    ("bad_reason", 0.02),
    ("late_date", 0.01),
    ("other_town", 0.02),
)
COLLECTORS = ("张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "赵敏", "周杰")
SIMILAR = {
    "华": "花",
    "明": "鸣",
    "伟": "玮",
    "芳": "方",
    "军": "君",
    "丽": "莉",
    "英": "瑛",
    "红": "宏",
}


def _age(birth: str, on: dt.date) -> int | None:
    try:
        b = dt.date.fromisoformat(birth[:10])
    except ValueError:
        return None
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _batch_of(prev_truth_dir: Path) -> int:
    """The batch the previous period issued: its rank among the truth's period folders."""
    dates = []
    for p in Path(prev_truth_dir).parent.iterdir():
        try:
            dates.append(dt.date.fromisoformat(p.name))
        except ValueError:
            continue
    prev = dt.date.fromisoformat(Path(prev_truth_dir).name)
    return sum(1 for d in dates if d <= prev) or 1


def _changed(name: str) -> str:
    for i in range(len(name) - 1, 0, -1):
        if name[i] in SIMILAR:
            return name[:i] + SIMILAR[name[i]] + name[i + 1 :]
    return name + "某" if len(name) < 4 else name[:-1]


def write_demo_returns(
    period_dir: Path, prev_truth_dir: Path, district_code: str, seed: int
) -> dict[str, str]:
    """Write ``period_dir/survey_returns/<township_code>_<name>.xlsx`` for the previous
    period's survey people; returns {person_key: 核实情况} of the rows that should be accepted.
    """
    period = dt.date.fromisoformat(Path(period_dir).name)
    prev = dt.date.fromisoformat(Path(prev_truth_dir).name)
    persons = pd.read_csv(Path(prev_truth_dir) / "persons.csv", dtype=str, keep_default_na=False)
    people = (
        persons.loc[persons["registration"] == "survey"]
        .sort_values(
            ["township_code", "village_code", "household_no", "id_number", "person_key"],
            kind="stable",
        )
        .reset_index(drop=True)
    )
    if people.empty:
        return {}
    rng = np.random.default_rng(seed)
    towns = sorted(people["township_code"].unique())
    tnames = dict(
        zip(
            refdata.townships(district_code)["code"],
            refdata.townships(district_code)["name"],
            strict=True,
        )
    )
    span = max((period - prev).days, 1)
    kinds, shares = zip(*MISTAKES, strict=True)
    good_names, good_w = zip(*GOOD_OUTCOMES, strict=True)
    good_p = np.array(good_w) / sum(good_w)

    rows, accepted = [], {}
    for p in people.to_dict("records"):
        u = rng.random()
        acc = 0.0
        mistake = None
        for k, s in zip(kinds, shares, strict=True):
            acc += s
            if u < acc:
                mistake = k
                break
        age = _age(p["birth_date"], period)
        if age is not None and 16 <= age < 25 and rng.random() < 0.5:
            outcome = "在校学生"
        else:
            outcome = str(rng.choice(good_names, p=good_p))
        if mistake is None and age is not None and age >= 25 and rng.random() < 0.02:
            mistake, outcome = "old_student", "在校学生"
        reasons = REASON_FOR.get(outcome, ("",))
        rec = {
            **{
                k: p[k]
                for k in (
                    "id_number",
                    "name",
                    "sex",
                    "birth_date",
                    "household_no",
                    "village_code",
                    "pension_status",
                    "medical_status",
                )
            },
            "township_code": p["township_code"],
            "relation": "",
            "address": "",
            "batch": _batch_of(prev_truth_dir),
            "reissued": False,
            "outcome": outcome,
            "uninsured_reason": reasons[int(rng.integers(len(reasons)))] or None,
            "phone": "1" + "".join(str(d) for d in rng.integers(0, 10, 10)),
            "actual_address": None,
            "note": None,
            "collector": COLLECTORS[int(rng.integers(len(COLLECTORS)))],
            "collected_date": (
                prev + dt.timedelta(days=int(rng.integers(1, span + 1)))
            ).isoformat(),
        }
        if mistake == "blank":
            for f in ("outcome", "uninsured_reason", "phone", "collector", "collected_date"):
                rec[f] = None
        elif mistake == "bad_outcome":
            rec["outcome"] = ("已参保", "在外务工", "不详", "外出")[int(rng.integers(4))]
        elif mistake == "name_changed":
            rec["name"] = _changed(p["name"])
        elif mistake == "village_outside":
            rec["village_code"] = p["township_code"][:6] + "999" + p["village_code"][-3:]
        elif mistake == "bad_reason":
            rec["uninsured_reason"] = ("没钱", "不想交", "外出打工")[int(rng.integers(3))]
        elif mistake == "late_date":
            rec["collected_date"] = (
                period + dt.timedelta(days=int(rng.integers(1, 30)))
            ).isoformat()
        elif mistake == "other_town" and len(towns) > 1:
            i = towns.index(p["township_code"])
            rec["township_code"] = towns[(i + 1) % len(towns)]
        elif mistake is None:
            accepted[p["person_key"]] = outcome
        rows.append(rec)

    df = pd.DataFrame(rows)
    out = Path(period_dir) / "survey_returns"
    out.mkdir(parents=True, exist_ok=True)
    for tcode, tdf in df.groupby("township_code", sort=True):
        name = tnames.get(tcode, "")
        meta = RosterMeta(
            district_code,
            refdata.county_name(district_code) or district_code,
            tcode,
            name or tcode,
            "",
            "（全乡镇汇总填报）",
            int(tdf["batch"].iloc[0]),
            prev,
        )
        fname = safe_name(f"{tcode}_{name}" if name else tcode) + ".xlsx"
        write_roster(roster_values(tdf.reset_index(drop=True)), out / fname, meta)
    return accepted
