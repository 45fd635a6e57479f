"""The cases a district must find: duplicates within and across schemes and regions,
the dead still insured or paid, people in no population list, population duplicates,
and identity corrections that 公安 makes in a later period."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from canbao.demo import ids, names
from canbao.demo.population import other_regions
from canbao.demo.world import World, age_on


def _pick(
    rng: np.random.Generator, pool: np.ndarray, rate_or_n: float, base: int | None = None
) -> np.ndarray:
    k = (
        int(round(rate_or_n * (base if base is not None else len(pool))))
        if rate_or_n < 1
        else int(rate_or_n)
    )
    k = min(max(k, 1 if len(pool) else 0), len(pool))
    return np.sort(rng.choice(pool, k, replace=False)) if k else pool[:0]


def outsiders(w: World, ref: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """People insured here but in neither 户籍 nor 常住 (~0.5% of insured people)."""
    n_ins = w.rows["key"].nunique()
    n = max(int(round(n_ins * 0.005)), 2)
    age = rng.integers(20, 58, n)
    male = rng.random(n) < 0.6
    birth = np.datetime64(ref.isoformat(), "D") - (age * 365.25 + rng.integers(1, 365, n)).astype(
        "timedelta64[D]"
    )
    local = rng.random(n) < 0.3  # a local-region ID: moved away long ago, rows never moved
    region = np.where(local, w.district, other_regions(w.district, rng, n, 0.5))
    sn, sp = names.surname_probs()
    nm = np.char.add(sn[rng.choice(len(sn), n, p=sp)].astype("U1"), names.given_names(rng, male))
    idn = ids.make_ids(region, birth, male, rng)
    existing = set(w.persons["id"])
    keep = np.array([x not in existing for x in idn])
    start = int(w.persons.index.max()) + 1
    df = pd.DataFrame(
        {"male": male, "birth": pd.to_datetime(birth), "region": region, "eth": "01", "hh": "", "rel": "",
         "town": "", "town_name": "", "vill": "", "vill_name": "", "addr": "", "pop": "none", "origin": "",
         "name": nm, "id": idn, "sex": np.where(male, 1, 2), "hstatus": "", "student": False, "school": "",
         "job": np.where(local, "none", "ent")}
    )  # fmt: skip
    df = df.loc[keep].reset_index(drop=True)
    df["gid"], df["gname"] = df["id"], df["name"]
    df.index = pd.RangeIndex(start, start + len(df), name="key")
    return df


def add_outsider_rows(
    w: World, out: pd.DataFrame, ref: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    ent = out.index[out["job"] == "ent"].to_numpy()
    loc = out.index[out["job"] != "ent"].to_numpy()
    emp = w.employers.loc[~w.employers["inst"], "employer_no"].to_numpy()
    parts = []
    for scheme in ("110", "310", "210", "410"):
        parts.append(
            pd.DataFrame(
                {
                    "key": ent,
                    "scheme": scheme,
                    "est": 1,
                    "bst": 0,
                    "employer": emp[rng.integers(0, len(emp), len(ent))],
                }
            )
        )
    for scheme in ("170", "390"):
        parts.append(
            pd.DataFrame({"key": loc, "scheme": scheme, "est": 1, "bst": 0, "employer": ""})
        )
    r = pd.concat(parts, ignore_index=True)
    r["edate"] = np.datetime64("2015-01-01") + rng.integers(0, 3000, len(r)).astype(
        "timedelta64[D]"
    )
    r["kind"] = "outsider"
    return r


def cleanup_dead(w: World, rng: np.random.Generator) -> None:
    """Rows of the dead, moved and cancelled: mostly ended; a few still active (findings):
    some dead still paid (DECEASED_BENEFIT), some dead still 正常参保 (DECEASED_ACTIVE)."""
    st = w.persons["hstatus"]
    rows = w.rows
    keys = rows["key"].to_numpy()
    status = st.reindex(keys).to_numpy()
    paid = set(rows.loc[rows["bst"] == 1, "key"])
    dead = np.unique(keys[status == "死亡"])
    dead_paid = np.array([k for k in dead if k in paid], dtype=int)
    dead_unpaid = np.array([k for k in dead if k not in paid], dtype=int)
    keep = set(_pick(rng, dead_paid, 0.06)) | set(
        _pick(rng, dead_unpaid, 0.08) if len(dead_unpaid) else []
    )
    if len(dead_unpaid) < 2:  # small districts: make sure DECEASED_ACTIVE occurs
        keep |= set(_pick(rng, dead_paid, 2))
    moved = np.unique(keys[status == "迁出"])
    keep |= set(_pick(rng, moved, 0.25)) if len(moved) else set()
    keep_mask = np.isin(keys, list(keep))
    end = np.isin(status, ["死亡", "迁出", "注销"]) & ~keep_mask & (rows["est"].to_numpy() != 4)
    rows.loc[end, "bst"] = np.where(rows.loc[end, "bst"].to_numpy() == 1, 3, 0)
    rows.loc[end, "est"] = 4
    # a dead person kept from the paid pool with benefits stopped but still 正常参保
    kept_paid = np.array(sorted(keep & set(dead_paid.tolist())), dtype=int)
    stop = np.isin(keys, _pick(rng, kept_paid, 0.3)) & (rows["bst"].to_numpy() == 1)
    rows.loc[stop, "bst"] = 2


def duplicate_rows(w: World, ref: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """Extra rows making DUPLICATE_RECORD / _PENSION / _MEDICAL / _BENEFIT cases."""
    p, r = w.persons, w.rows
    alive_pop = p.index[(p["hstatus"] == "管理中") | (p["pop"] == "resident")]
    act = r.loc[(r["est"] == 1) & r["key"].isin(alive_pop)]
    n_people = r["key"].nunique()
    parts = []
    # same person, same 险种, second 个人编号, both active (390 and 170 payers)
    pool = act.loc[act["scheme"].isin(["390", "170"]) & (act["bst"] == 0)]
    pool = pool.drop_duplicates("key")
    k = _pick(rng, pool.index.to_numpy(), 0.003, n_people)
    parts.append(pool.loc[k].assign(kind="dup_record"))
    # across schemes: active 110 + 170, active 310 + 390
    e110 = act.loc[(act["scheme"] == "110") & (act["bst"] == 0), "key"].unique()
    k = _pick(rng, e110, 0.0025, n_people)
    parts.append(
        pd.DataFrame(
            {"key": k, "scheme": "170", "est": 1, "bst": 0, "employer": "", "kind": "dup_pension"}
        )
    )
    e310 = act.loc[(act["scheme"] == "310"), "key"].unique()
    e310 = np.setdiff1d(e310, act.loc[act["scheme"] == "390", "key"].unique())
    k = _pick(rng, e310, 0.0025, n_people)
    parts.append(
        pd.DataFrame(
            {"key": k, "scheme": "390", "est": 1, "bst": 0, "employer": "", "kind": "dup_medical"}
        )
    )
    # retirees paid twice: 110 正常享受 + 170 正常享受
    ret = act.loc[(act["scheme"] == "110") & (act["bst"] == 1), "key"].unique()
    k = _pick(rng, ret, 0.001, n_people)
    parts.append(
        pd.DataFrame(
            {"key": k, "scheme": "170", "est": 1, "bst": 1, "employer": "", "kind": "dup_benefit"}
        )
    )
    # negative case: a 暂停 110 beside an active 170 is no duplicate
    r170 = act.loc[(act["scheme"] == "170") & (act["bst"] == 0), "key"].unique()
    k = _pick(rng, r170, 0.0005, n_people)
    parts.append(
        pd.DataFrame(
            {"key": k, "scheme": "110", "est": 2, "bst": 0, "employer": "", "kind": "suspended_110"}
        )
    )
    out = pd.concat(parts, ignore_index=True)[["key", "scheme", "est", "bst", "employer", "kind"]]
    out["edate"] = np.datetime64("2018-01-01") + rng.integers(0, 2500, len(out)).astype(
        "timedelta64[D]"
    )
    return out


def region_duplicates(w: World, rng: np.random.Generator) -> pd.DataFrame:
    """Active here and active elsewhere in the same family (~0.2% of insured people)."""
    p, r = w.persons, w.rows
    alive = p.index[p["hstatus"] == "管理中"]
    act = r.loc[(r["est"] == 1) & r["scheme"].isin(["170", "390"]) & r["key"].isin(alive)]
    pool = act.drop_duplicates("key")
    k = _pick(rng, pool.index.to_numpy(), 0.002, r["key"].nunique())
    sel = pool.loc[k]
    reg = other_regions(w.district, rng, len(sel), 0.5)
    return pd.DataFrame(
        {
            "key": sel["key"].to_numpy(),
            "scheme": sel["scheme"].to_numpy(),
            "region": reg,
            "est": 1,
            "kind": "dup_region",
        }
    )


def population_quirks(w: World, rng: np.random.Generator, periods: int) -> None:
    """Population duplicates, people in both lists, residents' Excel-mangled IDs,
    and identity corrections 公安 makes at a later period."""
    p = w.persons
    n = len(p)
    p["dup_pop"] = ""
    p["dup_id"] = ""
    p["dup_hh"] = ""
    p["in_both"] = False
    p["res_excel"] = False
    p["name_fix_at"] = -1
    p["id_fix_at"] = -1
    p["no_faults"] = False
    p["member"] = [f"{w.district[:4]}{x:08d}" for x in rng.permutation(n) + 1]
    alive_h = p.index[(p["hstatus"] == "管理中")].to_numpy()
    k = _pick(rng, alive_h, 0.0005)
    two_ids = rng.random(len(k)) < 0.25
    p.loc[k, "dup_pop"] = np.where(two_ids, "id", "household")
    hh_all = p["hh"].to_numpy()
    p.loc[k, "dup_hh"] = hh_all[rng.choice(alive_h, len(k))]
    kid = k[two_ids]
    if len(kid):
        reg = other_regions(w.district, rng, len(kid), 1.0)
        alt = ids.make_ids(reg, p.loc[kid, "birth"].to_numpy(), p.loc[kid, "male"].to_numpy(), rng)
        p.loc[kid, "dup_id"] = alt
    rest = np.setdiff1d(alive_h, k)
    kb = _pick(rng, rest, 0.0005)
    p.loc[kb, "in_both"] = True
    with_rows = set(w.rows["key"])
    res = p.index[(p["pop"] == "resident") & ~p["id"].str.endswith("X")].to_numpy()
    res = res[~np.isin(res, np.fromiter(with_rows, dtype=np.int64, count=len(with_rows)))]
    p.loc[_pick(rng, res, 0.004), "res_excel"] = True
    if periods > 1:
        all_ids = set(p["id"])
        rest = np.setdiff1d(rest, kb)
        cand = [
            x
            for x in rng.choice(rest, min(60, len(rest)), replace=False)
            if "·" not in p.at[x, "name"]
        ]
        nfix = max(2, int(n * 0.0001))
        for i, x in enumerate(cand[:nfix]):
            v = names.homophone_variant(p.at[x, "name"], i)
            if v:
                p.at[x, "gname"] = v
                p.at[x, "name_fix_at"] = 1 + i % (periods - 1)
                p.at[x, "no_faults"] = True
        for i, x in enumerate(cand[nfix : nfix + max(1, int(n * 0.00005))]):
            idn = p.at[x, "id"]
            seq = (int(idn[14:17]) + 2) % 996
            body = idn[:14] + f"{seq:03d}"
            wrong = body + ids.id_check_char(body)
            if wrong not in all_ids:
                p.at[x, "gid"] = wrong
                p.at[x, "id_fix_at"] = 1 + i % (periods - 1)
                p.at[x, "no_faults"] = True


def apply_corrections(w: World, period_index: int) -> None:
    """公安 fixes the names and IDs due at this period."""
    p = w.persons
    m = p["name_fix_at"] == period_index
    p.loc[m, "gname"] = p.loc[m, "name"]
    m = p["id_fix_at"] == period_index
    p.loc[m, "gid"] = p.loc[m, "id"]


__all__ = ["age_on"]
