"""The body rows of an export's Excel copies, built in DuckDB straight from its CSV.

Writing each cell through Python took most of the exports stage at a million
people (2.5M ``links`` rows × 6 cells, 1M ``registry`` rows × 12). Here one query
reads the CSV in file order (a row number from ``row_number() OVER ()``, which
DuckDB streams in insertion order), masks the ID numbers and writes each row's
SpreadsheetML (:mod:`canbao.core.xlsx_sql`); the rows reach the zip in Arrow
batches, never a whole file in memory. One regular-expression test a row finds
the few rows that need care (markup, control characters, white space at an edge,
a leading = + - @, an ID number inside text); a second query writes those the long
way. A row SQL cannot mask exactly as Python does (a digit outside ASCII anywhere
in it, a non-ASCII ID number) comes back raw and is written by
:meth:`canbao.core.xlsx.StreamedRows.row_bytes`: the Python path's own code.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from canbao.core.engine import scratch_connection
from canbao.core.xlsx import StreamedRows, text_widths
from canbao.core.xlsx_sql import plain_text_cell_sql, text_care_sql, text_cell_sql

BATCH_ROWS = 16_384
SAMPLE_ROWS = 2_000  # the rows a column's width is fitted to (text_widths)
# A decimal digit outside ASCII: Python's \d takes it, RE2's [0-9] does not.
_OTHER_DIGIT = r"[^\P{Nd}0-9]"

MaskCell = Callable[[str, str], str]


class CsvRows:
    """One export CSV as the Excel copies' parts: row counts, width samples, body XML.

    ``mask_cell(column, value)`` is the Python mask, ``mask_sql(column, expr)`` the
    same in SQL for ASCII digits; values of ``ascii_only`` columns (whole ID numbers)
    with other characters, and rows with other digits, are masked in Python. Text
    with no match of the RE2 ``digits_hint`` is left as it is by ``mask_sql``.
    Parts are read in order (0, 1, …): their bodies come from one streaming query.
    """

    def __init__(
        self,
        csv_path: Path,
        rows_per_file: int,
        mask_cell: MaskCell,
        mask_sql: Callable[[str, str], str],
        ascii_only: frozenset[str],
        digits_hint: str,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = csv_path
        self.rows_per_file = rows_per_file
        self.mask_cell = mask_cell
        self.mask_sql = mask_sql
        self.ascii_only = ascii_only
        self.digits_hint = digits_hint
        with csv_path.open(encoding="utf-8", newline="") as fh:
            self.header: list[str] = next(csv.reader(fh), [])
        self.con = scratch_connection(memory_limit=memory_limit, threads=threads)
        self.n = 0
        self.files = 1
        self._sample: dict[int, list[list[str]]] = {}
        self._reader: Any = None
        self._care_con: Any = None
        self._careful: Iterator[tuple[str | None, list[str] | None]] | None = None
        self._rows = ""
        self._pending: pa.RecordBatch | None = None
        self._look: tuple[int, int] | None = None
        if self.header:
            self._count_and_sample()

    def __enter__(self) -> CsvRows:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the query and the connection."""
        self._reader = self._careful = None
        if self._care_con is not None:
            self._care_con.close()
        self.con.close()

    def _source(self) -> str:
        """The CSV's rows with ``i`` (0-based, file order) and text columns ``c0``, ``c1``…"""
        columns = ", ".join(f"'c{j}': 'VARCHAR'" for j in range(len(self.header)))
        path = str(self.path).replace("'", "''")
        return (
            f"SELECT row_number() OVER () - 1 AS i, * FROM read_csv('{path}', header = true, "
            f"auto_detect = false, columns = {{{columns}}}, delim = ',', quote = '\"', "
            "escape = '\"', strict_mode = true)"
        )

    def _count_and_sample(self) -> None:
        self.n = self.con.execute(f"SELECT count(*) FROM ({self._source()})").fetchone()[0]
        self.files = max(1, -(-self.n // self.rows_per_file))
        cols = ", ".join(f"coalesce(c{j}, '')" for j in range(len(self.header)))
        rows = self.con.execute(
            f"SELECT i, {cols} FROM ({self._source()}) "
            f"WHERE i % {self.rows_per_file} < {SAMPLE_ROWS} ORDER BY i"
        ).fetchall()
        for i, *values in rows:
            masked = [self.mask_cell(c, v) for c, v in zip(self.header, values, strict=True)]
            self._sample.setdefault(i // self.rows_per_file, []).append(masked)

    def part_rows(self, k: int) -> int:
        """Body rows of part ``k``."""
        return max(0, min(self.rows_per_file, self.n - k * self.rows_per_file))

    def widths(self, k: int, titles: list[str]) -> list[int]:
        """Part ``k``'s column widths, fitted as :func:`canbao.core.xlsx.write_text_table` does."""
        return text_widths(titles, self._sample.get(k, []))

    def part_body(self, k: int) -> Callable[[StreamedRows, tuple[int, int], int], Iterator[bytes]]:
        """Part ``k``'s body for :func:`canbao.core.xlsx.write_streamed_text_table`."""

        def body(fast: StreamedRows, look: tuple[int, int], first_row: int) -> Iterator[bytes]:
            if self._reader is None:
                self._start(look, first_row)
            if look != self._look:
                raise ValueError(f"{self.path.name}: parts styled differently ({look})")
            yield from self._take(self.part_rows(k), fast)

        return body

    def _start(self, look: tuple[int, int], first_row: int) -> None:
        """Start the query that writes every row's XML (parts split by row count).

        Most rows need no escaping, no ``xml:space``, no quote prefix and no ID
        masked inside text: one test a row sends those the short way. The others
        (``care``) come from a second query, started at the first of them, over
        those rows only (in one CASE with the short way DuckDB would work the long
        way out for every row), merged back in order.
        """
        self._look = look
        width = len(self.header)
        ids = self._non_ascii_in_id_columns()
        shown = [  # whole ID numbers as written (masked): the tests see the cells' text
            self.mask_sql(c, f"r{j}") if c in self.ascii_only else f"r{j}"
            for j, c in enumerate(self.header)
        ]
        care = " OR ".join([text_care_sql(shown, [_OTHER_DIGIT, self.digits_hint]), *ids])
        self._rows = f"""
            SELECT (i % {self.rows_per_file} + {first_row})::VARCHAR AS r, *
            FROM (
                SELECT *, {care} AS care
                FROM (
                    SELECT i, {", ".join(f"coalesce(c{j}, '') AS r{j}" for j in range(width))}
                    FROM ({self._source()})
                )
            )
        """
        plain = ", ".join(plain_text_cell_sql(v, self._ref(j), look) for j, v in enumerate(shown))
        self._reader = self.con.sql(f"""
            SELECT CASE WHEN NOT care THEN concat('<row r="', r, '">', {plain}, '</row>') END
            FROM ({self._rows})
        """).to_arrow_reader(BATCH_ROWS)

    def _non_ascii_in_id_columns(self) -> list[str]:
        """One test per ID column: its text holds a non-ASCII character (bytes ≠ characters)."""
        return [
            f"strlen(r{j}) <> length(r{j})"
            for j, c in enumerate(self.header)
            if c in self.ascii_only
        ]

    def _ref(self, j: int) -> str:
        return f"'{_letter(j)}' || r"

    def _careful_rows(self) -> Iterator[tuple[str | None, list[str] | None]]:
        """The ``care`` rows in order: (XML, None), or (None, [r, raw values…]) for Python."""
        width = len(self.header)
        raw = [f"r{j}" for j in range(width)]
        odd = [f"regexp_matches(concat({', '.join(raw)}), '{_OTHER_DIGIT}')"]
        odd += self._non_ascii_in_id_columns()
        masked = ", ".join(
            f"{self.mask_sql(c, f'r{j}')} AS v{j}" for j, c in enumerate(self.header)
        )
        full = ", ".join(text_cell_sql(f"v{j}", self._ref(j), self._look) for j in range(width))
        self._care_con = self.con.cursor()
        reader = self._care_con.sql(f"""
            SELECT CASE WHEN NOT odd THEN concat('<row r="', r, '">', {full}, '</row>') END,
                   CASE WHEN odd THEN [r, {", ".join(raw)}] END
            FROM (
                SELECT r, {", ".join(raw)}, {masked}, {" OR ".join(odd)} AS odd
                FROM ({self._rows}) WHERE care
            )
        """).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)

    def _take(self, n: int, fast: StreamedRows) -> Iterator[bytes]:
        """The next ``n`` rows' XML from the query, batch by batch."""
        while n > 0:
            if self._pending is None or self._pending.num_rows == 0:
                try:
                    self._pending = self._reader.read_next_batch()
                except StopIteration:
                    raise ValueError(f"{self.path.name}: fewer rows than counted") from None
            batch = self._pending.slice(0, n)
            self._pending = self._pending.slice(batch.num_rows)
            n -= batch.num_rows
            yield self._batch_xml(batch, fast)

    def _batch_xml(self, batch: pa.RecordBatch, fast: StreamedRows) -> bytes:
        """A batch's rows' XML: the short way's, with the ``care`` rows put in."""
        xml = batch.column(0)
        if xml.null_count == 0:
            return _joined(xml)
        if self._careful is None:
            self._careful = self._careful_rows()
        looks = [self._look] * len(self.header)
        fill = []
        for _ in range(xml.null_count):
            text, raw = next(self._careful)
            if raw is not None:  # a row SQL cannot mask as Python does: Python writes it
                r, *values = raw
                masked = [self.mask_cell(c, v) for c, v in zip(self.header, values, strict=True)]
                text = fast.row_bytes(int(r), masked, looks).decode("utf-8")
            fill.append(text)
        return _joined(pc.replace_with_mask(xml, xml.is_null(), pa.array(fill, xml.type)))


def _letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _joined(strings: pa.Array) -> bytes:
    """The UTF-8 bytes of a string array with no nulls, end to end (its data buffer's span)."""
    if pa.types.is_string(strings.type):
        size = 4
    else:
        strings, size = strings.cast(pa.large_string()), 8
    _, offsets, data = strings.buffers()
    ends = np.frombuffer(
        offsets, dtype=f"<i{size}", count=len(strings) + 1, offset=strings.offset * size
    )
    return data[int(ends[0]) : int(ends[-1])].to_pybytes()
