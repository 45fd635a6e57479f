"""统一社会信用代码 (GB 32100-2015) check, for EMPLOYER_INVALID.

Why: a code that fails the check character is an employer-register fault (contract §7:
a warning, early pilot codes can fail yet be genuine). Spaces, full-width forms and
lowercase are folded first; they are not faults.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from canbao.core import text

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))


class CreditResult(NamedTuple):
    code: str | None  # folded code (also when invalid); None when missing
    valid: bool
    reason: str | None  # missing, length, characters, check; None when valid


def fold_credit_code(raw: str | None) -> str | None:
    """Strip, drop spaces of every kind and a leading apostrophe, NFKC, uppercase; empty → None."""
    if raw is None or (isinstance(raw, float) and raw != raw) or raw is pd.NA:
        return None
    s = (text.fold_text(raw) or "").lstrip("'`\u2018\u2019").upper()
    return s or None


def credit_check_char(body17: str) -> str:
    """C18 = 31 − (Σ value·3^(i−1) mod 31), 31 → 0, as a character of CHARSET."""
    total = sum(_VALUE[c] * w for c, w in zip(body17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_credit_code(raw: str | None) -> CreditResult:
    """Check one 统一社会信用代码: reason ``missing``, ``length``, ``characters`` or ``check``."""
    s = fold_credit_code(raw)
    if s is None:
        return CreditResult(None, False, "missing")
    if len(s) != 18:
        return CreditResult(s, False, "length")
    if any(c not in _VALUE for c in s):
        return CreditResult(s, False, "characters")
    if credit_check_char(s[:17]) != s[17]:
        return CreditResult(s, False, "check")
    return CreditResult(s, True, None)


def validate_credit_codes(values: pd.Series) -> pd.DataFrame:
    """``validate_credit_code`` per distinct value, mapped back: credit_code, credit_valid, credit_reason."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [validate_credit_code(v) for v in uniques] + [validate_credit_code(None)]
    table = pd.DataFrame(
        results, columns=["credit_code", "credit_valid", "credit_reason"], dtype=object
    )
    picked = table.iloc[[len(uniques) if c < 0 else c for c in codes]]
    return pd.DataFrame(
        {
            "credit_code": pd.Series(
                picked["credit_code"].to_numpy(), index=values.index, dtype="str"
            ),
            "credit_valid": pd.Series(
                picked["credit_valid"].to_numpy(), index=values.index, dtype=bool
            ),
            "credit_reason": pd.Series(
                picked["credit_reason"].to_numpy(), index=values.index, dtype="str"
            ),
        },
        index=values.index,
    )
