"""Charts of the 进展通报 (matplotlib, Chinese labels through :mod:`canbao.core.fonts`).

Each function takes a frame from :mod:`canbao.bulletin` and returns a
``matplotlib.figure.Figure`` built without pyplot (no global state, nothing shown);
:func:`png_bytes` turns it into the PNG the notebook displays, byte-identical for
the same data.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from canbao.core import fonts

PENSION_TARGET = 0.90  # contract §8.1: 基本养老 参保率 above 90%
COLORS = {
    "pension": "#c0392b",
    "medical": "#2e6da4",
    "done": "#2e8b57",
    "open": "#d9d9d9",
    "survey": "#e67e22",
}


def _units(table: pd.DataFrame) -> pd.DataFrame:
    """Units without the 合计 row, in table (rank) order."""
    return table.loc[~table["is_total"]].reset_index(drop=True)


def _height(n: int) -> float:
    """Figure height in inches: grows with the units, capped to fit half a landscape page row."""
    return min(6.4, max(2.6, 1.1 + 0.34 * n))


def _unit_figure(table: pd.DataFrame) -> tuple[Figure, Axes, pd.DataFrame]:
    """A bar-chart figure sized to the units (合计 row dropped), its axes and the units."""
    fonts.setup_matplotlib()
    units = _units(table)
    fig = Figure(figsize=(5.6, _height(len(units))), layout="constrained")
    return fig, fig.add_subplot(), units


def _light_x_grid(ax: Axes) -> None:
    """Vertical grid lines behind the bars, no top or right frame."""
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _pct_axis(ax: Axes, limit: float = 1.0) -> None:
    ax.set_xlim(0, limit * 1.12)
    ticks = [i / 10 for i in range(0, int(limit * 10) + 1, 2)]
    ax.set_xticks(ticks, [f"{t * 100:.0f}%" for t in ticks])
    _light_x_grid(ax)


def coverage_by_unit(table: pd.DataFrame, title: str = "各单位参保率") -> Figure:
    """Pension and medical 参保率 per unit (grouped horizontal bars), with the 90% pension target."""
    fig, ax, units = _unit_figure(table)
    n = len(units)
    y = list(range(n))
    h = 0.38
    pen = units["pension_rate"].fillna(0)
    med = units["medical_rate"].fillna(0)
    ax.barh([v - h / 2 for v in y], pen, height=h, color=COLORS["pension"], label="养老保险参保率")
    ax.barh([v + h / 2 for v in y], med, height=h, color=COLORS["medical"], label="医疗保险参保率")
    small = 7 if n <= 14 else 5.5  # keep the two labels of a unit apart when bars get thin
    for yi, (p, m, rp, rm) in enumerate(
        zip(pen, med, units["pension_rate"], units["medical_rate"], strict=True)
    ):
        for val, raw, off in ((p, rp, -h / 2), (m, rm, h / 2)):
            ax.text(
                val + 0.01,
                yi + off,
                "—" if pd.isna(raw) else f"{raw * 100:.1f}%",
                va="center",
                fontsize=small,
            )
    ax.axvline(PENSION_TARGET, color="#555555", linestyle="--", linewidth=1, label="养老目标90%")
    ax.set_yticks(y, list(units["unit_name"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_ylim(n - 0.4, -0.6)
    _pct_axis(ax)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=3)
    return fig


def survey_completion(table: pd.DataFrame, title: str = "入户核查完成情况") -> Figure:
    """已核查 vs 未核查 persons per unit (stacked bars), labelled with the completion rate."""
    fig, ax, units = _unit_figure(table)
    n = len(units)
    y = list(range(n))
    done = units["tasks_done"].astype(int)
    left = (units["tasks_issued"] - units["tasks_done"]).astype(int)
    ax.barh(y, done, color=COLORS["done"], label="已核查")
    ax.barh(y, left, left=done, color=COLORS["open"], label="未核查")
    top = max(1, int(units["tasks_issued"].max() if n else 1))
    for yi, (issued, rate) in enumerate(
        zip(units["tasks_issued"], units["survey_rate"], strict=True)
    ):
        label = "未下发" if issued == 0 else f"{int(issued):,}人 · {rate * 100:.1f}%"
        ax.text(issued + top * 0.01, yi, label, va="center", fontsize=7)
    ax.set_yticks(y, list(units["unit_name"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("人数", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    _light_x_grid(ax)
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=2)
    return fig


def trend(trend_df: pd.DataFrame, title: str = "参保率与核查完成率走势") -> Figure:
    """Pension, medical and survey-completion rates over all periods so far (from ``bulletin.trend_table``)."""
    fonts.setup_matplotlib()
    fig = Figure(figsize=(10.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    x = list(range(len(trend_df)))
    for col, label, color in (
        ("pension_rate", "养老保险参保率", COLORS["pension"]),
        ("medical_rate", "医疗保险参保率", COLORS["medical"]),
        ("survey_rate", "入户核查完成率", COLORS["survey"]),
    ):
        vals = trend_df[col].astype("float64")
        ax.plot(x, vals, marker="o", markersize=4, color=color, label=label)
        if len(vals) and not pd.isna(vals.iloc[-1]):
            ax.annotate(
                f"{vals.iloc[-1] * 100:.1f}%",
                (x[-1], vals.iloc[-1]),
                textcoords="offset points",
                xytext=(6, 0),
                va="center",
                fontsize=7,
                color=color,
            )
    ax.set_xticks(x, [f"{d.month}月{d.day}日" for d in trend_df["period"]], fontsize=8)
    ax.set_xlim(-0.3, max(len(x) - 1, 1) + 0.6)
    ax.set_ylim(0, 1.05)
    ax.set_yticks(
        [0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0%", "20%", "40%", "60%", "80%", "100%"], fontsize=8
    )
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=3)
    return fig


def png_bytes(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG, without a timestamp or software tag (same data → same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def figures_html(*figs: Figure, alt: str = "图表", dpi: int = 150) -> str:
    """Figures side by side as inline PNGs (one self-contained ``<div class="chart-row">``)."""
    imgs = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png_bytes(f, dpi)).decode()}" '
        f'alt="{html.escape(alt)}"/>'
        for f in figs
    )
    return f'<div class="chart-row chart-{len(figs)}">{imgs}</div>'
