"""入户调查: issue numbered roster batches (stage 9) and import the returns (stage 5).

Persistent tables (registry DB):

- ``survey_tasks``: one row per person per 下发批次 (batch, period, person_id,
  township_code, village_code, seq_in_batch, reissued, status, result,
  result_period, plus the issued id_number, name, birth_date that a return is
  checked against). Status: ``issued`` (out, nothing back), ``rejected`` (a return
  failed validation: still open, re-issued next batch), ``returned`` (a return
  passed validation this run, waiting for classify and commit), ``accepted``
  (stage 9 after the commit: 已落实).
- ``survey_results``: one row per accepted return row; classify turns it into
  ``surveyed`` and exemptions (column meanings in :data:`OUTCOME_RULES`).
- ``survey_return_rows``: every non-blank returned row ever judged, keyed by the
  file's SHA-256 and the row (``source_row`` 0: the whole file could not be read),
  with its verdict, reason and the roster ``column`` the reason is about:
  importing the same file again reuses the verdicts and changes nothing.

Per-run table ``survey_rejects`` (file, source_row, person_id, id_number, name,
reason, township_code, village_code, outcome, column): the rejected rows of the
files in this period's ``survey_returns/`` (classify reports them as SURVEY_REJECTED).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import math
import re
import shutil
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from canbao import refdata
from canbao.config import Config, load_config
from canbao.engine import Engine, open_engine
from canbao.errors import InputError
from canbao.pipeline import PeriodContext, period_context
from canbao.privacy import mask_id, mask_id_sql
from canbao.regforms import write_registration_forms
from canbao.rosters import (
    FONT,
    OUTCOME_NAMES,
    OUTCOMES,
    REASONS,
    ROSTER_COLUMNS,
    Column,
    RosterMeta,
    batch_label,
    roster_values,
    safe_name,
    write_ledger,
    write_roster,
    write_summary,
)

RETURNS_DIR = "survey_returns"

# 核实情况 → what classify applies (domain §3, §4.2). The person was surveyed because
# the district's own data showed no insurance, so insurance found only by the
# survey is ``insured_elsewhere`` (another 统筹区 or the provincial 职保 pool),
# except 我区参加居保 (our own 居保, the extract lagging) → ``insured_local``.
# 在校学生 exempts pension only (classify's rule); 死亡未销户 is a claim for 公安
# to confirm, kept as ``reported_deceased``; 其他人员 / 无参保意愿 set nothing.
# columns: outcome, outcome_code, exemption, insured_family, insured_status, reported_deceased
OUTCOME_RULES: tuple[tuple[str, str, str | None, str | None, str | None, bool], ...] = (
    ("参加省职保", "0/200", None, "pension", "insured_elsewhere", False),
    ("参加机关保", "0/201", None, "pension", "insured_elsewhere", False),
    ("参加省外职保", "0/202", None, "pension", "insured_elsewhere", False),
    ("在校学生", "0/203", "student", None, None, False),
    ("现役军人", "0/204", "military", None, None, False),
    ("服刑人员", "0/205", "prison", None, None, False),
    ("出国（境）人员", "0/206", "abroad", None, None, False),
    ("死亡未销户人员", "0/207", None, None, None, True),
    ("其他人员", "0/208", None, None, None, False),
    ("我区参加居保", "1/011", None, "pension", "insured_local", False),
    ("无参保意愿", "2/011", None, None, None, False),
)
assert tuple(r[:2] for r in OUTCOME_RULES) == OUTCOMES

# Header aliases seen on 雨湖区 forms, besides the roster's own headers.
HEADER_ALIASES = {
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "证件号码": "id_number",
    "12位行政区划编码": "village_code",
    "批次": "batch",
}
HEADER_FIELDS = {c.header: c.field for c in ROSTER_COLUMNS} | HEADER_ALIASES
RETURN_FIELDS = (
    "batch",
    "name",
    "id_number",
    "village_code",
    "outcome",
    "uninsured_reason",
    "phone",
    "actual_address",
    "note",
    "collector",
    "collected_date",
)


# --------------------------------------------------------------------------- tables


def ensure_tables(engine: Engine) -> None:
    """Create the persistent survey tables if this registry has none yet."""
    for sql in _create_tables_sql():
        engine.execute(sql)


def _create_tables_sql() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS survey_tasks (
            batch INTEGER, period DATE, person_id VARCHAR, township_code VARCHAR,
            village_code VARCHAR, seq_in_batch INTEGER, reissued BOOLEAN, status VARCHAR,
            result VARCHAR, result_period DATE, id_number VARCHAR, name VARCHAR, birth_date DATE)""",
        """CREATE TABLE IF NOT EXISTS survey_results (
            person_id VARCHAR, period DATE, file VARCHAR, source_row INTEGER, outcome VARCHAR,
            outcome_code VARCHAR, exemption VARCHAR, insured_family VARCHAR,
            insured_status VARCHAR, reported_deceased BOOLEAN, uninsured_reason VARCHAR,
            phone VARCHAR, actual_address VARCHAR, note VARCHAR, collector VARCHAR,
            collected_date DATE, batch INTEGER, village_code VARCHAR, file_sha256 VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS survey_return_rows (
            file_sha256 VARCHAR, file VARCHAR, period DATE, source_row INTEGER,
            person_id VARCHAR, id_number VARCHAR, name VARCHAR, township_code VARCHAR,
            village_code VARCHAR, outcome VARCHAR, verdict VARCHAR, reason VARCHAR,
            "column" VARCHAR)""",
        # registries from before rejected rows named their column
        'ALTER TABLE survey_return_rows ADD COLUMN IF NOT EXISTS "column" VARCHAR',
    ]


# --------------------------------------------------------------------------- names


def place_names(
    engine: Engine, cfg: Config, district_code: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Township and village names: params > the period's ``population`` > bundled list."""
    towns: dict[str, str] = {}
    villages: dict[str, str] = {}
    ref_t = refdata.townships(district_code)
    ref_v = refdata.villages(district_code)
    towns.update(dict(zip(ref_t["code"], ref_t["name"], strict=True)))
    villages.update(dict(zip(ref_v["code"], ref_v["name"], strict=True)))
    if engine.table_exists("population"):
        cols = set(engine.query_df("SELECT * FROM population LIMIT 0").columns)
        if {"township_code", "township_name"} <= cols:
            df = engine.query_df(_names_sql("township_code", "township_name"))
            towns.update({k: v for k, v in zip(df["code"], df["name"], strict=True) if v})
        if {"village_code", "village_name"} <= cols:
            df = engine.query_df(_names_sql("village_code", "village_name"))
            villages.update({k: v for k, v in zip(df["code"], df["name"], strict=True) if v})
    towns.update({str(k): str(v) for k, v in cfg.township_names.items()})
    return towns, villages


def _names_sql(code: str, name: str) -> str:
    """Most frequent non-empty name per code (ties: smallest), from population."""
    return f"""
        SELECT code, first(name ORDER BY n DESC, name) AS name FROM (
            SELECT {code} AS code, trim({name}) AS name, count(*) AS n FROM population
            WHERE {code} IS NOT NULL AND coalesce(trim({name}), '') <> ''
            GROUP BY ALL) GROUP BY code ORDER BY code"""


def district_name(cfg: Config) -> str:
    if cfg.district_name:
        return cfg.district_name
    c = refdata.counties().loc[lambda d: d["code"] == cfg.district_code]
    return str(c.iloc[0]["name"]) if len(c) else cfg.district_code


def _place(code: str | None, names: dict[str, str], blank: str) -> str:
    if not code:
        return blank
    name = names.get(code, "")
    return safe_name(f"{code}_{name}" if name else code)


# --------------------------------------------------------------------------- stage 9


def issue_rosters(engine: Engine, cfg: Config, ctx: PeriodContext) -> dict:
    """Stage 9: after the commit, issue this period's batch of rosters, forms and ledgers.

    Args: the registry engine (tables ``registry``, ``survey_tasks``), params, period.
    Returns: counts (batch, people, reissued, townships, villages, files).
    """
    ensure_tables(engine)
    engine.execute("UPDATE survey_tasks SET status = 'accepted' WHERE status = 'returned'")
    out = ctx.out_dir / "rosters"
    if out.exists():
        shutil.rmtree(out)  # this stage's own output: a re-run rewrites it whole
    if not engine.table_exists("registry"):
        return {
            "batch": None,
            "people": 0,
            "reissued": 0,
            "townships": 0,
            "villages": 0,
            "files": 0,
        }
    engine.execute("BEGIN TRANSACTION")
    try:
        batch = engine.scalar("SELECT max(batch) FROM survey_tasks WHERE period = ?", [ctx.period])
        if batch is not None:
            engine.execute(
                "DELETE FROM survey_tasks WHERE batch = ?", [batch]
            )  # re-run of this period
        n_targets = engine.scalar("SELECT count(*) FROM registry WHERE registration = 'survey'")
        if batch is None and n_targets:
            batch = int(engine.scalar("SELECT coalesce(max(batch), 0) + 1 FROM survey_tasks"))
        if n_targets:
            engine.execute(_insert_tasks_sql(), [batch, ctx.period, batch])
        engine.execute("COMMIT")
    except Exception:
        engine.execute("ROLLBACK")
        raise
    towns, villages = place_names(engine, cfg, ctx.district_code)
    dname = district_name(cfg)
    files = 0
    people = pd.DataFrame()
    if n_targets:
        people = engine.query_df(_roster_people_sql(), [batch, batch])
        files += _write_batch(people, out, cfg, ctx, int(batch), towns, villages, dname)
    files += _write_ledgers(engine, out, ctx, towns, villages, dname)
    return {
        "batch": None if batch is None else int(batch),
        "people": int(len(people)),
        "reissued": int(people["reissued"].sum()) if len(people) else 0,
        "townships": int(people["township_code"].nunique()) if len(people) else 0,
        "villages": int(people.groupby(["township_code", "village_code"], dropna=False).ngroups)
        if len(people)
        else 0,
        "files": files,
    }


_REL_ORDER = "CASE WHEN r.relation IN ('02', '户主') THEN 0 WHEN r.relation IN ('01', '本人') THEN 1 ELSE 2 END"


def _insert_tasks_sql() -> str:
    """This batch's tasks, numbered in print order: township, village, household, 户主 first."""
    return f"""
        INSERT INTO survey_tasks
        SELECT ?::INTEGER AS batch, ?::DATE AS period, r.person_id, r.township_code, r.village_code,
               row_number() OVER (ORDER BY r.township_code NULLS LAST, r.village_code NULLS LAST,
                   r.household_no NULLS LAST, {_REL_ORDER}, r.relation NULLS LAST,
                   r.id_number NULLS LAST, r.person_id)::INTEGER AS seq_in_batch,
               EXISTS (SELECT 1 FROM survey_tasks t
                       WHERE t.person_id = r.person_id AND t.batch < ?) AS reissued,
               'issued' AS status, NULL AS result, NULL AS result_period,
               r.id_number, r.name, r.birth_date
        FROM registry r WHERE r.registration = 'survey'"""


def _roster_people_sql() -> str:
    """The batch's people with what the roster pre-fills, and their previous task's fate."""
    return """
        WITH prev AS (
            SELECT person_id, arg_max(batch, batch) AS pb, arg_max(status, batch) AS ps,
                   arg_max(result, batch) AS pr
            FROM survey_tasks WHERE batch < ? GROUP BY person_id)
        SELECT t.batch, t.seq_in_batch, t.reissued, t.township_code, t.village_code,
               r.person_id, r.id_number, r.name, r.sex, r.birth_date, r.population,
               r.household_no, r.relation, r.address, r.pension_status, r.medical_status,
               CASE WHEN p.pb IS NULL THEN NULL
                    WHEN p.ps = 'rejected' THEN '第' || p.pb || '批退回：' || coalesce(p.pr, '')
                    ELSE '第' || p.pb || '批未回收' END AS prev_result
        FROM survey_tasks t JOIN registry r USING (person_id)
        LEFT JOIN prev p USING (person_id)
        WHERE t.batch = ?
        ORDER BY t.seq_in_batch"""


def _write_batch(
    people: pd.DataFrame,
    out: Path,
    cfg: Config,
    ctx: PeriodContext,
    batch: int,
    towns: dict[str, str],
    villages: dict[str, str],
    dname: str,
) -> int:
    """Village rosters + 登记表 and one 汇总 per township; returns the number of files."""
    files = 0
    people = people.assign(
        township_code=people["township_code"].fillna(""),
        village_code=people["village_code"].fillna(""),
    )
    for tcode, tdf in people.groupby("township_code", sort=True):
        tdir = out / _place(tcode, towns, "未分乡镇")
        counts = []
        for vcode, vdf in tdf.groupby("village_code", sort=True):
            vdf = vdf.sort_values("seq_in_batch")
            vpart = _place(vcode, villages, "未分村社区")
            meta = RosterMeta(
                ctx.district_code,
                dname,
                tcode,
                towns.get(tcode, tcode),
                vcode,
                villages.get(vcode, vcode),
                batch,
                ctx.period,
                cfg.survey.roster_password,
            )
            roster = tdir / f"{vpart}.xlsx"
            write_roster(roster_values(vdf.reset_index(drop=True)), roster, meta)
            write_registration_forms(vdf, tdir / f"{vpart}_登记表.xlsx", meta)
            files += 2
            counts.append(
                {
                    "village_code": vcode,
                    "village_name": villages.get(vcode, ""),
                    "people": len(vdf),
                    "households": int(vdf["household_no"].fillna(vdf["person_id"]).nunique()),
                    "reissued": int(vdf["reissued"].sum()),
                    "pension_not_insured": int((vdf["pension_status"] == "not_insured").sum()),
                    "medical_not_insured": int((vdf["medical_status"] == "not_insured").sum()),
                    "file": roster.name,
                }
            )
        meta = RosterMeta(
            ctx.district_code,
            dname,
            tcode,
            towns.get(tcode, tcode),
            "",
            "",
            batch,
            ctx.period,
            cfg.survey.roster_password,
        )
        write_summary(pd.DataFrame(counts), tdir / f"{tdir.name}_汇总.xlsx", meta)
        files += 1
    return files


def _ledger_sql() -> str:
    return """
        WITH res AS (
            SELECT person_id, arg_max(uninsured_reason, (period, file, source_row)) AS uninsured_reason
            FROM survey_results GROUP BY person_id)
        SELECT t.batch, t.seq_in_batch, t.township_code, t.village_code, t.name, t.id_number,
               t.status, t.result, t.reissued, t.result_period, res.uninsured_reason,
               CASE WHEN r.person_id IS NULL THEN ''
                    WHEN r.pension_status = 'not_insured' OR r.medical_status = 'not_insured' THEN '否'
                    ELSE '是' END AS insured
        FROM survey_tasks t LEFT JOIN registry r USING (person_id) LEFT JOIN res USING (person_id)
        ORDER BY t.township_code NULLS LAST, t.batch, t.seq_in_batch"""


def _write_ledgers(
    engine: Engine,
    out: Path,
    ctx: PeriodContext,
    towns: dict[str, str],
    villages: dict[str, str],
    dname: str,
) -> int:
    tasks = engine.query_df(_ledger_sql())
    if tasks.empty:
        return 0
    tasks["township_code"] = tasks["township_code"].fillna("")
    tasks["village_name"] = tasks["village_code"].map(lambda v: villages.get(v, v or ""))
    n = 0
    for tcode, tdf in tasks.groupby("township_code", sort=True):
        tdir = out / _place(tcode, towns, "未分乡镇")
        write_ledger(
            tdf.reset_index(drop=True),
            tdir / f"{tdir.name}_未参保落实台账.xlsx",
            district_name=dname,
            township_name=towns.get(tcode, tcode),
            period=ctx.period,
        )
        n += 1
    return n


# --------------------------------------------------------------------------- reading returns

_DOTS = str.maketrans({c: "·" for c in "•．.・‧﹒･⋅∙"})
_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九")}
# Invisible marks a paste from a chat or web page leaves in a cell (zero-width space,
# joiners, BOM, soft hyphen): no officer typed them, so they are no change (contract §7).
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_BLANKS = re.compile(f"[\\s{_INVISIBLE}]+")  # spaces and invisible marks: dropped
_ID_DIGITS_LOST = 1e15  # a number this large held an 18-digit ID: Excel keeps 15 digits


def fold_name(v: Any) -> str | None:
    """Name as compared (contract §7: width, spaces and middle-dot variants are not changes)."""
    s = _cell_text(v)
    if not s:
        return None
    s = unicodedata.normalize("NFKC", s).translate(_DOTS)
    return _BLANKS.sub("", s) or None


def fold_id(v: Any) -> str | None:
    """ID as compared: width-folded, no spaces or leading apostrophe, uppercase X."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # a number-typed ID (Excel keeps 15 digits: it will not match)
    s = _cell_text(v)
    if not s:
        return None
    s = _BLANKS.sub("", unicodedata.normalize("NFKC", s)).lstrip("'").upper()
    return s or None


def _id_lost(v: Any) -> str | None:
    """The digits an ID cell still holds when Excel made it a number (``4.30302E+17``,
    or an 18-digit number it cut to 15 digits), else None: never guessed (contract §1)."""
    if isinstance(v, float) and math.isfinite(v) and abs(v) >= _ID_DIGITS_LOST:
        return str(int(Decimal(f"{v:.15g}")))
    s = fold_id(v) if isinstance(v, str) and ("E" in v or "e" in v) else None
    if s and re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]{1,2}", s):
        return str(int(Decimal(s)))
    return None


def _cell_text(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _opt(v: Any) -> str | None:
    """Optional free text as written (trimmed; width forms kept: it is what the officer wrote)."""
    s = _cell_text(v).strip()
    return s or None


def _nfkc(s: str) -> str:
    return _BLANKS.sub("", unicodedata.normalize("NFKC", s))


# List entries keyed by their width-folded form: 出国(境)人员 typed with ASCII
# brackets, or with stray spaces, is the same entry (contract §7: normalisation is no change).
_CANON = {_nfkc(x): x for x in (*OUTCOME_NAMES, *REASONS)}


def _listed(v: Any) -> str | None:
    """A 核实情况 / 未参保原因 value: the list's own spelling if it folds to an entry."""
    s = _opt(v)
    return None if s is None else _CANON.get(_nfkc(s), s)


def _code_text(v: Any) -> str | None:
    """A 12-digit code as text (an Excel number stays exact up to 15 digits)."""
    s = _opt(v)
    return _nfkc(s).lstrip("'") or None if s else None


def parse_batch(v: Any) -> int | None:
    """下发批次 as written: 1, '1', '第1批', '第一批', '第十二批'."""
    s = _cell_text(v)
    m = re.search(r"\d+", s)
    if m:
        return int(m.group())
    s = s.replace("第", "").replace("批", "")
    if not s or any(ch not in _CN_NUM and ch != "十" for ch in s):
        return None
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)
    return _CN_NUM[s] if len(s) == 1 else None


def parse_date(v: Any, period: dt.date | None = None) -> tuple[dt.date | None, bool]:
    """(date, unreadable): datetime cells, 2026-03-05, 2026/3/5, 2026.3.5, 20260305, 2026年3月5日,
    an Excel serial day, any of these with a time after it; with ``period``, also 3月5日
    (or 3月5号) without a year: the latest such day not after the period date."""
    if _cell_text(v) == "":
        return None, False
    if isinstance(v, dt.datetime):
        return v.date(), False
    if isinstance(v, dt.date):
        return v, False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = int(v)
        if 19000101 <= n <= 21001231:
            v = str(n)
        elif 20000 < n < 80000:  # an Excel serial day number
            return dt.date(1899, 12, 30) + dt.timedelta(days=n), False
    s = unicodedata.normalize("NFKC", str(v)).strip()
    if ":" in s:  # a time after the date
        s = re.sub(r"(?<=\d)(日|号)?\s*T?\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", r"\1", s)
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?", s) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", s
    )
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), False
        m = re.fullmatch(r"(\d{1,2})月(\d{1,2})[日号]?", s)
        if m and period is not None:
            day = dt.date(period.year, int(m[1]), int(m[2]))
            return (day if day <= period else day.replace(year=period.year - 1)), False
    except ValueError:  # 2月30日; 2月29日 in a year without it
        pass
    return None, True


def file_township(name: str) -> str | None:
    """The township a return belongs to, from a name like ``430302100_鹤岭镇.xlsx``
    or a village roster ``430302100201_xx村.xlsx`` (first 9 digits)."""
    m = re.match(r"(\d{9})(\d{3})?(?!\d)", name)
    return m.group(1) if m else None


def _path_township(rel: str) -> str | None:
    """The township of ``survey_returns/[folder/…]file``: the file's own name first, then
    the nearest folder named like one (a township's sub-folder)."""
    for part in reversed(rel.split("/")[1:]):
        town = file_township(part)
        if town:
            return town
    return None


# Suffixes read as returns (by content: an xlsx saved under .xls is still read).
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
# What a computer leaves in a folder, never sent by anyone: not reported.
_SYSTEM_FILES = ("thumbs.db", "desktop.ini")


def return_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (sub-folders too) that someone sent, in name order.

    Excel's lock files (``~$…``), hidden files and Thumbs.db / desktop.ini are left
    out; any other file (a scan, a Word file) is listed so the import can report it.
    """
    if not folder.is_dir():
        return []
    out = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if not p.is_file() or p.name.lower() in _SYSTEM_FILES:
            continue
        if any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        out.append(p)
    return sorted(out, key=lambda p: p.relative_to(folder).as_posix())


Sheet = tuple[str, list[list[Any]], bool]  # name, cells, whether formulas lost results
_ZIP = b"PK\x03\x04"
_OLE = bytes.fromhex("D0CF11E0A1B11AE1")
_UNREADABLE = "文件无法读取"
_NO_VALUE = object()  # a formula cell saved without its result (a program wrote it)


def _sniff(path: Path, data: bytes) -> tuple[str | None, str | None]:
    """("xlsx" | "csv", None) or (None, why the file is no return a clerk can fix)."""
    if path.suffix.lower() not in RETURN_SUFFIXES:
        return None, (
            f"{_UNREADABLE}：不是花名册表格文件（{path.suffix or '无扩展名'}），未导入；"
            "请报送 Excel 花名册（.xlsx）"
        )
    if not data.strip():
        return None, f"{_UNREADABLE}：文件为空（{len(data)} 字节）"
    if data.startswith(_OLE) and "EncryptedPackage".encode("utf-16-le") in data:
        return None, f"{_UNREADABLE}：文件设有打开密码，请取消密码后重新报送"
    if data.startswith((_ZIP, _OLE)):
        return "xlsx", None
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        return None, f"{_UNREADABLE}：文件是网页格式，请在 Excel 中另存为 .xlsx 后重新报送"
    if path.suffix.lower() != ".csv":
        return None, f"{_UNREADABLE}：不是 Excel 文件（已损坏，或扩展名被改过）"
    return "csv", None


def _csv_sheets(data: bytes) -> tuple[list[Sheet], str | None]:
    """The CSV as one sheet of text cells (UTF-8 with or without BOM, else GB18030/GBK)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], f"{_UNREADABLE}：CSV 编码无法识别，请另存为 .xlsx 后重新报送"
    grids = [list(csv.reader(io.StringIO(text, newline=""), delimiter=d)) for d in ",\t;"]
    found = [g for g in grids if _header_at(g) is not None]
    return [("CSV", found[0] if found else grids[0], False)], None


def _xlsx_sheets(data: bytes) -> tuple[list[Sheet], str | None]:
    """Visible sheets as grids (hidden ones only when no visible sheet is a roster), with
    merged blocks filled down and formulas saved without a result marked."""
    # calamine (Rust) reads a returned roster ~10x faster than openpyxl: at 1M people
    # a batch comes back as ~100k rows. Empty cells read as "", numbers as float.
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # a corrupt file is one rejected "row"
        return [], f"{_UNREADABLE}：文件已损坏或不是 Excel 格式（{type(exc).__name__}）"
    try:
        meta = [m for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        visible = [m.name for m in meta if m.visible == SheetVisibleEnum.Visible]
        hidden = [m.name for m in meta if m.name not in visible]
        no_value = _formulas_without_value(data) if data.startswith(_ZIP) else {}
        sheets: list[Sheet] = []
        for names in (visible, hidden):
            for name in names:
                try:
                    sheet = wb.get_sheet_by_name(name)
                    grid = sheet.to_python(skip_empty_area=False)
                    merged = sheet.merged_cell_ranges or []
                except Exception as exc:
                    return [], f"{_UNREADABLE}：工作表“{name}”已损坏（{type(exc).__name__}）"
                marks = no_value.get(name, set())
                sheets.append((name, _fill_merged(grid, merged, marks), bool(marks)))
            if any(_header_at(g) is not None for _, g, _ in sheets):
                break
    finally:
        wb.close()
    return sheets, None


def _fill_merged(
    grid: list[list[Any]], merged: list, no_value: set[tuple[int, int]]
) -> list[list[Any]]:
    """A merged block shows its value on every row it spans (what the officer sees): the
    value goes down the block's first column. Formula cells with no result get a mark."""
    for r, c in no_value:
        if r < len(grid) and c < len(grid[r]) and _cell_text(grid[r][c]) == "":
            grid[r][c] = _NO_VALUE
    for (r0, c0), (r1, _c1) in merged:
        if r1 <= r0 or r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        width = len(grid[r0])
        while len(grid) <= r1:
            grid.append([""] * width)
        for r in range(r0 + 1, r1 + 1):
            if c0 < len(grid[r]) and _cell_text(grid[r][c0]) == "":
                grid[r][c0] = grid[r0][c0]
    return grid


def _formulas_without_value(data: bytes) -> dict[str, set[tuple[int, int]]]:
    """(row, column) from 0 of formula cells saved without a result, per sheet name.

    Excel and WPS save each formula's result, which calamine reads; a program may not,
    and such a cell would read as empty: a filled-in answer silently lost.
    """
    out: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            book = z.read("xl/workbook.xml").decode("utf-8")
            rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            target = {}
            for tag in re.findall(r"<Relationship\b[^>]*>", rels):
                a = _xml_attrs(tag)
                target[a.get("Id")] = a.get("Target", "").lstrip("/").removeprefix("xl/")
            for tag in re.findall(r"<sheet\b[^>]*>", book):
                a = _xml_attrs(tag)
                rid = next((v for k, v in a.items() if k.endswith(":id")), None)
                part = "xl/" + target.get(rid, "")
                if "name" not in a or part not in z.namelist():
                    continue
                xml = z.read(part)
                if not re.search(rb"<f[\s>/]", xml):
                    continue
                cells = set()
                # <c …>…</c> (not <c …/>); a cached "" of a text formula is a real blank
                for c in re.finditer(rb"<c\b([^>]*[^/>])?>(.*?)</c>", xml, re.S):
                    attrs, inner = c[1] or b"", c[2]
                    ref = re.search(rb'\br="([A-Z]+)([0-9]+)"', attrs)
                    if (
                        ref is None
                        or not re.search(rb"<f[\s>/]", inner)
                        or re.search(rb"<v>[^<]", inner)
                        or (b't="str"' in attrs and b"<v>" in inner)
                    ):
                        continue
                    col = 0
                    for ch in ref[1].decode():
                        col = col * 26 + ord(ch) - 64
                    cells.add((int(ref[2]) - 1, col - 1))
                if cells:
                    out[html.unescape(a["name"])] = cells
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return {}
    return out


def _xml_attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:]+)="([^"]*)"', tag))


def _fold_header(v: Any) -> str:
    return re.sub(f"[\\s▼*＊{_INVISIBLE}]", "", str(v)) if v is not None else ""


_ID_HEADERS = {h for h, f in HEADER_FIELDS.items() if f == "id_number"}


def _is_header(row: list[Any]) -> bool:
    names = {_fold_header(v) for v in row}
    return "姓名" in names and "核实情况" in names and bool(names & _ID_HEADERS)


def _header_at(grid: list[list[Any]]) -> int | None:
    """The header row (姓名, 公民身份号码, 核实情况) among the first 10 rows, if any."""
    return next((i for i, r in enumerate(grid[:10]) if _is_header(r)), None)


def _header_columns(row: list[Any]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for j, v in enumerate(row):
        field = HEADER_FIELDS.get(_fold_header(v))
        if field is not None and field not in cols:
            cols[field] = j
    return cols


_FIELD_HEADER = {c.field: c.header for c in ROSTER_COLUMNS}


def read_return_file(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, str | None]:
    """The data rows of a returned roster, by header name; (rows, file-level error).

    The file is read by its content (xlsx, an xlsx named .xls, a real .xls, or CSV in
    UTF-8 or GBK). Every visible sheet with a header row (姓名, 公民身份号码, 核实情况
    within its first 10 rows) is read; hidden sheets only when no visible one has it.
    ``source_row`` counts rows from the header (the header not counted) and continues
    across sheets, so it stays the row the officer sees below the header. Rows that
    hold nothing of a return (entirely blank; only a title or 序号) and rows repeating
    the header (rosters pasted one below another; their columns then apply) are
    skipped. A merged block counts on every row it spans; ``no_value`` lists the
    columns whose formula was saved without a result.
    """
    path = Path(path)
    data = path.read_bytes() if data is None else data
    kind, err = _sniff(path, data)
    if err:
        return pd.DataFrame(), err
    sheets, err = _csv_sheets(data) if kind == "csv" else _xlsx_sheets(data)
    if err:
        return pd.DataFrame(), err
    rows: list[dict] = []
    offset = 0
    found = False
    for _name, grid, marked in sheets:
        hdr = _header_at(grid)
        if hdr is None:
            continue
        found = True
        cols = _header_columns(grid[hdr])
        for i in range(hdr + 1, len(grid)):
            r = grid[i]
            if "姓名" in r and _is_header(r):  # a header pasted in again (exact 姓名: cheap)
                cols = _header_columns(r)
                continue
            vals = {f: (r[j] if j < len(r) else None) for f, j in cols.items()}
            if all(_cell_text(vals.get(f)) == "" for f in RETURN_FIELDS):
                continue
            if marked:
                lost = [f for f, v in vals.items() if v is _NO_VALUE]
                for f in lost:
                    vals[f] = None
                vals["no_value"] = [_FIELD_HEADER.get(f, f) for f in lost if f in RETURN_FIELDS]
            vals["source_row"] = offset + i - hdr
            rows.append(vals)
        offset += len(grid) - hdr - 1
    if not found:
        return pd.DataFrame(), "未找到表头（需含 姓名、公民身份号码、核实情况）"
    if not rows:
        return pd.DataFrame(), "文件中没有人员数据行（花名册的人员行被删除），请报送填写后的花名册"
    return pd.DataFrame(rows), None


def _normalise_rows(
    raw: pd.DataFrame, file: str, sha: str, town: str | None, period: dt.date | None = None
) -> pd.DataFrame:
    """Typed, folded columns of one file's rows (Python only for what SQL cannot read)."""
    out = []
    for rec in raw.to_dict("records"):
        cd, bad = parse_date(rec.get("collected_date"), period)
        lost = _id_lost(rec.get("id_number"))
        no_value = rec.get("no_value")
        no_value = no_value if isinstance(no_value, list) else []
        out.append(
            {
                "file_sha256": sha,
                "file": file,
                "source_row": int(rec["source_row"]),
                "file_township": town,
                "batch": parse_batch(rec.get("batch")),
                "name": fold_name(rec.get("name")),
                "id_number": lost or fold_id(rec.get("id_number")),
                "village_code": _code_text(rec.get("village_code")),
                "outcome": _listed(rec.get("outcome")),
                "uninsured_reason": _listed(rec.get("uninsured_reason")),
                "phone": _code_text(rec.get("phone")),
                "actual_address": _opt(rec.get("actual_address")),
                "note": _opt(rec.get("note")),
                "collector": _opt(rec.get("collector")),
                "collected_raw": _cell_text(rec.get("collected_date")) or None,
                "collected_date": cd,
                "collected_bad": bad,
                "file_error": None,
                "id_problem": None
                if lost is None
                else "公民身份号码被存成了数字，后几位已丢失（" + mask_id(lost) + "），"
                "请将该列设为文本格式后按下发号码重新填写",
                "problems": "；".join(
                    f"{h}是公式且没有保存计算结果，请复制后“粘贴为数值”再报送" for h in no_value
                )
                or None,
                "problem_columns": "、".join(no_value) or None,
            }
        )
    return pd.DataFrame(out, columns=_INPUT_COLUMNS)


# What _normalise_rows returns: the return's fields (the date also as written), plus
# where each row came from and what went wrong reading it.
_INPUT_COLUMNS = [
    "file_sha256",
    "file",
    "source_row",
    "file_township",
    *(f for f in RETURN_FIELDS if f != "collected_date"),
    "collected_raw",
    "collected_date",
    "collected_bad",
    "file_error",
    "id_problem",
    "problems",
    "problem_columns",
]


# --------------------------------------------------------------------------- validation SQL


def _values_sql(rows: tuple[tuple, ...], names: tuple[str, ...]) -> tuple[str, list]:
    """A VALUES list with placeholders, as a named subquery body."""
    ph = "(" + ", ".join("?" for _ in names) + ")"
    sql = f"(SELECT * FROM (VALUES {', '.join(ph for _ in rows)}) v({', '.join(names)}))"
    return sql, [x for r in rows for x in r]


def _judged_sql(alias: str) -> str:
    """Whether an input row is judged (else 'not_returned'): it carries a 核实情况, a cell
    that could not be read, or a person not on any issued list (a row added by hand)."""
    a = alias
    return f"""({a}.file_error IS NULL AND ({a}.outcome IS NOT NULL OR {a}.problems IS NOT NULL
        OR ({a}.id_number IS NOT NULL AND {a}.id_problem IS NULL AND NOT EXISTS (
            SELECT 1 FROM survey_tasks t WHERE t.id_number = {a}.id_number))))"""


def _echo_sql(col: str) -> str:
    """A value quoted in a reason, cut to 40 characters (a 10,000-character cell stays readable)."""
    return f"(CASE WHEN length({col}) > 40 THEN left({col}, 40) || '…（共' || length({col}) || '字）' ELSE {col} END)"


def _checked_sql(outcomes_sql: str, reasons_sql: str) -> str:
    """One row per judged return row with its reasons for rejection ('' when none) and
    the columns they are about (``column``, headers joined by 、).

    Params: period, student_max_age (twice), then the two lists' values.
    """
    age = (
        "(date_diff('year', m.birth, m.period_date) - CASE WHEN strftime(m.period_date, '%m%d')"
        " < strftime(m.birth, '%m%d') THEN 1 ELSE 0 END)"
    )
    # Each check: (reason or NULL, the roster column it is about; None: the row says).
    checks: tuple[tuple[str, str | None], ...] = (
        ("m.problems", None),
        (
            f"""CASE WHEN m.id_problem IS NOT NULL THEN m.id_problem
                 WHEN m.id_number IS NULL THEN '身份证号码为空'
                 WHEN m.person_id IS NULL AND m.hint_id IS NULL THEN '身份证号码不在下发名单'
                 WHEN m.person_id IS NULL THEN '身份证号码不在下发名单（下发名单中' || m.name
                      || '的号码为' || {mask_id_sql("m.hint_id")}
                      || '，花名册中的身份证号码不得修改）' END""",
            "公民身份号码",
        ),
        (
            """CASE WHEN m.person_id IS NOT NULL AND m.file_township IS NOT NULL
                      AND m.task_township IS DISTINCT FROM m.file_township
                 THEN '不属于本乡镇下发名单（下发至' || coalesce(m.task_township, '?') || '）' END""",
            "公民身份号码",
        ),
        (
            """CASE WHEN m.person_id IS NOT NULL AND m.name IS DISTINCT FROM m.task_name
                 THEN '姓名与下发名单不一致（下发：' || coalesce(m.task_name, '') || '）' END""",
            "姓名",
        ),
        (
            f"CASE WHEN o.outcome IS NULL THEN '核实情况不在选项中：' || {_echo_sql('m.outcome')} END",
            "核实情况",
        ),
        (
            f"""CASE WHEN m.uninsured_reason IS NOT NULL AND rs.reason IS NULL
                 THEN '未参保原因不在选项中：' || {_echo_sql("m.uninsured_reason")} END""",
            "未参保原因",
        ),
        (
            f"""CASE WHEN m.village_code IS NULL THEN '村社区代码为空'
                 WHEN NOT regexp_full_match(m.village_code, '[0-9]{{12}}')
                      OR left(m.village_code, 9) <> coalesce(m.file_township, m.task_township)
                 THEN '村社区代码不属于本乡镇：' || {_echo_sql("m.village_code")} END""",
            "村社区代码",
        ),
        (
            f"""CASE WHEN m.outcome = '在校学生' AND {age} >= ?
                 THEN '在校学生年龄' || ({age})::VARCHAR || '岁（≥' || ?::VARCHAR || '岁）' END""",
            "核实情况",
        ),
        (
            f"""CASE WHEN m.collected_bad THEN '采集日期无法识别：' || {_echo_sql("m.collected_raw")}
                 WHEN m.collected_date > m.period_date THEN '采集日期晚于本期日期' || m.period_date::VARCHAR
                 WHEN m.collected_date < m.issue_date THEN '采集日期早于下发日期' || m.issue_date::VARCHAR END""",
            "采集日期",
        ),
    )
    parts = ",\n            ".join(f"{sql} AS _chk{k}" for k, (sql, _) in enumerate(checks))
    names = ", ".join(f"_chk{k}" for k in range(len(checks)))
    columns = ", ".join(
        f"CASE WHEN _chk{k} IS NOT NULL THEN {'problem_columns' if col is None else repr(col)} END"
        for k, (_, col) in enumerate(checks)
    )
    return f"""
    WITH r AS (SELECT * FROM survey_return_input i WHERE {_judged_sql("i")}),
    cand AS (
        SELECT r.file_sha256, r.source_row, t.person_id, t.batch AS task_batch,
               t.township_code AS task_township, t.name AS task_name,
               coalesce(t.birth_date, try_strptime(substr(t.id_number, 7, 8), '%Y%m%d')::DATE) AS birth,
               t.status IN ('issued', 'rejected') AS is_open, t.status AS task_status,
               row_number() OVER (PARTITION BY r.file_sha256, r.source_row
                   ORDER BY (t.status IN ('issued', 'rejected')) DESC,
                            (t.township_code = r.file_township) DESC NULLS LAST,
                            (t.batch = r.batch) DESC NULLS LAST, t.batch DESC) AS k
        FROM r JOIN survey_tasks t ON t.id_number = r.id_number AND r.id_problem IS NULL),
    issued AS (SELECT batch, min(period) AS issue_date FROM survey_tasks GROUP BY batch),
    by_name AS (  -- the one open task of a name in a township: an edited ID's own number
        SELECT township_code, name, arg_max(id_number, batch) AS hint_id
        FROM survey_tasks WHERE status IN ('issued', 'rejected')
        GROUP BY township_code, name HAVING count(DISTINCT person_id) = 1),
    m AS (
        SELECT r.*, c.person_id, c.task_batch, c.task_township, c.task_name, c.birth, c.is_open,
               c.task_status, i.issue_date, ?::DATE AS period_date, b.hint_id
        FROM r LEFT JOIN cand c
            ON c.file_sha256 = r.file_sha256 AND c.source_row = r.source_row AND c.k = 1
        LEFT JOIN issued i ON i.batch = c.task_batch
        LEFT JOIN by_name b ON c.person_id IS NULL AND r.id_problem IS NULL
            AND b.township_code = r.file_township AND b.name = r.name)
    SELECT * EXCLUDE ({names}, hint_id),
        concat_ws('；', {names}) AS reason,
        concat_ws('、', {columns}) AS "column"
    FROM (
        SELECT m.*, o.outcome_code, o.exemption, o.insured_family, o.insured_status,
            o.reported_deceased,
            {parts}
        FROM m LEFT JOIN {outcomes_sql} o ON o.outcome = m.outcome
        LEFT JOIN {reasons_sql} rs ON rs.reason = m.uninsured_reason)"""


def _verdict_sql() -> str:
    """Final verdicts: a valid row for a closed task, or a second valid row for a person
    in this import, is 'duplicate' when it repeats the accepted outcome, else rejected."""
    return """
    WITH v AS (
        SELECT c.*, row_number() OVER (PARTITION BY c.person_id
                   ORDER BY c.file, c.file_sha256, c.source_row) AS dup_k
        FROM survey_return_checked c WHERE c.reason = '' AND c.is_open),
    firsts AS (SELECT person_id, file, source_row, outcome FROM v WHERE dup_k = 1),
    prior AS (
        SELECT person_id, arg_max(outcome, (period, file, source_row)) AS outcome,
               arg_max(batch, (period, file, source_row)) AS batch
        FROM survey_results GROUP BY person_id)
    SELECT c.file_sha256, c.file, c.source_row, c.person_id, c.id_number, c.name,
           coalesce(c.file_township, c.task_township) AS township_code, c.village_code, c.outcome,
           CASE WHEN c.reason <> '' THEN 'rejected'
                WHEN NOT c.is_open AND p.outcome = c.outcome THEN 'duplicate'
                WHEN NOT c.is_open THEN 'rejected'
                WHEN v.dup_k = 1 THEN 'accepted'
                WHEN f.outcome = c.outcome THEN 'duplicate'
                ELSE 'rejected' END AS verdict,
           CASE WHEN c.reason <> '' THEN c.reason
                WHEN NOT c.is_open AND p.outcome = c.outcome THEN '已导入（重复填报，结果相同）'
                WHEN NOT c.is_open THEN '该人员已核实（第' || coalesce(p.batch, c.task_batch)
                     || '批：' || coalesce(p.outcome, '') || '），不能改报'
                WHEN v.dup_k = 1 THEN NULL
                WHEN f.outcome = c.outcome THEN '重复填报（同' || f.file || '第' || f.source_row || '行）'
                ELSE '同一人员重复填报且结果不同（见' || f.file || '第' || f.source_row || '行）' END
               AS reason,
           CASE WHEN c.reason <> '' THEN c."column"
                WHEN c.is_open AND v.dup_k = 1 THEN NULL
                ELSE '核实情况' END AS "column"
    FROM survey_return_checked c
    LEFT JOIN v ON v.file_sha256 = c.file_sha256 AND v.source_row = c.source_row
    LEFT JOIN firsts f ON f.person_id = c.person_id
    LEFT JOIN prior p ON p.person_id = c.person_id
    ORDER BY c.file, c.file_sha256, c.source_row"""


# --------------------------------------------------------------------------- stage 5


def import_returns(engine: Engine, cfg: Config, ctx: PeriodContext) -> dict:
    """Stage 5: validate and import every file under ``period_dir/survey_returns/``.

    Rosters come back as .xlsx (also named .xls or .xlsm, or a real .xls) or CSV,
    in sub-folders too; any other file is reported as a file that cannot be read.
    Args: the registry engine, params, period. Returns: counts (files, rows,
    accepted, rejected, not_returned, duplicate, already_imported_files,
    same_content_files, file_errors); the invariant rows = accepted + rejected +
    not_returned + duplicate holds (``rows``: rows holding anything of a return;
    entirely blank rows are skipped, see :func:`read_return_file`).
    """
    ensure_tables(engine)
    files = return_files(ctx.period_dir / RETURNS_DIR)
    result = _import_files(engine, cfg, ctx, files)
    rej = engine.query_df("SELECT * FROM survey_rejects ORDER BY file, source_row")
    towns, _ = place_names(engine, cfg, ctx.district_code)
    result["rejection_files"] = write_rejections(
        rej, ctx.out_dir / "survey" / "rejections", towns, ctx.period
    )
    return result


def _import_files(engine: Engine, cfg: Config, ctx: PeriodContext, files: list[Path]) -> dict:
    known = set(
        engine.query_df("SELECT DISTINCT file_sha256 FROM survey_return_rows")["file_sha256"]
    )
    run_files: list[tuple[str, str]] = []  # (sha, file) of this run
    frames, errors, same_content = [], [], 0
    for path in files:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        rel = path.relative_to(ctx.period_dir).as_posix()
        if any(s == sha for s, _ in run_files):
            same_content += 1  # the same content twice in one folder: judged once
            continue
        run_files.append((sha, rel))
        if sha in known:
            continue
        raw, err = read_return_file(path, data)
        town = _path_township(rel)
        if err:
            errors.append(
                {
                    "file_sha256": sha,
                    "file": rel,
                    "source_row": 0,
                    "person_id": None,
                    "id_number": None,
                    "name": None,
                    "township_code": town,
                    "village_code": None,
                    "outcome": None,
                    "verdict": "rejected",
                    "reason": err,
                    "column": None,
                }
            )
            continue
        frames.append(_normalise_rows(raw, rel, sha, town, ctx.period))
    inp = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_INPUT_COLUMNS)
    inp = inp.astype({"batch": "Int64", "source_row": "int64", "collected_bad": "bool"})
    text = [
        c
        for c in _INPUT_COLUMNS
        if c not in ("batch", "source_row", "collected_bad", "collected_date")
    ]
    inp[text] = inp[text].astype("string")
    inp["collected_date"] = pd.to_datetime(inp["collected_date"]).astype("datetime64[s]")
    engine.register_df("survey_return_input", inp)
    outcomes_sql, o_params = _values_sql(
        OUTCOME_RULES,
        (
            "outcome",
            "outcome_code",
            "exemption",
            "insured_family",
            "insured_status",
            "reported_deceased",
        ),
    )
    reasons_sql, r_params = _values_sql(tuple((r,) for r in REASONS), ("reason",))
    age = cfg.survey.student_max_age
    engine.execute(
        "CREATE OR REPLACE TABLE survey_return_checked AS "
        + _checked_sql(outcomes_sql, reasons_sql),
        [ctx.period, age, age, *o_params, *r_params],
    )
    verdicts = engine.query_df(_verdict_sql())
    blanks = engine.query_df(
        "SELECT file_sha256, file, source_row, id_number, name, file_township AS township_code,"
        f" village_code FROM survey_return_input i WHERE NOT {_judged_sql('i')}"
        " ORDER BY file, file_sha256, source_row"
    ).assign(person_id=None, outcome=None, verdict="not_returned", reason="核实情况为空（未回收）")
    log = pd.concat([verdicts, blanks, pd.DataFrame(errors)], ignore_index=True)
    log = log.reindex(
        columns=[
            "file_sha256",
            "file",
            "source_row",
            "person_id",
            "id_number",
            "name",
            "township_code",
            "village_code",
            "outcome",
            "verdict",
            "reason",
            "column",
        ]
    )
    log = log.sort_values(["file", "source_row"], kind="stable").reset_index(drop=True)
    log.insert(2, "period", pd.Timestamp(ctx.period))
    log["period"] = log["period"].astype("datetime64[s]")
    log = log.astype({"source_row": "int64"})
    engine.register_df("survey_return_log_new", log)
    engine.execute("BEGIN TRANSACTION")
    try:
        engine.execute(_log_insert_sql())
        engine.execute(_results_insert_sql(), [ctx.period])
        engine.execute(_tasks_rejected_sql(), [ctx.period])
        engine.execute(_tasks_returned_sql(), [ctx.period])
        engine.execute("COMMIT")
    except Exception:
        engine.execute("ROLLBACK")
        raise
    shas = pd.DataFrame(run_files, columns=["file_sha256", "file"])
    engine.register_df("survey_return_files", shas)
    engine.execute(_rejects_sql())
    counts = engine.query_df("""
        SELECT verdict, count(*) AS n FROM survey_return_rows r
        JOIN survey_return_files f USING (file_sha256) WHERE r.source_row > 0
        GROUP BY verdict ORDER BY verdict""")
    by = dict(zip(counts["verdict"], counts["n"].astype(int), strict=True))
    return {
        "files": len(run_files) + same_content,
        "already_imported_files": sum(1 for s, _ in run_files if s in known),
        "same_content_files": same_content,
        "rows": sum(by.values()),
        "accepted": by.get("accepted", 0),
        "rejected": by.get("rejected", 0),
        "not_returned": by.get("not_returned", 0),
        "duplicate": by.get("duplicate", 0),
        "file_errors": int(
            engine.scalar(
                "SELECT count(*) FROM survey_return_rows JOIN survey_return_files USING (file_sha256) "
                "WHERE source_row = 0"
            )
        ),
    }


def _log_insert_sql() -> str:
    cols = (
        "file_sha256, file, period, source_row, person_id, id_number, name, township_code,"
        ' village_code, outcome, verdict, reason, "column"'
    )
    return f"INSERT INTO survey_return_rows ({cols}) SELECT {cols} FROM survey_return_log_new"


def _results_insert_sql() -> str:
    """Accepted rows → survey_results (param: period)."""
    return """INSERT INTO survey_results
        SELECT c.person_id, ?::DATE, c.file, c.source_row, c.outcome, c.outcome_code, c.exemption,
               c.insured_family, c.insured_status, c.reported_deceased, c.uninsured_reason, c.phone,
               c.actual_address, c.note, c.collector, c.collected_date, c.task_batch,
               c.village_code, c.file_sha256
        FROM survey_return_checked c JOIN survey_return_log_new l
            ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
        WHERE l.verdict = 'accepted' ORDER BY c.file, c.source_row"""


def _tasks_rejected_sql() -> str:
    """An open task whose return was rejected stays open, marked 'rejected' (param: period)."""
    return """UPDATE survey_tasks t SET status = 'rejected', result = x.reason, result_period = ?
        FROM (SELECT c.person_id, c.task_batch, arg_min(l.reason, (l.file, l.source_row)) AS reason
              FROM survey_return_checked c JOIN survey_return_log_new l
                  ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
              WHERE l.verdict = 'rejected' AND c.is_open GROUP BY ALL) x
        WHERE t.person_id = x.person_id AND t.batch = x.task_batch
          AND t.status IN ('issued', 'rejected')"""


def _tasks_returned_sql() -> str:
    """Accepted rows close their task as 'returned' (param: period)."""
    return """UPDATE survey_tasks t SET status = 'returned', result = c.outcome, result_period = ?
        FROM survey_return_checked c JOIN survey_return_log_new l
            ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
        WHERE l.verdict = 'accepted' AND t.person_id = c.person_id AND t.batch = c.task_batch"""


def _rejects_sql() -> str:
    """This run's rejected rows (from the log, so a re-import reports the same rows)."""
    return """CREATE OR REPLACE TABLE survey_rejects AS
        SELECT f.file, r.source_row, r.person_id, r.id_number, r.name, r.reason,
               r.township_code, r.village_code, r.outcome, r."column"
        FROM survey_return_rows r JOIN survey_return_files f USING (file_sha256)
        WHERE r.verdict = 'rejected'
        QUALIFY row_number() OVER (PARTITION BY r.file_sha256, r.source_row ORDER BY r.period) = 1
        ORDER BY f.file, r.source_row"""


REJECTION_COLUMNS: tuple[Column, ...] = (
    Column("序号", "seq", 6),
    Column("文件", "file", 30),
    Column("行号", "source_row", 6),
    Column("村社区代码", "village_code", 14),
    Column("姓名", "name", 10),
    Column("身份证号码", "id_masked", 21),
    Column("核实情况", "outcome", 14),
    Column("退回原因", "reason", 48),
)


def _clip(v: Any, limit: int = 200) -> Any:
    """A cell of the 退回清单: a 10,000-character value cut, so the list stays a list."""
    if isinstance(v, str) and len(v) > limit:
        return v[:limit] + f"…（共{len(v)}字）"
    return v


def write_rejections(
    rej: pd.DataFrame, folder: Path, towns: dict[str, str], period: dt.date
) -> int:
    """One 退回清单 per township (IDs masked); returns the number of files written."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from canbao.rosters import (
        BORDER,
        FastRows,
        _header,
        _print_setup,
        _title_rows,
        fixed_time,
        row_height,
        save_workbook_fixed,
    )

    if folder.exists():
        for old in folder.glob("*.xlsx"):
            old.unlink()  # this stage's own output of an earlier run
    if rej.empty:
        return 0
    rej = rej.assign(
        township_code=rej["township_code"].fillna(""), id_masked=rej["id_number"].map(mask_id)
    )
    n = 0
    for tcode, tdf in rej.groupby("township_code", sort=True):
        wb = Workbook()
        ws = wb.active
        ws.title = "退回清单"
        tname = towns.get(tcode, "")
        _title_rows(
            ws,
            f"{tname or tcode or '未识别乡镇'} 入户调查回收表退回清单",
            f"乡镇街道：{tname}（{tcode}）　导入日期：{period.isoformat()}　共 {len(tdf)} 行，"
            "请按退回原因更正后重新报送",
            len(REJECTION_COLUMNS),
        )
        _header(ws, 3, REJECTION_COLUMNS)
        fast = FastRows(ws)
        looks = [
            fast.style(
                str(c.field == "reason"),
                font=Font(name=FONT, size=10),
                border=BORDER,
                alignment=Alignment(wrap_text=c.field == "reason", vertical="center"),
            )
            for c in REJECTION_COLUMNS
        ]
        width = REJECTION_COLUMNS[-1].width
        for i, rec in enumerate(tdf.to_dict("records"), start=4):
            rec["seq"] = i - 3
            fast.row(
                i,
                [_clip(rec.get(c.field)) for c in REJECTION_COLUMNS],
                looks,
                row_height([(rec.get("reason"), width)]),
            )
        _print_setup(
            ws, landscape=True, title_rows="1:3", header=f"{tname} 退回清单 {period.isoformat()}"
        )
        name = _place(tcode, towns, "未识别乡镇")
        save_workbook_fixed(wb, folder / f"{name}.xlsx", fixed_time(period))
        n += 1
    return n


def import_returns_cli(period_dir: Path, out_root: Path, params_dir: Path) -> int:
    """``canbao import-returns``: validate and import one period's returns into its registry."""
    ctx = period_context(Path(period_dir), Path(out_root))
    cfg = load_config(ctx.district_code, Path(params_dir))
    if not ctx.registry_path.exists():
        raise InputError(
            str(ctx.registry_path), "no registry yet: run `canbao run` for this district first"
        )
    engine = open_engine("duckdb", ctx.registry_path)
    try:
        res = import_returns(engine, cfg, ctx)
    finally:
        engine.close()
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    return 0


__all__ = [
    "OUTCOME_RULES",
    "batch_label",
    "ensure_tables",
    "file_township",
    "import_returns",
    "import_returns_cli",
    "issue_rosters",
    "parse_batch",
    "parse_date",
    "read_return_file",
    "write_rejections",
]
