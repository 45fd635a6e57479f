"""Incremental linkage: remember accepted Splink links across periods.

A later period reuses the model of the latest earlier period (no EM; the model
JSON and its name-frequency table are copied into the period). A row whose
identity content (source, raw ID, raw name, sex, birth date: never the row number,
rows move between extracts) was linked by that same model to a person whose
Splink fields have not changed gets the stored result without Splink, unless a
person new or changed since then falls in one of the model's blocking rules with
it (that person could compete). So the links are exactly those of a prediction
of every unsettled row with the same model. Exact and repaired links are not
remembered: they are set-based SQL, recomputed every run (see the report of
benchmarks/link_scale.py --incremental).

Persistent tables (registry database): ``link_memory`` (``row_key``,
``person_id``, ``person_key``, ``model`` = sha256 of model + frequencies,
``method``, ``match_probability``, ``repair``, ``period``): the accepted
probabilistic links of the last run, not decided by a reviewer; and
``link_memory_persons`` (``period``, ``person_id``, ``person_key``): the persons
those results were found among.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

from canbao.core.engine import Engine, transaction
from canbao.linkage.exact import SETTLED_TABLE
from canbao.linkage.inputs import (
    ROWS_TABLE,
    md5_key_sql,
    row_key_sql,
    scalar,
    table_columns,
)
from canbao.linkage.model import (
    PERSONS_SPLINK,
    ROWS_SPLINK,
    side_columns_sql,
    tf_path_for,
)
from canbao.linkage.review import DECISIONS_TABLE, review_key_sql

MEMORY_TABLE = "link_memory"
SNAPSHOT_TABLE = "link_memory_persons"  # persons each stored period's results were found among
HITS_TABLE = "link_memory_hits"
BLOCKED_TABLE = "link_memory_blocked"


# What Splink compares of a link row, not where the row sits (stored as row_key).
ROW_KEY_COLUMNS = ("source", "id_raw", "name_raw", "sex", "birth_date")


def person_key_sql(a: str = "p") -> str:
    """Content key of a Splink person (``link_splink_persons``): a changed name,
    birth date, sex or ID hint makes a stored link stale."""
    parts = [
        f"coalesce({a}.name, '')",
        f"coalesce({a}.name_simp, '')",
        f"coalesce({a}.name_pinyin, '')",
        f"coalesce({a}.sex, '')",
        f"coalesce(CAST({a}.birth_date AS VARCHAR), '')",
        f"coalesce({a}.id_hint, '')",
        f"CAST({a}.id_valid AS VARCHAR)",
    ]
    return md5_key_sql(parts)


def create_memory_sql() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {MEMORY_TABLE} (row_key VARCHAR, person_id VARCHAR, "
        "person_key VARCHAR, model VARCHAR, method VARCHAR, match_probability DOUBLE, "
        "repair VARCHAR, period DATE)"
    )


def model_digest(path: Path) -> str:
    """sha256 of the model JSON and its name-frequency table: what scores a pair."""
    h = hashlib.sha256(path.read_bytes())
    tf = tf_path_for(path)
    if tf.is_file():
        h.update(b"\x00" + tf.read_bytes())
    return h.hexdigest()


def earlier_model(district_dir: Path, period: dt.date) -> Path | None:
    """The model JSON of the latest earlier period that has one."""
    found = None
    if not district_dir.is_dir():
        return None
    for d in sorted(district_dir.iterdir()):
        try:
            p = dt.date.fromisoformat(d.name)
        except ValueError:
            continue
        m = d / "linkage" / "model.json"
        if p < period and m.is_file():
            found = m
    return found


def adopt_model(source: Path, target: Path) -> None:
    """This period's model is the earlier one, byte for byte (charts, next period)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() == target.resolve():
        return
    shutil.copyfile(source, target)
    tf_target = tf_path_for(target)
    if tf_path_for(source).is_file():
        shutil.copyfile(tf_path_for(source), tf_target)
    else:
        tf_target.unlink(missing_ok=True)


def create_snapshot_sql() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {SNAPSHOT_TABLE} (period DATE, person_id VARCHAR, "
        "person_key VARCHAR)"
    )


def hits_sql() -> str:
    """Unsettled rows with a stored result of this model ($1 = model digest) whose
    person still exists with unchanged Splink fields; rows a reviewer decided on are
    left out (decisions are applied afresh every run)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE {HITS_TABLE} AS
    WITH open AS MATERIALIZED (
        SELECT r.*, {row_key_sql("r", ROW_KEY_COLUMNS)} AS row_key FROM {ROWS_TABLE} r
        WHERE NOT EXISTS (SELECT 1 FROM {SETTLED_TABLE} s WHERE s.rid = r.rid)
          AND NOT EXISTS (SELECT 1 FROM {DECISIONS_TABLE} d
                          WHERE d.review_key = {review_key_sql("r")})),
    mem AS MATERIALIZED (
        SELECT m.* FROM {MEMORY_TABLE} m JOIN {PERSONS_SPLINK} p ON p.unique_id = m.person_id
        WHERE m.model = $1 AND {person_key_sql("p")} = m.person_key)
    SELECT o.rid, m.row_key, m.person_id, m.method, m.match_probability, m.repair, m.period
    FROM open o JOIN mem m USING (row_key)
    ORDER BY o.rid
    """


def model_blocking_rules(model: dict) -> list[str]:
    """The prediction blocking rules a saved model was scored with."""
    rules = model.get("blocking_rules_to_generate_predictions") or []
    return [r["blocking_rule"] if isinstance(r, dict) else str(r) for r in rules]


def blocked_sql(rules: list[str]) -> str:
    """Hits that a person new or changed since the hit was stored could compete for.

    Any pair one of the prediction blocking rules would form between such a person
    and the row sends the row back through Splink, so a reused result is always the
    one a full prediction with the same model would give."""
    changed = f"""
        SELECT hp.period, p.* FROM (SELECT DISTINCT period FROM {HITS_TABLE}) hp,
               {PERSONS_SPLINK} p
        WHERE NOT EXISTS (SELECT 1 FROM {SNAPSHOT_TABLE} s WHERE s.period = hp.period
                          AND s.person_id = p.unique_id AND s.person_key = {person_key_sql("p")})
    """
    rows = f"""
        SELECT *, {side_columns_sql()} FROM (
            SELECT h.rid, h.period, nullif(r.name_pinyin, '') AS name_pinyin, r.birth_date,
                   r.id_hint
            FROM {HITS_TABLE} h JOIN {ROWS_TABLE} r USING (rid))
    """
    joins = (
        " UNION ".join(
            f"SELECT r.rid FROM changed l JOIN hr r ON l.period = r.period AND ({rule})"
            for rule in rules
        )
        or f"SELECT rid FROM {HITS_TABLE}"
    )  # no rules: Splink compares all pairs, recheck all
    return f"""
    CREATE OR REPLACE TEMP TABLE {BLOCKED_TABLE} AS
    WITH changed AS ({changed}), hr AS ({rows})
    {joins}
    """


def reuse_sql() -> str:
    """Settle the hits no new or changed person competes for."""
    return f"""
    INSERT INTO {SETTLED_TABLE}
    SELECT h.rid, h.person_id, h.method, h.match_probability, h.repair
    FROM {HITS_TABLE} h
    WHERE NOT EXISTS (SELECT 1 FROM {BLOCKED_TABLE} b WHERE b.rid = h.rid)
    """


def reuse(engine: Engine, model_path: Path) -> dict[str, int]:
    """Settle rows from memory; returns counts of hits and of hits sent back to Splink."""
    engine.execute(create_memory_sql())
    engine.execute(create_snapshot_sql())
    engine.execute(hits_sql(), [model_digest(model_path)])
    model = json.loads(model_path.read_text(encoding="utf-8"))
    engine.execute(blocked_sql(model_blocking_rules(model)))
    engine.execute(reuse_sql())
    hits = int(scalar(engine, f"SELECT count(*) FROM {HITS_TABLE}"))
    blocked = int(scalar(engine, f"SELECT count(*) FROM {BLOCKED_TABLE}"))
    return {"memory_reused": hits - blocked, "memory_rechecked": blocked}


def remember_sql(with_hits: bool) -> list[str]:
    """The new memory: this run's reused results and its accepted Splink results, all
    now valid against this period's persons, whose keys are the one snapshot kept
    ($1 = model digest, $2 = period). Rows absent from the period are forgotten, so
    the memory stays as small as the period's probabilistic links."""
    reused = (
        f"""
        SELECT h.row_key, h.person_id, m.person_key, m.model, h.method, h.match_probability,
               h.repair, CAST($2 AS DATE), h.rid
        FROM {HITS_TABLE} h JOIN {MEMORY_TABLE} m ON m.row_key = h.row_key AND m.model = $1
        WHERE NOT EXISTS (SELECT 1 FROM {BLOCKED_TABLE} b WHERE b.rid = h.rid)
        UNION ALL"""
        if with_hits
        else ""
    )
    return [
        create_memory_sql(),
        create_snapshot_sql(),
        f"""
        CREATE OR REPLACE TEMP TABLE _link_memory_new AS
        SELECT DISTINCT ON (row_key) * EXCLUDE (rid) FROM ({reused}
            SELECT {row_key_sql("r", ROW_KEY_COLUMNS)} AS row_key, l.person_id,
                   {person_key_sql("p")} AS person_key, $1 AS model, l.method,
                   l.match_probability, l.repair, CAST($2 AS DATE) AS period, r.rid
            FROM links l
            JOIN {ROWS_TABLE} r ON r.source = l.source AND r.file = l.file
                 AND r.source_row = l.source_row
            JOIN {ROWS_SPLINK} s ON s.unique_id = r.rid
            JOIN {PERSONS_SPLINK} p ON p.unique_id = l.person_id
            WHERE l.method = 'probabilistic'
              AND NOT EXISTS (SELECT 1 FROM {DECISIONS_TABLE} d
                              WHERE d.review_key = {review_key_sql("r")}))
        ORDER BY row_key, rid
        """,
        f"DELETE FROM {MEMORY_TABLE}",
        f"INSERT INTO {MEMORY_TABLE} SELECT * FROM _link_memory_new ORDER BY row_key",
        "DROP TABLE _link_memory_new",
        f"DELETE FROM {SNAPSHOT_TABLE}",
        f"""
        INSERT INTO {SNAPSHOT_TABLE}
        SELECT CAST($2 AS DATE), unique_id, {person_key_sql("p")} FROM {PERSONS_SPLINK} p
        WHERE EXISTS (SELECT 1 FROM {MEMORY_TABLE}) AND $1 IS NOT NULL
        ORDER BY unique_id
        """,
    ]


def remember(engine: Engine, model: str, period: dt.date, with_hits: bool) -> None:
    """Store the memory in one transaction: a killed run leaves the old memory or the
    new one, and either holds only results that are correct for their model."""
    with transaction(engine):
        for sql in remember_sql(with_hits):
            engine.execute(sql, [model, period] if "$2" in sql else None)


def memory_rows(engine: Engine) -> int:
    if not table_columns(engine, MEMORY_TABLE):
        return 0
    return int(scalar(engine, f"SELECT count(*) FROM {MEMORY_TABLE}"))
