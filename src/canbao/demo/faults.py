"""What other systems do to a person's identity on an enrollment row.

Every row gets its displayed values once, when it is created, so a fault persists
from one extract to the next as it would in a real 人社 system. Tags name the fault
(``id_one_digit`` …) or a pure normalisation (``norm_*``, not a finding)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from canbao.demo import ids, names

# (tag, rate per row) in the order they are drawn; one fault per row at most.
ROW_FAULTS: tuple[tuple[str, float], ...] = (
    ("id_one_digit", 0.004), ("id_transposition", 0.003), ("id_check_char", 0.001),
    ("id_15", 0.003), ("id_excel", 0.002), ("id_missing", 0.001),
    ("norm_fullwidth", 0.003), ("norm_spaces", 0.005),
    ("name_homophone", 0.003), ("name_traditional", 0.003),
    ("birth_typo", 0.002), ("sex_wrong", 0.001),
)  # fmt: skip
SCHEME_NAMES = {
    "110": "企业职工基本养老保险", "120": "机关事业单位养老保险", "170": "城乡居民基本养老保险",
    "210": "失业保险", "310": "职工基本医疗保险", "390": "城乡居民基本医疗保险",
    "410": "工伤保险", "510": "生育保险",
}  # fmt: skip
NM_SCHEME_NAMES = {
    "110": "城镇企业职工基本养老保险", "120": "机关事业单位养老保险", "170": "城乡居民社会养老保险",
    "310": "职工基本医疗保险", "390": "城乡居民基本医疗保险",
}  # fmt: skip
EST_NAMES = {1: "正常参保", 2: "暂停参保", 3: "终止参保", 4: "终止参保", 0: "未参保"}


def _birth_typo(b: pd.Timestamp, r: int) -> str:
    k = r % 3
    if k == 0:
        return f"{b.year + (1 if r % 2 else -1)}-{b.month:02d}-{min(b.day, 28):02d}"
    if k == 1:
        m = b.month % 12 + 1
        d = min(b.day, 28)
        return f"{b.year}-{m:02d}-{d:02d}"
    d = b.day + 1 if b.day < 28 else b.day - 1
    return f"{b.year}-{b.month:02d}-{d:02d}"


def dress_rows(
    rows: pd.DataFrame, persons: pd.DataFrame, rng: np.random.Generator, district: str
) -> pd.DataFrame:
    """Add the displayed identity columns and fault tags to newly created rows."""
    n = len(rows)
    if n == 0:
        return rows.assign(
            fault="", disp_id="", disp_name="", disp_sex="", disp_birth="", excel=False
        )
    per = persons.loc[rows["key"].to_numpy()]
    pid = per["id"].to_numpy(dtype=object)
    pname = per["name"].to_numpy(dtype=object)
    birth = pd.DatetimeIndex(per["birth"])
    eligible = (per["pop"] != "none").to_numpy() & ~per["no_faults"].to_numpy()
    u = rng.random(n)
    fault = np.full(n, "", dtype=object)
    lo = 0.0
    for tag, rate in ROW_FAULTS:
        fault[eligible & (u >= lo) & (u < lo + rate)] = tag
        lo += rate
    r = rng.integers(0, 1_000_000, n)
    disp_id = pid.copy()
    disp_name = pname.copy()
    sex = per["sex"].to_numpy()
    disp_sex = np.where(
        rng.random(n) < 0.9, sex.astype(str), np.where(sex == 1, "男", "女")
    ).astype(object)
    fmt = rng.random(n)
    disp_birth = np.where(fmt < 0.7, birth.strftime("%Y-%m-%d"), birth.strftime("%Y%m%d")).astype(
        object
    )
    for i in np.flatnonzero(fault != ""):
        t, x, idn, nm = fault[i], int(r[i]), pid[i], pname[i]
        new: object = None
        if t == "id_one_digit":
            new = ids.one_digit_error(idn, x)
        elif t == "id_transposition":
            new = ids.transposition(idn, x)
        elif t == "id_check_char":
            new = ids.wrong_check(idn, x)
        elif t == "id_15":
            new = ids.to15(idn)
        elif t == "id_excel":
            new = ids.excel_mangled(idn)
        elif t == "id_missing":
            new = ""
        elif t == "norm_fullwidth":
            new = ids.fullwidth(idn)
        elif t == "norm_spaces":
            new = ids.spaced(idn, x)
        elif t == "name_homophone":
            v = names.homophone_variant(nm, x) if "·" not in nm else None
            if v:
                disp_name[i] = v
                continue
        elif t == "name_traditional":
            v = names.traditional_variant(nm)
            if v:
                disp_name[i] = v
                continue
        elif t == "birth_typo":
            disp_birth[i] = _birth_typo(birth[i], x)
            continue
        elif t == "sex_wrong":
            disp_sex[i] = "2" if sex[i] == 1 else "1"
            continue
        if new is None:
            fault[i] = ""
        else:
            disp_id[i] = new
    # normalisation only: lowercase x, middle-dot variants of minority names
    lower = (fault == "") & np.array([s.endswith("X") for s in pid]) & (rng.random(n) < 0.5)
    disp_id[lower] = [s[:-1] + "x" for s in pid[lower]]
    fault[lower] = "norm_lowercase_x"
    dot = (fault == "") & np.array(["·" in s for s in pname]) & (rng.random(n) < 0.6)
    disp_name[dot] = [names.dot_variant(s, int(k)) for s, k in zip(pname[dot], r[dot], strict=True)]
    fault[dot] = "norm_middle_dot"
    return rows.assign(
        fault=fault, disp_id=disp_id, disp_name=disp_name, disp_sex=disp_sex, disp_birth=disp_birth
    )


def new_row_ids(w, rows: pd.DataFrame, rng: np.random.Generator, district: str) -> pd.DataFrame:
    """Row ids, persistent file order keys and 个人编号 (one per person; a new one for a
    within-scheme duplicate, which real systems create under a second number)."""
    n = len(rows)
    rows = rows.reset_index(drop=True)
    rows["rid"] = np.arange(w.next_row, w.next_row + n)
    w.next_row += n
    rows["order"] = rng.random(n)
    p = w.persons
    member = p.loc[rows["key"].to_numpy(), "member"].to_numpy(dtype=object, copy=True)
    second = (rows["kind"] == "dup_record").to_numpy()
    member[second] = [
        f"{district[:4]}{9_000_000 + w.next_member + i:08d}" for i in range(int(second.sum()))
    ]
    w.next_member += int(second.sum())
    rows["member"] = member
    return rows
