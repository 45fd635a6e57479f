"""The persistent survey tables (``survey_tasks``, ``survey_results``,
``survey_return_rows``; columns in the package docstring), created on first use."""

from __future__ import annotations

from canbao.engine import Engine


def ensure_tables(engine: Engine) -> None:
    """Create the persistent survey tables if this registry has none yet."""
    for sql in _create_tables_sql():
        engine.execute(sql)


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
