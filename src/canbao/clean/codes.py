"""The contract's code tables, and lookups that accept a code or its name.

Why: extracts send 险种类型, 参保状态, 户籍状态 … as codes, names or local variants
(`110.0`, 城镇企业职工基本养老保险, 3 for 终止). Each lookup applies the district's params
overrides (``codes:`` source value → contract code or name) before the built-in tables.
Unknown values give None (or ``alive`` for 户籍状态, contract §7): callers keep the raw value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from canbao.classify.eligibility import MEDICAL_SCHEMES, PENSION_SCHEMES
from canbao.core import text

# ---------------------------------------------------------------- tables

SCHEMES: dict[str, str] = {
    "110": "企业职工基本养老保险",
    "120": "机关事业单位养老保险",
    "170": "城乡居民基本养老保险",
    "210": "失业保险",
    "310": "职工基本医疗保险",
    "390": "城乡居民基本医疗保险",
    "410": "工伤保险",
    "510": "生育保险",
}

# Names and real variants → contract code (contract §8.2). Legacy schemes (380 新型农村合作医疗,
# 391 城镇居民基本医疗保险, 新农保) are not contract families: map them in params if wanted.
SCHEME_ALIASES: dict[str, str] = {
    "企业职工基本养老保险": "110",
    "城镇企业职工基本养老保险": "110",
    "企业职工养老保险": "110",
    "企业养老保险": "110",
    "企业基本养老保险": "110",
    "职工基本养老保险": "110",
    "城镇职工基本养老保险": "110",
    "企业职工基本养老": "110",
    "机关事业单位养老保险": "120",
    "机关事业单位基本养老保险": "120",
    "机关事业养老保险": "120",
    "机关养老保险": "120",
    "城乡居民基本养老保险": "170",
    "城乡居民社会养老保险": "170",
    "城乡居民养老保险": "170",
    "城乡居民养老险": "170",
    "居民基本养老保险": "170",
    "居民养老保险": "170",
    "失业保险": "210",
    "职工基本医疗保险": "310",
    "城镇职工基本医疗保险": "310",
    "职工医疗保险": "310",
    "城镇职工医疗保险": "310",
    "职工医保": "310",
    "城乡居民基本医疗保险": "390",
    "城乡居民医疗保险": "390",
    "居民基本医疗保险": "390",
    "城乡居民医保": "390",
    "居民医保": "390",
    "工伤保险": "410",
    "生育保险": "510",
}

ENROLL_STATUS: dict[int, str] = {0: "未参保", 1: "正常参保", 2: "暂停参保", 4: "终止参保"}
ENROLL_ALIASES: dict[str, int] = {
    "未参保": 0,
    "正常参保": 1,
    "正常": 1,
    "参保": 1,
    "参保缴费": 1,
    "正常缴费": 1,
    "暂停参保": 2,
    "暂停": 2,
    "暂停缴费": 2,
    "中断缴费": 2,
    "终止参保": 4,
    "终止": 4,
    "终止缴费": 4,
}

BENEFIT_STATUS: dict[int, str] = {0: "未享受", 1: "正常享受", 2: "暂停享受", 3: "终止享受"}
BENEFIT_ALIASES: dict[str, int] = {
    "未享受": 0,
    "未享受待遇": 0,
    "无": 0,
    "正常享受": 1,
    "正常待遇": 1,
    "正常享受待遇": 1,
    "正常发放": 1,
    "暂停享受": 2,
    "暂停待遇": 2,
    "暂停享受待遇": 2,
    "暂停发放": 2,
    "终止享受": 3,
    "终止待遇": 3,
    "终止享受待遇": 3,
    "终止发放": 3,
}

LIFE_STATUSES = ("alive", "deceased", "moved_out", "cancelled")
HUKOU_STATUS: dict[str, str] = {
    "管理中": "alive",
    "正常": "alive",
    "在册": "alive",
    "死亡": "deceased",
    "死亡注销": "deceased",
    "迁出": "moved_out",
    "迁出注销": "moved_out",
    "注销": "cancelled",
}

SEX: dict[str, str] = {
    "1": "1",
    "2": "2",
    "男": "1",
    "女": "2",
    "男性": "1",
    "女性": "2",
    "M": "1",
    "F": "2",
    "MALE": "1",
    "FEMALE": "2",
}

# GB 3304-1991 民族, plus the common extensions 97 其他 and 98 外国血统中国籍人士.
ETHNICITY: dict[str, str] = dict(
    zip(
        [f"{i:02d}" for i in range(1, 57)] + ["97", "98"],
        [
            "汉族",
            "蒙古族",
            "回族",
            "藏族",
            "维吾尔族",
            "苗族",
            "彝族",
            "壮族",
            "布依族",
            "朝鲜族",
            "满族",
            "侗族",
            "瑶族",
            "白族",
            "土家族",
            "哈尼族",
            "哈萨克族",
            "傣族",
            "黎族",
            "傈僳族",
            "佤族",
            "畲族",
            "高山族",
            "拉祜族",
            "水族",
            "东乡族",
            "纳西族",
            "景颇族",
            "柯尔克孜族",
            "土族",
            "达斡尔族",
            "仫佬族",
            "羌族",
            "布朗族",
            "撒拉族",
            "毛南族",
            "仡佬族",
            "锡伯族",
            "阿昌族",
            "普米族",
            "塔吉克族",
            "怒族",
            "乌孜别克族",
            "俄罗斯族",
            "鄂温克族",
            "德昂族",
            "保安族",
            "裕固族",
            "京族",
            "塔塔尔族",
            "独龙族",
            "鄂伦春族",
            "赫哲族",
            "门巴族",
            "珞巴族",
            "基诺族",
            "其他",
            "外国血统中国籍人士",
        ],
        strict=True,
    )
)
_ETHNICITY_BY_NAME: dict[str, str] = {
    **{name: code for code, name in ETHNICITY.items()},
    **{
        name.removesuffix("族"): code
        for code, name in ETHNICITY.items()
        if name.endswith("族") and len(name) > 2
    },
    "汉": "01",
    "毛难族": "36",
    "崩龙族": "46",
    "未识别民族": "97",
    "穿青人": "97",
}

# ---------------------------------------------------------------- helpers

_NUMERIC_RE = re.compile(r"[+-]?\d+(?:\.0*)?")
_BRACKETS = dict.fromkeys(map(ord, "()（）[]【】"), None)


def norm(raw: object) -> str | None:
    """Code-table key: NFKC, no whitespace, ``110.0`` → ``110``, uppercase; empty → None."""
    if raw is None or raw is pd.NA or (isinstance(raw, float) and raw != raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    s = (text.fold_text(raw) or "").strip("'").upper()
    if _NUMERIC_RE.fullmatch(s):
        s = s.split(".")[0].lstrip("+")
    return s or None


def _override(raw: object, overrides: Mapping[str, object] | None) -> object:
    """The params override for ``raw`` (tried as given, then normalised), or ``raw`` itself."""
    if not overrides:
        return raw
    if isinstance(raw, str) and raw in overrides:
        return overrides[raw]
    key = norm(raw)
    if key is None:
        return raw
    for k, v in overrides.items():
        if norm(k) == key:
            return v
    return raw


def _lookup_scheme(key: str) -> str | None:
    if key in SCHEMES:
        return key
    name = key.translate(_BRACKETS)
    if name in SCHEME_ALIASES:
        return SCHEME_ALIASES[name]
    # "110-企业职工基本养老保险", "110 企业职工…", "企业职工基本养老保险(110)"
    m = re.fullmatch(r"(\d{3})\D.*|.*\D(\d{3})", name)
    if m:
        code = m.group(1) or m.group(2)
        rest = name.replace(code, "").strip("-_:：、,，.")
        if code in SCHEMES and (not rest or SCHEME_ALIASES.get(rest, code) == code):
            return code
    return None


# ---------------------------------------------------------------- lookups


def scheme_code(raw: object, overrides: Mapping[str, str] | None = None) -> str | None:
    """险种类型 code or name → contract code (``110`` … ``510``); unknown → None."""
    key = norm(_override(raw, overrides))
    return None if key is None else _lookup_scheme(key)


def scheme_family(code: str | None) -> str | None:
    """``pension`` for 110/120/170, ``medical`` for 310/390, else None (contract §7)."""
    if code in PENSION_SCHEMES:
        return "pension"
    if code in MEDICAL_SCHEMES:
        return "medical"
    return None


def enroll_status_code(raw: object, overrides: Mapping[str, object] | None = None) -> int | None:
    """参保状态 → 0, 1, 2 or 4 (3 = 终止 in some systems → 4); unknown → None."""
    key = norm(_override(raw, overrides))
    if key is None:
        return None
    if key in ("0", "1", "2", "4"):
        return int(key)
    if key == "3":
        return 4
    return ENROLL_ALIASES.get(key.translate(_BRACKETS))


def benefit_status_code(raw: object, overrides: Mapping[str, object] | None = None) -> int | None:
    """待遇享受状态 → 0–3; unknown → None."""
    key = norm(_override(raw, overrides))
    if key is None:
        return None
    if key in ("0", "1", "2", "3"):
        return int(key)
    return BENEFIT_ALIASES.get(key.translate(_BRACKETS))


def life_status(raw: object, overrides: Mapping[str, str] | None = None) -> str:
    """户籍状态 → alive/deceased/moved_out/cancelled; unknown (其它, empty) → alive (contract §7)."""
    key = norm(_override(raw, overrides))
    if key is None:
        return "alive"
    if key.lower() in LIFE_STATUSES:
        return key.lower()
    return HUKOU_STATUS.get(key, "alive")


def is_known_hukou_status(raw: object, overrides: Mapping[str, str] | None = None) -> bool:
    """False for values ``life_status`` only maps to alive by default (for reconciliation counts)."""
    key = norm(_override(raw, overrides))
    return key is not None and (key.lower() in LIFE_STATUSES or key in HUKOU_STATUS)


def sex_code(raw: object, overrides: Mapping[str, str] | None = None) -> str | None:
    """性别 1/2/男/女/男性/女性 → ``1``/``2``; anything else (0 未知, 9 未说明) → None."""
    key = norm(_override(raw, overrides))
    return None if key is None else SEX.get(key)


def ethnicity_code(raw: object, overrides: Mapping[str, str] | None = None) -> str | None:
    """民族 code (``1``, ``01``) or name (汉族, 汉) → two-digit GB 3304 code; 57/58 → 97/98."""
    key = norm(_override(raw, overrides))
    if key is None:
        return None
    if key.isdigit():
        code = f"{int(key):02d}"
        code = {"57": "97", "58": "98"}.get(code, code)
        return code if code in ETHNICITY else None
    return _ETHNICITY_BY_NAME.get(key)


def map_distinct(values: pd.Series, fn: Callable[..., object], *args: object) -> pd.Series:
    """``fn(value, *args)`` once per distinct value (NA included), mapped back; object dtype, same index.

    For the lookups above on a 3M-row column: ``map_distinct(df["险种类型"], scheme_code, cfg.codes.get("scheme"))``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [fn(v, *args) for v in uniques.tolist()]
    table[-1] = fn(None, *args)
    return pd.Series(
        table[np.where(codes < 0, len(uniques), codes)], index=values.index, dtype=object
    )
