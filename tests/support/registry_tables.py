"""Registry-table column lists and builders shared by the test fixtures.

The columns are spelled out here, on the test side, rather than taken from src: a test that
compares an export's header with ``REGISTRY_COLUMNS`` still checks the contract itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from canbao.core.engine import DuckDBEngine

# Who and where a person is, then their statuses: the two halves of a registry row.
PERSON_COLUMNS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "population",
    "township_code",
    "village_code",
)
STATUS_COLUMNS = ("life_status", "pension_status", "medical_status", "registration")
# registry.csv (contract), in order.
REGISTRY_COLUMNS = ["person_id", *PERSON_COLUMNS, *STATUS_COLUMNS]

FINDINGS_HISTORY_COLUMNS = ["period", "finding", "person_id", "file", "source_row", "detail"]
CHANGELOG_COLUMNS = ["period", "person_id", "change", "field", "old_value", "new_value"]
SURVEY_TASK_COLUMNS = [
    "batch",
    "period",
    "person_id",
    "township_code",
    "village_code",
    "seq_in_batch",
    "reissued",
    "status",
    "result",
    "result_period",
]


def register_findings_history(engine: DuckDBEngine, rows: Sequence[tuple]) -> None:
    engine.register_df("findings_history", pd.DataFrame(rows, columns=FINDINGS_HISTORY_COLUMNS))


def register_changelog(engine: DuckDBEngine, rows: Sequence[tuple]) -> None:
    engine.register_df("changelog", pd.DataFrame(rows, columns=CHANGELOG_COLUMNS))


def register_survey_tasks(engine: DuckDBEngine, rows: Sequence[tuple]) -> None:
    """``survey_tasks`` with the survey stage's types, even where a column is all None."""
    engine.register_df("survey_tasks", pd.DataFrame(rows, columns=SURVEY_TASK_COLUMNS))
    engine.execute("ALTER TABLE survey_tasks ALTER result_period TYPE DATE")
    engine.execute("ALTER TABLE survey_tasks ALTER result TYPE VARCHAR")
