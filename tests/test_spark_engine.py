"""The Spark engine (``linkage.engine: spark``) scores exactly as DuckDB does.

Run by the test command (`bash scripts/bootstrap.sh test`) and by `pytest -m spark`;
needs pyspark (in the lock) and Java 17.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17"),
]

from canbao.core.config import load_config  # noqa: E402
from canbao.core.context import find_periods, period_context  # noqa: E402
from canbao.core.engine import DuckDBEngine, SparkEngine, scoring_engine, transfer  # noqa: E402
from canbao.demo import generate  # noqa: E402
from canbao.linkage import model as mdl  # noqa: E402
from canbao.run import manifest as mf  # noqa: E402
from canbao.run.pipeline import run_period  # noqa: E402

D = dt.date
# (l, r) pairs that sit on the edges of each comparison level.
PAIRS = [
    # name, simplified, pinyin | birth | sex | id hint, valid
    ("張偉", "张伟", "zhangwei", "张伟", "张伟", "zhangwei", D(1980, 1, 2), D(1980, 1, 2),
     "1", "1", "430302198001020011", "430302198001020011", True, True),
    ("张伟", "张伟", "zhangwei", "章伟", "章伟", "zhangwei", D(1980, 1, 2), D(1980, 2, 2),
     "1", "2", "430302198001020011", "430302198001020012", False, True),
    ("李娜", "李娜", "lina", "李那", "李那", "lina", D(1980, 1, 2), D(1981, 2, 2),
     "2", "2", "430302198001020011", "430302198001020101", False, False),
    ("王芳", "王芳", "wangfang", "王方芳", "王方芳", "wangfangfang", D(1980, 1, 2), None,
     "2", None, "430302198001020011", "430302198010020011", False, False),
    ("刘洋", "刘洋", "liuyang", "刘阳阳", "刘阳阳", "liuyangyang", D(1990, 5, 6), D(1990, 6, 5),
     "1", "1", "4303021990050600", "430302199005060012", False, True),
    ("陈静", "陈静", "chenjing", "程静", "程静", "chengjing", D(1990, 5, 6), D(1991, 5, 7),
     "2", "2", "43030219900506", "430302199005061234", False, True),
    ("阿依·古丽", "阿依古丽", "ayiguli", "阿依古丽", "阿依古丽", "ayiguli", None, None,
     None, None, None, "430302199005061234", False, True),
    ("赵强", "赵强", "zhaoqiang", "赵强", "赵强", "zhaoqiang", D(1970, 3, 4), D(1970, 3, 4),
     "1", "1", "430302197003040011", "430302197003040101", True, True),
    ("周杰", "周杰", "zhoujie", "周洁", "周洁", "zhoujie", D(1970, 3, 4), D(1970, 3, 4),
     "1", "1", "430302197003040011", "430302197003400011", False, False),
    (None, None, None, "赵强", "赵强", "zhaoqiang", D(1970, 3, 4), D(1970, 3, 4),
     "1", "1", "430302197003040011", "430302197003040011", True, True),
]  # fmt: skip
COLS = [
    f"{c}_{s}"
    for c in ("name", "name_simp", "name_pinyin", "birth_date", "sex", "id_hint", "id_valid")
    for s in ("l", "r")
]


def pairs_frame() -> pd.DataFrame:
    order = [
        "name_l", "name_simp_l", "name_pinyin_l", "name_r", "name_simp_r", "name_pinyin_r",
        "birth_date_l", "birth_date_r", "sex_l", "sex_r", "id_hint_l", "id_hint_r",
        "id_valid_l", "id_valid_r",
    ]  # fmt: skip
    df = pd.DataFrame(PAIRS, columns=order)[COLS]
    df.insert(0, "k", range(len(df)))
    return df


def level_select(dialect: str) -> str:
    """One boolean column per comparison level (its SQL as the engine runs it)."""
    cols = [
        f"coalesce({lvl['sql_condition']}, FALSE) AS {comp['output_column_name']}_{i}"
        for comp in mdl.comparisons(dialect)
        for i, lvl in enumerate(comp["comparison_levels"])
        if lvl["sql_condition"] != "ELSE"
    ]
    return f"SELECT k, {', '.join(cols)} FROM pairs"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    eng = SparkEngine(tmp_path_factory.mktemp("spark"), master="local[2]")
    yield eng
    eng.close()


def test_every_level_means_the_same_on_both_engines(spark, tmp_path):
    duck = DuckDBEngine()
    duck.register_df("pairs", pairs_frame())
    duck.execute("ALTER TABLE pairs ALTER birth_date_l TYPE DATE")
    duck.execute("ALTER TABLE pairs ALTER birth_date_r TYPE DATE")
    transfer(duck, "SELECT * FROM pairs", spark, "pairs", "k", tmp_path)
    want = duck.query_df(level_select("duckdb") + " ORDER BY k")
    got = spark.query_df(level_select("spark") + " ORDER BY k")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # The pairs do reach the levels they were made for (a level never true tests nothing).
    assert want.drop(columns="k").any().all(), want.drop(columns="k").any()


def test_a_duckdb_model_restated_for_spark_keeps_its_numbers():
    model = {
        "sql_dialect": "duckdb",
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.birth_date = r.birth_date", "sql_dialect": "duckdb"}
        ],
        "comparisons": [
            {**c, "comparison_levels": [{**lv, "m_probability": 0.1 * i, "u_probability": 0.01}
                                        for i, lv in enumerate(c["comparison_levels"])]}
            for c in mdl.comparisons("duckdb")
        ],
    }  # fmt: skip
    spark_model = mdl.model_for_dialect(model, "spark")
    assert spark_model["sql_dialect"] == "spark"
    assert model["sql_dialect"] == "duckdb"  # the saved model is not touched
    levels = [lv for c in spark_model["comparisons"] for lv in c["comparison_levels"]]
    assert any("jaro_winkler(" in lv["sql_condition"] for lv in levels)
    assert not any("jaro_winkler_similarity" in lv["sql_condition"] for lv in levels)
    before = [lv["m_probability"] for c in model["comparisons"] for lv in c["comparison_levels"]]
    assert [lv["m_probability"] for lv in levels] == before


def _outputs(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.name.startswith("registry.duckdb")
        and p.name not in mf.RUN_RECORDS  # the stage records hold timings
    }


def test_the_demo_district_is_identical_on_spark(tmp_path):
    """Two periods (the second reuses the model and the remembered links): every
    export, model file, clerical-review workbook and roster is byte-identical."""
    generate("430302", people=1500, seed=11, raw_root=tmp_path / "raw",
             truth_root=tmp_path / "truth", periods=2)  # fmt: skip
    base = load_config("430302")
    summaries = {}
    for kind in ("duckdb", "spark"):
        cfg = dataclasses.replace(
            base,
            linkage=dataclasses.replace(
                base.linkage,
                engine=kind,
                spark_master="local[2]",
                spark_work_dir=str(tmp_path / "handover"),
            ),
        )
        summaries[kind] = [
            run_period(cfg, period_context(p, tmp_path / kind))["link"]
            for p in find_periods(tmp_path / "raw" / "430302")
        ]
    assert summaries["spark"] == summaries["duckdb"]
    assert summaries["duckdb"][0]["blocked_pairs"] > 0  # Splink did score pairs
    duck, spark = _outputs(tmp_path / "duckdb"), _outputs(tmp_path / "spark")
    assert any(k.endswith("links.csv") for k in duck)
    assert spark == duck
    # The parquet hand-over went through spark_work_dir and was cleaned up.
    assert (tmp_path / "handover").is_dir() and not any((tmp_path / "handover").iterdir())


def test_spark_without_java_says_so(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="Java 17"), scoring_engine("spark", DuckDBEngine()):
        pass
