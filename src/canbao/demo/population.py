"""The demo's people: households with a realistic age structure, 公安 statuses,
non-local residents, students and jobs, all drawn with numpy (no per-person loops)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from canbao.core import refdata
from canbao.demo import ids, names
from canbao.demo.geography import divisions

ROAD_ROOTS = np.array(list("建设人民解放中山和平胜利文化新华长城雨湖韶山湖湘岳塘"))


def _short(village_names: np.ndarray) -> np.ndarray:
    """雨湖路社区居委会 -> 雨湖路社区, 仙女村委会 -> 仙女村 (as written in addresses)."""
    return (
        pd.Series(village_names)
        .str.replace("居委会$", "", regex=True)
        .str.replace("村委会$", "村", regex=True)
        .to_numpy(dtype=str)
    )


def _d64(d: dt.date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def other_regions(
    district_code: str, rng: np.random.Generator, n: int, same_province: float
) -> np.ndarray:
    """County codes elsewhere: ``same_province`` of them in the district's province."""
    c = refdata.counties()
    codes = c.loc[c["code"] != district_code, "code"].to_numpy(dtype=str)
    prov = codes[np.char.startswith(codes, district_code[:2])]
    far = codes[~np.char.startswith(codes, district_code[:2])]
    if len(prov) == 0:
        prov = far
    near = rng.random(n) < same_province
    return np.where(near, prov[rng.integers(0, len(prov), n)], far[rng.integers(0, len(far), n)])


def _ages_of_households(rng: np.random.Generator, h: int) -> pd.DataFrame:
    """Members of ``h`` households: household index, role, age, male, surname source."""
    head_age = np.clip(rng.normal(52, 16, h), 20, 98).astype(int)
    head_male = rng.random(h) < 0.76
    p_sp = np.where(head_age < 30, 0.5, np.where(head_age < 75, 0.86, 0.55))
    has_sp = rng.random(h) < p_sp
    sp_age = np.clip(head_age + np.where(head_male, -2, 2) + rng.integers(-3, 4, h), 18, 99)
    mother_age = np.where(head_male, np.where(has_sp, sp_age, head_age + 1), head_age)
    lam = np.where(
        head_age < 28, 0.4, np.where(head_age < 48, 1.5, np.where(head_age < 62, 0.8, 0.25))
    )
    n_ch = np.minimum(rng.poisson(lam), 4)
    has_gc = (head_age >= 50) & (head_age < 75) & (rng.random(h) < 0.25)
    n_gc = np.where(has_gc, rng.integers(1, 3, h), 0)
    has_par = (head_age >= 30) & (head_age < 62) & (rng.random(h) < 0.12)
    parts = []
    hh = np.arange(h)
    parts.append(pd.DataFrame({"h": hh, "role": "head", "age": head_age, "male": head_male}))
    i = hh[has_sp]
    parts.append(pd.DataFrame({"h": i, "role": "spouse", "age": sp_age[i], "male": ~head_male[i]}))
    i = np.repeat(hh, n_ch)
    ca = mother_age[i] - rng.integers(22, 36, len(i))
    k = ca >= 0
    parts.append(
        pd.DataFrame({"h": i[k], "role": "child", "age": ca[k], "male": rng.random(k.sum()) < 0.52})
    )
    i = np.repeat(hh, n_gc)
    ga = rng.integers(0, 15, len(i))
    parts.append(
        pd.DataFrame({"h": i, "role": "grandchild", "age": ga, "male": rng.random(len(i)) < 0.52})
    )
    i = hh[has_par]
    pa = np.minimum(head_age[i] + rng.integers(24, 33, len(i)), 101)
    parts.append(
        pd.DataFrame({"h": i, "role": "parent", "age": pa, "male": rng.random(len(i)) < 0.4})
    )
    m = pd.concat(parts, ignore_index=True)
    m["head_male"] = head_male[m["h"]]
    return m.sort_values(["h", "role"], kind="stable").reset_index(drop=True)


_REL = {
    ("head", True): "02", ("head", False): "02", ("spouse", True): "11", ("spouse", False): "12",
    ("child", True): "20", ("child", False): "30", ("grandchild", True): "41", ("grandchild", False): "42",
    ("parent", True): "51", ("parent", False): "52",
}  # fmt: skip


def _names_for(rng: np.random.Generator, m: pd.DataFrame, h: int, eth_h: np.ndarray) -> np.ndarray:
    """公安 names: household surname for the head's line, own surname for spouses."""
    sn, sp = names.surname_probs()
    hh_surname = sn[rng.choice(len(sn), h, p=sp)]
    other = sn[rng.choice(len(sn), len(m), p=sp)]
    male = m["male"].to_numpy()
    role = m["role"].to_numpy()
    hidx = m["h"].to_numpy()
    # children carry the father's surname: the head's when the head is male, else the spouse's
    own_line = (
        (role == "head") | (role == "grandchild") | ((role == "child") & m["head_male"].to_numpy())
    )
    own_line |= (role == "parent") & male & m["head_male"].to_numpy()
    surname = np.where(own_line, hh_surname[hidx], other)
    given = names.given_names(rng, male)
    full = np.char.add(surname.astype("U1"), given)
    uy = eth_h[hidx] == "05"
    if uy.any():
        full = full.astype(object)
        full[uy] = names.uyghur_names(rng, male[uy])
    return full.astype(str)


def build_population(
    district_code: str, people: int, ref: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """Everyone in the district's 户籍 and 常住 lists, plus insured people in neither."""
    towns, vills, prefix = divisions(district_code)
    n_res = int(round(people * 0.07))
    n_huk = people - n_res
    h = max(int(n_huk / 2.75), 1)
    m = _ages_of_households(rng, h)
    while len(m) < n_huk:  # rare on tiny sizes: add households
        h = int(h * 1.1) + 2
        m = _ages_of_households(rng, h)
    m = m.loc[m["h"] < m.loc[n_huk - 1, "h"] + 1].reset_index(drop=True)
    h = int(m["h"].max()) + 1
    eth_codes = np.array([e for e, _ in names.ETHNICITIES])
    eth_p = np.array([p for _, p in names.ETHNICITIES])
    eth_h = eth_codes[rng.choice(len(eth_codes), h, p=eth_p / eth_p.sum())]
    # villages: urban 社区 are denser than rural 村
    vw = np.where(vills["urban"], 1.6, 1.0) * rng.lognormal(0, 0.35, len(vills))
    vill_h = rng.choice(len(vills), h, p=vw / vw.sum())
    town_name = dict(zip(towns["code"], towns["name"], strict=True))
    vcode = vills["code"].to_numpy(dtype=str)[vill_h]
    vname = vills["name"].to_numpy(dtype=str)[vill_h]
    vtown = vills["township_code"].to_numpy(dtype=str)[vill_h]
    urban = vills["urban"].to_numpy()[vill_h]
    road = np.char.add(
        ROAD_ROOTS[rng.integers(0, len(ROAD_ROOTS), h)],
        ROAD_ROOTS[rng.integers(0, len(ROAD_ROOTS), h)],
    )
    num = rng.integers(1, 300, h).astype(str)
    grp = rng.integers(1, 16, h).astype(str)
    tname = np.array([town_name[t] for t in vtown])
    place = np.char.add(np.char.add(prefix, tname), _short(vname))
    addr_h = np.where(
        urban,
        np.char.add(np.char.add(np.char.add(place, road), "路"), np.char.add(num, "号")),
        np.char.add(np.char.add(np.char.add(place, grp), "组"), np.char.add(num, "号")),
    )
    hidx = m["h"].to_numpy()
    n = len(m)
    age = m["age"].to_numpy()
    rd = _d64(ref)
    birth = rd - (age * 365.25 + rng.integers(1, 365, n)).astype("timedelta64[D]")
    male = m["male"].to_numpy()
    # most were born here; older people and spouses more often elsewhere
    born_else = rng.random(n) < np.where(m["role"].to_numpy() == "spouse", 0.35, 0.12)
    region = np.where(born_else, other_regions(district_code, rng, n, 0.8), district_code)
    pop = pd.DataFrame(
        {
            "male": male,
            "birth": birth,
            "region": region,
            "eth": eth_h[hidx],
            "hh": np.char.add(district_code, np.char.zfill((hidx + 1).astype(str), 9)),
            "rel": [_REL[(r, bool(x))] for r, x in zip(m["role"], male, strict=True)],
            "town": vtown[hidx],
            "town_name": tname[hidx],
            "vill": vcode[hidx],
            "vill_name": vname[hidx],
            "addr": addr_h[hidx],
            "pop": "hukou",
            "origin": "",
        }
    )
    pop["name"] = _names_for(rng, m, h, eth_h)
    res = _residents(district_code, n_res, ref, rng, vills, town_name, prefix)
    pop = pd.concat([pop, res], ignore_index=True)
    pop["id"] = ids.make_ids(
        pop["region"].to_numpy(dtype=str), pop["birth"].to_numpy(), pop["male"].to_numpy(), rng
    )
    pop["sex"] = np.where(pop["male"], 1, 2)
    pop["gid"] = pop["id"]
    pop["gname"] = pop["name"]
    return pop


def _residents(district_code, n, ref, rng, vills, town_name, prefix) -> pd.DataFrame:
    """常住 people with 户籍 elsewhere (居住证): mostly working age."""
    if n == 0:
        return pd.DataFrame()
    age = np.where(rng.random(n) < 0.85, rng.integers(18, 56, n), rng.integers(0, 18, n))
    male = rng.random(n) < 0.55
    birth = _d64(ref) - (age * 365.25 + rng.integers(1, 365, n)).astype("timedelta64[D]")
    origin = other_regions(district_code, rng, n, 0.55)
    vi = rng.choice(len(vills), n)
    sn, sp = names.surname_probs()
    nm = np.char.add(sn[rng.choice(len(sn), n, p=sp)].astype("U1"), names.given_names(rng, male))
    vcode = vills["code"].to_numpy(dtype=str)[vi]
    tcode = vills["township_code"].to_numpy(dtype=str)[vi]
    tname = np.array([town_name[t] for t in tcode])
    addr = np.char.add(
        np.char.add(np.char.add(prefix, tname), _short(vills["name"].to_numpy(dtype=str)[vi])),
        np.char.add(rng.integers(1, 400, n).astype(str), "号"),
    )
    reg = _d64(ref) - rng.integers(30, 3000, n).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "male": male, "birth": birth, "region": origin, "eth": "01", "hh": "", "rel": "",
            "town": tcode, "town_name": tname, "vill": vcode, "vill_name": vills["name"].to_numpy(dtype=str)[vi],
            "addr": addr, "pop": "resident", "origin": origin, "name": nm, "regdate": reg,
        }
    )  # fmt: skip
