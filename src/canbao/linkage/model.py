"""Stage 4c: the Splink model for rows the ID could not settle.

Settings, unsupervised training (EM on the district's own rows, u by seeded
random sampling) and prediction. Splink is imported only inside ``canbao.linkage``
and gets its ``db_api`` from the engine seam. Comparisons are Chinese-aware: a
name agrees as written, after 繁→简, by pinyin (同音字) or nearly by pinyin; a birth
date exactly or with one of year/month/day off; the ID by whatever digits survive.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from canbao.core.config import Config, LinkageConfig
from canbao.core.engine import Engine, scoring_engine, transfer
from canbao.linkage.exact import SETTLED_TABLE
from canbao.linkage.inputs import ROWS_TABLE, id_hint_sql, scalar

PERSONS_SPLINK = "link_splink_persons"
ROWS_SPLINK = "link_splink_rows"
TRAIN_SPLINK = "link_splink_train"
PREDICTIONS_TABLE = "link_predictions"
CANDIDATES_TABLE = "link_candidates"
# Rows (all sources, settled or not) sampled for training; EM pairs are capped separately.
TRAIN_ROWS_CAP = 200_000
PERSONS_NAME = "a_persons"  # dataset display names: l = persons, r = rows
ROWS_NAME = "b_rows"
LINKER_UID = "canbao"
M_FLOOR = 1e-4

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


def side_columns_sql() -> str:
    """Derived blocking columns, identical for persons and rows."""
    return (
        "year(birth_date) AS birth_year, strftime(birth_date, '%m-%d') AS birth_md, "
        "CASE WHEN length(id_hint) >= 14 THEN left(id_hint, 14) END AS id14, "
        "CASE WHEN length(id_hint) >= 18 THEN left(id_hint, 6) END AS id6, "
        "CASE WHEN length(id_hint) >= 18 THEN right(id_hint, 4) END AS id_tail"
    )


_COLS = (
    "nullif(name, '') AS name, nullif(name_simp, '') AS name_simp, "
    "nullif(name_pinyin, '') AS name_pinyin, nullif(sex, '') AS sex, birth_date"
)


def splink_persons_sql(with_population: bool = True) -> str:
    """Persons with an ID hint: the canonical ID, else whatever digits their chosen
    population row kept (a float-mangled or mistyped 公安 number still carries its
    region and birth digits)."""
    if with_population:
        hint = f"coalesce(p.id_number, {id_hint_sql('pop.')})"
        src = (
            "persons p LEFT JOIN population pop "
            "ON pop.file = p.file AND pop.source_row = p.source_row"
        )
    else:
        hint, src = "p.id_number", "persons p"
    return (
        f"CREATE OR REPLACE TABLE {PERSONS_SPLINK} AS SELECT *, {side_columns_sql()} FROM ("
        f"SELECT p.person_id AS unique_id, {_p_cols()}, {hint} AS id_hint, "
        f"p.id_number IS NOT NULL AS id_valid FROM {src}) "
        "ORDER BY unique_id"
    )


def _p_cols() -> str:
    return (
        "nullif(p.name, '') AS name, nullif(p.name_simp, '') AS name_simp, "
        "nullif(p.name_pinyin, '') AS name_pinyin, nullif(p.sex, '') AS sex, p.birth_date"
    )


def splink_rows_sql() -> str:
    """Rows no exact or repaired link settled."""
    return (
        f"CREATE OR REPLACE TABLE {ROWS_SPLINK} AS SELECT *, {side_columns_sql()} FROM ("
        f"SELECT rid AS unique_id, {_COLS}, id_hint, id_number IS NOT NULL AS id_valid "
        f"FROM {ROWS_TABLE} r "
        f"WHERE NOT EXISTS (SELECT 1 FROM {SETTLED_TABLE} s WHERE s.rid = r.rid)) "
        "ORDER BY unique_id"
    )


def splink_train_sql() -> str:
    """A deterministic sample (by md5 of the row key) of all rows, for training."""
    return (
        f"CREATE OR REPLACE TABLE {TRAIN_SPLINK} AS SELECT *, {side_columns_sql()} FROM ("
        f"SELECT rid AS unique_id, {_COLS}, id_hint, id_number IS NOT NULL AS id_valid "
        f"FROM {ROWS_TABLE} "
        f"ORDER BY md5(rid), rid LIMIT {int(TRAIN_ROWS_CAP)}) ORDER BY unique_id"
    )


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


def _linker(
    engine: Engine, rows_table: str, settings: dict[str, Any] | str, tf_path: Path | None = None
):  # -> splink.Linker (imported lazily: only canbao.linkage loads Splink)
    from splink import Linker

    db_api = engine.splink_db_api()
    sdfs = [
        db_api.register(PERSONS_SPLINK, dataset_display_name=PERSONS_NAME),
        db_api.register(rows_table, dataset_display_name=ROWS_NAME),
    ]
    linker = Linker(sdfs, settings, log_level=logging.WARNING)
    if tf_path is not None and tf_path.is_file():
        import pandas as pd

        tf = pd.read_csv(tf_path, dtype={"name": str, "tf_name": float}, keep_default_na=False)
        linker.table_management.register_term_frequency_lookup(db_api.register(tf), "name")
    return linker


def tf_path_for(model_path: Path) -> Path:
    """The name term-frequency table saved beside a model JSON."""
    return model_path.with_name("name_tf.csv")


def name_tf_sql() -> str:
    """How common each folded name is among the persons (the population, not the rows).

    Saved with the model so that a later period scores with the same frequencies:
    the model is then a pure function of the row and the person, which is what lets
    an incremental period reuse earlier results (``memory``)."""
    return (
        f"SELECT name, count(*) / sum(count(*)) OVER () AS tf_name FROM {PERSONS_SPLINK} "
        "WHERE name IS NOT NULL GROUP BY name ORDER BY name"
    )


def save_name_tf(engine: Engine, path: Path) -> None:
    df = engine.query_df(name_tf_sql())
    df["tf_name"] = df["tf_name"].map(lambda v: float(f"{v:.12g}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.12g")


def _patch_unobserved(model: dict[str, Any], u_max_pairs: float) -> dict[str, Any]:
    """Give levels Splink never saw a cautious value instead of leaving them untrained.

    A u never observed in ``u_max_pairs`` random pairs is set to 1/u_max_pairs (an
    upper bound, so the level's weight is understated); an m never observed among
    the EM pairs is set equal to u (the level then carries no weight); an m that EM
    drove towards zero is floored at ``M_FLOOR`` so that one disagreeing field
    (a birth date typed wrong) costs about 13 bits instead of ruling a pair out.
    """
    for comp in model["comparisons"]:
        for lvl in comp["comparison_levels"]:
            if lvl.get("is_null_level"):
                continue
            u, m = lvl.get("u_probability"), lvl.get("m_probability")
            if not isinstance(u, float) or u <= 0:
                u = lvl["u_probability"] = 1.0 / u_max_pairs
            if not isinstance(m, float) or m <= 0:
                lvl["m_probability"] = u
            elif m < M_FLOOR:
                lvl["m_probability"] = M_FLOOR
    return model


def round_floats(obj: Any, digits: int = 9) -> Any:
    """Round every float to ``digits`` significant digits.

    DuckDB sums EM's expectations in parallel, so the last bits of m/u can change with
    thread scheduling; rounding makes the saved model (which prediction reads back)
    byte-identical across runs without changing any decision.
    """
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v, digits) for v in obj]
    return obj


def train_model(engine: Engine, cfg: Config, model_path: Path) -> dict[str, Any]:
    """Train on a sample of all rows vs persons (EM, no labels) and save the model JSON."""
    n_persons = int(scalar(engine, f"SELECT count(*) FROM {PERSONS_SPLINK}"))
    linker = _linker(engine, TRAIN_SPLINK, settings_dict(n_persons))
    lk = cfg.linkage
    linker.training.estimate_u_using_random_sampling(
        max_pairs=lk.u_max_pairs, seed=lk.seed, min_count_per_level=None, num_chunks=1
    )
    for block in EM_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block, max_pairs=lk.em_max_pairs, estimate_without_term_frequencies=True
        )
    model = _patch_unobserved(linker.misc.save_model_to_json(), lk.u_max_pairs)
    model["probability_two_random_records_match"] = 1.0 / max(n_persons, 1)
    model = round_floats(model)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(
        json.dumps(model, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    save_name_tf(engine, tf_path_for(model_path))
    return model


def predict(engine: Engine, model_path: Path, lk: LinkageConfig | None = None) -> int:
    """Score every blocked (person, row) pair; writes ``link_candidates`` (all pairs,
    thin) and ``link_predictions`` (pairs with weight > -10, every column, for review
    and charts) into the registry. Returns the number of blocked pairs.

    The scoring runs on ``lk.engine``: the registry's DuckDB, or Spark, which gets the
    two input tables as parquet and hands the scored pairs back the same way. The
    model is the saved one either way, so both engines give the same links."""
    lk = lk or LinkageConfig()
    model = json.loads(model_path.read_text(encoding="utf-8"))
    with scoring_engine(
        lk.engine,
        engine,
        master=lk.spark_master,
        driver_memory=lk.spark_driver_memory,
        work_root=lk.spark_work_dir or None,
    ) as (scorer, work):
        if scorer is not engine:
            for table in (PERSONS_SPLINK, ROWS_SPLINK):
                transfer(engine, f"SELECT * FROM {table}", scorer, table, "unique_id", work)
        settings = model_for_dialect(model, scorer.dialect)
        linker = _linker(scorer, ROWS_SPLINK, settings, tf_path_for(model_path))
        pred = linker.inference.predict()
        name = pred.physical_name
        thin = (
            "SELECT unique_id_r AS rid, unique_id_l AS person_id, match_weight, "
            f"match_probability, match_key FROM {name}"
        )
        transfer(scorer, thin, engine, CANDIDATES_TABLE, "rid, person_id", work)
        transfer(
            scorer,
            f"SELECT * FROM {name} WHERE match_weight > -10",
            engine,
            PREDICTIONS_TABLE,
            "unique_id_r, unique_id_l",
            work,
        )
        pred.drop_table_from_database_and_remove_from_cache()
    return int(scalar(engine, f"SELECT count(*) FROM {CANDIDATES_TABLE}"))


def load_linker(engine: Engine, model_path: Path):
    """A Linker over the last run's persons and unsettled rows with the saved model
    (for charts in the district notebook)."""
    return _linker(engine, ROWS_SPLINK, str(model_path), tf_path_for(model_path))
