"""统一社会信用代码 (GB 32100-2015): the contract §8.6 vectors and folding."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canbao.clean.creditcode import (
    CHARSET,
    CreditResult,
    credit_check_char,
    validate_credit_code,
    validate_credit_codes,
)

VALID = [
    "91350100M000100Y43",
    "91440300708461136T",
    "91110108551385082Q",
    "91110105771583283D",
    "91110000802100433B",
    "91110108740084270C",
    "91110108735106340Y",
    "51610700305332460K",
    "91440300359143307G",
    "11610923MB2900168E",
    "91341000MA2N0ABGXX",
    "91110228397176695A",
    "91310110666007217T",
]


@pytest.mark.parametrize("code", VALID)
def test_standard_valid(code):
    assert validate_credit_code(code) == CreditResult(code, True, None)


@pytest.mark.parametrize(
    ("code", "right"), [("91350200M000000510", "D"), ("91350128M00000019A", "F")]
)
def test_standard_invalid(code, right):
    assert credit_check_char(code[:17]) == right
    assert validate_credit_code(code) == CreditResult(code, False, "check")


def test_textbook_check_char_and_pilot_caveat():
    assert credit_check_char("91350100M000100Y4") == "3"
    # Early pilot codes can fail yet be genuine: still reported (EMPLOYER_INVALID is a warning).
    assert validate_credit_code("91350100M0001TGQXM").reason == "check"
    assert credit_check_char("91350100M0001TGQX") == "1"


@pytest.mark.parametrize(
    "raw",
    [
        " 91350100M000100Y43 ",
        "91350100m000100y43",
        "９１３５０１００Ｍ０００１００Ｙ４３",
        "9135 0100 M000 100Y43",
        "'91350100M000100Y43",
    ],
)
def test_folding(raw):
    assert validate_credit_code(raw) == CreditResult("91350100M000100Y43", True, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("\u3000", "missing"),
        ("9135010M000100Y43", "length"),
        ("91350100M000100I43", "characters"),
        ("91350100M000100O43", "characters"),
    ],
)
def test_reasons(raw, reason):
    r = validate_credit_code(raw)
    assert not r.valid and r.reason == reason


@given(st.text(alphabet=CHARSET, min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 30))
def test_any_single_substitution_is_caught(body, pos, delta):
    code = body + credit_check_char(body)
    assert validate_credit_code(code).valid
    wrong = body[:pos] + CHARSET[(CHARSET.index(body[pos]) + delta) % 31] + body[pos + 1 :]
    assert validate_credit_code(wrong + code[17]).reason == "check"


def test_vectorised_aligned():
    ser = pd.Series(
        ["91350100M000100Y43", None, "91350200M000000510", "91350100m000100y43"],
        index=[10, 11, 12, 13],
    )
    out = validate_credit_codes(ser)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out["credit_valid"].tolist() == [True, False, False, True]
    assert out["credit_code"].tolist()[3] == "91350100M000100Y43"
    assert [None if pd.isna(v) else v for v in out["credit_reason"]] == [
        None,
        "missing",
        "check",
        None,
    ]
