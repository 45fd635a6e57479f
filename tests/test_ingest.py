"""Stage 1 (ingest): encodings, xlsx cells, headers, rejects, reconciliation, atomicity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from canbao.core.config import Config
from canbao.core.context import period_context
from canbao.core.errors import InputError
from canbao.core.schema import EXTRACTS
from canbao.ingest import load_period
from canbao.ingest.headers import fold_header
from canbao.ingest.xlsx_reader import float_text
from tests.support.ingest import ENROLL_HEADER, HUKOU_HEADER, hukou_row, write_csv, write_xlsx

HUKOU_ROWS = [
    hukou_row("11010519491231002X", "张秀英"),
    hukou_row("440524188001010014", "欧阳娜娜"),
    hukou_row("11010219840406970X", "阿依古丽·买买提"),
]
ENROLL_ROWS = [
    ["430302000001", "11010519491231002X", "张秀英", "2", "1949-12-31", "170", "1", "1",
     "2010-07-01", "", "430302"],
    ["430302000002", "440524188001010014", "欧阳娜娜", "1", "1880-01-01", "390", "1", "0",
     "2015-01-01", "", "430302"],
]  # fmt: skip


@pytest.fixture
def period(tmp_path: Path) -> Path:
    d = tmp_path / "raw" / "430302" / "2026-06-30"
    d.mkdir(parents=True)
    write_csv(d / "hukou.csv", HUKOU_HEADER, HUKOU_ROWS)
    write_csv(d / "enrollment.csv", ENROLL_HEADER, ENROLL_ROWS)
    return d


def run(engine, period: Path, cfg: Config | None = None):
    ctx = period_context(period, period.parents[2] / "reports")
    return load_period(engine, cfg or Config(district_code="430302"), ctx)


def col(engine, sql: str) -> list:
    return engine.query_df(sql).iloc[:, 0].tolist()


# ------------------------------------------------------------------ good inputs


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_encodings_load_the_same_chinese_text(engine, period, encoding):
    rows = [*HUKOU_ROWS, hukou_row("34052419800101001X", "诸葛亮", **{"村社区": "　茶花社区"})]
    write_csv(period / "hukou.csv", HUKOU_HEADER, rows, encoding=encoding)
    recon = run(engine, period)
    names = col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")
    assert names == ["张秀英", "欧阳娜娜", "阿依古丽·买买提", "诸葛亮"]
    assert (
        col(engine, "SELECT id_raw FROM raw_hukou ORDER BY source_row")[0] == "11010519491231002X"
    )
    # full-width space inside a value is data, not blank (clean trims it)
    assert col(engine, "SELECT village_name FROM raw_hukou WHERE source_row = 4") == ["　茶花社区"]
    # GB18030 text that uses only GBK characters is GBK
    expected = {"gb18030": "gbk"}.get(encoding, encoding)
    assert recon.loc[recon.extract == "hukou", "format"].item() == f"csv {expected}"


def test_gb18030_only_characters(engine, period):
    # 㐀 (CJK Ext. A) and 𠀾 (non-BMP) are not in GBK
    rows = [hukou_row("11010519491231002X", "王㐀"), hukou_row("440524188001010014", "李𠀾")]
    write_csv(period / "hukou.csv", HUKOU_HEADER, rows, encoding="gb18030")
    run(engine, period)
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row") == ["王㐀", "李𠀾"]


def test_xlsx_numeric_id_dates_and_codes(engine, period):
    (period / "enrollment.csv").unlink()
    rows = [
        ["430302000001", 430302199001011234, "王五", 1, dt.datetime(1990, 1, 1), 170, 1, 0,
         dt.date(2020, 1, 1), None, 430302],
        ["430302000002", 110105491231002, "张三", "男", "1949-12-31", "城乡居民基本养老保险",
         "正常参保", "正常享受", 20100101, None, "430302"],
    ]  # fmt: skip
    write_xlsx(period / "enrollment.xlsx", ENROLL_HEADER, rows)
    recon = run(engine, period)
    df = engine.query_df("SELECT * FROM raw_enrollment ORDER BY source_row")
    assert df.id_raw.tolist() == ["4.30302199001011E+17", "110105491231002"]
    assert df.birth_raw.tolist() == ["1990-01-01", "1949-12-31"]
    assert df.enroll_date_raw.tolist() == ["2020-01-01", "20100101"]
    assert df.scheme_raw.tolist() == ["170", "城乡居民基本养老保险"]
    assert df.region_code.tolist() == ["430302", "430302"]
    assert df.employer_no.isna().all()
    assert df.file.tolist() == ["enrollment.xlsx"] * 2
    assert recon.loc[recon.extract == "enrollment", "format"].item() == "xlsx"


def test_float_text_is_what_excel_shows():
    assert float_text(430302199001011234.0) == "4.30302199001011E+17"
    assert float_text(4.303e17) == "4.303E+17"
    assert float_text(430302001.0) == "430302001"
    assert float_text(110105491231002.0) == "110105491231002"  # 15 digits: exact
    assert float_text(3.5) == "3.5"
    assert float_text(0.1 + 0.2) == "0.3"


def test_shuffled_columns_extra_column_and_folded_headers(engine, period):
    header = ["备注", *reversed(HUKOU_HEADER)]
    header[header.index("姓名")] = " 姓　名 "  # spaces and a full-width space
    header[header.index("公民身份号码")] = "公民身份号码＊"  # full-width required-mark
    rows = [["核对过", *reversed(r)] for r in HUKOU_ROWS]
    write_csv(period / "hukou.csv", header, rows)
    recon = run(engine, period)
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")[0] == "张秀英"
    assert col(engine, "SELECT township_code FROM raw_hukou")[0] == "430302001"
    assert recon.loc[recon.extract == "hukou", "extra_columns"].item() == "备注"


def test_header_mapping_from_params(engine, period):
    header = ["居民身份号码", "名字", *HUKOU_HEADER[2:]]
    write_csv(period / "hukou.csv", header, HUKOU_ROWS)
    with pytest.raises(InputError) as exc:
        run(engine, period)
    assert exc.value.column == "公民身份号码"
    cfg = Config(
        district_code="430302",
        headers={"hukou": {"居民身份号码": "公民身份号码", "名 字": "name_raw"}},
    )
    run(engine, period, cfg)
    assert (
        col(engine, "SELECT id_raw FROM raw_hukou ORDER BY source_row")[1] == "440524188001010014"
    )
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")[1] == "欧阳娜娜"


def test_common_header_variants(engine, period):
    header = ["身份证号码", "姓名", *HUKOU_HEADER[2:]]
    header[header.index("村社区代码")] = "村（社区）代码"
    write_csv(period / "hukou.csv", [*header, "证件号码"], [[*r, "x"] for r in HUKOU_ROWS])
    recon = run(engine, period)
    assert (
        col(engine, "SELECT id_raw FROM raw_hukou ORDER BY source_row")[0] == "11010519491231002X"
    )
    assert col(engine, "SELECT village_code FROM raw_hukou")[0] == "430302001001"
    # a second variant of a column already found is an extra column, not a clash
    assert recon.loc[recon.extract == "hukou", "extra_columns"].item() == "证件号码"


def test_header_mapping_to_unknown_column_fails_loudly(engine, period):
    cfg = Config(district_code="430302", headers={"hukou": {"身份证号": "身份证"}})
    with pytest.raises(ValueError, match="身份证"):
        run(engine, period, cfg)


def test_fold_header():
    assert fold_header(" 公民身份号码\u200b ") == "公民身份号码"
    assert fold_header("乡镇（街道）代码") == "乡镇街道代码"
    assert fold_header("ＩＤ　号") == "ID号"


def test_rows_blank_lines_rejects_and_reconciliation(engine, period):
    text = (
        ",".join(HUKOU_HEADER) + ",备注\n"
        + ",".join(HUKOU_ROWS[0]) + ",\n"  # row 1
        + "\n"  # row 2: blank line
        + ",".join([""] * 15) + "\n"  # row 3: only commas
        + ",".join(["", "", "1", *[""] * 11, "NA"]) + "\n"  # row 4: no id, no name
        + ",".join(["  ", "\u3000", *[""] * 13]) + "\n"  # row 5: whitespace only
        + ",".join(["", "李四", *HUKOU_ROWS[1][2:]]) + ",NA\n"  # row 6: name only: loaded
        + "\n\n"  # trailing blank lines: not rows
    )  # fmt: skip
    (period / "hukou.csv").write_text(text, encoding="utf-8")
    recon = run(engine, period)
    r = recon.set_index("extract").loc["hukou"]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (6, 2, 4)
    assert (recon.rows_read == recon.rows_loaded + recon.rows_rejected).all()
    assert col(engine, "SELECT source_row FROM raw_hukou ORDER BY source_row") == [1, 6]
    rej = engine.query_df("SELECT * FROM rejects ORDER BY file, source_row")
    assert rej.source_row.tolist() == [2, 3, 4, 5]
    assert rej.reason.tolist() == ["blank_row", "blank_row", "no_id_no_name", "blank_row"]
    assert rej.loc[rej.reason == "no_id_no_name", "column"].item() == "公民身份号码"
    assert set(rej.file) == {"hukou.csv"}
    # "NA" is text, not a missing value
    assert engine.scalar("SELECT count(*) FROM raw_hukou WHERE name_raw = '李四'") == 1
    table = engine.query_df("SELECT * FROM reconciliation")
    assert (table.rows_read == table.rows_loaded + table.rows_rejected).all()
    assert table.extract.tolist() == ["hukou", "enrollment"]


def test_title_rows_above_the_header(engine, period):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["雨湖区户籍人口信息表"])
    ws.append(["导出日期：2026-06-30"])
    ws.append(HUKOU_HEADER)
    for r in HUKOU_ROWS:
        ws.append(r)
    (period / "hukou.csv").unlink()
    wb.save(period / "hukou.xlsx")
    recon = run(engine, period)
    assert col(engine, "SELECT source_row FROM raw_hukou ORDER BY source_row") == [1, 2, 3]
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")[0] == "张秀英"
    assert recon.loc[recon.extract == "hukou", "rows_read"].item() == 3


def test_summary_row_and_multiline_cell(engine, period):
    rows = [
        hukou_row("11010519491231002X", "张秀英", 户籍地址="湖南省湘潭市\n雨湖区熙春路12号"),
        HUKOU_ROWS[1],
        ["合计：2人", *[""] * 13],
    ]
    write_csv(period / "hukou.csv", HUKOU_HEADER, rows, encoding="gbk")
    recon = run(engine, period)
    assert col(engine, "SELECT address FROM raw_hukou ORDER BY source_row")[0] == (
        "湖南省湘潭市\n雨湖区熙春路12号"
    )
    assert col(engine, "SELECT source_row FROM raw_hukou ORDER BY source_row") == [1, 2]
    rej = engine.query_df("SELECT * FROM rejects")
    assert rej[["source_row", "reason", "value"]].values.tolist() == [
        [3, "summary_row", "合计：2人"]
    ]
    assert recon.loc[recon.extract == "hukou", "rows_rejected"].item() == 1


def test_html_disguised_as_xls(engine, period):
    (period / "enrollment.csv").unlink()
    (period / "enrollment.xlsx").write_text(
        "<html><body><table><tr><td>个人编号</td></tr></table></body></html>", encoding="utf-8"
    )
    with pytest.raises(InputError, match="file_is_html"):
        run(engine, period)


def test_csv_title_line_above_the_header(engine, period):
    body = "\n".join(",".join(r) for r in [HUKOU_HEADER, *HUKOU_ROWS])
    (period / "hukou.csv").write_text("雨湖区户籍人口信息表\n" + body + "\n", encoding="gbk")
    run(engine, period)
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row") == [
        "张秀英", "欧阳娜娜", "阿依古丽·买买提",
    ]  # fmt: skip
    assert col(engine, "SELECT source_row FROM raw_hukou ORDER BY source_row") == [1, 2, 3]


def test_students_without_id_rejected(engine, period):
    write_csv(period / "students.csv", ["公民身份号码", "姓名", "学校名称"],
              [["11010519491231002X", "张秀英", "湘潭大学"], ["", "李四", "湘潭大学"]])  # fmt: skip
    recon = run(engine, period)
    r = recon.set_index("extract").loc["students"]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (2, 1, 1)
    assert col(engine, "SELECT reason FROM rejects WHERE file = 'students.csv'") == ["no_id"]


def test_zero_width_bom_and_apostrophe_kept_raw(engine, period):
    rows = [hukou_row("\u200b'11010519491231002X\ufeff", "张\u200b秀英"), HUKOU_ROWS[1]]
    write_csv(period / "hukou.csv", HUKOU_HEADER, rows, encoding="utf-8-sig")
    run(engine, period)
    ids = col(engine, "SELECT id_raw FROM raw_hukou ORDER BY source_row")
    assert ids[0] == "'11010519491231002X"
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row")[0] == "张秀英"


def test_ragged_csv_rows_short_padded_long_rejected(engine, period):
    """A short row is padded; a row with more filled fields than the header cannot be
    trusted (its cells may have moved) and is rejected with its text."""
    text = ",".join(HUKOU_HEADER) + "\n" + ",".join(HUKOU_ROWS[0]) + "\n"
    text += ",".join(HUKOU_ROWS[1][:5]) + "\n"  # short row
    text += ",".join([*HUKOU_ROWS[2], "多出来"]) + "\n"  # long row
    (period / "hukou.csv").write_text(text, encoding="gbk")
    recon = run(engine, period)
    assert col(engine, "SELECT name_raw FROM raw_hukou ORDER BY source_row") == [
        "张秀英", "欧阳娜娜",
    ]  # fmt: skip
    assert engine.scalar("SELECT township_code IS NULL FROM raw_hukou WHERE source_row = 2")
    r = recon.set_index("extract").loc["hukou"]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    assert r.extra_columns is None
    assert engine.query_df("SELECT source_row, reason, value FROM rejects").values.tolist() == [
        [3, "too_many_fields", ",".join([*HUKOU_ROWS[2], "多出来"])]
    ]


def test_a_column_the_header_does_not_name_is_an_extra_column(engine, period):
    """Every row one field wider than the header: an unnamed column, not shifted rows."""
    text = ",".join(HUKOU_HEADER) + "\n"
    text += "".join(",".join([*r, "备注"]) + "\n" for r in HUKOU_ROWS[:3])
    (period / "hukou.csv").write_text(text, encoding="gbk")
    recon = run(engine, period)
    r = recon.set_index("extract").loc["hukou"]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 3, 0)
    assert r.extra_columns == "(column 15)"


def test_parts_case_and_survey_returns_skipped(engine, period):
    (period / "hukou.csv").unlink()
    write_csv(period / "HUKOU_2.csv", HUKOU_HEADER, HUKOU_ROWS[2:], encoding="gbk")
    write_xlsx(period / "hukou_1.xlsx", HUKOU_HEADER, HUKOU_ROWS[:2])
    write_csv(period / "hukou_10.csv", HUKOU_HEADER, [hukou_row("34052419800101001X", "诸葛亮")])
    (period / "survey_returns").mkdir()
    (period / "survey_returns" / "hukou.csv").write_text("garbage", encoding="utf-8")
    (period / "~$hukou_1.xlsx").write_bytes(b"lock file")
    recon = run(engine, period)
    assert recon.loc[recon.extract == "hukou", "file"].tolist() == [
        "hukou_1.xlsx", "HUKOU_2.csv", "hukou_10.csv",
    ]  # fmt: skip
    df = engine.query_df("SELECT file, source_row, name_raw FROM raw_hukou")
    assert df.values.tolist() == [
        ["hukou_1.xlsx", 1, "张秀英"],
        ["hukou_1.xlsx", 2, "欧阳娜娜"],
        ["HUKOU_2.csv", 1, "阿依古丽·买买提"],
        ["hukou_10.csv", 1, "诸葛亮"],
    ]


def test_optional_extracts_empty_tables_and_header_only(engine, period):
    write_csv(period / "residents.csv", ["公民身份号码", "姓名", "乡镇街道代码", "村社区代码"], [])
    recon = run(engine, period)
    for extract in EXTRACTS:
        assert engine.table_exists(f"raw_{extract.name}")
    assert engine.scalar("SELECT count(*) FROM raw_residents") == 0
    r = recon.set_index("extract").loc["residents"]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (0, 0, 0)
    types = engine.query_df("DESCRIBE raw_national_match").set_index("column_name").column_type
    assert types["source_row"] == "INTEGER" and types["id_raw"] == "VARCHAR"


# ------------------------------------------------------------------ bad inputs


def _utf16(period: Path) -> None:
    text = ",".join(HUKOU_HEADER) + "\n" + ",".join(HUKOU_ROWS[0]) + "\n"
    (period / "hukou.csv").write_bytes(text.encode("utf-16"))


def _utf16_no_bom(period: Path) -> None:
    text = ",".join(HUKOU_HEADER) + "\n" + ",".join(HUKOU_ROWS[0]) + "\n"
    (period / "hukou.csv").write_bytes(text.encode("utf-16-le"))


def _utf16_cut(period: Path) -> None:
    """UTF-16 ending in half a surrogate pair (a copy cut short)."""
    text = ",".join(HUKOU_HEADER) + "\n" + ",".join(HUKOU_ROWS[0]) + "\n"
    (period / "hukou.csv").write_bytes(text.encode("utf-16") + b"\x3d\xd8")


@pytest.mark.parametrize("make", [_utf16, _utf16_no_bom], ids=["bom", "no_bom"])
def test_utf16_csv_is_read_by_its_bytes(engine, period, make):
    """Excel's "Unicode 文本" and some systems write UTF-16: read as such, not refused."""
    make(period)
    recon = run(engine, period).set_index("file")
    assert recon.loc["hukou.csv", ["rows_read", "rows_loaded"]].tolist() == [1, 1]
    assert recon.loc["hukou.csv", "format"].startswith("csv utf-16")
    assert col(engine, "SELECT name_raw FROM raw_hukou") == ["张秀英"]


def _encrypted_xlsx(period: Path) -> None:
    (period / "enrollment.csv").unlink()
    (period / "enrollment.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00junk" * 200)


def _corrupt_xlsx(period: Path) -> None:
    (period / "enrollment.csv").unlink()
    (period / "enrollment.xlsx").write_bytes(b"PK\x03\x04" + b"not really a zip" * 20)


def _missing_column(period: Path) -> None:
    header = [h for h in ENROLL_HEADER if h != "险种类型"]
    write_csv(period / "enrollment.csv", header, [r[:5] + r[6:] for r in ENROLL_ROWS])


def _empty(period: Path) -> None:
    (period / "hukou.csv").write_bytes(b"")


def _blank_lines_only(period: Path) -> None:
    (period / "hukou.csv").write_text("\n\n,,,\n", encoding="utf-8")


def _header_only(period: Path) -> None:
    write_csv(period / "enrollment.csv", ENROLL_HEADER, [])


def _missing_extract(period: Path) -> None:
    (period / "hukou.csv").unlink()


def _two_files(period: Path) -> None:
    write_xlsx(period / "hukou.xlsx", HUKOU_HEADER, HUKOU_ROWS)


def _duplicate_column(period: Path) -> None:
    write_csv(
        period / "hukou.csv", [*HUKOU_HEADER, "公民身份号码 "], [[*r, "x"] for r in HUKOU_ROWS]
    )


def _empty_xlsx(period: Path) -> None:
    (period / "enrollment.csv").unlink()
    write_xlsx(period / "enrollment.xlsx", [], [])


BAD = {
    "utf16_cut_mid_character": (_utf16_cut, "hukou.csv", None, "[csv_undecodable]"),
    "encrypted_xlsx": (_encrypted_xlsx, "enrollment.xlsx", None, "[xlsx_unreadable]"),
    "corrupt_xlsx": (_corrupt_xlsx, "enrollment.xlsx", None, "[xlsx_unreadable]"),
    "missing_column": (_missing_column, "enrollment.csv", "险种类型", "[header_required_missing]"),
    "empty": (_empty, "hukou.csv", None, "[file_empty]"),
    "blank_lines_only": (_blank_lines_only, "hukou.csv", None, "[file_no_header]"),
    "header_only": (_header_only, "enrollment.csv", None, "[extract_header_only]"),
    "missing_extract": (_missing_extract, "hukou.xlsx", None, "[extract_missing]"),
    "two_files": (_two_files, "hukou.csv", None, "[extract_several_files]"),
    "duplicate_column": (_duplicate_column, "hukou.csv", "公民身份号码", "[header_duplicate]"),
    "empty_xlsx": (_empty_xlsx, "enrollment.xlsx", None, "[workbook_no_header]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_clear_error_and_tables_untouched(engine, period, case):
    run(engine, period)
    before = {
        t: engine.query_df(f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("raw_hukou", "raw_enrollment", "rejects", "reconciliation")
    }
    make, file, column, text = BAD[case]
    make(period)
    with pytest.raises(InputError) as exc:
        run(engine, period)
    err = exc.value
    assert err.file == file
    assert err.column == column
    assert text in str(err)
    assert str(err).startswith(file)
    for t, df in before.items():
        assert engine.query_df(f"SELECT * FROM {t} ORDER BY ALL").equals(df), t
    assert not [t for t in col(engine, "SHOW TABLES") if t.startswith("_")]


@pytest.mark.parametrize("mark", ["\u200b", "\ufeff"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_invisible_mark_cut_by_a_read_chunk_boundary_is_stripped(engine, period, mark, encoding):
    """The scan looks for invisible marks in the bytes it reads, 64 KiB first: a mark whose
    UTF-8 bytes straddle that boundary (a web-page paste deep in a big file) is still
    found, so the cell is cleaned like any other."""
    boundary = 1 << 16  # the scan's first chunk
    filler = [hukou_row(f"1101051949123{i:04d}X", "张秀英") for i in range(300)]
    target = ",".join(hukou_row(f"{mark}11010519491231002X", "李建国")) + "\r\n"
    head = "\ufeff" if encoding == "utf-8-sig" else ""

    def text(pad: int) -> str:
        lines = [HUKOU_HEADER, *filler, ["x" * pad]]  # a padding line: a rejected blank-ish row
        return head + "".join(",".join(r) + "\r\n" for r in lines) + target

    start = len(text(0).encode()) - len(target[target.index(mark) :].encode())
    pad = boundary - 1 - start  # the mark's first byte is the chunk's last byte
    assert pad > 0
    (period / "hukou.csv").write_bytes(text(pad).encode())
    assert (period / "hukou.csv").read_bytes()[boundary - 1 : boundary + 2] == mark.encode()
    run(engine, period)
    assert col(engine, "SELECT id_raw FROM raw_hukou WHERE name_raw = '李建国'") == [
        "11010519491231002X"
    ]
