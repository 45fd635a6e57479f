"""Demo returns: roster layout, determinism, and the accepted and rejected rows the import
must reproduce."""

from __future__ import annotations

import datetime as dt

import openpyxl

from canbao import survey
from canbao.demo.returns import write_demo_returns
from canbao.survey.rosters import ROSTER_COLUMNS
from tests.support.registry_tables import PERSON_COLUMNS, STATUS_COLUMNS
from tests.support.survey import DISTRICT, build_registry, make_cfg, make_ctx

P1, P2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)


def _truth(tmp_path):
    reg, pop = build_registry()
    truth = tmp_path / "truth" / DISTRICT / P1.isoformat()
    truth.mkdir(parents=True)
    persons = reg.assign(
        person_key=reg["person_id"].str.replace("P430302-", "K"),
        birth_date=reg["birth_date"].map(lambda d: d.isoformat()),
    )
    # The truth persons.csv layout: the registry's columns, keyed by person_key, plus 户号.
    columns = ["person_key", *PERSON_COLUMNS, "household_no", *STATUS_COLUMNS]
    persons[columns].to_csv(truth / "persons.csv", index=False)
    return reg, pop, truth


def test_demo_returns_import_as_promised(engine, tmp_path):
    reg, pop, truth = _truth(tmp_path)
    engine.register_df("registry", reg)
    engine.execute("ALTER TABLE registry ALTER birth_date TYPE DATE")
    engine.register_df("population", pop)
    cfg = make_cfg()
    survey.issue_rosters(engine, cfg, make_ctx(tmp_path, P1))
    ctx2 = make_ctx(tmp_path, P2)
    expected = write_demo_returns(ctx2.period_dir, truth, DISTRICT, seed=7)
    files = sorted((ctx2.period_dir / "survey_returns").glob("*.xlsx"))
    assert [f.name for f in files] == ["430302001_雨湖路街道.xlsx", "430302100_鹤岭镇.xlsx"]
    ws = openpyxl.load_workbook(files[0])["花名册"]
    assert [c.value for c in ws[3]] == [c.header for c in ROSTER_COLUMNS]
    res = survey.import_returns(engine, cfg, ctx2, commit=True)
    got = engine.query_df("SELECT person_id, outcome FROM survey_results")
    got = dict(zip(got["person_id"].str.replace("P430302-", "K"), got["outcome"], strict=True))
    assert got == expected.accepted
    rej = engine.query_df("SELECT file, source_row, person_id FROM survey_rejects")
    got_rej = sorted(
        zip(
            rej["file"],
            rej["source_row"].astype(int),
            rej["person_id"].str.replace("P430302-", "K"),
            strict=True,
        )
    )
    assert got_rej == sorted(expected.rejected) and len(got_rej) == res["rejected"]
    n_survey = int((reg["registration"] == "survey").sum())
    assert res["rows"] == n_survey and res["rejected"] + res["not_returned"] > 0
    engine.close()


def test_demo_returns_deterministic(tmp_path):
    _, _, truth = _truth(tmp_path)
    out = []
    for k, seed in enumerate((7, 7, 8)):
        pdir = tmp_path / str(k) / P2.isoformat()
        res = write_demo_returns(pdir, truth, DISTRICT, seed=seed)
        out.append(
            (res, {p.name: p.read_bytes() for p in sorted((pdir / "survey_returns").glob("*"))})
        )
    assert out[0] == out[1] and out[0][0].rejected
    assert out[0][1] != out[2][1]
