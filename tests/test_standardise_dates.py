"""Date parsing: every format the extracts use, Excel serials, and None for non-dates."""

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
