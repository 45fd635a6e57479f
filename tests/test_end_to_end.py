"""The whole district stage on a small demo: nothing lost, stable person IDs, byte-identical reruns."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from canbao.core.config import load_config
from canbao.core.context import find_periods, period_context
from canbao.demo import generate, load_truth
from canbao.pipeline import run_period

PEOPLE = 1500


def _run_all(raw_district: Path, out_root: Path) -> list[Path]:
    cfg = load_config(raw_district.name)
    outs = []
    for period_dir in find_periods(raw_district):
        ctx = period_context(period_dir, out_root)
        run_period(cfg, ctx)
        outs.append(ctx.exports_dir)
    return outs


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("e2e")
    generate(
        "430302", people=PEOPLE, seed=7, raw_root=root / "raw", truth_root=root / "truth", periods=3
    )
    exports = _run_all(root / "raw" / "430302", root / "reports")
    return {"root": root, "exports": exports}


def _truth_key_of_person(export_dir: Path, truth_dir: Path, raw_period: Path) -> pd.DataFrame:
    """person_id -> true person_key, through the enrollment rows linked to it."""
    links = pd.read_csv(export_dir / "links.csv", dtype=str)
    rows = load_truth(truth_dir)["rows"].astype(str)
    merged = links.merge(rows, on=["file", "source_row"], how="left")
    merged = merged[merged["person_id"].notna() & (merged["person_key"] != "nan")]
    return merged[["person_id", "person_key"]].drop_duplicates()


def test_every_enrollment_row_is_in_links_exactly_once(demo: dict[str, Path]) -> None:
    for exports in demo["exports"]:
        links = pd.read_csv(exports / "links.csv", dtype=str)
        recon = pd.read_csv(exports / "reconciliation.csv", dtype=str)
        enrol = recon[recon["extract"] == "enrollment"]
        assert len(links) == enrol["rows_loaded"].astype(int).sum()
        assert not links.duplicated(["file", "source_row"]).any()
        assert set(links["method"]) <= {"exact_id", "repaired_id", "probabilistic", "unlinked"}
        assert (
            recon["rows_read"].astype(int)
            == recon["rows_loaded"].astype(int) + recon["rows_rejected"].astype(int)
        ).all()


def test_person_ids_are_stable_across_the_demo_periods(demo: dict[str, Path]) -> None:
    root = demo["root"]
    seen: dict[str, str] = {}
    for period_dir, exports in zip(
        find_periods(root / "raw" / "430302"), demo["exports"], strict=True
    ):
        truth_dir = root / "truth" / "430302" / period_dir.name
        reg = pd.read_csv(exports / "registry.csv", dtype=str)
        truth = load_truth(truth_dir)["persons"].astype(str)
        by_id = reg.merge(truth[["id_number", "person_key"]], on="id_number")
        assert len(by_id) > 0.9 * len(reg)
        for pid, key in zip(by_id["person_id"], by_id["person_key"], strict=True):
            assert seen.setdefault(key, pid) == pid, f"{key} changed person_id"


def test_rerun_in_a_fresh_folder_gives_identical_exports(demo: dict[str, Path]) -> None:
    root = demo["root"]
    again = _run_all(root / "raw" / "430302", root / "reports-again")
    for first, second in zip(demo["exports"], again, strict=True):
        assert _digest(first) == _digest(second)


def test_rerunning_the_last_period_in_place_changes_no_output(demo: dict[str, Path]) -> None:
    """A period re-run on its own registry (what nbval and a statistician's retry do)."""
    root = demo["root"]
    last = find_periods(root / "raw" / "430302")[-1]
    ctx = period_context(last, root / "reports")

    def outputs() -> dict[str, str]:
        return {
            str(p.relative_to(ctx.out_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(ctx.out_dir.rglob("*"))
            if p.is_file() and p.suffix in {".csv", ".xlsx"}
        }

    before = outputs()
    run_period(load_config("430302"), ctx)
    after = outputs()
    assert [k for k in before if before[k] != after.get(k)] == []
    assert set(before) == set(after)
