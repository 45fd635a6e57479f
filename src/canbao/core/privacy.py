"""The one masking style for ID numbers shown outside a village's own roster."""

from __future__ import annotations

MASK = "********"


def mask_id(id_number: str | None) -> str:
    """First 6 + ``********`` + last 4 (contract §5); short or empty values mask fully.

    Mixing mask styles lets a reader rebuild the number, so this is the only one.
    """
    if not id_number:
        return ""
    s = str(id_number)
    if len(s) < 10:
        return MASK
    return s[:6] + MASK + s[-4:]


def mask_id_sql(column: str) -> str:
    """The same mask as a SQL expression over ``column`` (returns text, runs nothing)."""
    return (
        f"CASE WHEN {column} IS NULL OR {column} = '' THEN '' "
        f"WHEN length({column}) < 10 THEN '{MASK}' "
        f"ELSE substr({column}, 1, 6) || '{MASK}' || right({column}, 4) END"
    )
