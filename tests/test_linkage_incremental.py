"""Incremental linkage (issue 7): a later period reuses the earlier model and the
remembered Splink results, and gives the links a prediction of every row would give."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from canbao.core.config import config_from_dict
from canbao.core.context import PeriodContext, find_periods, period_context
from canbao.core.engine import DuckDBEngine
from canbao.demo import generate
from canbao.linkage import link_period
from canbao.linkage import model as mdl
from canbao.run.pipeline import run_period
from tests.support.linkage import CFG, build_scenario, canon_name, engine_with, make_id

P1, P2 = dt.date(2026, 6, 30), dt.date(2026, 7, 15)


def ctx(tmp: Path, period: dt.date) -> PeriodContext:
    return PeriodContext("430302", period, tmp / "raw", tmp / "reports")


def links_of(eng: DuckDBEngine) -> pd.DataFrame:
    return eng.query_df("SELECT * FROM links ORDER BY source, file, source_row")


@pytest.fixture(scope="module")
def scenario_fixture():
    """The linkage tests' hand-built district (persons and rows with known answers)."""
    return build_scenario()


@pytest.fixture(scope="module")
def two_periods(scenario_fixture, tmp_path_factory):
    """Period 1 trains; period 2 changes one linked person's name and adds a namesake
    twin of another, then runs incrementally and, on a copy, with memory emptied."""
    tmp = tmp_path_factory.mktemp("incr")
    scenario = scenario_fixture
    eng = engine_with(scenario)
    s1 = link_period(eng, CFG, ctx(tmp, P1))
    links1 = links_of(eng)
    prob = links1[links1.method == "probabilistic"].sort_values(["source", "source_row"])
    assert len(prob) >= 2
    persons = scenario["persons"].copy()
    renamed, twinned = prob.person_id.iloc[0], prob.person_id.iloc[1]
    i = persons.index[persons.person_id == renamed][0]
    new_name = "欧阳" + persons.at[i, "name"]
    for k, v in canon_name(new_name).items():
        persons.at[i, k] = v
    twin = persons[persons.person_id == twinned].iloc[0].to_dict()
    twin.update(person_id="P430302-9999999", id_number=make_id(twin["birth_date"], 999, "430321"))
    persons = pd.concat([persons, pd.DataFrame([twin])], ignore_index=True)
    eng.register_df("persons", persons)
    eng.execute("ALTER TABLE persons ALTER birth_date TYPE DATE")
    eng.execute("CREATE TABLE memory_before AS SELECT * FROM link_memory")
    s2 = link_period(eng, CFG, ctx(tmp, P2))
    links2 = links_of(eng)
    # The same period with nothing remembered: every unsettled row through Splink.
    eng.execute("DELETE FROM link_memory")
    s2_all = link_period(eng, CFG, ctx(tmp, P2))
    return {
        "tmp": tmp, "s1": s1, "s2": s2, "s2_all": s2_all, "links1": links1,
        "links2": links2, "links2_all": links_of(eng), "renamed": renamed, "twinned": twinned,
        "eng": eng,
    }  # fmt: skip


def test_second_period_reuses_the_model_without_em(two_periods):
    tmp = two_periods["tmp"]
    m1 = tmp / "reports/430302" / P1.isoformat() / "linkage"
    m2 = tmp / "reports/430302" / P2.isoformat() / "linkage"
    assert two_periods["s1"]["model_reused"] == 0
    assert two_periods["s2"]["model_reused"] == 1
    assert (m2 / "model.json").read_bytes() == (m1 / "model.json").read_bytes()
    assert (m2 / "name_tf.csv").read_bytes() == (m1 / "name_tf.csv").read_bytes()


def test_remembered_rows_skip_splink_and_changed_persons_are_rechecked(two_periods):
    s1, s2 = two_periods["s1"], two_periods["s2"]
    n_prob = s1["probabilistic"]
    # The renamed person's row is not a hit (person key changed); the twin's row is a
    # hit sent back to Splink; the others are reused.
    assert s2["memory_reused"] == n_prob - 2
    assert s2["memory_rechecked"] == 1
    assert s2["splink_rows"] == s1["splink_rows"] - s2["memory_reused"]


def test_incremental_links_equal_a_prediction_of_every_row(two_periods):
    pd.testing.assert_frame_equal(two_periods["links2"], two_periods["links2_all"])
    l2 = two_periods["links2"].set_index(["source", "source_row"])
    l1 = two_periods["links1"].set_index(["source", "source_row"])
    twin_rows = l1.index[l1.person_id == two_periods["twinned"]]
    # Two equally good candidates: no longer accepted automatically.
    assert (l2.loc[twin_rows, "method"] != "probabilistic").any()


def test_memory_holds_only_accepted_splink_results(two_periods):
    eng = two_periods["eng"]
    mem_df = eng.query_df("SELECT * FROM link_memory")
    assert set(mem_df.method) == {"probabilistic"}
    assert mem_df.row_key.is_unique
    assert (mem_df.match_probability >= CFG.linkage.match_threshold).all()
    # Only the last run's results and persons are kept (bounded by one period).
    assert set(pd.to_datetime(mem_df.period).dt.date) == {P2}
    snap = eng.query_df("SELECT DISTINCT period FROM link_memory_persons")
    assert list(pd.to_datetime(snap.period).dt.date) == [P2]


def test_saved_model_scores_as_the_trained_one(two_periods, scenario_fixture, tmp_path):
    """Loading model.json (+ its name frequencies) gives the probabilities of training."""
    eng = engine_with(scenario_fixture)
    c = ctx(tmp_path, P1)
    link_period(eng, CFG, c)
    first = eng.query_df(f"SELECT * FROM {mdl.CANDIDATES_TABLE} ORDER BY rid, person_id")
    mdl.predict(eng, c.out_dir / "linkage" / "model.json")
    again = eng.query_df(f"SELECT * FROM {mdl.CANDIDATES_TABLE} ORDER BY rid, person_id")
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == two_periods["s1"]["blocked_pairs"]


# ------------------------------------------------------------------ the demo, 3 periods


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))
    }


@pytest.mark.slow
def test_demo_incremental_equals_full_relink(tmp_path):
    generate("430302", 800, 7, tmp_path / "raw", tmp_path / "truth", 3)
    periods = find_periods(tmp_path / "raw" / "430302")
    runs = {}
    for mode in ("incremental", "full", "nomemory"):
        cfg = config_from_dict(
            {"district_code": "430302", "linkage": {"full_relink": mode == "full"}}
        )
        runs[mode] = []
        for p in periods:
            c = period_context(p, tmp_path / mode)
            if mode == "nomemory" and c.registry_path.exists():
                e = DuckDBEngine(c.registry_path)
                e.execute("DELETE FROM link_memory")
                e.close()
            res = run_period(cfg, c)
            e = DuckDBEngine(c.registry_path, read_only=True)
            runs[mode].append((res["link"], links_of(e), c.exports_dir))
            e.close()
    assert runs["incremental"][-1][0]["memory_reused"] > 0
    for inc, full, nomem in zip(runs["incremental"], runs["full"], runs["nomemory"], strict=True):
        # Same model, every row predicted: byte-identical.
        pd.testing.assert_frame_equal(inc[1], nomem[1])
        assert _digests(inc[2]) == _digests(nomem[2])
        # full_relink retrains EM each period: the same links, probabilities of the
        # probabilistic ones within 1e-4, and identical registry and findings.
        key = ["person_id", "method", "repair", "source", "file", "source_row", "member_no"]
        pd.testing.assert_frame_equal(inc[1][key], full[1][key])
        diff = (inc[1].match_probability - full[1].match_probability).abs().max()
        assert diff < 1e-4
        for name in ("registry.csv", "findings.csv", "reconciliation.csv", "rejects.csv"):
            assert _digests(inc[2])[name] == _digests(full[2])[name]
