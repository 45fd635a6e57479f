"""公民身份号码 (GB 11643-1999) over whole columns: :func:`validate_ids` (vectorised, numpy
and Arrow, so a 3M-row extract takes seconds) and the SQL twins of the rules.

The rules for one value live in :mod:`canbao.clean.idnumber_rules` and are importable
from here too; both give the same answer for every value (tests compare them).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from canbao.clean.idnumber_rules import (
    CHECK_CHARS,
    ID15_RE,
    ID18_RE,
    MIN_YEAR,
    REASONS,
    STATUSES,
    WEIGHTS,
    IdResult,
    birth_from_id,
    check_char,
    fold_id,
    sex_from_id,
    upgrade15,
    validate_id,
)
from canbao.core.refdata import PROVINCE_PREFIXES

__all__ = [
    "CHECK_CHARS",
    "MIN_YEAR",
    "REASONS",
    "STATUSES",
    "WEIGHTS",
    "IdResult",
    "birth_from_id",
    "check_char",
    "check_char_sql",
    "fold_id",
    "is_valid_id18_sql",
    "sex_from_id",
    "upgrade15",
    "validate_id",
    "validate_ids",
]

# ---------------------------------------------------------------- vectorised


_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_PROVINCE_OK = np.zeros(100, dtype=bool)
_PROVINCE_OK[[int(p) for p in PROVINCE_PREFIXES]] = True


def _num(d: np.ndarray, a: int, b: int) -> np.ndarray:
    out = np.zeros(d.shape[0], dtype=np.int64)
    for i in range(a, b):
        out = out * 10 + d[:, i]
    return out


def _check18(d: np.ndarray, ref_int: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Reason code per row of an (n, 18) digit array: 0 ok, 1 date, 2 region, 3 check; and check chars."""
    y, m, day = _num(d, 6, 10), _num(d, 10, 12), _num(d, 12, 14)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = _DAYS[np.clip(m, 0, 12)] + ((m == 2) & leap)
    date_ok = (m >= 1) & (m <= 12) & (day >= 1) & (day <= dim) & (y >= MIN_YEAR)
    if ref_int is not None:
        date_ok &= y * 10000 + m * 100 + day <= ref_int
    region_ok = _PROVINCE_OK[_num(d, 0, 2)]
    y_mod = (d[:, :17] * np.array(WEIGHTS, dtype=np.int64)).sum(axis=1) % 11
    expected = (
        np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)[y_mod].astype(np.int64) - 48
    )
    expected[expected == ord("X") - 48] = 10
    check_ok = expected == d[:, 17]
    reason = np.where(~date_ok, 1, np.where(~region_ok, 2, np.where(~check_ok, 3, 0)))
    return reason, y_mod


# Status index: 0 valid, 1 upgraded, 2 invalid, 3 precision_lost, 4 missing.
_STATUS_DICT = pa.array(list(STATUSES))
# Reason index: 0 length, 1 characters, 2 date, 3 region, 4 check.
_REASON_DICT = pa.array(list(REASONS))
_RC_TO_REASON = np.array([-1, 2, 3, 4], dtype=np.int8)  # _check18 code -> reason index (-1 = none)


def _encode(values: pd.Series) -> tuple[np.ndarray, pa.Array, list[object]]:
    """Distinct values: (row → unique index, -1 for NA), uniques as strings (null if not str), raw uniques."""
    try:
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is not None:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        idx = enc.indices.to_numpy(zero_copy_only=False)
        idx = (
            np.where(np.isnan(idx), -1, idx).astype(np.int64)
            if idx.dtype.kind == "f"
            else idx.astype(np.int64)
        )
        uniq = enc.dictionary
        return idx, uniq, uniq.to_pylist()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    raw = list(uniques)
    strs = pa.array([v if type(v) is str else None for v in raw], type=pa.string())
    return codes.astype(np.int64), strs, raw


def _ascii_block(arr: pa.Array, width: int) -> np.ndarray:
    """(n, width) uint8 view of a string array whose values are all ``width`` ASCII chars."""
    arr = pa.concat_arrays([arr]) if arr.offset else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width)


def _digit_values(block: np.ndarray) -> np.ndarray:
    d = block.astype(np.int64) - 48
    d[block == ord("X")] = 10
    return d


def _clean_mask(strs: pa.Array, width: int) -> np.ndarray:
    """Rows that are exactly ``width`` ASCII digits (18: the last may be X), checked on the bytes."""
    lengths = pc.fill_null(pc.binary_length(strs), -1).to_numpy(zero_copy_only=False)
    out = np.zeros(len(strs), dtype=bool)
    idx = np.flatnonzero(lengths == width)
    if len(idx):
        block = _ascii_block(strs.take(pa.array(idx)), width)
        ok = ((block[:, : width - 1] - 48) < 10).all(axis=1)  # uint8 wraps below '0'
        last = block[:, width - 1]
        ok &= ((last - 48) < 10) | ((last == ord("X")) if width == 18 else False)
        out[idx[ok]] = True
    return out


def _validate_unique(
    strs: pa.Array, raw: list[object], ref_date: date | None
) -> tuple[np.ndarray, np.ndarray, pa.Array, pa.Array]:
    """Validate distinct values: numpy for clean 18/15-digit strings, Python for the rest.

    Returns status index, reason index (-1 none), id_number and candidate arrays.
    """
    n = len(raw)
    status = np.full(n, 2, dtype=np.int8)
    reason = np.full(n, -1, dtype=np.int8)
    is18 = _clean_mask(strs, 18)
    is15 = _clean_mask(strs, 15)
    folded = strs
    py_id: dict[int, str] = {}
    py_cand: dict[int, str] = {}
    refold_idx: list[int] = []
    refold_val: list[str] = []
    for i in np.flatnonzero(~(is18 | is15)).tolist():
        v = raw[i]
        s = fold_id(v)
        if s is not None and len(s) == 18 and ID18_RE.fullmatch(s):
            refold_idx.append(i)
            refold_val.append(s)
            is18[i] = True
        elif s is not None and len(s) == 15 and ID15_RE.fullmatch(s):
            refold_idx.append(i)
            refold_val.append(s)
            is15[i] = True
        else:
            r = validate_id(v, ref_date)
            status[i] = STATUSES.index(r.status)
            reason[i] = -1 if r.reason is None else REASONS.index(r.reason)
            if r.id_number is not None:
                py_id[i] = r.id_number
            if r.candidate is not None:
                py_cand[i] = r.candidate
    if refold_idx:
        mask = np.zeros(n, dtype=bool)
        mask[refold_idx] = True
        order = np.argsort(refold_idx)
        folded = pc.replace_with_mask(
            strs, pa.array(mask), pa.array([refold_val[k] for k in order], type=pa.string())
        )

    ref_int = (
        None if ref_date is None else ref_date.year * 10000 + ref_date.month * 100 + ref_date.day
    )
    id_number = pa.nulls(n, pa.string())
    candidate = pa.nulls(n, pa.string())

    idx18 = np.flatnonzero(is18)
    if len(idx18):
        f18 = folded.take(pa.array(idx18))
        rc, _ = _check18(_digit_values(_ascii_block(f18, 18)), ref_int)
        ok = rc == 0
        status[idx18] = np.where(ok, 0, 2)
        reason[idx18] = _RC_TO_REASON[rc]
        valid_mask = np.zeros(n, dtype=bool)
        valid_mask[idx18[ok]] = True
        bad_mask = np.zeros(n, dtype=bool)
        bad_mask[idx18[~ok]] = True
        id_number = pc.if_else(pa.array(valid_mask), folded, id_number)
        candidate = pc.if_else(pa.array(bad_mask), folded, candidate)

    idx15 = np.flatnonzero(is15)
    if len(idx15):
        f15 = folded.take(pa.array(idx15))
        d15 = _digit_values(_ascii_block(f15, 15))
        century = np.where(_num(d15, 12, 15) >= 996, 18, 19)
        d = np.concatenate(
            [
                d15[:, :6],
                (century // 10)[:, None],
                (century % 10)[:, None],
                d15[:, 6:],
                np.zeros((len(idx15), 1), dtype=np.int64),
            ],
            axis=1,
        )
        rc, y_mod = _check18(d, ref_int)
        ok = (rc == 0) | (
            rc == 3
        )  # the upgrade computes its own check char: only date/region can fail
        status[idx15] = np.where(ok, 1, 2)
        reason[idx15] = np.where(ok, -1, _RC_TO_REASON[rc])
        ups = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(f15, 0, 6),
            pa.array(np.where(century == 18, "18", "19")),
            pc.utf8_slice_codeunits(f15, 6, 15),
            pa.array(np.array(list(CHECK_CHARS))[y_mod]),
            "",
        )
        up_full = pa.nulls(n, pa.string())
        up_full = pc.replace_with_mask(up_full, pa.array(is15), ups)
        up_mask = np.zeros(n, dtype=bool)
        up_mask[idx15[ok]] = True
        bad_mask = np.zeros(n, dtype=bool)
        bad_mask[idx15[~ok]] = True
        id_number = pc.if_else(pa.array(up_mask), up_full, id_number)
        candidate = pc.if_else(pa.array(bad_mask), folded, candidate)

    for store, target in ((py_id, "id"), (py_cand, "cand")):
        if not store:
            continue
        mask = np.zeros(n, dtype=bool)
        keys = sorted(store)
        mask[keys] = True
        repl = pa.array([store[k] for k in keys], type=pa.string())
        if target == "id":
            id_number = pc.replace_with_mask(id_number, pa.array(mask), repl)
        else:
            candidate = pc.replace_with_mask(candidate, pa.array(mask), repl)
    return status, reason, id_number, candidate


def validate_ids(values: pd.Series, ref_date: date | None = None) -> pd.DataFrame:
    """``validate_id`` over a Series, computed once per distinct value and mapped back.

    Returns columns ``id_number, id_status, id_reason, id_candidate`` with the index of
    ``values``; all four have pandas' default ``str`` dtype (Arrow-backed; missing = NaN,
    test with ``pd.isna``).
    """
    if isinstance(ref_date, datetime):
        ref_date = ref_date.date()
    codes, strs, raw = _encode(values)
    status, reason, id_number, candidate = _validate_unique(strs, raw, ref_date)
    n = len(raw)
    # Row -> unique index; NA rows point at an extra trailing slot (status missing).
    take = np.where(codes < 0, n, codes)
    status = np.append(status, np.int8(4))[take]
    reason = np.append(reason, np.int8(-1))[take]
    null = pa.nulls(1, pa.string())
    take_pa = pa.array(take)

    def as_str(indices: np.ndarray, dictionary: pa.Array) -> pd.Series:
        arr = pa.DictionaryArray.from_arrays(pa.array(indices, mask=indices < 0), dictionary)
        return pd.Series(arr.cast(pa.string()), dtype="str", index=values.index)

    return pd.DataFrame(
        {
            "id_number": pd.Series(
                pa.concat_arrays([id_number, null]).take(take_pa), dtype="str", index=values.index
            ),
            "id_status": as_str(status, _STATUS_DICT),
            "id_reason": as_str(reason, _REASON_DICT),
            "id_candidate": pd.Series(
                pa.concat_arrays([candidate, null]).take(take_pa), dtype="str", index=values.index
            ),
        },
        index=values.index,
    )


# ---------------------------------------------------------------- SQL twins


def check_char_sql(body17_expr: str) -> str:
    """SQL (DuckDB) expression: the MOD 11-2 check character of a 17-digit string expression.

    Digits come from two integer casts (9 + 8 digits) by division: about 3x faster in
    DuckDB than 17 ``substr`` calls. NULL if the body is not digits.
    """
    head = f"TRY_CAST(substr({body17_expr}, 1, 9) AS INTEGER)"
    tail = f"TRY_CAST(substr({body17_expr}, 10, 8) AS INTEGER)"
    terms = [f"(({head} // {10 ** (8 - i)}) % 10) * {w}" for i, w in enumerate(WEIGHTS[:9])]
    terms += [f"(({tail} // {10 ** (7 - i)}) % 10) * {w}" for i, w in enumerate(WEIGHTS[9:])]
    return f"substr('{CHECK_CHARS}', CAST(({' + '.join(terms)}) % 11 AS INTEGER) + 1, 1)"


def is_valid_id18_sql(expr: str, ref_date_expr: str | None = None) -> str:
    """SQL (DuckDB) boolean: ``expr`` is a valid folded 18-char ID (charset, real date ≥ 1880,
    province prefix, check char). Never NULL, never raises. ``ref_date_expr`` (a DATE
    expression such as a ``?`` parameter) additionally rejects birth dates after it.

    The conditions are summed as integers rather than joined with AND: DuckDB's
    short-circuit path made this 3x slower on 3M rows. Every part tolerates any input.
    """
    provinces = ", ".join(sorted(PROVINCE_PREFIXES))
    birth = f"try_strptime(substr({expr}, 7, 8), '%Y%m%d')"
    parts = [
        f"regexp_full_match({expr}, '[0-9]{{17}}[0-9X]')",
        f"{birth} IS NOT NULL AND substr({expr}, 7, 4) >= '{MIN_YEAR}'",
        f"list_contains([{provinces}], TRY_CAST(substr({expr}, 1, 2) AS INTEGER))",
        f"substr({expr}, 18, 1) = {check_char_sql(f'substr({expr}, 1, 17)')}",
    ]
    if ref_date_expr:
        parts.append(f"CAST({birth} AS DATE) <= CAST({ref_date_expr} AS DATE)")
    summed = " + ".join(f"COALESCE(CAST(({p}) AS INTEGER), 0)" for p in parts)
    return f"(({summed}) = {len(parts)})"
