"""Run parameters: defaults from the contract, overridden by ``params/<district>.yaml``.

YAML becomes frozen dataclasses, so an unknown key fails loudly instead of being
silently ignored (papermill only warns about unknown parameters).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import yaml

from canbao.core.config_sections import (
    HUNAN_IMPORT_COLUMNS,
    IMPORT_FIELDS,
    BulletinConfig,
    EngineConfig,
    LinkageConfig,
    ProvincialImportConfig,
    SafetyConfig,
    SurveyConfig,
)
from canbao.core.errors import CanbaoError, UsageError
from canbao.core.schema import EXTRACTS

# The sections are importable from here too (``from canbao.core.config import LinkageConfig``).
__all__ = [
    "CODE_TABLES",
    "HUNAN_IMPORT_COLUMNS",
    "IMPORT_FIELDS",
    "RANGES",
    "BulletinConfig",
    "Config",
    "EngineConfig",
    "LinkageConfig",
    "ParamsError",
    "ProvincialImportConfig",
    "SafetyConfig",
    "SurveyConfig",
    "config_from_dict",
    "load_config",
]


@dataclass(frozen=True)
class Config:
    """Everything a district run needs besides its input folder."""

    district_code: str
    district_name: str = ""
    # Workers for township notebooks; 0 means the machine's core count.
    workers: int = 0
    # Per extract: source header -> contract header (e.g. {"hukou": {"身份证号": "公民身份号码"}}).
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per code table: source value -> contract code (e.g. {"hukou_status": {"其它": "管理中"}}).
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Township display names overriding the hukou extract / reference list.
    township_names: dict[str, str] = field(default_factory=dict)
    linkage: LinkageConfig = field(default_factory=LinkageConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    bulletin: BulletinConfig = field(default_factory=BulletinConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    provincial_import: ProvincialImportConfig = field(default_factory=ProvincialImportConfig)

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {
    "linkage": LinkageConfig,
    "safety": SafetyConfig,
    "survey": SurveyConfig,
    "bulletin": BulletinConfig,
    "engine": EngineConfig,
}
# Code tables a district may map values into (``codes: {<table>: {source: code}}``).
CODE_TABLES = ("benefit_status", "enroll_status", "ethnicity", "hukou_status", "scheme", "sex")
# Closed ranges of numbers (dotted key -> (low, high, what the message says)).
RANGES: dict[str, tuple[float, float | None, str]] = {
    "workers": (0, None, "不小于 0 的整数（0 表示按 CPU 核数）"),
    "linkage.match_threshold": (0.0, 1.0, "0 到 1 之间的概率"),
    "linkage.review_threshold": (0.0, 1.0, "0 到 1 之间的概率"),
    "linkage.em_max_pairs": (1.0, None, "正数"),
    "linkage.u_max_pairs": (1.0, None, "正数"),
    "safety.max_unusable_id_share": (0.0, 1.0, "0 到 1 之间的比例"),
    "survey.student_max_age": (1, 150, "1 到 150 之间的整数"),
    "engine.threads": (0, None, "不小于 0 的整数（0 表示按 CPU 核数）"),
}
_TYPE_NAMES = {int: "整数", float: "数值", str: "文本", bool: "true 或 false"}


class ParamsError(UsageError, ValueError):
    """A params file (or dict) that does not fit the schema: names the file and the key."""


def _fail(file: str, code: str, key: str, **fields: object) -> ParamsError:
    return ParamsError(file, code, key=key, **fields)


def _check_scalar(file: str, key: str, value: Any, hint: Any) -> Any:
    """``value`` checked against a field's type hint (Literal, Optional, int, float, str, bool)."""
    if get_origin(hint) is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise _fail(
                file, "params_bad_choice", key, value=repr(value), allowed=", ".join(allowed)
            )
        return value
    if get_origin(hint) in (Union, types.UnionType):
        if value is None and type(None) in get_args(hint):
            return None
        hint = next(a for a in get_args(hint) if a is not type(None))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[hint]
    if not ok:
        raise _fail(file, "params_bad_type", key, value=repr(value), expected=_TYPE_NAMES[hint])
    if key in RANGES:
        low, high, what = RANGES[key]
        if value < low or (high is not None and value > high) or value != value:
            raise _fail(file, "params_out_of_range", key, value=repr(value), expected=what)
    return float(value) if hint is float else value


def _check_keys(file: str, prefix: str, raw: dict[str, Any], allowed: list[str]) -> None:
    for key in raw:
        if key not in allowed:
            raise _fail(
                file, "params_unknown_key", f"{prefix}{key}", allowed=", ".join(sorted(allowed))
            )


def _check_section(file: str, name: str, cls: type, raw: Any) -> Any:
    if isinstance(raw, cls):
        return raw
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _fail(file, "params_bad_type", name, value=repr(raw), expected="“键: 值”映射")
    hints = get_type_hints(cls)
    _check_keys(file, f"{name}.", raw, [f.name for f in dataclasses.fields(cls)])
    values = {k: _check_scalar(file, f"{name}.{k}", v, hints[k]) for k, v in raw.items()}
    try:
        return cls(**values)
    except ValueError as exc:  # a section's own check (engine.memory_limit "2 gigs")
        raise _fail(file, "params_bad_value", name, detail=str(exc)) from None


def _check_import_section(file: str, raw: Any) -> ProvincialImportConfig:
    """``provincial_import``: its texts like any section's, its column list and code table
    by :class:`ProvincialImportConfig` itself (the same checks as when built in code)."""
    name, cls = "provincial_import", ProvincialImportConfig
    if isinstance(raw, cls):
        return raw
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise _fail(file, "params_bad_type", name, value=repr(raw), expected="“键: 值”映射")
    _check_keys(file, f"{name}.", raw, [f.name for f in dataclasses.fields(cls)])
    values = {
        k: v if k in ("columns", "codes") else _check_scalar(file, f"{name}.{k}", v, str)
        for k, v in raw.items()
    }
    try:
        return cls(**values)
    except CanbaoError as exc:
        raise _fail(file, "params_provincial_import", name, **exc.fields) from None


def _check_mapping(file: str, key: str, raw: Any) -> dict[str, dict[str, str]]:
    """``{name: {source: target}}`` with text on both sides (YAML may give numbers)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(file, "params_bad_type", key, value=repr(raw), expected="“键: 值”映射")
    out: dict[str, dict[str, str]] = {}
    for name, pairs in raw.items():
        if not isinstance(pairs, dict):
            raise _fail(
                file, "params_bad_type", f"{key}.{name}", value=repr(pairs), expected="“键: 值”映射"
            )
        out[str(name)] = {str(k): str(v) for k, v in pairs.items()}
    return out


def _check_headers(file: str, headers: dict[str, dict[str, str]]) -> None:
    """Extract names and target columns of ``headers`` exist in the contract."""
    by_name = {e.name: e for e in EXTRACTS}
    for name, pairs in headers.items():
        extract = by_name.get(name)
        if extract is None:
            raise _fail(
                file,
                "params_unknown_extract",
                f"headers.{name}",
                extract=name,
                allowed=", ".join(by_name),
            )
        targets = {*extract.columns, *extract.columns.values()}
        for source, target in pairs.items():
            if target not in targets:
                raise _fail(
                    file,
                    "params_unknown_column",
                    f"headers.{name}.{source}",
                    source=source,
                    target=target,
                    extract=name,
                    allowed=", ".join(extract.columns),
                )


def _township_names(file: str, district: str, names: dict[Any, Any]) -> dict[str, str]:
    """``township_names`` keyed by 9-digit township codes of this district. A code typed
    with full-width digits (４３０３０２００１) or spaces is folded; any other key would
    rename no township without a word, so it is refused by name."""
    out: dict[str, str] = {}
    for key, name in names.items():
        code = unicodedata.normalize("NFKC", str(key)).strip().replace(" ", "")
        if not re.fullmatch(r"\d{9}", code) or (district and not code.startswith(district)):
            raise _fail(
                file, "params_township_code", f"township_names.{key}", value=key, district=district
            )
        out[code] = str(name)
    return out


def config_from_dict(raw: dict[str, Any], file: str = "params") -> Config:
    """Build a Config, checking every key, type, range and allowed value.

    Raises :class:`ParamsError` (exit code 2) naming ``file`` and the dotted key: a typo
    or a wrong type must stop the run before anything is read, not fail later or never.
    """
    raw = dict(raw)
    hints = get_type_hints(Config)
    _check_keys(file, "", raw, [f.name for f in dataclasses.fields(Config)])
    for name, cls in _SECTIONS.items():
        if name in raw:
            raw[name] = _check_section(file, name, cls, raw[name])
    if "provincial_import" in raw:
        raw["provincial_import"] = _check_import_section(file, raw["provincial_import"])
    if isinstance(raw.get("district_code"), int) and not isinstance(raw["district_code"], bool):
        raw["district_code"] = str(raw["district_code"])
    for key in ("district_code", "district_name", "workers"):
        if key in raw:
            raw[key] = _check_scalar(file, key, raw[key], hints[key])
    for key in ("headers", "codes"):
        if key in raw:
            raw[key] = _check_mapping(file, key, raw[key])
    if "township_names" in raw:
        names = raw["township_names"] or {}
        if not isinstance(names, dict):
            raise _fail(
                file,
                "params_bad_type",
                "township_names",
                value=repr(names),
                expected="“键: 值”映射",
            )
        raw["township_names"] = _township_names(file, str(raw.get("district_code", "")), names)
    _check_headers(file, raw.get("headers", {}))
    for table in raw.get("codes", {}):
        if table not in CODE_TABLES:
            raise _fail(
                file,
                "params_unknown_code_table",
                f"codes.{table}",
                table=table,
                allowed=", ".join(CODE_TABLES),
            )
    cfg = Config(**raw)
    if cfg.linkage.review_threshold > cfg.linkage.match_threshold:
        raise _fail(
            file,
            "params_out_of_range",
            "linkage.review_threshold",
            value=repr(cfg.linkage.review_threshold),
            expected=f"不大于 linkage.match_threshold（{cfg.linkage.match_threshold}）",
        )
    return cfg


def load_config(district_code: str, params_dir: Path | None = None) -> Config:
    """Defaults for ``district_code``, overridden by ``params/<district_code>.yaml`` if present."""
    raw: dict[str, Any] = {"district_code": district_code}
    file = "params"
    if params_dir is not None:
        path = Path(params_dir) / f"{district_code}.yaml"
        file = str(path)
        if path.exists():
            loaded = _read_yaml(path)
            found = loaded.get("district_code", district_code)
            if str(found) != district_code:
                raise _fail(
                    file,
                    "params_district_mismatch",
                    "district_code",
                    found=found,
                    expected=district_code,
                )
            raw.update(loaded)
    return config_from_dict(raw, file)


_FULLWIDTH_KEY = re.compile(r"^\s*[^\s#:：'\"\-][^:：#'\"]*：")


def _fullwidth_colon_line(text: str) -> int | None:
    """The first line whose key is followed by a full-width colon, 1-based."""
    for k, line in enumerate(text.splitlines(), 1):
        if _FULLWIDTH_KEY.match(line):
            return k
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    """The params file as a mapping; ParamsError when it is no YAML or no mapping.

    Written on a Chinese Windows PC, the file may be GBK (Notepad's old "ANSI") or start
    with a BOM: both are read. A full-width colon (``workers： 2``, typed with a Chinese
    input method) is named with its line instead of YAML's own puzzle.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ParamsError(
                str(path), "params_not_yaml", detail=f"不是 UTF-8 或 GBK 文本（{exc.reason}）"
            ) from None
    fullwidth = _fullwidth_colon_line(text)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        if fullwidth is not None:
            raise ParamsError(str(path), "params_fullwidth_colon", row=fullwidth) from None
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        detail = str(getattr(exc, "problem", None) or exc).strip()
        raise ParamsError(str(path), "params_not_yaml", row=row, detail=detail) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or fullwidth is not None:
        if fullwidth is not None:
            raise ParamsError(str(path), "params_fullwidth_colon", row=fullwidth)
        raise ParamsError(str(path), "params_not_mapping", kind=type(loaded).__name__)
    return loaded
