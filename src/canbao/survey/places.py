"""Township and village names for the survey's workbooks, and the file names built from them."""

from __future__ import annotations

from canbao.core import places
from canbao.core.config import Config
from canbao.core.engine import Engine


def place_names(
    engine: Engine, cfg: Config, district_code: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(township names, village names) by :func:`canbao.core.places.unit_names`."""
    towns = places.unit_names(engine, "township", district_code, cfg.township_names)
    return towns, places.unit_names(engine, "village", district_code)


def district_name(cfg: Config) -> str:
    """The district's display name (:func:`canbao.core.places.district_name`)."""
    return places.district_name(cfg.district_code, cfg.district_name)


def safe_name(text: str) -> str:
    """A file-name part: path separators and reserved characters replaced."""
    bad = '<>:"/\\|?*\x00'
    out = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(text)).strip()
    return out.lstrip(".") or "_"


def _place(code: str | None, names: dict[str, str], blank: str) -> str:
    if not code:
        return blank
    name = names.get(code, "")
    return safe_name(f"{code}_{name}" if name else code)
