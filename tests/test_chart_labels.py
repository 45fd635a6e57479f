"""Chart labels never print over each other: end-of-line labels of close rates, crowded bars."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from canbao.report import charts


def _boxes(fig: Figure, texts: list[Text]):
    FigureCanvasAgg(fig)  # the Agg renderer savefig uses
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    return [t.get_window_extent(renderer) for t in texts if t.get_text()]


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [(i, j) for (i, a), (j, b) in combinations(enumerate(boxes), 2) if a.overlaps(b)]


def _trend(end: tuple[float, float, float]) -> pd.DataFrame:
    periods = [dt.date(2026, 10, 15), dt.date(2026, 10, 31), dt.date(2026, 11, 15)]
    return pd.DataFrame(
        {
            "period": periods,
            "pension_rate": [0.90, 0.93, end[0]],
            "medical_rate": [0.91, 0.94, end[1]],
            "survey_rate": [0.60, 0.80, end[2]],
        }
    )


def test_trend_end_labels_of_rates_within_one_point_do_not_overlap():
    # 95.8% and 95.2% (0.6 point apart) and the survey rate 95.5% between them:
    # drawn at their own height the three labels print on top of each other.
    fig = charts.trend(_trend((0.958, 0.952, 0.955)), "走势")
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().endswith("%")]
    assert sorted(t.get_text() for t in labels) == ["95.2%", "95.5%", "95.8%"]
    boxes = _boxes(fig, labels)
    assert _overlaps(boxes) == []
    # Order kept: the highest rate's label is the highest on the page.
    by_text = {t.get_text(): b for t, b in zip(labels, boxes, strict=True)}
    assert by_text["95.8%"].y0 > by_text["95.5%"].y0 > by_text["95.2%"].y0


def test_trend_labels_far_apart_stay_at_their_points():
    fig = charts.trend(_trend((0.95, 0.70, 0.40)), "走势")
    labels = [t for t in fig.axes[0].texts if t.get_text().endswith("%")]
    assert all(t.get_position()[1] == 0 for t in labels)  # offset (6, 0): not moved
    assert _overlaps(_boxes(fig, labels)) == []


def test_spread_keeps_order_and_gap_and_moves_lone_labels_not_at_all():
    assert charts.spread([10.0, 100.0], 12) == [10.0, 100.0]
    out = charts.spread([50.0, 51.0, 49.0], 12)
    assert sorted(out) == [38.0, 50.0, 62.0]  # centred on the mean 50
    assert out[1] > out[0] > out[2]


def _crowded(n: int) -> pd.DataFrame:
    """A township with ``n`` villages whose rates are all close (neighbouring labels)."""
    rows = [
        {
            "is_total": False,
            "unit_name": f"第{i + 1}村民委员会",
            "pension_rate": 0.90 + (i % 3) * 0.004,
            "medical_rate": 0.91 - (i % 2) * 0.003,
            "tasks_issued": 120 + i,
            "tasks_done": 100 + i,
            "survey_rate": (100 + i) / (120 + i),
        }
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def test_bar_labels_of_a_few_units_label_every_bar():
    fig = charts.coverage_by_unit(_crowded(6), "各村社区")
    texts = fig.axes[0].texts
    assert len(texts) == 12 and min(t.get_fontsize() for t in texts) >= 5.5
    assert _overlaps(_boxes(fig, list(texts))) == []


def test_crowded_bar_labels_do_not_overlap():
    for make in (charts.coverage_by_unit, charts.survey_completion):
        fig = make(_crowded(40), "各村社区")
        ax = fig.axes[0]
        values = [t for t in ax.texts]
        assert len(values) == 40  # one label per unit: 养老 / 医疗 together when crowded
        assert min(t.get_fontsize() for t in values) >= 5.5, make.__name__
        assert _overlaps(_boxes(fig, values)) == [], make.__name__
        names = ax.get_yticklabels()
        assert _overlaps(_boxes(fig, list(names))) == [], make.__name__
