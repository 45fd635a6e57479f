"""The contract's findings (§2 codes, §7 rules), one SQL function per code family.

Row findings (ID_*, *_MISMATCH, NOT_IN_POPULATION, EMPLOYER_INVALID, SURVEY_REJECTED)
carry ``file`` and ``source_row`` and are listed even when the row is unlinked.
Person findings (DUPLICATE_*, DECEASED_*) have one row per person and code, empty
``file``/``source_row``, and name the rows involved in ``detail``. ID numbers in
``detail`` are masked. Reads the classifier's prepared tables ``_cl_links``,
``_cl_enr`` (enrollment rows + person) and ``_cl_nm`` (linked national_match rows).
"""

from __future__ import annotations

from canbao.classify import eligibility as el
from canbao.core.engine import Engine
from canbao.core.privacy import mask_id_sql

FINDING_COLUMNS = "origin, finding, person_id, file, source_row, detail"
ID_FINDING_OF_STATUS = {
    "invalid": "ID_INVALID",
    "missing": "ID_INVALID",
    "upgraded": "ID_UPGRADED",
    "precision_lost": "ID_PRECISION_LOST",
}
_REASONS_ZH = {
    "length": "长度错误",
    "characters": "含非法字符",
    "date": "出生日期错误",
    "region": "地址码错误",
    "check": "校验码错误",
}


def _label(alias: str) -> str:
    """How a row is named in a detail: ``enrollment.xlsx#12 390 个人编号 A001``."""
    return (
        f"{alias}.file || '#' || {alias}.source_row || ' ' || coalesce({alias}.scheme, '?')"
        f" || coalesce(' 个人编号' || {alias}.member_no, '')"
    )


def _reason_zh(col: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _REASONS_ZH.items())
    return f"CASE {col} {whens} ELSE coalesce({col}, '无效') END"


def id_findings_sql(origin: str, rows_sql: str) -> str:
    """ID_INVALID / ID_UPGRADED / ID_PRECISION_LOST for every row of one extract.

    ``rows_sql`` yields file, source_row, id_raw, id_number, id_status, id_reason, person_id.
    A 15-digit number is ID_UPGRADED only; an Excel-mangled one ID_PRECISION_LOST only.
    """
    finding = (
        "CASE x.id_status "
        + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ID_FINDING_OF_STATUS.items())
        + " END"
    )
    raw, canon = mask_id_sql("x.id_raw"), mask_id_sql("x.id_number")
    detail = (
        "CASE x.id_status WHEN 'missing' THEN '公民身份号码为空' "
        f"WHEN 'invalid' THEN '公民身份号码' || {_reason_zh('x.id_reason')} || ': ' || {raw} "
        f"WHEN 'upgraded' THEN '15位号码 ' || {raw} || ' 升位为 ' || {canon} "
        f"WHEN 'precision_lost' THEN '号码被转为数值, 位数丢失: ' || {raw} END"
    )
    return f"""
    SELECT '{origin}', {finding}, x.person_id, x.file, x.source_row, {detail}
    FROM ({rows_sql}) x
    WHERE x.id_status IN ('invalid', 'missing', 'upgraded', 'precision_lost')
    """


def population_rows_sql() -> str:
    return """
    SELECT p.file, p.source_row, p.id_raw, p.id_number, p.id_status, p.id_reason, r.person_id
    FROM population p LEFT JOIN person_records r USING (file, source_row)
    """


def linked_rows_sql(table: str) -> str:
    """Rows of ``table`` (national_match / students) with the person they are linked to."""
    return f"""
    SELECT t.file, t.source_row, t.id_raw, t.id_number, t.id_status, t.id_reason, l.person_id
    FROM {table} t LEFT JOIN _cl_links l
      ON l.source = '{table}' AND l.file = t.file AND l.source_row = t.source_row
    """


def enrollment_id_rows_sql() -> str:
    return (
        "SELECT file, source_row, id_raw, id_number, id_status, id_reason, person_id FROM _cl_enr"
    )


def id_repaired_sql() -> str:
    """ID_REPAIRED: a linked enrollment row whose ID differs from the person's, linked on other evidence.

    Not for a 15-digit upgrade (contract §7: ID_UPGRADED only).
    """
    return f"""
    SELECT 'enrollment', 'ID_REPAIRED', e.person_id, e.file, e.source_row,
           '号码 ' || coalesce(nullif({mask_id_sql("e.id_raw")}, ''), '(空)') || ' 纠正为 '
           || {mask_id_sql("p.id_number")} || ' (' || e.method || coalesce('/' || e.repair, '') || ')'
    FROM _cl_enr e JOIN persons p USING (person_id)
    WHERE e.method IN ('repaired_id', 'probabilistic')
      AND coalesce(e.repair, '') <> 'upgrade15' AND coalesce(e.id_status, '') <> 'upgraded'
      AND p.id_number IS NOT NULL AND e.id_number IS DISTINCT FROM p.id_number
    """


def mismatch_sql() -> str:
    """NAME/SEX/BIRTH_MISMATCH of linked enrollment rows against 公安 (only where the row has a value).

    Names are compared folded (spaces, width and middle dots already unified); a
    繁体 character or a 同音字 is a mismatch.
    """
    # One join of the rows with their persons, kept for the rows that differ somewhere.
    differs = (
        "(e.name IS NOT NULL AND p.name IS NOT NULL AND e.name <> p.name) "
        "OR (e.sex IS NOT NULL AND p.sex IS NOT NULL AND e.sex <> p.sex) "
        "OR (e.birth_date IS NOT NULL AND p.birth_date IS NOT NULL "
        "AND e.birth_date <> p.birth_date)"
    )
    return f"""
    WITH j AS MATERIALIZED (
        SELECT e.person_id, e.file, e.source_row, e.name, e.sex, e.birth_date,
               p.name AS p_name, p.sex AS p_sex, p.birth_date AS p_birth
        FROM _cl_enr e JOIN persons p USING (person_id)
        WHERE {differs})
    SELECT 'enrollment', 'NAME_MISMATCH', person_id, file, source_row,
           '姓名 ' || name || ' ≠ 公安 ' || p_name
    FROM j WHERE name IS NOT NULL AND p_name IS NOT NULL AND name <> p_name
    UNION ALL
    SELECT 'enrollment', 'SEX_MISMATCH', person_id, file, source_row,
           '性别 ' || sex || ' ≠ 公安 ' || p_sex
    FROM j WHERE sex IS NOT NULL AND p_sex IS NOT NULL AND sex <> p_sex
    UNION ALL
    SELECT 'enrollment', 'BIRTH_MISMATCH', person_id, file, source_row,
           '出生日期 ' || strftime(birth_date, '%Y-%m-%d') || ' ≠ 公安 '
           || strftime(p_birth, '%Y-%m-%d')
    FROM j WHERE birth_date IS NOT NULL AND p_birth IS NOT NULL AND birth_date <> p_birth
    """


def active_rows_sql() -> str:
    """Active, linked enrollment rows of a known 险种 (what duplicates are made of)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _fd_act AS
    SELECT e.person_id, e.file, e.source_row, e.scheme, e.fam, e.enroll_status,
           e.benefit_status, {_label("e")} AS label
    FROM _cl_enr e
    WHERE e.person_id IS NOT NULL AND e.scheme IS NOT NULL AND e.is_active
    """


def duplicate_record_sql() -> str:
    """DUPLICATE_RECORD: two or more active rows of one person in one 险种."""
    # The groups of two or more rows are found first: the row lists are built for them only.
    return """
    WITH multi AS (SELECT person_id, scheme FROM _fd_act
                   GROUP BY person_id, scheme HAVING count(*) >= 2)
    SELECT 'enrollment', 'DUPLICATE_RECORD', person_id, NULL, NULL,
           '同一险种多条有效记录: ' || string_agg(rows, '; ' ORDER BY scheme)
    FROM (SELECT a.person_id, a.scheme,
                 string_agg(a.label, ', ' ORDER BY a.file, a.source_row) AS rows
          FROM _fd_act a JOIN multi m ON m.person_id = a.person_id AND m.scheme = a.scheme
          GROUP BY a.person_id, a.scheme)
    GROUP BY person_id
    """


def duplicate_benefit_sql() -> str:
    """DUPLICATE_BENEFIT: two or more pension rows 正常享受 at once (any 险种, the same one too).

    A pension paid twice is paid twice, whether the second payment comes from another
    scheme or from a second 个人编号 in the same scheme (that pair is DUPLICATE_RECORD too).
    """
    return """
    SELECT 'enrollment', 'DUPLICATE_BENEFIT', person_id, NULL, NULL,
           '同时领取多份养老待遇: ' || string_agg(label, ', ' ORDER BY file, source_row)
    FROM _fd_act
    WHERE fam = 'pension' AND benefit_status = 1
    GROUP BY person_id HAVING count(*) >= 2
    """


def _pair_sql(
    code: str,
    text: str,
    side_a: tuple[str, ...],
    side_b: tuple[str, ...],
    both_paid_excluded: bool = False,
) -> str:
    """Persons with an active row of ``side_a`` and an active row of ``side_b``.

    Decided per pair of rows: with ``both_paid_excluded`` a pair whose rows are both
    正常享受 is not counted (it is DUPLICATE_BENEFIT only), yet another pair of the same
    person still is. ``detail`` names the rows of the pairs that count.
    """
    a = ", ".join(f"'{s}'" for s in side_a)
    b = ", ".join(f"'{s}'" for s in side_b)
    both_paid = (
        "AND NOT (coalesce(x.benefit_status = 1, false) AND coalesce(y.benefit_status = 1, false))"
        if both_paid_excluded
        else ""
    )
    return f"""
    WITH pairs AS (
        SELECT x.person_id, x.file AS xf, x.source_row AS xr, x.label AS xl,
               y.file AS yf, y.source_row AS yr, y.label AS yl
        FROM _fd_act x JOIN _fd_act y USING (person_id)
        WHERE x.scheme IN ({a}) AND y.scheme IN ({b}) {both_paid}),
    involved AS (
        SELECT person_id, xf AS file, xr AS source_row, xl AS label FROM pairs
        UNION
        SELECT person_id, yf, yr, yl FROM pairs)
    SELECT 'enrollment', '{code}', person_id, NULL, NULL,
           '{text}: ' || string_agg(label, ', ' ORDER BY file, source_row)
    FROM involved
    GROUP BY person_id
    """


def duplicate_pension_sql() -> str:
    """DUPLICATE_PENSION: an active 职工 (110/120) row and an active 居民 (170) row at once.

    A pair both 正常享受 is DUPLICATE_BENEFIT only (one pair, one code); any other
    active pair of the same person is still DUPLICATE_PENSION.
    """
    return _pair_sql(
        "DUPLICATE_PENSION",
        "职工养老与居民养老同时有效",
        el.WORKER_PENSION_SCHEMES,
        el.RESIDENT_PENSION_SCHEMES,
        both_paid_excluded=True,
    )


def duplicate_medical_sql() -> str:
    """DUPLICATE_MEDICAL: active 310 and active 390 at once."""
    return _pair_sql("DUPLICATE_MEDICAL", "职工医保与居民医保同时有效", ("310",), ("390",))


def duplicate_region_sql() -> str:
    """DUPLICATE_REGION: active here and active elsewhere (national_match) in one family."""
    # Local rows are listed only for the persons active elsewhere (a few of them).
    return """
    WITH here AS (
        SELECT a.person_id, a.fam, string_agg(a.label, ', ' ORDER BY a.file, a.source_row) AS rows
        FROM _fd_act a
        WHERE a.fam IS NOT NULL AND EXISTS (
            SELECT 1 FROM _cl_nm n
            WHERE n.person_id = a.person_id AND n.fam = a.fam AND n.is_active)
        GROUP BY a.person_id, a.fam),
    there AS (
        SELECT person_id, fam,
               string_agg(file || '#' || source_row || ' ' || coalesce(scheme, '?')
                          || ' 参保地' || coalesce(region_code, '?'), ', '
                          ORDER BY file, source_row) AS rows
        FROM _cl_nm WHERE fam IS NOT NULL AND is_active GROUP BY person_id, fam)
    SELECT 'enrollment', 'DUPLICATE_REGION', h.person_id, NULL, NULL,
           string_agg(CASE h.fam WHEN 'pension' THEN '养老' ELSE '医疗' END
                      || ' 本地: ' || h.rows || ' / 外地: ' || t.rows, '; ' ORDER BY h.fam)
    FROM here h JOIN there t USING (person_id, fam)
    GROUP BY h.person_id
    """


def deceased_sql() -> str:
    """DECEASED_BENEFIT / DECEASED_ACTIVE of a person 公安 records as dead, decided per row.

    A row 正常享受 is DECEASED_BENEFIT only (even when also 正常参保); a row 正常参保
    and not 正常享受 is DECEASED_ACTIVE. One person has one finding per code, so a dead
    pensioner whose 170 still pays and whose 390 still runs has both, each naming its rows.
    """
    code = (
        "CASE WHEN e.benefit_status = 1 THEN 'DECEASED_BENEFIT' "
        "WHEN e.enroll_status = 1 THEN 'DECEASED_ACTIVE' END"
    )
    return f"""
    WITH d AS (
        SELECT e.person_id, e.file, e.source_row, {code} AS finding, {_label("e")} AS label
        FROM _cl_enr e JOIN persons p USING (person_id)
        WHERE p.life_status = 'deceased' AND e.scheme IS NOT NULL)
    SELECT 'enrollment', finding, person_id, NULL, NULL,
           CASE finding WHEN 'DECEASED_BENEFIT' THEN '公安登记死亡, 仍正常享受待遇: '
                ELSE '公安登记死亡, 仍正常参保: ' END
           || string_agg(label, ', ' ORDER BY file, source_row)
    FROM d WHERE finding IS NOT NULL
    GROUP BY person_id, finding
    """


def not_in_population_sql() -> str:
    """NOT_IN_POPULATION: every enrollment row not linked to a person of 户籍 or 常住."""
    return f"""
    SELECT 'enrollment', 'NOT_IN_POPULATION', NULL, e.file, e.source_row,
           '户籍和常住人口中均无此人: 个人编号 ' || coalesce(e.member_no, '(空)') || ' 险种 '
           || coalesce(e.scheme, e.scheme_raw, '?') || ' 号码 '
           || coalesce(nullif({mask_id_sql("e.id_raw")}, ''), '(空)')
    FROM _cl_enr e WHERE e.person_id IS NULL
    """


def employer_invalid_sql() -> str:
    """EMPLOYER_INVALID: 统一社会信用代码 fails GB 32100, or it or 单位名称 is empty."""
    blank_code = "trim(coalesce(credit_code_raw, '')) = ''"
    blank_name = "trim(coalesce(employer_name, '')) = ''"
    bad_code = f"NOT {blank_code} AND NOT coalesce(credit_valid, false)"
    return f"""
    SELECT 'employers', 'EMPLOYER_INVALID', NULL, file, source_row,
           concat_ws('; ',
               '单位编号 ' || coalesce(employer_no, '(空)'),
               CASE WHEN {blank_code} THEN '统一社会信用代码为空' END,
               CASE WHEN {bad_code} THEN '统一社会信用代码不符合GB 32100: ' || credit_code_raw
                    || coalesce(' (' || credit_reason || ')', '') END,
               CASE WHEN {blank_name} THEN '单位名称为空' END)
    FROM employers
    WHERE {blank_code} OR {blank_name} OR ({bad_code})
    """


def survey_rejected_sql() -> str:
    return """
    SELECT 'survey', 'SURVEY_REJECTED', person_id, file, source_row, reason FROM survey_rejects
    """


def person_findings_sql() -> str:
    return "SELECT 'population', finding, person_id, file, source_row, detail FROM person_findings"


def build_findings(engine: Engine, present: set[str]) -> None:
    """Create ``_cl_findings`` (origin + the findings columns) from the prepared tables.

    ``present`` names the tables that exist (optional extracts add their findings).
    """
    parts = [
        id_findings_sql("population", population_rows_sql()),
        id_findings_sql("enrollment", enrollment_id_rows_sql()),
        id_repaired_sql(),
        mismatch_sql(),
        duplicate_record_sql(),
        duplicate_benefit_sql(),
        duplicate_pension_sql(),
        duplicate_medical_sql(),
        duplicate_region_sql(),
        deceased_sql(),
        not_in_population_sql(),
    ]
    for table in ("national_match", "students"):
        if table in present:
            parts.append(id_findings_sql(table, linked_rows_sql(table)))
    optional = {
        "employers": employer_invalid_sql(),
        "survey_rejects": survey_rejected_sql(),
        "person_findings": person_findings_sql(),
    }
    parts += [sql for table, sql in optional.items() if table in present]
    engine.execute(active_rows_sql())
    body = "\nUNION ALL\n".join(f"SELECT * FROM ({p})" for p in parts)
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE _cl_findings AS "
        f"SELECT * FROM ({body}) AS f({FINDING_COLUMNS})"
    )
    engine.execute("DROP TABLE IF EXISTS _fd_act")
