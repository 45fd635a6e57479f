"""Date parsing: every format the extracts and the returned rosters use, one Excel serial
range, and None for non-dates (canbao.core.dates is the one parser)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from canbao.core.dates import excel_serial_to_date, parse_date, parse_dates

D = date(1990, 1, 1)


@pytest.mark.parametrize(
    "raw",
    [
        32874,
        32874.0,
        32874.75,
        "32874",
        "32874.0",
        19900101,
        "19900101",
        "1990-1-1",
        "1990-01-01",
        "1990/01/01",
        "1990/1/1",
        "1990年1月1日",
        "1990年01月01日",
        "1990.01.01",
        "1990-01-01 00:00:00",
        "1990-01-01T08:30:00",
        "1990/1/1 8:30",
        " 1990-01-01 ",
        "'19900101",
        "１９９０－０１－０１",
        "１９９０年１月１日",
        "\u30001990-01-01",
        datetime(1990, 1, 1, 12, 0),
        date(1990, 1, 1),
        pd.Timestamp("1990-01-01 10:00"),
        np.datetime64("1990-01-01"),
    ],
)
def test_formats(raw):
    assert parse_date(raw) == D


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        float("nan"),
        pd.NaT,
        pd.NA,
        "19900230",
        "1990-02-30",
        "1990-13-01",
        "2023年2月29日",
        "abc",
        "1990",
        1990,
        "199001",
        0,
        -5,
        90000,
        "60",
        True,
    ],
)
def test_not_dates(raw):
    assert parse_date(raw) is None


def test_excel_1900_system():
    assert excel_serial_to_date(1) == date(1900, 1, 1)
    assert excel_serial_to_date(59) == date(1900, 2, 28)
    assert excel_serial_to_date(60) is None  # Excel's 1900-02-29 does not exist
    assert excel_serial_to_date(61) == date(1900, 3, 1)
    assert excel_serial_to_date(45000) == date(2023, 3, 15)
    assert parse_date("2000-02-29") == date(2000, 2, 29)
    assert parse_date("1900-02-29") is None


def test_parse_dates_distinct_and_aligned():
    ser = pd.Series(
        ["1990-1-1", None, 32874, "1990年1月1日", "bad", date(2001, 5, 6)], index=[5, 4, 3, 2, 1, 0]
    )
    out = parse_dates(ser)
    assert out.dtype == object
    assert out.index.tolist() == [5, 4, 3, 2, 1, 0]
    assert out.tolist() == [D, None, D, D, None, date(2001, 5, 6)]


# ------------------------------------------------ what survey/normalise.py's copy also read


@pytest.mark.parametrize(
    "raw",
    [
        "1990年1月1号",  # 号 for 日, as officers write it
        "1990年1月1号 8:30",
        "1990年1月1日 9:05:00",
        "1990年1月1日9:05",
        "19900101 08:30",
        "19900101T08:30:00",
        "1990-01-01 08:30:00.5",
        np.int64(32874),  # a serial read by pandas
        np.float64(32874.0),
        19900101.0,
    ],
)
def test_formats_the_survey_returns_use(raw):
    assert parse_date(raw) == D


P = date(2026, 11, 15)


@pytest.mark.parametrize(
    ("raw", "period", "want"),
    [
        ("11月3日", P, date(2026, 11, 3)),
        ("11月3号", P, date(2026, 11, 3)),
        ("１１月３日", P, date(2026, 11, 3)),
        ("11月3日 14:30", P, date(2026, 11, 3)),
        ("11月15日", P, date(2026, 11, 15)),  # the period's own day is not after it
        ("11月16日", P, date(2025, 11, 16)),  # after the period: last year's
        ("12月30日", P, date(2025, 12, 30)),
        ("2月29日", date(2028, 3, 1), date(2028, 2, 29)),
        ("2月29日", date(2028, 1, 15), None),  # 2027 has no 29 February
        ("2月30日", P, None),
        ("13月1日", P, None),
        ("11月3日", None, None),  # no period, no year: not guessed
        ("三月五日", P, None),
        ("下周补", P, None),
    ],
)
def test_month_and_day_without_a_year_are_read_against_the_period(raw, period, want):
    assert parse_date(raw, period) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (5000, date(1913, 9, 8)),  # survey's copy read nothing at or below 20000
        ("46086", date(2026, 3, 5)),  # survey's copy did not read a serial typed as text
        (46329.0, date(2026, 11, 3)),
        (46329.99, date(2026, 11, 3)),
        (80000, date(2119, 1, 11)),
        (80000.5, date(2119, 1, 11)),
        (80001, None),
        (1990, None),  # a bare year, not serial 1990
        (60, None),
    ],
)
def test_one_excel_serial_range_for_every_caller(raw, want):
    assert parse_date(raw) == want
    assert parse_date(raw, P) == want  # a period changes nothing but month-day text
