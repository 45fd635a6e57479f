"""Extract files as a district sends them: contract headers (hukou shuffled, with an
extra 备注 column), codes mixed with names, GBK / GB18030 / UTF-8 / xlsx."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from canbao.core import schema
from canbao.demo import ids
from canbao.demo.csvout import write_csv
from canbao.demo.faults import EST_NAMES, NM_SCHEME_NAMES, SCHEME_NAMES
from canbao.demo.xlsx import write_xlsx

XLSX_MAX_ROWS = 1_000_000


def _ymd(s: pd.Series, fmt: str = "%Y-%m-%d") -> pd.Series:
    """Dates as ``%Y-%m-%d`` or ``%Y%m%d`` text, empty for missing (numpy, not strftime)."""
    d = pd.to_datetime(s).to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(d, unit="D").astype("U10")
    if fmt == "%Y%m%d":
        text = np.ascontiguousarray(text.view("U1").reshape(-1, 10)[:, [0, 1, 2, 3, 5, 6, 8, 9]])
        text = text.view("U8").ravel()
    elif fmt != "%Y-%m-%d":
        raise ValueError(fmt)
    return pd.Series(np.where(np.isnat(d), "", text), index=s.index)


def _shuffled(headers: list[str], rng: np.random.Generator) -> list[str]:
    return [headers[i] for i in rng.permutation(len(headers))]


def hukou_table(w, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(file frame, truth rows[person_key, faults]) for hukou.csv."""
    p = w.persons
    h = p.loc[p["pop"] == "hukou"].copy()
    h["fault"] = ""
    dup = h.loc[h["dup_pop"] != ""].copy()
    dup["hh"] = dup["dup_hh"]
    dup["rel"] = "99"
    is_id = dup["dup_pop"] == "id"
    dup.loc[is_id, "gid"] = dup.loc[is_id, "dup_id"]
    dup["fault"] = np.where(is_id, "pop_duplicate_id", "pop_duplicate_household")
    h = pd.concat([h, dup]).reset_index()
    h = h.sort_values(["vill", "hh", "rel", "key"], kind="stable").reset_index(drop=True)
    wrong = h["gname"] != h["name"]
    h.loc[wrong, "fault"] = h.loc[wrong, "fault"] + "pop_name_corrected_later"
    wrong = (h["gid"] != h["id"]) & (h["dup_pop"] != "id")
    h.loc[wrong, "fault"] = h.loc[wrong, "fault"] + "pop_id_corrected_later"
    sex = np.where(
        rng.random(len(h)) < 0.85, h["sex"].astype(str), np.where(h["sex"] == 1, "男", "女")
    )
    df = pd.DataFrame(
        {
            "公民身份号码": h["gid"], "姓名": h["gname"], "性别": sex, "出生日期": _ymd(h["birth"], "%Y%m%d"),
            "民族": h["eth"], "户号": h["hh"], "与户主关系": h["rel"], "户籍地址": h["addr"],
            "乡镇街道代码": h["town"], "乡镇街道": h["town_name"], "村社区代码": h["vill"], "村社区": h["vill_name"],
            "户籍状态": h["hstatus"], "状态变更日期": _ymd(h["sdate"]),
            "备注": np.where(h["hstatus"] == "其它", "待核实", ""),
        }
    )  # fmt: skip
    cols = _shuffled(list(schema.HUKOU.columns), rng) + ["备注"]
    return df[cols], pd.DataFrame({"key": h["key"], "faults": h["fault"]})


def residents_frame(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    p = w.persons
    r = p.loc[(p["pop"] == "resident") | p["in_both"]].reset_index()
    r = r.sort_values(["vill", "key"], kind="stable").reset_index(drop=True)
    origin = np.where(r["pop"] == "resident", r["origin"], r["gid"].str[:6])
    reg = r["regdate"].where(r["pop"] == "resident", pd.Timestamp("2025-03-01"))
    idv = r["gid"].to_numpy(dtype=object, copy=True)
    ex = r["res_excel"].to_numpy()
    idv[ex] = [ids.excel_float(x) for x in idv[ex]]
    cols = list(schema.RESIDENTS.columns)
    data = pd.DataFrame(
        {
            "公民身份号码": idv, "姓名": r["gname"], "性别": r["sex"].astype(str), "出生日期": _ymd(r["birth"]),
            "户籍地区划代码": origin, "居住地址": r["addr"], "乡镇街道代码": r["town"], "村社区代码": r["vill"],
            "登记日期": _ymd(reg),
        }
    )[cols]  # fmt: skip
    faults = np.where(ex, "id_excel_numeric", np.where(r["in_both"], "in_both_lists", ""))
    return data, pd.DataFrame({"key": r["key"], "faults": faults})


def enrollment_frame(w, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = w.rows.sort_values(["order", "rid"]).reset_index(drop=True)
    n = len(r)
    scheme = r["scheme"].astype(str).to_numpy(dtype=object, copy=True)
    as_name = rng.random(n) < 0.08
    scheme[as_name] = [SCHEME_NAMES[s] for s in scheme[as_name]]
    est = r["est"].astype(str).to_numpy(dtype=object, copy=True)
    est_name = rng.random(n) < 0.05
    est[est_name] = [EST_NAMES[int(s)] for s in est[est_name]]
    name = r["disp_name"].to_numpy(dtype=object).copy()
    trail = rng.random(n) < 0.01
    name[trail] = [s + " " for s in name[trail]]
    df = pd.DataFrame(
        {
            "个人编号": r["member"], "公民身份号码": r["disp_id"], "姓名": name, "性别": r["disp_sex"],
            "出生日期": r["disp_birth"], "险种类型": scheme, "参保状态": est, "待遇享受状态": r["bst"].astype(str),
            "参保日期": _ymd(r["edate"]), "单位编号": r["employer"], "参保地区划代码": w.district,
        }
    )  # fmt: skip
    return df, pd.DataFrame({"key": r["key"], "faults": r["fault"], "rid": r["rid"]})


def national_match_frame(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = w.nm.merge(w.persons[["id", "name"]], left_on="key", right_index=True)
    m = m.sort_values(["region", "id", "scheme"], kind="stable").reset_index(drop=True)
    df = pd.DataFrame(
        {
            "公民身份号码": m["id"], "姓名": m["name"], "险种类型": m["scheme"].map(NM_SCHEME_NAMES),
            "参保地区划代码": m["region"], "参保状态": m["est"].astype(str),
        }
    )  # fmt: skip
    return df, pd.DataFrame({"key": m["key"], "faults": ""})


def students_frame(w, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    p = w.persons
    s = p.loc[p["student"] & p["hstatus"].isin(["管理中", "其它"])].reset_index()
    s = s.sort_values(["school", "key"], kind="stable").reset_index(drop=True)
    df = pd.DataFrame({"学校名称": s["school"], "公民身份号码": s["gid"], "姓名": s["gname"]})
    return df, pd.DataFrame({"key": s["key"], "faults": ""})


def employers_frame(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    e = w.employers
    df = pd.DataFrame(
        {
            "单位编号": e["employer_no"], "统一社会信用代码": e["credit"], "单位名称": e["name"],
            "单位地址": e["addr"], "乡镇街道代码": e["town"], "单位参保状态": e["status"],
        }
    )  # fmt: skip
    return df, pd.DataFrame(
        {"key": pd.Series([pd.NA] * len(e), dtype="Int64"), "faults": e["fault"].to_numpy()}
    )


def write_period(w, period_dir: Path, ref: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """Write every extract of the period; return truth rows (extract, file, source_row, key, faults)."""
    period_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime(ref.year, ref.month, ref.day, 18, 0, 0)
    out = []

    def rows_truth(extract: str, file: str, t: pd.DataFrame) -> None:
        out.append(
            pd.DataFrame(
                {"extract": extract, "file": file, "source_row": np.arange(1, len(t) + 1),
                 "key": t["key"].to_numpy(), "faults": t["faults"].to_numpy(),
                 "rid": t["rid"].to_numpy() if "rid" in t else -1}
            )
        )  # fmt: skip

    df, t = hukou_table(w, rng)
    write_csv(df, period_dir / "hukou.csv", "gbk", crlf=True)
    rows_truth("hukou", "hukou.csv", t)
    df, t = residents_frame(w)
    write_xlsx(period_dir / "residents.xlsx", df, stamp)
    rows_truth("residents", "residents.xlsx", t)
    df, t = enrollment_frame(w, rng)
    for old in ("enrollment.xlsx", "enrollment.csv"):
        (period_dir / old).unlink(missing_ok=True)
    if len(df) < XLSX_MAX_ROWS:
        write_xlsx(period_dir / "enrollment.xlsx", df, stamp)
        rows_truth("enrollment", "enrollment.xlsx", t)
    else:
        write_csv(df, period_dir / "enrollment.csv", "utf-8-sig")
        rows_truth("enrollment", "enrollment.csv", t)
    df, t = employers_frame(w)
    write_csv(df, period_dir / "employers.csv", "utf-8")
    rows_truth("employers", "employers.csv", t)
    df, t = national_match_frame(w)
    write_xlsx(period_dir / "national_match.xlsx", df, stamp)
    rows_truth("national_match", "national_match.xlsx", t)
    df, t = students_frame(w, rng)
    write_csv(df, period_dir / "students.csv", "gb18030", crlf=True)
    rows_truth("students", "students.csv", t)
    return pd.concat(out, ignore_index=True)
