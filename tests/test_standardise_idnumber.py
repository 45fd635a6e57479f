"""公民身份号码 rules: standard vectors (contract §8.6), folding, precision loss, properties, SQL twins."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from canbao.clean.idnumber import (
    IdResult,
    birth_from_id,
    check_char,
    check_char_sql,
    fold_id,
    is_valid_id18_sql,
    sex_from_id,
    upgrade15,
    validate_id,
    validate_ids,
)

VALID = [
    "11010519491231002X",
    "440524188001010014",
    "11010219840406970X",
    "34052419800101001X",
    "110101199003077838",
    "11010119900307002X",
    "510102198512014567",
    "110101199003070011",
    "310101198511170038",
    "440304199601010023",
    "53010219200508011X",
]
INVALID = {"110105194912310021": "X", "11010219840506970X": "1", "440524189001010014": "9"}
REF = date(2026, 11, 28)


@pytest.mark.parametrize("id18", VALID)
def test_standard_valid_examples(id18):
    assert check_char(id18[:17]) == id18[17]
    assert validate_id(id18) == IdResult(id18, "valid", None, None)


@pytest.mark.parametrize(("id18", "right"), INVALID.items())
def test_standard_invalid_examples(id18, right):
    assert check_char(id18[:17]) == right
    assert validate_id(id18) == IdResult(None, "invalid", "check", id18)


def test_standard_examples_birth_and_sex():
    assert birth_from_id("11010519491231002X") == date(1949, 12, 31)
    assert sex_from_id("11010519491231002X") == "2"
    assert birth_from_id("440524188001010014") == date(1880, 1, 1)
    assert sex_from_id("440524188001010014") == "1"


def test_upgrade_15_to_18():
    assert upgrade15("110105491231002") == "11010519491231002X"
    assert validate_id("110105491231002") == IdResult("11010519491231002X", "upgraded", None, None)
    # 顺序码 996–999 are centenarians born in the 1800s.
    up = upgrade15("430302050101997")
    assert up[6:10] == "1805" and up == up[:17] + check_char(up[:17])


@pytest.mark.parametrize(
    "raw",
    [
        " 11010519491231002X ",
        "11010519491231002x",
        "'11010519491231002X",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
        "\u3000110105 19491231 002X\u3000",
        "\ufeff11010519491231002X",
        "1101051949\u200b1231002X",
        "11010519491231002X\u00a0",
        "\t11010519491231002X\n",
    ],
)
def test_folding_is_normalisation(raw):
    assert fold_id(raw) == "11010519491231002X"
    assert validate_id(raw).status == "valid"
    assert validate_id(raw).id_number == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    [
        "4.30302199E+17",
        "4.30302199001011e+17",
        "430302199001011000.0",
        "4.30302199001011E+17",
        4.30302199001011e17,
        "４.３０３０２１９９Ｅ＋１７",
    ],
)
def test_precision_lost_is_reported_not_guessed(raw):
    assert validate_id(raw) == IdResult(None, "precision_lost", None, None)


def test_exact_15_digit_float_is_not_precision_lost():
    # A 15-digit number fits a double exactly: Excel keeps it.
    assert validate_id("110105491231002.0").status == "upgraded"
    assert validate_id(110105491231002).status == "upgraded"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "'", float("nan"), pd.NA])
def test_missing(raw):
    assert validate_id(raw) == IdResult(None, "missing", None, None)


@pytest.mark.parametrize(
    ("raw", "reason", "candidate"),
    [
        ("1101051949123100", "length", None),
        ("11010519491231002X1", "length", None),
        ("11010519491231002", "length", None),
        ("张三", "characters", None),
        ("11010519491231002Y", "characters", None),
        ("1101051949123100X2", "characters", "1101051949123100X2"),
        ("110105194902300025", "date", "110105194902300025"),  # 1949-02-30
        ("110105187912310027", "date", "110105187912310027"),  # before 1880
        ("990105194912310021", "region", "990105194912310021"),
        ("720105194912310021", "region", "720105194912310021"),
        ("110105491331002", "date", "110105491331002"),  # 15-digit, month 13
    ],
)
def test_invalid_reasons(raw, reason, candidate):
    r = validate_id(raw)
    assert (r.status, r.reason, r.candidate, r.id_number) == ("invalid", reason, candidate, None)


def test_future_birth_date_invalid_only_with_ref_date():
    body = "43030220270101001"
    future = body + check_char(body)
    assert validate_id(future).status == "valid"
    assert validate_id(future, ref_date=REF) == IdResult(None, "invalid", "date", future)


def test_historical_region_codes_pass():
    # 重庆 numbers began 51 before 1997; 河南新密 410183 no longer exists: only the province counts.
    for prefix in ("510221", "410183", "820000", "710000"):
        body = prefix + "19800101001"
        assert validate_id(body + check_char(body)).status == "valid"


# ---------------------------------------------------------------- properties

PROVINCES = [str(p) for p in range(11, 66)] + ["71", "81", "82"]


@st.composite
def id_bodies(draw):
    prov = draw(st.sampled_from(PROVINCES))
    rest = draw(st.integers(0, 9999)).__format__("04d")
    born = draw(st.dates(min_value=date(1880, 1, 1), max_value=REF))
    seq = draw(st.integers(0, 999)).__format__("03d")
    return prov + rest + born.strftime("%Y%m%d") + seq


@given(id_bodies())
def test_any_body_with_its_check_char_validates(body):
    id18 = body + check_char(body)
    assert validate_id(id18, REF) == IdResult(id18, "valid", None, None)
    assert validate_id(id18.lower(), REF).id_number == id18


@given(id_bodies(), st.integers(0, 16), st.integers(1, 9))
def test_single_digit_change_is_invalid(body, pos, delta):
    id18 = body + check_char(body)
    wrong = id18[:pos] + str((int(id18[pos]) + delta) % 10) + id18[pos + 1 :]
    r = validate_id(wrong, REF)
    assert r.status == "invalid"
    assert r.candidate == wrong
    # MOD 11-2 detects every single-digit error; an earlier rule (date, region) may fire first.
    assert r.reason in ("check", "date", "region")
    if r.reason == "check":
        assert check_char(wrong[:17]) != wrong[17]


@given(id_bodies(), st.sampled_from([c for c in "0123456789X"]))
def test_wrong_check_char_is_invalid(body, c):
    id18 = body + check_char(body)
    assume(c != id18[17])
    assert validate_id(body + c, REF) == IdResult(None, "invalid", "check", body + c)


@given(id_bodies(), st.integers(0, 16))
def test_adjacent_transposition(body, pos):
    """Swapping two different adjacent characters (incl. the check char) is caught unless the sums collide.

    With weights w_i, w_{i+1} the check sum changes by (a−b)(w_{i+1}−w_i) mod 11; it is
    unchanged only when that is 0 mod 11. For positions inside the body the weights differ
    by 1..10 so it never is; swapping digit 17 with the check char can collide.
    """
    id18 = body + check_char(body)
    a, b = id18[pos], id18[pos + 1]
    assume(a != b)
    swapped = id18[:pos] + b + a + id18[pos + 2 :]
    r = validate_id(swapped, REF)
    if "X" in swapped[:17]:
        assert r.reason == "characters"
        return
    expected_same = check_char(swapped[:17]) == swapped[17]
    if pos < 16:
        assert not expected_same
    if expected_same:
        assert r.status == "valid" or r.reason in ("date", "region")
    else:
        assert r.status == "invalid"


@given(id_bodies().filter(lambda b: b[6:8] == "19"))
def test_upgrade15_round_trip(body):
    id18 = body + check_char(body)
    id15 = id18[:6] + id18[8:17]
    assume(id15[12:15] not in ("996", "997", "998", "999"))
    up = upgrade15(id15)
    assert up == id18
    assert birth_from_id(up) == birth_from_id(id18)
    assert sex_from_id(up) == sex_from_id(id18) == ("1" if int(id15[14]) % 2 else "2")
    assert validate_id(id15, REF) == IdResult(id18, "upgraded", None, None)


# ---------------------------------------------------------------- vectorised = scalar

RAW_VALUES = st.one_of(
    id_bodies().map(lambda b: b + check_char(b)),
    id_bodies().map(lambda b: b + "0123456789X"[int(b[-1])]),
    id_bodies().map(lambda b: (b + check_char(b))[:6] + b[8:17]),
    id_bodies().map(lambda b: " " + (b + check_char(b)).lower() + "\u3000"),
    id_bodies().map(lambda b: f"{float(b + '0'):.8E}"),
    st.text(alphabet="0123456789Xx ,.E+'１２３", max_size=20),
    st.none(),
)


def _norm(row):
    return tuple(None if pd.isna(v) else v for v in row)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RAW_VALUES, min_size=1, max_size=40), st.sampled_from([None, REF]))
def test_validate_ids_matches_validate_id(values, ref):
    for dtype in (object, "str"):
        ser = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 3 + 7)
        out = validate_ids(ser, ref_date=ref)
        assert list(out.columns) == ["id_number", "id_status", "id_reason", "id_candidate"]
        assert out.index.equals(ser.index)
        for v, (_, row) in zip(values, out.iterrows(), strict=True):
            assert _norm(row) == tuple(validate_id(v, ref)), v


def test_validate_ids_mixed_python_types():
    ser = pd.Series(
        [
            "11010519491231002X",
            110105491231002,
            4.30302199001011e17,
            None,
            float("nan"),
            "110105491231002",
        ]
    )
    out = validate_ids(ser)
    assert out["id_status"].tolist() == [
        "valid",
        "upgraded",
        "precision_lost",
        "missing",
        "missing",
        "upgraded",
    ]
    assert out["id_number"].iloc[1] == "11010519491231002X"


def test_validate_ids_empty():
    out = validate_ids(pd.Series([], dtype=object))
    assert len(out) == 0 and list(out.columns) == [
        "id_number",
        "id_status",
        "id_reason",
        "id_candidate",
    ]


# ---------------------------------------------------------------- SQL twins


def test_sql_check_char_and_validity_on_standard_vectors(engine):
    df = pd.DataFrame({"v": VALID + list(INVALID)})
    engine.register_df("ids", df)
    got = engine.query_df(
        f"SELECT v, {check_char_sql('substr(v, 1, 17)')} AS c, {is_valid_id18_sql('v')} AS ok FROM ids ORDER BY v"
    )
    for v, c, ok in got.itertuples(index=False):
        assert c == check_char(v[:17])
        assert ok == (v in VALID)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            id_bodies().map(lambda b: b + check_char(b)),
            id_bodies().map(lambda b: b + "0123456789X"[int(b[-2])]),
            st.text(alphabet="0123456789X", min_size=17, max_size=19),
            st.text(max_size=18),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_sql_agrees_with_python(engine, values):
    engine.register_df("hyp_ids", pd.DataFrame({"i": range(len(values)), "v": values}))
    got = engine.query_df(
        f"SELECT i, {is_valid_id18_sql('v')} AS ok, {is_valid_id18_sql('v', '?')} AS ok_ref, "
        f"CASE WHEN regexp_full_match(v, '[0-9]{{17}}.*') THEN {check_char_sql('v')} END AS c FROM hyp_ids ORDER BY i",
        [REF],
    )
    for v, (_, ok, ok_ref, c) in zip(values, got.itertuples(index=False), strict=True):
        is18 = len(v) == 18
        assert ok == (is18 and validate_id(v).status == "valid"), v
        assert ok_ref == (is18 and validate_id(v, REF).status == "valid"), v
        if len(v) >= 17 and v[:17].isdigit() and v[:17].isascii():
            assert c == check_char(v[:17])


def test_sql_is_never_null(engine):
    engine.register_df("nulls", pd.DataFrame({"v": [None, "", "x"]}))
    got = engine.query_df(f"SELECT {is_valid_id18_sql('v')} AS ok FROM nulls")
    assert got["ok"].tolist() == [False, False, False]


@pytest.mark.slow
def test_validate_ids_million_under_budget():
    import time

    rng = np.random.default_rng(7)
    n = 1_000_000
    base = date(1930, 1, 1)
    ids = []
    for days, seq in zip(
        rng.integers(0, 30000, n).tolist(), rng.integers(0, 1000, n).tolist(), strict=True
    ):
        b = "430302" + (base + timedelta(days=days)).strftime("%Y%m%d") + f"{seq:03d}"
        ids.append(b + check_char(b))
    cpu = time.process_time()
    out = validate_ids(pd.Series(ids, dtype="str"), REF)
    elapsed = time.process_time() - cpu  # CPU time: wall time depends on what else runs
    print(f"validate_ids: {n:,} ids, {elapsed:.2f}s CPU")
    assert (out["id_status"] == "valid").all()
    assert elapsed < 10
