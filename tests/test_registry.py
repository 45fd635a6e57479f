"""Persons and the persistent registry: stable person_ids, corrections, change log, history, safety."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from canbao.core.catalog import scalar
from canbao.core.engine import DuckDBEngine, open_engine
from canbao.core.errors import PeriodAborted, UsageError
from canbao.registry import as_of, persons, tables
from canbao.registry.commit import commit_period
from tests.support.period import (
    DISTRICT,
    Period,
    config,
    context,
    enr_row,
    make_id,
    memory_engine,
    pop_row,
    register_inputs,
    run_period,
)

P1, P2, P3 = "2026-10-15", "2026-10-31", "2026-11-15"
ZHANG = make_id("1962-03-15", 11)
LIU = make_id("1958-07-02", 22)
CHEN = make_id("1990-12-01", 31)
ZHAO = make_id("1975-05-20", 41)


def _people() -> list[dict]:
    return [
        pop_row(1, "张建国", ZHANG, "1962-03-15", "1", household="H0001"),
        pop_row(2, "刘桂英", LIU, "1958-07-02", "2", household="H0001"),
        pop_row(3, "陈志强", CHEN, "1990-12-01", "1", household="H0002"),
        pop_row(4, "赵丽", ZHAO, "1975-05-20", "2", household="H0003"),
        pop_row(5, "王小芳", None, "2001-02-03", "2", household="H0003"),  # no ID at all
    ]


def _ids(engine: DuckDBEngine) -> dict[str, str]:
    """name → person_id of this period's persons."""
    return dict(engine.query_df("SELECT name, person_id FROM persons").itertuples(index=False))


def _changes(engine: DuckDBEngine, period: str) -> list[tuple]:
    df = engine.query_df(
        "SELECT r.name, c.change, c.field, c.old_value, c.new_value FROM changelog c "
        "JOIN registry r USING (person_id) WHERE c.period = CAST(? AS DATE) ORDER BY ALL",
        [period],
    )
    return [
        tuple(None if v is None or v != v else v for v in r) for r in df.itertuples(index=False)
    ]


def test_person_ids_follow_sorted_id_order_not_row_order(tmp_path: Path) -> None:
    e = memory_engine()
    run_period(e, Period(population=_people()), P1, tmp_path, exports=False)
    ids = _ids(e)
    # Numbered by canonical ID: LIU (1958) < ZHANG (1962) < ZHAO (1975) < CHEN (1990), ID-less last.
    assert ids == {"刘桂英": "P430302-0000001", "张建国": "P430302-0000002",
                   "赵丽": "P430302-0000003", "陈志强": "P430302-0000004",
                   "王小芳": "P430302-0000005"}  # fmt: skip
    shuffled = [dict(r, source_row=6 - r["source_row"]) for r in reversed(_people())]
    e2 = memory_engine()
    run_period(e2, Period(population=shuffled), P1, tmp_path / "b", exports=False)
    assert _ids(e2) == ids


def test_rerun_of_a_period_keeps_ids_and_replaces_its_rows(engine, tmp_path: Path) -> None:
    p = Period(population=_people(), enrollment=[enr_row(1, "张建国", ZHANG, "170", 1)])
    first = run_period(engine, p, P1, tmp_path / "a")
    ids = _ids(engine)
    again = run_period(engine, p, P1, tmp_path / "b")
    assert _ids(engine) == ids
    for name in first:
        assert first[name].read_bytes() == again[name].read_bytes(), name
    assert scalar(engine, "SELECT count(*) FROM registry_history") == 5
    assert scalar(engine, "SELECT count(*) FROM changelog") == 5  # 新增 ×5, once
    assert scalar(engine, "SELECT count(*) FROM person_ids") == 5
    assert scalar(engine, "SELECT count(*) FROM registry") == 5


def test_new_people_get_the_next_numbers_and_ids_never_move(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    first = _ids(engine)
    newborn = make_id("2026-10-20", 52)
    later = _people() + [
        pop_row(6, "张小宝", newborn, "2026-10-20", "1", household="H0001"),
        pop_row(7, "李明", make_id("1950-01-01", 13), "1950-01-01", "1"),
    ]
    run_period(engine, Period(population=later), P2, tmp_path, exports=False)
    ids = _ids(engine)
    assert {k: ids[k] for k in first} == first
    assert ids["李明"] == "P430302-0000006" and ids["张小宝"] == "P430302-0000007"


def test_hukou_wins_over_resident_and_both_rows_map_to_one_person(engine, tmp_path: Path) -> None:
    rows = [
        pop_row(1, "陈志强", CHEN, "1990-12-01", "1", source="resident", village="430302001002"),
        pop_row(1, "陈志强", CHEN, "1990-12-01", "1"),
    ]
    run_period(engine, Period(population=rows), P1, tmp_path, exports=False)
    got = engine.query_df("SELECT population, village_code, file FROM persons").iloc[0].tolist()
    assert got == ["hukou", "430302001001", "hukou.csv"]
    assert scalar(engine, "SELECT count(DISTINCT person_id) FROM person_records") == 1
    assert scalar(engine, "SELECT count(*) FROM person_records") == 2


def test_corrected_name_keeps_person_id_and_logs_a_change(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _ids(engine)["赵丽"]
    rows = _people()
    rows[3] = pop_row(4, "赵莉", ZHAO, "1975-05-20", "2", household="H0003")
    run_period(engine, Period(population=rows), P2, tmp_path, exports=False)
    assert _ids(engine)["赵莉"] == before
    assert _changes(engine, P2) == [("赵莉", "变更", "name", "赵丽", "赵莉")]


def test_corrected_id_keeps_person_id_and_records_the_new_id(engine, tmp_path: Path) -> None:
    wrong = CHEN[:14] + "039" + CHEN[17]  # 公安 corrected the 顺序码 in a later extract
    new_id = make_id("1990-12-01", 39)
    assert wrong != new_id
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _ids(engine)["陈志强"]
    rows = _people()
    rows[2] = pop_row(3, "陈志强", new_id, "1990-12-01", "1", household="H0002")
    run_period(engine, Period(population=rows), P2, tmp_path, exports=False)
    assert _ids(engine)["陈志强"] == before
    got = engine.query_df(
        "SELECT id_number, first_period FROM person_ids WHERE person_id = ? ORDER BY ALL", [before]
    )
    assert sorted(got["id_number"]) == sorted([CHEN, new_id])
    assert ("陈志强", "变更", "id_number", CHEN, new_id) in _changes(engine, P2)
    # A third period with the corrected ID finds the person by ID directly.
    run_period(engine, Period(population=rows), P3, tmp_path, exports=False)
    assert scalar(engine, "SELECT resolved_by FROM persons WHERE person_id = ?", [before]) == "id"


def test_homophone_name_and_new_id_together_match_by_pinyin(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _ids(engine)["赵丽"]
    rows = _people()
    rows[3] = pop_row(4, "赵莉", make_id("1975-05-20", 47), "1975-05-20", "2", household="H0003")
    run_period(engine, Period(population=rows), P2, tmp_path, exports=False)
    assert _ids(engine)["赵莉"] == before
    assert (
        scalar(engine, "SELECT resolved_by FROM persons WHERE person_id = ?", [before])
        == "corrected"
    )


def test_an_id_less_person_keeps_their_id_across_periods(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _ids(engine)["王小芳"]
    rows = [dict(r, source_row=r["source_row"] + 10) for r in _people()]
    run_period(engine, Period(population=rows), P2, tmp_path, exports=False)
    assert _ids(engine)["王小芳"] == before
    # ... and when 公安 later gives her an ID, she is still the same person.
    rows[4] = pop_row(15, "王小芳", make_id("2001-02-03", 62), "2001-02-03", "2", household="H0003")
    run_period(engine, Period(population=rows), P3, tmp_path, exports=False)
    assert _ids(engine)["王小芳"] == before


def test_ambiguous_correction_issues_a_new_person_id(engine, tmp_path: Path) -> None:
    twins = [
        pop_row(1, "李娜", make_id("2000-01-01", 2), "2000-01-01", "2", household="H9"),
        pop_row(2, "李娜", make_id("2000-01-01", 4), "2000-01-01", "2", household="H9"),
    ]
    run_period(engine, Period(population=twins), P1, tmp_path, exports=False)
    # Both IDs vanish and one new ID appears: two candidates, so no guess.
    run_period(
        engine,
        Period(
            population=[
                pop_row(1, "李娜", make_id("2000-01-01", 6), "2000-01-01", "2", household="H9")
            ]
        ),
        P2,
        tmp_path,
        exports=False,
    )
    assert list(_ids(engine).values()) == ["P430302-0000003"]


def test_duplicate_person_under_two_ids_and_in_two_households(engine, tmp_path: Path) -> None:
    rows = _people() + [
        # 公安 registered 张建国 twice: another ID, another 户号 of the same village.
        pop_row(6, "张建国", make_id("1962-03-15", 13), "1962-03-15", "1", household="H0077"),
        pop_row(7, "陈志强", CHEN, "1990-12-01", "1", household="H0009"),  # one ID, two 户号
        # Same name, birth date and sex in another village: a namesake, not a duplicate.
        pop_row(
            8,
            "赵丽",
            make_id("1975-05-20", 43),
            "1975-05-20",
            "2",
            household="H0100",
            village="430302002001",
        ),
    ]
    run_period(engine, Period(population=rows), P1, tmp_path, exports=False)
    df = engine.query_df(
        "SELECT p.name, f.detail FROM findings f JOIN persons p USING (person_id) "
        "WHERE f.finding = 'DUPLICATE_PERSON' ORDER BY p.person_id"
    )
    assert list(df["name"]) == ["张建国", "陈志强"]  # 张建国's group on his first row
    assert scalar(engine, "SELECT count(*) FROM persons WHERE name = '陈志强'") == 1
    assert all("hukou.csv#" in d for d in df["detail"])
    assert "hukou.csv#1 " in df["detail"][0] and "hukou.csv#6 " in df["detail"][0]
    assert not any(ZHANG in d for d in df["detail"])  # IDs are masked in details
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM findings WHERE finding = 'DUPLICATE_PERSON' AND source_row IS NULL",
        )
        == 2
    )


def test_changelog_over_three_periods(engine, tmp_path: Path) -> None:
    p1 = Period(population=_people(),
                enrollment=[enr_row(1, "张建国", ZHANG, "170", 1), enr_row(2, "张建国", ZHANG, "390", 1),
                            enr_row(3, "刘桂英", LIU, "390", 1)])  # fmt: skip
    run_period(engine, p1, P1, tmp_path, exports=False)
    assert {c[1] for c in _changes(engine, P1)} == {"新增"}
    rows = _people()
    rows[1] = pop_row(2, "刘桂英", LIU, "1958-07-02", "2", household="H0001", life="deceased")
    rows[3] = pop_row(4, "赵丽", ZHAO, "1975-05-20", "2", household="H0003", life="moved_out")
    del rows[4]  # 王小芳 leaves every extract
    p2 = Period(population=rows,
                enrollment=[enr_row(1, "张建国", ZHANG, "170", 4), enr_row(2, "张建国", ZHANG, "390", 1),
                            enr_row(3, "刘桂英", LIU, "390", 1), enr_row(4, "陈志强", CHEN, "390", 1)])  # fmt: skip
    run_period(engine, p2, P2, tmp_path, exports=False)
    assert _changes(engine, P2) == sorted(
        [
            ("刘桂英", "死亡", "life_status", "alive", "deceased"),
            ("刘桂英", "变更", "pension_status", "not_insured", "not_applicable"),
            ("刘桂英", "变更", "medical_status", "insured_local", "not_applicable"),
            ("刘桂英", "变更", "registration", "survey", "not_applicable"),
            ("张建国", "停保", "pension_status", "insured_local", "not_insured"),
            ("张建国", "变更", "registration", "confirmed", "survey"),
            ("王小芳", "取消", None, None, None),
            ("赵丽", "迁出", "life_status", "alive", "moved_out"),
            ("赵丽", "变更", "pension_status", "not_insured", "not_applicable"),
            ("赵丽", "变更", "medical_status", "not_insured", "not_applicable"),
            ("赵丽", "变更", "registration", "survey", "not_applicable"),
            ("陈志强", "新参保", "medical_status", "not_insured", "insured_local"),
        ]
    )
    # 王小芳 stays in the registry, unchanged, but not in the period's export.
    row = engine.query_df(
        "SELECT life_status, CAST(last_period AS VARCHAR) FROM registry WHERE name = '王小芳'"
    )
    assert row.iloc[0].tolist() == ["alive", P1]
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM registry_history WHERE period = ?",
            [dt.date(2026, 10, 31)],
        )
        == 4
    )
    # She comes back: 变更 (back after 取消), same person_id.
    run_period(engine, Period(population=_people()), P3, tmp_path, exports=False)
    back = [c for c in _changes(engine, P3) if c[0] == "王小芳"]
    assert back == [("王小芳", "变更", "population", None, "hukou")]
    assert _ids(engine)["王小芳"] == "P430302-0000005"


def test_survey_confirmation_is_logged(engine, tmp_path: Path) -> None:
    p = Period(population=_people())
    run_period(engine, p, P1, tmp_path, exports=False)
    pid = _ids(engine)["陈志强"]
    p.survey_results = [
        {
            "person_id": pid,
            "outcome": "not_insured",
            "exemption": None,
            "pension_status": None,
            "medical_status": None,
        }
    ]
    run_period(engine, p, P2, tmp_path, exports=False)
    assert ("陈志强", "调查确认", "registration", "survey", "surveyed") in _changes(engine, P2)


def test_as_of_export_is_the_period_export_byte_for_byte(tmp_path: Path) -> None:
    db = tmp_path / "registry.duckdb"
    e = open_engine("duckdb", db)
    out1 = run_period(e, Period(population=_people()), P1, tmp_path / "r1")
    rows = _people()
    rows[0] = pop_row(1, "张建国", ZHANG, "1962-03-15", "1", household="H0001", life="deceased")
    out2 = run_period(e, Period(population=rows), P2, tmp_path / "r2")
    assert out1["registry"].read_bytes() != out2["registry"].read_bytes()
    got = as_of.export_as_of(e, dt.date(2026, 10, 20), tmp_path / "asof")
    assert got.read_bytes() == out1["registry"].read_bytes()
    e.close()
    rc = as_of.export_as_of_cli(db, dt.date(2026, 12, 31), tmp_path / "asof2")
    assert rc == 0
    assert (tmp_path / "asof2" / "registry.csv").read_bytes() == out2["registry"].read_bytes()
    with pytest.raises(UsageError, match="export_no_period"):
        as_of.export_as_of_cli(db, dt.date(2026, 1, 1), tmp_path / "none")


def _snapshot(e: DuckDBEngine) -> dict[str, list]:
    out = {}
    for t in ("registry", "registry_history", "person_ids", "changelog", "findings_history"):
        out[t] = e.query_df(f"SELECT * FROM {t} ORDER BY ALL").astype(str).values.tolist()
    return out


@pytest.mark.parametrize("case", ["empty", "unusable_ids"])
def test_period_aborted_leaves_the_registry_untouched(engine, tmp_path: Path, case: str) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _snapshot(engine)
    if case == "empty":
        bad = Period(population=[])
    else:  # 2 of 5 rows without a usable ID: 40% > 30%
        rows = _people()
        rows[0] = pop_row(
            1,
            "张建国",
            None,
            "1962-03-15",
            "1",
            id_status="precision_lost",
            id_raw="4.30302196203E+17",
        )
        bad = Period(population=rows)
    register_inputs(engine, bad)
    with pytest.raises(PeriodAborted):
        persons.resolve_persons(engine, config(max_share=0.3), context(P2, tmp_path))
    assert _snapshot(engine) == before


def test_unusable_share_threshold_comes_from_params(engine, tmp_path: Path) -> None:
    run_period(
        engine,
        Period(population=_people()),
        P1,
        tmp_path,
        cfg=config(max_share=0.25),
        exports=False,
    )
    assert scalar(engine, "SELECT count(*) FROM persons") == 5  # 1 of 5 without ID = 20% ≤ 25%
    register_inputs(engine, Period(population=_people()))
    with pytest.raises(PeriodAborted, match="20.0%"):
        persons.resolve_persons(engine, config(max_share=0.10), context(P2, tmp_path))


def test_failed_commit_rolls_back_everything(engine, tmp_path: Path) -> None:
    run_period(engine, Period(population=_people()), P1, tmp_path, exports=False)
    before = _snapshot(engine)
    rows = _people()[:3]
    register_inputs(engine, Period(population=rows))
    ctx = context(P2, tmp_path)
    persons.resolve_persons(engine, config(), ctx)
    engine.execute("DROP TABLE IF EXISTS findings")  # classify never ran: the commit must fail
    engine.execute(
        "CREATE OR REPLACE TABLE person_status AS SELECT person_id, 'x' AS pension_status, "
        "'x' AS medical_status, 'x' AS registration FROM persons"
    )
    with pytest.raises(Exception, match="findings"):
        commit_period(engine, config(), ctx)
    assert _snapshot(engine) == before


def test_person_id_format(engine) -> None:
    assert DISTRICT == "430302"
    sql = persons.last_sequence_sql()
    tables.ensure_registry_tables(engine)
    engine.execute(
        "INSERT INTO person_ids VALUES ('P430302-0000041', NULL, DATE '2026-10-15'), "
        "('P430321-0000099', NULL, DATE '2026-10-15')"
    )
    assert scalar(engine, sql, ["P430302-%"]) == 41
