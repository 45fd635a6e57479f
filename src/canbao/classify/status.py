"""Stage 6: each person's coverage and registration, and the period's findings.

Rules are in :mod:`canbao.classify.eligibility` and :mod:`canbao.classify.findings`; this module only
prepares the row sets (enrollment / national_match / students rows with the person
each is linked to, the accepted survey return per person) and runs them in order:
findings first, because ``needs_correction`` depends on them.
"""

from __future__ import annotations

from canbao.classify import eligibility as el
from canbao.classify.findings import build_findings
from canbao.core.catalog import table_columns, table_names
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.survey.tables import STAGED, with_staged_sql

SURVEY_COLUMNS: tuple[str, ...] = ("outcome", "exemption")


def _empty_links_sql() -> str:
    return (
        "CREATE OR REPLACE TEMP TABLE _cl_links AS SELECT CAST(NULL AS VARCHAR) AS source, "
        "CAST(NULL AS VARCHAR) AS file, CAST(NULL AS INTEGER) AS source_row, "
        "CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS method, "
        "CAST(NULL AS VARCHAR) AS repair WHERE false"
    )


def links_sql() -> str:
    """One link per (source, file, row): the links table, deduplicated defensively."""
    return """
    CREATE OR REPLACE TEMP TABLE _cl_links AS
    SELECT source, file, source_row, person_id, method, repair FROM (
        SELECT *, row_number() OVER (PARTITION BY source, file, source_row
                                     ORDER BY person_id NULLS LAST, method) AS rn
        FROM links)
    WHERE rn = 1
    """


def enrollment_rows_sql() -> str:
    """Enrollment rows with their family, insured/active flags and linked person."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _cl_enr AS
    SELECT e.file, e.source_row, e.member_no, e.id_raw, e.id_number, e.id_status, e.id_reason,
           e.name, e.sex, e.birth_date, e.scheme, e.scheme_raw,
           TRY_CAST(e.enroll_status AS INTEGER) AS enroll_status,
           TRY_CAST(e.benefit_status AS INTEGER) AS benefit_status,
           {el.family_sql("e.scheme")} AS fam,
           {el.insured_sql("TRY_CAST(e.enroll_status AS INTEGER)", "TRY_CAST(e.benefit_status AS INTEGER)")} AS is_insured,
           {el.active_sql("TRY_CAST(e.enroll_status AS INTEGER)", "TRY_CAST(e.benefit_status AS INTEGER)")} AS is_active,
           l.person_id, l.method, l.repair
    FROM enrollment e
    LEFT JOIN _cl_links l ON l.source = 'enrollment' AND l.file = e.file
                         AND l.source_row = e.source_row
    """


def national_rows_sql() -> str:
    """national_match rows with family, counts (not 终止) and active flags, and person."""
    status = "TRY_CAST(n.enroll_status AS INTEGER)"
    return f"""
    CREATE OR REPLACE TEMP TABLE _cl_nm AS
    SELECT n.file, n.source_row, n.scheme, n.region_code, {status} AS enroll_status,
           {el.family_sql("n.scheme")} AS fam,
           {el.national_counts_sql(status)} AS is_counting,
           {el.national_active_sql(status)} AS is_active,
           l.person_id
    FROM national_match n
    JOIN _cl_links l ON l.source = 'national_match' AND l.file = n.file
                    AND l.source_row = n.source_row
    WHERE l.person_id IS NOT NULL
    """


def _empty_national_sql() -> str:
    return (
        "CREATE OR REPLACE TEMP TABLE _cl_nm AS SELECT CAST(NULL AS VARCHAR) AS file, "
        "CAST(NULL AS INTEGER) AS source_row, CAST(NULL AS VARCHAR) AS scheme, "
        "CAST(NULL AS VARCHAR) AS region_code, CAST(NULL AS INTEGER) AS enroll_status, "
        "CAST(NULL AS VARCHAR) AS fam, false AS is_counting, false AS is_active, "
        "CAST(NULL AS VARCHAR) AS person_id WHERE false"
    )


def _survey_value_sql(columns: list[str], col: str) -> str:
    return f"CAST({col} AS VARCHAR)" if col in columns else "CAST(NULL AS VARCHAR)"


def survey_sql(columns: list[str], source: str = "survey_results") -> str:
    """The accepted survey return per person: the latest up to the period ($1) when dated.

    ``source``: the table, or the persistent and staged results during a period run."""
    sel = ", ".join(f"{_survey_value_sql(columns, c)} AS {c}" for c in SURVEY_COLUMNS)
    dated = "period" in columns
    order = ["period DESC NULLS LAST"] if dated else []
    order += [f"{c} DESC NULLS LAST" for c in ("file", "source_row") if c in columns]
    order += [f"{c} NULLS LAST" for c in SURVEY_COLUMNS]
    where = "person_id IS NOT NULL" + (" AND period <= CAST($1 AS DATE)" if dated else "")
    return f"""
    CREATE OR REPLACE TEMP TABLE _cl_survey AS
    SELECT person_id, {", ".join(SURVEY_COLUMNS)} FROM (
        SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY {", ".join(order)}) AS rn
        FROM (SELECT person_id, {sel}{", period" if dated else ""}
                     {", file" if "file" in columns else ""}
                     {", source_row" if "source_row" in columns else ""}
              FROM {source} WHERE {where}))
    WHERE rn = 1
    """


def _empty_survey_sql() -> str:
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in SURVEY_COLUMNS)
    return (
        "CREATE OR REPLACE TEMP TABLE _cl_survey AS SELECT CAST(NULL AS VARCHAR) AS person_id, "
        f"{cols} WHERE false"
    )


def person_status_sql() -> str:
    """``person_status``: coverage per family and registration for every person ($1 = ref date)."""
    out = el.out_of_scope_sql("p.life_status")
    exempt_both = el.survey_exempt_both_sql("v.exemption")
    exempt_pension = el.survey_exempt_pension_sql("v.exemption")
    pension = el.coverage_sql(
        out_of_scope=out,
        local="coalesce(e.pension_local, false)",
        elsewhere="coalesce(n.pension_elsewhere, false)",
        exempt=f"({el.under_pension_age_sql('p.birth_date', 'CAST($1 AS DATE)')} "
        f"OR s.person_id IS NOT NULL OR {exempt_both} OR {exempt_pension})",
    )
    medical = el.coverage_sql(
        out_of_scope=out,
        local="coalesce(e.medical_local, false)",
        elsewhere="coalesce(n.medical_elsewhere, false)",
        exempt=exempt_both,
    )
    corr = ", ".join(f"'{c}'" for c in el.CORRECTION_FINDINGS)
    registration = el.registration_sql(
        out_of_scope=el.out_of_scope_sql("life_status"),
        surveyed="surveyed_id IS NOT NULL",
        pension="pension_status",
        medical="medical_status",
        needs_correction="correction_id IS NOT NULL",
    )
    return f"""
    CREATE OR REPLACE TABLE person_status AS
    WITH base AS (
        SELECT p.person_id, p.life_status,
               {pension} AS pension_status, {medical} AS medical_status,
               v.person_id AS surveyed_id, c.person_id AS correction_id
        FROM persons p
        LEFT JOIN (SELECT person_id,
                          bool_or(is_insured AND fam = 'pension') AS pension_local,
                          bool_or(is_insured AND fam = 'medical') AS medical_local
                   FROM _cl_enr WHERE person_id IS NOT NULL GROUP BY person_id) e
               USING (person_id)
        LEFT JOIN (SELECT person_id,
                          bool_or(is_counting AND fam = 'pension') AS pension_elsewhere,
                          bool_or(is_counting AND fam = 'medical') AS medical_elsewhere
                   FROM _cl_nm GROUP BY person_id) n USING (person_id)
        LEFT JOIN (SELECT DISTINCT l.person_id FROM _cl_links l
                   WHERE l.source = 'students' AND l.person_id IS NOT NULL) s
               USING (person_id)
        LEFT JOIN _cl_survey v USING (person_id)
        LEFT JOIN (SELECT DISTINCT person_id FROM _cl_findings
                   WHERE origin = 'enrollment' AND person_id IS NOT NULL
                     AND finding IN ({corr})) c USING (person_id))
    SELECT person_id, pension_status, medical_status,
           {registration} AS registration
    FROM base
    ORDER BY person_id
    """


def classify(engine: Engine, cfg: Config, ctx: PeriodContext) -> None:
    """Stage 6: write ``person_status`` and ``findings``.

    Args: the engine with persons, links, enrollment (+ optional national_match,
    students, employers, survey_results, survey_rejects, person_findings); config;
    context (its ref_date sets ages).
    """
    present = table_names(engine)
    if "links" in present:
        engine.execute(links_sql())
    else:
        engine.execute(_empty_links_sql())
    engine.execute(enrollment_rows_sql())
    if "national_match" in present:
        engine.execute(national_rows_sql())
    else:
        engine.execute(_empty_national_sql())
    survey_cols = table_columns(engine, "survey_results") if "survey_results" in present else []
    if survey_cols:
        # stage 5 stages this period's results; the registry commit makes them persistent
        source = (
            with_staged_sql("survey_results")
            if STAGED["survey_results"] in present
            else "survey_results"
        )
        engine.execute(
            survey_sql(survey_cols, source), [ctx.period] if "period" in survey_cols else None
        )
    else:
        engine.execute(_empty_survey_sql())
    build_findings(engine, present)
    engine.execute(person_status_sql(), [ctx.ref_date])
    engine.execute(
        "CREATE OR REPLACE TABLE findings AS "
        "SELECT finding, person_id, file, source_row, detail FROM _cl_findings "
        "ORDER BY finding, file NULLS FIRST, source_row NULLS FIRST, "
        "person_id NULLS FIRST, detail NULLS FIRST"
    )
    for t in ("_cl_links", "_cl_enr", "_cl_nm", "_cl_survey", "_cl_findings"):
        engine.execute(f"DROP TABLE IF EXISTS {t}")
