"""Village rosters, registration forms, summaries, ledgers: what the village officer receives."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from canbao import survey
from canbao.core.xlsx import put, save_workbook_fixed
from canbao.survey.rosters import ROSTER_COLUMNS, RosterMeta
from canbao.survey.vocabulary import OUTCOME_NAMES, REASONS, batch_label
from tests.support.survey import (
    DISTRICT,
    FORMULA_NAMES,
    build_registry,
    fixture_places,
    make_cfg,
    make_ctx,
    make_engine,
)

P1 = dt.date(2026, 1, 31)
ID18 = re.compile(r"\d{17}[\dX]")


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """Batch 1 of the fixture district, with a roster password."""
    tmp = tmp_path_factory.mktemp("issue")
    eng = make_engine()
    ctx = make_ctx(tmp, P1)
    res = survey.issue_rosters(eng, make_cfg("秘密123"), ctx)
    yield eng, ctx, res
    eng.close()


def _rosters(ctx) -> list[Path]:
    return sorted(
        p
        for p in (ctx.out_dir / "rosters").rglob("*.xlsx")
        if re.fullmatch(r"\d{12}_[^_]+\.xlsx", p.name)
    )


def _all_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_batch_counts(issued):
    eng, ctx, res = issued
    reg, _ = build_registry()
    survey_n = int((reg["registration"] == "survey").sum())
    assert res["batch"] == 1 and res["people"] == survey_n and res["reissued"] == 0
    assert res["townships"] == 2 and res["villages"] == 6
    tasks = eng.query_df("SELECT * FROM survey_tasks ORDER BY seq_in_batch")
    assert list(tasks["seq_in_batch"]) == list(range(1, survey_n + 1))
    assert set(tasks["status"]) == {"issued"}


def test_every_village_gets_only_its_own_people(issued):
    _, ctx, _ = issued
    reg, _ = build_registry()
    towns, villages = fixture_places()
    all_ids = set(reg["id_number"])
    files = _rosters(ctx)
    assert len(files) == sum(len(v) for v in villages.values())
    for t in towns:
        for v in villages[t]:
            [path] = [p for p in files if p.name.startswith(v)]
            assert path.parent.name.startswith(t + "_")
            expected = set(
                reg.loc[(reg["village_code"] == v) & (reg["registration"] == "survey"), "id_number"]
            )
            ws = openpyxl.load_workbook(path)["花名册"]
            col = [c.value for c in ws[3]]
            rows = [
                dict(zip(col, r, strict=True)) for r in ws.iter_rows(min_row=4, values_only=True)
            ]
            assert {r["公民身份号码"] for r in rows} == expected
            assert {r["村社区代码"] for r in rows} == {v}
            # nobody else's ID anywhere in the file (any sheet, any XML part)
            found = set(ID18.findall(_all_text(path))) & all_ids
            assert found == expected
            forms = path.with_name(path.stem + "_登记表.xlsx")
            assert set(ID18.findall(_all_text(forms))) & all_ids == expected


def test_households_together_head_first(issued):
    _, ctx, _ = issued
    for path in _rosters(ctx):
        ws = openpyxl.load_workbook(path)["花名册"]
        hh = [r[2] for r in ws.iter_rows(min_row=4, values_only=True)]
        rel = [r[3] for r in ws.iter_rows(min_row=4, values_only=True)]
        assert hh == sorted(hh)  # one household's members are adjacent
        for h in set(hh):
            members = [rel[i] for i, x in enumerate(hh) if x == h]
            if "户主" in members:
                assert members[0] == "户主"


def test_columns_prefill_and_protection(issued):
    _, ctx, _ = issued
    wb = openpyxl.load_workbook(_rosters(ctx)[0])
    ws = wb["花名册"]
    assert [c.value for c in ws[3]] == [c.header for c in ROSTER_COLUMNS]
    assert ws.protection.sheet is True and ws.protection.password  # hashed password present
    assert wb.security.lockStructure is True and wb.security.workbookPassword
    for j, c in enumerate(ROSTER_COLUMNS, start=1):
        cell = ws.cell(4, j)
        assert cell.protection.locked is (not c.officer), c.header
    row = {c.header: ws.cell(4, j).value for j, c in enumerate(ROSTER_COLUMNS, start=1)}
    assert row["性别"] in ("男", "女") and re.fullmatch(r"\d{4}-\d\d-\d\d", row["出生日期"])
    assert row["养老保险"] == "应参保未参保" and "养老保险应参保未参保" in row["列入原因"]
    assert row["户籍地址"].startswith("湖南省湘潭市雨湖区") and row["户号"]


def test_dropdown_lists_from_hidden_sheet(issued):
    _, ctx, _ = issued
    wb = openpyxl.load_workbook(_rosters(ctx)[0])
    ws, lists = wb["花名册"], wb["选项"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(r, 1).value for r in range(2, len(OUTCOME_NAMES) + 2)] == list(OUTCOME_NAMES)
    assert [lists.cell(r, 3).value for r in range(2, len(REASONS) + 2)] == list(REASONS)
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    col = {
        c.header: openpyxl.utils.get_column_letter(j) for j, c in enumerate(ROSTER_COLUMNS, start=1)
    }
    last = ws.max_row
    outcome = dvs[f"{col['核实情况']}4:{col['核实情况']}{last}"]
    reason = dvs[f"{col['未参保原因']}4:{col['未参保原因']}{last}"]
    assert outcome.type == "list" and outcome.formula1 == f"'选项'!$A$2:$A${len(OUTCOME_NAMES) + 1}"
    assert reason.type == "list" and reason.formula1 == f"'选项'!$C$2:$C${len(REASONS) + 1}"
    assert outcome.showErrorMessage and outcome.errorStyle == "stop"


def test_print_settings(issued):
    _, ctx, _ = issued
    path = _rosters(ctx)[0]
    ws = openpyxl.load_workbook(path)["花名册"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == "$1:$3"
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    header = ws.oddHeader.center.text
    vcode = path.name[:12]
    for part in (
        "雨湖区",
        "雨湖路街道" if vcode.startswith("430302001") else "鹤岭镇",
        path.stem.split("_", 1)[1],
        batch_label(1),
        "2026-01-31",
    ):
        assert part in header
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    title = ws["A2"].value
    assert "区县：雨湖区" in title and "第一批" in title and vcode in title


def test_formula_like_names_stay_text(issued):
    _, ctx, _ = issued
    seen = set()
    for path in sorted((ctx.out_dir / "rosters").rglob("*.xlsx")):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/"):
                    assert "<f>" not in z.read(n).decode() and "<f " not in z.read(n).decode(), path
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.value not in ("nan", "NaT", "None", "<NA>"), (path, cell.coordinate)
                    if cell.value in FORMULA_NAMES:
                        assert cell.data_type == "s"
                        seen.add(cell.value)
    assert seen == set(FORMULA_NAMES)


def test_put_never_writes_formula(tmp_path):
    wb = openpyxl.Workbook()
    for i, v in enumerate(["=1+1", "+1", "-1", "@SUM(A1)", "=cmd|' /C calc'!A0"], start=1):
        put(wb.active, i, 1, v)
    save_workbook_fixed(wb, tmp_path / "x.xlsx", dt.datetime(2026, 1, 1))
    back = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert [back.cell(i, 1).value for i in range(1, 6)] == [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "=cmd|' /C calc'!A0",
    ]
    assert all(back.cell(i, 1).data_type == "s" for i in range(1, 6))


def test_summary_and_ledger_carry_no_full_ids(issued):
    _, ctx, _ = issued
    reg, _ = build_registry()
    for tdir in sorted((ctx.out_dir / "rosters").iterdir()):
        summary = tdir / f"{tdir.name}_汇总.xlsx"
        ledger = tdir / f"{tdir.name}_未参保落实台账.xlsx"
        assert not ID18.findall(_all_text(summary)) and not ID18.findall(_all_text(ledger))
        ws = openpyxl.load_workbook(summary)["汇总"]
        rows = list(ws.iter_rows(min_row=4, values_only=True))
        tcode = tdir.name[:9]
        expected = int(((reg["township_code"] == tcode) & (reg["registration"] == "survey")).sum())
        assert rows[-1][0] == "合计" and rows[-1][3] == expected
        assert sum(r[3] for r in rows[:-1]) == expected
        led = openpyxl.load_workbook(ledger)["台账"]
        ids = [r[5] for r in led.iter_rows(min_row=4, values_only=True)]
        assert len(ids) == expected
        assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", i) for i in ids)
        assert {r[2] for r in led.iter_rows(min_row=4, values_only=True)} == {"第一批"}


def test_registration_forms_one_page_per_person(issued):
    _, ctx, _ = issued
    path = _rosters(ctx)[0]
    n = len(openpyxl.load_workbook(path)["花名册"]["A"]) - 3
    ws = openpyxl.load_workbook(path.with_name(path.stem + "_登记表.xlsx"))["登记表"]
    assert len(ws.row_breaks.brk) == n
    assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9
    assert ws.protection.sheet
    titles = [c.value for c in ws["A"] if c.value == "全民参保登记表（个人）"]
    assert len(titles) == n
    unlocked = [
        c
        for row in ws.iter_rows()
        for c in row
        if c.protection.locked is False and c.coordinate not in ws.merged_cells
    ]
    assert len(unlocked) >= 10 * n  # blanks for phone, address, signature...


def test_rosters_are_deterministic_bytes(tmp_path):
    outs = []
    for k in range(2):
        eng = make_engine(villages=2)
        ctx = make_ctx(tmp_path / str(k), P1)
        survey.issue_rosters(eng, make_cfg(), ctx)
        root = ctx.out_dir / "rosters"
        outs.append({p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.xlsx"))})
        eng.close()
    assert outs[0].keys() == outs[1].keys() and outs[0] == outs[1]
    props = openpyxl.load_workbook(
        tmp_path / "0" / "reports" / DISTRICT / "2026-01-31" / "rosters" / next(iter(outs[0]))
    )
    assert props.properties.created == dt.datetime(2026, 1, 31)


def _tree(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.xlsx"))}


def test_workers_write_the_same_bytes_as_one_process(tmp_path):
    """Two spawned worker processes write every roster, 登记表, 汇总 and 台账 of batch 2
    (re-issued people, two batches in the 台账) byte for byte as the stage does alone."""
    trees = []
    for workers in (1, 2):
        eng = make_engine()
        cfg = make_cfg("秘密123")
        survey.issue_rosters(eng, cfg, make_ctx(tmp_path / str(workers), P1), workers=1)
        eng.execute(
            "UPDATE registry SET registration = 'confirmed' WHERE household_no = '001001000'"
        )
        ctx2 = make_ctx(tmp_path / str(workers), dt.date(2026, 2, 28))
        res = survey.issue_rosters(eng, cfg, ctx2, workers=workers)
        trees.append((res, _tree(ctx2.out_dir / "rosters")))
        eng.close()
    (serial_res, serial), (parallel_res, parallel) = trees
    assert serial_res == parallel_res and serial_res["files"] == len(serial) == 6 * 2 + 2 * 2
    assert {p.name.rsplit("_", 1)[-1] for p in serial} >= {
        "登记表.xlsx",
        "汇总.xlsx",
        "未参保落实台账.xlsx",
    }
    assert serial.keys() == parallel.keys()
    for name, data in serial.items():
        assert parallel[name] == data, name


def test_a_failing_workbook_fails_the_stage_with_workers(tmp_path, monkeypatch):
    """A workbook a worker cannot write stops the stage with that error (not a half batch
    passed as done)."""
    eng = make_engine(villages=2)
    ctx = make_ctx(tmp_path, P1)
    survey.issue_rosters(eng, make_cfg(), ctx, workers=1)
    out = ctx.out_dir / "rosters"
    town = next(p for p in out.iterdir() if p.is_dir()).name
    rmtree = shutil.rmtree

    def clear_then_block(path, *args, **kwargs):  # a file where the township folder goes
        rmtree(path, *args, **kwargs)
        path.mkdir(parents=True)
        (path / town).write_text("not a folder")

    monkeypatch.setattr(shutil, "rmtree", clear_then_block)
    with pytest.raises((FileExistsError, NotADirectoryError)):
        survey.issue_rosters(eng, make_cfg(), ctx, workers=2)
    eng.close()


def test_batches_rerun_and_reissue(tmp_path):
    eng = make_engine(villages=1)
    cfg = make_cfg()
    ctx1 = make_ctx(tmp_path, P1)
    r1 = survey.issue_rosters(eng, cfg, ctx1)
    again = survey.issue_rosters(eng, cfg, ctx1)  # re-run of the same period: same batch
    assert again["batch"] == r1["batch"] == 1
    assert eng.scalar("SELECT count(*) FROM survey_tasks") == r1["people"]
    # next period: one household resolved, everyone else re-issued as 再次下发
    eng.execute("UPDATE registry SET registration = 'confirmed' WHERE household_no = '001001000'")
    r2 = survey.issue_rosters(eng, cfg, make_ctx(tmp_path, dt.date(2026, 2, 28)))
    assert r2["batch"] == 2 and r2["people"] == r1["people"] - 2 and r2["reissued"] == r2["people"]
    path = next(
        (make_ctx(tmp_path, dt.date(2026, 2, 28)).out_dir / "rosters").rglob(
            "430302001001_*社区居委会.xlsx"
        )
    )
    ws = openpyxl.load_workbook(path)["花名册"]
    reasons = [r[12] for r in ws.iter_rows(min_row=4, values_only=True)]
    assert all("再次下发（第1批未回收）" in x for x in reasons)
    assert {r[1] for r in ws.iter_rows(min_row=4, values_only=True)} == {2}
    # a period with nobody to survey issues no batch
    eng.execute("UPDATE registry SET registration = 'confirmed'")
    r3 = survey.issue_rosters(eng, cfg, make_ctx(tmp_path, dt.date(2026, 3, 31)))
    assert r3["batch"] is None and r3["people"] == 0
    assert eng.scalar("SELECT max(batch) FROM survey_tasks") == 2
    eng.close()


def test_every_part_is_well_formed_xml(issued):
    """openpyxl and calamine read past a missing end tag; Excel repairs the file. Parse strictly."""
    from xml.dom import minidom

    files = sorted((issued[1].out_dir / "rosters").rglob("*.xlsx"))
    assert len(files) == 6 * 2 + 2 * 2
    for path in files:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".rels")):
                    minidom.parseString(z.read(name))  # raises on malformed XML


def test_forms_fixed_rows_are_the_bytes_of_row_by_row(tmp_path, monkeypatch):
    """The form rows built once and numbered per person give the file that writing every
    row through FastRows.row gives, with names like formulas, spaces, & < > and gaps."""
    from canbao.survey import forms

    eng = make_engine(villages=1)
    people = eng.query_df("SELECT * FROM registry WHERE registration = 'survey' ORDER BY person_id")
    people.loc[1, "name"] = " 赵 & <六> "
    people.loc[2, ["address", "household_no", "birth_date"]] = [None, "", None]
    meta = RosterMeta(DISTRICT, "雨湖区", "430302001", "雨湖路街道", "430302001001",
                      "社区", 1, P1, "pw")  # fmt: skip
    fast_path = forms.write_registration_forms(people, tmp_path / "fixed.xlsx", meta)
    monkeypatch.setattr(forms, "_fixed_rows", lambda fast, looks: {})
    slow_path = forms.write_registration_forms(people, tmp_path / "rows.xlsx", meta)
    assert len(people) >= 5 and fast_path.read_bytes() == slow_path.read_bytes()
    eng.close()


def test_registration_form_blocks_are_merged(issued):
    _, ctx, _ = issued
    path = _rosters(ctx)[0]
    ws = openpyxl.load_workbook(path.with_name(path.stem + "_登记表.xlsx"))["登记表"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    titles = [c.row for c in ws["A"] if c.value == "全民参保登记表（个人）"]
    assert all(f"A{r}:D{r}" in merged for r in titles)  # title across the page
    addr = [c.row for c in ws["A"] if c.value == "户籍地址"]
    assert addr and all(f"B{r}:D{r}" in merged for r in addr)
    assert ws.cell(addr[0], 2).value.startswith("湖南省湘潭市雨湖区")
