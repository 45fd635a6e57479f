"""Any past period's ``registry.csv`` reproduced from ``registry_history`` (``canbao export``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from canbao.core import messages
from canbao.core.catalog import has_table, scalar
from canbao.core.engine import Engine, open_registry_db
from canbao.core.errors import UsageError
from canbao.report.exports import registry_csv_sql, write_query_csv


def period_as_of_sql() -> str:
    """The latest committed period on or before $1."""
    return "SELECT max(period) FROM registry_history WHERE period <= CAST($1 AS DATE)"


def export_as_of(engine: Engine, as_of: dt.date, out_dir: Path) -> Path:
    """Write ``registry.csv`` as it stood in the latest period ≤ ``as_of``.

    Byte-identical to that period's own export (same SQL, same writer). Raises
    LookupError when no period was committed by then.
    """
    period = (
        scalar(engine, period_as_of_sql(), [as_of])
        if has_table(engine, "registry_history")
        else None
    )
    if period is None:
        raise LookupError(messages.line("export_no_period", as_of=as_of.isoformat()))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_query_csv(engine, registry_csv_sql(), [period], out_dir / "registry.csv")


def export_as_of_cli(registry_path: Path, as_of: dt.date, out_dir: Path) -> int:
    """``canbao export``: open the registry read-only and write the as-of registry.csv."""
    registry_path = Path(registry_path)
    if not registry_path.is_file():
        raise UsageError(str(registry_path), "export_no_registry")
    engine = open_registry_db(registry_path, read_only=True)
    try:
        path = export_as_of(engine, as_of, out_dir)
    except LookupError:
        raise UsageError(str(registry_path), "export_no_period", as_of=as_of.isoformat()) from None
    finally:
        engine.close()
    print(path)
    return 0
