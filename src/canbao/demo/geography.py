"""Townships and villages of the demo district: the bundled real lists where they exist,
synthesised 9/12-digit codes for any other county of the GB/T 2260 list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from canbao.core import refdata

_TOWN_ROOTS = [
    "城关",
    "东城",
    "西城",
    "南湖",
    "北塔",
    "新华",
    "长安",
    "青山",
    "白沙",
    "金盆",
    "龙泉",
    "石门",
    "花桥",
    "杨林",
    "枫林",
    "桃源",
    "黄田",
    "清水",
    "大坪",
    "马家",
]
_VILLAGE_ROOTS = [
    "和平",
    "红星",
    "光明",
    "新民",
    "胜利",
    "联合",
    "团结",
    "建设",
    "东风",
    "向阳",
    "幸福",
    "先锋",
    "五星",
    "长青",
    "民主",
    "前进",
    "石桥",
    "荷塘",
    "柏树",
    "竹山",
    "黄泥",
    "桐梓",
    "杉木",
    "茶园",
    "枫树",
    "双江",
    "金星",
    "太平",
    "永安",
    "兴隆",
]


def divisions(district_code: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(townships[code,name], villages[code,name,township_code,urban], address prefix)."""
    if refdata.county_name(district_code) is None:
        raise ValueError(f"{district_code} is not a county code in the GB/T 2260 list")
    prefix = refdata.county_name(district_code) or district_code
    towns = refdata.townships(district_code)[["code", "name"]]
    vills = refdata.villages(district_code)[["code", "name", "township_code"]]
    if towns.empty or vills.empty:
        towns, vills = _synthesise(district_code)
    towns = towns.sort_values("code").reset_index(drop=True)
    vills = (
        vills.loc[vills["township_code"].isin(towns["code"])]
        .sort_values("code")
        .reset_index(drop=True)
    )
    vills = vills.assign(urban=vills["code"].str[9:12].astype(int) < 200)
    return towns, vills, prefix


def _synthesise(district_code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(int(district_code))
    tcodes, tnames, vrows = [], [], []
    for i in range(10):
        street = i < 4
        tcode = f"{district_code}{(i + 1) if street else 100 + i - 4:03d}"
        tname = _TOWN_ROOTS[i] + ("街道" if street else "镇")
        tcodes.append(tcode)
        tnames.append(tname)
        roots = rng.permutation(_VILLAGE_ROOTS)[: int(rng.integers(6, 12))]
        for j, root in enumerate(roots):
            if street:
                vrows.append((f"{tcode}{j + 1:03d}", f"{root}社区居委会", tcode))
            else:
                vrows.append((f"{tcode}{200 + j + 1:03d}", f"{root}村委会", tcode))
    towns = pd.DataFrame({"code": tcodes, "name": tnames})
    vills = pd.DataFrame(vrows, columns=["code", "name", "township_code"])
    return towns, vills
