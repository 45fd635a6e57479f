"""The provincial 批量导入 file: the period's surveyed people, ready for the 人社 system.

After the household survey a district enters what it learned into the provincial
全民参保登记 database. Instead of a clerk retyping every surveyed person, each period
writes ``reports/<district>/<period>/import/批量导入_<district>_<period>.xlsx`` and the
same rows as CSV (GB18030 unless params say otherwise): one row per person whose
survey return was accepted this period, with the columns and codes of the province's
template (params ``provincial_import``; the 湖南 template by default).

The file carries full ID numbers: it goes to the 人社 system only, never to a
township. It holds nothing else of anyone: only the columns the layout names.

Who is in it is decided in the registry commit (stage 7), in the same transaction
that applies the period's survey returns, and kept in the persistent table
``provincial_exports`` (period, person_id, entry, outcome, file, source_row,
file_sha256, previous_period): a person whose accepted result (核实情况) equals what an
earlier period exported is left out; a person never exported is ``new`` (新增); one
whose result changed is a ``correction`` (更正). Re-running a period rebuilds its own
rows from its own returns, so the file comes out the same, and no later period enters
anyone twice. The files are written after the commit (:func:`write_import_file`).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from pathlib import Path

import pandas as pd

from canbao.core.catalog import has_table, table_columns
from canbao.core.config import IMPORT_FIELDS, Config, ProvincialImportConfig
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.core.errors import CanbaoError
from canbao.core.xlsx import fixed_time, write_text_table
from canbao.survey.tables import ensure_tables
from canbao.survey.vocabulary import OUTCOMES

TABLE = "provincial_exports"
IMPORT_DIR = "import"
ENTRY_LABELS = {"new": "新增", "correction": "更正"}


def file_stem(district_code: str, period: dt.date) -> str:
    return f"批量导入_{district_code}_{period.isoformat()}"


def import_paths(ctx: PeriodContext) -> tuple[Path, Path]:
    """(xlsx, csv) of the period's 批量导入 file."""
    stem = ctx.out_dir / IMPORT_DIR / file_stem(ctx.district_code, ctx.period)
    return stem.with_suffix(".xlsx"), stem.with_suffix(".csv")


def code_table(params: ProvincialImportConfig) -> tuple[tuple[str, str], ...]:
    """核实情况 → ``状态/原因``: the roster's table (:data:`canbao.survey.vocabulary.OUTCOMES`, shown on
    its hidden list sheet) with the params' overrides; the one table rosters, the import
    of returns and this file use."""
    return tuple((outcome, params.codes.get(outcome, code)) for outcome, code in OUTCOMES)


def import_codes(params: ProvincialImportConfig) -> dict[str, tuple[str, str]]:
    """核实情况 → (参保意愿/状态, 原因/身份)."""
    return {o: (c.split("/", 1)[0], c.split("/", 1)[1]) for o, c in code_table(params)}


# ---------------------------------------------------------------- the record (stage 7)


def create_table_sql() -> str:
    return f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        period DATE, person_id VARCHAR, entry VARCHAR, outcome VARCHAR, file VARCHAR,
        source_row INTEGER, file_sha256 VARCHAR, previous_period DATE)"""


_RESULT_COLUMNS = {"person_id", "period", "outcome", "file", "source_row", "file_sha256"}


def can_record(engine: Engine) -> bool:
    """Whether the registry holds survey results in the persistent layout (a registry
    from before the survey, or a test's bare table, has nothing to record)."""
    return set(table_columns(engine, "survey_results")) >= _RESULT_COLUMNS


def record_exports_sql() -> list[str]:
    """Who this period's file holds, run inside the registry commit (each takes ``[period]``).

    A person's accepted result of the period (their last row, should a re-import have
    added two) is exported unless the latest earlier export gave the same 核实情况;
    the period's own earlier rows are replaced, so a re-run records the same rows.
    """
    return [
        f"DELETE FROM {TABLE} WHERE period = CAST($1 AS DATE)",
        f"""INSERT INTO {TABLE}
        WITH cur AS (
            SELECT person_id, outcome, file, source_row, file_sha256
            FROM survey_results WHERE period = CAST($1 AS DATE)
            QUALIFY row_number() OVER (PARTITION BY person_id
                ORDER BY file DESC, source_row DESC, file_sha256 DESC) = 1),
        prev AS (
            SELECT person_id, arg_max(outcome, period) AS outcome, max(period) AS period
            FROM {TABLE} WHERE period < CAST($1 AS DATE) GROUP BY person_id)
        SELECT CAST($1 AS DATE), c.person_id,
               CASE WHEN p.person_id IS NULL THEN 'new' ELSE 'correction' END,
               c.outcome, c.file, c.source_row, c.file_sha256, p.period
        FROM cur c LEFT JOIN prev p USING (person_id)
        WHERE p.outcome IS DISTINCT FROM c.outcome
        ORDER BY c.person_id""",
    ]


# ---------------------------------------------------------------- the rows


def _field_sql(params: ProvincialImportConfig) -> dict[str, str]:
    """SQL of every field a column may name (aliases: e export, s result, t task, h history)."""
    idn = "coalesce(t.id_number, h.id_number)"
    division = "s.village_code"
    urban = (
        f"(substr({division}, 7, 3) BETWEEN '001' AND '099'"  # a 街道 (GB/T 10114)
        f" OR substr({division}, 10, 3) BETWEEN '001' AND '199')"  # a 社区 (居委会)
    )
    fields = {
        "name": "coalesce(h.name, t.name)",
        "id_number": idn,
        "sex": f"CASE WHEN TRY_CAST(substr({idn}, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END",
        "birth_date": f"substr({idn}, 7, 8)",
        "ethnicity": "CASE WHEN regexp_full_match(coalesce(h.ethnicity, ''), '[0-9]{2}')"
        f" THEN h.ethnicity ELSE {_quote(params.ethnicity_default)} END",
        "status_code": "c.status_code",
        "reason_code": "c.reason_code",
        "outcome": "e.outcome",
        "hukou_kind": f"CASE WHEN {urban} THEN {_quote(params.hukou_urban)}"
        f" ELSE {_quote(params.hukou_rural)} END",
        "division": division,
        "township_code": f"left({division}, 9)",
        "collector": "s.collector",
        "collected_date": "strftime(s.collected_date, '%Y%m%d')",
        "address": "h.address",
        "phone": "s.phone",
        "actual_address": "s.actual_address",
        "uninsured_reason": "s.uninsured_reason",
        "note": "s.note",
        "entry": "CASE e.entry WHEN 'new' THEN '新增' ELSE '更正' END",
    }
    assert set(fields) == set(IMPORT_FIELDS), "every params field has its SQL"
    return fields


def import_rows_sql(params: ProvincialImportConfig) -> str:
    """The period's rows in file order (区划, then ID), one column per layout column.

    Param: ``$1`` period (the params' texts are quoted in).
    """
    fields = _field_sql(params)
    select = ",\n            ".join(
        f"coalesce(CAST({fields[c['field']]} AS VARCHAR), '') AS c{k}"
        if "field" in c
        else f"{_quote(c['value'])} AS c{k}"
        for k, c in enumerate(params.columns)
    )
    return f"""
        WITH e AS (SELECT * FROM {TABLE} WHERE period = $1),
        h AS (
            SELECT person_id, arg_max(name, period) AS name,
                   arg_max(id_number, period) AS id_number,
                   arg_max(address, period) AS address, arg_max(ethnicity, period) AS ethnicity
            FROM registry_history
            WHERE period <= $1 AND person_id IN (SELECT person_id FROM e)
            GROUP BY person_id)
        SELECT {select}
        FROM e
        JOIN survey_results s ON s.period = e.period AND s.person_id = e.person_id
            AND s.file = e.file AND s.source_row = e.source_row
            AND s.file_sha256 IS NOT DISTINCT FROM e.file_sha256
        JOIN {codes_sql(params)} c ON c.outcome = e.outcome
        LEFT JOIN survey_tasks t ON t.person_id = e.person_id AND t.batch = s.batch
        LEFT JOIN h ON h.person_id = e.person_id
        ORDER BY s.village_code, {fields["id_number"]}, e.person_id"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def codes_sql(params: ProvincialImportConfig) -> str:
    """The code table as a relation (outcome, status_code, reason_code); its texts were
    checked when the params loaded, and are quoted here all the same."""
    rows = ", ".join(
        f"({_quote(o)}, {_quote(st)}, {_quote(rs)})" for o, (st, rs) in import_codes(params).items()
    )
    return f"(SELECT * FROM (VALUES {rows}) v(outcome, status_code, reason_code))"


def import_rows(engine: Engine, cfg: Config, period: dt.date) -> pd.DataFrame:
    """The period's 批量导入 rows as text, columns titled by the layout."""
    params = cfg.provincial_import
    titles = [c["title"] for c in params.columns]
    if not has_table(engine, "registry_history"):  # nothing committed yet: nobody to export
        return pd.DataFrame(columns=titles, dtype=object)
    ensure_tables(engine)
    engine.execute(create_table_sql())
    missing = engine.query_df(
        f"""SELECT e.outcome, count(*) AS people FROM {TABLE} e
            LEFT JOIN {codes_sql(params)} c ON c.outcome = e.outcome
            WHERE e.period = ? AND c.outcome IS NULL
            GROUP BY e.outcome ORDER BY e.outcome""",
        [period],
    )
    if len(missing):
        raise CanbaoError(
            "provincial_import_no_code",
            outcome=str(missing.iloc[0]["outcome"]),
            people=int(missing.iloc[0]["people"]),
        )
    df = engine.query_df(
        import_rows_sql(params),
        [period],
    )
    df.columns = titles
    return df.astype(object)


# ---------------------------------------------------------------- the files (after stage 7)


def write_import_file(engine: Engine, cfg: Config, ctx: PeriodContext) -> dict:
    """Write the period's 批量导入 xlsx and CSV (header only when nobody is due).

    Returns counts: rows (= new + corrections), new, corrections, accepted (persons
    with a return accepted this period), unchanged (accepted, same result as already
    exported, so left out), and the two paths.
    """
    ensure_tables(engine)
    engine.execute(create_table_sql())
    df = import_rows(engine, cfg, ctx.period)
    xlsx, csv_path = import_paths(ctx)
    params = cfg.provincial_import
    write_xlsx(df, xlsx, params.sheet, fixed_time(ctx.period))
    write_csv(df, csv_path, params.encoding)
    counts = engine.query_df(
        f"""SELECT
            (SELECT count(*) FROM {TABLE} WHERE period = ? AND entry = 'new') AS new,
            (SELECT count(*) FROM {TABLE} WHERE period = ? AND entry = 'correction') AS corrections,
            (SELECT count(DISTINCT person_id) FROM survey_results WHERE period = ?) AS accepted""",
        [ctx.period] * 3,
    ).iloc[0]
    new, corr, accepted = (int(counts[k]) for k in ("new", "corrections", "accepted"))
    return {
        "rows": len(df),
        "new": new,
        "corrections": corr,
        "accepted": accepted,
        "unchanged": accepted - new - corr,
        "xlsx": xlsx,
        "csv": csv_path,
    }


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str, when: dt.datetime) -> Path:
    """Every cell text (codes keep their leading zeros, IDs never become numbers), through
    the one deterministic writer, so the same period gives the same bytes."""
    rows = [list(r) for r in df.itertuples(index=False)]
    return write_text_table(path, list(df.columns), rows, when, sheet=sheet)


def write_csv(df: pd.DataFrame, path: Path, encoding: str) -> Path:
    """The same rows as CSV in the provincial system's encoding; a character it lacks
    stops the file with the row and column named (never a silent ``?``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(df.columns)
    out = [buf.getvalue().encode(encoding)]
    for k, row in enumerate(df.itertuples(index=False), start=1):
        buf.seek(0)
        buf.truncate()
        writer.writerow(row)
        try:
            out.append(buf.getvalue().encode(encoding))
        except UnicodeEncodeError:
            column = next(
                c for c, v in zip(df.columns, row, strict=True) if not _encodes(v, encoding)
            )
            raise CanbaoError(
                "provincial_import_unencodable", encoding=encoding, row=k, column=column
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(out))
    return path


def _encodes(value: object, encoding: str) -> bool:
    try:
        str(value).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------- for the report and front page


def file_rows(xlsx: Path) -> int:
    """Data rows of a written 批量导入 workbook (its header not counted)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(xlsx))
    rows = wb.get_sheet_by_index(0).to_python()
    return max(len(rows) - 1, 0)


def file_links_html(ctx: PeriodContext) -> str:
    """Links to the period's two files with the row count, for the district report (its
    HTML and notebook sit one folder below the period's, as ``import/`` does)."""
    xlsx, csv_path = import_paths(ctx)
    if not xlsx.exists():
        return "<p>本期没有写出批量导入文件。</p>"

    def link(path: Path) -> str:
        href = html.escape(f"../{IMPORT_DIR}/{path.name}", quote=True)
        return f'<a href="{href}">{html.escape(path.name)}</a>'

    return (
        f"<p>批量导入文件：{link(xlsx)}（{file_rows(xlsx):,} 行），同内容 CSV：{link(csv_path)}。"
        "文件含完整身份证号码，只用于导入人社系统，不得发给乡镇街道。</p>"
    )


def import_summary(engine: Engine, ctx: PeriodContext) -> pd.DataFrame:
    """The period's file in figures (no person in it): for the district report."""
    new = corr = accepted = 0
    if has_table(engine, TABLE):
        counts = engine.query_df(
            f"""SELECT coalesce(count_if(entry = 'new'), 0) AS new,
                       coalesce(count_if(entry = 'correction'), 0) AS corr
                FROM {TABLE} WHERE period = ?""",
            [ctx.period],
        ).iloc[0]
        new, corr = int(counts["new"]), int(counts["corr"])
    if has_table(engine, "survey_results"):
        accepted = int(
            engine.query_df(
                "SELECT count(DISTINCT person_id) AS n FROM survey_results WHERE period = ?",
                [ctx.period],
            ).iloc[0]["n"]
        )
    return pd.DataFrame(
        {
            "项目": [
                "本期回收合格（人）",
                "导出行数",
                "其中新增",
                "其中更正",
                "结果未变、不再导出",
            ],
            "数量": [accepted, new + corr, new, corr, accepted - new - corr],
        }
    )
