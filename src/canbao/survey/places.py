"""Township and village names, and the folder and file names built from them."""

from __future__ import annotations

from canbao.core import refdata
from canbao.core.config import Config
from canbao.core.engine import Engine
from canbao.survey.rosters import safe_name


def place_names(
    engine: Engine, cfg: Config, district_code: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Township and village names: params > the period's ``population`` > bundled list."""
    towns: dict[str, str] = {}
    villages: dict[str, str] = {}
    ref_t = refdata.townships(district_code)
    ref_v = refdata.villages(district_code)
    towns.update(dict(zip(ref_t["code"], ref_t["name"], strict=True)))
    villages.update(dict(zip(ref_v["code"], ref_v["name"], strict=True)))
    if engine.table_exists("population"):
        cols = set(engine.query_df("SELECT * FROM population LIMIT 0").columns)
        if {"township_code", "township_name"} <= cols:
            df = engine.query_df(_names_sql("township_code", "township_name"))
            towns.update({k: v for k, v in zip(df["code"], df["name"], strict=True) if v})
        if {"village_code", "village_name"} <= cols:
            df = engine.query_df(_names_sql("village_code", "village_name"))
            villages.update({k: v for k, v in zip(df["code"], df["name"], strict=True) if v})
    towns.update({str(k): str(v) for k, v in cfg.township_names.items()})
    return towns, villages


def _names_sql(code: str, name: str) -> str:
    """Most frequent non-empty name per code (ties: smallest), from population."""
    return f"""
        SELECT code, first(name ORDER BY n DESC, name) AS name FROM (
            SELECT {code} AS code, trim({name}) AS name, count(*) AS n FROM population
            WHERE {code} IS NOT NULL AND coalesce(trim({name}), '') <> ''
            GROUP BY ALL) GROUP BY code ORDER BY code"""


def district_name(cfg: Config) -> str:
    if cfg.district_name:
        return cfg.district_name
    c = refdata.counties().loc[lambda d: d["code"] == cfg.district_code]
    return str(c.iloc[0]["name"]) if len(c) else cfg.district_code


def _place(code: str | None, names: dict[str, str], blank: str) -> str:
    if not code:
        return blank
    name = names.get(code, "")
    return safe_name(f"{code}_{name}" if name else code)
