"""Build hostile variants of a valid demo period, one file at a time.

A case reads a demo extract as header + rows of text, damages it the way a sender's
tool does (encodings, quotes, line ends, Excel sheets and cells) and writes it back
into a copy of the period folder. What the case expects is an :class:`Loads` or a
:class:`Fails`.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from canbao.demo import generate
from canbao.ingest.readers import read_file

Row = list[str | None]


@dataclass
class Table:
    """One extract as text: header cells and data rows (None for an empty cell)."""

    header: list[str]
    rows: list[Row]

    def col(self, name: str) -> int:
        return self.header.index(name)

    def get(self, k: int, name: str) -> str | None:
        """Cell of data row ``k`` (1-based, as ``source_row``)."""
        return self.rows[k - 1][self.col(name)]

    def set(self, k: int, name: str, value: str | None) -> None:
        self.rows[k - 1][self.col(name)] = value

    def copy(self) -> Table:
        return Table(list(self.header), [list(r) for r in self.rows])

    def with_column(self, name: str, value: str) -> Table:
        """A copy with one more column, ``value`` in every row."""
        return Table([*self.header, name], [[*r, value] for r in self.rows])


@dataclass
class Loads:
    """The period ingests; ``file`` reconciles to these counts and these rejects."""

    file: str
    read: int
    loaded: int
    rejects: list[tuple[int, str | None, str]] = field(default_factory=list)
    check: Callable[..., None] | None = None  # check(engine) after load + standardise


@dataclass
class Fails:
    """The period is refused with one InputError naming ``file`` (and row/column)."""

    file: str
    match: str
    row: int | None = None
    column: str | None = None


def make_demo(root: Path) -> Path:
    """One valid 300-person period (hukou GBK CSV, enrollment xlsx, …); its folder."""
    (period,) = generate(
        "430302", people=300, seed=3, raw_root=root / "raw", truth_root=root / "truth", periods=1
    )
    return period


def copy_period(src: Path, dst_root: Path) -> Path:
    dst = dst_root / "raw" / src.parent.name / src.name
    shutil.copytree(src, dst)
    return dst


def read_table(path: Path) -> Table:
    """A valid extract as the ingest reader sees it (text cells, blanks as None)."""
    raw = read_file(path, path.name)
    cols = [raw.table.column(i).to_pylist() for i in range(raw.table.num_columns)]
    return Table(list(raw.header), [list(r) for r in zip(*cols, strict=True)])


def csv_lines(header: list[str], rows: list[Row]) -> list[str]:
    """Each record as one CSV text line (minimal quoting), without its line end."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    return _split_records(buf.getvalue())


def _split_records(text: str) -> list[str]:
    """Lines of CSV text, a quoted line break staying inside its record."""
    out: list[str] = []
    cur = ""
    for line in text.split("\n")[:-1]:
        cur = f"{cur}\n{line}" if cur else line
        if cur.count('"') % 2 == 0:
            out.append(cur)
            cur = ""
    return out


def write_lines(path: Path, lines: list[str], encoding: str = "gbk", eol: str = "\r\n") -> Path:
    path.write_bytes("".join(ln + eol for ln in lines).encode(encoding))
    return path


def write_csv(path: Path, t: Table, encoding: str = "gbk", eol: str = "\r\n") -> Path:
    return write_lines(path, csv_lines(t.header, t.rows), encoding, eol)


def write_xlsx(
    path: Path,
    sheets: list[tuple[str, list[list[object]]]],
) -> Path:
    """A workbook written by openpyxl: one (title, rows) per sheet, rows as given."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def table_rows(t: Table) -> list[list[object]]:
    return [list(t.header), *[list(r) for r in t.rows]]
