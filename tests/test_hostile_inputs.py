"""Hostile inputs: whatever a sender's tool does to an extract, nothing is lost.

Each case damages one file of a valid demo period. The period then either ingests,
with ``rows_read = rows_loaded + rows_rejected`` for every file, every data row either
in ``raw_<extract>`` or in ``rejects`` (named by file, row, column and reason) and the
good rows of the damaged file still loaded, or it is refused with one
:class:`~canbao.core.errors.InputError` that names the file (and the row and column where
there is one). Never another exception type, never a row dropped without a word.

Each case's docstring records the decision where the contract is silent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from canbao.clean.idnumber import check_char
from canbao.clean.stage import standardise
from canbao.core.config import Config
from canbao.core.context import period_context
from canbao.core.errors import InputError
from canbao.ingest import load_period
from tests.support.hostile import (
    Fails,
    Loads,
    Table,
    copy_period,
    csv_lines,
    make_demo,
    read_table,
    table_rows,
    write_csv,
    write_lines,
    write_xlsx,
)

Case = Callable[[Path, dict[str, Table]], Loads | Fails]
CASES: dict[str, Case] = {}
HUKOU, ENROLL, STUDENTS = "hukou.csv", "enrollment.xlsx", "students.csv"


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Table]]:
    """Its own demo, not the session's: the cases name its rows (280 hukou rows, …)."""
    period = make_demo(tmp_path_factory.mktemp("hostile"))
    base = {name: read_table(period / name) for name in (HUKOU, ENROLL, STUDENTS)}
    assert (period / HUKOU).read_bytes().count(b"\r\n") == len(base[HUKOU].rows) + 1
    return period, base


def col(engine, sql: str, *params) -> list:
    """First column of a query, NULL as None (never NaN), dates as ``datetime.date``."""
    values = engine.query_df(sql, list(params) if params else None).iloc[:, 0].tolist()
    return [None if pd.isna(v) else v.date() if isinstance(v, pd.Timestamp) else v for v in values]


def raw_value(engine, table: str, column: str, file: str, row: int):
    got = col(engine, f"SELECT {column} FROM {table} WHERE file = ? AND source_row = ?", file, row)
    assert len(got) == 1, (table, file, row)
    return got[0]


# ------------------------------------------------------------------ CSV structure


@case
def ragged_short_row(period: Path, base: dict[str, Table]) -> Loads:
    """A line cut after its second field loads with the missing cells empty.

    Exporters drop trailing empty cells, so a short row is padded (test_ingest pins it);
    its missing ID then shows up downstream as ID_INVALID for that file and row.
    """
    t = base[HUKOU].copy()
    lines = csv_lines(t.header, t.rows)
    lines[7] = ",".join(lines[7].split(",")[:2])  # data row 7
    write_lines(period / HUKOU, lines)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 7) == t.get(7, "姓名")
        assert raw_value(engine, "raw_hukou", "id_raw", HUKOU, 7) is None

    return Loads(HUKOU, 280, 280, check=check)


@case
def ragged_long_row(period: Path, base: dict[str, Table]) -> Loads:
    """An unquoted comma in an address makes the row one field too long: the cells after
    it shift right (the ID column would hold the 乡镇街道 name). The row is rejected as
    too_many_fields, its text as sent in the reject's value; the next row is untouched."""
    t = base[HUKOU].copy()
    addr = t.get(8, "户籍地址")
    t.set(8, "户籍地址", None)
    lines = csv_lines(t.header, t.rows)
    cells = lines[8].split(",")
    cells[t.col("户籍地址")] = addr[:6] + "," + addr[6:]
    lines[8] = ",".join(cells)
    write_lines(period / HUKOU, lines)

    def check(engine) -> None:
        value = engine.scalar(
            "SELECT value FROM rejects WHERE file = ? AND source_row = 8", [HUKOU]
        )
        assert value == lines[8].rstrip(",")
        assert raw_value(engine, "raw_hukou", "id_raw", HUKOU, 9) == t.get(9, "公民身份号码")

    return Loads(HUKOU, 280, 279, [(8, None, "too_many_fields")], check=check)


@case
def quoted_line_break_in_address(period: Path, base: dict[str, Table]) -> Loads:
    """A quoted cell with a line break is one cell; rows count records, not lines."""
    t = base[HUKOU].copy()
    t.set(3, "户籍地址", "湖南省湘潭市\r\n雨湖区, 熙春路12号")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        assert (
            raw_value(engine, "raw_hukou", "address", HUKOU, 3)
            == "湖南省湘潭市\r\n雨湖区, 熙春路12号"
        )
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 4) == t.get(4, "姓名")

    return Loads(HUKOU, 280, 280, check=check)


@case
def unterminated_quote_in_last_row(period: Path, base: dict[str, Table]) -> Fails:
    """A quote opened in the last row and never closed: the rest of its line ran into one
    cell. Refused with the row and column, so the sender can fix that one quote."""
    t = base[HUKOU].copy()
    lines = csv_lines(t.header, t.rows)
    cells = lines[280].split(",")
    cells[t.col("户籍地址")] = '"' + cells[t.col("户籍地址")]
    lines[280] = ",".join(cells)
    write_lines(period / HUKOU, lines)
    return Fails(HUKOU, "[csv_unclosed_quote]", row=280, column="户籍地址")


@case
def unterminated_quote_swallows_rows(period: Path, base: dict[str, Table]) -> Fails:
    """A quote left open in row 10 pulls rows 11–20 into one cell, until a later quoted
    cell closes it: those rows would vanish. Refused, naming row 10 and the column."""
    t = base[HUKOU].copy()
    t.set(20, "户籍地址", "湖南省湘潭市,雨湖区")  # quoted by the writer: closes the quote
    lines = csv_lines(t.header, t.rows)
    cells = lines[10].split(",")
    cells[t.col("姓名")] = '"' + cells[t.col("姓名")]
    lines[10] = ",".join(cells)
    write_lines(period / HUKOU, lines)
    return Fails(HUKOU, "[csv_unclosed_quote]", row=10, column="姓名")


@case
def stray_quote_inside_a_cell(period: Path, base: dict[str, Table]) -> Loads:
    """A quote inside an unquoted cell (王"五) is text, as Excel reads it; nothing moves."""
    t = base[HUKOU].copy()
    lines = csv_lines(t.header, t.rows)
    name = t.get(12, "姓名")
    cells = lines[12].split(",")
    cells[t.col("姓名")] = name[0] + '"' + name[1:]
    lines[12] = ",".join(cells)
    write_lines(period / HUKOU, lines)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 12) == name[0] + '"' + name[1:]

    return Loads(HUKOU, 280, 280, check=check)


@case
def nul_byte_in_a_cell(period: Path, base: dict[str, Table]) -> Loads:
    """A NUL byte is an invisible character, not data: stripped like a zero-width space,
    and the row loads (a NUL in an address is no reason to drop the person). (Before:
    the whole file was refused as "UTF-16", then the row was rejected.)"""
    t = base[HUKOU].copy()
    name = t.get(15, "姓名")
    addr = t.get(16, "户籍地址")
    t.set(15, "姓名", name[0] + "\x00" + name[1:])
    t.set(16, "户籍地址", addr + "\x00")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 15) == name
        assert raw_value(engine, "raw_hukou", "address", HUKOU, 16) == addr

    return Loads(HUKOU, 280, 280, [], check)


@case
def format_characters_around_ids(period: Path, base: dict[str, Table]) -> Loads:
    """IDs pasted from a web page or another system carry invisible format characters
    (Unicode Cf: direction marks, BOM, word joiner, embeddings, a language tag): all are
    removed by the one folding, so the ID stays valid. (Before: ingest folded 5 such
    characters and cleaning 6, so U+200E/U+202A left the ID invalid.)"""
    t = base[HUKOU].copy()
    marks = ["\u200e", "\u200f", "\ufeff", "\u2060", "\u202a", "\u202c", "\U000e0041"]
    good = [
        k
        for k in range(1, len(t.rows) + 1)
        if re.fullmatch(r"\d{17}[\dX]", t.get(k, "公民身份号码") or "")
        and check_char(t.get(k, "公民身份号码")[:17]) == t.get(k, "公民身份号码")[17]
    ][: len(marks)]
    for k, mark in zip(good, marks, strict=True):
        t.set(k, "公民身份号码", f"{mark}{t.get(k, '公民身份号码')}{mark}")
    write_csv(period / HUKOU, t, encoding="utf-8")

    def check(engine) -> None:
        for k in good:
            assert _population(engine, k, "id_number") == base[HUKOU].get(k, "公民身份号码")

    return Loads(HUKOU, 280, 280, check=check)


@case
def nul_padding_after_the_last_row(period: Path, base: dict[str, Table]) -> Loads:
    """NUL bytes after the last line (a copy cut short) are stripped: a blank tail, not a row."""
    (period / HUKOU).write_bytes((period / HUKOU).read_bytes() + b"\x00" * 300)
    return Loads(HUKOU, 280, 280)


@case
def utf8_bom_in_front_of_gbk(period: Path, base: dict[str, Table]) -> Loads:
    """A UTF-8 BOM stuck on a GBK file is dropped; the text is read as GBK."""
    (period / HUKOU).write_bytes(b"\xef\xbb\xbf" + (period / HUKOU).read_bytes())
    t = base[HUKOU]

    def check(engine) -> None:
        names = col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")
        assert names == [r[t.col("姓名")] for r in t.rows]
        assert col(engine, "SELECT format FROM reconciliation WHERE file = ?", HUKOU) == ["csv gbk"]

    return Loads(HUKOU, 280, 280, check=check)


@case
def stray_boms_on_header_and_rows(period: Path, base: dict[str, Table]) -> Loads:
    """Two BOMs in front of a UTF-8 header and one at the start of a data line (files
    glued together by a tool): zero-width, dropped; the cells read as sent."""
    t = base[HUKOU]
    lines = csv_lines(t.header, t.rows)
    lines[0] = "\ufeff" + lines[0]
    lines[50] = "\ufeff" + lines[50]
    write_lines(period / HUKOU, lines, encoding="utf-8-sig")

    def check(engine) -> None:
        first = t.header[0]
        assert first == "乡镇街道代码"
        got = raw_value(engine, "raw_hukou", "township_code", HUKOU, 50)
        assert got == t.get(50, first)

    return Loads(HUKOU, 280, 280, check=check)


@case
def repeated_header_mid_file(period: Path, base: dict[str, Table]) -> Loads:
    """Two exports pasted into one file: the second header (with its BOM) is a
    repeated_header reject, not a person; the rows after it keep their own numbers."""
    t = base[HUKOU]
    lines = csv_lines(t.header, t.rows)
    lines = [*lines[:141], "\ufeff" + lines[0], *lines[141:]]
    write_lines(period / HUKOU, lines, encoding="utf-8-sig")

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 142) == t.get(141, "姓名")
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 281) == t.get(280, "姓名")

    return Loads(HUKOU, 281, 280, [(141, "公民身份号码", "repeated_header")], check)


@case
def utf8_file_with_one_gbk_row(period: Path, base: dict[str, Table]) -> Loads:
    """One row typed in a GBK editor inside a UTF-8 file: that row is rejected as
    undecodable (its first damaged column named), the others load as UTF-8.
    (Before: the whole file decoded as GB18030, every name garbled.)"""
    t = base[HUKOU]
    lines = csv_lines(t.header, t.rows)
    data = b"".join(
        (ln + "\r\n").encode("gbk" if i == 20 else "utf-8") for i, ln in enumerate(lines)
    )
    (period / HUKOU).write_bytes(data)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 21) == t.get(21, "姓名")
        assert col(engine, "SELECT format FROM reconciliation WHERE file = ?", HUKOU) == [
            "csv utf-8"
        ]

    return Loads(HUKOU, 280, 279, [(20, "姓名", "undecodable")], check)


@case
def small_utf8_file_with_one_gbk_row(period: Path, base: dict[str, Table]) -> Loads:
    """The same in a 15-row file (students): the one GBK row is rejected, not the
    14 UTF-8 ones garbled by reading the whole file as GB18030."""
    t = base[STUDENTS]
    lines = csv_lines(t.header, t.rows)
    data = b"".join(
        (ln + "\r\n").encode("gbk" if i == 4 else "utf-8") for i, ln in enumerate(lines)
    )
    (period / STUDENTS).write_bytes(data)
    first = next(h for h in t.header if t.get(4, h) and not t.get(4, h).isascii())
    return Loads(STUDENTS, 15, 14, [(4, first, "undecodable")])


@case
def gbk_file_with_one_utf8_row(period: Path, base: dict[str, Table]) -> Loads:
    """One UTF-8 row inside a GBK file that GBK cannot decode: rejected as undecodable,
    the rest read (as GB18030, GBK's superset). (Before: whole file "cannot decode".)"""
    t = base[HUKOU].copy()
    t.set(30, "姓名", "王五六")  # 9 UTF-8 bytes: an odd one out for GBK's byte pairs
    lines = csv_lines(t.header, t.rows)
    data = b"".join(
        (ln + "\r\n").encode("utf-8" if i == 30 else "gbk") for i, ln in enumerate(lines)
    )
    (period / HUKOU).write_bytes(data)

    def check(engine) -> None:
        names = col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")
        assert names == [r[t.col("姓名")] for k, r in enumerate(t.rows, 1) if k != 30]

    return Loads(HUKOU, 280, 279, [(30, "姓名", "undecodable")], check)


@case
def gbk_file_with_one_utf8_row_that_gbk_decodes(period: Path, base: dict[str, Table]) -> Loads:
    """Left: a UTF-8 row whose bytes happen to pair up as valid GBK reads as other
    characters (张三 → 寮犱笁). Bytes cannot tell the two apart; the row is not lost,
    and its garbled name shows up downstream (NAME_MISMATCH / not linked)."""
    t = base[HUKOU].copy()
    for name in t.header:
        value = t.get(40, name)
        if value and not value.isascii():
            t.set(40, name, None)
    t.set(40, "姓名", "张三")
    lines = csv_lines(t.header, t.rows)
    data = b"".join(
        (ln + "\r\n").encode("utf-8" if i == 40 else "gbk") for i, ln in enumerate(lines)
    )
    (period / HUKOU).write_bytes(data)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 40) == "寮犱笁"

    return Loads(HUKOU, 280, 280, check=check)


def _line_ends(eol: str) -> Case:
    def make(period: Path, base: dict[str, Table]) -> Loads:
        t = base[HUKOU]
        lines = csv_lines(t.header, t.rows)
        if eol == "mixed":
            body = "".join(ln + ("\r\n" if i % 2 else "\n") for i, ln in enumerate(lines))
            (period / HUKOU).write_bytes(body.encode("gbk"))
        else:
            write_lines(period / HUKOU, lines, eol=eol)

        def check(engine) -> None:
            names = col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")
            assert names == [r[t.col("姓名")] for r in t.rows]

        return Loads(HUKOU, 280, 280, check=check)

    make.__doc__ = f"Line ends {eol!r}: the same rows. (Before, CR-only: a raw csv.Error.)"
    make.__name__ = "line_ends_" + {"\n": "lf", "\r": "cr_only", "mixed": "mixed"}[eol]
    return make


for _eol in ("\n", "\r", "mixed"):
    case(_line_ends(_eol))


@case
def header_only_required(period: Path, base: dict[str, Table]) -> Fails:
    """A required extract with a header and no rows cannot make a period."""
    write_csv(period / HUKOU, Table(base[HUKOU].header, []))
    return Fails(HUKOU, "[extract_header_only]")


@case
def header_only_optional(period: Path, base: dict[str, Table]) -> Loads:
    """An optional extract with a header only: nobody in it, reconciled 0 = 0 + 0."""
    write_csv(period / STUDENTS, Table(base[STUDENTS].header, []))
    return Loads(STUDENTS, 0, 0)


@case
def zero_bytes_required(period: Path, base: dict[str, Table]) -> Fails:
    (period / HUKOU).write_bytes(b"")
    return Fails(HUKOU, "[file_empty]")


@case
def zero_bytes_optional(period: Path, base: dict[str, Table]) -> Fails:
    """An optional extract sent as 0 bytes is refused too: an export that failed looks
    exactly like this, and "no students" is said by leaving the file out."""
    (period / STUDENTS).write_bytes(b"")
    return Fails(STUDENTS, "[file_empty]")


@case
def whitespace_lines_and_trailing_blank_lines(period: Path, base: dict[str, Table]) -> Loads:
    """Lines of spaces, tabs, full-width spaces or bare commas inside the data are
    blank_row rejects (counted); blank lines after the last row are layout (not rows)."""
    t = base[HUKOU]
    lines = csv_lines(t.header, t.rows)
    lines = [*lines[:5], "   ", "\t", "", ",\u3000,,", *lines[5:], "", "  ", "", ""]
    write_lines(period / HUKOU, lines)
    blank = [(k, None, "blank_row") for k in (5, 6, 7, 8)]

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 9) == t.get(5, "姓名")

    return Loads(HUKOU, 284, 280, blank, check)


@case
def dos_end_of_file_mark(period: Path, base: dict[str, Table]) -> Loads:
    """A Ctrl-Z (0x1A) after the last line, as old DOS tools write: not a row."""
    (period / HUKOU).write_bytes((period / HUKOU).read_bytes() + b"\x1a")
    return Loads(HUKOU, 280, 280)


@case
def control_characters_in_cells(period: Path, base: dict[str, Table]) -> Loads:
    """Control characters (vertical tab, form feed, 0x1F) inside cells are dropped,
    like zero-width characters: invisible in Excel, never data."""
    t = base[HUKOU].copy()
    name = t.get(3, "姓名")
    t.set(3, "姓名", name[0] + "\x0b" + name[1:] + "\x1f")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 3) == name

    return Loads(HUKOU, 280, 280, check=check)


# ------------------------------------------------------------------ headers


@case
def duplicate_extra_header(period: Path, base: dict[str, Table]) -> Loads:
    """Two extra columns with the same name (备注 twice) are both extras, data loads."""
    write_csv(period / HUKOU, base[HUKOU].with_column("备注", "已核"))

    def check(engine) -> None:
        extras = col(engine, "SELECT extra_columns FROM reconciliation WHERE file = ?", HUKOU)
        assert extras == ["备注; 备注"]

    return Loads(HUKOU, 280, 280, check=check)


@case
def duplicate_contract_header(period: Path, base: dict[str, Table]) -> Fails:
    """Two 姓名 columns: which one is the name cannot be guessed; refused by column."""
    write_csv(period / HUKOU, base[HUKOU].with_column("姓名", "张三"))
    return Fails(HUKOU, "有两列都对应“姓名”", column="姓名")


@case
def fullwidth_spaced_and_marked_headers(period: Path, base: dict[str, Table]) -> Loads:
    """Headers with trailing/full-width spaces, zero-width characters, full-width
    brackets and required-marks fold to the contract's names."""
    t = base[HUKOU].copy()
    rename = {
        "公民身份号码": "公民身份号码＊　",
        "姓名": " 姓　名 ",
        "乡镇街道代码": "乡镇（街道）代码\t",
        "村社区代码": "\u200b村社区代码",
        "户籍状态": "户籍状态 ",
    }
    t.header = [rename.get(h, h) for h in t.header]
    write_csv(period / HUKOU, t, encoding="utf-8-sig")

    def check(engine) -> None:
        ids = col(engine, "SELECT id_raw FROM raw_hukou ORDER BY source_row")
        assert ids == [r[t.col("公民身份号码＊　")] for r in t.rows]

    return Loads(HUKOU, 280, 280, check=check)


# ------------------------------------------------------------------ values


def _population(engine, row: int, column: str):
    got = col(
        engine, f"SELECT {column} FROM population WHERE file = ? AND source_row = ?", HUKOU, row
    )
    assert len(got) == 1
    return got[0]


@case
def id_as_excel_number_text(period: Path, base: dict[str, Table]) -> Loads:
    """IDs that went through a float ("4.30302E+17", "430302199001011234.0") load as
    sent; the ID check reports precision lost (never guesses the digits)."""
    t = base[HUKOU].copy()
    real = t.get(4, "公民身份号码")
    t.set(3, "公民身份号码", "4.30302E+17")
    t.set(4, "公民身份号码", real + ".0")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "id_raw", HUKOU, 4) == real + ".0"
        assert _population(engine, 3, "id_status") == "precision_lost"
        assert _population(engine, 4, "id_status") == "precision_lost"

    return Loads(HUKOU, 280, 280, check=check)


@case
def id_fullwidth_apostrophe_and_eq_quoted(period: Path, base: dict[str, Table]) -> Loads:
    """Full-width digits, a leading apostrophe and Excel's ="…" text trick (bare and
    CSV-quoted) all give the true ID. ingest renders ="…" as the text Excel shows."""
    t = base[HUKOU].copy()
    ids = {k: t.get(k, "公民身份号码") for k in (5, 6, 7, 8)}
    full = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    t.set(5, "公民身份号码", ids[5].translate(full))
    t.set(6, "公民身份号码", "'" + ids[6] + " ")
    t.set(8, "公民身份号码", f'="{ids[8]}"')  # the writer quotes it: "=""…"""
    lines = csv_lines(t.header, t.rows)
    lines[7] = lines[7].replace(ids[7], f'="{ids[7]}"')  # bare, as some exports write it
    write_lines(period / HUKOU, lines)

    def check(engine) -> None:
        for k in (7, 8):
            assert raw_value(engine, "raw_hukou", "id_raw", HUKOU, k) == ids[k]
        for k, real in ids.items():
            assert _population(engine, k, "id_number") == real

    return Loads(HUKOU, 280, 280, check=check)


@case
def dates_in_excel_and_chinese_forms(period: Path, base: dict[str, Table]) -> Loads:
    """Birth dates as an Excel serial, 1990年1月1日, 19900101 and garbage load as sent;
    standardise reads the first three and leaves garbage empty (no finding exists for
    a bad date in the contract: see the report)."""
    t = base[HUKOU].copy()
    births = {k: dt.datetime.strptime(t.get(k, "出生日期"), "%Y%m%d").date() for k in (2, 3, 4)}
    t.set(2, "出生日期", str((births[2] - dt.date(1899, 12, 30)).days))
    b = births[3]
    t.set(3, "出生日期", f"{b.year}年{b.month}月{b.day}日")
    t.set(4, "出生日期", births[4].strftime("%Y%m%d"))
    t.set(5, "出生日期", "不详")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        for k, real in births.items():
            assert _population(engine, k, "birth_date") == real
        assert _population(engine, 5, "birth_date") is None
        assert raw_value(engine, "raw_hukou", "birth_raw", HUKOU, 5) == "不详"

    return Loads(HUKOU, 280, 280, check=check)


@case
def one_megabyte_cells(period: Path, base: dict[str, Table]) -> Loads:
    """A 1 MB cell is a cell, in a regular row and in a short one (the row-by-row
    reader used to stop at Python's 128 KB csv field limit with a raw csv.Error)."""
    t = base[HUKOU].copy()
    big = "湘" * (1 << 20)
    t.set(6, "户籍地址", big)
    lines = csv_lines(t.header, t.rows)
    lines[7] = ",".join(lines[7].split(",")[:10]) + "," + big  # short row, big last cell
    write_lines(period / HUKOU, lines)

    def check(engine) -> None:
        assert raw_value(engine, "raw_hukou", "length(address)", HUKOU, 6) == 1 << 20
        assert raw_value(engine, "raw_hukou", "name_raw", HUKOU, 8) == t.get(8, "姓名")

    return Loads(HUKOU, 280, 280, check=check)


@case
def formula_looking_cells(period: Path, base: dict[str, Table]) -> Loads:
    """Cells that look like formulas are text: never evaluated, loaded as sent."""
    t = base[HUKOU].copy()
    t.set(8, "户籍地址", "=1+1")
    t.set(9, "户籍地址", '=HYPERLINK("http://x","点")')
    t.set(10, "户籍地址", "@SUM(A1)")
    write_csv(period / HUKOU, t)

    def check(engine) -> None:
        got = [raw_value(engine, "raw_hukou", "address", HUKOU, k) for k in (8, 9, 10)]
        assert got == ["=1+1", '=HYPERLINK("http://x","点")', "@SUM(A1)"]

    return Loads(HUKOU, 280, 280, check=check)


@case
def summary_and_signature_lines(period: Path, base: dict[str, Table]) -> Loads:
    """A 合计 line (label in the ID column) and a 制表人 footer are rejected by name."""
    t = base[HUKOU].copy()
    total: list[str | None] = [None] * len(t.header)
    total[t.col("公民身份号码")] = "合计：280人"
    footer: list[str | None] = [None] * len(t.header)
    footer[0] = "制表人：张三  审核人：李四"
    t.rows += [total, footer]
    write_csv(period / HUKOU, t)
    rejects = [(281, "公民身份号码", "summary_row"), (282, t.header[0], "summary_row")]
    return Loads(HUKOU, 282, 280, rejects)


# ------------------------------------------------------------------ not what the name says


@case
def csv_that_is_really_xlsx(period: Path, base: dict[str, Table]) -> Loads:
    """A workbook saved as students.csv is read as a workbook (by its bytes)."""
    write_xlsx(period / STUDENTS, [("Sheet1", table_rows(base[STUDENTS]))])

    def check(engine) -> None:
        fmt = col(engine, "SELECT format FROM reconciliation WHERE file = ?", STUDENTS)
        assert fmt == ["xlsx"]

    return Loads(STUDENTS, 15, 15, check=check)


@case
def xlsx_that_is_really_csv(period: Path, base: dict[str, Table]) -> Loads:
    """CSV text saved as enrollment.xlsx is read as CSV, by its bytes, like the
    reverse. (Before: "password-protected or not an xlsx".)"""
    (period / ENROLL).unlink()
    write_csv(period / ENROLL, base[ENROLL], encoding="utf-8")

    def check(engine) -> None:
        fmt = col(engine, "SELECT format FROM reconciliation WHERE file = ?", ENROLL)
        assert fmt == ["csv utf-8"]

    return Loads(ENROLL, 624, 624, check=check)


@case
def csv_that_is_really_html(period: Path, base: dict[str, Table]) -> Fails:
    (period / HUKOU).write_text(
        "<html><body><table><tr><td>公民身份号码</td></tr></table></body></html>",
        encoding="utf-8",
    )
    return Fails(HUKOU, "[file_is_html]")


@case
def csv_that_is_really_pdf(period: Path, base: dict[str, Table]) -> Fails:
    """A PDF printout saved under the extract's name is named as such."""
    (period / STUDENTS).write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    return Fails(STUDENTS, "PDF 文档")


@case
def csv_that_is_really_binary(period: Path, base: dict[str, Table]) -> Fails:
    """Bytes that are no text at all (many NULs): refused as not decodable."""
    (period / STUDENTS).write_bytes(bytes(range(256)) * 64)
    return Fails(STUDENTS, "[csv_undecodable]")


@case
def tab_separated_csv(period: Path, base: dict[str, Table]) -> Loads:
    """Tab-separated text under a .csv name: the delimiter is sniffed from the header."""
    t = base[STUDENTS]
    lines = ["\t".join(v or "" for v in r) for r in [t.header, *t.rows]]
    write_lines(period / STUDENTS, lines, encoding="gb18030")
    return Loads(STUDENTS, 15, 15)


# ------------------------------------------------------------------ xlsx


@case
def xlsx_data_on_second_sheet(period: Path, base: dict[str, Table]) -> Loads:
    """A 说明 sheet in front of the data: the sheet whose header is the extract's is
    read (named in the reconciliation). (Before: "required column missing".)"""
    note = [["本表由社保系统导出，请勿修改表头。"], ["导出日期：2026-11-15"]]
    write_xlsx(period / ENROLL, [("说明", note), ("参保数据", table_rows(base[ENROLL]))])

    def check(engine) -> None:
        fmt = col(engine, "SELECT format FROM reconciliation WHERE file = ?", ENROLL)
        assert fmt == ["xlsx sheet 参保数据"]

    return Loads(ENROLL, 624, 624, check=check)


@case
def xlsx_empty_first_sheet(period: Path, base: dict[str, Table]) -> Loads:
    """An empty first sheet is layout; the first sheet with cells is read."""
    write_xlsx(period / ENROLL, [("Sheet1", []), ("Sheet2", table_rows(base[ENROLL]))])
    return Loads(ENROLL, 624, 624)


@case
def xlsx_rows_on_two_sheets(period: Path, base: dict[str, Table]) -> Fails:
    """Rows of one extract on two sheets (Excel's row limit splits big exports):
    refused, because a row number must name one row. (Before: sheet 2 silently lost.)"""
    rows = table_rows(base[ENROLL])
    sheets = [("第1页", rows[:301]), ("第2页", [rows[0], *rows[301:]])]
    write_xlsx(period / ENROLL, sheets)
    return Fails(ENROLL, "多个工作表（第1页, 第2页）")


@case
def xlsx_merged_title_and_group_rows(period: Path, base: dict[str, Table]) -> Loads:
    """A merged title row and a merged group row (人员信息 / 参保信息) above the header:
    title rows, skipped; source_row counts from below the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["雨湖区参保人员信息表"])
    ws.merge_cells("A1:K1")
    ws.append(["人员信息", None, None, None, None, "参保信息"])
    ws.merge_cells("A2:E2")
    ws.merge_cells("F2:K2")
    for r in table_rows(base[ENROLL]):
        ws.append(r)
    wb.save(period / ENROLL)
    t = base[ENROLL]

    def check(engine) -> None:
        ids = col(engine, "SELECT id_raw FROM raw_enrollment ORDER BY source_row")
        assert ids == [r[t.col("公民身份号码")] for r in t.rows]

    return Loads(ENROLL, 624, 624, check=check)


@case
def xlsx_two_row_header(period: Path, base: dict[str, Table]) -> Fails:
    """A header split over two merged rows (参保 over 状态 | 日期): no single row has
    the contract's columns. Refused naming the missing column; the fix is one row."""
    t = base[ENROLL]
    top = ["参保" if h in ("参保状态", "参保日期") else h for h in t.header]
    sub = [h[2:] if h in ("参保状态", "参保日期") else None for h in t.header]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(top)
    ws.append(sub)
    for r in t.rows:
        ws.append(r)
    wb.save(period / ENROLL)
    return Fails(ENROLL, "缺少必需的列“参保状态”", column="参保状态")


@case
def xlsx_blank_rows_and_column_before_header(period: Path, base: dict[str, Table]) -> Loads:
    """The table starts at B3: blank rows and a blank column in front are layout."""
    rows = [[], [], *[[None, *r] for r in table_rows(base[ENROLL])]]
    write_xlsx(period / ENROLL, [("Sheet1", rows)])
    t = base[ENROLL]

    def check(engine) -> None:
        assert raw_value(engine, "raw_enrollment", "id_raw", ENROLL, 1) == t.get(1, "公民身份号码")

    return Loads(ENROLL, 624, 624, check=check)


@case
def xlsx_formula_without_result_in_a_used_column(period: Path, base: dict[str, Table]) -> Fails:
    """Names as formulas saved by a program that never calculated them read as empty
    cells: refused, naming the first such cell. (Before: 624 rows without a name.)"""
    rows = table_rows(base[ENROLL])
    name = rows[0].index("姓名")
    for r in rows[1:]:
        r[name] = f'=TRIM("{r[name]}")'
    write_xlsx(period / ENROLL, [("Sheet1", rows)])
    return Fails(ENROLL, "单元格 C2：公式保存时没有计算结果", row=1, column="姓名")


@case
def xlsx_formula_without_result_in_an_extra_column(period: Path, base: dict[str, Table]) -> Loads:
    """The same in a column the contract does not use: ignored, like the column."""
    rows = table_rows(base[ENROLL])
    rows[0].append("核对")
    for k, r in enumerate(rows[1:], start=2):
        r.append(f"=B{k}=B{k}")
    write_xlsx(period / ENROLL, [("Sheet1", rows)])
    return Loads(ENROLL, 624, 624)


@case
def xlsx_error_cells(period: Path, base: dict[str, Table]) -> Loads:
    """#N/A cells (a VLOOKUP pasted as values) read as the text Excel shows, not as
    empty: the ID check then reports the row instead of a missing ID."""
    rows = table_rows(base[ENROLL])
    idc = rows[0].index("公民身份号码")
    rows[3][idc] = "#N/A"
    rows[4][idc] = "#REF!"
    write_xlsx(period / ENROLL, [("Sheet1", rows)])

    def check(engine) -> None:
        got = [raw_value(engine, "raw_enrollment", "id_raw", ENROLL, k) for k in (3, 4)]
        assert got == ["#N/A", "#REF!"]
        status = col(
            engine,
            "SELECT id_status FROM enrollment WHERE file = ? AND source_row IN (3, 4)",
            ENROLL,
        )
        assert status == ["invalid", "invalid"]

    return Loads(ENROLL, 624, 624, check=check)


@case
def xlsx_numeric_id_cells(period: Path, base: dict[str, Table]) -> Loads:
    """An ID stored as a number shows as Excel shows it (4.30302…E+17): precision lost."""
    rows = table_rows(base[ENROLL])
    idc = rows[0].index("公民身份号码")
    real = rows[5][idc]
    rows[5][idc] = int(real[:17] + "0")
    write_xlsx(period / ENROLL, [("Sheet1", rows)])

    def check(engine) -> None:
        assert raw_value(engine, "raw_enrollment", "id_raw", ENROLL, 5).endswith("E+17")
        status = col(
            engine, "SELECT id_status FROM enrollment WHERE file = ? AND source_row = 5", ENROLL
        )
        assert status == ["precision_lost"]

    return Loads(ENROLL, 624, 624, check=check)


@case
def xlsx_empty_workbook(period: Path, base: dict[str, Table]) -> Fails:
    write_xlsx(period / ENROLL, [("Sheet1", []), ("Sheet2", [])])
    return Fails(ENROLL, "no_header]")


@case
def xlsx_repeated_header(period: Path, base: dict[str, Table]) -> Loads:
    """Two exports pasted into one sheet, header and all: the second header is a
    repeated_header reject."""
    rows = table_rows(base[ENROLL])
    write_xlsx(period / ENROLL, [("Sheet1", [*rows[:101], rows[0], *rows[101:]])])
    return Loads(ENROLL, 625, 624, [(101, "公民身份号码", "repeated_header")])


# ------------------------------------------------------------------ the period folder


@case
def unexpected_spreadsheet(period: Path, base: dict[str, Table]) -> Fails:
    """A spreadsheet whose name is no extract would never be read: refused by name
    rather than its rows lost. (Before: silently skipped.)"""
    write_xlsx(period / "户籍人口补充.xlsx", [("Sheet1", table_rows(base[HUKOU])[:5])])
    return Fails("户籍人口补充.xlsx", "[file_not_an_extract]")


@case
def browser_copy_of_an_extract(period: Path, base: dict[str, Table]) -> Fails:
    """hukou (1).csv, a second download of the same extract: refused by name."""
    write_csv(period / "hukou (1).csv", base[HUKOU])
    return Fails("hukou (1).csv", "[file_not_an_extract]")


@case
def extract_in_a_format_not_read(period: Path, base: dict[str, Table]) -> Fails:
    """students.ods (an export in a format not read) would be skipped: refused by name."""
    (period / STUDENTS).rename(period / "students.ods")
    return Fails("students.ods", "[extract_format_not_read]")


@case
def harmless_files_beside_the_extracts(period: Path, base: dict[str, Table]) -> Loads:
    """Notes, documents, Excel lock files, hidden files and survey_returns/ hold no
    extract rows: left alone."""
    (period / "说明.docx").write_bytes(b"PK\x03\x04 not read")
    (period / "readme.txt").write_text("2026-11-15 导出", encoding="utf-8")
    (period / "~$enrollment.xlsx").write_bytes(b"lock")
    (period / ".DS_Store").write_bytes(b"\x00\x00")
    (period / "survey_returns").mkdir()
    return Loads(HUKOU, 280, 280)


# ------------------------------------------------------------------ the test


def _nothing_lost(engine) -> None:
    """Every file: read = loaded + rejected, and rows 1..read each exactly once."""
    recon = engine.query_df("SELECT * FROM reconciliation")
    assert (recon.rows_read == recon.rows_loaded + recon.rows_rejected).all()
    raw = {
        "hukou": "raw_hukou",
        "residents": "raw_residents",
        "enrollment": "raw_enrollment",
        "employers": "raw_employers",
        "national_match": "raw_national_match",
        "students": "raw_students",
    }
    for r in recon.itertuples():
        loaded = col(engine, f"SELECT source_row FROM {raw[r.extract]} WHERE file = ?", r.file)
        rejected = col(engine, "SELECT source_row FROM rejects WHERE file = ?", r.file)
        assert sorted(loaded + rejected) == list(range(1, r.rows_read + 1)), r.file
    rej = engine.query_df("SELECT * FROM rejects")
    assert rej.file.notna().all() and rej.reason.notna().all()


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(
    engine, name: str, demo: tuple[Path, dict[str, Table]], tmp_path: Path
) -> None:
    src, base = demo
    period = copy_period(src, tmp_path)
    expect = CASES[name](period, base)
    ctx = period_context(period, tmp_path / "reports")
    cfg = Config(district_code="430302")
    try:
        if isinstance(expect, Fails):
            with pytest.raises(InputError) as exc:
                load_period(engine, cfg, ctx)
            err = exc.value
            assert (err.file, err.row, err.column) == (expect.file, expect.row, expect.column)
            assert str(err).startswith(expect.file)
            assert expect.match in str(err)
            return
        recon = load_period(engine, cfg, ctx)
        standardise(engine, cfg, ctx)
        _nothing_lost(engine)
        r = recon.set_index("file").loc[expect.file]
        assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (
            expect.read,
            expect.loaded,
            expect.read - expect.loaded,
        )
        got = engine.query_df(
            'SELECT source_row, "column", reason FROM rejects WHERE file = ? ORDER BY source_row',
            [expect.file],
        )
        rows = [(int(a), None if b is None else b, c) for a, b, c in got.itertuples(index=False)]
        assert rows == expect.rejects
        if expect.check is not None:
            expect.check(engine)
    finally:
        engine.close()


def test_every_case_says_why() -> None:
    """Each case documents its decision (or is plain enough to need none)."""
    plain = {
        "zero_bytes_required",
        "csv_that_is_really_html",
        "xlsx_empty_workbook",
    }
    missing = [n for n, fn in CASES.items() if not fn.__doc__ and n not in plain]
    assert not missing
