"""The bulletin's SQL: counts per unit with a 合计 row, the two indicators, the trend.

Builders only (they run nothing); :mod:`canbao.report.bulletin.figures` runs them."""

from __future__ import annotations

from canbao.report.bulletin.columns import Level

# 应参保 / 已参保 per family over 户籍 persons alive (contract §8.5); one definition shared by
# the unit table and the trend so the two can never disagree.
COVERAGE_COUNTS = """count_if(population = 'hukou' AND life_status = 'alive'
                 AND coalesce(pension_status, '') NOT IN ('exempt', 'not_applicable')) AS pension_due,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND pension_status IN ('insured_local', 'insured_elsewhere')) AS pension_insured,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND coalesce(medical_status, '') NOT IN ('exempt', 'not_applicable')) AS medical_due,
        count_if(population = 'hukou' AND life_status = 'alive'
                 AND medical_status IN ('insured_local', 'insured_elsewhere')) AS medical_insured"""


def source_sql(name: str, present: bool) -> str:
    """The table itself, or an empty relation with its columns when it does not exist yet."""
    if present:
        return f'"{name}"'
    empty = {
        "findings_history": "SELECT NULL::DATE AS period, NULL::VARCHAR AS finding, NULL::VARCHAR AS person_id",
        "changelog": "SELECT NULL::DATE AS period, NULL::VARCHAR AS person_id, NULL::VARCHAR AS change",
        "survey_tasks": (
            "SELECT NULL::DATE AS period, NULL::VARCHAR AS person_id, NULL::VARCHAR AS township_code, "
            "NULL::VARCHAR AS village_code, NULL::VARCHAR AS status, NULL::DATE AS result_period"
        ),
    }[name]
    return f"({empty} WHERE false)"


def unit_figures_sql(level: Level, sources: dict[str, str]) -> str:
    """Counts per unit plus a total row (``is_total``) for one period.

    Parameters: ``$1`` period (DATE), ``$2`` township code ('' = whole district),
    ``$3`` accepted survey statuses (list). ``level`` picks the unit column from a fixed set.
    """
    unit = {"township": "township_code", "village": "village_code"}[level]
    return f"""
WITH reg AS (
    SELECT person_id, coalesce(township_code, '') AS township_code,
           coalesce(village_code, '') AS village_code, population, life_status,
           pension_status, medical_status
    FROM registry_history
    WHERE period = $1 AND ($2 = '' OR township_code = $2)
),
agg_reg AS (
    SELECT {unit} AS unit, grouping({unit}) AS is_total,
        count_if(population = 'hukou' AND life_status = 'alive') AS hukou,
        {COVERAGE_COUNTS}
    FROM reg
    GROUP BY GROUPING SETS (({unit}), ())
),
events AS (
    SELECT 'new_insured' AS measure, person_id FROM {sources["changelog"]}
        WHERE period = $1 AND change = '新参保'
    UNION ALL
    SELECT 'clean_moved', person_id FROM {sources["changelog"]}
        WHERE period = $1 AND change = '迁出'
    UNION ALL
    SELECT 'clean_deceased', person_id FROM {sources["findings_history"]}
        WHERE period = $1 AND starts_with(finding, 'DECEASED_')
    UNION ALL
    SELECT 'clean_duplicate', person_id FROM {sources["findings_history"]}
        WHERE period = $1 AND starts_with(finding, 'DUPLICATE_')
    UNION ALL
    SELECT DISTINCT 'corrections', person_id FROM registry_history
        WHERE period <= $1 AND registration = 'needs_correction'
    UNION ALL
    SELECT 'corrections_open', person_id FROM registry_history
        WHERE period = $1 AND registration = 'needs_correction'
),
loc AS (
    SELECT person_id,
           arg_max(coalesce(township_code, ''), period) AS township_code,
           arg_max(coalesce(village_code, ''), period) AS village_code
    FROM registry_history
    WHERE period <= $1 AND person_id IN (SELECT person_id FROM events)
    GROUP BY person_id
),
agg_evt AS (
    SELECT l.{unit} AS unit, grouping(l.{unit}) AS is_total,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'new_insured') AS new_insured,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_deceased') AS clean_deceased,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_moved') AS clean_moved,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'clean_duplicate') AS clean_duplicate,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'corrections') AS corrections,
        count(DISTINCT e.person_id) FILTER (WHERE e.measure = 'corrections_open') AS corrections_open
    FROM events e JOIN loc l USING (person_id)
    WHERE $2 = '' OR l.township_code = $2
    GROUP BY GROUPING SETS ((l.{unit}), ())
),
task_person AS (
    SELECT person_id,
           arg_max(coalesce(township_code, ''), period) AS township_code,
           arg_max(coalesce(village_code, ''), period) AS village_code,
           bool_or(list_contains($3::VARCHAR[], status) AND result_period <= $1) AS done
    FROM {sources["survey_tasks"]}
    WHERE period <= $1
    GROUP BY person_id
),
agg_task AS (
    SELECT {unit} AS unit, grouping({unit}) AS is_total,
           count(*) AS tasks_issued, count_if(done) AS tasks_done
    FROM task_person
    WHERE $2 = '' OR township_code = $2
    GROUP BY GROUPING SETS (({unit}), ())
),
units AS (
    SELECT unit, is_total FROM agg_reg
    UNION SELECT unit, is_total FROM agg_evt
    UNION SELECT unit, is_total FROM agg_task
)
SELECT coalesce(u.unit, '') AS unit_code, u.is_total = 1 AS is_total,
    coalesce(r.hukou, 0) AS hukou,
    coalesce(r.pension_due, 0) AS pension_due,
    coalesce(r.pension_insured, 0) AS pension_insured,
    coalesce(r.medical_due, 0) AS medical_due,
    coalesce(r.medical_insured, 0) AS medical_insured,
    coalesce(t.tasks_issued, 0) AS tasks_issued,
    coalesce(t.tasks_done, 0) AS tasks_done,
    coalesce(e.new_insured, 0) AS new_insured,
    coalesce(e.clean_deceased, 0) AS clean_deceased,
    coalesce(e.clean_moved, 0) AS clean_moved,
    coalesce(e.clean_duplicate, 0) AS clean_duplicate,
    coalesce(e.corrections, 0) AS corrections,
    coalesce(e.corrections_open, 0) AS corrections_open
FROM units u
LEFT JOIN agg_reg r ON r.unit IS NOT DISTINCT FROM u.unit AND r.is_total = u.is_total
LEFT JOIN agg_evt e ON e.unit IS NOT DISTINCT FROM u.unit AND e.is_total = u.is_total
LEFT JOIN agg_task t ON t.unit IS NOT DISTINCT FROM u.unit AND t.is_total = u.is_total
ORDER BY u.is_total, unit_code
"""


def indicators_sql() -> str:
    """Numerators and denominators of the two official indicators (``$1`` period, ``$2`` township or '')."""
    return """
SELECT
    count_if(pension_status IN ('insured_local', 'insured_elsewhere')
             OR medical_status IN ('insured_local', 'insured_elsewhere')) AS insured,
    count_if((pension_status IN ('insured_local', 'insured_elsewhere')
              OR medical_status IN ('insured_local', 'insured_elsewhere'))
             AND coalesce(registration, '') <> 'needs_correction') AS insured_settled,
    count_if(registration IN ('survey', 'surveyed')) AS uninsured,
    count_if(registration = 'surveyed') AS uninsured_registered
FROM registry_history
WHERE period = $1 AND ($2 = '' OR township_code = $2) AND life_status = 'alive'
"""


def trend_sql(sources: dict[str, str]) -> str:
    """Scope totals for every period up to ``$1`` (``$2`` township or '', ``$3`` accepted statuses)."""
    return f"""
WITH periods AS (
    SELECT DISTINCT period FROM registry_history WHERE period <= $1
),
cov AS (
    SELECT period,
        {COVERAGE_COUNTS}
    FROM registry_history
    WHERE period <= $1 AND ($2 = '' OR township_code = $2)
    GROUP BY period
),
tasks AS (
    SELECT p.period, t.person_id,
           arg_max(coalesce(t.township_code, ''), t.period) AS township_code,
           bool_or(list_contains($3::VARCHAR[], t.status) AND t.result_period <= p.period) AS done
    FROM periods p JOIN {sources["survey_tasks"]} t ON t.period <= p.period
    GROUP BY p.period, t.person_id
),
agg_task AS (
    SELECT period, count(*) AS tasks_issued, count_if(done) AS tasks_done
    FROM tasks WHERE $2 = '' OR township_code = $2
    GROUP BY period
)
SELECT p.period,
    coalesce(c.pension_due, 0) AS pension_due, coalesce(c.pension_insured, 0) AS pension_insured,
    coalesce(c.medical_due, 0) AS medical_due, coalesce(c.medical_insured, 0) AS medical_insured,
    coalesce(t.tasks_issued, 0) AS tasks_issued, coalesce(t.tasks_done, 0) AS tasks_done
FROM periods p
LEFT JOIN cov c USING (period)
LEFT JOIN agg_task t USING (period)
ORDER BY p.period
"""


def previous_period_sql() -> str:
    """The latest registry period before ``$1`` (NULL for the first bulletin)."""
    return "SELECT max(period) FROM registry_history WHERE period < $1"
