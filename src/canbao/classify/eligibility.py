"""Who must be insured, and when a scheme row counts: contract §7 and §8.3 in one place.

Every coverage and exemption rule the classifier applies lives here as a small
SQL-building function (``*_sql``: returns text, runs nothing) or a constant, so a
reviewer can check the rules against the contract without reading the joins.
"""

from __future__ import annotations

import datetime as dt

PENSION_SCHEMES: tuple[str, ...] = ("110", "120", "170")
WORKER_PENSION_SCHEMES: tuple[str, ...] = ("110", "120")  # 职工: 企业 + 机关事业
RESIDENT_PENSION_SCHEMES: tuple[str, ...] = ("170",)  # 城乡居民
MEDICAL_SCHEMES: tuple[str, ...] = ("310", "390")
FAMILIES: dict[str, tuple[str, ...]] = {"pension": PENSION_SCHEMES, "medical": MEDICAL_SCHEMES}

PENSION_EXEMPT_AGE = 16  # "under 16" = not yet 16 on the reference date

# Life statuses that take a person out of scope in both families and in registration.
OUT_OF_SCOPE_LIFE: tuple[str, ...] = ("deceased", "moved_out", "cancelled")

INSURED_STATUSES: tuple[str, ...] = ("insured_local", "insured_elsewhere")

# Survey exemption values (survey_results.exemption) that exempt both families
# (现役军人, 服刑, 出国定居: contract §7 "as found at a survey"), and those that exempt
# pension only (在校学生). Codes follow the 湖南 import list (contract §8.4) and plain names.
SURVEY_EXEMPT_BOTH: tuple[str, ...] = (
    "military", "prison", "abroad",
    "现役军人", "服刑", "服刑人员", "出国定居", "出国（境）定居", "出国（境）人员", "出国(境)人员",
    "204", "205", "206",
)  # fmt: skip
SURVEY_EXEMPT_PENSION: tuple[str, ...] = ("student", "在校学生", "203")


def age_on(birth: dt.date, ref: dt.date) -> int:
    """Exact age in whole years on ``ref`` (a birthday on ``ref`` counts)."""
    return ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))


def age_sql(birth_col: str, ref_col: str) -> str:
    """SQL twin of :func:`age_on`; NULL when the birth date is unknown."""
    return (
        f"(year({ref_col}) - year({birth_col}) - CASE WHEN month({ref_col}) * 100 + day({ref_col})"
        f" < month({birth_col}) * 100 + day({birth_col}) THEN 1 ELSE 0 END)"
    )


def under_pension_age_sql(birth_col: str, ref_col: str) -> str:
    """True when not yet 16 on the reference date; unknown birth date is not exempt."""
    return f"coalesce({age_sql(birth_col, ref_col)} < {PENSION_EXEMPT_AGE}, false)"


def _in_list(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def family_sql(scheme_col: str) -> str:
    """'pension' / 'medical' / NULL: unknown or other 险种 are neutral (contract §7)."""
    return (
        f"CASE WHEN {_in_list(scheme_col, PENSION_SCHEMES)} THEN 'pension' "
        f"WHEN {_in_list(scheme_col, MEDICAL_SCHEMES)} THEN 'medical' END"
    )


def insured_sql(enroll_col: str, benefit_col: str) -> str:
    """A local row insures when 参保状态 is 1/2 or 待遇享受状态 is 1/2 (终止 and 0 are history)."""
    return f"coalesce({enroll_col} IN (1, 2) OR {benefit_col} IN (1, 2), false)"


def active_sql(enroll_col: str, benefit_col: str) -> str:
    """A local row is active when 参保状态 is 1 or 待遇享受状态 is 1 (what duplicates need)."""
    return f"coalesce({enroll_col} = 1 OR {benefit_col} = 1, false)"


def national_counts_sql(enroll_col: str) -> str:
    """A national_match row counts unless 终止 (3/4) or 未参保 (0); no status = insured there."""
    return f"({enroll_col} IS NULL OR {enroll_col} IN (1, 2))"


def national_active_sql(enroll_col: str) -> str:
    """A national_match row is active when 正常参保 (or no status given)."""
    return f"({enroll_col} IS NULL OR {enroll_col} = 1)"


def coverage_sql(*, out_of_scope: str, local: str, elsewhere: str, exempt: str) -> str:
    """One family's coverage from boolean SQL facts, first that applies (contract §7).

    Insurance comes only from the data: the district's own rows, then national_match.
    A survey's "参加省职保 / 我区参加居保" answer makes the person ``surveyed`` but does
    not by itself make them insured (the contract's coverage rule has no such source;
    the next extract or national comparison will show it). Surveys do supply exemptions.
    """
    return (
        f"CASE WHEN {out_of_scope} THEN 'not_applicable' "
        f"WHEN {local} THEN 'insured_local' "
        f"WHEN {elsewhere} THEN 'insured_elsewhere' "
        f"WHEN {exempt} THEN 'exempt' "
        "ELSE 'not_insured' END"
    )


def registration_sql(
    *, out_of_scope: str, surveyed: str, pension: str, medical: str, needs_correction: str
) -> str:
    """Registration, first that applies: not_applicable, surveyed, survey, needs_correction, confirmed."""
    return (
        f"CASE WHEN {out_of_scope} THEN 'not_applicable' "
        f"WHEN {surveyed} THEN 'surveyed' "
        f"WHEN {pension} = 'not_insured' OR {medical} = 'not_insured' THEN 'survey' "
        f"WHEN {needs_correction} THEN 'needs_correction' "
        "ELSE 'confirmed' END"
    )


def out_of_scope_sql(life_col: str) -> str:
    """Deceased, 迁出 and 注销 people are not_applicable everywhere."""
    return f"coalesce({_in_list(life_col, OUT_OF_SCOPE_LIFE)}, false)"


def survey_exempt_both_sql(exemption_col: str) -> str:
    """A survey found 现役军人 / 服刑 / 出国定居: exempt in both families."""
    return f"coalesce({_in_list(exemption_col, SURVEY_EXEMPT_BOTH)}, false)"


def survey_exempt_pension_sql(exemption_col: str) -> str:
    """A survey found 在校学生: exempt for pension only."""
    return f"coalesce({_in_list(exemption_col, SURVEY_EXEMPT_PENSION)}, false)"


# Row-level findings that put a person in 待纠错 (contract §7 registration).
CORRECTION_FINDINGS: tuple[str, ...] = (
    "ID_REPAIRED", "ID_UPGRADED", "ID_PRECISION_LOST",
    "NAME_MISMATCH", "SEX_MISMATCH", "BIRTH_MISMATCH",
)  # fmt: skip
