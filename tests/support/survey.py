"""A small 雨湖区 registry for the roster and survey tests (built in memory, no files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from canbao.core import refdata
from canbao.core.config import Config, SurveyConfig
from canbao.core.context import PeriodContext
from canbao.core.engine import DuckDBEngine

DISTRICT = "430302"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "桂兰",
    "建华",
)
# Names an officer might type that spreadsheets read as formulas; must stay text.
FORMULA_NAMES = ('=HYPERLINK("http://x","点我")', "+张三", "-李四", "@王五")


def id_number(region: str, birth: dt.date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]
    return body + check


def fixture_places() -> tuple[list[str], dict[str, list[str]]]:
    """Two towns of 雨湖区 (a 街道 and a 镇) and their first three villages each."""
    v = refdata.villages(DISTRICT)
    towns = ["430302001", "430302100"]
    return towns, {t: sorted(v.loc[v["township_code"] == t, "code"])[:3] for t in towns}


def build_registry(period: dt.date = dt.date(2026, 1, 31)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(registry, population): 3 households per village; most people to survey."""
    towns, villages = fixture_places()
    vnames = dict(
        zip(refdata.villages(DISTRICT)["code"], refdata.villages(DISTRICT)["name"], strict=True)
    )
    tnames = dict(
        zip(refdata.townships(DISTRICT)["code"], refdata.townships(DISTRICT)["name"], strict=True)
    )
    rows, n = [], 0
    for t in towns:
        for v in villages[t]:
            for h in range(3):
                hh = f"{v[-6:]}{h:03d}"
                for rel in ("02", "10", "20", "30")[: 2 + (h % 3)]:
                    n += 1
                    birth = dt.date(1950 + (n * 7) % 55, 1 + n % 12, 1 + n % 28)
                    sex = "1" if rel in ("02", "20") else "2"
                    seq = 2 * (n % 400) + (1 if sex == "1" else 2)
                    name = SURNAMES[n % 20] + GIVEN[(n * 3) % 20]
                    if n <= len(FORMULA_NAMES):
                        name = FORMULA_NAMES[n - 1]
                    registration = "confirmed" if n % 5 == 0 else "survey"
                    rows.append(
                        {
                            "person_id": f"P{DISTRICT}-{n:07d}",
                            "id_number": id_number(DISTRICT, birth, seq),
                            "name": name,
                            "sex": sex,
                            "birth_date": birth,
                            "population": "hukou",
                            "township_code": t,
                            "village_code": v,
                            "life_status": "alive",
                            "pension_status": "not_insured"
                            if registration == "survey"
                            else "insured_local",
                            "medical_status": "not_insured"
                            if n % 3 == 0 and registration == "survey"
                            else "insured_local",
                            "registration": registration,
                            "household_no": hh,
                            "address": f"湖南省湘潭市雨湖区{tnames[t]}{vnames[v]}{h + 1}号",
                            "relation": rel,
                        }
                    )
    reg = pd.DataFrame(rows)
    pop = reg[["person_id", "id_number", "name", "township_code", "village_code"]].assign(
        township_name=reg["township_code"].map(tnames), village_name=reg["village_code"].map(vnames)
    )
    return reg, pop


def make_engine(
    period: dt.date = dt.date(2026, 1, 31), *, villages: int | None = None
) -> DuckDBEngine:
    """Fixture registry in memory; ``villages`` keeps only the first n villages (faster tests)."""
    reg, pop = build_registry(period)
    if villages is not None:
        keep = sorted(reg["village_code"].unique())[:villages]
        reg, pop = reg[reg["village_code"].isin(keep)], pop[pop["village_code"].isin(keep)]
    eng = DuckDBEngine()
    eng.register_df("registry", reg)
    eng.execute("ALTER TABLE registry ALTER birth_date TYPE DATE")
    eng.register_df("population", pop)
    return eng


def make_ctx(tmp: Path, period: dt.date) -> PeriodContext:
    pdir = tmp / "raw" / DISTRICT / period.isoformat()
    pdir.mkdir(parents=True, exist_ok=True)
    return PeriodContext(DISTRICT, period, pdir, tmp / "reports")


def make_cfg(password: str | None = None) -> Config:
    return Config(district_code=DISTRICT, survey=SurveyConfig(roster_password=password))


def fill_roster(
    src: Path,
    dst: Path,
    fills: dict[str, dict[str, object]],
    *,
    extra_rows: list[dict[str, object]] = (),
) -> Path:
    """Fill a roster as an officer would: {id_number: {header: value}}; extra rows appended."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb["花名册"]
    col = {c.value: c.column for c in ws[3]}
    for r in range(4, ws.max_row + 1):
        for header, value in fills.get(ws.cell(r, col["公民身份号码"]).value, {}).items():
            ws.cell(r, col[header]).value = value
    r = ws.max_row
    for extra in extra_rows:
        r += 1
        for header, value in extra.items():
            ws.cell(r, col[header]).value = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def roster_ids(path: Path) -> list[str]:
    import openpyxl

    ws = openpyxl.load_workbook(path)["花名册"]
    col = {c.value: c.column for c in ws[3]}["公民身份号码"]
    return [ws.cell(r, col).value for r in range(4, ws.max_row + 1) if ws.cell(r, col).value]
