"""Linkage (stage 4) on hand-built canonical tables: exact, repaired, probabilistic,
unlinked, clerical review and reviewer decisions."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import opencc
import openpyxl
import pandas as pd
import pytest
from pypinyin import lazy_pinyin

from canbao.core.config import Config, LinkageConfig
from canbao.core.context import PeriodContext
from canbao.core.engine import DuckDBEngine
from canbao.linkage import link_period
from canbao.linkage.exact import link_exact
from canbao.linkage.inputs import build_link_rows
from canbao.linkage.repair import link_repaired

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


@pytest.fixture(scope="module")
def scenario():
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


def test_exact_and_repair_links_in_sql(scenario):
    eng = engine_with(scenario)
    counts = build_link_rows(eng)
    assert counts == {"enrollment": 1023, "national_match": 21, "students": 10}
    assert link_exact(eng) == {"exact_id": 1039, "upgrade15": 1}
    assert link_repaired(eng) == {"check_char": 1, "one_digit": 3, "transposition": 2}


@pytest.fixture(scope="module")
def linked(scenario, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("link")
    eng = engine_with(scenario)
    summary = link_period(eng, CFG, ctx_for(tmp))
    links = eng.query_df("SELECT * FROM links")
    return eng, summary, links, tmp


def test_every_row_linked_as_expected(scenario, linked):
    _, summary, links, _ = linked
    assert len(links) == len(scenario["expect"])
    got = {
        (r.source, r.source_row): (
            r.person_id if isinstance(r.person_id, str) else None,
            r.method,
            r.repair if isinstance(r.repair, str) else None,
        )
        for r in links.itertuples()
    }
    wrong = {k: (got[k], v) for k, v in scenario["expect"].items() if got[k] != v}
    assert not wrong
    assert summary["probabilistic"] == 4
    assert list(links.columns) == [
        "source",
        "file",
        "source_row",
        "member_no",
        "person_id",
        "method",
        "match_probability",
        "repair",
    ]


def test_probabilities_and_order(linked):
    _, _, links, _ = linked
    assert (
        links.loc[links.method.isin(["exact_id", "repaired_id"]), "match_probability"] == 1.0
    ).all()
    assert links.loc[links.method == "unlinked", "match_probability"].isna().all()
    prob = links.loc[links.method == "probabilistic", "match_probability"]
    assert (prob >= CFG.linkage.match_threshold).all()
    key = links[["source", "file", "source_row"]]
    assert key.equals(key.sort_values(["source", "file", "source_row"]).reset_index(drop=True))


def test_model_saved_and_deterministic(scenario, linked, tmp_path):
    _, _, links, tmp = linked
    model1 = (tmp / "reports/430302/2026-06-30/linkage/model.json").read_bytes()
    eng2 = engine_with(scenario)
    link_period(eng2, CFG, ctx_for(tmp_path))
    assert eng2.query_df("SELECT * FROM links").equals(links)
    assert (tmp_path / "reports/430302/2026-06-30/linkage/model.json").read_bytes() == model1
    wb1 = (tmp / "reports/430302/2026-06-30/linkage/clerical_review.xlsx").read_bytes()
    wb2 = (tmp_path / "reports/430302/2026-06-30/linkage/clerical_review.xlsx").read_bytes()
    assert wb1 == wb2


def test_review_band_workbook_and_decisions(scenario, tmp_path):
    """A missing-ID row with a homophone name and one birth field off lands in review;
    a reviewer's 是 links it on the next run, keyed on content not row number."""
    sc = dict(scenario)
    P = sc["persons"].to_dict("records")
    target = next(p for p in P[1200:] if "伟" in p["name"])
    extra = row(
        "enrollment.xlsx",
        len(sc["enrollment"]) + 1,
        target,
        id_raw=None,
        id_number=None,
        id_status="missing",
        name=target["name"].replace("伟", "维"),
        birth_date=target["birth_date"].replace(day=1 if target["birth_date"].day != 1 else 2),
    )
    extra["member_no"] = "M999999"
    sc["enrollment"] = pd.concat([sc["enrollment"], pd.DataFrame([extra])], ignore_index=True)
    # Low thresholds so the pair falls in the band whatever the exact trained weights.
    cfg = Config(
        district_code="430302",
        linkage=LinkageConfig(
            u_max_pairs=2e5, em_max_pairs=2e5, match_threshold=0.999999, review_threshold=0.001
        ),
    )
    ctx = ctx_for(tmp_path)
    eng = engine_with(sc)
    link_period(eng, cfg, ctx)
    rq = eng.query_df("SELECT * FROM review_queue WHERE member_no = 'M999999'")
    assert len(rq) >= 1 and rq.loc[0, "person_id"] == target["person_id"]
    n_row = int(extra["source_row"])
    got = eng.query_df(f"SELECT * FROM links WHERE source='enrollment' AND source_row={n_row}")
    assert got.loc[0, "method"] == "unlinked"

    wb_path = ctx.out_dir / "linkage" / "clerical_review.xlsx"
    wb = openpyxl.load_workbook(wb_path)
    ws = wb["人工核对"]
    header = [c.value for c in ws[1]]
    text = "\n".join(str(c.value) for r in ws.iter_rows() for c in r if c.value is not None)
    assert target["id_number"] not in text  # masked
    assert target["id_number"][:6] + "********" + target["id_number"][-4:] in text
    assert any(dv.formula1 == '"是,否"' for dv in ws.data_validations.dataValidation)
    why = header.index("依据(各项权重)")
    mem = header.index("个人编号")
    line = next(r for r in ws.iter_rows(min_row=2) if r[mem].value == "M999999")
    assert "同音" in line[why].value and "出生日期" in line[why].value
    line[header.index("判定")].value = "是"
    ddir = ctx.district_dir / "review" / "decisions"
    ddir.mkdir(parents=True)
    wb.save(ddir / "核对结果.xlsx")

    # Next run: the same row moved to another row number still gets the decision.
    sc2 = dict(sc)
    enr = sc["enrollment"]
    moved = pd.concat([enr.iloc[[-1]], enr.iloc[:-1]], ignore_index=True)
    moved["source_row"] = range(1, len(moved) + 1)
    sc2["enrollment"] = moved
    eng2 = engine_with(sc2)
    summary = link_period(eng2, cfg, ctx)
    assert summary["decisions_applied"] >= 1
    got = eng2.query_df("SELECT * FROM links WHERE member_no = 'M999999'")
    assert got.loc[0, "method"] == "probabilistic"
    assert got.loc[0, "person_id"] == target["person_id"]
    assert eng2.scalar("SELECT count(*) FROM review_queue WHERE member_no = 'M999999'") == 0


def test_charts_reload_the_saved_model(linked):
    from canbao.linkage import load_linker
    from canbao.linkage import model_charts as charts

    eng, _, _, tmp = linked
    ctx = ctx_for(tmp)
    linker = load_linker(eng, CFG, ctx)
    model = linker.misc.save_model_to_json()
    assert [c["output_column_name"] for c in model["comparisons"]] == [
        "name",
        "birth_date",
        "sex",
        "id_hint",
    ]
    sample = charts.sample_links(eng, CFG, per_band=2)
    assert set(sample["band"]) <= {"accepted", "review", "rejected"} and len(sample) >= 2
    page = charts.charts_html(eng, CFG, ctx)
    assert page.count("<h3>") == 4 and page.count("vega-embed") >= 3
    assert json.dumps("同音(拼音一致)")[1:-1] in page  # level labels reach the charts
    assert '<td class="txt">拼音+出生年</td>' in page  # blocking-rule counts table
    assert "新增比较对数" in page and "marginal_comparison_count" not in page
    ids = eng.query_df("SELECT id_number FROM persons")["id_number"]
    assert not any(i in page for i in ids)


def test_exact_link_through_a_second_population_id():
    """A person merged from two population rows under two IDs is found under either;
    an ID held by two persons links to neither."""
    eng = DuckDBEngine()
    a, b = make_id(dt.date(1980, 1, 2), 11), make_id(dt.date(1980, 1, 2), 13)
    c, shared = make_id(dt.date(1990, 5, 6), 21), make_id(dt.date(1990, 5, 6), 23)
    persons = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "id_number": [a, c],
            **{k: [None, None] for k in ("name", "name_simp", "name_pinyin", "sex")},
            "birth_date": [None, None],
        }
    )
    records = pd.DataFrame(
        {
            "person_id": ["P1", "P1", "P2", "P1", "P2"],
            "file": "hukou.csv",
            "source_row": [1, 2, 3, 4, 5],
            "source": "hukou",
            "id_number": [a, b, c, shared, shared],
        }
    )
    enr = pd.DataFrame(
        [
            row(
                "enrollment.xlsx",
                i + 1,
                {"id_number": x, "name": "张三", "sex": "1", "birth_date": dt.date(1980, 1, 2)},
            )
            for i, x in enumerate([a, b, c, shared])
        ]
    )
    enr["member_no"] = ["M1", "M2", "M3", "M4"]
    for name, df in (("persons", persons), ("person_records", records), ("enrollment", enr)):
        eng.register_df(name, df)
    build_link_rows(eng)
    assert link_exact(eng) == {"exact_id": 3, "upgrade15": 0}
    got = eng.query_df("SELECT rid, person_id FROM link_settled ORDER BY rid")
    assert list(got["person_id"]) == ["P1", "P1", "P2"]
