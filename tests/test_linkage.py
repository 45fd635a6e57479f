"""Linkage (stage 4) on hand-built canonical tables: exact, repaired, probabilistic,
unlinked, clerical review and reviewer decisions."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest

from canbao.core.config import Config, LinkageConfig
from canbao.linkage import link_period
from canbao.linkage.exact import link_exact
from canbao.linkage.inputs import build_link_rows
from canbao.linkage.repair import link_repaired
from tests.support.linkage import CFG, build_scenario, ctx_for, engine_with, make_id, row


@pytest.fixture(scope="module")
def scenario() -> dict:
    """Persons plus enrollment/national_match/students rows with known answers."""
    return build_scenario()


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


def test_exact_link_through_a_second_population_id(engine):
    """A person merged from two population rows under two IDs is found under either;
    an ID held by two persons links to neither."""
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
        engine.register_df(name, df)
    build_link_rows(engine)
    assert link_exact(engine) == {"exact_id": 3, "upgrade15": 0}
    got = engine.query_df("SELECT rid, person_id FROM link_settled ORDER BY rid")
    assert list(got["person_id"]) == ["P1", "P1", "P2"]
