"""``RawFile``: one extract file read as text cells, as both readers hand it to ingest.

Apart from the readers so that the CSV reader, the xlsx reader and ``read_file`` (which
picks one by the file's first bytes) share it without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

ROWS_PER_BATCH = 200_000  # rows gathered in Python lists before they become Arrow arrays


@dataclass
class RawFile:
    """A file read as text: its header cells and one string column per header cell.

    Row ``i`` of ``table`` is data row ``i + 1`` (header not counted, blank rows kept),
    which is the ``source_row`` the sender sees.
    """

    file: str  # name relative to the period folder
    header: list[str]
    table: pa.Table  # columns c0..c{n-1}, all pa.string(), NULL for blank cells
    encoding: str | None = None  # CSV only
    # may hold invisible characters (Cf, NUL) to remove (CSV: known from decoding)
    zero_width: bool = True
    # (marker character, reject reason): a row with a cell holding the marker is damaged
    damage: tuple[tuple[str, str], ...] = ()
    delimiter: str = ","
    odd_quotes: bool = False  # CSV: an odd number of quote characters (one may be unclosed)
    sheet: str | None = None  # xlsx: the sheet read
    sheet_index: int = 0
    sheets: tuple[str, ...] = ()  # xlsx: every sheet of the workbook
    # xlsx: (table row, column index, cell reference) of formulas saved without their result
    uncomputed: tuple[tuple[int, int, str], ...] = ()
    cleaning: tuple[str, ...] = ()  # extra cell cleaning asked for by the reader (read_file)
    # CSV read row by row: fields per data row (blank cells counted), to find rows longer
    # than the header whatever their surplus cells hold; None when every row is as wide
    field_counts: pa.Array | None = None


def batches_to_table(batches: list[list[list[str | None]]]) -> pa.Table:
    width = max(len(b) for b in batches)
    arrays: list[list[pa.Array]] = [[] for _ in range(width)]
    for b in batches:
        rows = len(b[0]) if b else 0
        for j in range(width):
            arrays[j].append(pa.array(b[j] if j < len(b) else [None] * rows, type=pa.string()))
    return pa.table({f"c{j}": pa.chunked_array(a, type=pa.string()) for j, a in enumerate(arrays)})
