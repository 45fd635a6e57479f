"""The registry's persistent tables (registry, registry_history, person_ids, findings_history,
changelog): their columns and the DDL that creates any that are missing."""

from __future__ import annotations

from canbao.core.engine import Engine

REGISTRY_COLUMNS: tuple[str, ...] = (
    "person_id", "id_number", "name", "sex", "birth_date", "population",
    "township_code", "village_code", "life_status", "pension_status",
    "medical_status", "registration",
)  # fmt: skip
# Kept beside the contract columns: rosters need the household, matching needs the name forms.
EXTRA_COLUMNS: tuple[str, ...] = (
    "household_no", "address", "relation", "name_simp", "name_pinyin", "ethnicity",
)  # fmt: skip

_COLUMN_TYPES = {"birth_date": "DATE"}


def _cols_ddl(cols: tuple[str, ...]) -> str:
    return ", ".join(f"{c} {_COLUMN_TYPES.get(c, 'VARCHAR')}" for c in cols)


def persistent_tables_sql() -> list[str]:
    """DDL of the registry's persistent tables (idempotent)."""
    hist_cols = REGISTRY_COLUMNS + EXTRA_COLUMNS
    return [
        "CREATE TABLE IF NOT EXISTS person_ids (person_id VARCHAR, id_number VARCHAR, "
        "first_period DATE)",
        f"CREATE TABLE IF NOT EXISTS registry_history (period DATE, {_cols_ddl(hist_cols)})",
        f"CREATE TABLE IF NOT EXISTS registry ({_cols_ddl(hist_cols)}, first_period DATE, "
        "last_period DATE)",
        "CREATE TABLE IF NOT EXISTS findings_history (period DATE, finding VARCHAR, "
        "person_id VARCHAR, file VARCHAR, source_row INTEGER, detail VARCHAR)",
        "CREATE TABLE IF NOT EXISTS changelog (period DATE, person_id VARCHAR, change VARCHAR, "
        "field VARCHAR, old_value VARCHAR, new_value VARCHAR)",
    ]


def ensure_registry_tables(engine: Engine) -> None:
    """Create the persistent tables if this is the district's first period."""
    for sql in persistent_tables_sql():
        engine.execute(sql)
