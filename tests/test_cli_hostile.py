"""Hostile inputs through the front door: ``canbao`` run as a subprocess, as a district runs it.

Each case damages a copy of one small generated district (or writes a bad params file,
or passes a bad argument) and runs the real command. What is asserted is what the user
sees: the exit code (2 usage/params, 3 input refused, 4 safety abort), never a Python
traceback, and one Chinese line naming the file (row, column, key) with the stable
message code in square brackets.
"""

from __future__ import annotations

import codecs
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

DISTRICT = "430302"
CANBAO = str(Path(sys.executable).with_name("canbao"))


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def assert_clean(self, code: int, *needles: str) -> None:
        """Exit code ``code``, no traceback, and every needle in what the user saw."""
        seen = self.out + self.err
        assert self.code == code, seen
        assert "Traceback" not in seen, seen
        for needle in needles:
            assert needle in seen, (needle, seen)


def canbao(*args: str | Path, cwd: Path) -> Result:
    res = subprocess.run(
        [CANBAO, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    return Result(res.returncode, res.stdout, res.stderr)


@pytest.fixture(scope="session")
def clean_run(demo_period: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The undamaged first period, run once: its exports folder."""
    root = tmp_path_factory.mktemp("clean_run")
    shutil.copytree(demo_period, root / "raw" / DISTRICT / demo_period.name)
    (root / "params").mkdir()
    run(root / "raw" / DISTRICT).assert_clean(0)
    return root / "reports" / DISTRICT / demo_period.name / "exports"


@pytest.fixture
def district(demo_period: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo district folder (``<tmp>/raw/430302``) to damage."""
    dst = tmp_path / "raw" / DISTRICT / demo_period.name
    shutil.copytree(demo_period, dst)
    (tmp_path / "params").mkdir()
    return dst.parent


def run(district: Path, *extra: str) -> Result:
    tmp = district.parent.parent
    return canbao(
        "run", district, "--out", tmp / "reports", "--params", tmp / "params", "--no-notebooks",
        *extra, cwd=tmp,
    )  # fmt: skip


def period_of(district: Path) -> Path:
    return next(p for p in district.iterdir() if p.is_dir())


# ------------------------------------------------------------------ 1. files ingest refuses


def _truncated_xlsx(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _password_xlsx(p: Path) -> None:
    # An encrypted workbook is an OLE compound file holding an EncryptedPackage stream.
    ole = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
    p.write_bytes(ole + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 2048)


def _text_named_xlsx(p: Path) -> None:
    p.write_bytes("这不是表格\n只是一段说明文字\n".encode("gbk"))


REFUSED = {
    "zero_byte_xlsx": ("enrollment.xlsx", lambda p: p.write_bytes(b""), "[file_empty]"),
    "truncated_xlsx": ("enrollment.xlsx", _truncated_xlsx, "[xlsx_unreadable]"),
    "password_xlsx": ("enrollment.xlsx", _password_xlsx, "[xlsx_unreadable]"),
    "text_named_xlsx": ("enrollment.xlsx", _text_named_xlsx, "[header_required_missing]"),
    "utf16_csv_broken_in_the_middle": (
        "hukou.csv",
        lambda p: p.write_bytes(p.read_bytes().decode("gbk").encode("utf-16") + b"\x00\xd8"),
        "[csv_undecodable]",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_file_is_named_in_chinese_with_exit_code_3(district: Path, case: str) -> None:
    """Old code: a traceback from the fingerprint's own reader (``manifest.count_rows``)."""
    name, damage, code = REFUSED[case]
    damage(period_of(district) / name)
    res = run(district)
    res.assert_clean(3, name, code)


def test_readable_files_under_the_wrong_extension_run(district: Path) -> None:
    """A CSV saved as .xlsx and an xlsx saved as .csv are read by content: the run succeeds,
    and the manifest's row counts come from ingest's reconciliation."""
    period = period_of(district)
    (period / "hukou.csv").rename(period / "hukou.xlsx")
    (period / "students.csv").rename(period / "students_tmp")
    (period / "national_match.xlsx").rename(period / "national_match.csv")
    (period / "students_tmp").rename(period / "students.csv")
    res = run(district)
    res.assert_clean(0)
    import json

    manifest = district.parent.parent / "reports" / DISTRICT / period.name / "manifest.json"
    inputs = {i["file"]: i for i in json.loads(manifest.read_text(encoding="utf-8"))["inputs"]}
    assert inputs["hukou.xlsx"]["rows"] > 0 and inputs["national_match.csv"]["rows"] > 0


# ------------------------------------------------------------------ 2. arguments and params


def _folder_noise(folder: Path) -> None:
    """What Excel, WPS, LibreOffice, Windows Explorer and a Mac leave while files are open."""
    (folder / "~$户籍人口.xlsx").write_bytes(b"\x08Li Si   " + b"\x00" * 150)
    (folder / "~$hukou.csv").write_bytes(b"\x06zhangsan")
    (folder / ".~lock.户籍人口.xlsx#").write_text(",李四,PC-01,03.12.2026 20:00,;", "utf-8")
    (folder / ".~lock.enrollment.xlsx#").write_text(",李四,PC-01,03.12.2026 20:00,;", "utf-8")
    (folder / "Thumbs.db").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 64)
    (folder / "desktop.ini").write_bytes("[.ShellClassInfo]\r\n".encode("utf-16"))
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "._hukou.csv").write_bytes(b"\x00\x05\x16\x07Mac OS X")


def test_folder_noise_while_files_are_open_is_skipped_and_changes_nothing(
    district: Path,
) -> None:
    """Old code: the run passed, but the noise files were period inputs: Excel closing (its
    ~$ owner file gone) made the period “inputs changed” and ran it again. Now noise in
    the district and period folders is neither read, refused, nor an input."""
    period = period_of(district)
    _folder_noise(period)
    _folder_noise(district)
    res = run(district)
    res.assert_clean(0)
    assert "~$" not in res.err and "lock" not in res.err and "Thumbs" not in res.err
    manifest = district.parent.parent / "reports" / DISTRICT / period.name / "manifest.json"
    files = {i["file"] for i in json.loads(manifest.read_text("utf-8"))["inputs"]}
    noise = {"Thumbs.db", "desktop.ini", "__MACOSX"}
    assert files == {
        p.name for p in period.iterdir() if p.name[0] not in ".~" and p.name not in noise
    }
    for p in list(period.iterdir()):  # Excel and Explorer closed: the noise is gone
        if p.name not in files:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    run(district).assert_clean(0, "[run_up_to_date]")


def test_the_same_part_sent_twice_is_refused(district: Path) -> None:
    """Old code: hukou_2.csv, a copy of hukou_1.csv, loaded every person twice (a
    DUPLICATE_PERSON finding for each). Now the copy is refused by name; a real second
    part loads."""
    period = period_of(district)
    t = read_table(period / "hukou.csv")
    (period / "hukou.csv").rename(period / "hukou_1.csv")
    shutil.copy(period / "hukou_1.csv", period / "hukou_2.csv")
    run(district).assert_clean(3, "hukou_2.csv", "hukou_1.csv", "[extract_part_copy]")
    half = len(t.rows) // 2
    write_csv(period / "hukou_1.csv", type(t)(t.header, t.rows[:half]))
    write_csv(period / "hukou_2.csv", type(t)(t.header, t.rows[half:]))
    run(district).assert_clean(0)


def test_excels_unicode_text_and_utf16_csv_are_read(district: Path, clean_run: Path) -> None:
    """Old code: refused, "文件可能是 UTF-16 编码" [csv_undecodable], and hukou.txt (Excel's
    "Unicode 文本" export: UTF-16LE with a BOM, tab-separated) [extract_format_not_read].
    Now both are read by their bytes, a UTF-16 CSV without a BOM too: same registry."""
    period = period_of(district)
    t = read_table(period / "hukou.csv")
    text = "".join("\t".join(c or "" for c in r) + "\r\n" for r in [t.header, *t.rows])
    (period / "hukou.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (period / "hukou.csv").unlink()
    students = period / "students.csv"
    students.write_bytes(_decoded(students).encode("utf-16-le"))  # no BOM
    (period / "说明.txt").write_text("Unicode 文本导出", encoding="utf-16")  # a note: left alone
    run(district).assert_clean(0)
    recon = read_csv(exports_of(district) / "reconciliation.csv").set_index("file")
    assert recon.loc["hukou.txt", ["rows_read", "rows_loaded"]].tolist() == [str(len(t.rows))] * 2
    assert recon.loc["students.csv", "rows_rejected"] == "0"
    for name in ("registry.csv", "links.csv"):
        assert read_csv(exports_of(district) / name).equals(read_csv(clean_run / name)), name


def _decoded(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gbk"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise AssertionError(path)


def test_period_that_is_no_date(district: Path) -> None:
    res = run(district, "--period", "2026-13-01")
    res.assert_clean(2, "--period", "2026-13-01", "[usage_bad_date]")


def test_period_folder_not_named_as_a_date(district: Path) -> None:
    (district / "2026-13-01").mkdir()
    res = run(district)
    res.assert_clean(2, "2026-13-01", "[period_folder_not_date]")


def test_period_folder_given_instead_of_district(district: Path) -> None:
    tmp = district.parent.parent
    res = canbao("run", period_of(district), "--out", tmp / "reports", "--no-notebooks", cwd=tmp)
    res.assert_clean(2, "[district_dir_is_period]")


def test_missing_period(district: Path) -> None:
    res = run(district, "--period", "2027-01-15")
    res.assert_clean(2, "2027-01-15", "[run_no_period_folder]")


def test_verify_on_a_folder_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "2026-11-15").mkdir()
    res = canbao("verify", tmp_path / "2026-11-15", cwd=tmp_path)
    res.assert_clean(2, "2026-11-15", "[verify_no_manifest]")


def test_export_with_a_date_written_the_other_way(tmp_path: Path) -> None:
    res = canbao(
        "export",
        tmp_path / "registry.duckdb",
        "--as-of",
        "15/10/2026",
        "--to",
        tmp_path,
        cwd=tmp_path,
    )
    res.assert_clean(2, "15/10/2026", "[usage_bad_date]")


def test_export_without_registry(tmp_path: Path) -> None:
    res = canbao(
        "export",
        tmp_path / "registry.duckdb",
        "--as-of",
        "2026-10-15",
        "--to",
        tmp_path,
        cwd=tmp_path,
    )
    res.assert_clean(2, "registry.duckdb", "[export_no_registry]")


def test_demo_with_a_negative_size(tmp_path: Path) -> None:
    res = canbao(
        "demo", "--people", "-5", "--raw", tmp_path / "r", "--truth", tmp_path / "t", cwd=tmp_path
    )
    res.assert_clean(2, "--people", "[usage_not_positive]")
    assert not (tmp_path / "r").exists()


def test_import_returns_on_a_folder_not_named_as_a_date(tmp_path: Path) -> None:
    (tmp_path / "430302" / "十一月").mkdir(parents=True)
    res = canbao("import-returns", tmp_path / "430302" / "十一月", "--out", tmp_path, cwd=tmp_path)
    res.assert_clean(2, "十一月", "[period_folder_not_date]")


PARAMS = {
    "not_yaml": ("linkage: [0.99\nworkers: 2\n", "[params_not_yaml]", None),
    "not_a_mapping": ("- 1\n- 2\n", "[params_not_mapping]", None),
    "workers_text": ('workers: "two"\n', "[params_bad_type]", "workers"),
    "workers_negative": ("workers: -1\n", "[params_out_of_range]", "workers"),
    "threshold_2": ("linkage:\n  match_threshold: 2\n", "[params_out_of_range]", "linkage.match_threshold"),
    "threshold_high": ('linkage:\n  match_threshold: "high"\n', "[params_bad_type]", "linkage.match_threshold"),
    "rank_by_foo": ("bulletin:\n  rank_by: foo\n", "[params_bad_choice]", "bulletin.rank_by"),
    "unknown_key": ("wokers: 2\n", "[params_unknown_key]", "wokers"),
    "unknown_section_key": ("safety:\n  max_share: 0.1\n", "[params_unknown_key]", "safety.max_share"),
    "misspelt_extract": ("headers:\n  hukuo:\n    身份证号: 公民身份号码\n", "[params_unknown_extract]", "headers.hukuo"),
    "misspelt_column": ("headers:\n  hukou:\n    身份证号: 公民身份证号\n", "[params_unknown_column]", "headers.hukou.身份证号"),
    "misspelt_code_table": ("codes:\n  hukou_stats:\n    其它: 管理中\n", "[params_unknown_code_table]", "codes.hukou_stats"),
    "share_text": ("safety:\n  max_unusable_id_share: 5%\n", "[params_bad_type]", "safety.max_unusable_id_share"),
    # typed with a Chinese input method: old code said "顶层须为映射，实际是 str" / read 身份证号 as text
    "fullwidth_colon": ("workers： 2\n", "第 1 行：键后面用了全角冒号", None),
    "fullwidth_colon_nested": ("headers:\n  hukou:\n    身份证号： 公民身份号码\n", "第 3 行：键后面用了全角冒号", None),
    # old code: a township code that names no township renamed nothing, without a word
    "township_code_8_digits": ("township_names:\n  43030201: 雨湖路街道\n", "[params_township_code]", "township_names.43030201"),
    "township_of_another_county": ("township_names:\n  430321100: 易俗河镇\n", "[params_township_code]", "township_names.430321100"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PARAMS))
def test_bad_params_file_names_file_and_key_with_exit_code_2(district: Path, case: str) -> None:
    """Old code: accepted (and failed later or never), or a traceback."""
    text, code, key = PARAMS[case]
    params = district.parent.parent / "params" / f"{DISTRICT}.yaml"
    params.write_text(text, encoding="utf-8")
    res = run(district)
    res.assert_clean(2, f"{DISTRICT}.yaml", code, *([f"“{key}”"] if key else []))
    assert not (district.parent.parent / "reports" / DISTRICT / "registry.duckdb").exists()


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_params_saved_by_notepad_are_read(district: Path, encoding: str) -> None:
    """Old code: a params file in GBK (Notepad's "ANSI" on a Chinese PC) was refused as
    不是 UTF-8 文本. Now it is read: the out-of-range value on its last line is what is named."""
    params = district.parent.parent / "params" / f"{DISTRICT}.yaml"
    text = "# 雨湖区参数（记事本保存）\nworkers: 1\nlinkage:\n  match_threshold: 2\n"
    params.write_bytes(text.encode(encoding))
    res = run(district)
    res.assert_clean(2, "[params_out_of_range]", "“linkage.match_threshold”")


# ------------------------------------------------------------------ 3-8. damaged content

sys.path.insert(0, str(Path(__file__).parent))
from tests.support.hostile import read_table, table_rows, write_csv, write_xlsx  # noqa: E402


def exports_of(district: Path) -> Path:
    return district.parent.parent / "reports" / DISTRICT / period_of(district).name / "exports"


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_enrollment_without_usable_ids_aborts_naming_file_column_and_share(district: Path) -> None:
    """Old code: ran to the end ("ok") and left the district looking uninsured."""
    path = period_of(district) / "enrollment.xlsx"
    t = read_table(path)
    for k in range(1, len(t.rows) + 1):
        t.set(k, "公民身份号码", None)
    write_xlsx(path, [("Sheet1", table_rows(t))])
    res = run(district)
    res.assert_clean(4, "enrollment.xlsx", "“公民身份号码”列", "100.0%", "[abort_unusable_ids]")
    assert not (district.parent.parent / "reports" / DISTRICT / "registry.duckdb").exists() or (
        not (exports_of(district) / "registry.csv").exists()
    )


def test_ids_turned_into_scientific_notation_abort_naming_rows_and_the_fix(district: Path) -> None:
    """Old code: only "280 行中有 19 行（6.8%）没有可用的公民身份号码": no word of which rows,
    why (Excel's 4.30302E+17) or what to do. Now the abort names the count, the first row
    numbers, the value as sent and the fix (re-export the column as text)."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    rows = list(range(3, 3 + 19 * 7, 7))
    for k in rows:
        t.set(k, "公民身份号码", "4.30302E+17")
    t.set(2, "公民身份号码", None)
    write_csv(path, t)
    res = run(district)
    first = "、".join(map(str, rows[:5]))
    res.assert_clean(
        4,
        "hukou.csv “公民身份号码”列",
        f"{len(t.rows)} 行中有 20 行",
        f"其中 19 行的号码被 Excel 转成了科学计数法（如第 {first}… 行：4.30302E+17）",
        "设为“文本”格式后重新导出",
        "1 行号码为空（如第 2 行）",
        "[abort_unusable_ids]",
    )


def test_population_abort_names_the_file(district: Path) -> None:
    """Old code: "2000 of 2162 population rows … have no usable 公民身份号码", no file."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    for k in range(1, len(t.rows) // 2):
        t.set(k, "公民身份号码", None)
    write_csv(path, t)
    res = run(district)
    res.assert_clean(4, "hukou.csv", "“公民身份号码”列", "[abort_unusable_ids]")


def test_totals_row_with_a_count_as_name_is_no_person(district: Path, clean_run: Path) -> None:
    """Old code: 合计 in the ID column and 2000人 as the name became a registry person."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    total: list[str | None] = [None] * len(t.header)
    total[t.col("公民身份号码")] = "合计"
    total[t.col("姓名")] = f"{len(t.rows)}人"
    signed: list[str | None] = [None] * len(t.header)
    signed[t.col("户籍地址")] = "审核人：李四"
    t.rows += [total, signed]
    write_csv(path, t)
    run(district).assert_clean(0)
    rejects = read_csv(exports_of(district) / "rejects.csv")
    got = rejects[rejects.reason == "summary_row"][["source_row", "column", "value"]]
    n = len(t.rows)
    assert got.values.tolist() == [
        [str(n - 1), "公民身份号码", "合计"],
        [str(n), "户籍地址", "审核人：李四"],
    ]
    registry = read_csv(exports_of(district) / "registry.csv")
    assert f"{n - 2}人" not in set(registry["name"])
    assert registry.equals(read_csv(clean_run / "registry.csv"))


def test_extract_pasted_twice_reports_every_repeat(district: Path, clean_run: Path) -> None:
    """Old code: the repeated header was rejected, the 2nd copy of every row said nothing."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    n = len(t.rows)
    write_csv(path, type(t)(t.header, [*t.rows, list(t.header), *t.rows]))
    run(district).assert_clean(0)
    recon = read_csv(exports_of(district) / "reconciliation.csv").set_index("file")
    assert recon.loc["hukou.csv", ["rows_read", "rows_loaded", "rows_rejected", "rows_repeated"]].tolist() == [
        str(2 * n + 1), str(n), str(n + 1), str(n)
    ]  # fmt: skip
    rejects = read_csv(exports_of(district) / "rejects.csv")
    repeats = rejects[rejects.reason == "repeated_row"]
    assert repeats.source_row.astype(int).tolist() == list(range(n + 2, 2 * n + 2))
    assert repeats.value.astype(int).tolist() == list(range(1, n + 1))  # the row each repeats
    for name in ("registry.csv", "findings.csv", "links.csv"):
        assert read_csv(exports_of(district) / name).equals(read_csv(clean_run / name)), name


def test_an_unquoted_comma_rejects_its_row_by_name(district: Path) -> None:
    """Old code: the row loaded with its cells shifted one column right (the ID column held
    the 乡镇街道 name: an ID_INVALID finding for a person who has a valid ID). Now the row
    is a ``too_many_fields`` reject holding the line as sent; every row is accounted for."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    addr = t.get(5, "户籍地址")
    t.set(5, "户籍地址", f"{addr[:6]}，{addr[6:]}")  # written unquoted, then made a comma
    write_csv(path, t)
    text = path.read_bytes().decode("gbk").replace(f"{addr[:6]}，", f"{addr[:6]},", 1)
    path.write_bytes(text.encode("gbk"))
    run(district).assert_clean(0)
    rejects = read_csv(exports_of(district) / "rejects.csv")
    got = rejects[rejects.reason == "too_many_fields"]
    assert got[["file", "source_row"]].values.tolist() == [["hukou.csv", "5"]]
    assert f"{addr[:6]},{addr[6:]}" in got.value.item() and t.get(5, "姓名") in got.value.item()
    assert "字段比表头多" in got.reason_text.item()
    recon = read_csv(exports_of(district) / "reconciliation.csv").set_index("file")
    read, loaded, rejected = recon.loc["hukou.csv", ["rows_read", "rows_loaded", "rows_rejected"]]
    assert int(read) == len(t.rows) == int(loaded) + int(rejected) and int(rejected) >= 1
    findings = read_csv(exports_of(district) / "findings.csv")
    assert findings[(findings.file == "hukou.csv") & (findings.source_row == "5")].empty


def test_a_carriage_return_inside_a_quoted_cell_reaches_the_exports_whole(
    district: Path,
) -> None:
    """Old code: the run failed in the exports [run_period_failed] (IndexError): the value as
    sent, ``"1992\r1114"``, went into field_issues.csv unquoted, and the Excel copy's reader
    split the row at the CR. Now the cell is quoted; the CSV holds it whole, its Excel copy with the line break."""
    path = period_of(district) / "hukou.csv"
    t = read_table(path)
    t.set(4, "出生日期", "1992@CR@1114")
    write_csv(path, t, encoding="utf-8", eol="\n")
    text = path.read_text(encoding="utf-8").replace("1992@CR@1114", '"1992\r1114"', 1)
    path.write_bytes(text.encode("utf-8"))
    run(district).assert_clean(0)
    issues = read_csv(exports_of(district) / "field_issues.csv")
    got = issues[(issues.file == "hukou.csv") & (issues.source_row == "4")]
    assert got.value.tolist() == ["1992\r1114"]
    assert got.reason.tolist() == ["date_invalid"]
    book = openpyxl.load_workbook(exports_of(district) / "xlsx" / "field_issues.xlsx")
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert "1992\n1114" in values  # XML reads a CR in text as a line end: the break shown


def test_invisible_marks_around_ids_change_nobody(district: Path, clean_run: Path) -> None:
    """Old code: ingest folded 5 such characters, cleaning 6: IDs with U+200E turned invalid."""
    marks = ["\u200e", "\u200f", "\ufeff", "\u2060", "\u202a", "\u202c"]
    path = period_of(district) / "enrollment.xlsx"
    t = read_table(path)
    for k in range(1, len(t.rows) + 1):
        v = t.get(k, "公民身份号码")
        if v:
            mark = marks[k % len(marks)]
            t.set(k, "公民身份号码", f"{mark}{v}{mark}")
    write_xlsx(path, [("Sheet1", table_rows(t))])
    hukou = period_of(district) / "hukou.csv"
    h = read_table(hukou)
    h.set(3, "户籍地址", (h.get(3, "户籍地址") or "") + "\x00")  # a NUL in a free-text cell
    write_csv(hukou, h, encoding="utf-8")
    run(district).assert_clean(0)
    for name in ("registry.csv", "findings.csv", "links.csv"):
        assert read_csv(exports_of(district) / name).equals(read_csv(clean_run / name)), name


def test_returns_in_a_first_period_are_read_and_rejected_clearly(
    district: Path, demo_periods: list[Path]
) -> None:
    """Returns from an old paper process, before any roster was issued: every row is read,
    rejected with a reason a clerk understands, in the township's rejection workbook and
    as SURVEY_REJECTED findings."""
    returns = demo_periods[1] / "survey_returns"
    assert returns.is_dir()
    shutil.copytree(returns, period_of(district) / "survey_returns")
    run(district).assert_clean(0)
    findings = read_csv(exports_of(district) / "findings.csv")
    rejected = findings[findings.finding == "SURVEY_REJECTED"]
    assert len(rejected) > 0
    assert rejected.detail.str.contains("不在下发名单").all()
    workbooks = list((exports_of(district).parent / "survey" / "rejections").rglob("*.xlsx"))
    assert {p.stem.split("_")[0] for p in workbooks} >= {
        f.split("/")[-1].split("_")[0] for f in rejected.file
    }


def test_field_problems_in_loaded_rows_are_listed_not_silent(district: Path) -> None:
    """Old code: an impossible or future 出生日期, a sex code 9, a 险种 999 or 不详 in a
    loaded row became empty (or neutral) without a word. Now each is one row of
    exports/field_issues.csv; the rows themselves still load."""
    hukou = period_of(district) / "hukou.csv"
    h = read_table(hukou)
    h.set(1, "出生日期", "1990-02-30")
    h.set(2, "出生日期", "2031-01-01")
    h.set(3, "出生日期", "不详")
    h.set(4, "性别", "9")
    write_csv(hukou, h)
    enrollment = period_of(district) / "enrollment.xlsx"
    e = read_table(enrollment)
    e.set(1, "险种类型", "999")
    e.set(2, "参保状态", "7")
    write_xlsx(enrollment, [("Sheet1", table_rows(e))])
    run(district).assert_clean(0)
    issues = read_csv(exports_of(district) / "field_issues.csv")
    got = issues[["file", "source_row", "column", "value", "reason"]].values.tolist()
    assert got == [
        ["enrollment.xlsx", "1", "险种类型", "999", "scheme_code_unknown"],
        ["enrollment.xlsx", "2", "参保状态", "7", "status_code_unknown"],
        ["hukou.csv", "1", "出生日期", "1990-02-30", "date_invalid"],
        ["hukou.csv", "2", "出生日期", "2031-01-01", "date_future"],
        ["hukou.csv", "3", "出生日期", "不详", "value_unknown"],
        ["hukou.csv", "4", "性别", "9", "sex_code_unknown"],
    ]
    assert issues.reason_text.str.len().gt(0).all()
    recon = read_csv(exports_of(district) / "reconciliation.csv").set_index("file")
    assert recon.loc["hukou.csv", "rows_rejected"] == "0"


def test_footer_lines_under_a_table_are_rejected_by_name(district: Path, clean_run: Path) -> None:
    """Old code: a 共712人 line (no 合计 word) under the enrollment sheet loaded as a person row
    named 共712人; 以下空白 and 注：… lines likewise. Now each is a ``summary_row`` reject; the
    exports are as without them. A 注： in a person's 备注 cell stays data."""
    path = period_of(district) / "enrollment.xlsx"
    t = read_table(path).with_column("备注", "")
    n = len(t.rows)
    t.set(1, "备注", "注：已核实")
    footers = [f"共{n}人", "以下空白", "注：本表数据截至提取日"]
    blank: list[object] = [None] * len(t.header)
    rows = [*table_rows(t), *[[None, None, f, *blank[3:]] for f in footers]]
    write_xlsx(path, [("Sheet1", rows)])
    run(district).assert_clean(0)
    rejects = read_csv(exports_of(district) / "rejects.csv")
    got = rejects[rejects.file == "enrollment.xlsx"][["source_row", "column", "reason", "value"]]
    assert got.values.tolist() == [
        [str(n + k + 1), "姓名", "summary_row", f] for k, f in enumerate(footers)
    ]
    recon = read_csv(exports_of(district) / "reconciliation.csv").set_index("file")
    assert recon.loc["enrollment.xlsx", ["rows_read", "rows_loaded"]].tolist() == [
        str(n + 3),
        str(n),
    ]
    for name in ("registry.csv", "findings.csv"):
        assert read_csv(exports_of(district) / name).equals(read_csv(clean_run / name)), name


# ------------------------------------------------------------------ the machine, the user's hand


def test_a_full_disk_is_named_not_a_bug(district: Path) -> None:
    """Old code: ``TransactionException: … cannot rollback - no transaction is active`` (the
    ROLLBACK after the failed COMMIT hid the cause), exit 1 as if notebooks had failed.
    A file-size limit stands for a full disk (the tests may run as root)."""
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    tmp = district.parent.parent
    res = subprocess.run(
        [CANBAO, "run", district, "--out", tmp / "reports", "--params", tmp / "params",
         "--no-notebooks"],
        capture_output=True, text=True, cwd=tmp, timeout=600, preexec_fn=small_files,
    )  # fmt: skip
    Result(res.returncode, res.stdout, res.stderr).assert_clean(2, "File too large", "[os_error]")
    assert "no transaction is active" not in res.stderr


def test_ctrl_c_mid_run_leaves_no_period_marked_done(district: Path) -> None:
    """Ctrl+C once ingest has finished: exit 130, one Chinese line, no traceback; the period
    has no manifest (``run`` will redo it) and the registry holds no period."""
    import signal

    import duckdb

    tmp = district.parent.parent
    proc = subprocess.Popen(
        [CANBAO, "run", district, "--out", tmp / "reports", "--params", tmp / "params",
         "--no-notebooks"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # the first stage's line: ingest is done
        seen.append(line)
        if "[stage_done]" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=600)
    Result(proc.returncode, "".join(seen) + rest, "").assert_clean(130, "[interrupted]")
    out = tmp / "reports" / DISTRICT
    assert not (out / period_of(district).name / "manifest.json").exists()
    registry = out / "registry.duckdb"
    if registry.exists():
        con = duckdb.connect(str(registry), read_only=True)
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "registry_history" in tables:
            assert con.execute("SELECT count(*) FROM registry_history").fetchone() == (0,)
        con.close()


def test_an_older_period_turning_up_after_a_later_one_is_refused(
    demo_periods: list[Path], tmp_path: Path
) -> None:
    """Old code: ran the older period on the registry that already held the later one, then
    re-ran the later one: its survey returns, rejected on its first run (no roster issued
    yet), stayed rejected — 11 of 300 people lost their 调查后确认 without a word."""
    first, second = demo_periods
    district = tmp_path / "raw" / DISTRICT
    shutil.copytree(second, district / second.name)
    (tmp_path / "params").mkdir()
    run(district).assert_clean(0)
    registry = tmp_path / "reports" / DISTRICT / "registry.duckdb"
    before = registry.read_bytes()
    shutil.copytree(first, district / first.name)
    res = run(district)
    res.assert_clean(4, first.name, second.name, "[run_period_before_registry]")
    assert registry.read_bytes() == before
    assert not (tmp_path / "reports" / DISTRICT / first.name).exists()
