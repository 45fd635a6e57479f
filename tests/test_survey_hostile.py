"""Hostile survey returns: every returned row accounted for, whatever the township did.

The corpus (``tests.support.survey_hostile_corpus``) starts each case from a roster canbao really
issued and damages it as township staff do. For every case the import must:

- put the accepted rows in ``survey_results`` with the values the officer meant;
- list every rejected row in ``survey_rejects`` and in the township's 退回清单 with
  file, row, column (``survey_rejects.column``: the roster headers the reason is
  about, joined by 、; the 退回清单 says them in the reason's words) and a reason;
- report a file it cannot read at all once, naming the file (row 0, no column),
  in words a clerk can act on, never a traceback;
- lose nothing: rows = accepted + rejected + duplicate + not_returned, where
  ``rows`` counts the rows below a header that hold anything of a return (姓名,
  ID, 核实情况 or another field the roster reads). Rows with none of these
  (entirely blank rows, title rows, a stray 序号) and repeated header rows are not
  counted, but keep their place in the numbering, so a row number is always the
  officer's own (data row n = the n-th row below the header). A row without
  核实情况 is 'not_returned' (the officer did not get to it), unless it names
  someone on no issued list (then it is rejected);
- change nothing when imported again (file SHA-256): same tables, same counts,
  byte-identical 退回清单.

What a clerk would expect where the contract is silent is in each case's docstring.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from canbao import survey
from canbao.core.engine import DuckDBEngine
from tests.support.survey import make_cfg, make_ctx, make_engine
from tests.support.survey_hostile_corpus import CASES, Expect, Kit

P1, P2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)
TABLES = ("survey_results", "survey_tasks", "survey_rejects", "survey_return_rows")


@dataclass
class Issued:
    db: Path  # registry with batch 1 issued at P1 (both towns, six villages)
    rosters: dict[str, Path]
    tasks: pd.DataFrame


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    root = tmp_path_factory.mktemp("issued")
    mem = make_engine()
    db = root / "registry.duckdb"
    eng = DuckDBEngine(db)
    for table in ("registry", "population"):
        eng.register_df(table, mem.query_df(f"SELECT * FROM {table}"))
    mem.close()
    survey.issue_rosters(eng, make_cfg(), make_ctx(root, P1))
    tasks = eng.query_df("SELECT * FROM survey_tasks ORDER BY seq_in_batch")
    eng.close()
    rosters = {
        p.name[:12]: p
        for p in (root / "reports").rglob("*.xlsx")
        if re.match(r"\d{12}_", p.name) and "登记表" not in p.name
    }
    return Issued(db, rosters, tasks)


def _snapshot(eng: DuckDBEngine) -> dict[str, pd.DataFrame]:
    return {t: eng.query_df(f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES}


def _workbooks(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.xlsx"))}


def _same(got: object, want: object) -> bool:
    if want is None:
        return got is None or bool(pd.isna(got))
    return got == want


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_return(name: str, issued: Issued, tmp_path: Path) -> None:
    """The case's rows land where its ``Expect`` says (see the corpus docstrings for the
    decisions), nothing is lost, and a second import changes nothing."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(issued.db, db)
    ctx = make_ctx(tmp_path, P2)
    kit = Kit(issued.rosters, issued.tasks, ctx.period_dir / "survey_returns")
    exp: Expect = CASES[name](kit)
    cfg = make_cfg()
    eng = DuckDBEngine(db)
    try:
        res = survey.import_returns(eng, cfg, ctx, commit=True)
        _check_accepted(eng, exp)
        rej = eng.query_df("SELECT * FROM survey_rejects ORDER BY file, source_row")
        _check_rejected(rej, exp)
        _check_counts(res, exp)
        status = eng.query_df("SELECT id_number, status FROM survey_tasks").set_index("id_number")[
            "status"
        ]
        assert set(status[list(exp.accepted)]) <= {"returned"}
        assert set(status[exp.open_tasks]) <= {"issued", "rejected"}
        folder = ctx.out_dir / "survey" / "rejections"
        _check_rejection_lists(folder, rej, issued.tasks)
        # idempotence: the same files again change nothing, byte for byte
        before, lists = _snapshot(eng), _workbooks(folder)
        again = survey.import_returns(eng, cfg, ctx, commit=True)
        assert again["already_imported_files"] == exp.files - exp.same_content_files
        assert {k: v for k, v in again.items() if k != "already_imported_files"} == {
            k: v for k, v in res.items() if k != "already_imported_files"
        }
        for table, df in _snapshot(eng).items():
            pd.testing.assert_frame_equal(df, before[table], obj=table)
        assert _workbooks(folder) == lists
    finally:
        eng.close()


def _check_accepted(eng: DuckDBEngine, exp: Expect) -> None:
    got = eng.query_df("""
        SELECT t.id_number, r.* FROM survey_results r
        JOIN (SELECT DISTINCT person_id, id_number FROM survey_tasks) t USING (person_id)""")
    assert got["person_id"].is_unique
    assert dict(zip(got["id_number"], got["outcome"], strict=True)) == exp.accepted
    by_id = got.set_index("id_number")
    for id_, values in exp.values.items():
        for column, want in values.items():
            have = by_id.loc[id_, column]
            assert _same(have, want), (id_, column, have, want)


def _check_rejected(rej: pd.DataFrame, exp: Expect) -> None:
    rows = rej[rej["source_row"] > 0].set_index(["file", "source_row"])
    assert set(rows.index) == {(f, r) for f, r, _, _ in exp.rejected}
    for f, r, column, piece in exp.rejected:
        assert rows.loc[(f, r), "column"] == column, (f, r, rows.loc[(f, r), "reason"])
        assert piece in rows.loc[(f, r), "reason"], (f, r, rows.loc[(f, r), "reason"])
    whole = rej[rej["source_row"] == 0].set_index("file")
    assert sorted(whole.index) == sorted(f for f, _ in exp.file_errors)
    for f, piece in exp.file_errors:
        assert piece in whole.loc[f, "reason"], (f, whole.loc[f, "reason"])
        assert pd.isna(whole.loc[f, "column"])
        assert whole.loc[f, "township_code"] == survey.file_township(Path(f).name)
    for reason in rej["reason"]:  # a sentence a clerk reads, never a traceback
        assert reason and "Traceback" not in reason and len(reason) < 200
        assert re.search(r"[\u4e00-\u9fff]", reason)


def _check_counts(res: dict, exp: Expect) -> None:
    judged = len(exp.accepted) + len(exp.rejected) + exp.duplicate + exp.not_returned
    assert exp.rows == judged  # the case's own count of its rows adds up
    assert (
        res["rows"],
        res["accepted"],
        res["rejected"],
        res["duplicate"],
        res["not_returned"],
    ) == (exp.rows, len(exp.accepted), len(exp.rejected), exp.duplicate, exp.not_returned)
    assert res["file_errors"] == len(exp.file_errors)
    assert (res["files"], res["same_content_files"]) == (exp.files, exp.same_content_files)


def _check_rejection_lists(folder: Path, rej: pd.DataFrame, tasks: pd.DataFrame) -> None:
    """Every rejected row and unreadable file is on its township's 退回清单, IDs masked."""
    listed = set()
    for path in sorted(folder.glob("*.xlsx")):
        ws = openpyxl.load_workbook(path)["退回清单"]
        for height in (d.height for d in ws.row_dimensions.values()):
            assert height is None or height <= 409  # Excel's largest row
        text = "".join(str(c) for r in ws.iter_rows(values_only=True) for c in r if c)
        assert not any(i in text for i in tasks["id_number"])
        for row in ws.iter_rows(min_row=4, values_only=True):
            _, file, source_row, *_, outcome, reason = row
            assert outcome is None or len(outcome) <= 220
            listed.add((path.stem.split("_")[0], file, source_row, reason))
    want = {
        (t if isinstance(t, str) and t else "未识别乡镇", f, r, reason)
        for t, f, r, reason in zip(
            rej["township_code"], rej["file"], rej["source_row"], rej["reason"], strict=True
        )
    }
    assert listed == want


def test_registry_from_before_the_column_is_upgraded(issued: Issued, tmp_path: Path) -> None:
    """A registry whose survey_return_rows predates ``column`` gains it, and imports."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(issued.db, db)
    eng = DuckDBEngine(db)
    eng.execute('ALTER TABLE survey_return_rows DROP COLUMN "column"')
    ctx = make_ctx(tmp_path, P2)
    kit = Kit(issued.rosters, issued.tasks, ctx.period_dir / "survey_returns")
    exp = CASES["outcome_free_text"](kit)
    res = survey.import_returns(eng, make_cfg(), ctx, commit=True)
    assert res["rejected"] == len(exp.rejected)
    assert set(eng.query_df("SELECT * FROM survey_rejects")["column"]) == {"核实情况"}
    eng.close()


@pytest.mark.parametrize(
    ("typed", "period", "want"),
    [
        ("2026.11.3", None, (dt.date(2026, 11, 3), False)),
        ("11月3日", dt.date(2026, 11, 15), (dt.date(2026, 11, 3), False)),
        ("11月3号", dt.date(2026, 11, 15), (dt.date(2026, 11, 3), False)),
        ("12月30日", dt.date(2026, 11, 15), (dt.date(2025, 12, 30), False)),
        ("11月3日", None, (None, True)),  # no period, no year: not guessed
        ("2月30日", dt.date(2026, 11, 15), (None, True)),
        ("2026/11/3 14:30", None, (dt.date(2026, 11, 3), False)),
        ("2026年11月3日 9:05:00", None, (dt.date(2026, 11, 3), False)),
        (46329.0, None, (dt.date(2026, 11, 3), False)),  # an Excel serial
        ("下周补", dt.date(2026, 11, 15), (None, True)),
    ],
)
def test_dates_as_officers_type_them(typed, period, want) -> None:
    assert survey.collected_date(typed, period) == want
