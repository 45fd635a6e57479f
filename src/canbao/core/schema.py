"""The contract's input extracts: file stems, Chinese headers, canonical column names.

One table drives ingestion, header mapping and the messages that name a missing
column, so the contract lives in exactly one place in the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extract:
    """One contract extract: its file stem, whether it is required, and its columns."""

    name: str  # file stem: hukou.csv / hukou.xlsx
    label: str  # Chinese name for messages
    required: bool
    # contract header -> canonical column name, in contract order
    columns: dict[str, str]
    # canonical columns a row cannot be loaded without (all must be non-blank... see ingest)
    required_columns: tuple[str, ...]


HUKOU = Extract(
    name="hukou",
    label="公安户籍人口",
    required=True,
    columns={
        "公民身份号码": "id_raw",
        "姓名": "name_raw",
        "性别": "sex_raw",
        "出生日期": "birth_raw",
        "民族": "ethnicity",
        "户号": "household_no",
        "与户主关系": "relation",
        "户籍地址": "address",
        "乡镇街道代码": "township_code",
        "乡镇街道": "township_name",
        "村社区代码": "village_code",
        "村社区": "village_name",
        "户籍状态": "hukou_status_raw",
        "状态变更日期": "status_date_raw",
    },
    required_columns=("公民身份号码", "姓名", "乡镇街道代码", "村社区代码", "户籍状态"),
)

RESIDENTS = Extract(
    name="residents",
    label="居住证/流动人口",
    required=False,
    columns={
        "公民身份号码": "id_raw",
        "姓名": "name_raw",
        "性别": "sex_raw",
        "出生日期": "birth_raw",
        "户籍地区划代码": "origin_region",
        "居住地址": "address",
        "乡镇街道代码": "township_code",
        "村社区代码": "village_code",
        "登记日期": "registered_raw",
    },
    required_columns=("公民身份号码", "姓名", "乡镇街道代码", "村社区代码"),
)

ENROLLMENT = Extract(
    name="enrollment",
    label="参保信息",
    required=True,
    columns={
        "个人编号": "member_no",
        "公民身份号码": "id_raw",
        "姓名": "name_raw",
        "性别": "sex_raw",
        "出生日期": "birth_raw",
        "险种类型": "scheme_raw",
        "参保状态": "enroll_status_raw",
        "待遇享受状态": "benefit_status_raw",
        "参保日期": "enroll_date_raw",
        "单位编号": "employer_no",
        "参保地区划代码": "region_code",
    },
    required_columns=("公民身份号码", "姓名", "险种类型", "参保状态"),
)

EMPLOYERS = Extract(
    name="employers",
    label="单位参保登记",
    required=False,
    columns={
        "单位编号": "employer_no",
        "统一社会信用代码": "credit_code_raw",
        "单位名称": "employer_name",
        "单位地址": "address",
        "乡镇街道代码": "township_code",
        "单位参保状态": "status_raw",
    },
    required_columns=("单位编号",),
)

NATIONAL_MATCH = Extract(
    name="national_match",
    label="全国信息比对结果",
    required=False,
    columns={
        "公民身份号码": "id_raw",
        "姓名": "name_raw",
        "险种类型": "scheme_raw",
        "参保地区划代码": "region_code",
        "参保状态": "enroll_status_raw",
    },
    required_columns=("公民身份号码", "险种类型"),
)

STUDENTS = Extract(
    name="students",
    label="在校学生",
    required=False,
    columns={
        "公民身份号码": "id_raw",
        "姓名": "name_raw",
        "学校名称": "school",
    },
    required_columns=("公民身份号码",),
)

EXTRACTS: tuple[Extract, ...] = (HUKOU, RESIDENTS, ENROLLMENT, EMPLOYERS, NATIONAL_MATCH, STUDENTS)
EXTRACTS_BY_NAME: dict[str, Extract] = {e.name: e for e in EXTRACTS}


# File suffixes accepted for an extract, in the order they are looked for.
SUFFIXES: tuple[str, ...] = (".xlsx", ".csv")
SURVEY_RETURNS_DIR = "survey_returns"


def extract_label(name: str) -> str:
    """The Chinese name a statistician knows an extract by (the code itself if none)."""
    if name == SURVEY_RETURNS_DIR:
        return "入户调查回收表"
    extract = EXTRACTS_BY_NAME.get(name)
    return extract.label if extract else name


_RANK: dict[str, int] = {e.name: i for i, e in enumerate(EXTRACTS)}


def extract_rank(name: str) -> int:
    """An extract's place in the contract's order (survey returns and unknowns last)."""
    return _RANK.get(name, len(_RANK))
