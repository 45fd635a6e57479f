"""Half a month of district life between two extracts: births, deaths, moves, new and
ended enrollments, benefits starting at 60, duplicates cleaned up, and the findings only
later extracts have (see :func:`later_cases`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from canbao.demo import ids, names
from canbao.demo.faults import dress_rows, new_row_ids
from canbao.demo.population import other_regions
from canbao.demo.world import World, age_on


def _between(rng, n, a: dt.date, b: dt.date) -> np.ndarray:
    span = (b - a).days
    return np.datetime64(a.isoformat(), "D") + rng.integers(1, span + 1, n).astype("timedelta64[D]")


def _add_rows(w: World, rows: pd.DataFrame, rng: np.random.Generator) -> None:
    if rows.empty:
        return
    rows = new_row_ids(w, rows, rng, w.district)
    rows = dress_rows(rows, w.persons, rng, w.district)
    w.rows = pd.concat([w.rows, rows], ignore_index=True)


def births(w: World, prev: dt.date, cur: dt.date, rng: np.random.Generator) -> None:
    p = w.persons
    alive = p.index[p["hstatus"] == "管理中"]
    n = max(1, int(round(len(alive) * 0.0004)))
    age = age_on(p.loc[alive, "birth"], cur)
    mothers = alive[
        (~p.loc[alive, "male"].to_numpy())
        & (age >= 22)
        & (age <= 40)
        & p.loc[alive, "rel"].isin(["02", "12", "30"]).to_numpy()
    ]
    if len(mothers) == 0:
        return
    mom = rng.choice(mothers, n)
    male = rng.random(n) < 0.52
    birth = _between(rng, n, prev, cur)
    heads = p.loc[p["rel"] == "02"].drop_duplicates("hh").set_index("hh")["gname"]
    surname = p.loc[mom, "hh"].map(heads).fillna(p.loc[mom, "gname"]).str[0].to_numpy(dtype=str)
    nm = np.char.add(surname.astype("U1"), names.given_names(rng, male))
    start = int(p.index.max()) + 1
    kids = p.loc[mom].copy()
    kids.index = pd.RangeIndex(start, start + n, name="key")
    kids = kids.assign(
        male=male, birth=pd.to_datetime(birth), region=w.district, name=nm, gname=nm, sex=np.where(male, 1, 2),
        rel=np.where(male, "20", "30"), hstatus="管理中", sdate=pd.NaT, student=False, school="", job="none",
        dup_pop="", dup_id="", dup_hh="", in_both=False, res_excel=False, name_fix_at=-1, id_fix_at=-1, no_faults=False,
    )  # fmt: skip
    kids["id"] = ids.make_ids(np.full(n, w.district), kids["birth"].to_numpy(), male, rng)
    taken = set(p["id"].to_numpy(dtype=object))  # Arrow-string isin is a Python loop over p
    kids = kids.loc[[x not in taken for x in kids["id"].to_numpy(dtype=object)]]
    kids["gid"] = kids["id"]
    kids["member"] = [
        f"{w.district[:4]}{8_000_000 + w.next_member + i:08d}" for i in range(len(kids))
    ]
    w.next_member += len(kids)
    w.persons = pd.concat([p, kids])
    enrol = kids.index[rng.random(len(kids)) < 0.4]
    _add_rows(w, pd.DataFrame({"key": enrol, "scheme": "390", "est": 1, "bst": 0, "employer": "", "kind": "newborn",
                               "edate": _between(rng, len(enrol), prev, cur)}), rng)  # fmt: skip


def deaths_and_moves(w: World, prev: dt.date, cur: dt.date, rng: np.random.Generator) -> None:
    p = w.persons
    alive = p.index[p["hstatus"] == "管理中"]
    age = age_on(p.loc[alive, "birth"], cur)
    pd_ = np.clip(0.00003 * np.exp((age - 40) / 10), 0, 0.02)
    dead = alive[rng.random(len(alive)) < pd_]
    pm = np.where((age >= 18) & (age < 45), 0.0012, 0.0003)
    moved = alive[(rng.random(len(alive)) < pm) & ~np.isin(alive, dead)]
    p.loc[dead, "hstatus"] = "死亡"
    p.loc[moved, "hstatus"] = "迁出"
    p.loc[dead, "sdate"] = pd.to_datetime(_between(rng, len(dead), prev, cur))
    p.loc[moved, "sdate"] = pd.to_datetime(_between(rng, len(moved), prev, cur))
    r = w.rows
    # rows of the newly dead/moved end, most of them at once; the rest stay (findings) for now
    hs = r["key"].map(p["hstatus"])
    new = r["key"].isin(np.concatenate([dead, moved])) & (rng.random(len(r)) < 0.75)
    stale = (
        hs.isin(["死亡", "迁出"]) & ~r["key"].isin(np.concatenate([dead, moved])) & (r["est"] != 4)
    )
    stale &= pd.Series(rng.random(len(r)) < 0.15, index=r.index)
    end = (new | stale) & (r["est"] != 4)
    r.loc[end, "bst"] = np.where(r.loc[end, "bst"] == 1, 3, 0)
    r.loc[end, "est"] = 4


def enrollments(w: World, prev: dt.date, cur: dt.date, rng: np.random.Generator) -> None:
    """New 170/390 enrollments of uninsured people; some jobs end (暂停); 60-year-olds start
    drawing 170; some duplicate rows are cleaned up."""
    p, r = w.persons, w.rows
    alive = p.index[(p["hstatus"] == "管理中") | (p["pop"] == "resident")]
    age = pd.Series(age_on(p.loc[alive, "birth"], cur), index=alive)
    ins = r.loc[r["est"].isin([1, 2]) | r["bst"].isin([1, 2])]
    has_pen = set(ins.loc[ins["scheme"].isin(["110", "120", "170"]), "key"]) | set(
        w.nm.loc[w.nm["est"] == 1, "key"]
    )
    nm_med = w.nm.loc[(w.nm["est"] == 1) & w.nm["scheme"].isin(["310", "390"]), "key"]
    has_med = set(ins.loc[ins["scheme"].isin(["310", "390"]), "key"]) | set(nm_med)
    hukou = p.loc[alive, "pop"] == "hukou"
    no_pen = alive[
        (age >= 16).to_numpy()
        & ~p.loc[alive, "student"].to_numpy()
        & hukou.to_numpy()
        & ~alive.isin(list(has_pen))
    ]
    no_med = alive[hukou.to_numpy() & ~alive.isin(list(has_med))]
    k1 = no_pen[rng.random(len(no_pen)) < 0.04]
    k2 = no_med[rng.random(len(no_med)) < 0.04]
    new = pd.concat(
        [
            pd.DataFrame(
                {
                    "key": k1,
                    "scheme": "170",
                    "est": 1,
                    "bst": np.where(age.reindex(k1).to_numpy() >= 60, 1, 0),
                }
            ),
            pd.DataFrame({"key": k2, "scheme": "390", "est": 1, "bst": 0}),
        ],
        ignore_index=True,
    )
    new["employer"], new["kind"] = "", "new"
    new["edate"] = _between(rng, len(new), prev, cur)
    # jobs ending: 110 (and its companions) suspended
    emp = r.loc[
        (r["scheme"] == "110") & (r["est"] == 1) & (r["bst"] == 0) & r["kind"].eq("base"), "key"
    ].unique()
    quit_ = emp[rng.random(len(emp)) < 0.003]
    m = (
        r["key"].isin(quit_)
        & r["scheme"].isin(["110", "310", "210", "410", "510"])
        & (r["est"] == 1)
    )
    r.loc[m, "est"] = 2
    # turning 60 with a 170 account: benefits start
    ages_r = r["key"].map(pd.Series(age_on(p["birth"], cur), index=p.index))
    m = (
        (r["scheme"] == "170")
        & (r["est"] == 1)
        & (r["bst"] == 0)
        & (ages_r >= 60)
        & r["kind"].isin(["base", "new"])
    )
    r.loc[m, "bst"] = 1
    # cleanup of earlier duplicates
    dup = r["kind"].isin(["dup_record", "dup_pension", "dup_medical"]) & (r["est"] == 1)
    fix = dup & pd.Series(rng.random(len(r)) < 0.15, index=r.index)
    r.loc[fix, "est"] = 4
    _add_rows(w, new, rng)


def _some(rng: np.random.Generator, pool: np.ndarray, rate: float, base: int) -> np.ndarray:
    """``rate`` of ``base`` (at least 3, at most the pool) drawn from ``pool``, sorted."""
    k = min(max(3, int(round(rate * base))), len(pool))
    return np.sort(rng.choice(pool, k, replace=False)) if k else pool[:0]


def later_cases(w: World, prev: dt.date, cur: dt.date, rng: np.random.Generator) -> None:
    """The findings only later extracts have, made often enough to be measured (~0.01% of
    people each, at least 3 a period): pensioners dying while their pension still pays and
    their medical row still runs (DECEASED_BENEFIT and DECEASED_ACTIVE), people moving out
    while still paying here and already insured at the new place (DUPLICATE_REGION), and
    new duplicates within and across schemes (DUPLICATE_RECORD/_PENSION/_MEDICAL/_BENEFIT)."""
    p, r = w.persons, w.rows
    n = len(p)
    alive = p.index[(p["hstatus"] == "管理中") & (p["pop"] == "hukou")]
    live = r.loc[r["key"].isin(alive)]
    act = live.loc[(live["est"] == 1) | (live["bst"] == 1)]

    def holders(mask: pd.Series) -> set:
        return set(act.loc[mask, "key"])

    paid = holders(act["scheme"].isin(["110", "120", "170"]) & (act["bst"] == 1))
    medical = holders(act["scheme"].isin(["310", "390"]) & (act["bst"] != 1))
    dying = _some(rng, np.array(sorted(paid & medical), dtype=np.int64), 0.0001, n)
    p.loc[dying, "hstatus"] = "死亡"
    p.loc[dying, "sdate"] = pd.to_datetime(_between(rng, len(dying), prev, cur))
    # moving out, rows here still paying, insured at the new place in the same scheme
    resident = act.loc[act["scheme"].isin(["170", "390"]) & ~act["key"].isin(dying)]
    resident = resident.drop_duplicates("key")
    elsewhere = set(w.nm.loc[w.nm["est"] == 1, "key"])
    resident = resident.loc[~resident["key"].isin(list(elsewhere))]
    movers = resident.loc[_some(rng, resident.index.to_numpy(), 0.0001, n)]
    p.loc[movers["key"], "hstatus"] = "迁出"
    p.loc[movers["key"], "sdate"] = pd.to_datetime(_between(rng, len(movers), prev, cur))
    region = other_regions(w.district, rng, len(movers), 0.5)
    nm_new = pd.DataFrame(
        {"key": movers["key"].to_numpy(), "scheme": movers["scheme"].to_numpy(),
         "region": region, "est": 1, "kind": "moved_paying"}
    )  # fmt: skip
    w.nm = pd.concat([w.nm, nm_new], ignore_index=True)
    # new duplicates among the people still here
    gone = set(dying) | set(movers["key"])
    stay = act.loc[~act["key"].isin(list(gone))]
    has = {s: set(stay.loc[stay["scheme"] == s, "key"]) for s in ("170", "390")}
    pools = {
        "dup_pension": (
            stay.loc[(stay["scheme"] == "110") & (stay["bst"] == 0), "key"],
            "170",
            0,
            has["170"],
        ),
        "dup_medical": (stay.loc[stay["scheme"] == "310", "key"], "390", 0, has["390"]),
        "dup_record": (
            stay.loc[(stay["scheme"] == "390") & (stay["bst"] == 0), "key"],
            "390",
            0,
            set(),
        ),
        "dup_benefit": (
            stay.loc[(stay["scheme"] == "110") & (stay["bst"] == 1), "key"],
            "170",
            1,
            has["170"],
        ),
    }
    parts = []
    for kind, (keys, scheme, bst, already) in pools.items():
        pool = np.array(sorted(set(keys) - already), dtype=np.int64)
        k = _some(rng, pool, 0.0001, n)
        parts.append(pd.DataFrame({"key": k, "scheme": scheme, "est": 1, "bst": bst,
                                   "employer": "", "kind": kind}))  # fmt: skip
    new = pd.concat(parts, ignore_index=True)
    new["edate"] = _between(rng, len(new), prev, cur)
    _add_rows(w, new, rng)
