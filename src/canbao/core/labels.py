"""The Chinese label of every coverage and registration status: one catalogue.

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
