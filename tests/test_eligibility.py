"""Eligibility rules: exact ages on the reference date, and the SQL twins agree with Python."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canbao.classify import eligibility as el

REF = dt.date(2026, 10, 31)


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        (dt.date(2010, 10, 31), 16),  # 16th birthday on the reference date: 16
        (dt.date(2010, 11, 1), 15),  # one day short: still under 16
        (dt.date(1996, 2, 29), 30),
        (dt.date(2026, 10, 31), 0),
    ],
)
def test_age_on_counts_whole_years(birth: dt.date, age: int) -> None:
    assert el.age_on(birth, REF) == age


def test_leap_day_birthday_turns_a_year_older_on_1_march() -> None:
    born = dt.date(2008, 2, 29)
    assert el.age_on(born, dt.date(2024, 2, 28)) == 15
    assert el.age_on(born, dt.date(2024, 2, 29)) == 16
    assert el.age_on(born, dt.date(2025, 2, 28)) == 16
    assert el.age_on(born, dt.date(2026, 2, 28)) == 17  # not yet 18: no 29 Feb in 2026
    assert el.age_on(dt.date(2008, 3, 1), dt.date(2024, 2, 29)) == 15


@settings(
    max_examples=60,
    deadline=None,
    # one connection for the many examples: each one is a pure SELECT
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)),
    ref=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
)
def test_age_sql_matches_python(engine, birth: dt.date, ref: dt.date) -> None:
    got = engine.scalar(
        f"SELECT {el.age_sql('CAST($1 AS DATE)', 'CAST($2 AS DATE)')}", [birth, ref]
    )
    assert got == el.age_on(birth, ref)


def test_under_pension_age_sql_unknown_birth_is_not_exempt(engine) -> None:
    sql = f"SELECT {el.under_pension_age_sql('CAST($1 AS DATE)', 'CAST($2 AS DATE)')}"
    assert engine.scalar(sql, [None, REF]) is False
    assert engine.scalar(sql, [dt.date(2010, 11, 1), REF]) is True
    assert engine.scalar(sql, [dt.date(2010, 10, 31), REF]) is False


@pytest.mark.parametrize(
    ("enroll", "benefit", "insured", "active"),
    [
        (1, 0, True, True),  # 正常参保
        (2, 0, True, False),  # 暂停参保: insured, not active
        (4, 0, False, False),  # 终止: history
        (0, 0, False, False),  # 未参保
        (4, 1, True, True),  # 终止参保 but 正常享受
        (4, 2, True, False),  # 暂停享受
        (4, 3, False, False),  # 终止享受
        (None, None, False, False),
    ],
)
def test_insured_and_active(
    engine, enroll: int | None, benefit: int | None, insured: bool, active: bool
) -> None:
    sql = (
        f"SELECT {el.insured_sql('e', 'b')}, {el.active_sql('e', 'b')} "
        "FROM (SELECT CAST($1 AS INTEGER) AS e, CAST($2 AS INTEGER) AS b)"
    )
    assert engine.query_df(sql, [enroll, benefit]).iloc[0].tolist() == [insured, active]


@pytest.mark.parametrize(
    ("status", "counts", "active"),
    [(1, True, True), (2, True, False), (3, False, False), (4, False, False), (0, False, False)],
)
def test_national_match_termination_does_not_count(
    engine, status: int, counts: bool, active: bool
) -> None:
    sql = f"SELECT {el.national_counts_sql('s')}, {el.national_active_sql('s')} FROM (SELECT CAST($1 AS INTEGER) AS s)"
    assert engine.query_df(sql, [status]).iloc[0].tolist() == [counts, active]


@pytest.mark.parametrize(
    ("scheme", "family"),
    [("110", "pension"), ("120", "pension"), ("170", "pension"), ("310", "medical"),
     ("390", "medical"), ("210", None), ("410", None), (None, None), ("999", None)],
)  # fmt: skip
def test_family_of_scheme_unknown_is_neutral(
    engine, scheme: str | None, family: str | None
) -> None:
    got = engine.scalar(f"SELECT {el.family_sql('CAST($1 AS VARCHAR)')}", [scheme])
    assert got == family
