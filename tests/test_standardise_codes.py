"""Code tables: 险种, 参保状态, 待遇享受状态, 户籍状态, 性别, 民族 as codes, names and variants."""

from __future__ import annotations

import pytest

from canbao.clean.codes import (
    ETHNICITY,
    benefit_status_code,
    enroll_status_code,
    ethnicity_code,
    is_known_hukou_status,
    life_status,
    scheme_code,
    scheme_family,
    sex_code,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110", "110"),
        ("110.0", "110"),
        (110, "110"),
        (110.0, "110"),
        (" 110 ", "110"),
        ("１１０", "110"),
        ("企业职工基本养老保险", "110"),
        ("城镇企业职工基本养老保险", "110"),
        ("机关事业单位养老保险", "120"),
        ("机关事业单位基本养老保险", "120"),
        ("机关事业单位(基本)养老保险", "120"),
        ("机关事业单位（基本）养老保险", "120"),
        ("城乡居民基本养老保险", "170"),
        ("城乡居民社会养老保险", "170"),
        ("失业保险", "210"),
        ("职工基本医疗保险", "310"),
        ("城镇职工基本医疗保险", "310"),
        ("城乡居民基本医疗保险", "390"),
        ("工伤保险", "410"),
        ("生育保险", "510"),
        ("110-企业职工基本养老保险", "110"),
        ("390 城乡居民基本医疗保险", "390"),
    ],
)
def test_scheme_code(raw, code):
    assert scheme_code(raw) == code


@pytest.mark.parametrize(
    "raw",
    [None, "", "新型农村合作医疗", "380", "391", "150", "商业保险", "110-城乡居民基本医疗保险"],
)
def test_scheme_unknown(raw):
    assert scheme_code(raw) is None


def test_scheme_overrides_come_first():
    assert scheme_code("150", {"150": "170"}) == "170"
    assert scheme_code("150.0", {"150": "170"}) == "170"
    assert scheme_code("新农合", {"新农合": "城乡居民基本医疗保险"}) == "390"
    assert scheme_code("110", {"110": "120"}) == "120"


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("110", "pension"),
        ("120", "pension"),
        ("170", "pension"),
        ("310", "medical"),
        ("390", "medical"),
        ("210", None),
        ("410", None),
        ("510", None),
        (None, None),
    ],
)
def test_scheme_family(code, family):
    assert scheme_family(code) == family


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0", 0),
        ("1", 1),
        (1, 1),
        ("1.0", 1),
        ("2", 2),
        ("3", 4),
        ("4", 4),
        ("未参保", 0),
        ("正常参保", 1),
        ("暂停参保", 2),
        ("终止参保", 4),
        (None, None),
        ("5", None),
        ("其它", None),
    ],
)
def test_enroll_status(raw, code):
    assert enroll_status_code(raw) == code


def test_enroll_status_override():
    # A district whose 3 is 暂停 says so in params.
    assert enroll_status_code("3", {"3": "2"}) == 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0", 0),
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("未享受", 0),
        ("正常享受", 1),
        ("暂停享受", 2),
        ("终止享受", 3),
        (None, None),
        ("9", None),
    ],
)
def test_benefit_status(raw, code):
    assert benefit_status_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("管理中", "alive"),
        ("死亡", "deceased"),
        ("迁出", "moved_out"),
        ("注销", "cancelled"),
        (" 死亡 ", "deceased"),
        ("其它", "alive"),
        ("", "alive"),
        (None, "alive"),
    ],
)
def test_life_status(raw, status):
    assert life_status(raw) == status


def test_life_status_override_and_known():
    assert life_status("其它", {"其它": "死亡"}) == "deceased"
    assert life_status("X1", {"X1": "moved_out"}) == "moved_out"
    assert not is_known_hukou_status("其它")
    assert is_known_hukou_status("管理中")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1", "1"),
        ("2", "2"),
        (1, "1"),
        (2.0, "2"),
        ("男", "1"),
        ("女", "2"),
        ("男性", "1"),
        ("女性", "2"),
        (" 女 ", "2"),
        ("0", None),
        ("9", None),
        ("未知", None),
        (None, None),
    ],
)
def test_sex(raw, code):
    assert sex_code(raw) == code


def test_ethnicity_gb3304():
    assert len(ETHNICITY) == 58 and ETHNICITY["01"] == "汉族" and ETHNICITY["56"] == "基诺族"
    assert (
        ethnicity_code("汉族")
        == ethnicity_code("汉")
        == ethnicity_code("1")
        == ethnicity_code(1)
        == "01"
    )
    assert ethnicity_code("土家族") == "15"
    assert ethnicity_code("57") == "97" and ethnicity_code("58") == "98"
    assert ethnicity_code("毛难族") == "36"
    assert ethnicity_code("99") is None and ethnicity_code("火星族") is None


def test_map_distinct_aligned_with_overrides():
    import pandas as pd

    from canbao.clean.codes import map_distinct

    ser = pd.Series(["110", "城乡居民社会养老保险", None, "150", "110.0"], index=[9, 8, 7, 6, 5])
    out = map_distinct(ser, scheme_code, {"150": "170"})
    assert out.index.tolist() == [9, 8, 7, 6, 5]
    assert out.tolist() == ["110", "170", None, "170", "110"]
    assert map_distinct(pd.Series(["其它", None]), life_status).tolist() == ["alive", "alive"]
