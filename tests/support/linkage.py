"""A hand-built district for the linkage tests: 1,500 persons and enrollment,
national_match and students rows whose right link (or none) is known, with the
damage a clerk's keyboard does (one digit, swapped digits, homophones, 繁体)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import opencc
import pandas as pd
from pypinyin import lazy_pinyin

from canbao.core.config import Config, LinkageConfig
from canbao.core.context import PeriodContext
from canbao.core.engine import DuckDBEngine

W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
T2S = opencc.OpenCC("t2s")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建文辉力斌宇浩凯俊帆鑫波宁亮林琳晨欣怡雪梅海燕春红云飞鹏志国庆德福寿"


def check_char(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, W, strict=True)) % 11]


def make_id(birth: dt.date, seq: int, region: str = "430302") -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def canon_name(name: str | None) -> dict:
    if not name:
        return {"name": None, "name_simp": None, "name_pinyin": None}
    simp = T2S.convert(name)
    return {"name": name, "name_simp": simp, "name_pinyin": "".join(lazy_pinyin(simp))}


def make_persons(n: int = 1500, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 80 * 365))
        seq = rng.randrange(1, 999)
        pid = make_id(birth, seq)
        if pid in seen:
            continue
        seen.add(pid)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        rows.append(
            {
                "id_number": pid,
                **canon_name(name),
                "sex": "1" if seq % 2 else "2",
                "birth_date": birth,
                "township_code": "430302100",
                "village_code": f"430302100{rng.randrange(1, 20):03d}",
                "household_no": f"H{rng.randrange(1, 900):05d}",
                "life_status": "alive",
            }
        )
    df = pd.DataFrame(rows).sort_values("id_number").reset_index(drop=True)
    df.insert(0, "person_id", [f"P430302-{i + 1:07d}" for i in range(len(df))])
    return df


def row(file: str, n: int, p: dict | None, **over) -> dict:
    """A canonical link row for person ``p`` (or nobody), with overrides."""
    base = {
        "file": file,
        "source_row": n,
        "id_raw": p["id_number"] if p else None,
        "id_number": p["id_number"] if p else None,
        "id_status": "valid" if p else "missing",
        "id_reason": None,
        "id_candidate": None,
        "name_raw": p["name"] if p else None,
        **canon_name(p["name"] if p else None),
        "sex": p["sex"] if p else None,
        "birth_date": p["birth_date"] if p else None,
    }
    if "name" in over:
        base.update(canon_name(over.pop("name")))
        base["name_raw"] = base["name"]
    base.update(over)
    return base


def bad_id(cand: str, reason: str = "check") -> dict:
    return {
        "id_raw": cand,
        "id_number": None,
        "id_status": "invalid",
        "id_reason": reason,
        "id_candidate": cand,
    }


def one_digit(pid: str, pos: int) -> str:
    d = str((int(pid[pos]) + 3) % 10)
    return pid[:pos] + d + pid[pos + 1 :]


def swap(pid: str, pos: int) -> str:
    assert pid[pos] != pid[pos + 1]
    return pid[:pos] + pid[pos + 1] + pid[pos] + pid[pos + 2 :]


def first_with(persons: pd.DataFrame, pred, skip: set[int]) -> int:
    for i, p in persons.iterrows():
        if i not in skip and pred(p):
            skip.add(i)
            return i
    raise AssertionError("no person fits")


def build_scenario() -> dict:
    """Persons plus enrollment/national_match/students rows with known answers."""
    persons = make_persons()
    P = persons.to_dict("records")
    used: set[int] = set()
    enr, expect = [], {}  # (source, row) -> (person_id or None, method, repair)

    def add(source, rows, p, method, repair=None, **over):
        n = len(rows) + 1
        rows.append(row(f"{source}.xlsx", n, p, **over))
        expect[(source, n)] = (
            p["person_id"] if p and method != "unlinked" else None,
            method,
            repair,
        )

    def add_repair(source, rows, p, repair, cand, **over):
        """A row carrying ``cand``, an invalid form of p's ID that ``repair`` should fix."""
        add(source, rows, p, "repaired_id", repair, **bad_id(cand), **over)

    # 1000 clean rows: exact.
    for i in range(1000):
        used.add(i)
        add("enrollment", enr, P[i], "exact_id")
    # Second scheme row for some people (one person, two rows).
    for i in range(0, 40, 4):
        add("enrollment", enr, P[i], "exact_id", member_no=f"M2{i:05d}")
    # Repairs.
    i = first_with(persons, lambda p: True, used)
    add_repair("enrollment", enr, P[i], "one_digit", one_digit(P[i]["id_number"], 15))
    i = first_with(persons, lambda p: p.id_number[9] != p.id_number[10], used)
    add_repair("enrollment", enr, P[i], "transposition", swap(P[i]["id_number"], 9))
    i = first_with(persons, lambda p: True, used)
    wrong = "0" if P[i]["id_number"][17] != "0" else "1"
    add_repair("enrollment", enr, P[i], "check_char", P[i]["id_number"][:17] + wrong)
    # 15-digit upgraded.
    i = first_with(persons, lambda p: p.birth_date.year >= 1950, used)
    pid = P[i]["id_number"]
    add(
        "enrollment",
        enr,
        P[i],
        "repaired_id",
        "upgrade15",
        id_raw=pid[:6] + pid[8:17],
        id_status="upgraded",
    )
    # 繁体 name with a one-digit error: names agree after t2s.
    i = first_with(
        persons, lambda p: any(c in p["name"] for c in "刘陈杨黄赵吴郑谢韩冯邓萧许龙"), used
    )
    trad = opencc.OpenCC("s2t").convert(P[i]["name"])
    assert trad != P[i]["name"]
    add_repair("enrollment", enr, P[i], "one_digit", one_digit(P[i]["id_number"], 3), name=trad)
    # 同音字 (王伟 → 王维) with a transposition: names agree by pinyin.
    i = first_with(
        persons, lambda p: "伟" in p["name"] and p.id_number[12] != p.id_number[13], used
    )
    homophone = P[i]["name"].replace("伟", "维")
    add_repair(
        "enrollment", enr, P[i], "transposition", swap(P[i]["id_number"], 12), name=homophone
    )
    # One-digit error but a different person's name: no repair; nobody fits → unlinked.
    i = first_with(persons, lambda p: True, used)
    add(
        "enrollment",
        enr,
        P[i],
        "unlinked",
        name="欧阳震霆",
        birth_date=dt.date(1931, 3, 3),
        sex=None,
        **bad_id(one_digit(P[i]["id_number"], 16)),
    )
    # Missing ID, exact name/sex/birth: probabilistic.
    prob_people = []
    for _ in range(3):
        i = first_with(persons, lambda p: True, used)
        prob_people.append(i)
        add(
            "enrollment",
            enr,
            P[i],
            "probabilistic",
            id_raw=None,
            id_number=None,
            id_status="missing",
        )
    # Precision lost: float mantissa of the ID plus name and birth.
    i = first_with(persons, lambda p: True, used)
    pid = P[i]["id_number"]
    add(
        "enrollment",
        enr,
        P[i],
        "probabilistic",
        id_raw=f"{pid[0]}.{pid[1:15]}E+17",
        id_number=None,
        id_status="precision_lost",
    )
    # A person in no population list: valid ID nobody has.
    stranger = {
        "id_number": make_id(dt.date(1977, 7, 7), 123, "110105"),
        "person_id": None,
        **canon_name("诸葛亮"),
        "sex": "1",
        "birth_date": dt.date(1977, 7, 7),
    }
    add("enrollment", enr, stranger, "unlinked")
    # A namesake outside the population: same name, sex and birth date as a local
    # person, a valid ID differing only in the order digits. Must stay unlinked.
    twin = P[500]
    seq = int(twin["id_number"][14:17])
    namesake = {
        **twin,
        "person_id": None,
        "id_number": make_id(twin["birth_date"], seq + 2 if seq < 990 else seq - 2),
    }
    add("enrollment", enr, namesake, "unlinked")
    enrollment = pd.DataFrame(enr)
    enrollment["member_no"] = [r.get("member_no") or f"M{k:06d}" for k, r in enumerate(enr)]

    nm: list[dict] = []
    for k in range(1, 20):  # exact rows
        add("national_match", nm, P[k], "exact_id")
    i = first_with(persons, lambda p: True, used)
    add_repair("national_match", nm, P[i], "one_digit", one_digit(P[i]["id_number"], 14))
    # No birth date in national_match: a homophone name is not enough for a repair.
    i = first_with(persons, lambda p: "伟" in p["name"], used)
    nm_homophone = i
    add(
        "national_match",
        nm,
        P[i],
        "unlinked",
        name=P[i]["name"].replace("伟", "维"),
        **bad_id(one_digit(P[i]["id_number"], 14)),
    )
    national = pd.DataFrame(nm).drop(columns=["sex", "birth_date"])
    national["scheme"] = "170"

    st: list[dict] = []
    for k in range(30, 40):
        add("students", st, P[k], "exact_id")
    students = pd.DataFrame(st).drop(columns=["sex", "birth_date"])
    students["school"] = "湘潭市第一中学"
    return {
        "persons": persons,
        "enrollment": enrollment,
        "national_match": national,
        "students": students,
        "expect": expect,
        "nm_homophone": nm_homophone,
    }


def engine_with(sc: dict) -> DuckDBEngine:
    eng = DuckDBEngine()
    for name in ("persons", "enrollment", "national_match", "students"):
        eng.register_df(name, sc[name])
    eng.execute("ALTER TABLE persons ALTER birth_date TYPE DATE")
    eng.execute("ALTER TABLE enrollment ALTER birth_date TYPE DATE")
    return eng


def ctx_for(tmp: Path) -> PeriodContext:
    return PeriodContext("430302", dt.date(2026, 6, 30), tmp / "raw", tmp / "reports")


CFG = Config(district_code="430302", linkage=LinkageConfig(u_max_pairs=2e5, em_max_pairs=2e5))
