"""Stage 7: the classified persons written into the persistent registry, its per-period
history, the findings history and the change log, in one transaction.

Decisions (docs/design.md, contract §2, §8.7):

* A person who leaves every population extract keeps their registry row unchanged
  (``last_period`` < the current period flags them) and gets a 取消 change; they are
  not in the period's ``registry.csv``. ``registry_history`` holds, per period, exactly
  the persons exported that period, so an as-of export is that period's export.
* ``registry`` is derived from ``registry_history`` (each person's latest row, plus
  ``first_period``/``last_period``), so re-running a period replaces it cleanly.
"""

from __future__ import annotations

from canbao.core.catalog import has_table, scalar
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, transaction
from canbao.registry.changelog import changelog_insert_sql
from canbao.registry.tables import EXTRA_COLUMNS, REGISTRY_COLUMNS, ensure_registry_tables
from canbao.survey import provincial
from canbao.survey.tables import STAGED, apply_staged_sql


def new_person_ids_insert_sql() -> str:
    """Record every (person_id, id_number) pair not yet known ($1 = period)."""
    return """
    INSERT INTO person_ids
    SELECT DISTINCT p.person_id, p.id_number, CAST($1 AS DATE) FROM persons p
    WHERE NOT EXISTS (SELECT 1 FROM person_ids i WHERE i.person_id = p.person_id
                      AND i.id_number IS NOT DISTINCT FROM p.id_number)
    """


def history_insert_sql() -> str:
    """This period's registry rows: persons with their classification ($1 = period)."""
    cols = ", ".join(
        f"s.{c}" if c in ("pension_status", "medical_status", "registration") else f"p.{c}"
        for c in REGISTRY_COLUMNS + EXTRA_COLUMNS
    )
    return f"""
    INSERT INTO registry_history
    SELECT CAST($1 AS DATE), {cols}
    FROM persons p LEFT JOIN person_status s USING (person_id)
    ORDER BY p.person_id
    """


def findings_history_insert_sql() -> str:
    return """
    INSERT INTO findings_history
    SELECT CAST($1 AS DATE), finding, person_id, file, source_row, detail FROM findings
    ORDER BY finding, file NULLS FIRST, source_row NULLS FIRST, person_id NULLS FIRST, detail
    """


def affected_persons_sql() -> str:
    """Persons whose registry row must be re-derived after committing period $1."""
    return """
    CREATE OR REPLACE TEMP TABLE _rc_affected AS
    SELECT person_id FROM registry WHERE last_period >= CAST($1 AS DATE)
    UNION SELECT person_id FROM persons
    """


def registry_rebuild_sql() -> list[str]:
    """Re-derive ``registry`` rows of the affected persons from their latest history row."""
    cols = ", ".join(f"h.{c}" for c in REGISTRY_COLUMNS + EXTRA_COLUMNS)
    return [
        "DELETE FROM registry WHERE person_id IN (SELECT person_id FROM _rc_affected)",
        f"""
        INSERT INTO registry
        SELECT {cols}, f.first_period, f.last_period
        FROM (SELECT person_id, min(period) AS first_period, max(period) AS last_period
              FROM registry_history
              WHERE person_id IN (SELECT person_id FROM _rc_affected)
              GROUP BY person_id) f
        JOIN registry_history h ON h.person_id = f.person_id AND h.period = f.last_period
        ORDER BY h.person_id
        """,
    ]


def commit_period(engine: Engine, cfg: Config, ctx: PeriodContext) -> None:
    """Stage 7: write the period into the persistent registry in one transaction.

    Re-running a period replaces that period's history, findings history and change
    log; the change log diffs against the latest earlier period (contract §8.7). The survey
    returns stage 5 staged are applied in the same transaction, and who the period's
    批量导入 file holds is recorded from them (``provincial_exports``), so a period is atomic.
    """
    ensure_registry_tables(engine)
    period = ctx.period
    prev = scalar(
        engine, "SELECT max(period) FROM registry_history WHERE period < CAST($1 AS DATE)", [period]
    )
    with transaction(engine):
        engine.execute(new_person_ids_insert_sql(), [period])
        for table in ("registry_history", "findings_history", "changelog"):
            engine.execute(f"DELETE FROM {table} WHERE period = CAST($1 AS DATE)", [period])
        engine.execute(history_insert_sql(), [period])
        engine.execute(findings_history_insert_sql(), [period])
        engine.execute(changelog_insert_sql(), [period, prev])
        engine.execute(affected_persons_sql(), [period])
        for sql in registry_rebuild_sql():
            engine.execute(sql)
        engine.execute("DROP TABLE IF EXISTS _rc_affected")
        for sql in apply_staged_sql() if has_table(engine, STAGED["survey_results"]) else []:
            engine.execute(sql)
        if provincial.can_record(engine):
            engine.execute(provincial.create_table_sql())
            for sql in provincial.record_exports_sql():
                engine.execute(sql, [period])
