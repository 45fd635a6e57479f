"""The persistent survey tables (``survey_tasks``, ``survey_results``,
``survey_return_rows``; columns in the package docstring), created on first use, and
their staging tables.

Stage 5 writes what it imports into the ``*_staged`` tables only; the registry commit
(stage 7) applies them inside its transaction, so a period killed before the commit
leaves the persistent survey tables as they were (the re-run's stage 5 rebuilds staging).
"""

from __future__ import annotations

from canbao.core.engine import Engine

# persistent table → its staging table (same columns, rebuilt empty by every stage 5)
STAGED = {
    "survey_return_rows": "survey_return_rows_staged",
    "survey_results": "survey_results_staged",
}
# Task-status changes of the staged returns, applied in commit order ('rejected' first).
TASK_UPDATES = "survey_task_updates_staged"


def ensure_tables(engine: Engine) -> None:
    """Create the persistent survey tables if this registry has none yet."""
    for sql in _create_tables_sql():
        engine.execute(sql)


def reset_staging(engine: Engine) -> None:
    """Empty staging in the persistent tables' layout (discards a killed run's rows)."""
    for sql in _reset_staging_sql():
        engine.execute(sql)


def with_staged_sql(table: str) -> str:
    """``table``'s persistent rows and its staged rows, as one FROM source."""
    return f"(SELECT * FROM {table} UNION ALL BY NAME SELECT * FROM {STAGED[table]})"


def apply_staged_sql() -> list[str]:
    """Staged rows → persistent tables, then empty staging; run inside the caller's
    transaction (the registry commit, or the ``import-returns`` CLI's)."""
    inserts = [
        f"INSERT INTO {table} BY NAME SELECT * FROM {staged} ORDER BY rowid"
        for table, staged in STAGED.items()
    ]
    return [
        *inserts,
        _tasks_update_sql("rejected", "AND t.status IN ('issued', 'rejected')"),
        _tasks_update_sql("returned", ""),
        *(f"DELETE FROM {t}" for t in (*STAGED.values(), TASK_UPDATES)),
    ]


def _tasks_update_sql(status: str, guard: str) -> str:
    """A rejected return keeps an open task open, marked 'rejected'; an accepted one
    closes its task as 'returned'."""
    return f"""UPDATE survey_tasks t SET status = u.status, result = u.result,
            result_period = u.result_period
        FROM {TASK_UPDATES} u
        WHERE u.status = '{status}' AND t.person_id = u.person_id AND t.batch = u.batch {guard}"""


def _reset_staging_sql() -> list[str]:
    return [
        *(
            f"CREATE OR REPLACE TABLE {staged} AS SELECT * FROM {table} LIMIT 0"
            for table, staged in STAGED.items()
        ),
        f"""CREATE OR REPLACE TABLE {TASK_UPDATES} (person_id VARCHAR, batch INTEGER,
            status VARCHAR, result VARCHAR, result_period DATE)""",
    ]


def _create_tables_sql() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS survey_tasks (
            batch INTEGER, period DATE, person_id VARCHAR, township_code VARCHAR,
            village_code VARCHAR, seq_in_batch INTEGER, reissued BOOLEAN, status VARCHAR,
            result VARCHAR, result_period DATE, id_number VARCHAR, name VARCHAR, birth_date DATE)""",
        """CREATE TABLE IF NOT EXISTS survey_results (
            person_id VARCHAR, period DATE, file VARCHAR, source_row INTEGER, outcome VARCHAR,
            outcome_code VARCHAR, exemption VARCHAR, insured_family VARCHAR,
            insured_status VARCHAR, reported_deceased BOOLEAN, uninsured_reason VARCHAR,
            phone VARCHAR, actual_address VARCHAR, note VARCHAR, collector VARCHAR,
            collected_date DATE, batch INTEGER, village_code VARCHAR, file_sha256 VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS survey_return_rows (
            file_sha256 VARCHAR, file VARCHAR, period DATE, source_row INTEGER,
            person_id VARCHAR, id_number VARCHAR, name VARCHAR, township_code VARCHAR,
            village_code VARCHAR, outcome VARCHAR, verdict VARCHAR, reason VARCHAR,
            "column" VARCHAR)""",
        # registries from before rejected rows named their column
        'ALTER TABLE survey_return_rows ADD COLUMN IF NOT EXISTS "column" VARCHAR',
    ]
