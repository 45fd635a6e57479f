"""Expected results of a demo period, computed from the TRUE attributes (an implementation
of contract §7 independent of the pipeline): statuses, findings, changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from canbao.demo.world import World, age_on

LIFE = {
    "管理中": "alive",
    "其它": "alive",
    "": "alive",
    "死亡": "deceased",
    "迁出": "moved_out",
    "注销": "cancelled",
}
PENSION = ("110", "120", "170")
MEDICAL = ("310", "390")
# Survey outcomes (contract §8.4 核实情况) that exempt: both families (contract §7), and
# pension only for 在校学生 (contract §2: "在校学生 for pension … as known from the data or
# the survey"). Other outcomes (参加省职保 …) make a person ``surveyed`` but insure nobody:
# coverage comes from the extracts only (contract §7).
EXEMPT_OUTCOMES = ("现役军人", "服刑人员", "出国（境）人员")
EXEMPT_PENSION_OUTCOMES = ("在校学生",)
CORRECTION_CODES = {
    "ID_REPAIRED",
    "ID_UPGRADED",
    "ID_PRECISION_LOST",
    "NAME_MISMATCH",
    "SEX_MISMATCH",
    "BIRTH_MISMATCH",
}
ROW_CODES = {
    "id_one_digit": ("ID_INVALID", "ID_REPAIRED"),
    "id_transposition": ("ID_INVALID", "ID_REPAIRED"),
    "id_check_char": ("ID_INVALID", "ID_REPAIRED"),
    "id_15": ("ID_UPGRADED",),
    "id_excel": ("ID_PRECISION_LOST", "ID_REPAIRED"),
    "id_missing": ("ID_INVALID", "ID_REPAIRED"),
    "name_homophone": ("NAME_MISMATCH",),
    "name_traditional": ("NAME_MISMATCH",),
    "birth_typo": ("BIRTH_MISMATCH",),
    "sex_wrong": ("SEX_MISMATCH",),
    "id_excel_numeric": ("ID_PRECISION_LOST",),
    "credit_check": ("EMPLOYER_INVALID",),
    "credit_empty": ("EMPLOYER_INVALID",),
    "employer_no_name": ("EMPLOYER_INVALID",),
}


def person_key(keys: pd.Series | np.ndarray) -> np.ndarray:
    k = np.asarray(keys)
    return np.char.add("D", np.char.zfill(k.astype(np.int64).astype(str), 8))


def row_findings(w: World, rows_truth: pd.DataFrame) -> pd.DataFrame:
    """Per-row codes (file and source_row set). Adds 'in-period' identity differences:
    a 公安 name or ID that is corrected later makes today's correct rows mismatch."""
    rt = rows_truth.copy()
    p = w.persons
    pop = p["pop"].reindex(rt["key"].fillna(-1).astype(int)).to_numpy()
    codes = pd.DataFrame(
        [(t, c) for t, cs in ROW_CODES.items() for c in cs], columns=["tag", "finding"]
    )
    tagged = rt.loc[rt["faults"] != "", ["file", "source_row", "key", "faults"]]
    tagged = tagged.assign(tag=tagged["faults"].str.split(";")).explode("tag")
    out = [tagged.merge(codes, on="tag")[["file", "source_row", "key", "finding"]]]
    enr = (rt["extract"] == "enrollment").to_numpy()
    out.append(
        rt.loc[enr & (pop == "none"), ["file", "source_row", "key"]].assign(
            finding="NOT_IN_POPULATION"
        )
    )
    k = rt["key"].fillna(-1).astype(int)
    gname_off = (p["gname"] != p["name"]).reindex(k).fillna(False).to_numpy(dtype=bool)
    gid_off = (p["gid"] != p["id"]).reindex(k).fillna(False).to_numpy(dtype=bool)
    out.append(
        rt.loc[enr & gname_off, ["file", "source_row", "key"]].assign(finding="NAME_MISMATCH")
    )
    out.append(rt.loc[enr & gid_off, ["file", "source_row", "key"]].assign(finding="ID_REPAIRED"))
    f = pd.concat(out, ignore_index=True)
    return f


def person_findings(w: World) -> pd.DataFrame:
    """DUPLICATE_*, DECEASED_* and DUPLICATE_PERSON: one row per person and code."""
    p, r = w.persons, w.rows
    r = r.loc[r["key"].map(p["pop"]) != "none"]
    active = r.loc[(r["est"] == 1) | (r["bst"] == 1)]
    out = []
    dr = active.groupby(["key", "scheme"]).size()
    out.append(
        pd.DataFrame(
            {"key": dr[dr >= 2].index.get_level_values(0).unique(), "finding": "DUPLICATE_RECORD"}
        )
    )
    # pension duplicates are decided per pair of rows: a pair both 正常享受 is
    # DUPLICATE_BENEFIT only; any other active 职工 + 居民 pair is DUPLICATE_PENSION
    pen_rows = active.loc[active["scheme"].isin(PENSION)]
    paid = pen_rows.loc[pen_rows["bst"] == 1].groupby("key").size()
    benefit = set(paid[paid >= 2].index)
    worker = pen_rows["scheme"].isin(["110", "120"])
    resident = pen_rows["scheme"] == "170"
    unpaid = pen_rows["bst"] != 1
    emp, res = set(pen_rows.loc[worker, "key"]), set(pen_rows.loc[resident, "key"])
    emp_u = set(pen_rows.loc[worker & unpaid, "key"])
    res_u = set(pen_rows.loc[resident & unpaid, "key"])
    pension = (emp_u & res) | (emp & res_u)
    out.append(pd.DataFrame({"key": sorted(benefit), "finding": "DUPLICATE_BENEFIT"}))
    out.append(pd.DataFrame({"key": sorted(pension), "finding": "DUPLICATE_PENSION"}))
    med = set(active.loc[active["scheme"] == "310", "key"]) & set(
        active.loc[active["scheme"] == "390", "key"]
    )
    out.append(pd.DataFrame({"key": sorted(med), "finding": "DUPLICATE_MEDICAL"}))
    nm = w.nm.loc[w.nm["est"] == 1]
    reg = set()
    for fam in (PENSION, MEDICAL):
        reg |= set(active.loc[active["scheme"].isin(fam), "key"]) & set(
            nm.loc[nm["scheme"].isin(fam), "key"]
        )
    out.append(pd.DataFrame({"key": sorted(reg), "finding": "DUPLICATE_REGION"}))
    # per row: a row 正常享受 is DECEASED_BENEFIT, a row 正常参保 without it DECEASED_ACTIVE;
    # one person can have both (a dead pensioner's 390 still running)
    dead = set(p.index[p["hstatus"] == "死亡"])
    ben = dead & set(r.loc[r["bst"] == 1, "key"])
    act = dead & set(r.loc[(r["est"] == 1) & (r["bst"] != 1), "key"])
    out.append(pd.DataFrame({"key": sorted(ben), "finding": "DECEASED_BENEFIT"}))
    out.append(pd.DataFrame({"key": sorted(act), "finding": "DECEASED_ACTIVE"}))
    out.append(
        pd.DataFrame({"key": p.index[p["dup_pop"] != ""].to_numpy(), "finding": "DUPLICATE_PERSON"})
    )
    f = pd.concat(out, ignore_index=True)
    return f.assign(file="", source_row=pd.NA)


def expected_persons(
    w: World, ref: dt.date, rows_truth: pd.DataFrame, row_f: pd.DataFrame
) -> pd.DataFrame:
    p = w.persons
    r = w.rows
    life = p["hstatus"].map(LIFE).fillna("alive").to_numpy()
    ins = r.loc[r["est"].isin([1, 2]) | r["bst"].isin([1, 2])]
    nm = w.nm.loc[~w.nm["est"].isin([3, 4])]
    keys = p.index
    pen_local = keys.isin(ins.loc[ins["scheme"].isin(PENSION), "key"])
    med_local = keys.isin(ins.loc[ins["scheme"].isin(MEDICAL), "key"])
    pen_else = keys.isin(nm.loc[nm["scheme"].isin(PENSION), "key"])
    med_else = keys.isin(nm.loc[nm["scheme"].isin(MEDICAL), "key"])
    listed = set(rows_truth.loc[rows_truth["extract"] == "students", "key"])
    outcome = pd.Series(w.surveyed, dtype=object).reindex(keys).fillna("").to_numpy()
    survey_exempt = np.isin(outcome, EXEMPT_OUTCOMES)
    age = age_on(p["birth"], ref)
    pen_exempt = (
        (age < 16)
        | keys.isin(list(listed))
        | survey_exempt
        | np.isin(outcome, EXEMPT_PENSION_OUTCOMES)
    )

    def status(local, elsewhere, exempt):
        s = np.where(
            local,
            "insured_local",
            np.where(elsewhere, "insured_elsewhere", np.where(exempt, "exempt", "not_insured")),
        )
        return np.where(life != "alive", "not_applicable", s)

    pension = status(pen_local, pen_else, pen_exempt)
    medical = status(med_local, med_else, survey_exempt)
    corr = set(
        row_f.loc[
            row_f["finding"].isin(CORRECTION_CODES) & (row_f["file"].str.startswith("enrollment")),
            "key",
        ]
    )
    reg = np.where(
        life != "alive", "not_applicable",
        np.where(outcome != "", "surveyed",
                 np.where((pension == "not_insured") | (medical == "not_insured"), "survey",
                          np.where(keys.isin(list(corr)), "needs_correction", "confirmed"))),
    )  # fmt: skip
    in_pop = (p["pop"] != "none").to_numpy()
    population = np.where(
        p["pop"] == "resident", "resident", np.where(p["pop"] == "hukou", "hukou", "none")
    )
    df = pd.DataFrame(
        {
            "person_key": person_key(keys), "id_number": p["gid"].to_numpy(), "name": p["gname"].to_numpy(),
            "sex": p["sex"].to_numpy(), "birth_date": pd.DatetimeIndex(p["birth"]).strftime("%Y-%m-%d"),
            "population": population, "township_code": p["town"].to_numpy(), "village_code": p["vill"].to_numpy(),
            "household_no": p["hh"].to_numpy(), "life_status": np.where(in_pop, life, ""),
            "pension_status": np.where(in_pop, pension, ""), "medical_status": np.where(in_pop, medical, ""),
            "registration": np.where(in_pop, reg, ""),
        }
    )  # fmt: skip
    return df.sort_values("person_key").reset_index(drop=True)


CHANGE_FIELDS = ("id_number", "name", "sex", "birth_date", "population", "township_code", "village_code",
                 "life_status", "pension_status", "medical_status", "registration")  # fmt: skip


def changes(prev: pd.DataFrame, cur: pd.DataFrame) -> pd.DataFrame:
    """added / removed persons and changed fields between two periods' persons (population only)."""
    a = prev.loc[prev["population"] != "none"].set_index("person_key")
    b = cur.loc[cur["population"] != "none"].set_index("person_key")
    out = [
        pd.DataFrame(
            {
                "person_key": b.index.difference(a.index),
                "change": "added",
                "field": "",
                "old_value": "",
                "new_value": "",
            }
        ),
        pd.DataFrame(
            {
                "person_key": a.index.difference(b.index),
                "change": "removed",
                "field": "",
                "old_value": "",
                "new_value": "",
            }
        ),
    ]
    common = a.index.intersection(b.index)
    # one positional take per frame (label lookups per field cost minutes at 1M people)
    xa = a.iloc[a.index.get_indexer(common)]
    yb = b.iloc[b.index.get_indexer(common)]
    for f in CHANGE_FIELDS:
        x = xa[f].astype(str)
        y = yb[f].astype(str)
        d = (x.to_numpy() != y.to_numpy()).astype(bool)
        out.append(
            pd.DataFrame(
                {
                    "person_key": common[d],
                    "change": "changed",
                    "field": f,
                    "old_value": x[d].to_numpy(),
                    "new_value": y[d].to_numpy(),
                }
            )
        )
    c = pd.concat(out, ignore_index=True)
    return c.sort_values(["person_key", "change", "field"], kind="stable").reset_index(drop=True)
