"""Stage 4a: exact ID links and 15→18 upgrades, set-based in SQL.

A valid canonical ID equal to exactly one person's ID is that person: GB 11643's
check character catches every single-digit and adjacent-transposition error, so a
valid number that matches is not a typo of another one. Upgraded (15-digit) numbers
carry no check character, so they also need the name and birth date to agree.
"""

from __future__ import annotations

from canbao.core.engine import Engine
from canbao.linkage.inputs import ROWS_TABLE, scalar, table_columns

SETTLED_TABLE = "link_settled"
UNIQUE_IDS_TABLE = "link_person_ids"


def unique_person_ids_sql(with_records: bool = True) -> str:
    """IDs held by exactly one person (an ID on two persons links to neither).

    Besides each person's chosen ID, every population row's ID counts
    (``person_records``): a person the registry merged from two records under two
    numbers is found under either.
    """
    pairs = "SELECT id_number, person_id FROM persons WHERE id_number IS NOT NULL"
    if with_records:
        pairs += (
            " UNION SELECT id_number, person_id FROM person_records WHERE id_number IS NOT NULL"
        )
    return (
        f"CREATE OR REPLACE TABLE {UNIQUE_IDS_TABLE} AS "
        f"SELECT id_number, min(person_id) AS person_id FROM ({pairs}) "
        "GROUP BY id_number HAVING count(DISTINCT person_id) = 1"
    )


def identity_agrees_sql(r: str = "r", p: str = "p") -> str:
    """The repair rule's check that the row is the person its repaired ID points to.

    With a birth date on both sides: same birth date and a folded name that agrees
    as written, after 繁→简, or by pinyin (同音字). Clerks mistype names the same ways
    they mistype IDs, and the ID candidate plus the birth date already pin the person;
    the contract still reports the name difference as NAME_MISMATCH. Without a birth
    date (national_match, students, or an empty 出生日期) only the exact folded name
    is strong enough.
    """
    loose = (
        f"({r}.name = {p}.name OR {r}.name_simp = {p}.name_simp "
        f"OR nullif({r}.name_pinyin, '') = {p}.name_pinyin)"
    )
    return (
        f"(({r}.birth_date IS NOT NULL AND {p}.birth_date IS NOT NULL "
        f"AND {r}.birth_date = {p}.birth_date AND {loose}) "
        f"OR (({r}.birth_date IS NULL OR {p}.birth_date IS NULL) AND {r}.name = {p}.name))"
    )


def create_settled_sql() -> str:
    return (
        f"CREATE OR REPLACE TABLE {SETTLED_TABLE} (rid VARCHAR, "
        "person_id VARCHAR, method VARCHAR, match_probability DOUBLE, repair VARCHAR)"
    )


def exact_links_sql() -> str:
    """Valid IDs equal to a person's ID."""
    return (
        f"INSERT INTO {SETTLED_TABLE} "
        "SELECT r.rid, u.person_id, 'exact_id', 1.0, NULL "
        f"FROM {ROWS_TABLE} r JOIN {UNIQUE_IDS_TABLE} u ON r.id_number = u.id_number "
        "WHERE r.id_status = 'valid'"
    )


def upgrade_links_sql() -> str:
    """15→18 upgraded IDs equal to a person's ID, with name and birth agreeing."""
    return (
        f"INSERT INTO {SETTLED_TABLE} "
        "SELECT r.rid, p.person_id, 'repaired_id', 1.0, 'upgrade15' "
        f"FROM {ROWS_TABLE} r JOIN {UNIQUE_IDS_TABLE} u ON r.id_number = u.id_number "
        "JOIN persons p ON p.person_id = u.person_id "
        f"WHERE r.id_status = 'upgraded' AND {identity_agrees_sql()}"
    )


def link_exact(engine: Engine) -> dict[str, int]:
    """Create ``link_settled`` with exact and upgrade links; returns counts."""
    records = {"id_number", "person_id"} <= table_columns(engine, "person_records")
    engine.execute(unique_person_ids_sql(records))
    engine.execute(create_settled_sql())
    engine.execute(exact_links_sql())
    n_exact = scalar(engine, f"SELECT count(*) FROM {SETTLED_TABLE}")
    engine.execute(upgrade_links_sql())
    n_all = scalar(engine, f"SELECT count(*) FROM {SETTLED_TABLE}")
    return {"exact_id": int(n_exact), "upgrade15": int(n_all - n_exact)}
