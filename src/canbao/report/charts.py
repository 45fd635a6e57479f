"""Charts of the 进展通报 (matplotlib, Chinese labels through :mod:`canbao.core.fonts`).

Each function takes a frame from :mod:`canbao.report.bulletin` and returns a
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

LINE = 1.3  # a text line's height as a multiple of its font size (CJK glyphs + leading)
MIN_LABEL_PT = 5.5  # below this a value label is not read on paper: label per unit instead
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


def _pitch_pt(fig: Figure, ax: Axes, step: float) -> float:
    """Height in points of ``step`` y-data units (after layout)."""
    y0, y1 = ax.get_ylim()
    return ax.get_window_extent().height * 72 / fig.dpi * step / max(abs(y1 - y0), 1e-9)


def _fit_rows(fig: Figure, ax: Axes, step: float) -> float:
    """Font size (pt) for value labels placed ``step`` y-units apart, so they never overlap.

    Unit names (the y tick labels, one per unit) shrink first if a unit's band is
    lower than their 8 pt line; then the layout is frozen and the value-label size
    comes from the final band height: crowded bars get smaller labels, never
    overlapping ones.
    """
    fig.draw_without_rendering()
    ax.tick_params(axis="y", labelsize=min(8.0, round(_pitch_pt(fig, ax, 1.0) / LINE, 1)))
    _freeze_layout(fig)
    return min(7.0, round(_pitch_pt(fig, ax, step) / LINE, 1))


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
    ax.axvline(PENSION_TARGET, color="#555555", linestyle="--", linewidth=1, label="养老目标90%")
    ax.set_yticks(y, list(units["unit_name"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_ylim(n - 0.4, -0.6)
    _pct_axis(ax)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=3)
    small = _fit_rows(fig, ax, h)  # a unit's two labels are one bar height apart
    pct = [("—" if pd.isna(r) else f"{r * 100:.1f}%") for r in units["pension_rate"]]
    mpct = [("—" if pd.isna(r) else f"{r * 100:.1f}%") for r in units["medical_rate"]]
    if small >= MIN_LABEL_PT:
        for yi, (p, m) in enumerate(zip(pen, med, strict=True)):
            ax.text(p + 0.01, yi - h / 2, pct[yi], va="center", fontsize=small)
            ax.text(m + 0.01, yi + h / 2, mpct[yi], va="center", fontsize=small)
        return fig
    # Too crowded for a label per bar: one label per unit, 养老 / 医疗, on the unit's whole band.
    size = min(7.0, round(_pitch_pt(fig, ax, 1.0) / LINE, 1))
    for yi, (p, m) in enumerate(zip(pen, med, strict=True)):
        ax.text(max(p, m) + 0.01, yi, f"{pct[yi]} / {mpct[yi]}", va="center", fontsize=size)
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
    ax.set_yticks(y, list(units["unit_name"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("人数", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    _light_x_grid(ax)
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=2)
    small = _fit_rows(fig, ax, 1.0)
    for yi, (issued, rate) in enumerate(
        zip(units["tasks_issued"], units["survey_rate"], strict=True)
    ):
        label = "未下发" if issued == 0 else f"{int(issued):,}人 · {rate * 100:.1f}%"
        ax.text(issued + top * 0.01, yi, label, va="center", fontsize=small)
    return fig


def trend(trend_df: pd.DataFrame, title: str = "参保率与核查完成率走势") -> Figure:
    """Pension, medical and survey-completion rates over all periods so far (from ``bulletin.trend_table``).

    The last point of each line is labelled; labels of rates that end close together
    are pushed apart vertically (:func:`spread`) so they never print over each other.
    """
    fonts.setup_matplotlib()
    fig = Figure(figsize=(10.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    x = list(range(len(trend_df)))
    ends: list[tuple[float, str, str]] = []
    for col, label, color in (
        ("pension_rate", "养老保险参保率", COLORS["pension"]),
        ("medical_rate", "医疗保险参保率", COLORS["medical"]),
        ("survey_rate", "入户核查完成率", COLORS["survey"]),
    ):
        vals = trend_df[col].astype("float64")
        ax.plot(x, vals, marker="o", markersize=4, color=color, label=label)
        if len(vals) and not pd.isna(vals.iloc[-1]):
            ends.append((float(vals.iloc[-1]), f"{vals.iloc[-1] * 100:.1f}%", color))
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
    if ends:
        _end_labels(fig, ax, x[-1], ends, fontsize=7)
    return fig


def spread(positions: list[float], gap: float) -> list[float]:
    """Positions moved as little as possible so that any two are at least ``gap`` apart.

    Labels keep their order; each run of crowded labels is centred on where its
    members wanted to be (the usual 1-D label placement: merge overlapping
    blocks, centre each block on its members' mean). Returned in input order.
    """
    order = sorted(range(len(positions)), key=lambda i: (positions[i], i))
    blocks: list[tuple[float, list[int]]] = []  # (start, members); member k at start + k*gap
    for i in order:
        blocks.append((positions[i], [i]))
        while len(blocks) > 1:
            (s1, m1), (s2, m2) = blocks[-2], blocks[-1]
            if s1 + len(m1) * gap <= s2:
                break
            members = m1 + m2
            start = sum(positions[j] - k * gap for k, j in enumerate(members)) / len(members)
            blocks[-2:] = [(start, members)]
    out = [0.0] * len(positions)
    for start, members in blocks:
        for k, j in enumerate(members):
            out[j] = start + k * gap
    return out


def _freeze_layout(fig: Figure) -> None:
    """Run the constrained layout once and keep it, so display coordinates stay put."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")


def _end_labels(
    fig: Figure, ax: Axes, x_last: float, ends: list[tuple[float, str, str]], fontsize: float
) -> None:
    """Label each line's last point, spread apart by one text line in display coordinates."""
    _freeze_layout(fig)
    to_px = ax.transData
    ys = [to_px.transform((x_last, v))[1] for v, _, _ in ends]
    gap = fontsize * 1.35 * fig.dpi / 72  # one label line, in pixels
    for (v, text, color), y0, y in zip(ends, ys, spread(ys, gap), strict=True):
        ax.annotate(
            text,
            (x_last, v),
            textcoords="offset points",
            xytext=(6, (y - y0) * 72 / fig.dpi),
            va="center",
            fontsize=fontsize,
            color=color,
        )


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
