"""The Chinese label of every coverage and registration status and finding: one catalogue.

Rosters, registration forms, the notebooks' views and the demo's returns all show
these words, so a status reads the same on every page. 外地参保 (not 异地参保) is the
word the data contract uses for ``insured_elsewhere``: insured in another region,
inside or outside the province (contract §8.3).
"""

from __future__ import annotations

COVERAGE_LABELS: dict[str, str] = {
    "insured_local": "本地参保",
    "insured_elsewhere": "外地参保",
    "not_insured": "应参保未参保",
    "exempt": "不应参保",
    "not_applicable": "不适用（死亡/迁出/注销）",
}
REGISTRATION_LABELS: dict[str, str] = {
    "confirmed": "直接确认登记",
    "needs_correction": "待纠错",
    "survey": "入户调查对象",
    "surveyed": "调查后确认",
    "not_applicable": "不适用（死亡/迁出/注销）",
}
# Both, in the order the views list them (coverage first).
STATUS_LABELS: dict[str, str] = {**COVERAGE_LABELS, **REGISTRATION_LABELS}
# Finding code -> the Chinese name on every page, list and work sheet.
FINDING_LABELS = {
    "ID_INVALID": "身份证号码错误",
    "ID_UPGRADED": "15位号码升位",
    "ID_PRECISION_LOST": "号码被Excel转为数值",
    "ID_REPAIRED": "号码有误已按其他信息比对",
    "NAME_MISMATCH": "姓名与公安不一致",
    "SEX_MISMATCH": "性别与公安不一致",
    "BIRTH_MISMATCH": "出生日期与公安不一致",
    "DUPLICATE_RECORD": "同一险种重复参保",
    "DUPLICATE_PENSION": "职工与居民养老重复参保",
    "DUPLICATE_MEDICAL": "职工与居民医保重复参保",
    "DUPLICATE_BENEFIT": "重复领取养老待遇",
    "DUPLICATE_REGION": "本地与外地重复参保",
    "DUPLICATE_PERSON": "同一人多个号码或户号",
    "DECEASED_ACTIVE": "死亡人员仍正常参保",
    "DECEASED_BENEFIT": "死亡人员仍领取待遇",
    "NOT_IN_POPULATION": "参保人员不在户籍或居住人口中",
    "EMPLOYER_INVALID": "单位信息错误",
    "SURVEY_REJECTED": "入户调查回执未通过校验",
}
