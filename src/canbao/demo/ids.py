"""GB 11643 ID numbers and GB 32100 credit codes: vectorised construction, and the ways
other systems damage an ID (one digit, transposition, 15 digits, Excel, width, spaces)."""

from __future__ import annotations

import numpy as np
import pandas as pd

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def id_check_chars(body17: np.ndarray) -> np.ndarray:
    """Check characters (ISO 7064 MOD 11-2) for an array of 17-digit strings."""
    digits = np.frombuffer("".join(body17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    return ID_CHECK[(digits.astype(np.int64) @ ID_WEIGHTS) % 11]


def id_check_char(body17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def make_ids(
    region: np.ndarray, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """18-character IDs from region codes, birth dates (datetime64[D]) and sex; unique."""
    n = len(region)
    ymd = pd.DatetimeIndex(birth).strftime("%Y%m%d").to_numpy(dtype=str)
    seq = rng.integers(0, 500, n) * 2 + np.where(male, 1, 0)
    seq = np.where(seq > 995, seq - 10, seq)  # keep 996-999 out: they mean born in the 1800s
    head = np.char.add(region.astype("U6"), ymd.astype("U8"))
    body = np.char.add(head, np.char.zfill(seq.astype(str), 3))
    # resolve collisions by walking the sequence number in steps of 2 (same sex)
    for _ in range(200):
        dup = pd.Series(body).duplicated().to_numpy()
        if not dup.any():
            break
        seq[dup] = (seq[dup] + 2 * rng.integers(1, 40, dup.sum())) % 996
        body[dup] = np.char.add(head[dup], np.char.zfill(seq[dup].astype(str), 3))
    return np.char.add(body, id_check_chars(body))


def one_digit_error(idn: str, r: int) -> str:
    """Change one of the 17 body digits (the check no longer matches)."""
    pos = 6 + r % 11 if r % 3 else r % 17  # mostly in date/sequence, as typists do
    d = int(idn[pos])
    new = (d + 1 + (r // 17) % 9) % 10
    return idn[:pos] + str(new) + idn[pos + 1 :]


def transposition(idn: str, r: int) -> str | None:
    """Swap two adjacent, different body digits; None when all pairs are equal."""
    for k in range(16):
        pos = 6 + (r + k) % 10 if r % 4 else (r + k) % 16
        if idn[pos] != idn[pos + 1]:
            return idn[:pos] + idn[pos + 1] + idn[pos] + idn[pos + 2 :]
    return None


def wrong_check(idn: str, r: int) -> str:
    """Same body, a different check character."""
    others = [c for c in "0123456789X" if c != idn[17]]
    return idn[:17] + others[r % len(others)]


def to15(idn: str) -> str | None:
    """The legacy 15-digit form (born 1900-1999 only)."""
    if idn[6:8] != "19" or int(idn[14:17]) >= 996:
        return None
    return idn[:6] + idn[8:17]


def excel_mangled(idn: str) -> str | None:
    """How Excel shows an 18-digit number: 15 significant digits in E notation."""
    if not idn.isdigit():
        return None
    mant = f"{float(idn):.14E}"
    m, e = mant.split("E")
    m = m.rstrip("0").rstrip(".")
    return f"{m}E+{int(e)}"


def excel_float(idn: str) -> float:
    """The float Excel keeps for an ID typed into a number cell (15 significant digits)."""
    return float(f"{float(idn):.14E}")


def fullwidth(idn: str) -> str:
    return idn.translate(FULLWIDTH)


def spaced(idn: str, r: int) -> str:
    """Padding, inner spaces or a leading apostrophe, as pasted from other systems."""
    k = r % 4
    if k == 0:
        return f" {idn} "
    if k == 1:
        return f"{idn[:6]} {idn[6:14]} {idn[14:]}"
    if k == 2:
        return f"'{idn}"
    return f"{idn}  "


def credit_code(rng: np.random.Generator, region: str, n: int) -> list[str]:
    """Valid 统一社会信用代码: 91 (工商/企业) or 12 (事业单位) + region + 组织机构代码 + check."""
    out = []
    letters = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(n):
        kind = "91" if rng.random() < 0.9 else "12"
        body8 = "".join(letters[j] for j in rng.integers(0, 10 if i % 3 else len(letters), 8))
        s = sum(_org_val(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
        c = 11 - s % 11
        org = body8 + ("0" if c == 11 else "X" if c == 10 else str(c))
        body = kind + region + org
        total = sum(CREDIT_CHARS.index(ch) * w for ch, w in zip(body, CREDIT_WEIGHTS, strict=True))
        chk = (31 - total % 31) % 31
        out.append(body + CREDIT_CHARS[chk])
    return out


def _org_val(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - 55


def credit_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        return False
    total = sum(CREDIT_CHARS.index(ch) * w for ch, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]
