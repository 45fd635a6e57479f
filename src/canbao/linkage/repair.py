"""Stage 4b: ID repair. Damaged 18-char IDs are corrected only when the correction
points to exactly one person whose name and birth date agree with the row.

Candidates are every single-digit substitution in the body, every adjacent
transposition, and the body with a recomputed check character — the errors a
clerk makes copying a number — generated in SQL and joined to persons' IDs.
"""

from __future__ import annotations

from canbao.clean.idnumber import check_char_sql, is_valid_id18_sql
from canbao.core.engine import Engine
from canbao.linkage.exact import SETTLED_TABLE, UNIQUE_IDS_TABLE, identity_agrees_sql
from canbao.linkage.inputs import ROWS_TABLE

# Repair kinds in order of preference when one person is reached by several.
REPAIR_ORDER = ("check_char", "one_digit", "transposition")


def repair_candidates_sql() -> str:
    """(rid, repair, prio, cand) for every unsettled invalid row with an 18-char candidate."""
    body = "substr(c, 1, 17)"
    check = (
        f"CASE WHEN regexp_full_match({body}, '[0-9]{{17}}') "
        f"THEN {body} || {check_char_sql(body)} END"
    )
    return f"""
    WITH src AS (
        SELECT r.rid, r.id_candidate AS c FROM {ROWS_TABLE} r
        WHERE r.id_status = 'invalid' AND length(r.id_candidate) = 18
          AND NOT EXISTS (SELECT 1 FROM {SETTLED_TABLE} s WHERE s.rid = r.rid)
    ),
    pos AS (SELECT range::INTEGER AS i FROM range(1, 18)),
    dig AS (SELECT CAST(range AS VARCHAR) AS d FROM range(0, 10))
    SELECT rid, 'one_digit' AS repair, 2 AS prio,
           substr(c, 1, i - 1) || d || substr(c, i + 1) AS cand
    FROM src, pos, dig WHERE substr(c, i, 1) <> d
    UNION ALL
    SELECT rid, 'transposition', 3,
           substr(c, 1, i - 1) || substr(c, i + 1, 1) || substr(c, i, 1) || substr(c, i + 2)
    FROM src, pos WHERE substr(c, i, 1) <> substr(c, i + 1, 1)
    UNION ALL
    SELECT rid, 'check_char', 1, {check} FROM src
    """


def repair_links_sql() -> str:
    """Insert repaired links: candidates hitting exactly one agreeing person."""
    return f"""
    INSERT INTO {SETTLED_TABLE}
    WITH cand AS ({repair_candidates_sql()}),
    hit AS (
        SELECT c.rid, c.repair, c.prio, p.person_id
        FROM cand c
        JOIN {UNIQUE_IDS_TABLE} u ON c.cand = u.id_number
        JOIN persons p ON p.person_id = u.person_id
        JOIN {ROWS_TABLE} r ON r.rid = c.rid
        WHERE {is_valid_id18_sql("c.cand")} AND {identity_agrees_sql()}
    )
    SELECT rid, min(person_id), 'repaired_id', 1.0, arg_min(repair, prio)
    FROM hit GROUP BY rid HAVING count(DISTINCT person_id) = 1
    """


def link_repaired(engine: Engine) -> dict[str, int]:
    """Add repaired links to ``link_settled``; returns counts per repair kind."""
    engine.execute(repair_links_sql())
    df = engine.query_df(
        f"SELECT repair, count(*) AS n FROM {SETTLED_TABLE} "
        "WHERE repair IN ('check_char', 'one_digit', 'transposition') GROUP BY repair"
    )
    out = {k: 0 for k in REPAIR_ORDER}
    out.update({r.repair: int(r.n) for r in df.itertuples()})
    return out
