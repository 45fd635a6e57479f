"""Small catalogue helpers for the registry/classify stages.

They read through ``query_df`` (fully fetched) rather than ``Engine.scalar``: with
DuckDB 2 a ``fetchone`` leaves the result pending, and the next ``register_df`` on
the connection then fails with "connection has an unfinished result".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from canbao.core.engine import Engine


def scalar(engine: Engine, sql: str, params: Sequence[Any] | None = None) -> Any:
    """First column of the first row (None when there is no row or it is NULL)."""
    df = engine.query_df(sql, params)
    if df.empty:
        return None
    value = df.iat[0, 0]
    return None if value is None or value != value else value


def table_columns(engine: Engine, table: str) -> list[str]:
    """Column names of ``table`` in order; empty when it does not exist."""
    df = engine.query_df(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    )
    return list(df["column_name"])


def has_table(engine: Engine, table: str) -> bool:
    """Whether ``table`` exists (a table or view, any schema on the search path)."""
    return bool(table_columns(engine, table))


def table_names(engine: Engine) -> set[str]:
    """All table and view names visible to the engine (one catalogue query for a stage)."""
    return set(engine.query_df("SELECT table_name FROM information_schema.tables")["table_name"])
