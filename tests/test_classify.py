"""Coverage, registration and findings: one small named case per contract §7 rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from canbao.core.catalog import scalar
from tests.support.period import (
    DISTRICT,
    Period,
    config,
    employer_row,
    enr_row,
    findings_of,
    make_id,
    memory_engine,
    nm_row,
    pop_row,
    run_period,
    status_of,
    student_row,
)

CLASSIFY_CFG = config(max_share=1.0)
OUT_OF_SCOPE = ("deceased", "moved_out", "cancelled")
REF = "2026-10-31"  # the period's extract date = reference date

# People of 云塘街道某社区 (ids from their birth dates).
ZHANG = make_id("1962-03-15", 11)  # 张建国, male
LIU = make_id("1958-07-02", 22)  # 刘桂英, female
CHEN = make_id("1990-12-01", 31)  # 陈志强
ZHAO = make_id("1975-05-20", 41)  # 赵丽
SUN = make_id("1984-09-09", 51)  # 孙伟
ZHOU = make_id("1996-04-30", 61)  # 周敏


Status = dict[str, tuple[str, str, str]]
Results = dict[str, tuple[Status, list[tuple]]]
CASES: dict[str, Callable[[], Period]] = {}


def case(fn: Callable[[], Period]) -> Callable[[], Period]:
    """Register a named case; all cases run together in one period (see ``results``)."""
    CASES[fn.__name__] = fn
    return fn


def _recheck(body17: str) -> str:
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(c) * x for c, x in zip(body17, w, strict=True)) % 11]


def _isolate(p: Period, k: int) -> Period:
    """Case ``k`` made disjoint from the others: own ID region, files (``cKK/``), 户号, village."""
    region, tag = f"43{k:04d}", f"c{k:02d}/"

    def move(i: str | None) -> str | None:
        return None if i is None else _recheck(region + i[6:17])

    def rows(items: list[dict]) -> list[dict]:
        out = []
        for r in items:
            r = dict(r, file=tag + r["file"])
            if "id_number" in r:
                raw = r.get("id_raw")
                if raw is not None and raw == r["id_number"]:
                    raw = move(raw)
                elif raw is not None and raw.startswith(DISTRICT):
                    raw = region + raw[6:]
                r.update(id_number=move(r["id_number"]), id_raw=raw)
            if r.get("household_no"):
                r["household_no"] = tag + r["household_no"]
            if r.get("village_code"):
                r["village_code"] = r["village_code"][:9] + f"{k:03d}"
            out.append(r)
        return out

    return Period(
        population=rows(p.population), enrollment=rows(p.enrollment),
        national_match=rows(p.national_match), students=rows(p.students),
        employers=rows(p.employers) if p.employers else None,
        links={(tag + f, r): (move(t), m, rep) for (f, r), (t, m, rep) in p.links.items()},
    )  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """Every registered case in one pipeline run; per case its statuses and findings."""
    parts = [_isolate(fn(), k) for k, fn in enumerate(CASES.values(), start=1)]
    merged = Period(
        population=[r for p in parts for r in p.population],
        enrollment=[r for p in parts for r in p.enrollment],
        national_match=[r for p in parts for r in p.national_match],
        students=[r for p in parts for r in p.students],
        employers=[r for p in parts for r in (p.employers or [])],
        links={k: v for p in parts for k, v in p.links.items()},
    )
    e = memory_engine()
    # Hand-made cases (several with no usable ID on purpose) test classification, not the
    # per-file safety abort, which has its own tests: the threshold is lifted here.
    run_period(e, merged, REF, tmp_path_factory.mktemp("classify"), cfg=CLASSIFY_CFG, exports=False)
    out: Results = {}
    for k, name in enumerate(CASES, start=1):
        tag = f"c{k:02d}/"
        st = e.query_df(
            "SELECT p.name, s.pension_status, s.medical_status, s.registration "
            "FROM persons p JOIN person_status s USING (person_id) WHERE p.file LIKE ? || '%'",
            [tag],
        )
        fd = e.query_df(
            "SELECT f.finding, p.name, f.file, f.source_row FROM findings f "
            "LEFT JOIN persons p USING (person_id) "
            "WHERE coalesce(f.file, p.file) LIKE ? || '%' ORDER BY ALL",
            [tag],
        )
        status = {r[0]: (r[1], r[2], r[3]) for r in st.itertuples(index=False)}
        found = [
            (r[0], None if pd.isna(r[1]) else r[1],
             None if pd.isna(r[2]) else r[2].removeprefix(tag),
             None if pd.isna(r[3]) else int(r[3]))
            for r in fd.itertuples(index=False)
        ]  # fmt: skip
        out[name] = (status, found)
    return out


def _run(tmp_path: Path, p: Period) -> tuple[dict, list]:
    e = memory_engine()
    run_period(e, p, REF, tmp_path, cfg=CLASSIFY_CFG, exports=False)
    return status_of(e), findings_of(e)


def _codes(findings: list, name: str | None = None) -> list[str]:
    return sorted(f[0] for f in findings if name is None or f[1] == name)


@case
def paused_110_beside_active_170_is_not_duplicate_pension() -> Period:
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1")],
        enrollment=[enr_row(1, "张建国", ZHANG, "110", 2), enr_row(2, "张建国", ZHANG, "170", 1)],
    )
    return p


@case
def active_110_and_active_170_is_duplicate_pension_once() -> Period:
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1")],
        enrollment=[enr_row(1, "张建国", ZHANG, "110", 1), enr_row(2, "张建国", ZHANG, "170", 1),
                    enr_row(3, "张建国", ZHANG, "390", 1)],
    )  # fmt: skip
    return p


@case
def ended_row_beside_active_row_is_not_duplicate_record() -> Period:
    p = Period(
        population=[pop_row(1, "刘桂英", LIU, "1958-07-02", "2"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1")],
        enrollment=[enr_row(1, "刘桂英", LIU, "390", 4), enr_row(2, "刘桂英", LIU, "390", 1),
                    enr_row(3, "陈志强", CHEN, "390", 1, member_no="A1"),
                    enr_row(4, "陈志强", CHEN, "390", 1, member_no="A2")],
    )  # fmt: skip
    return p


@case
def moved_out_person_active_here_and_elsewhere_is_duplicate_region() -> Period:
    p = Period(
        population=[pop_row(1, "赵丽", ZHAO, "1975-05-20", "2", life="moved_out")],
        enrollment=[enr_row(1, "赵丽", ZHAO, "110", 1)],
        national_match=[nm_row(1, ZHAO, "110", 1, region="440304")],
    )
    return p


@case
def region_duplicate_needs_both_sides_active() -> Period:
    p = Period(
        population=[pop_row(1, "赵丽", ZHAO, "1975-05-20", "2")],
        enrollment=[enr_row(1, "赵丽", ZHAO, "110", 1), enr_row(2, "赵丽", ZHAO, "390", 2)],
        national_match=[nm_row(1, ZHAO, "110", 2), nm_row(2, ZHAO, "390", 1)],
    )
    return p


@case
def dead_and_receiving_is_deceased_benefit_only() -> Period:
    p = Period(
        population=[pop_row(1, "刘桂英", LIU, "1958-07-02", "2", life="deceased"),
                    pop_row(2, "张建国", ZHANG, "1962-03-15", "1", life="deceased")],
        enrollment=[enr_row(1, "刘桂英", LIU, "170", 1, 1),
                    enr_row(2, "张建国", ZHANG, "390", 1, 0),
                    enr_row(3, "张建国", ZHANG, "170", 4, 3)],
    )  # fmt: skip
    return p


@case
def dead_with_only_ended_rows_is_no_finding() -> Period:
    p = Period(
        population=[pop_row(1, "刘桂英", LIU, "1958-07-02", "2", life="deceased")],
        enrollment=[enr_row(1, "刘桂英", LIU, "170", 4, 3), enr_row(2, "刘桂英", LIU, "390", 2)],
    )
    return p


@case
def two_pensions_both_received_is_duplicate_benefit_only() -> Period:
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1")],
        enrollment=[
            enr_row(1, "张建国", ZHANG, "110", 4, 1),
            enr_row(2, "张建国", ZHANG, "170", 1, 1),
        ],
    )
    return p


@case
def dead_pensioner_with_running_medical_has_both_deceased_codes() -> Period:
    p = Period(
        population=[pop_row(1, "刘桂英", LIU, "1958-07-02", "2", life="deceased")],
        enrollment=[enr_row(1, "刘桂英", LIU, "170", 1, 1),
                    enr_row(2, "刘桂英", LIU, "390", 1, 0),
                    enr_row(3, "刘桂英", LIU, "110", 4, 3)],
    )  # fmt: skip
    return p


@case
def dead_rows_are_decided_by_their_own_statuses() -> Period:
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1", life="deceased"),
                    pop_row(2, "孙伟", SUN, "1984-09-09", "1", life="deceased"),
                    pop_row(3, "陈志强", CHEN, "1990-12-01", "1", life="deceased")],
        enrollment=[enr_row(1, "张建国", ZHANG, "170", 2, 1),  # 暂停参保 but 正常享受
                    enr_row(2, "孙伟", SUN, "390", 1, 2),  # 正常参保, benefits 暂停
                    enr_row(3, "陈志强", CHEN, "390", 2, 0)],  # 暂停参保: no finding
    )  # fmt: skip
    return p


@case
def paid_pair_is_benefit_but_another_active_pair_is_pension() -> Period:
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1"),
                    pop_row(2, "刘桂英", LIU, "1958-07-02", "2")],
        enrollment=[enr_row(1, "张建国", ZHANG, "110", 4, 1), enr_row(2, "张建国", ZHANG, "170", 1, 1),
                    enr_row(3, "张建国", ZHANG, "120", 1, 0),
                    enr_row(4, "刘桂英", LIU, "110", 4, 1), enr_row(5, "刘桂英", LIU, "120", 4, 1)],
    )  # fmt: skip
    return p


@case
def same_scheme_paid_twice_is_duplicate_record_and_benefit() -> Period:
    p = Period(
        population=[pop_row(1, "刘桂英", LIU, "1958-07-02", "2")],
        enrollment=[enr_row(1, "刘桂英", LIU, "170", 1, 1, member_no="A1"),
                    enr_row(2, "刘桂英", LIU, "170", 1, 1, member_no="A2")],
    )  # fmt: skip
    return p


@case
def paused_rows_duplicate_nothing() -> Period:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1")],
        enrollment=[enr_row(1, "孙伟", SUN, "310", 2), enr_row(2, "孙伟", SUN, "390", 1),
                    enr_row(3, "陈志强", CHEN, "390", 2, member_no="B1"),
                    enr_row(4, "陈志强", CHEN, "390", 2, member_no="B2")],
    )  # fmt: skip
    return p


@case
def region_duplicate_is_per_family_and_whatever_the_life_status() -> Period:
    p = Period(
        population=[pop_row(1, "赵丽", ZHAO, "1975-05-20", "2"),
                    pop_row(2, "孙伟", SUN, "1984-09-09", "1"),
                    pop_row(3, "陈志强", CHEN, "1990-12-01", "1", life="deceased"),
                    pop_row(4, "周敏", ZHOU, "1996-04-30", "2", life="cancelled")],
        enrollment=[enr_row(1, "赵丽", ZHAO, "170", 1), enr_row(2, "孙伟", SUN, "390", 1),
                    enr_row(3, "陈志强", CHEN, "390", 1),
                    enr_row(4, "周敏", ZHOU, "110", 1), enr_row(5, "周敏", ZHOU, "170", 1)],
        national_match=[nm_row(1, ZHAO, "110", 1), nm_row(2, SUN, "110", 1),
                        nm_row(3, CHEN, "390", 1)],
    )  # fmt: skip
    return p


@case
def active_310_and_390_is_duplicate_medical() -> Period:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1")],
        enrollment=[enr_row(1, "孙伟", SUN, "310", 1), enr_row(2, "孙伟", SUN, "390", 1),
                    enr_row(3, "孙伟", SUN, "110", 1)],
    )  # fmt: skip
    return p


@case
def under_16_on_the_reference_date_versus_16_exactly() -> Period:
    sixteen, fifteen = make_id("2010-10-31", 71), make_id("2010-11-01", 81)
    p = Period(
        population=[pop_row(1, "王子涵", sixteen, "2010-10-31", "1"),
                    pop_row(2, "王梓萱", fifteen, "2010-11-01", "2")],
        enrollment=[enr_row(1, "王子涵", sixteen, "390", 1), enr_row(2, "王梓萱", fifteen, "390", 1)],
    )  # fmt: skip
    return p


@case
def student_aged_30_is_still_pension_exempt() -> Period:
    p = Period(
        population=[pop_row(1, "周敏", ZHOU, "1996-04-30", "2")],
        students=[student_row(1, ZHOU, "周敏")],
    )
    return p


@case
def national_match_termination_does_not_count() -> Period:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1")],
        national_match=[nm_row(1, SUN, "110", 4), nm_row(2, SUN, "390", 3),
                        nm_row(3, CHEN, "110", 1), nm_row(4, CHEN, "390", 2)],
    )  # fmt: skip
    return p


@case
def unknown_scheme_is_neutral() -> Period:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1", life="deceased"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1")],
        enrollment=[enr_row(1, "孙伟", SUN, None, 1, 1),
                    enr_row(2, "陈志强", CHEN, None, 1), enr_row(3, "陈志强", CHEN, None, 1)],
    )  # fmt: skip
    return p


@case
def local_wins_over_elsewhere_and_elsewhere_over_exempt() -> Period:
    kid = make_id("2015-06-01", 91)
    p = Period(
        population=[pop_row(1, "陈志强", CHEN, "1990-12-01", "1"),
                    pop_row(2, "陈小宝", kid, "2015-06-01", "1")],
        enrollment=[enr_row(1, "陈志强", CHEN, "170", 2)],
        national_match=[nm_row(1, CHEN, "170", 1), nm_row(2, kid, "170", 1),
                        nm_row(3, kid, "390", 1)],
    )  # fmt: skip
    return p


@case
def id_findings_one_row_several_codes() -> Period:
    wrong_digit = ZHANG[:10] + ("1" if ZHANG[10] != "1" else "2") + ZHANG[11:]
    transposed = LIU[:8] + LIU[9] + LIU[8] + LIU[10:]
    old15 = CHEN[:6] + CHEN[8:17]
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1"),
                    pop_row(2, "刘桂英", LIU, "1958-07-02", "2"),
                    pop_row(3, "陈志强", CHEN, "1990-12-01", "1"),
                    pop_row(4, "赵丽", ZHAO, "1975-05-20", "2"),
                    pop_row(5, "孙伟", SUN, "1984-09-09", "1")],
        enrollment=[
            enr_row(1, "张建国", wrong_digit, "390", 1, id_status="invalid"),
            enr_row(2, "刘桂英", transposed, "390", 1, id_status="invalid"),
            enr_row(3, "陈志强", CHEN, "390", 1, id_status="upgraded", id_raw=old15),
            enr_row(4, "赵丽", None, "390", 1),  # missing, linked on name + birth
            enr_row(5, "孙伟", None, "390", 1, id_status="precision_lost",
                    id_raw="4.30302198409E+17"),
            enr_row(6, "无名氏", None, "390", 1),  # missing and unlinked
        ],
        links={("enrollment.csv", 1): (ZHANG, "repaired_id", "one_digit"),
               ("enrollment.csv", 2): (LIU, "repaired_id", "transposition"),
               ("enrollment.csv", 3): (CHEN, "repaired_id", "upgrade15"),
               ("enrollment.csv", 4): (ZHAO, "probabilistic", None),
               ("enrollment.csv", 5): (SUN, "probabilistic", None)},
    )  # fmt: skip
    return p


@case
def repairs_make_needs_correction_when_otherwise_covered() -> Period:
    wrong = ZHANG[:12] + ("0" if ZHANG[12] != "0" else "1") + ZHANG[13:]
    p = Period(
        population=[pop_row(1, "张建国", ZHANG, "1962-03-15", "1"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1")],
        enrollment=[enr_row(1, "张建国", wrong, "170", 1, id_status="invalid"),
                    enr_row(2, "张建国", ZHANG, "390", 1),
                    enr_row(3, "陈志强", CHEN, "170", 1), enr_row(4, "陈志强", CHEN, "390", 1)],
        links={("enrollment.csv", 1): (ZHANG, "repaired_id", "one_digit")},
    )  # fmt: skip
    return p


@case
def name_sex_birth_mismatch_traditional_and_homophone() -> Period:
    p = Period(
        population=[
            pop_row(1, "王晓明", ZHANG, "1962-03-15", "1"),
            pop_row(2, "李静", LIU, "1958-07-02", "2"),
            pop_row(3, "阿依古丽·买买提", CHEN, "1990-12-01", "2"),
        ],
        enrollment=[
            enr_row(1, "王曉明", ZHANG, "170", 1),  # 繁体: mismatch
            enr_row(2, "王晓明", ZHANG, "390", 1, sex="2", birth="1962-03-16"),
            enr_row(3, "李晶", LIU, "170", 1, sex="2"),  # 同音字: mismatch; same sex
            enr_row(4, "李静", LIU, "390", 1),  # no sex/birth given: nothing to compare
            enr_row(5, "阿依古丽·买买提", CHEN, "170", 1),  # dot variants already folded
            enr_row(6, "阿依古丽·买买提", CHEN, "390", 1, birth="1990-12-01"),
        ],
    )
    return p


@case
def population_row_ids_are_findings_too() -> Period:
    old15 = SUN[:6] + SUN[8:17]
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1", id_status="upgraded", id_raw=old15)]
        + [pop_row(i, f"人{i}", make_id("1980-01-01", i), "1980-01-01", "1") for i in range(2, 30)],
        national_match=[
            nm_row(1, "43030219800101002", "110", 1)
            | {"id_number": None, "id_status": "invalid", "id_raw": "43030219800101002"}
        ],
    )
    return p


@case
def employer_invalid_one_row_each() -> Period:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1")],
        employers=[employer_row(1, "91350100M000100Y43", "湘潭市某机械有限公司", True),
                   employer_row(2, "91350200M000000510", "湘潭市某商贸有限公司", False),
                   employer_row(3, None, "湘潭市某餐饮店", False),
                   employer_row(4, "91440300708461136T", None, True),
                   employer_row(5, "91440300708461136T", "  ", True)],
    )  # fmt: skip
    return p


def test_paused_110_beside_active_170_is_not_duplicate_pension(results: Results) -> None:
    status, findings = results["paused_110_beside_active_170_is_not_duplicate_pension"]
    assert "DUPLICATE_PENSION" not in _codes(findings)
    assert status["张建国"][0] == "insured_local"


def test_active_110_and_active_170_is_duplicate_pension_once(results: Results) -> None:
    status, findings = results["active_110_and_active_170_is_duplicate_pension_once"]
    assert findings == [("DUPLICATE_PENSION", "张建国", None, None)]
    # Cleanup findings do not change registration by themselves.
    assert status["张建国"] == ("insured_local", "insured_local", "confirmed")


def test_ended_row_beside_active_row_is_not_duplicate_record(results: Results) -> None:
    _, findings = results["ended_row_beside_active_row_is_not_duplicate_record"]
    assert _codes(findings, "刘桂英") == []
    assert _codes(findings, "陈志强") == ["DUPLICATE_RECORD"]


def test_moved_out_person_active_here_and_elsewhere_is_duplicate_region(results: Results) -> None:
    status, findings = results["moved_out_person_active_here_and_elsewhere_is_duplicate_region"]
    assert findings == [("DUPLICATE_REGION", "赵丽", None, None)]
    assert status["赵丽"] == ("not_applicable", "not_applicable", "not_applicable")


def test_region_duplicate_needs_both_sides_active(results: Results) -> None:
    status, findings = results["region_duplicate_needs_both_sides_active"]
    assert findings == []
    assert status["赵丽"][:2] == ("insured_local", "insured_local")


def test_dead_and_receiving_is_deceased_benefit_only(results: Results) -> None:
    status, findings = results["dead_and_receiving_is_deceased_benefit_only"]
    assert _codes(findings, "刘桂英") == ["DECEASED_BENEFIT"]
    assert _codes(findings, "张建国") == ["DECEASED_ACTIVE"]
    assert status["刘桂英"] == ("not_applicable", "not_applicable", "not_applicable")


def test_dead_with_only_ended_rows_is_no_finding(results: Results) -> None:
    assert results["dead_with_only_ended_rows_is_no_finding"][1] == []


def test_two_pensions_both_received_is_duplicate_benefit_only(results: Results) -> None:
    assert results["two_pensions_both_received_is_duplicate_benefit_only"][1] == [
        ("DUPLICATE_BENEFIT", "张建国", None, None)
    ]


def test_dead_pensioner_with_running_medical_has_both_deceased_codes(results: Results) -> None:
    _, findings = results["dead_pensioner_with_running_medical_has_both_deceased_codes"]
    # one finding per person and code, no file/row (the rows are named in detail)
    assert findings == [
        ("DECEASED_ACTIVE", "刘桂英", None, None),
        ("DECEASED_BENEFIT", "刘桂英", None, None),
    ]


def test_each_deceased_code_names_only_its_own_rows(engine, tmp_path: Path) -> None:
    run_period(engine, dead_pensioner_with_running_medical_has_both_deceased_codes(), REF, tmp_path,
               exports=False)  # fmt: skip
    detail = dict(engine.query_df("SELECT finding, detail FROM findings").itertuples(index=False))
    assert (
        detail["DECEASED_BENEFIT"]
        == "公安登记死亡, 仍正常享受待遇: enrollment.csv#1 170 个人编号M00001"
    )
    assert (
        detail["DECEASED_ACTIVE"] == "公安登记死亡, 仍正常参保: enrollment.csv#2 390 个人编号M00002"
    )


def test_dead_rows_are_decided_by_their_own_statuses(results: Results) -> None:
    _, findings = results["dead_rows_are_decided_by_their_own_statuses"]
    assert findings == [
        ("DECEASED_ACTIVE", "孙伟", None, None),
        ("DECEASED_BENEFIT", "张建国", None, None),
    ]


def test_paid_pair_is_benefit_but_another_active_pair_is_pension(results: Results) -> None:
    _, findings = results["paid_pair_is_benefit_but_another_active_pair_is_pension"]
    assert _codes(findings, "张建国") == ["DUPLICATE_BENEFIT", "DUPLICATE_PENSION"]
    assert _codes(findings, "刘桂英") == ["DUPLICATE_BENEFIT"]  # two 职工 pensions paid


def test_pension_detail_names_the_rows_of_the_counting_pairs(engine, tmp_path: Path) -> None:
    run_period(engine, paid_pair_is_benefit_but_another_active_pair_is_pension(), REF, tmp_path,
               exports=False)  # fmt: skip
    detail = engine.query_df(
        "SELECT f.detail FROM findings f JOIN persons p USING (person_id) "
        "WHERE f.finding = 'DUPLICATE_PENSION'"
    )["detail"].tolist()
    # 110+170 both paid is no DUPLICATE_PENSION pair; 120 with 170 is
    assert detail == [
        "职工养老与居民养老同时有效: enrollment.csv#2 170 个人编号M00002, "
        "enrollment.csv#3 120 个人编号M00003"
    ]


def test_same_scheme_paid_twice_is_duplicate_record_and_benefit(results: Results) -> None:
    _, findings = results["same_scheme_paid_twice_is_duplicate_record_and_benefit"]
    assert _codes(findings) == ["DUPLICATE_BENEFIT", "DUPLICATE_RECORD"]


def test_paused_rows_duplicate_nothing(results: Results) -> None:
    assert results["paused_rows_duplicate_nothing"][1] == []


def test_region_duplicate_is_per_family_and_whatever_the_life_status(results: Results) -> None:
    _, findings = results["region_duplicate_is_per_family_and_whatever_the_life_status"]
    assert findings == [
        ("DECEASED_ACTIVE", "陈志强", None, None),
        ("DUPLICATE_PENSION", "周敏", None, None),
        ("DUPLICATE_REGION", "赵丽", None, None),  # 170 here, 110 elsewhere: one family
        ("DUPLICATE_REGION", "陈志强", None, None),
    ]  # 孙伟: 390 here, 110 elsewhere are different families


def test_active_310_and_390_is_duplicate_medical(results: Results) -> None:
    status, findings = results["active_310_and_390_is_duplicate_medical"]
    assert findings == [("DUPLICATE_MEDICAL", "孙伟", None, None)]
    assert status["孙伟"] == ("insured_local", "insured_local", "confirmed")


def test_under_16_on_the_reference_date_versus_16_exactly(results: Results) -> None:
    status, _ = results["under_16_on_the_reference_date_versus_16_exactly"]
    assert status["王子涵"] == ("not_insured", "insured_local", "survey")
    assert status["王梓萱"] == ("exempt", "insured_local", "confirmed")


def test_student_aged_30_is_still_pension_exempt(results: Results) -> None:
    status, _ = results["student_aged_30_is_still_pension_exempt"]
    assert status["周敏"] == ("exempt", "not_insured", "survey")


def test_national_match_termination_does_not_count(results: Results) -> None:
    status, findings = results["national_match_termination_does_not_count"]
    assert status["孙伟"] == ("not_insured", "not_insured", "survey")
    assert status["陈志强"] == ("insured_elsewhere", "insured_elsewhere", "confirmed")
    assert findings == []


def test_unknown_scheme_is_neutral(results: Results) -> None:
    status, findings = results["unknown_scheme_is_neutral"]
    assert findings == []
    assert status["陈志强"] == ("not_insured", "not_insured", "survey")


def test_local_wins_over_elsewhere_and_elsewhere_over_exempt(results: Results) -> None:
    status, findings = results["local_wins_over_elsewhere_and_elsewhere_over_exempt"]
    assert status["陈志强"][0] == "insured_local"
    assert status["陈小宝"] == ("insured_elsewhere", "insured_elsewhere", "confirmed")
    assert findings == []  # a 暂停 local row beside an active elsewhere row is no duplicate


def test_id_findings_one_row_several_codes(results: Results) -> None:
    status, findings = results["id_findings_one_row_several_codes"]
    by_row: dict[int, list[str]] = {}
    for code, _name, _file, row in findings:
        by_row.setdefault(row, []).append(code)
    assert sorted(by_row[1]) == ["ID_INVALID", "ID_REPAIRED"]
    assert sorted(by_row[2]) == ["ID_INVALID", "ID_REPAIRED"]
    assert by_row[3] == ["ID_UPGRADED"]
    assert sorted(by_row[4]) == ["ID_INVALID", "ID_REPAIRED"]
    assert sorted(by_row[5]) == ["ID_PRECISION_LOST", "ID_REPAIRED"]
    assert sorted(by_row[6]) == ["ID_INVALID", "NOT_IN_POPULATION"]
    assert set(by_row) == {1, 2, 3, 4, 5, 6}
    for name in ("张建国", "刘桂英", "陈志强", "赵丽", "孙伟"):
        assert status[name][2] == "survey"  # pension not insured comes first
    unlinked = [f for f in findings if f[3] == 6]
    assert all(f[1] is None for f in unlinked)


def test_repairs_make_needs_correction_when_otherwise_covered(results: Results) -> None:
    status, _ = results["repairs_make_needs_correction_when_otherwise_covered"]
    assert status["张建国"] == ("insured_local", "insured_local", "needs_correction")
    assert status["陈志强"] == ("insured_local", "insured_local", "confirmed")


def test_name_sex_birth_mismatch_traditional_and_homophone(results: Results) -> None:
    status, findings = results["name_sex_birth_mismatch_traditional_and_homophone"]
    assert findings == [
        ("BIRTH_MISMATCH", "王晓明", "enrollment.csv", 2),
        ("NAME_MISMATCH", "李静", "enrollment.csv", 3),
        ("NAME_MISMATCH", "王晓明", "enrollment.csv", 1),
        ("SEX_MISMATCH", "王晓明", "enrollment.csv", 2),
    ]
    assert status["王晓明"][2] == "needs_correction"
    assert status["李静"][2] == "needs_correction"
    assert status["阿依古丽·买买提"][2] == "confirmed"


def test_population_row_ids_are_findings_too(results: Results) -> None:
    _, findings = results["population_row_ids_are_findings_too"]
    assert ("ID_UPGRADED", "孙伟", "hukou.csv", 1) in findings
    assert ("ID_INVALID", None, "national_match.csv", 1) in findings


def test_employer_invalid_one_row_each(results: Results) -> None:
    _, findings = results["employer_invalid_one_row_each"]
    assert findings == [("EMPLOYER_INVALID", None, "employers.csv", r) for r in (2, 3, 4, 5)]


def test_survey_returns_surveyed_exempt_and_rejected(engine, tmp_path: Path) -> None:
    p = Period(
        population=[pop_row(1, "孙伟", SUN, "1984-09-09", "1"),
                    pop_row(2, "陈志强", CHEN, "1990-12-01", "1"),
                    pop_row(3, "周敏", ZHOU, "1996-04-30", "2")],
    )  # fmt: skip
    run_period(engine, p, REF, tmp_path, exports=False)
    ids = dict(engine.query_df("SELECT name, person_id FROM persons").itertuples(index=False))

    def result(
        name: str,
        period: str,
        outcome: str,
        exemption: str | None,
        family: str | None = None,
        status: str | None = None,
    ) -> dict:
        # survey.py's survey_results layout (one row per accepted return row).
        return {
            "person_id": ids[name],
            "period": dt.date.fromisoformat(period),
            "file": "survey_returns/云塘街道.xlsx",
            "source_row": len(name),
            "outcome": outcome,
            "exemption": exemption,
            "insured_family": family,
            "insured_status": status,
        }

    p.survey_results = [
        result("孙伟", "2026-10-15", "无参保意愿", None),
        result("孙伟", REF, "现役军人", "military"),  # the latest return wins
        result("陈志强", REF, "参加省职保", None, "pension", "insured_elsewhere"),
        result("周敏", "2026-11-15", "服刑人员", "prison"),  # after this period: ignored
    ]  # fmt: skip
    p.survey_rejects = [
        {
            "file": "survey_returns/云塘街道.xlsx",
            "source_row": 3,
            "person_id": ids["周敏"],
            "reason": "姓名与下发名单不一致",
        }
    ]
    run_period(engine, p, REF, tmp_path, exports=False)
    status, findings = status_of(engine), findings_of(engine)
    assert status["孙伟"] == ("exempt", "exempt", "surveyed")
    # A survey's "参加省职保" marks the person surveyed; coverage still comes from the data.
    assert status["陈志强"] == ("not_insured", "not_insured", "surveyed")
    assert status["周敏"] == ("not_insured", "not_insured", "survey")
    assert findings == [("SURVEY_REJECTED", "周敏", "survey_returns/云塘街道.xlsx", 3)]


@case
def out_of_scope_people_are_not_applicable_everywhere() -> Period:
    return Period(
        population=[pop_row(i, f"孙伟{i}", make_id("1984-09-09", 50 + i), "1984-09-09", "1",
                            life=life) for i, life in enumerate(OUT_OF_SCOPE, start=1)],
        enrollment=[enr_row(i, f"孙伟{i}", make_id("1984-09-09", 50 + i), "390", 2)
                    for i in range(1, 4)],
    )  # fmt: skip


def test_out_of_scope_people_are_not_applicable_everywhere(results: Results) -> None:
    status, _ = results["out_of_scope_people_are_not_applicable_everywhere"]
    assert status == {f"孙伟{i}": ("not_applicable",) * 3 for i in range(1, 4)}


def test_every_person_gets_exactly_one_status(engine, tmp_path: Path) -> None:
    p = Period(
        population=[
            pop_row(i, f"居民{i}", make_id("1970-01-01", i), "1970-01-01", "1")
            for i in range(1, 41)
        ]
        + [pop_row(41, "无证人", None, "1970-01-01", "1")],
        enrollment=[
            enr_row(i, f"居民{i}", make_id("1970-01-01", i), "170", 1) for i in range(1, 20)
        ],
    )
    run_period(engine, p, REF, tmp_path, exports=False)
    assert scalar(engine, "SELECT count(*) FROM persons") == 41
    assert scalar(engine, "SELECT count(DISTINCT person_id) FROM person_status") == 41
    assert scalar(engine, "SELECT count(*) FROM person_status") == 41
