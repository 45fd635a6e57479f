"""Registry builders for the bulletin and render tests (tests/test_bulletin_data.py checks them).

``build_small`` is a hand-countable registry of 雨湖区 (two townships, two
periods); the expected figures are worked out in tests/test_bulletin.py.
``build_synthetic`` is a larger, seeded registry (all 12 townships of 雨湖区,
four periods) for charts, the notebook and the PDF.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from canbao.core.engine import DuckDBEngine
from tests.support.registry_tables import (
    REGISTRY_COLUMNS,
    register_changelog,
    register_findings_history,
    register_survey_tasks,
)

DISTRICT = "430302"
P1, P2 = dt.date(2026, 11, 15), dt.date(2026, 11, 30)
A, B = "430302001", "430302100"  # 雨湖路街道, 鹤岭镇
A1, A2, B1 = "430302001001", "430302001002", "430302100001"

REG_COLS = [
    "period",
    *REGISTRY_COLUMNS,
    "household_no",
    "address",
    "relation",
    "first_period",
    "last_period",
]


def _reg(period, pid, pop, tw, vil, life, pen, med, reg) -> dict:
    return {
        "period": period,
        "person_id": pid,
        "id_number": f"4303021980010{pid[-5:]}",
        "name": f"张{pid[-1]}",
        "sex": "1",
        "birth_date": dt.date(1980, 1, 1),
        "population": pop,
        "township_code": tw,
        "village_code": vil,
        "life_status": life,
        "pension_status": pen,
        "medical_status": med,
        "registration": reg,
        "household_no": "H" + pid[-3:],
        "address": "湖南省湘潭市雨湖区",
        "relation": "02",
        "first_period": P1,
        "last_period": period,
    }


def build_small(engine: DuckDBEngine) -> None:
    """Nine persons, two periods; see tests/test_bulletin.py for the figures they give."""
    il, ie, ni, ex, na = (
        "insured_local",
        "insured_elsewhere",
        "not_insured",
        "exempt",
        "not_applicable",
    )
    p = [f"P430302-000000{i}" for i in range(10)]
    rows = [
        # period 1
        _reg(P1, p[1], "hukou", A, A1, "alive", il, il, "confirmed"),
        _reg(P1, p[2], "hukou", A, A1, "alive", ni, il, "survey"),
        _reg(P1, p[3], "hukou", A, A1, "alive", ex, il, "confirmed"),
        _reg(P1, p[4], "hukou", A, A1, "deceased", na, na, "not_applicable"),
        _reg(P1, p[5], "hukou", A, A2, "alive", ie, ie, "needs_correction"),
        _reg(P1, p[6], "resident", A, A2, "alive", il, il, "confirmed"),
        _reg(P1, p[7], "hukou", B, B1, "alive", ni, ni, "survey"),
        _reg(P1, p[8], "hukou", B, B1, "alive", il, il, "confirmed"),
        # period 2
        _reg(P2, p[1], "hukou", A, A1, "alive", il, il, "confirmed"),
        _reg(P2, p[2], "hukou", A, A1, "alive", il, il, "surveyed"),
        _reg(P2, p[3], "hukou", A, A1, "alive", ex, il, "confirmed"),
        _reg(P2, p[4], "hukou", A, A1, "deceased", na, na, "not_applicable"),
        _reg(P2, p[5], "hukou", A, A2, "alive", ie, ie, "confirmed"),
        _reg(P2, p[6], "resident", A, A2, "alive", il, il, "confirmed"),
        _reg(P2, p[7], "hukou", B, B1, "moved_out", na, na, "not_applicable"),
        _reg(P2, p[8], "hukou", B, B1, "alive", il, il, "confirmed"),
        _reg(P2, p[9], "hukou", B, B1, "alive", ni, il, "survey"),
    ]
    engine.register_df("registry_history", pd.DataFrame(rows, columns=REG_COLS))
    findings = [
        (P1, "DECEASED_ACTIVE", p[4]),
        (P1, "DUPLICATE_MEDICAL", p[8]),
        (P2, "DECEASED_ACTIVE", p[4]),
        (P2, "DECEASED_BENEFIT", p[4]),
        (P2, "DUPLICATE_REGION", p[7]),
        (P2, "NAME_MISMATCH", p[5]),
        (P2, "NOT_IN_POPULATION", None),
    ]
    register_findings_history(
        engine, [(d, f, pid, "enrollment.xlsx", 3, "") for d, f, pid in findings]
    )
    changes = [
        (P2, p[2], "新参保", "pension_status", "not_insured", "insured_local"),
        (P2, p[2], "调查确认", "registration", "survey", "surveyed"),
        (P2, p[7], "迁出", "life_status", "alive", "moved_out"),
        (P2, p[9], "新增", None, None, None),
        (P2, p[5], "变更", "registration", "needs_correction", "confirmed"),
    ]
    register_changelog(engine, changes)
    tasks = [
        (1, P1, p[2], A, A1, 1, False, "returned", "已参保", P2),
        (1, P1, p[7], B, B1, 1, False, "rejected", "姓名不符", P2),
        (2, P2, p[9], B, B1, 1, False, "issued", None, None),
    ]
    register_survey_tasks(engine, tasks)


SYNTH_PERIODS = [
    dt.date(2026, 10, 15),
    dt.date(2026, 10, 31),
    dt.date(2026, 11, 15),
    dt.date(2026, 11, 30),
]


def build_synthetic(engine: DuckDBEngine, seed: int = 7, per_village: int = 40) -> None:
    """All townships/villages of 雨湖区 (bundled list), coverage improving period by period."""
    from canbao.core import refdata

    rng = random.Random(seed)
    vil = refdata.villages(DISTRICT)
    tw = refdata.townships(DISTRICT)
    names = dict(zip(tw["code"], tw["name"], strict=True))
    quality = {c: 0.55 + 0.4 * rng.random() for c in tw["code"]}
    people = []
    n = 0
    for _, v in vil.iterrows():
        for _ in range(per_village):
            n += 1
            people.append(
                (f"P{DISTRICT}-{n:07d}", v["township_code"], v["code"], rng.random(), rng.random())
            )
    reg, tasks, findings, changes = [], [], [], []
    for k, period in enumerate(SYNTH_PERIODS):
        for pid, t, vcode, r1, r2 in people:
            q = min(0.99, quality[t] + 0.08 * k)
            dead = r2 < 0.02
            resident = r2 > 0.97
            exempt = 0.02 <= r2 < 0.12
            pen = (
                "not_applicable"
                if dead
                else ("exempt" if exempt else ("insured_local" if r1 < q else "not_insured"))
            )
            med = (
                "not_applicable"
                if dead
                else ("insured_local" if r1 < min(0.995, q + 0.1) else "not_insured")
            )
            surveyed = r1 >= q and r2 < 0.5 and k >= 2
            regn = (
                "not_applicable"
                if dead
                else "surveyed"
                if surveyed
                else "survey"
                if "not_insured" in (pen, med)
                else "needs_correction"
                if 0.12 <= r2 < 0.14 and k < 3
                else "confirmed"
            )
            reg.append(
                _reg(
                    period,
                    pid,
                    "resident" if resident else "hukou",
                    t,
                    vcode,
                    "deceased" if dead else "alive",
                    pen,
                    med,
                    regn,
                )
            )
            if not dead and r1 >= quality[t] and k == 0 and not exempt:
                tasks.append(
                    (
                        "第1批",
                        SYNTH_PERIODS[0],
                        pid,
                        t,
                        vcode,
                        1,
                        False,
                        "accepted" if r2 < 0.5 else "issued",
                        None,
                        SYNTH_PERIODS[2] if r2 < 0.5 else None,
                    )
                )
            if dead and k >= 1:
                findings.append((period, "DECEASED_ACTIVE", pid, "enrollment.xlsx", None, ""))
            if 0.5 < r2 < 0.51:
                findings.append((period, "DUPLICATE_MEDICAL", pid, "enrollment.xlsx", None, ""))
            prev_q = min(0.99, quality[t] + 0.08 * (k - 1))
            if k >= 1 and prev_q <= r1 < q and not dead and not exempt:
                changes.append(
                    (period, pid, "新参保", "pension_status", "not_insured", "insured_local")
                )
    engine.register_df("registry_history", pd.DataFrame(reg, columns=REG_COLS))
    register_survey_tasks(engine, tasks)
    register_findings_history(engine, findings)
    register_changelog(engine, changes)
    pop = vil.assign(township_name=vil["township_code"].map(names)).rename(
        columns={"code": "village_code", "name": "village_name"}
    )[["township_code", "township_name", "village_code", "village_name"]]
    engine.register_df("population", pop)
