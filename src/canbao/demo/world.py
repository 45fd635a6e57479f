"""The demo world: people with 公安 statuses, jobs, students, employers and their
insurance rows (local enrollment and national_match), before any rendering."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from canbao.core import refdata
from canbao.demo import ids
from canbao.demo.population import build_population, other_regions

SCHOOLS = (
    "湘潭大学", "湖南科技大学", "湖南工程学院", "湘潭理工学院", "湖南软件职业技术大学",
    "湘潭市第一中学", "湘潭市第二中学", "湘潭县第一中学", "湖南师范大学", "中南大学",
    "长沙理工大学", "湖南电气职业技术学院", "湘潭医卫职业技术学院", "湘潭市职业技术学校",
)  # fmt: skip
EMP_ROOTS = [
    "鑫华",
    "恒通",
    "宏达",
    "湘江",
    "华盛",
    "金利",
    "永兴",
    "顺达",
    "天一",
    "中联",
    "福星",
    "瑞丰",
    "德润",
    "新宇",
    "长盛",
    "利民",
    "荣昌",
    "安泰",
    "正泰",
    "富源",
]
EMP_TRADES = [
    "建材",
    "机械",
    "电气",
    "物流",
    "商贸",
    "食品",
    "纺织",
    "建筑工程",
    "科技",
    "医药",
    "汽车服务",
    "家政服务",
    "餐饮管理",
    "电子",
    "印务",
]


@dataclass
class World:
    district: str
    persons: pd.DataFrame  # index: key (int)
    rows: pd.DataFrame  # local enrollment rows
    nm: pd.DataFrame  # national_match rows
    employers: pd.DataFrame
    next_member: int = 0
    next_row: int = 0
    surveyed: dict[int, str] = field(default_factory=dict)  # key -> accepted 核实情况


def _age(birth: pd.Series | np.ndarray, ref: dt.date) -> np.ndarray:
    b = pd.DatetimeIndex(birth)
    r = pd.Timestamp(ref)
    return (
        r.year - b.year - ((b.month > r.month) | ((b.month == r.month) & (b.day > r.day)))
    ).to_numpy()


def age_on(birth, ref: dt.date) -> np.ndarray:
    """Exact age in whole years on ``ref``."""
    return _age(birth, ref)


def _statuses(p: pd.DataFrame, ref: dt.date, rng: np.random.Generator) -> None:
    """公安 户籍状态 stock: deaths (mostly old), 迁出, 注销, a few 其它."""
    n = len(p)
    age = age_on(p["birth"], ref)
    huk = (p["pop"] == "hukou").to_numpy()
    u = rng.random(n)
    p_death = np.clip(0.02 * np.exp((age - 60) / 11), 0, 0.6)
    dead = huk & (u < p_death)
    moved = huk & ~dead & (rng.random(n) < np.where((age >= 18) & (age < 45), 0.035, 0.008))
    canc = huk & ~dead & ~moved & (rng.random(n) < 0.004)
    other = huk & ~dead & ~moved & ~canc & (rng.random(n) < 0.00012)
    st = np.full(n, "管理中", dtype=object)
    st[dead], st[moved], st[canc], st[other] = "死亡", "迁出", "注销", "其它"
    p["hstatus"] = np.where(huk, st, "")
    days = rng.integers(20, 5 * 365, n).astype("timedelta64[D]")
    sdate = np.datetime64(ref.isoformat(), "D") - days
    p["sdate"] = pd.to_datetime(np.where(huk & (st != "管理中"), sdate, np.datetime64("NaT")))


def _schools(district: str) -> tuple[str, ...]:
    """Hunan districts get the real 湘潭/长沙 schools; elsewhere generic city schools."""
    if district.startswith("43"):
        return SCHOOLS
    c = refdata.counties().set_index("code")
    city = c.at[district, "city_name"]
    prov = c.at[district, "province_name"]
    city = prov if city in ("市辖区", "县", "省直辖县级行政区划") else city
    stem = city.removesuffix("市")
    return (
        f"{stem}大学",
        f"{stem}师范学院",
        f"{stem}职业技术学院",
        f"{city}第一中学",
        f"{city}第二中学",
        f"{city}实验中学",
    )


def _jobs(p: pd.DataFrame, ref: dt.date, rng: np.random.Generator) -> None:
    n = len(p)
    age = age_on(p["birth"], ref)
    male = p["male"].to_numpy()
    res = (p["pop"] == "resident").to_numpy()
    u = rng.random(n)
    stud = ((age >= 16) & (age <= 22) & (u < 0.62)) | ((age >= 23) & (age <= 24) & (u < 0.2))
    stud |= (age >= 13) & (age < 16) & (u < 0.12)
    p["student"] = stud & ~res
    schools = np.array(_schools(p.attrs["district"]))
    p["school"] = np.where(p["student"], schools[rng.integers(0, len(schools), n)], "")
    retire_age = np.where(male, 60, 55)
    working = (age >= 18) & (age < retire_age) & ~p["student"].to_numpy()
    v = rng.random(n)
    ent = working & (v < np.where(res, 0.6, 0.33))
    inst = working & ~ent & (v < np.where(res, 0.62, 0.38))
    away = working & ~ent & ~inst & ~res & (v < 0.44)  # works elsewhere, insured there
    job = np.full(n, "none", dtype=object)
    job[ent], job[inst], job[away] = "ent", "inst", "away"
    old = age >= retire_age
    w = rng.random(n)
    job[old & (w < 0.22)] = "ent_ret"
    job[old & (w >= 0.22) & (w < 0.27)] = "inst_ret"
    p["job"] = job


def _employers(district: str, p: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n_emp = max(int((p["job"].isin(["ent", "inst"])).sum() / 12), 5)
    inst = rng.random(n_emp) < 0.12
    codes = ids.credit_code(rng, district, n_emp)
    codes = [("12" if i else "91") + c[2:17] for c, i in zip(codes, inst, strict=True)]
    codes = [c[:17] + _credit_check(c[:17]) for c in codes]
    name = [
        f"{'湘潭市' if district.startswith('4303') else ''}{EMP_ROOTS[a]}{EMP_TRADES[b]}有限公司"
        for a, b in zip(
            rng.integers(0, len(EMP_ROOTS), n_emp),
            rng.integers(0, len(EMP_TRADES), n_emp),
            strict=True,
        )
    ]
    rep = pd.Series(name).groupby(pd.Series(name)).cumcount().to_numpy()
    name = [f"{nm[:-4]}第{r + 1}分公司" if r else nm for nm, r in zip(name, rep, strict=True)]
    inst_names = [
        "人民医院",
        "第二小学",
        "实验中学",
        "社区卫生服务中心",
        "市政管理所",
        "林业站",
        "文化站",
        "图书馆",
    ]
    name = [
        f"{inst_names[i % len(inst_names)]}{i}" if k else nm
        for i, (nm, k) in enumerate(zip(name, inst, strict=True))
    ]
    towns = p["town"].unique()
    e = pd.DataFrame(
        {
            "employer_no": [f"{district}{i + 1:06d}" for i in range(n_emp)],
            "credit": codes,
            "name": name,
            "inst": inst,
            "town": np.sort(towns)[rng.integers(0, len(towns), n_emp)],
            "status": np.where(rng.random(n_emp) < 0.96, "正常", "暂停"),
            "fault": "",
        }
    )
    tn = p.drop_duplicates("town").set_index("town")["town_name"]
    rc = np.array(list("建设人民解放中山和平胜利文化新华长城湖湘"))
    road = pd.Series(
        np.char.add(rc[rng.integers(0, len(rc), n_emp)], rc[rng.integers(0, len(rc), n_emp)])
    )
    prefix = refdata.county_name(district) or ""
    e["addr"] = (
        prefix
        + e["town"].map(tn)
        + road
        + "路"
        + pd.Series(rng.integers(1, 500, n_emp).astype(str))
        + "号"
    )
    # ~2% bad: wrong check character, empty code, or empty name
    u = rng.random(n_emp)
    bad_chk, empty, noname = u < 0.011, (u >= 0.011) & (u < 0.018), (u >= 0.018) & (u < 0.021)
    e.loc[bad_chk, "credit"] = [
        c[:17] + ("0" if c[17] != "0" else "1") for c in e.loc[bad_chk, "credit"]
    ]
    e.loc[bad_chk, "fault"] = "credit_check"
    e.loc[empty, "credit"] = ""
    e.loc[empty, "fault"] = "credit_empty"
    e.loc[noname, "name"] = ""
    e.loc[noname, "fault"] = "employer_no_name"
    return e


def _credit_check(body17: str) -> str:
    total = sum(
        ids.CREDIT_CHARS.index(ch) * w for ch, w in zip(body17, ids.CREDIT_WEIGHTS, strict=True)
    )
    return ids.CREDIT_CHARS[(31 - total % 31) % 31]


def _rand_dates(rng, n, start: str, end: dt.date) -> np.ndarray:
    s = np.datetime64(start, "D")
    span = (np.datetime64(end.isoformat(), "D") - s).astype(int)
    return s + rng.integers(0, max(span, 1), n).astype("timedelta64[D]")


def insurance_rows(
    p: pd.DataFrame, ref: dt.date, rng: np.random.Generator, employers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Local rows (key, scheme, est, bst, edate, employer, kind) and national_match rows."""
    n = len(p)
    key = p.index.to_numpy()
    age = age_on(p["birth"], ref)
    job = p["job"].to_numpy()
    stud = p["student"].to_numpy()
    res = (p["pop"] == "resident").to_numpy()
    none_ = (p["pop"] == "none").to_numpy()
    alive = (p["hstatus"].isin(["管理中", "其它", ""])).to_numpy()
    ent_emp = employers.loc[~employers["inst"], "employer_no"].to_numpy()
    inst_emp = employers.loc[employers["inst"], "employer_no"].to_numpy()
    zipf = lambda k, m: np.minimum(rng.zipf(1.3, k) - 1, m - 1)  # noqa: E731
    emp = np.full(n, "", dtype=object)
    is_ent = job == "ent"
    is_inst = job == "inst"
    emp[is_ent] = ent_emp[
        (
            zipf(is_ent.sum(), len(ent_emp))
            + rng.integers(0, len(ent_emp), is_ent.sum()) * (rng.random(is_ent.sum()) < 0.7)
        )
        % len(ent_emp)
    ]
    if len(inst_emp):
        emp[is_inst] = inst_emp[rng.integers(0, len(inst_emp), is_inst.sum())]
    else:
        emp[is_inst] = ent_emp[rng.integers(0, len(ent_emp), is_inst.sum())]
    out: list[pd.DataFrame] = []

    def add(mask, scheme, est, bst, start="2012-01-01", employer=None, kind="base"):
        k = key[mask]
        if len(k) == 0:
            return
        out.append(
            pd.DataFrame(
                {
                    "key": k,
                    "scheme": scheme,
                    "est": np.broadcast_to(est, len(k)) if np.ndim(est) == 0 else est[mask],
                    "bst": np.broadcast_to(bst, len(k)) if np.ndim(bst) == 0 else bst[mask],
                    "edate": _rand_dates(rng, len(k), start, ref),
                    "employer": "" if employer is None else employer[mask],
                    "kind": kind,
                }
            )
        )

    u = rng.random((n, 4))
    # employees: 110/120 + 310 + 210/410/510
    add(is_ent, "110", 1, 0, "2005-01-01", emp)
    add(is_inst, "120", 1, 0, "2014-10-01", emp)
    add(is_ent | is_inst, "310", 1, 0, "2005-01-01", emp)
    add((is_ent | is_inst) & (u[:, 0] < 0.92), "210", 1, 0, "2005-01-01", emp)
    add((is_ent | is_inst) & (u[:, 1] < 0.95), "410", 1, 0, "2005-01-01", emp)
    add((is_ent | is_inst) & (u[:, 2] < 0.85), "510", 1, 0, "2005-01-01", emp)
    ret_ent = job == "ent_ret"
    ret_inst = job == "inst_ret"
    add(ret_ent, "110", 1, 1, "1995-01-01")
    add(ret_inst, "120", 1, 1, "2014-10-01")
    add(ret_ent | ret_inst, "310", 1, 0, "1999-01-01")
    # residents' pension: 16+ non-students with no job scheme, 户籍 here (residents join at home)
    resident_pool = (age >= 16) & ~stud & np.isin(job, ["none"]) & ~res & ~none_
    has170 = resident_pool & (u[:, 3] < 0.86)
    est170 = np.where(rng.random(n) < 0.95, 1, 2)
    add(has170 & (age >= 60), "170", 1, 1, "2011-01-01")
    add(has170 & (age < 60), "170", est170, 0, "2011-01-01")
    # a history 170 ended when the person took a job (终止, some systems send 3)
    hist = (is_ent | is_inst) & (rng.random(n) < 0.04) & ~res
    add(hist, "170", np.where(rng.random(n) < 0.8, 4, 3), 0, "2011-01-01", kind="history")
    # medical: everyone without 310
    no310 = ~(is_ent | is_inst | ret_ent | ret_inst)
    res_else = res & ~is_ent & (rng.random(n) < 0.6)  # non-employee residents insured at home
    p390 = np.where(res, np.where(res_else, 0.0, 0.5), np.where(job == "away", 0.0, 0.93))
    add(no310 & ~none_ & (rng.random(n) < p390), "390", 1, 0, "2016-01-01")
    add(
        (is_ent | is_inst) & ~res & (rng.random(n) < 0.04),
        "390",
        4,
        0,
        "2016-01-01",
        kind="history",
    )
    rows = pd.concat(out, ignore_index=True)
    # national_match: people insured elsewhere
    nm_parts = []
    away = job == "away"
    reg = other_regions(p.attrs["district"], rng, n, 0.4)
    for mask, scheme in ((away, "110"), (away, "310")):
        nm_parts.append(
            pd.DataFrame({"key": key[mask], "scheme": scheme, "region": reg[mask], "est": 1})
        )
    origin = p["origin"].to_numpy()
    for scheme, cond in (("170", age >= 16), ("390", age >= 0)):
        msk = res_else & cond
        nm_parts.append(
            pd.DataFrame({"key": key[msk], "scheme": scheme, "region": origin[msk], "est": 1})
        )
    # hukou people elsewhere in 居民 schemes (students at university, 异地居保)
    el = (
        ~res
        & ~none_
        & alive
        & (age >= 16)
        & ~resident_pool
        & (job == "none")
        & (rng.random(n) < 0.5)
    )
    nm_parts.append(pd.DataFrame({"key": key[el], "scheme": "390", "region": reg[el], "est": 1}))
    # history (终止) rows elsewhere: count for nothing
    hi = ~none_ & (rng.random(n) < 0.01)
    nm_parts.append(pd.DataFrame({"key": key[hi], "scheme": "110", "region": reg[hi], "est": 4}))
    # no-pension hukou people insured elsewhere in 170 (异地居保)
    el2 = resident_pool & ~has170 & (rng.random(n) < 0.2)
    nm_parts.append(pd.DataFrame({"key": key[el2], "scheme": "170", "region": reg[el2], "est": 1}))
    nm = pd.concat(nm_parts, ignore_index=True)
    nm["kind"] = "base"
    return rows, nm


def build_world(district: str, people: int, ref: dt.date, rng: np.random.Generator) -> World:
    p = build_population(district, people, ref, rng)
    p.attrs["district"] = district
    p.index.name = "key"
    _statuses(p, ref, rng)
    _jobs(p, ref, rng)
    employers = _employers(district, p, rng)
    rows, nm = insurance_rows(p, ref, rng, employers)
    w = World(district=district, persons=p, rows=rows, nm=nm, employers=employers)
    return w
