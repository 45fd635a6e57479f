"""The Splink model's shape: Chinese-aware comparisons, blocking rules and settings, and
the same levels restated in Spark's dialect (one model, two engines, the same scores).

A name agrees as written, after 繁→简, by pinyin (同音字) or nearly by pinyin; a birth
date exactly or with one of year/month/day off; the ID by whatever digits survive.
"""

from __future__ import annotations

import json
from typing import Any

LINKER_UID = "canbao"

# Blocking rules for prediction. Chosen by measured blocking recall on the demo
# (benchmarks/accuracy.py prints it): the first two carry almost every true pair,
# the others catch a wrong birth year, damaged or float-mangled IDs and rows
# without a birth date.
BLOCKING_RULES: tuple[tuple[str, str], ...] = (
    ("出生日期", "l.birth_date = r.birth_date"),
    ("拼音+出生年", "l.name_pinyin = r.name_pinyin AND l.birth_year = r.birth_year"),
    ("拼音+月日", "l.name_pinyin = r.name_pinyin AND l.birth_md = r.birth_md"),
    ("证件号前14位", "l.id14 = r.id14"),
    ("证件号地区码+末4位", "l.id6 = r.id6 AND l.id_tail = r.id_tail"),
    (
        "拼音(无出生日期)",
        "l.name_pinyin = r.name_pinyin AND (l.birth_date IS NULL OR r.birth_date IS NULL)",
    ),
)
# EM training blocks: each leaves the other comparisons free to be estimated.
EM_BLOCKS = ("l.birth_date = r.birth_date", "l.name_pinyin = r.name_pinyin")


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(col: str, label: str) -> dict[str, Any]:
    return _level(f"{col}_l IS NULL OR {col}_r IS NULL", label, is_null_level=True)


# Chart/workbook titles per comparison (Splink's saved JSON keeps no description).
TITLES = {"name": "姓名", "birth_date": "出生日期", "sex": "性别", "id_hint": "证件号码"}

# The few functions whose names differ between engines. Spark's come from Splink's
# similarity jar (jaro_winkler, damerau_levenshtein) or are spelt out (Hamming
# distance as a count of differing positions).
_FUNCS: dict[str, dict[str, str]] = {
    "duckdb": {
        "jaro_winkler": "jaro_winkler_similarity({a}, {b})",
        "hamming": "hamming({a}, {b})",
        "damerau": "damerau_levenshtein({a}, {b})",
        "starts_with": "starts_with({a}, {b})",
    },
    "spark": {
        "jaro_winkler": "jaro_winkler({a}, {b})",
        "hamming": (
            "size(filter(sequence(1, length({a})), "
            "i -> substring({a}, i, 1) <> substring({b}, i, 1)))"
        ),
        "damerau": "damerau_levenshtein({a}, {b})",
        "starts_with": "startswith({a}, {b})",
    },
}


def _fn(dialect: str, name: str, a: str, b: str) -> str:
    return _FUNCS[dialect][name].format(a=a, b=b)


def comparisons(dialect: str = "duckdb") -> list[dict[str, Any]]:
    """The four comparisons as Splink settings dicts (labels are the chart text)."""
    name = {
        "output_column_name": "name",
        "comparison_description": "姓名",
        "comparison_levels": [
            _null("name", "姓名缺失"),
            _level("name_l = name_r", "姓名一致", tf_adjustment_column="name"),
            _level("name_simp_l = name_simp_r", "繁简转换后一致"),
            _level("name_pinyin_l = name_pinyin_r", "同音(拼音一致)"),
            _level(
                f"{_fn(dialect, 'jaro_winkler', 'name_pinyin_l', 'name_pinyin_r')} >= 0.9",
                "拼音相近",
            ),
            _level("ELSE", "姓名不同"),
        ],
    }
    same = " + ".join(
        f"CAST({f}(birth_date_l) = {f}(birth_date_r) AS INT)" for f in ("year", "month", "day")
    )
    birth = {
        "output_column_name": "birth_date",
        "comparison_description": "出生日期",
        "comparison_levels": [
            _null("birth_date", "出生日期缺失"),
            _level("birth_date_l = birth_date_r", "出生日期一致"),
            _level(f"{same} >= 2", "年月日有一项不同"),
            _level("ELSE", "出生日期不同"),
        ],
    }
    sex = {
        "output_column_name": "sex",
        "comparison_description": "性别",
        "comparison_levels": [
            _null("sex", "性别缺失"),
            _level("sex_l = sex_r", "性别一致"),
            _level("ELSE", "性别不同"),
        ],
    }
    a, b = "id_hint_l", "id_hint_r"
    prefix = (
        f"least(length({a}), length({b})) >= 8 "
        f"AND ({_fn(dialect, 'starts_with', a, b)} OR {_fn(dialect, 'starts_with', b, a)})"
    )
    # Hamming distance (fast) for equal-length numbers; Damerau only where it can be 1.
    ham = f"CASE WHEN length({a}) = length({b}) THEN {_fn(dialect, 'hamming', a, b)} END"
    swap = f"CASE WHEN {ham} = 2 THEN {_fn(dialect, 'damerau', a, b)} = 1 ELSE FALSE END"
    # Two valid numbers that differ are two numbers: the check character rules out a
    # one-digit or transposition typo between them, and namesakes born the same day in
    # the same county differ in only the 2–4 order/check digits. Near levels are for
    # damaged numbers only.
    damaged = "NOT (id_valid_l AND id_valid_r)"
    idc = {
        "output_column_name": "id_hint",
        "comparison_description": "证件号码(残存数字)",
        "comparison_levels": [
            _null("id_hint", "证件号码缺失"),
            _level("id_hint_l = id_hint_r", "证件号码一致"),
            _level(f"{damaged} AND {ham} <= 1", "证件号码差一位"),
            _level(f"{damaged} AND {swap}", "相邻两位颠倒"),
            _level(prefix, "前几位一致(科学计数法丢位)"),
            _level(f"{damaged} AND {ham} <= 2", "证件号码差两位"),
            _level("ELSE", "证件号码不同"),
        ],
    }
    return [name, birth, sex, idc]


def model_for_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A saved (DuckDB) model restated for another engine: the same levels, m and u,
    with each level's SQL written in ``dialect``. The levels are matched by position."""
    if model.get("sql_dialect") == dialect:
        return model
    out = json.loads(json.dumps(model))
    out["sql_dialect"] = dialect
    for br in out["blocking_rules_to_generate_predictions"]:
        if isinstance(br, dict):
            br["sql_dialect"] = dialect
    fresh = {c["output_column_name"]: c["comparison_levels"] for c in comparisons(dialect)}
    for comp in out["comparisons"]:
        levels = fresh[comp["output_column_name"]]
        if len(levels) != len(comp["comparison_levels"]):
            raise ValueError(f"model comparison {comp['output_column_name']} has other levels")
        for saved, new in zip(comp["comparison_levels"], levels, strict=True):
            saved["sql_condition"] = new["sql_condition"]
    return out


def settings_dict(n_persons: int) -> dict[str, Any]:
    """Splink settings; the prior is one true person among ``n_persons``."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": [sql for _, sql in BLOCKING_RULES],
        "probability_two_random_records_match": 1.0 / max(n_persons, 1),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "em_convergence": 0.0001,
        "max_iterations": 25,
        "linker_uid": LINKER_UID,
    }
