"""The bulletin as HTML: the printed table, the indicator box, masthead, notes, signature."""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

import pandas as pd

from canbao.report.bulletin.columns import UNIT_WORD, Level
from canbao.report.bulletin.prose import cn_date, fmt_pct, fmt_pp, fmt_rank_change

if TYPE_CHECKING:
    from canbao.core.config import Config


def display_frame(table: pd.DataFrame, level: Level) -> pd.DataFrame:
    """The bulletin table as printed: formatted strings under a two-level Chinese header."""
    word = UNIT_WORD[level]
    t = table
    cols: dict[tuple[str, str], list[str]] = {
        ("", "排名"): [("" if pd.isna(r) else str(int(r))) for r in t["rank"]],
        ("", word): list(t["unit_name"]),
        ("", "户籍人数"): [f"{v:,}" for v in t["hukou"]],
        ("养老保险", "应参保"): [f"{v:,}" for v in t["pension_due"]],
        ("养老保险", "已参保"): [f"{v:,}" for v in t["pension_insured"]],
        ("养老保险", "参保率"): [fmt_pct(v) for v in t["pension_rate"]],
        ("养老保险", "较上期"): [fmt_pp(v) for v in t["d_pension_rate"]],
        ("医疗保险", "应参保"): [f"{v:,}" for v in t["medical_due"]],
        ("医疗保险", "已参保"): [f"{v:,}" for v in t["medical_insured"]],
        ("医疗保险", "参保率"): [fmt_pct(v) for v in t["medical_rate"]],
        ("医疗保险", "较上期"): [fmt_pp(v) for v in t["d_medical_rate"]],
        ("入户核查", "下发"): [f"{v:,}" for v in t["tasks_issued"]],
        ("入户核查", "已核查"): [f"{v:,}" for v in t["tasks_done"]],
        ("入户核查", "完成率"): [fmt_pct(v) for v in t["survey_rate"]],
        ("入户核查", "较上期"): [fmt_pp(v) for v in t["d_survey_rate"]],
        ("", "本期新增参保"): [f"{v:,}" for v in t["new_insured"]],
        ("清理数", "死亡"): [f"{v:,}" for v in t["clean_deceased"]],
        ("清理数", "迁出"): [f"{v:,}" for v in t["clean_moved"]],
        ("清理数", "重复"): [f"{v:,}" for v in t["clean_duplicate"]],
        ("", "纠错数"): [f"{v:,}" for v in t["corrections"]],
        ("", "排名变化"): [fmt_rank_change(v) for v in t["d_rank"]],
    }
    return pd.DataFrame(cols, columns=pd.MultiIndex.from_tuples(list(cols)))


def table_html(table: pd.DataFrame, level: Level) -> str:
    """The bulletin table in the one table style (the 合计 row, always last, set in bold)."""
    from canbao.report import tables

    shown = display_frame(table, level)
    text_cols = {"排名", UNIT_WORD[level]}
    kinds = {c[-1]: "text" if c[-1] in text_cols else "count" for c in shown.columns}
    return tables.table_html(
        shown, kinds=kinds, total_last=True, scroll_rows=10**9, css_class="bulletin-table"
    )


def indicators_html(ind: pd.DataFrame) -> str:
    """The indicator box: value, numerator/denominator, target, status, change."""
    rows = []
    for _, r in ind.iterrows():
        target = "100%" if r["target"] >= 1 else f"≥{r['target'] * 100:.0f}%"
        state = "—" if pd.isna(r["met"]) else ("达标" if r["met"] else "未达标")
        cls = "" if pd.isna(r["met"]) else (' class="met"' if r["met"] else ' class="unmet"')
        rows.append(
            f"<tr><td>{html.escape(str(r['indicator']))}</td><td>{fmt_pct(r['value'])}</td>"
            f"<td>{int(r['numerator']):,} / {int(r['denominator']):,}</td><td>{target}</td>"
            f"<td{cls}>{state}</td><td>{fmt_pp(r['change'])}</td></tr>"
        )
    return (
        '<table class="indicators"><thead><tr><th>指标</th><th>本期</th><th>分子 / 分母</th>'
        "<th>目标</th><th>状态</th><th>较上期（百分点）</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def summary_html(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def title_html(scope: str, period: dt.date | str, number: int, level: Level) -> str:
    """The red masthead (通报 name, issue number, date) and the document heading."""
    return (
        '<div class="bulletin-head"><div class="masthead">全民参保登记工作进展通报</div>'
        f'<div class="issue">第{number}期　{html.escape(scope)}　截至{cn_date(period)}</div></div>'
        f"<h1>{html.escape(scope)}全民参保登记工作进展情况（按{UNIT_WORD[level]}）</h1>"
    )


def signature_html(cfg: Config, period: dt.date | str) -> str:
    """Footer for printing and stamping: 填报单位（盖章）, 审核人, 填表人, 日期 (from params)."""
    b = cfg.bulletin

    def line(value: str) -> str:
        return f'<span class="line">{html.escape(value) or "&#160;"}</span>'

    return (
        '<table class="signature"><tbody>'
        f'<tr><td class="label">填报单位（盖章）：</td><td>{line(b.unit)}</td>'
        f'<td class="label">审核人：</td><td>{line(b.reviewer)}</td>'
        f'<td class="label">填表人：</td><td>{line(b.preparer)}</td>'
        f'<td class="label">日期：</td><td>{line(cn_date(period))}</td></tr>'
        "</tbody></table>"
        '<div class="stamp-note">（本通报仅含汇总数据，加盖填报单位公章后有效）</div>'
    )


def notes_html(level: Level, rank_by: str = "coverage") -> str:
    """Short definitions printed under the table (what each column counts)."""
    key = (
        "综合参保率（养老、医疗已参保人数之和 ÷ 应参保人数之和）"
        if rank_by == "coverage"
        else "核查完成率"
    )
    items = [
        "户籍人数：户籍在册且健在人员；应参保人数：户籍人数扣除不应参保（未满16周岁、在校学生、现役军人、服刑、出国定居等）人员，分险种计算。",
        "参保率 = 已参保人数 ÷ 应参保人数（含本地参保和外地参保）；较上期为与上期通报相比的变化（百分点）。",
        "下发核查数：截至本期累计下发入户核查人数；已核查数：核查结果已通过审核入库人数；完成率 = 已核查 ÷ 下发。",
        "清理数：本期发现的死亡人员仍参保或领待遇、本期迁出、重复参保人数；纠错数：截至本期身份信息需纠错（含已纠错）人数。",
        f"排名依据：{key}，由高到低；本表只含汇总数据，不含个人信息。",
    ]
    return '<ol class="notes">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ol>"
