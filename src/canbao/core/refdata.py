"""Bundled reference lists: GB/T 2260 counties and the townships/villages of three districts.

Read from the package folder ``canbao/reference`` (copied into the repository with
its README naming source, licence and date); never from outside the repository.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

PROVINCE_PREFIXES: frozenset[str] = frozenset([str(p) for p in range(11, 66)] + ["71", "81", "82"])


def _read(name: str) -> pd.DataFrame:
    with resources.files("canbao.reference").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@cache
def counties() -> pd.DataFrame:
    """Every county-level unit (NBS 2023): code, name, city_name, province_name, unit_type."""
    return _read("counties.csv")


@cache
def divisions() -> pd.DataFrame:
    """Townships (9-digit) and villages (12-digit) of the bundled districts (NBS 2021)."""
    return _read("townships_villages_3_counties.csv")


def county_name(code: str) -> str | None:
    """Full name such as 湖南省湘潭市雨湖区, or None if ``code`` is not in the list."""
    row = counties().loc[lambda d: d["code"] == code]
    if row.empty:
        return None
    r = row.iloc[0]
    city = "" if r["city_name"] in ("市辖区", "县", "省直辖县级行政区划") else r["city_name"]
    return f"{r['province_name']}{city}{r['name']}"


def townships(county_code: str) -> pd.DataFrame:
    """Townships of a bundled county: code, name (empty frame if the county is not bundled)."""
    d = divisions()
    return d.loc[
        (d["county_code"] == county_code) & (d["level"] == "township"),
        ["code", "name", "kind_by_code"],
    ].reset_index(drop=True)


def villages(county_code: str) -> pd.DataFrame:
    """Villages of a bundled county: code, name, township_code (parent)."""
    d = divisions()
    v = d.loc[
        (d["county_code"] == county_code) & (d["level"] == "village"),
        ["code", "name", "parent_code", "kind_by_code"],
    ]
    return v.rename(columns={"parent_code": "township_code"}).reset_index(drop=True)


def is_known_region_prefix(id_prefix6: str) -> bool:
    """GB 11643 region check per contract §7: only the province (first two digits) must exist."""
    return id_prefix6[:2] in PROVINCE_PREFIXES
