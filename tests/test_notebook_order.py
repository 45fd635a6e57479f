"""The notebook phase hands its worker pool the costliest notebooks first.

Two workers share ~25 notebooks (townships, bulletins); the phase ends when the last
one started finishes, so the bulletins (HTML and a PDF) go before the township
notebooks (HTML only), and the district's bulletin (every township) before all.
"""

from __future__ import annotations

from pathlib import Path

from canbao.core.config import load_config
from canbao.core.context import period_context
from canbao.run.notebooks import longest_first
from canbao.run.request import RunRequest, default_notebook_dir
from canbao.run.tasks import township_tasks

ROOT = Path(__file__).resolve().parents[1]
TOWNSHIPS = [("430302001", "雨湖路街道"), ("430302002", "城正街街道"), ("430302100", "鹤岭镇")]


def _tasks(tmp_path: Path):
    raw = tmp_path / "raw" / "430302" / "2026-11-15"
    raw.mkdir(parents=True)
    req = RunRequest(raw.parent, tmp_path / "reports", ROOT / "params")
    ctx = period_context(raw, req.out_root, "430302")
    cfg = load_config("430302", req.params_dir)
    assert req.notebook_dir == default_notebook_dir()
    return township_tasks(req, ctx, cfg, TOWNSHIPS)


def test_district_bulletin_then_township_bulletins_then_township_notebooks(tmp_path):
    tasks = _tasks(tmp_path)
    order = [(t.kind, t.output_path.stem) for t in longest_first(tasks)]
    assert order == [
        ("bulletin", "40_bulletin_430302"),
        ("bulletin", "40_bulletin_430302001"),
        ("bulletin", "40_bulletin_430302002"),
        ("bulletin", "40_bulletin_430302100"),
        ("township", "20_township_430302001"),
        ("township", "20_township_430302002"),
        ("township", "20_township_430302100"),
    ]
    assert sorted(map(id, longest_first(tasks))) == sorted(map(id, tasks))  # none lost or added
    # the summary still lists them in the period's order: townships, then bulletins
    assert [t.kind for t in tasks] == ["township"] * 3 + ["bulletin"] * 4
