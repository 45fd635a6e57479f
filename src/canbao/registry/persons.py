"""Stage 3: the period's population rows become persons, each with a ``person_id`` that
survives re-runs, reordered rows and corrected IDs or names.

Decisions (docs/design.md, contract §2, §8.7):

* ``person_ids`` maps every canonical ID a person has carried to their person_id (one
  row per (person_id, id_number)); an ID-less person has one row with NULL id_number.
* A period where too many hukou or enrollment rows have no usable ID is aborted before
  the registry changes.
"""

from __future__ import annotations

from canbao.core import messages
from canbao.core.catalog import has_table, scalar
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine
from canbao.core.errors import PeriodAborted
from canbao.core.privacy import mask_id_sql
from canbao.registry.tables import ensure_registry_tables

ID_COLUMN = "公民身份号码"
# Extracts whose IDs carry the period: a file of them without usable IDs aborts it.
_ID_CHECKED = (("hukou", "population", "source = 'hukou'"), ("enrollment", "enrollment", "TRUE"))


def unusable_id_counts_sql() -> str:
    """Population rows, and those without a usable (valid or upgraded) canonical ID."""
    return "SELECT count(*), count(*) FILTER (WHERE id_number IS NULL) FROM population"


def unusable_ids_by_file_sql(tables: set[str]) -> str:
    """Per file of a required extract (and of residents): rows and rows without a usable ID."""
    parts = [
        f"SELECT '{extract}' AS extract, file, count(*) AS total, "
        f"count(*) FILTER (WHERE id_number IS NULL) AS unusable FROM {table} "
        f"WHERE {where} GROUP BY file"
        for extract, table, where in (
            *_ID_CHECKED,
            ("residents", "population", "source = 'resident'"),
        )
        if table in tables
    ]
    return " UNION ALL ".join(parts) + " ORDER BY extract, file"


# Why a row has no usable ID, in the order the abort names them: the fix comes first.
_UNUSABLE_KINDS = ("precision_lost", "invalid", "missing")
_EXAMPLE_ROWS = 5


def unusable_detail(engine: Engine, table: str, where: str, file: str) -> str:
    """Which rows of ``file`` have no usable ID and why, for the abort message: per kind
    (Excel's scientific notation, an invalid number, an empty cell) the count, the first
    row numbers and one value as sent, so the sender can find them and re-export."""
    df = engine.query_df(
        f"SELECT id_status, count(*) AS n, list(source_row ORDER BY source_row)[:{_EXAMPLE_ROWS}] "
        "AS rows, arg_min(id_raw, source_row) AS example "
        f"FROM {table} WHERE {where} AND file = ? AND id_number IS NULL GROUP BY id_status",
        [file],
    ).set_index("id_status")
    parts = [
        messages.text(
            f"abort_ids_{kind}",
            n=int(df.at[kind, "n"]),
            rows="、".join(str(r) for r in df.at[kind, "rows"])
            + ("…" if int(df.at[kind, "n"]) > _EXAMPLE_ROWS else ""),
            example=df.at[kind, "example"],
        )
        for kind in _UNUSABLE_KINDS
        if kind in df.index
    ]
    return "其中 " + "；".join(parts) if parts else ""


def _abort_unusable(
    file: str, total: int, unusable: int, limit: float, detail: str = ""
) -> PeriodAborted:
    return PeriodAborted(
        "abort_unusable_ids",
        file=file,
        column=ID_COLUMN,
        total=total,
        unusable=unusable,
        share=f"{unusable / total:.1%}",
        limit=f"{limit:.1%}",
        detail=f"{detail}；" if detail else "",
    )


def check_population(engine: Engine, cfg: Config) -> None:
    """Abort the period before anything changes (江津 practice).

    Every file of a required extract (hukou, enrollment) must have a share of usable IDs
    within ``safety.max_unusable_id_share``: an enrollment file whose ID column is empty
    would otherwise make the district look uninsured. The whole population is held to
    the same share; the abort names the file holding most of the unusable rows.
    """
    if not has_table(engine, "population"):
        raise PeriodAborted("abort_no_population")
    total, unusable = engine.query_df(unusable_id_counts_sql()).iloc[0].tolist()
    if not total:
        raise PeriodAborted("abort_population_empty")
    limit = cfg.safety.max_unusable_id_share
    tables = {t for t in ("population", "enrollment") if has_table(engine, t)}
    by_file = engine.query_df(unusable_ids_by_file_sql(tables))
    required = {extract for extract, _, _ in _ID_CHECKED}
    where = {extract: (table, cond) for extract, table, cond in _ID_CHECKED}
    for r in by_file.itertuples(index=False):
        if r.extract in required and r.total and int(r.unusable) / int(r.total) > limit:
            detail = unusable_detail(engine, *where[r.extract], r.file)
            raise _abort_unusable(r.file, int(r.total), int(r.unusable), limit, detail)
    if unusable / total > limit:
        pop = by_file[by_file.extract != "enrollment"].sort_values(
            ["unusable", "file"], ascending=[False, True]
        )
        worst = pop.iloc[0]["file"] if len(pop) else "hukou"
        detail = unusable_detail(engine, "population", "TRUE", worst) if len(pop) else ""
        raise _abort_unusable(f"{worst}（全部人口）", int(total), int(unusable), limit, detail)


def _sex_expr(alias: str) -> str:
    # 公安's sex column wins; digit 17 of the ID (odd = 男) fills a blank one.
    return (
        f"coalesce({alias}.sex, CASE WHEN {alias}.id_number IS NOT NULL THEN "
        f"CASE WHEN TRY_CAST(substr({alias}.id_number, 17, 1) AS INTEGER) % 2 = 1 "
        "THEN '1' ELSE '2' END END)"
    )


def _birth_expr(alias: str) -> str:
    return (
        f"coalesce({alias}.birth_date, "
        f"CAST(try_strptime(substr({alias}.id_number, 7, 8), '%Y%m%d') AS DATE))"
    )


def population_keyed_sql() -> str:
    """Every population row with its person key: the ID, or name|birth|户号|village without one."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _rp_pop AS
    SELECT p.file, p.source_row, p.source, p.id_number, p.name, p.name_simp, p.name_pinyin,
           {_sex_expr("p")} AS sex, {_birth_expr("p")} AS birth_date,
           p.township_code, p.village_code, p.household_no, p.relation, p.address,
           coalesce(p.life_status, 'alive') AS life_status, p.ethnicity, p.status_date,
           CASE WHEN p.id_number IS NOT NULL THEN 'I:' || p.id_number
                ELSE 'N:' || coalesce(p.name, '') || '|' || coalesce(CAST(p.birth_date AS VARCHAR), '')
                     || '|' || coalesce(p.household_no, '') || '|' || coalesce(p.village_code, '')
           END AS gkey
    FROM population p
    """


def person_candidates_sql() -> str:
    """One row per person key: the 户籍 row wins over 常住, a 管理中 row over others."""
    return """
    CREATE OR REPLACE TEMP TABLE _rp_cand AS
    SELECT * EXCLUDE (rn) FROM (
        SELECT *, row_number() OVER (
            PARTITION BY gkey
            ORDER BY (source = 'hukou') DESC, (life_status = 'alive') DESC,
                     status_date DESC NULLS LAST, household_no NULLS LAST,
                     village_code NULLS LAST, file, source_row) AS rn
        FROM _rp_pop)
    WHERE rn = 1
    """


def match_by_id_sql() -> str:
    """Known IDs keep their person_id; if two keys claim one person, the newest ID wins."""
    return """
    CREATE OR REPLACE TEMP TABLE _rp_match AS
    SELECT gkey, person_id, 'id' AS resolved_by FROM (
        SELECT c.gkey, i.person_id,
               row_number() OVER (PARTITION BY i.person_id
                                  ORDER BY i.first_period DESC, c.id_number) AS rn
        FROM _rp_cand c
        JOIN (SELECT id_number, min(person_id) AS person_id, max(first_period) AS first_period
              FROM person_ids WHERE id_number IS NOT NULL GROUP BY id_number) i
          ON i.id_number = c.id_number)
    WHERE rn = 1
    """


def _unclaimed_registry_sql() -> str:
    return (
        "SELECT * FROM registry r WHERE NOT EXISTS "
        "(SELECT 1 FROM _rp_match m WHERE m.person_id = r.person_id)"
    )


def _unclaimed_cand_sql() -> str:
    return (
        "SELECT * FROM _rp_cand c WHERE NOT EXISTS "
        "(SELECT 1 FROM _rp_match m WHERE m.gkey = c.gkey)"
    )


def match_without_id_sql() -> str:
    """ID-less persons: same name, birth date, 户号 and village as an ID-less registry person."""
    return f"""
    INSERT INTO _rp_match
    WITH c AS (
        SELECT gkey, name, birth_date, household_no, village_code,
               row_number() OVER (PARTITION BY name, birth_date, household_no, village_code
                                  ORDER BY gkey) AS rn
        FROM ({_unclaimed_cand_sql()}) WHERE id_number IS NULL),
    r AS (
        SELECT person_id, name, birth_date, household_no, village_code,
               row_number() OVER (PARTITION BY name, birth_date, household_no, village_code
                                  ORDER BY person_id) AS rn
        FROM ({_unclaimed_registry_sql()}) WHERE id_number IS NULL)
    SELECT c.gkey, r.person_id, 'name_key'
    FROM c JOIN r
      ON c.name IS NOT DISTINCT FROM r.name AND c.birth_date IS NOT DISTINCT FROM r.birth_date
     AND c.household_no IS NOT DISTINCT FROM r.household_no
     AND c.village_code IS NOT DISTINCT FROM r.village_code AND c.rn = r.rn
    """


def match_corrected_sql() -> str:
    """A registry person not found by ID, matched one-to-one to a new-ID (or ID-less) row.

    Same simplified name or same pinyin (a corrected 同音字/繁体), birth date (known) and sex,
    and the same 户号 (or, when either has none, the same village). Ambiguous pairs are
    left alone: a wrong merge is worse than a new person_id.
    """
    same_place = (
        "CASE WHEN c.household_no IS NOT NULL AND r.household_no IS NOT NULL "
        "THEN c.household_no = r.household_no "
        "ELSE c.village_code IS NOT DISTINCT FROM r.village_code END"
    )
    # Two equi-joins (simplified name; pinyin) instead of one OR join: hash joins at scale.
    joins = " UNION ".join(
        f"""
        SELECT c.gkey, r.person_id
        FROM c JOIN r ON c.{key} = r.{key} AND c.birth_date = r.birth_date
        WHERE c.sex IS NOT DISTINCT FROM r.sex AND {same_place}"""
        for key in ("name_simp", "name_pinyin")
    )
    return f"""
    INSERT INTO _rp_match
    WITH c AS ({_unclaimed_cand_sql()}),
    r AS ({_unclaimed_registry_sql()}),
    pairs AS ({joins}),
    counted AS (
        SELECT *, count(*) OVER (PARTITION BY gkey) AS n_c,
                  count(*) OVER (PARTITION BY person_id) AS n_r
        FROM pairs)
    SELECT gkey, person_id, 'corrected' FROM counted WHERE n_c = 1 AND n_r = 1
    """


def new_person_ids_sql() -> str:
    """Next numbers in order of ID, name, birth date, 户号, village, file, row ($1 district, $2 last seq)."""
    return f"""
    INSERT INTO _rp_match
    SELECT gkey, printf('P%s-%07d', $1, $2 + row_number() OVER (
               ORDER BY id_number NULLS LAST, name NULLS LAST, birth_date NULLS LAST,
                        household_no NULLS LAST, village_code NULLS LAST, file, source_row)),
           'new'
    FROM ({_unclaimed_cand_sql()})
    """


def last_sequence_sql() -> str:
    """The highest person_id sequence issued in the district ($1 = 'P<district>-%')."""
    return (
        "SELECT coalesce(max(TRY_CAST(substr(person_id, -7) AS INTEGER)), 0) "
        "FROM person_ids WHERE person_id LIKE $1"
    )


def persons_sql() -> str:
    """The ``persons`` table: one row per person this period (design.md column list)."""
    return """
    CREATE OR REPLACE TABLE persons AS
    SELECT m.person_id, c.id_number, c.name, c.name_simp, c.name_pinyin, c.sex, c.birth_date,
           CASE WHEN c.source = 'hukou' THEN 'hukou' ELSE 'resident' END AS population,
           c.township_code, c.village_code, c.household_no, c.relation, c.address,
           c.life_status, c.ethnicity, c.file, c.source_row, m.resolved_by
    FROM _rp_cand c JOIN _rp_match m USING (gkey)
    ORDER BY m.person_id
    """


def person_records_sql() -> str:
    """``person_records``: every population row → its person."""
    return """
    CREATE OR REPLACE TABLE person_records AS
    SELECT m.person_id, p.file, p.source_row, p.source, p.id_number
    FROM _rp_pop p JOIN _rp_match m USING (gkey)
    ORDER BY p.file, p.source_row
    """


def duplicate_person_sql() -> str:
    """``person_findings``: DUPLICATE_PERSON (extension of the contract's codes).

    Either one ID on two or more 户籍 rows (two 户号): one row for that person; or one
    person under two IDs: same name, birth date and sex in the same 村社区 (公安's
    duplicate registrations often sit in two households of one village): one row per
    group, on the person of the earliest population row, the detail naming every row.
    """
    masked = mask_id_sql("p.id_number")
    return f"""
    CREATE OR REPLACE TABLE person_findings AS
    WITH rows AS (
        SELECT r.person_id, p.file, p.source_row, p.id_number, p.household_no, p.source
        FROM _rp_pop p JOIN person_records r USING (file, source_row)),
    same_id AS (
        SELECT person_id,
               '同一公民身份号码在户籍中出现' || count(*) || '次: '
               || string_agg(file || '#' || source_row || ' 户号' || coalesce(household_no, '-'),
                             '; ' ORDER BY file, source_row) AS detail
        FROM rows WHERE source = 'hukou' AND id_number IS NOT NULL
        GROUP BY person_id HAVING count(*) > 1),
    grp AS (
        SELECT p.name, p.birth_date, p.sex, p.village_code,
               string_agg(p.file || '#' || p.source_row || ' 户号' || coalesce(p.household_no, '-')
                          || ' ' || {masked}, '; ' ORDER BY p.file, p.source_row) AS members
        FROM persons p
        WHERE p.id_number IS NOT NULL AND p.village_code IS NOT NULL AND p.name IS NOT NULL
          AND p.birth_date IS NOT NULL
        GROUP BY p.name, p.birth_date, p.sex, p.village_code
        HAVING count(*) > 1),
    two_ids AS (
        SELECT person_id, detail FROM (
            SELECT p.person_id,
                   '同村同姓名同出生日期同性别, 不同公民身份号码: ' || g.members AS detail,
                   row_number() OVER (PARTITION BY g.members ORDER BY p.file, p.source_row) AS rn
            FROM persons p JOIN grp g
              ON p.name = g.name AND p.birth_date = g.birth_date
             AND p.sex IS NOT DISTINCT FROM g.sex AND p.village_code = g.village_code
            WHERE p.id_number IS NOT NULL)
        WHERE rn = 1)
    SELECT 'DUPLICATE_PERSON' AS finding, person_id, CAST(NULL AS VARCHAR) AS file,
           CAST(NULL AS INTEGER) AS source_row, detail
    FROM (SELECT * FROM same_id UNION ALL SELECT * FROM two_ids)
    ORDER BY person_id, detail
    """


def resolve_persons(engine: Engine, cfg: Config, ctx: PeriodContext) -> None:
    """Stage 3: build ``persons``, ``person_records`` and ``person_findings`` from ``population``.

    Args: the engine holding ``population`` (and the registry's persistent tables), the
    run's config, the period context. Raises PeriodAborted before changing anything when
    the population is empty or has too many rows without a usable ID.
    """
    check_population(engine, cfg)
    ensure_registry_tables(engine)
    engine.execute(population_keyed_sql())
    engine.execute(person_candidates_sql())
    engine.execute(match_by_id_sql())
    engine.execute(match_without_id_sql())
    engine.execute(match_corrected_sql())
    last = scalar(engine, last_sequence_sql(), [f"P{ctx.district_code}-%"])
    engine.execute(new_person_ids_sql(), [ctx.district_code, int(last or 0)])
    engine.execute(persons_sql())
    engine.execute(person_records_sql())
    engine.execute(duplicate_person_sql())
    for t in ("_rp_pop", "_rp_cand", "_rp_match"):
        engine.execute(f"DROP TABLE IF EXISTS {t}")
