"""The period change log (动态更新): what changed since the previous period, per person.

Diffed against the latest earlier period in ``registry_history`` (江津 ledger practice,
contract §8.7). Every change of a ``registry.csv`` column of a person present in both
periods is one row (``field``, ``old_value``, ``new_value``), labelled:

* 死亡 / 迁出: ``life_status`` became ``deceased`` / ``moved_out``.
* 新参保: ``pension_status``/``medical_status`` became insured_local or insured_elsewhere
  from anything else.
* 停保: a family was insured and is now ``not_insured`` or ``exempt`` (after a death or
  迁出 the status becomes ``not_applicable``: that is a 变更 beside the 死亡/迁出 row).
* 调查确认: ``registration`` became ``surveyed``.
* 变更: any other change, identity fields (``id_number``, ``name``, ``sex``,
  ``birth_date``, ``population``, ``township_code``, ``village_code``) included.

Besides field changes:

* 新增: a person never seen before (the first period lists everyone), no field.
* 取消: in the previous period's population, in none of this period's extracts.
* 变更 with field ``population`` and an empty old value: back after a 取消.
"""

from __future__ import annotations

IDENTITY_FIELDS: tuple[str, ...] = (
    "id_number", "name", "sex", "birth_date", "population", "township_code", "village_code",
)  # fmt: skip
COVERAGE_FIELDS: tuple[str, ...] = ("pension_status", "medical_status")
_INSURED = "('insured_local', 'insured_elsewhere')"


def _text(alias: str, field: str) -> str:
    if field == "birth_date":
        return f"strftime({alias}.{field}, '%Y-%m-%d')"
    return f"CAST({alias}.{field} AS VARCHAR)"


def _field_change_sql(change: str, field: str, condition: str) -> str:
    return (
        f"SELECT c.person_id, {change} AS change, '{field}' AS field, "
        f"{_text('p', field)} AS old_value, {_text('c', field)} AS new_value "
        f"FROM cur c JOIN prev p USING (person_id) WHERE {condition}"
    )


def changelog_insert_sql() -> str:
    """Insert period $1's changes against period $2 (NULL on the district's first period)."""
    parts = [
        "SELECT c.person_id, '新增', NULL, NULL, NULL FROM cur c "
        "WHERE NOT EXISTS (SELECT 1 FROM before b WHERE b.person_id = c.person_id)",
        "SELECT c.person_id, '变更', 'population', NULL, c.population FROM cur c "
        "WHERE EXISTS (SELECT 1 FROM before b WHERE b.person_id = c.person_id) "
        "AND NOT EXISTS (SELECT 1 FROM prev p WHERE p.person_id = c.person_id)",
        "SELECT p.person_id, '取消', NULL, NULL, NULL FROM prev p "
        "WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.person_id = p.person_id)",
    ]
    for field in IDENTITY_FIELDS:
        parts.append(_field_change_sql("'变更'", field, f"c.{field} IS DISTINCT FROM p.{field}"))
    parts.append(
        _field_change_sql(
            "CASE c.life_status WHEN 'deceased' THEN '死亡' WHEN 'moved_out' THEN '迁出' "
            "ELSE '变更' END",
            "life_status",
            "c.life_status IS DISTINCT FROM p.life_status",
        )
    )
    for field in COVERAGE_FIELDS:
        label = (
            f"CASE WHEN c.{field} IN {_INSURED} AND coalesce(p.{field} NOT IN {_INSURED}, true) "
            f"THEN '新参保' WHEN p.{field} IN {_INSURED} AND c.{field} IN ('not_insured', 'exempt') "
            "THEN '停保' ELSE '变更' END"
        )
        parts.append(_field_change_sql(label, field, f"c.{field} IS DISTINCT FROM p.{field}"))
    parts.append(
        _field_change_sql(
            "CASE WHEN c.registration = 'surveyed' THEN '调查确认' ELSE '变更' END",
            "registration",
            "c.registration IS DISTINCT FROM p.registration",
        )
    )
    union = "\nUNION ALL\n".join(parts)
    return f"""
    INSERT INTO changelog
    SELECT CAST($1 AS DATE), person_id, change, field, old_value, new_value FROM (
        WITH cur AS (SELECT * FROM registry_history WHERE period = CAST($1 AS DATE)),
             prev AS (SELECT * FROM registry_history WHERE period = CAST($2 AS DATE)),
             before AS (SELECT DISTINCT person_id FROM registry_history
                        WHERE period < CAST($1 AS DATE))
        {union}
    ) AS t(person_id, change, field, old_value, new_value)
    ORDER BY person_id, change, field NULLS FIRST
    """
