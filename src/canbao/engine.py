"""The engine seam: the one module that knows which SQL engine runs the pipeline.

Every stage receives an :class:`Engine` and speaks SQL through it; Splink gets its
``db_api`` from :meth:`Engine.splink_db_api`. DuckDB is the default; a Spark engine
(Splink's ``SparkAPI``) is a params value (``linkage.engine: spark``), not a rewrite.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd


class Engine(Protocol):
    """What the stages may ask of an engine."""

    name: str

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def register_df(self, name: str, df: pd.DataFrame) -> None:
        """Create or replace table ``name`` from a DataFrame."""
        ...

    def table_exists(self, name: str) -> bool: ...

    def splink_db_api(self) -> Any: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB, in a file (the registry) or in memory (tests)."""

    name = "duckdb"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        read_only: bool = False,
    ) -> None:
        import duckdb

        self.path = str(path) if path else ":memory:"
        self.con = duckdb.connect(self.path, read_only=read_only)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute("SET preserve_insertion_order = true")
        # Inside a Jupyter kernel DuckDB refuses the setting (it wants ipywidgets); it is off there.
        with contextlib.suppress(duckdb.InvalidInputException):
            self.con.execute("SET enable_progress_bar = false")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        # Fetch so the connection is free again (DuckDB 2 keeps a pending result busy).
        self.con.execute(sql, params or []).fetchall()

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        # fetchall, not fetchone: DuckDB 2 keeps a half-read result pending on the connection.
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def register_df(self, name: str, df: pd.DataFrame) -> None:
        view = f"__df_{name}"
        self.con.register(view, df)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{view}"')
        finally:
            self.con.unregister(view)

    def table_exists(self, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        )

    def splink_db_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def close(self) -> None:
        self.con.close()


def open_engine(kind: str = "duckdb", path: Path | str | None = None, **kwargs: Any) -> Engine:
    """The engine named in params (``linkage.engine``)."""
    if kind == "duckdb":
        return DuckDBEngine(path, **kwargs)
    if kind == "spark":
        raise NotImplementedError(
            "linkage.engine: spark is reserved for city-scale runs; the SQL is written to be "
            "portable but the Spark engine is not yet wired (see docs/design.md)"
        )
    raise ValueError(f"unknown engine {kind!r} (expected 'duckdb' or 'spark')")
