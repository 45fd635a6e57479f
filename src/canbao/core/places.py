"""Names of the district, its 乡镇街道 and 村社区: one rule for every output that shows them.

Rosters, work lists, bulletins, notebook titles and the front page all name places
through these two functions, so a township is called the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from canbao.core import refdata

if TYPE_CHECKING:
    from canbao.core.engine import Engine

Level = Literal["township", "village"]


def district_name(district_code: str, configured: str = "") -> str:
    """The district's display name: params ``district_name``, else the bundled list's name
    of the county (雨湖区), else the code itself."""
    if configured:
        return configured
    c = refdata.counties()
    row = c.loc[c["code"] == district_code]
    return str(row.iloc[0]["name"]) if not row.empty else district_code


def unit_names(
    engine: Engine | None,
    level: Level,
    district_code: str = "",
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Code → name of every township (or village): ``overrides`` (params
    ``township_names``) > the period's ``population`` table > the bundled list.

    From ``population`` a code takes its most frequent non-blank name, spaces
    trimmed (ties: the smallest), so one mistyped row does not rename a township.
    """
    names: dict[str, str] = {}
    if district_code:
        ref = (
            refdata.townships(district_code)
            if level == "township"
            else refdata.villages(district_code)
        )
        names.update(dict(zip(ref["code"], ref["name"], strict=True)))
    code, name = f"{level}_code", f"{level}_name"
    if engine is not None and engine.table_exists("population"):
        cols = set(engine.query_df("SELECT * FROM population LIMIT 0").columns)
        if {code, name} <= cols:
            df = engine.query_df(names_sql(code, name))
            names.update(dict(zip(df["code"], df["name"], strict=True)))
    names.update({str(k): str(v) for k, v in (overrides or {}).items()})
    return names


def names_sql(code: str, name: str) -> str:
    """Most frequent non-blank trimmed ``name`` per ``code`` (ties: smallest), from population."""
    return f"""
        SELECT code, first(name ORDER BY n DESC, name) AS name FROM (
            SELECT {code} AS code, trim({name}) AS name, count(*) AS n FROM population
            WHERE {code} IS NOT NULL AND coalesce(trim({name}), '') <> ''
            GROUP BY ALL) GROUP BY code ORDER BY code"""
