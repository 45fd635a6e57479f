"""The sections of the params file: linkage, safety, survey, bulletin, engine and the
provincial import layout, each a frozen dataclass (:class:`canbao.core.config.Config` holds them)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from canbao.core.errors import CanbaoError


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


# What a 批量导入 column can be filled with, per surveyed person.
IMPORT_FIELDS: dict[str, str] = {
    "name": "姓名",
    "id_number": "公民身份号码（完整）",
    "sex": "性别（号码第17位：奇数1，偶数2）",
    "birth_date": "出生日期（号码第7-14位）",
    "ethnicity": "民族代码（户籍；无两位代码时用 ethnicity_default）",
    "status_code": "参保意愿或参保状态（代码表“/”前）",
    "reason_code": "未参保原因或参保身份（代码表“/”后）",
    "outcome": "核实情况（文字）",
    "hukou_kind": "户籍性质（街道或社区 hukou_urban，否则 hukou_rural）",
    "division": "12位行政区划（回收表的村社区代码）",
    "township_code": "乡镇街道代码（9位）",
    "collector": "采集人",
    "collected_date": "采集日期",
    "address": "户籍地址",
    "phone": "联系电话（本人）",
    "actual_address": "实际居住地",
    "uninsured_reason": "未参保原因（文字）",
    "note": "备注",
    "entry": "导入类型（新增或更正）",
}

# The 湖南 批量导入 template, column by column (A…Q, then R saying 新增 or 更正): a
# ``field`` is filled per person (canbao.survey.provincial.FIELDS), a ``value`` is fixed.
HUNAN_IMPORT_COLUMNS: tuple[dict[str, str], ...] = (
    {"title": "姓名", "field": "name"},
    {"title": "证件类型", "value": "01"},
    {"title": "证件号码", "field": "id_number"},
    {"title": "性别", "field": "sex"},
    {"title": "民族", "field": "ethnicity"},
    {"title": "出生日期", "field": "birth_date"},
    {"title": "参保意愿或参保状态", "field": "status_code"},
    {"title": "未参保原因或参保身份", "field": "reason_code"},
    {"title": "户籍性质", "field": "hukou_kind"},
    {"title": "行政区划", "field": "division"},
    {"title": "采集人", "field": "collector"},
    {"title": "采集人电话", "value": ""},
    {"title": "标识", "value": "0"},
    {"title": "户籍地址", "field": "address"},
    {"title": "预留1", "value": ""},
    {"title": "预留2", "value": ""},
    {"title": "备注", "field": "note"},
    {"title": "导入类型", "field": "entry"},
)


@dataclass(frozen=True)
class ProvincialImportConfig:
    """The provincial 批量导入 file (canbao.survey.provincial): layout, codes, encoding.

    The default is the 湖南 template. Another province lists its own ``columns`` (title
    plus a ``field`` or a fixed ``value``), overrides any 核实情况 → ``codes`` entry
    (``"状态/原因"``, e.g. ``"0/200"``; the rest keep the roster's table), and names the
    CSV ``encoding`` its system reads. Checked here, when the params load.
    """

    columns: tuple[dict[str, str], ...] = HUNAN_IMPORT_COLUMNS
    codes: dict[str, str] = field(default_factory=dict)
    encoding: str = "gb18030"
    hukou_urban: str = "10"  # 户籍性质 of a 街道 or a 社区 (居委会)
    hukou_rural: str = "20"  # 户籍性质 of a 村 in a 乡镇
    ethnicity_default: str = "01"  # 民族 when the 户籍 extract gives no 2-digit code
    sheet: str = "批量导入"

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _import_columns(self.columns))
        object.__setattr__(self, "codes", _import_codes(self.codes))
        try:
            codecs.lookup(self.encoding)
        except (LookupError, TypeError):
            _bad_import_params(f"encoding 不是可用的字符编码：{self.encoding!r}")
        for key in ("hukou_urban", "hukou_rural", "ethnicity_default", "sheet"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key):
                _bad_import_params(f"{key} 应为非空文字")


def _bad_import_params(detail: str) -> NoReturn:
    raise CanbaoError("params_provincial_import", detail=detail)


def _import_columns(columns: Any) -> tuple[dict[str, str], ...]:
    """Each column: a non-empty unique ``title`` and exactly one of ``field`` / ``value``."""
    if not isinstance(columns, (list, tuple)) or not columns:
        _bad_import_params("columns 应为非空列表")
    out, titles = [], set()
    for k, col in enumerate(columns, start=1):
        if not isinstance(col, dict) or set(col) - {"title", "field", "value"}:
            _bad_import_params(f"columns 第 {k} 项应只含 title 与 field 或 value")
        title = col.get("title")
        if not isinstance(title, str) or not title.strip() or title in titles:
            _bad_import_params(f"columns 第 {k} 项的 title 为空或重复：{title!r}")
        titles.add(title)
        if ("field" in col) == ("value" in col):
            _bad_import_params(f"columns 第 {k} 项（{title}）应有 field 或 value 之一")
        if "field" in col and col["field"] not in IMPORT_FIELDS:
            _bad_import_params(
                f"columns 第 {k} 项（{title}）的 field 未知：{col['field']!r}"
                f"（可用：{'、'.join(IMPORT_FIELDS)}）"
            )
        if "value" in col and not isinstance(col["value"], str):
            _bad_import_params(f"columns 第 {k} 项（{title}）的 value 应为文字（加引号）")
        out.append({"title": title, **{k2: col[k2] for k2 in ("field", "value") if k2 in col}})
    return tuple(out)


def _import_codes(codes: Any) -> dict[str, str]:
    """Overrides of the roster's 核实情况 → code table: known 核实情况, ``状态/原因`` codes."""
    from canbao.survey.vocabulary import OUTCOME_NAMES

    if not isinstance(codes, dict):
        _bad_import_params("codes 应为 核实情况: 代码 的映射")
    for outcome, code in codes.items():
        if outcome not in OUTCOME_NAMES:
            _bad_import_params(f"codes 中的核实情况不在花名册选项中：{outcome!r}")
        if not isinstance(code, str) or not re.fullmatch(r"[0-9A-Za-z]+/[0-9A-Za-z]+", code):
            _bad_import_params(f"codes 中 {outcome} 的代码应写作 状态/原因（如 0/200）：{code!r}")
    return dict(codes)


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
