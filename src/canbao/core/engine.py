"""The engine seam: the one module that knows which SQL engines run the pipeline.

Every stage receives an :class:`Engine` and speaks SQL through it; Splink gets its
``db_api`` from :meth:`Engine.splink_db_api`. The registry (the state that must be
committed atomically) lives in DuckDB. Splink's prediction, the part that grows with
the district, runs on the engine named by ``linkage.engine``: the registry's own
DuckDB (default) or Spark through Splink's ``SparkAPI``. Tables cross between the two
as parquet (:func:`transfer`), so switching is a params value, not a rewrite.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from canbao.core.config import EngineConfig


class Engine(Protocol):
    """What the stages may ask of an engine."""

    name: str
    dialect: str  # Splink's sql_dialect string

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, rows: int = 100_000
    ) -> Iterator[pd.DataFrame]:
        """The result in frames of at most ``rows`` rows, in order (at least one frame)."""
        ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def register_df(self, name: str, df: pd.DataFrame) -> None:
        """Create or replace table ``name`` from a DataFrame."""
        ...

    def table_exists(self, name: str) -> bool: ...

    def splink_db_api(self) -> Any: ...

    def write_parquet(self, sql: str, folder: Path) -> None:
        """Write a query's result as parquet file(s) into ``folder``."""
        ...

    def read_parquet(self, name: str, folder: Path, order_by: str) -> None:
        """Create or replace table ``name`` from the parquet files in ``folder``."""
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB, in a file (the registry) or in memory (tests)."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | str | None = None,
        read_only: bool = False,
    ) -> None:
        import duckdb

        self.path = str(path) if path else ":memory:"
        self.con = duckdb.connect(self.path, read_only=read_only)
        self.spill: Path | None = None
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            # A folder of its own: two processes spilling into one folder would clash.
            Path(temp_directory).mkdir(parents=True, exist_ok=True)
            self.spill = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=temp_directory))
            self.con.execute(f"SET temp_directory = '{self.spill.as_posix()}'")
        self.con.execute("SET preserve_insertion_order = true")
        # Inside a Jupyter kernel DuckDB refuses the setting (it wants ipywidgets); it is off there.
        with contextlib.suppress(duckdb.InvalidInputException):
            self.con.execute("SET enable_progress_bar = false")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        # Fetch so the connection is free again (DuckDB 2 keeps a pending result busy).
        self.con.execute(sql, params or []).fetchall()

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, rows: int = 100_000
    ) -> Iterator[pd.DataFrame]:
        # Arrow batches: a million-row export never sits in Python whole.
        reader = self.con.sql(sql, params=list(params) if params else None).to_arrow_reader(rows)
        empty = True
        for batch in reader:
            empty = False
            yield batch.to_pandas()
        if empty:
            yield reader.schema.empty_table().to_pandas()

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

    def write_parquet(self, sql: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.execute(f"COPY ({sql}) TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")

    def read_parquet(self, name: str, folder: Path, order_by: str) -> None:
        self.execute(
            f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM '
            f"read_parquet('{folder}/*.parquet') ORDER BY {order_by}"
        )

    def close(self) -> None:
        self.con.close()
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)


class SparkEngine:
    """Spark (``local[*]`` or a cluster's master URL) for Splink's prediction.

    Tables arrive and leave as parquet under ``work_dir``; the session has Splink's
    similarity jar (``jaro_winkler``, ``damerau_levenshtein``), UTC dates and no UI.
    """

    name = "spark"
    dialect = "spark"

    def __init__(
        self,
        work_dir: Path,
        *,
        master: str = "local[*]",
        driver_memory: str = "4g",
        shuffle_partitions: int = 8,
    ) -> None:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        self.work_dir = Path(work_dir)
        self.spark = (
            SparkSession.builder.master(master)
            .appName("canbao")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", str(self.work_dir / "local"))
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self.spark.sparkContext.setCheckpointDir((self.work_dir / "checkpoints").resolve().as_uri())
        self.splink_db_api()  # registers the jar's functions for plain SQL too

    def _sql(self, sql: str, params: Sequence[Any] | None) -> Any:
        return self.spark.sql(sql, args=list(params) if params else None)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._sql(sql, params).collect()

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self._sql(sql, params).toPandas()

    def query_batches(
        self, sql: str, params: Sequence[Any] | None = None, rows: int = 100_000
    ) -> Iterator[pd.DataFrame]:
        yield self.query_df(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self._sql(sql, params).collect()
        return rows[0][0] if rows else None

    def register_df(self, name: str, df: pd.DataFrame) -> None:
        self.spark.createDataFrame(df).createOrReplaceTempView(name)

    def table_exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def splink_db_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.spark, break_lineage_method="parquet")

    # file:// URIs: on a Hadoop cluster a bare path would mean HDFS, not the shared mount.
    def write_parquet(self, sql: str, folder: Path) -> None:
        self.spark.sql(sql).write.mode("overwrite").parquet(folder.resolve().as_uri())

    def read_parquet(self, name: str, folder: Path, order_by: str) -> None:
        self.spark.read.parquet(folder.resolve().as_uri()).createOrReplaceTempView(name)

    def close(self) -> None:
        self.spark.stop()


def transfer(src: Engine, sql: str, dst: Engine, table: str, order_by: str, work: Path) -> None:
    """Materialise ``sql`` (run on ``src``) as table ``table`` of ``dst``, rows in
    ``order_by`` order; through parquet in ``work`` unless both are the same engine."""
    if src is dst:
        dst.execute(f'CREATE OR REPLACE TABLE "{table}" AS {sql} ORDER BY {order_by}')
        return
    folder = work / f"transfer-{table}"
    shutil.rmtree(folder, ignore_errors=True)
    src.write_parquet(sql, folder)
    dst.read_parquet(table, folder, order_by)


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Engine]:
    """One all-or-nothing unit of work: ``BEGIN``, then ``COMMIT`` when the block ends,
    ``ROLLBACK`` and re-raise on any exception (``KeyboardInterrupt`` included).

    Why: a run killed or failing half-way must leave the registry as the last good
    period left it, never half a period; every multi-statement write goes through here.
    """
    engine.execute("BEGIN TRANSACTION")
    try:
        yield engine
        engine.execute("COMMIT")
    except BaseException:
        engine.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def scoring_engine(
    kind: str,
    store: Engine,
    *,
    master: str = "local[*]",
    driver_memory: str = "4g",
    work_root: str | Path | None = None,
) -> Iterator[tuple[Engine, Path]]:
    """The engine Splink predicts on, and a scratch folder for parquet hand-overs.

    ``duckdb``: the registry's own engine (nothing is copied). ``spark``: a Spark
    session for the duration of the block, stopped and its files removed after. The
    scratch folder is made under ``work_root`` (default: the system temp folder); on a
    cluster it must be a folder the driver and every executor see (a shared mount)."""
    if work_root:
        Path(work_root).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="canbao-score-", dir=work_root or None) as tmp:
        work = Path(tmp)
        if kind == "duckdb":
            yield store, work
            return
        if kind != "spark":
            raise ValueError(f"unknown engine {kind!r} (expected 'duckdb' or 'spark')")
        _check_spark_runtime()
        spark = SparkEngine(work, master=master, driver_memory=driver_memory)
        try:
            yield spark, work
        finally:
            spark.close()


def _check_spark_runtime() -> None:
    """Fail with a plain message instead of py4j's "Java gateway process exited"."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "linkage.engine: spark needs pyspark (pinned in requirements.lock): "
            "run `bash scripts/bootstrap.sh setup`"
        ) from exc
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise RuntimeError("linkage.engine: spark needs Java 17 (java on PATH or JAVA_HOME)")


# The budget is for the whole process; DuckDB's memory_limit bounds only its own buffer
# manager (table blocks it caches, hash tables, sorts). The rest of the process is
# Python: the interpreter and its libraries (about 0.4 GiB in a kernel with pandas,
# Arrow and Splink), one file's Arrow table at ingest, one batch of an export, one
# workbook being built. DuckDB gets this share of the budget; the rest is left for them.
DUCKDB_SHARE = 0.5
_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def size_bytes(size: str) -> int:
    """``"2GiB"`` → 2147483648 (the units ``engine.memory_limit`` accepts)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", size)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {size!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def duckdb_memory_limit(budget: str) -> str | None:
    """DuckDB's share of a process's budget (``None``: no budget, DuckDB's own default)."""
    if not budget.strip():
        return None
    return f"{max(1, size_bytes(budget) * DUCKDB_SHARE // 2**20):.0f}MiB"


def scratch_connection(*, memory_limit: str | None = None, threads: int | None = None) -> Any:
    """An in-memory DuckDB for work beside the registry (the Excel copies read a CSV).

    Every connection a run opens is made in this module, under DuckDB's share of the
    budget (``memory_limit``, from :func:`duckdb_memory_limit`) and the thread count;
    rows keep the order they are read in.
    """
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    return con


def open_registry_db(
    path: Path | str, settings: EngineConfig | None = None, *, read_only: bool = False
) -> DuckDBEngine:
    """A district registry's DuckDB under the run's budget (``engine:`` in params).

    Every connection a run opens (the district stage, the township and bulletin
    kernels, Splink's work on the same connection) comes through here, so each gets
    DuckDB's share of the budget (:data:`DUCKDB_SHARE`), its own spill folder under the output root (default: beside the
    registry, ``<district>/duckdb_tmp``) and the thread count."""
    settings = settings or EngineConfig()
    spill = Path(settings.temp_directory or Path(path).parent / "duckdb_tmp")
    return DuckDBEngine(
        path,
        threads=settings.threads or None,
        memory_limit=duckdb_memory_limit(settings.memory_limit),
        temp_directory=spill,
        read_only=read_only,
    )


def open_engine(kind: str = "duckdb", path: Path | str | None = None, **kwargs: Any) -> Engine:
    """The registry's engine: DuckDB, in a file or in memory. (Spark scores links only:
    see :func:`scoring_engine`.)"""
    if kind == "duckdb":
        return DuckDBEngine(path, **kwargs)
    raise ValueError(
        f"unknown registry engine {kind!r}: the registry is DuckDB; "
        "linkage.engine chooses where Splink predicts"
    )
