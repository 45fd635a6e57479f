"""Clerical review (人工核对): the uncertain band out as a workbook, decisions back in.

The workbook leaves the registry office, so IDs are masked (contract §5). A
reviewer's 判定 is keyed on the row's content (source, file, raw ID, raw name,
birth date) rather than its row number, so it survives re-exports and reordered
extracts; decisions are kept in the registry table ``review_decisions``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from canbao.core.context import is_folder_noise
from canbao.core.engine import Engine, transaction
from canbao.core.errors import InputError
from canbao.core.privacy import mask_id
from canbao.linkage.inputs import row_key_sql

DECISIONS_TABLE = "review_decisions"
YES, NO = "是", "否"

# (header, column in the review frame); the key column is hidden in the sheet.
SHEET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("序号", "seq"),
    ("核对键", "review_key"),
    ("来源", "source"),
    ("文件", "file"),
    ("行号", "source_row"),
    ("个人编号", "member_no"),
    ("证件号码(本行)", "row_id_masked"),
    ("姓名(本行)", "row_name"),
    ("性别(本行)", "row_sex"),
    ("出生日期(本行)", "row_birth"),
    ("候选人员编号", "person_id"),
    ("证件号码(公安)", "person_id_masked"),
    ("姓名(公安)", "person_name"),
    ("性别(公安)", "person_sex"),
    ("出生日期(公安)", "person_birth"),
    ("村社区代码", "village_code"),
    ("匹配概率", "match_probability"),
    ("匹配权重", "match_weight"),
    ("依据(各项权重)", "why"),
    ("判定", "decision"),
    ("备注", "note"),
)
SHEET_NAME = "人工核对"


# Reviewers' 判定 are keyed on these (hidden 核对键 column of returned workbooks).
REVIEW_KEY_COLUMNS = ("source", "file", "id_raw", "name_raw", "birth_date")


def review_key_sql(alias: str = "r") -> str:
    """The content key of a link row (hex md5 of source, file, raw ID, raw name, birth)."""
    return row_key_sql(alias, REVIEW_KEY_COLUMNS)


def create_decisions_sql() -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {DECISIONS_TABLE} (review_key VARCHAR, "
        "person_id VARCHAR, decision VARCHAR, match_probability DOUBLE, "
        "source VARCHAR, file VARCHAR, source_row INTEGER, name VARCHAR, workbook VARCHAR)"
    )


def _norm_decision(value: object) -> str | None:
    s = str(value or "").strip().upper()
    if s in {"是", "Y", "YES", "1", "√"}:
        return YES
    if s in {"否", "N", "NO", "0", "×"}:
        return NO
    return None


def _int_or_none(v: object) -> int | None:
    try:
        return int(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def read_decision_workbook(path: Path) -> pd.DataFrame:
    """Filled 判定 rows of one returned workbook (key, person, decision, probability)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, ())]
        need = {"核对键", "候选人员编号", "判定", "匹配概率"}
        missing = need - set(header)
        if missing:
            raise InputError(path.name, f"核对表缺少列: {', '.join(sorted(missing))}")
        ix = {h: i for i, h in enumerate(header)}
        out = []
        for n, row in enumerate(rows, start=1):
            decision = _norm_decision(row[ix["判定"]])
            if decision is None or not row[ix["核对键"]]:
                continue
            out.append(
                {
                    "review_key": str(row[ix["核对键"]]),
                    "person_id": str(row[ix["候选人员编号"]] or ""),
                    "decision": decision,
                    "match_probability": float(row[ix["匹配概率"]] or 0.0),
                    "source": row[ix["来源"]] if "来源" in ix else None,
                    "file": row[ix["文件"]] if "文件" in ix else None,
                    "source_row": _int_or_none(row[ix["行号"]]) if "行号" in ix else None,
                    "name": row[ix["姓名(本行)"]] if "姓名(本行)" in ix else None,
                    "workbook": path.name,
                    "_order": n,
                }
            )
    finally:
        wb.close()
    return pd.DataFrame(
        out,
        columns=[
            "review_key",
            "person_id",
            "decision",
            "match_probability",
            "source",
            "file",
            "source_row",
            "name",
            "workbook",
            "_order",
        ],
    )


def import_decisions(engine: Engine, decisions_dir: Path) -> int:
    """Upsert every returned workbook's decisions into ``review_decisions``.

    Workbooks are read in name order; a later decision on the same (key, person)
    replaces an earlier one. Returns the number of decisions read.
    """
    engine.execute(create_decisions_sql())
    files = sorted(Path(decisions_dir).glob("*.xlsx")) if Path(decisions_dir).is_dir() else []
    frames = [read_decision_workbook(p) for p in files if not is_folder_noise(Path(p.name))]
    frames = [f for f in frames if len(f)]
    if not frames:
        return 0
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(["review_key", "person_id"], keep="last").drop(columns="_order")
    engine.register_df("_review_decisions_in", df)
    with transaction(engine):  # a killed run leaves all or none of the upsert
        engine.execute(
            f"DELETE FROM {DECISIONS_TABLE} WHERE (review_key, person_id) IN "
            "(SELECT (review_key, person_id) FROM _review_decisions_in)"
        )
        engine.execute(
            f"INSERT INTO {DECISIONS_TABLE} SELECT review_key, person_id, decision, "
            "match_probability, source, file, CAST(source_row AS INTEGER), name, workbook "
            "FROM _review_decisions_in"
        )
    engine.execute("DROP TABLE _review_decisions_in")
    return len(df)


def why_text(row: pd.Series, labels: dict[str, dict[int, str]], titles: dict[str, str]) -> str:
    """'姓名: 同音 +5.1; 出生日期: 一致 +14.2; …' from a prediction row's gamma/mw columns."""
    parts = []
    for col, by_gamma in labels.items():
        g = row.get(f"gamma_{col}")
        w = row.get(f"mw_{col}")
        if g is None or pd.isna(g):
            continue
        tf = row.get(f"mw_tf_adj_{col}")
        weight = float(w or 0.0) + (float(tf) if tf is not None and not pd.isna(tf) else 0.0)
        parts.append(f"{titles[col]}: {by_gamma.get(int(g), str(g))} {weight:+.1f}")
    return "; ".join(parts)


def write_review_workbook(df: pd.DataFrame, path: Path, period: dt.date) -> Path:
    """The clerical-review workbook: both records side by side, masked IDs, a 判定
    drop-down (是/否). Timestamps are fixed to the period so reruns are byte-identical."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    df = df.copy()
    df["row_id_masked"] = df["row_id_raw"].map(lambda v: mask_id(v) if isinstance(v, str) else "")
    df["person_id_masked"] = df["person_id_number"].map(
        lambda v: mask_id(v) if isinstance(v, str) else ""
    )
    df["seq"] = range(1, len(df) + 1)
    df["decision"] = ""
    df["note"] = ""

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    headers = [h for h, _ in SHEET_COLUMNS]
    ws.append(headers)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    for rec in df.itertuples(index=False):
        values = []
        for _, col in SHEET_COLUMNS:
            v = getattr(rec, col)
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                v = ""
            elif isinstance(v, dt.date | pd.Timestamp):
                v = pd.Timestamp(v).strftime("%Y-%m-%d")
            elif col == "match_probability":
                v = round(float(v), 6)
            elif col == "match_weight":
                v = round(float(v), 2)
            elif col in ("seq", "source_row"):
                v = int(v)
            values.append(v)
        ws.append(values)
    col_of = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(headers)}
    dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
    dv.error = "请选择 是 或 否"
    dv.prompt = "是 = 同一人, 否 = 不是同一人"
    ws.add_data_validation(dv)
    last = max(len(df) + 1, 2)
    dv.add(f"{col_of['判定']}2:{col_of['判定']}{max(last, 500)}")
    ws.column_dimensions[col_of["核对键"]].hidden = True
    widths = {"文件": 18, "依据(各项权重)": 70, "证件号码(本行)": 21, "证件号码(公安)": 21}
    for h, letter in col_of.items():
        ws.column_dimensions[letter].width = widths.get(h, max(10, len(h) * 2 + 2))
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{col_of['备注']}{last}"
    stamp = dt.datetime.combine(period, dt.time(0, 0))
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "canbao"
    wb.properties.lastModifiedBy = "canbao"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _fix_zip_times(path, stamp)
    return path


def _fix_zip_times(path: Path, stamp: dt.datetime) -> None:
    """openpyxl stamps the zip members and ``modified`` with the wall clock at save;
    rewrite both with ``stamp``."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zin:
        members = [(i, zin.read(i.filename)) for i in zin.infolist()]
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    members = [
        (
            i,
            re.sub(
                rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                rb"\g<1>" + iso + rb"\g<2>",
                data,
            ),
        )
        if i.filename == "docProps/core.xml"
        else (i, data)
        for i, data in members
    ]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            zi = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            zout.writestr(zi, data)
    tmp.replace(path)
