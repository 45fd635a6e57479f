"""The provincial 批量导入 file: who is in it, its codes and columns, its params, and the
multi-period demo (every accepted return exactly once, rejected rows never)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from canbao.core import refdata
from canbao.core.config import HUNAN_IMPORT_COLUMNS, config_from_dict, load_config
from canbao.core.context import PeriodContext, find_periods, period_context
from canbao.core.engine import DuckDBEngine
from canbao.core.errors import CanbaoError
from canbao.demo import generate
from canbao.registry.tables import persistent_tables_sql
from canbao.report import bulletin
from canbao.run.pipeline import run_period
from canbao.survey import provincial
from canbao.survey.tables import ensure_tables
from canbao.survey.vocabulary import OUTCOMES
from tests.support.survey import id_number

DISTRICT = "430302"
P1, P2, P3 = dt.date(2026, 1, 15), dt.date(2026, 1, 31), dt.date(2026, 2, 15)
CODES = dict(OUTCOMES)

# (person, village, id) — a 社区 in a 街道, a 村 in a 街道, a 社区 in a 镇, a 村 in a 镇, a 村 in a 乡
PEOPLE = (
    ("P430302-0000001", "430302001003", id_number("430302", dt.date(1980, 3, 4), 11)),
    ("P430302-0000002", "430302008201", id_number("430302", dt.date(1991, 7, 9), 22)),
    ("P430302-0000003", "430302100002", id_number("430302", dt.date(1975, 12, 1), 33)),
    ("P430302-0000004", "430302100212", id_number("430302", dt.date(2001, 5, 30), 44)),
    ("P430302-0000005", "430302202203", id_number("430302", dt.date(1960, 1, 2), 55)),
)
URBAN = {"430302001003": "10", "430302008201": "10", "430302100002": "10"}


def _engine() -> DuckDBEngine:
    eng = DuckDBEngine()
    for sql in persistent_tables_sql():
        eng.execute(sql)
    ensure_tables(eng)
    eng.execute(provincial.create_table_sql())
    return eng


def _history(eng: DuckDBEngine, period: dt.date) -> None:
    for k, (pid, village, idn) in enumerate(PEOPLE):
        eng.execute(
            "INSERT INTO registry_history (period, person_id, id_number, name, township_code,"
            " village_code, address, ethnicity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [period, pid, idn, f"测试{k}", village[:9], village, f"地址{k}", "03" if k else None],
        )


def _task(eng: DuckDBEngine, batch: int, period: dt.date, k: int) -> None:
    pid, village, idn = PEOPLE[k]
    eng.execute(
        "INSERT INTO survey_tasks (batch, period, person_id, township_code, village_code,"
        " status, id_number, name) VALUES (?, ?, ?, ?, ?, 'accepted', ?, ?)",
        [batch, period, pid, village[:9], village, idn, f"测试{k}"],
    )


def _result(eng: DuckDBEngine, period: dt.date, k: int, outcome: str, batch: int, row: int) -> None:
    pid, village, _ = PEOPLE[k]
    eng.execute(
        "INSERT INTO survey_results (person_id, period, file, source_row, outcome, note,"
        " collector, batch, village_code, file_sha256)"
        " VALUES (?, ?, 'survey_returns/t.xlsx', ?, ?, ?, '张伟', ?, ?, ?)",
        [pid, period, row, outcome, f"备注{k}", batch, village, f"sha{period}"],
    )


def _commit(eng: DuckDBEngine, period: dt.date) -> None:
    for sql in provincial.record_exports_sql():
        eng.execute(sql, [period])


def _three_periods() -> DuckDBEngine:
    """P1: people 0-3 surveyed; P2: person 1 again with a new result, person 2 again with
    the same result, person 4 for the first time; P3: nobody."""
    eng = _engine()
    for p in (P1, P2, P3):
        _history(eng, p)
    for k in range(5):
        _task(eng, 1, P1, k)
    for k, outcome in enumerate(("参加省职保", "无参保意愿", "在校学生", "我区参加居保")):
        _result(eng, P1, k, outcome, 1, k + 1)
    _commit(eng, P1)
    _task(eng, 2, P2, 1)
    _task(eng, 2, P2, 2)
    _result(eng, P2, 1, "参加省外职保", 2, 1)
    _result(eng, P2, 2, "在校学生", 2, 2)
    _result(eng, P2, 4, "其他人员", 1, 3)
    _commit(eng, P2)
    _commit(eng, P3)
    return eng


def _cfg(**params: object):
    return config_from_dict({"district_code": DISTRICT, "provincial_import": params})


def test_new_corrections_and_unchanged_across_periods() -> None:
    eng = _three_periods()
    cfg = _cfg()
    p1 = provincial.import_rows(eng, cfg, P1)
    p2 = provincial.import_rows(eng, cfg, P2)
    p3 = provincial.import_rows(eng, cfg, P3)
    assert list(p1.columns) == [c["title"] for c in HUNAN_IMPORT_COLUMNS]
    assert p1["证件号码"].tolist() == [PEOPLE[k][2] for k in (0, 1, 2, 3)]  # by 区划
    assert set(p1["导入类型"]) == {"新增"}
    # person 1 changed (更正), person 2 unchanged (left out), person 4 new
    assert dict(zip(p2["证件号码"], p2["导入类型"], strict=True)) == {
        PEOPLE[1][2]: "更正",
        PEOPLE[4][2]: "新增",
    }
    assert p3.empty
    summary = {
        p: provincial.import_summary(eng, PeriodContext(DISTRICT, p, Path("raw"), Path("out")))
        for p in (P2, P3)
    }
    assert summary[P2]["数量"].tolist() == [3, 2, 1, 1, 1]  # accepted, rows, 新增, 更正, unchanged
    assert summary[P3]["数量"].tolist() == [0, 0, 0, 0, 0]
    both = pd.concat([p1, p2])
    for outcome, row in zip(
        ("参加省职保", "无参保意愿", "在校学生", "我区参加居保", "参加省外职保", "其他人员"),
        both.itertuples(index=False),
        strict=True,
    ):
        status, reason = CODES[outcome].split("/")
        assert (row[6], row[7]) == (status, reason)
    for row in both.itertuples(index=False):
        idn, village = row[2], row[9]
        assert row[3] == ("1" if int(idn[16]) % 2 else "2")  # 性别 from digit 17
        assert row[5] == idn[6:14]  # 出生日期 from digits 7-14
        assert row[8] == URBAN.get(village, "20")  # 户籍性质 by 街道/社区
        assert (row[1], row[12]) == ("01", "0")
    assert p1.iloc[0]["民族"] == "01" and p1.iloc[1]["民族"] == "03"  # no code → 01
    # a re-run of P2 records the same rows, and P1's stay as they were
    _commit(eng, P2)
    pd.testing.assert_frame_equal(provincial.import_rows(eng, cfg, P2), p2)
    pd.testing.assert_frame_equal(provincial.import_rows(eng, cfg, P1), p1)
    eng.close()


def test_another_province_maps_its_template_in_params_only() -> None:
    eng = _three_periods()
    cfg = _cfg(
        columns=[
            {"title": "身份证号", "field": "id_number"},
            {"title": "姓名", "field": "name"},
            {"title": "调查结果", "field": "outcome"},
            {"title": "状态", "field": "status_code"},
            {"title": "原因", "field": "reason_code"},
            {"title": "城乡", "field": "hukou_kind"},
            {"title": "险种", "value": "170"},
        ],
        codes={"无参保意愿": "9/901"},
        hukou_urban="1",
        hukou_rural="2",
        encoding="gbk",
    )
    df = provincial.import_rows(eng, cfg, P1)
    assert list(df.columns) == ["身份证号", "姓名", "调查结果", "状态", "原因", "城乡", "险种"]
    got = {r[0]: r[2:] for r in df.itertuples(index=False)}
    assert got[PEOPLE[1][2]] == ("无参保意愿", "9", "901", "1", "170")
    assert got[PEOPLE[3][2]] == ("我区参加居保", "1", "011", "2", "170")  # not overridden
    eng.close()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"columns": [{"title": "姓名", "field": "mobile"}]}, "field 未知"),
        ({"columns": [{"title": "姓名", "field": "name"}, {"title": "姓名", "value": ""}]}, "重复"),
        ({"columns": [{"title": "证件类型", "value": 1}]}, "应为文字"),
        ({"columns": [{"title": "x", "field": "name", "value": "1"}]}, "之一"),
        ({"codes": {"外出务工": "0/209"}}, "不在花名册选项中"),
        ({"codes": {"无参保意愿": "2-011"}}, "状态/原因"),
        ({"encoding": "gb-9999"}, "字符编码"),
    ],
)
def test_bad_layout_params_fail_when_params_load(params: dict, words: str) -> None:
    with pytest.raises(CanbaoError) as err:
        _cfg(**params)
    assert err.value.code == "params_provincial_import" and words in str(err.value)


def test_bad_layout_params_stop_canbao_run_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "raw" / DISTRICT / "2026-01-31").mkdir(parents=True)
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / f"{DISTRICT}.yaml").write_text(
        "provincial_import:\n  codes:\n    外出务工: 0/209\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "canbao", "run", str(tmp_path / "raw" / DISTRICT),
         "--out", str(tmp_path / "reports"), "--params", str(tmp_path / "params"),
         "--no-notebooks"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "参数 provincial_import 有误" in proc.stderr and "外出务工" in proc.stderr
    assert "[params_provincial_import]" in proc.stderr and "Traceback" not in proc.stderr


def test_an_outcome_without_code_stops_the_file() -> None:
    eng = _three_periods()
    eng.execute(
        "UPDATE provincial_exports SET outcome = '外出务工' WHERE person_id = ?", [PEOPLE[0][0]]
    )
    with pytest.raises(CanbaoError) as err:
        provincial.import_rows(eng, _cfg(), P1)
    assert err.value.code == "provincial_import_no_code" and "外出务工" in str(err.value)
    eng.close()


def test_files_xlsx_text_cells_and_csv_in_the_chosen_encoding(tmp_path: Path) -> None:
    eng = _three_periods()
    ctx = PeriodContext(DISTRICT, P1, tmp_path / "raw", tmp_path / "reports")
    res = provincial.write_import_file(eng, _cfg(), ctx)
    assert (res["rows"], res["new"], res["corrections"], res["accepted"]) == (4, 4, 0, 4)
    xlsx, csv_path = res["xlsx"], res["csv"]
    assert xlsx == tmp_path / "reports" / DISTRICT / "2026-01-15" / "import" / (
        "批量导入_430302_2026-01-15.xlsx"
    )
    ws = openpyxl.load_workbook(xlsx).active
    cells = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert all(isinstance(v, str) or v is None for row in cells for v in row)
    from_csv = pd.read_csv(
        csv_path, dtype=str, encoding="gb18030", keep_default_na=False
    ).values.tolist()
    assert [[v or "" for v in row] for row in cells] == from_csv
    assert provincial.file_rows(xlsx) == 4
    first = xlsx.read_bytes()
    provincial.write_import_file(eng, _cfg(), ctx)
    assert xlsx.read_bytes() == first  # byte-reproducible
    eng.execute(
        "UPDATE registry_history SET name = '𠀋' || name WHERE person_id = ?", [PEOPLE[2][0]]
    )
    with pytest.raises(CanbaoError) as err:
        provincial.write_import_file(eng, _cfg(encoding="gbk"), ctx)
    assert err.value.code == "provincial_import_unencodable" and "姓名" in str(err.value)
    provincial.write_import_file(eng, _cfg(), ctx)  # GB18030 holds every character
    assert "𠀋" in csv_path.read_bytes().decode("gb18030")
    eng.close()


# ---------------------------------------------------------------- the multi-period demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("import_demo")
    generate(
        DISTRICT, people=900, seed=11, raw_root=root / "raw", truth_root=root / "truth", periods=3
    )
    cfg = load_config(DISTRICT)
    ctxs = []
    for period_dir in find_periods(root / "raw" / DISTRICT):
        ctx = period_context(period_dir, root / "reports")
        run_period(cfg, ctx)
        ctxs.append(ctx)
    return {"root": root, "ctxs": ctxs, "cfg": cfg}


def _files(demo: dict) -> dict[dt.date, pd.DataFrame]:
    return {
        c.period: pd.read_csv(
            provincial.import_paths(c)[1], dtype=str, encoding="gb18030", keep_default_na=False
        )
        for c in demo["ctxs"]
    }


def _log(demo: dict) -> pd.DataFrame:
    con = duckdb.connect(str(demo["ctxs"][0].registry_path), read_only=True)
    try:
        return con.sql(
            "SELECT period, id_number, outcome, verdict, village_code FROM survey_return_rows"
            " WHERE source_row > 0"
        ).df()
    finally:
        con.close()


def test_demo_every_accepted_return_exactly_once_with_its_codes(demo: dict) -> None:
    files = _files(demo)
    log = _log(demo)
    accepted = log[log["verdict"] == "accepted"]
    assert len(accepted) > 50 and len(files) == 3
    rows = pd.concat([f.assign(period=p) for p, f in files.items()], ignore_index=True)
    # one row per accepted return: no corrections in the demo, so every ID once overall
    assert sorted(rows["证件号码"]) == sorted(accepted["id_number"])
    assert set(rows["导入类型"]) == {"新增"}
    by_id = accepted.set_index("id_number")
    villages = refdata.villages(DISTRICT).set_index("code")["kind_by_code"]
    towns = refdata.townships(DISTRICT).set_index("code")["kind_by_code"]
    for r in rows.itertuples(index=False):
        ret = by_id.loc[r.证件号码]
        assert ret["period"].date() == r.period  # in the period its return was accepted
        assert f"{r.参保意愿或参保状态}/{r.未参保原因或参保身份}" == CODES[ret["outcome"]]
        assert r.行政区划 == ret["village_code"]
        urban = towns[r.行政区划[:9]] == "街道" or villages[r.行政区划] == "居委会"
        assert r.户籍性质 == ("10" if urban else "20")
        assert r.性别 == ("1" if int(r.证件号码[16]) % 2 else "2")
        assert r.出生日期 == r.证件号码[6:14]
    assert {"10", "20"} <= set(rows["户籍性质"])


def test_demo_rejected_rows_never_reach_the_file(demo: dict) -> None:
    log = _log(demo)
    ids = set(pd.concat(_files(demo).values())["证件号码"])
    ok = set(log.loc[log["verdict"] == "accepted", "id_number"])
    rejected = log[(log["verdict"] != "accepted") & log["id_number"].notna()]
    assert len(rejected) > 10
    assert not (set(rejected["id_number"]) - ok) & ids
    unknown = set(log.loc[~log["outcome"].isin(CODES), "id_number"].dropna())
    assert unknown and not (unknown - ok) & ids  # an unknown 核实情况 never gets in


def test_demo_bulletin_figures_and_the_files_agree(demo: dict) -> None:
    files = _files(demo)
    last = demo["ctxs"][-1]
    eng = DuckDBEngine(last.registry_path, read_only=True)
    trend = bulletin.trend_table(eng, last.period).set_index("period")
    accepted = eng.query_df(
        "SELECT period, count(*) AS n FROM survey_return_rows WHERE verdict = 'accepted'"
        " GROUP BY period"
    ).set_index("period")["n"]
    eng.close()
    done_before = 0
    for period, f in files.items():
        new = int((f["导入类型"] == "新增").sum())
        corrections = int((f["导入类型"] == "更正").sum())
        done = int(trend.loc[period, "tasks_done"])
        assert new == done - done_before  # 已核查 grows by the new rows
        n_accepted = int(accepted.get(pd.Timestamp(period), 0))
        assert new + corrections == n_accepted  # accepted returns = rows exported
        done_before = done


def test_demo_rerun_of_a_period_gives_the_same_files(demo: dict) -> None:
    ctx = demo["ctxs"][-1]
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in provincial.import_paths(ctx)}
    run_period(demo["cfg"], ctx, only={"ingest", "clean", "persons", "link", "survey_returns",
                                       "classify", "registry", "exports", "provincial_import"})  # fmt: skip
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in provincial.import_paths(ctx)}
    assert before == after
    files = list(_files(demo).values())
    assert not set(files[-1]["证件号码"]) & set(files[-2]["证件号码"])


def test_roster_list_sheet_shows_the_table_the_file_uses(tmp_path: Path) -> None:
    from canbao import survey
    from tests.support.survey import make_ctx, make_engine

    cfg = _cfg(codes={"无参保意愿": "9/901"})
    eng = make_engine(villages=1)
    survey.issue_rosters(eng, cfg, make_ctx(tmp_path, P1))
    roster = next((tmp_path / "reports").rglob("*社区居委会.xlsx"))
    ws = openpyxl.load_workbook(roster)["选项"]
    shown = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2) if r[0].value}
    assert shown == dict(provincial.code_table(cfg.provincial_import))
    assert shown["无参保意愿"] == "9/901" and shown["参加省职保"] == CODES["参加省职保"]
    eng.close()


def test_demo_district_report_and_front_page_link_the_file(demo: dict) -> None:
    from urllib.parse import quote

    from canbao.report.front_page import write_front_page
    from canbao.run.notebooks import execute_task
    from canbao.run.request import RunRequest
    from canbao.run.tasks import district_task

    ctx = demo["ctxs"][-1]
    xlsx, csv_path = provincial.import_paths(ctx)
    before = (xlsx.read_bytes(), csv_path.read_bytes())
    req = RunRequest(
        district_dir=ctx.period_dir.parent, out_root=ctx.out_root, params_dir=demo["root"]
    )
    task = district_task(req, ctx, demo["cfg"])
    res = execute_task(task)
    assert res.ok, res.describe()
    assert (xlsx.read_bytes(), csv_path.read_bytes()) == before  # the re-run's file is the same
    n = len(_files(demo)[ctx.period])
    page = task.html_path.read_text(encoding="utf-8")
    assert f'href="../import/{xlsx.name}"' in page and f"（{n:,} 行）" in page
    assert "批量导入文件" in page and ctx.out_dir.joinpath("html", "../import", xlsx.name).exists()
    index = write_front_page(ctx.district_dir).read_text(encoding="utf-8")
    assert "批量导入文件（报送人社系统" in index
    for c in demo["ctxs"]:
        name = provincial.import_paths(c)[0].name
        rows = len(_files(demo)[c.period])
        assert f'href="{quote(f"{c.period.isoformat()}/import/{name}")}"' in index
        assert f">{name}（{rows:,} 行）</a>" in index
    ids = set(pd.concat(_files(demo).values())["证件号码"])
    assert not any(i in page or i in index for i in ids)  # links and counts, nobody's ID
