"""Run parameters: defaults from the contract, overridden by ``params/<district>.yaml``.

YAML becomes frozen dataclasses, so an unknown key fails loudly instead of being
silently ignored (papermill only warns about unknown parameters).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


@dataclass(frozen=True)
class LinkageConfig:
    """Thresholds and knobs of the comparison (比对) stage."""

    # Where Splink predicts: the registry's DuckDB, or Spark (SparkAPI) for a city.
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[*]"  # a cluster's master URL, or local[N]
    spark_driver_memory: str = "4g"
    # Parquet hand-over folder ("" = system temp); on a cluster, a shared mount.
    spark_work_dir: str = ""
    # Splink match probability at or above which a probabilistic link is accepted.
    match_threshold: float = 0.99
    # Links with probability in [review_threshold, match_threshold) go to clerical review.
    review_threshold: float = 0.5
    # EM and u-sampling caps (see ../docs/design.md and splink5 notes).
    em_max_pairs: float = 2e6
    u_max_pairs: float = 1e6
    seed: int = 20261128
    # Relink the whole district instead of only new/changed rows.
    full_relink: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ("duckdb", "spark"):
            raise ValueError(f"linkage.engine: {self.engine!r} (expected duckdb or spark)")


@dataclass(frozen=True)
class SafetyConfig:
    """Whole-period guards: a bad extract aborts before the registry changes."""

    # Share of population rows without a usable ID above which the period aborts.
    max_unusable_id_share: float = 0.05


@dataclass(frozen=True)
class SurveyConfig:
    """Household survey (入户调查) rules."""

    student_max_age: int = 25  # a claimed 在校学生 aged >= this is rejected
    roster_password: str | None = None


@dataclass(frozen=True)
class BulletinConfig:
    """Footer and ranking of the 进度通报."""

    unit: str = ""  # 填报单位
    reviewer: str = ""  # 审核人
    preparer: str = ""  # 填表人
    rank_by: Literal["coverage", "survey_completion"] = "coverage"


_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class EngineConfig:
    """What every DuckDB connection of a run may use: memory, spill folder, threads.

    These change how fast and in how much memory a period runs, never its outputs
    (every export has a total order), so they are left out of the run's fingerprint.
    """

    # DuckDB's memory limit per connection ("2GiB", "512MiB"…); "" = DuckDB's own
    # default, 80 % of the machine's memory. Beyond it DuckDB spills to temp_directory.
    memory_limit: str = "2GiB"
    # Spill folder; "" = <output root>/<district>/duckdb_tmp. Each process gets its own
    # sub-folder, removed when its connection closes.
    temp_directory: str = ""
    # Threads per connection; 0 = DuckDB's default (one per core).
    threads: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.memory_limit, str) or (
            self.memory_limit and not _SIZE.match(self.memory_limit.strip())
        ):
            raise ValueError(
                f"engine.memory_limit: {self.memory_limit!r} (expected a size such as 2GiB "
                'or 512MiB, or "" for DuckDB\'s default)'
            )
        if not isinstance(self.temp_directory, str):
            raise ValueError(f"engine.temp_directory: {self.temp_directory!r} (expected a folder)")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise ValueError(f"engine.threads: {self.threads!r} (expected 0 or a whole number)")


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


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build a Config, raising ``ValueError`` on unknown keys (typos must not pass)."""
    raw = dict(raw)
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown params key(s): {', '.join(sorted(unknown))}")
    for name, cls in _SECTIONS.items():
        if name in raw and not isinstance(raw[name], cls):
            section = dict(raw[name] or {})
            bad = set(section) - {f.name for f in dataclasses.fields(cls)}
            if bad:
                raise ValueError(f"unknown params key(s) in {name}: {', '.join(sorted(bad))}")
            raw[name] = cls(**section)
    raw["district_code"] = str(raw["district_code"])
    return Config(**raw)


def load_config(district_code: str, params_dir: Path | None = None) -> Config:
    """Defaults for ``district_code``, overridden by ``params/<district_code>.yaml`` if present."""
    raw: dict[str, Any] = {"district_code": district_code}
    if params_dir is not None:
        path = Path(params_dir) / f"{district_code}.yaml"
        if path.exists():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if str(loaded.get("district_code", district_code)) != district_code:
                raise ValueError(
                    f"{path}: district_code {loaded['district_code']} != {district_code}"
                )
            raw.update(loaded)
    return config_from_dict(raw)
