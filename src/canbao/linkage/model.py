"""Stage 4c: the Splink model for rows the ID could not settle.

Unsupervised training (EM on the district's own rows, u by seeded
random sampling) and prediction. Splink is imported only inside ``canbao.linkage``
and gets its ``db_api`` from the engine seam. The comparisons, blocking rules and
settings are in :mod:`canbao.linkage.comparisons`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from canbao.core.config import Config, LinkageConfig
from canbao.core.engine import Engine, scoring_engine, transfer
from canbao.linkage.comparisons import (
    BLOCKING_RULES,
    EM_BLOCKS,
    TITLES,
    comparisons,
    model_for_dialect,
    settings_dict,
)
from canbao.linkage.exact import SETTLED_TABLE
from canbao.linkage.inputs import ROWS_TABLE, id_hint_sql, scalar

# Importable from here too (``mdl.BLOCKING_RULES``, ``mdl.comparisons`` …).
__all__ = [
    "BLOCKING_RULES",
    "CANDIDATES_TABLE",
    "EM_BLOCKS",
    "PREDICTIONS_TABLE",
    "ROWS_SPLINK",
    "TITLES",
    "comparisons",
    "load_linker",
    "model_for_dialect",
    "predict",
    "settings_dict",
    "splink_persons_sql",
    "splink_rows_sql",
    "splink_train_sql",
    "tf_path_for",
    "train_model",
]

PERSONS_SPLINK = "link_splink_persons"
ROWS_SPLINK = "link_splink_rows"
TRAIN_SPLINK = "link_splink_train"
PREDICTIONS_TABLE = "link_predictions"
CANDIDATES_TABLE = "link_candidates"
# Rows (all sources, settled or not) sampled for training; EM pairs are capped separately.
TRAIN_ROWS_CAP = 200_000
PERSONS_NAME = "a_persons"  # dataset display names: l = persons, r = rows
ROWS_NAME = "b_rows"
M_FLOOR = 1e-4


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
