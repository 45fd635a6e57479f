"""Field-level problems in loaded rows: a value the row keeps loading without.

A row whose 出生日期 is ``1990-02-30`` or after the extract date, whose 性别 is ``9``,
whose 险种类型 or 参保状态 is outside the lists, or whose field says ``不详`` is not a
rejected row (the person is still somebody), but the field is read as empty or as the
neutral case. Each such field is listed once, by file, row and column, in the table
``field_issues`` and the export ``exports/field_issues.csv`` beside ``rejects.csv``,
with a stable reason code and its Chinese text (:mod:`canbao.core.messages`).
"""

from __future__ import annotations

import datetime as dt

from canbao.core import messages

FIELD_ISSUE_COLUMNS = ("file", "source_row", "column", "value", "reason", "reason_text")
REASONS = (
    "value_unknown",
    "date_invalid",
    "date_future",
    "sex_code_unknown",
    "scheme_code_unknown",
    "status_code_unknown",
)
# A field that says "not known" in words: no value, and not a typo either.
UNKNOWN_RE = r"^\s*(不详|未知|不明|待定|暂无|无|空|null|NULL|N/?A|-+|/|\?+|？+)\s*$"

# (raw table, raw column, contract header) per kind of field checked.
DATES = (
    ("raw_hukou", "birth_raw", "出生日期"),
    ("raw_hukou", "status_date_raw", "状态变更日期"),
    ("raw_residents", "birth_raw", "出生日期"),
    ("raw_residents", "registered_raw", "登记日期"),
    ("raw_enrollment", "birth_raw", "出生日期"),
    ("raw_enrollment", "enroll_date_raw", "参保日期"),
)
# (raw table, raw column, contract header, map, "is unknown" test on the map row, reason)
CODES = (
    ("raw_hukou", "sex_raw", "性别", "sex", "m.code IS NULL", "sex_code_unknown"),
    ("raw_residents", "sex_raw", "性别", "sex", "m.code IS NULL", "sex_code_unknown"),
    ("raw_enrollment", "sex_raw", "性别", "sex", "m.code IS NULL", "sex_code_unknown"),
    ("raw_enrollment", "scheme_raw", "险种类型", "scheme", "m.code IS NULL", "scheme_code_unknown"),
    ("raw_national_match", "scheme_raw", "险种类型", "scheme", "m.code IS NULL",
     "scheme_code_unknown"),
    ("raw_enrollment", "enroll_status_raw", "参保状态", "enroll", "m.code IS NULL",
     "status_code_unknown"),
    ("raw_national_match", "enroll_status_raw", "参保状态", "enroll", "m.code IS NULL",
     "status_code_unknown"),
    ("raw_enrollment", "benefit_status_raw", "待遇享受状态", "benefit", "m.code IS NULL",
     "status_code_unknown"),
    ("raw_hukou", "hukou_status_raw", "户籍状态", "life", "NOT m.known", "status_code_unknown"),
)  # fmt: skip


def _reason_text_sql() -> str:
    whens = " ".join(f"WHEN '{c}' THEN '{messages.text(c)}'" for c in REASONS)
    return f"CASE reason {whens} END"


def field_issues_sql(map_prefix: str, ref_date: dt.date) -> str:
    """CREATE the ``field_issues`` table from the raw tables and the cleaning maps."""
    ref = f"DATE '{ref_date.isoformat()}'"
    parts = []
    for table, col, header in DATES:
        parts.append(f"""
        SELECT r.file, r.source_row, '{header}' AS "column", r.{col} AS value,
               CASE WHEN regexp_matches(r.{col}, '{UNKNOWN_RE}') THEN 'value_unknown'
                    WHEN m.d IS NULL THEN 'date_invalid'
                    ELSE 'date_future' END AS reason
        FROM {table} r LEFT JOIN {map_prefix}date m ON m.raw = r.{col}
        WHERE r.{col} IS NOT NULL AND (m.d IS NULL OR CAST(m.d AS DATE) > {ref})""")
    for table, col, header, kind, unknown, reason in CODES:
        parts.append(f"""
        SELECT r.file, r.source_row, '{header}' AS "column", r.{col} AS value,
               CASE WHEN regexp_matches(r.{col}, '{UNKNOWN_RE}') THEN 'value_unknown'
                    ELSE '{reason}' END AS reason
        FROM {table} r LEFT JOIN {map_prefix}{kind} m ON m.raw = r.{col}
        WHERE r.{col} IS NOT NULL AND ({unknown.replace("m.known", "coalesce(m.known, FALSE)")})""")
    union = " UNION ALL ".join(parts)
    return f"""
        CREATE OR REPLACE TABLE field_issues AS
        SELECT file, CAST(source_row AS INTEGER) AS source_row, "column", value, reason,
               {_reason_text_sql()} AS reason_text
        FROM ({union})
        ORDER BY file, source_row, "column", reason"""


def field_issues_csv_sql() -> str:
    """``exports/field_issues.csv``: every column text, in a total order."""
    return """
    SELECT file, CAST(source_row AS VARCHAR) AS source_row, "column", value, reason, reason_text
    FROM field_issues ORDER BY file, source_row, "column", reason, value
    """
