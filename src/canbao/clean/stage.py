"""Stage 2: raw_* text → the canonical tables (population, enrollment, national_match, students, employers).

Python-only work (ID check, OpenCC, pypinyin, code tables) runs once per *distinct*
raw value; the results go back into DuckDB as small mapping tables and are joined
in SQL. That is what keeps a million people in seconds rather than minutes.
The functions themselves live in :mod:`canbao.clean` (one implementation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from canbao.classify import eligibility as el
from canbao.clean.field_issues import field_issues_sql
from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, transaction

# Raw tables and which of their columns feed each mapping.
_ID_SOURCES = ("raw_hukou", "raw_residents", "raw_enrollment", "raw_national_match", "raw_students")
_NAME_SOURCES = _ID_SOURCES
_DATE_SOURCES = (
    ("raw_hukou", "birth_raw"),
    ("raw_hukou", "status_date_raw"),
    ("raw_residents", "birth_raw"),
    ("raw_residents", "registered_raw"),
    ("raw_enrollment", "birth_raw"),
    ("raw_enrollment", "enroll_date_raw"),
)
_SEX_SOURCES = (
    ("raw_hukou", "sex_raw"),
    ("raw_residents", "sex_raw"),
    ("raw_enrollment", "sex_raw"),
)
_SCHEME_SOURCES = (("raw_enrollment", "scheme_raw"), ("raw_national_match", "scheme_raw"))
_ENROLL_SOURCES = (
    ("raw_enrollment", "enroll_status_raw"),
    ("raw_national_match", "enroll_status_raw"),
)
_BENEFIT_SOURCES = (("raw_enrollment", "benefit_status_raw"),)
_LIFE_SOURCES = (("raw_hukou", "hukou_status_raw"),)
_CREDIT_SOURCES = (("raw_employers", "credit_code_raw"),)
_ETHNICITY_SOURCES = (("raw_hukou", "ethnicity"),)

MAPS = ("id", "name", "date", "sex", "scheme", "enroll", "benefit", "life", "credit", "ethnicity")
_MAP_PREFIX = "_clean_map_"

COMMON_COLUMNS = [
    "id_raw",
    "id_number",
    "id_status",
    "id_reason",
    "id_candidate",
    "name_raw",
    "name",
    "name_simp",
    "name_pinyin",
    "sex",
    "birth_date",
]
TABLE_COLUMNS: dict[str, list[str]] = {
    "population": [
        "file",
        "source_row",
        "source",
        *COMMON_COLUMNS,
        "ethnicity",
        "household_no",
        "relation",
        "address",
        "township_code",
        "township_name",
        "village_code",
        "village_name",
        "hukou_status_raw",
        "life_status",
        "status_date",
        "origin_region",
        "registered_date",
    ],
    "enrollment": [
        "file",
        "source_row",
        *COMMON_COLUMNS,
        "member_no",
        "scheme_raw",
        "scheme",
        "family",
        "enroll_status",
        "benefit_status",
        "insured",
        "active",
        "enroll_date",
        "employer_no",
        "region_code",
    ],
    "national_match": [
        "file",
        "source_row",
        *COMMON_COLUMNS,
        "scheme",
        "family",
        "enroll_status",
        "region_code",
        "counts",
    ],
    "students": ["file", "source_row", *COMMON_COLUMNS, "school"],
    "employers": [
        "file",
        "source_row",
        "employer_no",
        "credit_code_raw",
        "credit_code",
        "credit_valid",
        "credit_reason",
        "employer_name",
        "address",
        "township_code",
        "status_raw",
    ],
}

_FULL = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－"
_HALF = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"


# ------------------------------------------------------------------ SQL snippets


def code_sql(col: str) -> str:
    """A code/number column folded: full-width → ASCII, no spaces or apostrophes, '' → NULL.

    The fold (``translate``) costs ~5 s per million rows in DuckDB, so it only runs on
    values that hold anything but printable ASCII without spaces and quotes.
    """
    fold = (
        f"NULLIF(regexp_replace(translate({col}, '{_FULL}', '{_HALF}'), "
        "'[[:space:]\\x{3000}\\x{00a0}''`]', '', 'g'), '')"
    )
    return f"CASE WHEN regexp_matches({col}, '[^!-~]|[''`]') THEN {fold} ELSE {col} END"


def text_sql(col: str) -> str:
    """Free text trimmed of ASCII and full-width spaces at both ends, '' → NULL."""
    ws = "[[:space:]\\x{3000}\\x{00a0}]"
    return f"NULLIF(regexp_replace({col}, '^{ws}+|{ws}+$', '', 'g'), '')"


def distinct_values_sql(sources: Iterable[tuple[str, str]]) -> str:
    """Distinct non-NULL values of several (table, column) pairs, as column ``raw``, sorted."""
    union = " UNION ".join(
        f'SELECT "{c}" AS raw FROM "{t}" WHERE "{c}" IS NOT NULL' for t, c in sources
    )
    return f"SELECT DISTINCT raw FROM ({union}) ORDER BY raw"


def _common_select_sql(alias: str, *, has_sex_birth: bool) -> str:
    sex = "CAST(sx.code AS VARCHAR)" if has_sex_birth else "CAST(NULL AS VARCHAR)"
    birth = "CAST(bd.d AS DATE)" if has_sex_birth else "CAST(NULL AS DATE)"
    return f"""
        {alias}.id_raw,
        CAST(mi.id_number AS VARCHAR) AS id_number,
        CASE WHEN {alias}.id_raw IS NULL THEN 'missing' ELSE CAST(mi.id_status AS VARCHAR) END AS id_status,
        CAST(mi.id_reason AS VARCHAR) AS id_reason,
        CAST(mi.id_candidate AS VARCHAR) AS id_candidate,
        {alias}.name_raw,
        CAST(mn.name AS VARCHAR) AS name,
        CAST(mn.name_simp AS VARCHAR) AS name_simp,
        CAST(mn.name_pinyin AS VARCHAR) AS name_pinyin,
        {sex} AS sex,
        {birth} AS birth_date"""


def _common_joins_sql(alias: str, *, has_sex_birth: bool) -> str:
    joins = f"""
        LEFT JOIN {_MAP_PREFIX}id mi ON mi.raw = {alias}.id_raw
        LEFT JOIN {_MAP_PREFIX}name mn ON mn.raw = {alias}.name_raw"""
    if has_sex_birth:
        joins += f"""
        LEFT JOIN {_MAP_PREFIX}sex sx ON sx.raw = {alias}.sex_raw
        LEFT JOIN {_MAP_PREFIX}date bd ON bd.raw = {alias}.birth_raw"""
    return joins


def population_sql() -> str:
    """hukou + residents in one table; a resident has no 户籍状态 and is alive."""
    hukou = f"""
        SELECT h.file, h.source_row, 'hukou' AS source, {_common_select_sql("h", has_sex_birth=True)},
            COALESCE(CAST(et.code AS VARCHAR), {text_sql("h.ethnicity")}) AS ethnicity,
            {code_sql("h.household_no")} AS household_no,
            {text_sql("h.relation")} AS relation,
            {text_sql("h.address")} AS address,
            {code_sql("h.township_code")} AS township_code,
            {text_sql("h.township_name")} AS township_name,
            {code_sql("h.village_code")} AS village_code,
            {text_sql("h.village_name")} AS village_name,
            h.hukou_status_raw,
            COALESCE(CAST(lf.code AS VARCHAR), 'alive') AS life_status,
            CAST(sd.d AS DATE) AS status_date,
            CAST(NULL AS VARCHAR) AS origin_region,
            CAST(NULL AS DATE) AS registered_date,
            0 AS _src
        FROM raw_hukou h {_common_joins_sql("h", has_sex_birth=True)}
        LEFT JOIN {_MAP_PREFIX}life lf ON lf.raw = h.hukou_status_raw
        LEFT JOIN {_MAP_PREFIX}date sd ON sd.raw = h.status_date_raw
        LEFT JOIN {_MAP_PREFIX}ethnicity et ON et.raw = h.ethnicity"""
    residents = f"""
        SELECT r.file, r.source_row, 'resident' AS source, {_common_select_sql("r", has_sex_birth=True)},
            CAST(NULL AS VARCHAR) AS ethnicity,
            CAST(NULL AS VARCHAR) AS household_no,
            CAST(NULL AS VARCHAR) AS relation,
            {text_sql("r.address")} AS address,
            {code_sql("r.township_code")} AS township_code,
            CAST(NULL AS VARCHAR) AS township_name,
            {code_sql("r.village_code")} AS village_code,
            CAST(NULL AS VARCHAR) AS village_name,
            CAST(NULL AS VARCHAR) AS hukou_status_raw,
            'alive' AS life_status,
            CAST(NULL AS DATE) AS status_date,
            {code_sql("r.origin_region")} AS origin_region,
            CAST(rd.d AS DATE) AS registered_date,
            1 AS _src
        FROM raw_residents r {_common_joins_sql("r", has_sex_birth=True)}
        LEFT JOIN {_MAP_PREFIX}date rd ON rd.raw = r.registered_raw"""
    cols = ", ".join(TABLE_COLUMNS["population"])
    return (
        f"CREATE OR REPLACE TABLE population AS SELECT {cols} FROM ({hukou} UNION ALL {residents}) "
        "ORDER BY _src, file, source_row"
    )


def enrollment_sql() -> str:
    """The enrollment table; its ``insured``/``active`` come from the one rule in eligibility."""
    cols = ", ".join(TABLE_COLUMNS["enrollment"])
    enroll, benefit = "CAST(es.code AS INTEGER)", "CAST(bs.code AS INTEGER)"
    return f"""
        CREATE OR REPLACE TABLE enrollment AS SELECT {cols} FROM (
        SELECT e.file, e.source_row, {_common_select_sql("e", has_sex_birth=True)},
            {code_sql("e.member_no")} AS member_no,
            e.scheme_raw,
            CAST(sc.code AS VARCHAR) AS scheme,
            CAST(sc.family AS VARCHAR) AS family,
            CAST(es.code AS INTEGER) AS enroll_status,
            CAST(bs.code AS INTEGER) AS benefit_status,
            {el.insured_sql(enroll, benefit)} AS insured,
            {el.active_sql(enroll, benefit)} AS active,
            CAST(ed.d AS DATE) AS enroll_date,
            {code_sql("e.employer_no")} AS employer_no,
            {code_sql("e.region_code")} AS region_code
        FROM raw_enrollment e {_common_joins_sql("e", has_sex_birth=True)}
        LEFT JOIN {_MAP_PREFIX}scheme sc ON sc.raw = e.scheme_raw
        LEFT JOIN {_MAP_PREFIX}enroll es ON es.raw = e.enroll_status_raw
        LEFT JOIN {_MAP_PREFIX}benefit bs ON bs.raw = e.benefit_status_raw
        LEFT JOIN {_MAP_PREFIX}date ed ON ed.raw = e.enroll_date_raw
        ) ORDER BY file, source_row"""


def national_match_sql() -> str:
    """The national_match table; ``counts`` is eligibility's rule (not 终止 or 未参保; blank counts)."""
    cols = ", ".join(TABLE_COLUMNS["national_match"])
    return f"""
        CREATE OR REPLACE TABLE national_match AS SELECT {cols} FROM (
        SELECT n.file, n.source_row, {_common_select_sql("n", has_sex_birth=False)},
            CAST(sc.code AS VARCHAR) AS scheme,
            CAST(sc.family AS VARCHAR) AS family,
            CAST(es.code AS INTEGER) AS enroll_status,
            {code_sql("n.region_code")} AS region_code,
            {el.national_counts_sql("CAST(es.code AS INTEGER)")} AS counts
        FROM raw_national_match n {_common_joins_sql("n", has_sex_birth=False)}
        LEFT JOIN {_MAP_PREFIX}scheme sc ON sc.raw = n.scheme_raw
        LEFT JOIN {_MAP_PREFIX}enroll es ON es.raw = n.enroll_status_raw
        ) ORDER BY file, source_row"""


def students_sql() -> str:
    cols = ", ".join(TABLE_COLUMNS["students"])
    return f"""
        CREATE OR REPLACE TABLE students AS SELECT {cols} FROM (
        SELECT s.file, s.source_row, {_common_select_sql("s", has_sex_birth=False)},
            {text_sql("s.school")} AS school
        FROM raw_students s {_common_joins_sql("s", has_sex_birth=False)}
        ) ORDER BY file, source_row"""


def employers_sql() -> str:
    cols = ", ".join(TABLE_COLUMNS["employers"])
    return f"""
        CREATE OR REPLACE TABLE employers AS SELECT {cols} FROM (
        SELECT m.file, m.source_row,
            {code_sql("m.employer_no")} AS employer_no,
            m.credit_code_raw,
            CAST(cc.credit_code AS VARCHAR) AS credit_code,
            COALESCE(CAST(cc.credit_valid AS BOOLEAN), FALSE) AS credit_valid,
            CASE WHEN m.credit_code_raw IS NULL THEN 'missing'
                 ELSE CAST(cc.credit_reason AS VARCHAR) END AS credit_reason,
            {text_sql("m.employer_name")} AS employer_name,
            {text_sql("m.address")} AS address,
            {code_sql("m.township_code")} AS township_code,
            {text_sql("m.status_raw")} AS status_raw
        FROM raw_employers m
        LEFT JOIN {_MAP_PREFIX}credit cc ON cc.raw = m.credit_code_raw
        ) ORDER BY file, source_row"""


def unknown_codes_sql() -> str:
    """Rows per file with a code no table (nor params) knows: counted in the reconciliation."""
    return f"""
        WITH unknown AS (
            SELECT e.file, e.source_row FROM raw_enrollment e
            LEFT JOIN {_MAP_PREFIX}scheme sc ON sc.raw = e.scheme_raw
            LEFT JOIN {_MAP_PREFIX}enroll es ON es.raw = e.enroll_status_raw
            LEFT JOIN {_MAP_PREFIX}benefit bs ON bs.raw = e.benefit_status_raw
            WHERE (e.scheme_raw IS NOT NULL AND sc.code IS NULL)
               OR (e.enroll_status_raw IS NOT NULL AND es.code IS NULL)
               OR (e.benefit_status_raw IS NOT NULL AND bs.code IS NULL)
            UNION ALL
            SELECT n.file, n.source_row FROM raw_national_match n
            LEFT JOIN {_MAP_PREFIX}scheme sc ON sc.raw = n.scheme_raw
            LEFT JOIN {_MAP_PREFIX}enroll es ON es.raw = n.enroll_status_raw
            WHERE (n.scheme_raw IS NOT NULL AND sc.code IS NULL)
               OR (n.enroll_status_raw IS NOT NULL AND es.code IS NULL)
            UNION ALL
            SELECT h.file, h.source_row FROM raw_hukou h
            JOIN {_MAP_PREFIX}life lf ON lf.raw = h.hukou_status_raw
            WHERE NOT lf.known
        ), per_file AS (SELECT file, count(*) AS n FROM unknown GROUP BY file)
        UPDATE reconciliation SET unknown_codes = COALESCE(
            (SELECT n FROM per_file WHERE per_file.file = reconciliation.file), 0)"""


# ------------------------------------------------------------------ mappings

# A map is built from its distinct raw values this many at a time: Python holds one
# slice's results, DuckDB the map (a million people's distinct IDs never sit in pandas).
MAP_BATCH = 100_000

MapFn = Callable[[pd.Series], pd.DataFrame]


def _distinct(engine: Engine, sources: Iterable[tuple[str, str]]) -> pa.Array:
    """The sorted distinct values as one Arrow string array (a few bytes per value)."""
    sql = distinct_values_sql(sources)
    con = getattr(engine, "con", None)
    if con is not None and hasattr(con, "register"):
        table = con.sql(sql).to_arrow_table()
        return pa.concat_arrays([pa.array([], pa.string()), *table.column("raw").chunks])
    return pa.array(engine.query_df(sql)["raw"].astype(object).to_numpy(), pa.string())


def _scalar_map(fn: Callable[[str], Any], column: str = "code") -> MapFn:
    def build(values: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({column: [fn(v) for v in values]}, dtype=object)

    return build


def map_builders(
    cfg: Config, ctx: PeriodContext
) -> dict[str, tuple[tuple[tuple[str, str], ...], MapFn]]:
    """Per map: the (raw table, column) pairs its values come from, and raw values → its columns."""
    from canbao.clean import codes, creditcode, idnumber, names
    from canbao.core import dates

    overrides = {k: dict(v) for k, v in cfg.codes.items()}

    def id_map(values: pd.Series) -> pd.DataFrame:
        return idnumber.validate_ids(values, ctx.ref_date).reset_index(drop=True)

    def name_map(values: pd.Series) -> pd.DataFrame:
        out = names.name_keys(values).reset_index(drop=True)
        return out[["name", "name_simp", "name_pinyin"]]

    def date_map(values: pd.Series) -> pd.DataFrame:
        parsed = pd.Series(dates.parse_dates(values)).reset_index(drop=True)
        return pd.DataFrame({"d": _as_dates(parsed)})

    def scheme_map(values: pd.Series) -> pd.DataFrame:
        scheme_codes = [codes.scheme_code(v, overrides.get("scheme")) for v in values]
        return pd.DataFrame(
            {
                "code": scheme_codes,
                "family": [codes.scheme_family(c) if c else None for c in scheme_codes],
            },
            dtype=object,
        )

    def life_map(values: pd.Series) -> pd.DataFrame:
        statuses = overrides.get("hukou_status")
        return pd.DataFrame(
            {
                "code": [codes.life_status(v, statuses) for v in values],
                "known": [codes.is_known_hukou_status(v, statuses) for v in values],
            },
            dtype=object,
        )

    def credit_map(values: pd.Series) -> pd.DataFrame:
        out = creditcode.validate_credit_codes(values).reset_index(drop=True)
        return out[["credit_code", "credit_valid", "credit_reason"]]

    def code_map(fn: Callable[..., Any], key: str) -> MapFn:
        return _scalar_map(lambda v: fn(v, overrides.get(key)))

    ids = tuple((t, "id_raw") for t in _ID_SOURCES)
    return {
        "id": (ids, id_map),
        "name": (tuple((t, "name_raw") for t in _NAME_SOURCES), name_map),
        "date": (_DATE_SOURCES, date_map),
        "sex": (_SEX_SOURCES, code_map(codes.sex_code, "sex")),
        "scheme": (_SCHEME_SOURCES, scheme_map),
        "enroll": (_ENROLL_SOURCES, code_map(codes.enroll_status_code, "enroll_status")),
        "benefit": (_BENEFIT_SOURCES, code_map(codes.benefit_status_code, "benefit_status")),
        "life": (_LIFE_SOURCES, life_map),
        "ethnicity": (_ETHNICITY_SOURCES, code_map(codes.ethnicity_code, "ethnicity")),
        "credit": (_CREDIT_SOURCES, credit_map),
    }


def create_map_sql(name: str) -> str:
    """The empty map table, typed (so an empty or all-NULL map still joins as VARCHAR)."""
    cols = ", ".join(f'"{c}" {_SQL_TYPES[str(t)]}' for c, t in MAP_TYPES[name].items())
    return f'CREATE OR REPLACE TEMP TABLE "{_MAP_PREFIX}{name}" ({cols})'


def write_map(
    engine: Engine,
    name: str,
    sources: Iterable[tuple[str, str]],
    build: MapFn,
    batch: int | None = None,
) -> int:
    """Create map ``name`` from the distinct values of ``sources``, ``batch`` (default
    :data:`MAP_BATCH`) values at a time. Returns the number of values mapped.
    """
    batch = batch or MAP_BATCH
    engine.execute(create_map_sql(name))
    values = _distinct(engine, sources)
    for start in range(0, len(values), batch):
        raw = pd.Series(values.slice(start, batch).to_pylist(), dtype=object)
        frame = build(raw)
        frame.insert(0, "raw", raw.to_numpy(dtype=object))
        _append(engine, _MAP_PREFIX + name, _typed(frame, MAP_TYPES[name]))
    return len(values)


def _append(engine: Engine, table: str, rows: pa.Table) -> None:
    """INSERT ``rows`` into ``table``; DuckDB scans the Arrow table in place."""
    view = f"_view{table}"
    con = getattr(engine, "con", None)
    if con is not None and hasattr(con, "register"):
        con.register(view, rows)
        try:
            engine.execute(f'INSERT INTO "{table}" SELECT * FROM "{view}"')
        finally:
            con.unregister(view)
        return
    engine.register_df(view, rows.to_pandas(types_mapper=pd.ArrowDtype))
    try:
        engine.execute(f'INSERT INTO "{table}" SELECT * FROM "{view}"')
    finally:
        engine.execute(f'DROP TABLE IF EXISTS "{view}"')


MAP_TYPES: dict[str, dict[str, pa.DataType]] = {
    "id": {
        "raw": pa.string(),
        "id_number": pa.string(),
        "id_status": pa.string(),
        "id_reason": pa.string(),
        "id_candidate": pa.string(),
    },
    "name": {
        "raw": pa.string(),
        "name": pa.string(),
        "name_simp": pa.string(),
        "name_pinyin": pa.string(),
    },
    "date": {"raw": pa.string(), "d": pa.date32()},
    "sex": {"raw": pa.string(), "code": pa.string()},
    "scheme": {"raw": pa.string(), "code": pa.string(), "family": pa.string()},
    "enroll": {"raw": pa.string(), "code": pa.int32()},
    "benefit": {"raw": pa.string(), "code": pa.int32()},
    "life": {"raw": pa.string(), "code": pa.string(), "known": pa.bool_()},
    "ethnicity": {"raw": pa.string(), "code": pa.string()},
    "credit": {
        "raw": pa.string(),
        "credit_code": pa.string(),
        "credit_valid": pa.bool_(),
        "credit_reason": pa.string(),
    },
}


_SQL_TYPES = {"string": "VARCHAR", "date32[day]": "DATE", "int32": "INTEGER", "bool": "BOOLEAN"}


def _typed(df: pd.DataFrame, types: dict[str, pa.DataType]) -> pa.Table:
    """A slice of a map as Arrow with the map's column types."""
    arrays = {}
    for col, typ in types.items():
        try:
            arrays[col] = pa.array(df[col].to_numpy(dtype=object), type=typ, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[col] = pa.array([_plain(v, typ) for v in df[col].tolist()], type=typ)
    return pa.table(arrays)


def _plain(v: Any, typ: pa.DataType) -> Any:
    """One value as the Python type Arrow expects for ``typ`` (the slow path)."""
    if _isna(v):
        return None
    if pa.types.is_integer(typ):
        return int(v)
    if pa.types.is_string(typ):
        return str(v)
    if pa.types.is_boolean(typ):
        return bool(v)
    return v


def _isna(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _as_dates(parsed: pd.Series) -> list[Any]:
    out = []
    for v in parsed:
        if _isna(v):
            out.append(None)
        elif hasattr(v, "date") and callable(v.date):
            out.append(v.date())
        else:
            out.append(v)
    return out


# ------------------------------------------------------------------ stage


def standardise(engine: Engine, cfg: Config, ctx: PeriodContext) -> None:
    """Build population, enrollment, national_match, students and employers from raw_*."""
    for t in (
        "raw_hukou",
        "raw_residents",
        "raw_enrollment",
        "raw_national_match",
        "raw_students",
        "raw_employers",
    ):
        if not engine.table_exists(t):
            raise RuntimeError(f"{t} missing: run canbao.ingest.load_period first")
    maps = map_builders(cfg, ctx)
    try:
        for name, (sources, build) in maps.items():
            write_map(engine, name, sources, build)
        with transaction(engine):
            for sql in (
                population_sql(),
                enrollment_sql(),
                national_match_sql(),
                students_sql(),
                employers_sql(),
            ):
                engine.execute(sql)
            if engine.table_exists("reconciliation"):
                engine.execute(unknown_codes_sql())
            engine.execute(field_issues_sql(_MAP_PREFIX, ctx.ref_date))
    finally:
        for name in maps:
            engine.execute(f'DROP TABLE IF EXISTS "{_MAP_PREFIX}{name}"')
