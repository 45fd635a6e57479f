"""The SQL that judges returned rows: each row's reasons for rejection, then its
verdict (accepted, duplicate, rejected) against the tasks and earlier imports."""

from __future__ import annotations

from canbao.core.privacy import mask_id_sql
from canbao.survey.vocabulary import OUTCOMES

# 核实情况 → what classify applies (contract §8.3). The person was surveyed because
# the district's own data showed no insurance, so insurance found only by the
# survey is ``insured_elsewhere`` (another 统筹区 or the provincial 职保 pool),
# except 我区参加居保 (our own 居保, the extract lagging) → ``insured_local``.
# 在校学生 exempts pension only (classify's rule); 死亡未销户 is a claim for 公安
# to confirm, kept as ``reported_deceased``; 其他人员 / 无参保意愿 set nothing.
# columns: outcome, exemption, insured_family, insured_status, reported_deceased
_RULES: tuple[tuple[str, str | None, str | None, str | None, bool], ...] = (
    ("参加省职保", None, "pension", "insured_elsewhere", False),
    ("参加机关保", None, "pension", "insured_elsewhere", False),
    ("参加省外职保", None, "pension", "insured_elsewhere", False),
    ("在校学生", "student", None, None, False),
    ("现役军人", "military", None, None, False),
    ("服刑人员", "prison", None, None, False),
    ("出国（境）人员", "abroad", None, None, False),
    ("死亡未销户人员", None, None, None, True),
    ("其他人员", None, None, None, False),
    ("我区参加居保", None, "pension", "insured_local", False),
    ("无参保意愿", None, None, None, False),
)
assert tuple(r[0] for r in _RULES) == tuple(name for name, _ in OUTCOMES)


def outcome_rules(
    codes: tuple[tuple[str, str], ...] = OUTCOMES,
) -> tuple[tuple[str, str, str | None, str | None, str | None, bool], ...]:
    """The rules with each 核实情况's import code from ``codes`` (the roster's table, or the
    params' override of it): outcome, outcome_code, exemption, insured_family,
    insured_status, reported_deceased."""
    code = dict(codes)
    return tuple((r[0], code[r[0]], *r[1:]) for r in _RULES)


OUTCOME_RULES = outcome_rules()


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
