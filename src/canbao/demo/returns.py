"""Demo survey returns: the rosters of the previous period, filled in as towns return them.

雨湖区 towns returned one workbook per town (contract §8.4), filling in the village;
so does the demo. Most rows are good; some carry the mistakes officers make
(codes not from the lists, a changed name, a village outside the town, another
town's person, a 在校学生 aged 25+, a date after the period, rows left blank).
Deterministic by seed. A return is what an officer sends back: the roster's title
rows, header and values (not its styles, validation or protection), written with the
demo's own fast xlsx writer so a million-person district returns in seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from canbao.core import refdata
from canbao.core.labels import COVERAGE_LABELS
from canbao.core.xlsx import fixed_time
from canbao.demo.xlsx import write_xlsx
from canbao.survey.places import safe_name
from canbao.survey.rosters import ROSTER_COLUMNS, ROSTER_SHEET, RosterMeta, roster_subtitle
from canbao.survey.vocabulary import RELATION_NAMES, SEX_NAMES

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


@dataclass
class DemoReturns:
    """What the demo returns should import as: ``accepted`` {person_key: 核实情况} and
    ``rejected`` [(file, source_row, person_key)], one per row made bad on purpose
    (``file`` = ``survey_returns/<name>.xlsx``, ``source_row`` = 1-based data row).
    Blank rows are neither: they are "not returned"."""

    accepted: dict[str, str] = field(default_factory=dict)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)


def _ages(birth: pd.Series, on: dt.date) -> np.ndarray:
    """Exact ages on ``on`` (-1 where the birth date does not parse)."""
    b = pd.to_datetime(birth.str[:10], format="%Y-%m-%d", errors="coerce")
    before = (b.dt.month > on.month) | ((b.dt.month == on.month) & (b.dt.day > on.day))
    age = on.year - b.dt.year - before.astype(int)
    return age.fillna(-1).astype(int).to_numpy()


def _pick(options: tuple[str, ...], idx: np.ndarray) -> np.ndarray:
    return np.array(options, dtype=object)[idx % len(options)]


def _roster_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The roster's columns (headers) and display values, vectorised (all text but 序号)."""
    pen, med = df["pension_status"], df["medical_status"]
    reason = pd.Series(
        np.where(pen == "not_insured", "养老保险应参保未参保", ""), index=df.index
    ).str.cat(
        pd.Series(np.where(med == "not_insured", "医疗保险应参保未参保", ""), index=df.index), "；"
    )
    values = {
        "seq": pd.Series(np.arange(1, len(df) + 1), index=df.index, dtype="int64"),
        "batch": df["batch"].astype("int64"),
        "household_no": df["household_no"],
        "relation_name": df["relation"].map(lambda r: RELATION_NAMES.get(r, r)),
        "name": df["name"],
        "id_number": df["id_number"],
        "sex_name": df["sex"].map(SEX_NAMES).fillna(df["sex"]),
        "birth_text": df["birth_date"],
        "address": df["address"],
        "village_code": df["village_code"],
        "pension_text": pen.map(COVERAGE_LABELS).fillna(pen),
        "medical_text": med.map(COVERAGE_LABELS).fillna(med),
        "listed_reason": reason.str.strip("；"),
    }
    out = pd.DataFrame(
        {c.header: values.get(c.field, df.get(c.field)) for c in ROSTER_COLUMNS}, index=df.index
    )
    return out.reset_index(drop=True)


def _draw(people: pd.DataFrame, towns: list[str], period: dt.date, prev: dt.date, seed: int):
    """Outcomes, officer fields and mistakes for every listed person, all drawn with numpy."""
    n = len(people)
    rng = np.random.default_rng(seed)
    kinds, shares = zip(*MISTAKES, strict=True)
    good_names, good_w = zip(*GOOD_OUTCOMES, strict=True)
    u, stud_u, old_u = rng.random(n), rng.random(n), rng.random(n)
    good = rng.choice(len(good_names), size=n, p=np.array(good_w) / sum(good_w))
    picks = rng.integers(0, 1 << 30, (n, 5))  # reason, collector, bad outcome/reason, late days
    phone = rng.integers(0, 10**10, n)
    span = max((period - prev).days, 1)
    collected = np.datetime64(prev.isoformat(), "D") + rng.integers(1, span + 1, n).astype(
        "timedelta64[D]"
    )
    cut = np.cumsum(shares)
    k = np.searchsorted(cut, u, side="right")
    mistake = np.where(
        k < len(kinds), np.array(kinds, dtype=object)[np.minimum(k, len(kinds) - 1)], ""
    )
    if len(towns) < 2:
        mistake[mistake == "other_town"] = ""  # no other town to send it to: a good row
    age = _ages(people["birth_date"], period)
    outcome = np.where(
        (age >= 16) & (age < 25) & (stud_u < 0.5),
        "在校学生",
        np.array(good_names, dtype=object)[good],
    ).astype(object)
    old = (mistake == "") & (age >= 25) & (old_u < 0.02)
    mistake[old], outcome[old] = "old_student", "在校学生"
    reason = np.array(
        [
            REASON_FOR.get(o, ("",))[int(i) % len(REASON_FOR.get(o, ("",)))]
            for o, i in zip(outcome, picks[:, 0], strict=True)
        ],
        dtype=object,
    )
    df = people.assign(
        outcome=outcome,
        uninsured_reason=np.where(reason == "", None, reason),
        phone=np.char.add("1", np.char.zfill(phone.astype(str), 10)).astype(object),
        actual_address=None,
        note=None,
        collector=_pick(COLLECTORS, picks[:, 1]),
        collected_date=pd.DatetimeIndex(collected).strftime("%Y-%m-%d").to_numpy(dtype=object),
        mistake=mistake,
    )
    m = mistake
    blank = m == "blank"
    df.loc[blank, ["outcome", "uninsured_reason", "phone", "collector", "collected_date"]] = None
    bad = m == "bad_outcome"
    df.loc[bad, "outcome"] = _pick(("已参保", "在外务工", "不详", "外出"), picks[bad, 2])
    ch = m == "name_changed"
    df.loc[ch, "name"] = [_changed(x) for x in df.loc[ch, "name"]]
    vo = m == "village_outside"
    df.loc[vo, "village_code"] = (
        df.loc[vo, "township_code"].str[:6] + "999" + df.loc[vo, "village_code"].str[-3:]
    )
    br = m == "bad_reason"
    df.loc[br, "uninsured_reason"] = _pick(("没钱", "不想交", "外出打工"), picks[br, 3])
    late = m == "late_date"
    late_days = (picks[late, 4] % 29 + 1).astype("timedelta64[D]")
    df.loc[late, "collected_date"] = (
        pd.DatetimeIndex(np.datetime64(period.isoformat(), "D") + late_days)
        .strftime("%Y-%m-%d")
        .to_numpy(dtype=object)
    )
    ot = m == "other_town"
    if ot.any():
        nxt = dict(zip(towns, towns[1:] + towns[:1], strict=True))
        df.loc[ot, "township_code"] = df.loc[ot, "township_code"].map(nxt)
    return df


def write_demo_returns(
    period_dir: Path, prev_truth_dir: Path, district_code: str, seed: int
) -> DemoReturns:
    """Write ``period_dir/survey_returns/<township_code>_<name>.xlsx`` for the previous
    period's survey people (one workbook per town, the roster's layout); return the rows
    the import should accept and the rows it should reject (see :class:`DemoReturns`).
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
        return DemoReturns()
    people = people.assign(batch=_batch_of(prev_truth_dir), relation="", address="")
    towns = sorted(people["township_code"].unique())
    tref = refdata.townships(district_code)
    tnames = dict(zip(tref["code"], tref["name"], strict=True))
    df = _draw(people, towns, period, prev, seed)
    out = Path(period_dir) / "survey_returns"
    out.mkdir(parents=True, exist_ok=True)
    district_name = refdata.county_name(district_code) or district_code
    result = DemoReturns()
    for tcode, tdf in df.groupby("township_code", sort=True):
        name = tnames.get(tcode, "")
        meta = RosterMeta(
            district_code, district_name, tcode, name or tcode, "", "（全乡镇汇总填报）",
            int(tdf["batch"].iloc[0]), prev,
        )  # fmt: skip
        fname = safe_name(f"{tcode}_{name}" if name else tcode) + ".xlsx"
        write_xlsx(
            out / fname,
            _roster_frame(tdf),
            fixed_time(prev),
            sheet=ROSTER_SHEET,
            preamble=(
                f"{meta.district_name}全民参保登记 应参保人员花名册",
                roster_subtitle(meta, len(tdf)),
            ),
        )
        m = tdf["mistake"].to_numpy()
        keys = tdf["person_key"].to_numpy()
        ok = m == ""
        result.accepted.update(zip(keys[ok], tdf["outcome"].to_numpy()[ok], strict=True))
        bad = np.flatnonzero((m != "") & (m != "blank"))
        result.rejected += [(f"survey_returns/{fname}", int(i) + 1, str(keys[i])) for i in bad]
    result.accepted = dict(sorted(result.accepted.items()))
    return result
