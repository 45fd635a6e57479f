"""The bulletin's Chinese prose: dates, percentages, changes, and the summary paragraphs."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from canbao.report.bulletin.columns import UNIT_WORD, Level, as_date


def cn_date(day: dt.date | str) -> str:
    d = as_date(day)
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_pct(x: float) -> str:
    return "—" if x is None or pd.isna(x) else f"{x * 100:.1f}%"


def fmt_pp(x: float) -> str:
    """A change in percentage points, signed; '—' when there is nothing to compare."""
    if x is None or pd.isna(x):
        return "—"
    v = round(float(x) * 100, 1)
    return "持平" if v == 0 else f"{v:+.1f}"


def fmt_rank_change(x: object) -> str:
    if x is None or pd.isna(x):
        return "—"
    v = int(x)  # type: ignore[call-overload]
    return "—" if v == 0 else (f"↑{v}" if v > 0 else f"↓{-v}")


def _names(rows: pd.DataFrame) -> str:
    return "、".join(rows["unit_name"].astype(str))


def summary_text(
    table: pd.DataFrame,
    ind: pd.DataFrame,
    *,
    period: dt.date | str,
    scope: str,
    level: Level,
    rank_by: str = "coverage",
) -> str:
    """A short Chinese summary (plain paragraphs separated by blank lines).

    Args: the frame from :func:`district_table`/:func:`township_table`, the
    frame from :func:`indicators`, the period, the scope's name and the unit level.
    """
    tot = table.loc[table["is_total"]].iloc[0]
    units = table.loc[~table["is_total"]]
    word = UNIT_WORD[level]
    key, key_label = (
        ("overall_rate", "综合参保率") if rank_by == "coverage" else ("survey_rate", "核查完成率")
    )
    paras = [
        f"截至{cn_date(period)}，{scope}户籍人数{int(tot['hukou']):,}人。"
        f"基本养老保险应参保{int(tot['pension_due']):,}人、已参保{int(tot['pension_insured']):,}人，"
        f"参保率{fmt_pct(tot['pension_rate'])}{_since(tot['d_pension_rate'])}；"
        f"基本医疗保险应参保{int(tot['medical_due']):,}人、已参保{int(tot['medical_insured']):,}人，"
        f"参保率{fmt_pct(tot['medical_rate'])}{_since(tot['d_medical_rate'])}。"
        f"入户核查累计下发{int(tot['tasks_issued']):,}人、已核查{int(tot['tasks_done']):,}人，"
        f"核查完成率{fmt_pct(tot['survey_rate'])}{_since(tot['d_survey_rate'])}。"
    ]
    ranked = units.loc[units["rank"].notna()].sort_values(["rank", "unit_code"])
    if len(ranked) >= 2:
        n = 3 if len(ranked) >= 6 else 1
        lead, lag = ranked.head(n), ranked.tail(n).iloc[::-1]
        paras.append(
            f"按{key_label}排名，{_names(lead)}居前（{'、'.join(fmt_pct(v) for v in lead[key])}）；"
            f"{_names(lag)}靠后（{'、'.join(fmt_pct(v) for v in lag[key])}），请加快工作进度。"
        )
    moved = units.loc[
        units[f"d_{'survey_rate' if key == 'survey_rate' else 'pension_rate'}"].notna()
    ]
    if not moved.empty:
        col = "d_survey_rate" if key == "survey_rate" else "d_pension_rate"
        best = moved.sort_values([col, "unit_code"], ascending=[False, True]).iloc[0]
        worst = moved.sort_values([col, "unit_code"], ascending=[True, True]).iloc[0]
        what = "核查完成率" if key == "survey_rate" else "养老参保率"
        text = f"与上期相比，{what}提升最多的是{best['unit_name']}（{fmt_pp(best[col])}个百分点）"
        if worst[col] < 0:
            text += f"，下降最多的是{worst['unit_name']}（{fmt_pp(worst[col])}个百分点）"
        up = units.loc[units["d_rank"].fillna(0) > 0]
        if not up.empty:
            up = up.sort_values(["rank", "unit_code"])
            more = f"等{len(up)}个" if len(up) > 5 else ""
            text += f"；排名上升的{word}：{_names(up.head(5))}{more}"
        paras.append(text + "。")
    else:
        paras.append("本期为首期通报，暂无上期数据可比。")
    paras.append(
        f"本期新增参保{int(tot['new_insured']):,}人；待清理死亡人员{int(tot['clean_deceased']):,}人、"
        f"迁出人员{int(tot['clean_moved']):,}人、重复参保人员{int(tot['clean_duplicate']):,}人；"
        f"累计纠错{int(tot['corrections']):,}人，其中待纠错{int(tot['corrections_open']):,}人。"
    )
    parts = []
    for _, r in ind.iterrows():
        target = "100%" if r["target"] >= 1 else f"不低于{r['target'] * 100:.0f}%"
        state = "—" if pd.isna(r["met"]) else ("已达标" if r["met"] else "未达标")
        parts.append(f"{r['indicator']}{fmt_pct(r['value'])}（目标{target}，{state}）")
    paras.append("；".join(parts) + "。")
    return "\n\n".join(paras)


def _since(delta: float) -> str:
    if delta is None or pd.isna(delta):
        return ""
    s = fmt_pp(delta)
    return "，与上期持平" if s == "持平" else f"，较上期{s}个百分点"
