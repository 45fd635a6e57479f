"""``canbao demo``: the bundled synthetic district and its ground truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from canbao.demo import evolve, specials, truth
from canbao.demo.csvout import write_csv
from canbao.demo.extracts import write_period
from canbao.demo.faults import dress_rows, new_row_ids
from canbao.demo.periods import period_dates
from canbao.demo.world import World, build_world


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def initial_world(district_code: str, people: int, seed: int, ref: dt.date, periods: int) -> World:
    rng = _rng(seed, 0)
    w = build_world(district_code, people, ref, rng)
    specials.cleanup_dead(w, rng)
    specials.population_quirks(w, rng, periods)
    out = specials.outsiders(w, ref, rng)
    for c in w.persons.columns.difference(out.columns):
        out[c] = (
            w.persons[c].iloc[:0].reindex(out.index).fillna(False)
            if w.persons[c].dtype == bool
            else None
        )
    out["member"] = [f"{district_code[:4]}{7_000_000 + i:08d}" for i in range(len(out))]
    out[["dup_pop", "dup_id", "dup_hh"]] = ""
    out[["in_both", "res_excel", "no_faults"]] = False
    out[["name_fix_at", "id_fix_at"]] = -1
    w.persons = pd.concat([w.persons, out])
    # people with a 居民 scheme elsewhere do not also hold it here (those are the injected cases)
    fam = {"110": "P", "120": "P", "170": "P", "310": "M", "390": "M"}
    nm_act = w.nm.loc[w.nm["est"] == 1]
    nm_fam = pd.MultiIndex.from_arrays([nm_act["key"], nm_act["scheme"].map(fam)])
    local = pd.MultiIndex.from_arrays([w.rows["key"], w.rows["scheme"].map(fam)])
    clash = local.isin(nm_fam) & w.rows["scheme"].isin(["170", "390"]).to_numpy()
    w.rows = w.rows.loc[~clash | (w.rows["est"] != 1).to_numpy()]
    extra = [specials.duplicate_rows(w, ref, rng), specials.add_outsider_rows(w, out, ref, rng)]
    rows = pd.concat([w.rows, *extra], ignore_index=True)
    w.rows = rows.iloc[:0]
    rows = new_row_ids(w, rows, rng, district_code)
    w.rows = dress_rows(rows, w.persons, rng, district_code)
    w.nm = pd.concat([w.nm, specials.region_duplicates(w, rng)], ignore_index=True)
    return w


def _advance(w: World, prev: dt.date, cur: dt.date, seed: int, k: int) -> None:
    rng = _rng(seed, k, 1)
    specials.apply_corrections(w, k)
    evolve.births(w, prev, cur, rng)
    evolve.deaths_and_moves(w, prev, cur, rng)
    evolve.enrollments(w, prev, cur, rng)
    evolve.later_cases(w, prev, cur, rng)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    write_csv(df, path, "utf-8")


def _survey(period_dir: Path, prev_truth: Path, district_code: str, seed: int):
    """The period's survey returns (``canbao.demo.returns.DemoReturns``), or None."""
    try:
        from canbao.demo import returns
    except ModuleNotFoundError:
        return None
    return returns.write_demo_returns(period_dir, prev_truth, district_code, seed)


def _rejected_findings(res, keys: pd.Index) -> pd.DataFrame:
    """SURVEY_REJECTED: one finding per returned row the import must reject."""
    rej = pd.DataFrame(res.rejected if res else [], columns=["file", "source_row", "pk"])
    key = pd.to_numeric(rej["pk"].str[1:], errors="coerce")
    return pd.DataFrame(
        {
            "file": rej["file"],
            "source_row": rej["source_row"],
            "key": key.where(key.isin(keys)).astype("float64"),
            "finding": "SURVEY_REJECTED",
        }
    )


def generate(
    district_code: str = "430302",
    people: int = 50_000,
    seed: int = 20261128,
    raw_root: Path = Path("data/raw"),
    truth_root: Path = Path("data/truth"),
    periods: int = 3,
) -> list[Path]:
    """Write ``periods`` half-monthly extract folders and their truth; return the folders."""
    dates = period_dates(periods)
    w = initial_world(district_code, people, seed, dates[0], periods)
    written: list[Path] = []
    prev_persons: pd.DataFrame | None = None
    for k, d in enumerate(dates):
        if k:
            _advance(w, dates[k - 1], d, seed, k)
        pdir = Path(raw_root) / district_code / d.isoformat()
        tdir = Path(truth_root) / district_code / d.isoformat()
        tdir.mkdir(parents=True, exist_ok=True)
        rows_truth = write_period(w, pdir, d, _rng(seed, k, 2))
        res = None
        if k:
            res = _survey(
                pdir,
                Path(truth_root) / district_code / dates[k - 1].isoformat(),
                district_code,
                seed + k,
            )
            for pk, outcome in sorted(res.accepted.items()) if res else ():
                x = int(pk[1:])
                if pk == f"D{x:08d}" and x in w.persons.index:
                    w.surveyed[x] = outcome
        row_f = truth.row_findings(w, rows_truth)
        row_f = pd.concat([row_f, _rejected_findings(res, w.persons.index)], ignore_index=True)
        persons = truth.expected_persons(w, d, rows_truth, row_f)
        findings = pd.concat([row_f, truth.person_findings(w)], ignore_index=True)
        findings = findings.assign(
            person_key=np.where(
                findings["key"].isna(), "", truth.person_key(findings["key"].fillna(0))
            ),
            source_row=findings["source_row"].astype("Int64"),
        )
        findings = findings.sort_values(
            ["finding", "person_key", "file", "source_row"], kind="stable"
        )
        _write_csv(persons, tdir / "persons.csv")
        rt = rows_truth.assign(
            person_key=np.where(
                rows_truth["key"].isna(), "", truth.person_key(rows_truth["key"].fillna(0))
            )
        )
        _write_csv(rt[["extract", "file", "source_row", "person_key", "faults"]], tdir / "rows.csv")
        _write_csv(findings[["finding", "person_key", "file", "source_row"]], tdir / "findings.csv")
        if prev_persons is not None:
            _write_csv(truth.changes(prev_persons, persons), tdir / "changes.csv")
        prev_persons = persons
        written.append(pdir)
    return written


def load_truth(truth_period_dir: Path) -> dict[str, pd.DataFrame]:
    """The truth tables of one demo period, all columns as strings (empty for missing)."""
    out = {}
    for name in ("persons", "rows", "findings", "changes"):
        f = Path(truth_period_dir) / f"{name}.csv"
        if f.exists():
            out[name] = pd.read_csv(f, dtype=str, keep_default_na=False)
    return out
