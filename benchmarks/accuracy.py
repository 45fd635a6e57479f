"""Accuracy of the district stage on the demo, against its ground truth.

    .venv/bin/python benchmarks/accuracy.py --people 50000 [--seed S] [--work DIR]
        [--periods N] [--no-scaling] [--skip rosters] [--engine duckdb|spark]

At 1M people use ``--skip rosters`` (roster files are not part of the comparison).
``--engine spark`` has Splink predict on a local Spark (its JVM's memory is not in
the peak RSS printed, which is this process's).

Generates a demo district (``canbao.demo.generate``), runs every stage of
``canbao.run.pipeline`` that exists for each period (a stage that fails is reported and
the rest still run), then prints per period:

- linkage precision / recall / F1 overall and per method (a link is correct when
  the linked person's population rows belong to the row's true person_key);
- blocking recall: of the rows Splink saw whose true person is in the population,
  the share whose true person was among the blocked candidate pairs;
- per finding code precision / recall / F1 (row codes matched on file+row, person
  codes on the person), and at the end one table of every code's F1 in every period;
- pension / medical / registration accuracy against truth persons.csv;
- wall time and peak RSS (psutil, this process incl. DuckDB) of the comparison
  stages (persons + link + classify). With ``--people`` ≥ 1,000,000 a 100k run is
  made first and the 100k→1M scaling printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pandas as pd

DISTRICT = "430302"
COMPARISON_STAGES = ("persons", "link", "classify")


from _measure import PeakRSS  # noqa: E402  (benchmarks/ is on sys.path when run)


def prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_true if n_true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def fmt_prf(label: str, tp: int, n_pred: int, n_true: int) -> str:
    p, r, f = prf(tp, n_pred, n_true)
    return (
        f"  {label:<28} P {p:.4f}  R {r:.4f}  F1 {f:.4f}  (tp {tp}, pred {n_pred}, true {n_true})"
    )


def stage_list() -> list[tuple[str, object]]:
    """The pipeline's stages, each resolved on its own so a missing one is reported."""
    import canbao.run.pipeline as pl

    try:
        return list(pl.stages())
    except Exception as exc:  # some stage module missing: resolve one by one
        print(f"pipeline.stages() failed ({exc!r}); resolving stages individually")
    import importlib

    spec = [
        ("ingest", "canbao.ingest", "load_period"),
        ("clean", "canbao.clean.stage", "standardise"),
        ("persons", "canbao.registry.persons", "resolve_persons"),
        ("link", "canbao.linkage", "link_period"),
        ("survey_returns", "canbao.survey", "import_returns"),
        ("classify", "canbao.classify.status", "classify"),
        ("registry", "canbao.registry.commit", "commit_period"),
        ("exports", "canbao.report.exports", "write_exports"),
        ("rosters", "canbao.survey", "issue_rosters"),
    ]
    out = []
    for name, mod, fn in spec:
        try:
            out.append((name, getattr(importlib.import_module(mod), fn)))
        except Exception as exc:
            out.append((name, exc))
    return out


def run_stages(
    engine, cfg, ctx, skip: frozenset[str] = frozenset()
) -> tuple[dict[str, float], set[str], float]:
    """Run every stage; returns per-stage seconds, the stages that ran, and the peak
    RSS (MiB) during the comparison stages."""
    times: dict[str, float] = {}
    ok: set[str] = set()
    peak = 0.0
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    for name, fn in stage_list():
        if isinstance(fn, Exception):
            print(f"  stage {name}: NOT AVAILABLE ({fn!r})")
            continue
        if name in skip:
            print(f"  stage {name}: skipped (--skip)")
            continue
        t0 = time.perf_counter()
        try:
            with PeakRSS() as rss:
                result = fn(engine, cfg, ctx)
            ok.add(name)
        except Exception as exc:
            print(f"  stage {name}: FAILED {exc!r}")
            traceback.print_exc(limit=4, file=sys.stdout)
            result = None
        times[name] = time.perf_counter() - t0
        if name in COMPARISON_STAGES:
            peak = max(peak, rss.peak / 2**20)
        if name == "link" and result is not None:
            print(f"  link summary: {result}")
    return times, ok, peak


def person_key_map(engine, truth_rows: pd.DataFrame) -> pd.DataFrame:
    """person_id → true person_key via person_records (population rows) and rows.csv."""
    pr = engine.query_df(
        "SELECT person_id, file, CAST(source_row AS INTEGER) AS source_row FROM person_records"
    )
    t = truth_rows.loc[truth_rows["extract"].isin(["hukou", "residents"])].copy()
    t["source_row"] = t["source_row"].astype(int)
    m = pr.merge(t[["file", "source_row", "person_key"]], on=["file", "source_row"], how="left")
    return m.loc[m["person_key"].fillna("") != "", ["person_id", "person_key"]].drop_duplicates()


def linkage_metrics(engine, truth_rows: pd.DataFrame, keymap: pd.DataFrame) -> None:
    links = engine.query_df("SELECT * FROM links")
    t = truth_rows.loc[
        truth_rows["extract"].isin(["enrollment", "national_match", "students"])
    ].copy()
    t["source_row"] = t["source_row"].astype(int)
    df = links.merge(
        t[["extract", "file", "source_row", "person_key", "faults"]].rename(
            columns={"extract": "source"}
        ),
        on=["source", "file", "source_row"],
        how="left",
    )
    missing = df["person_key"].isna().sum()
    if missing:
        print(f"  WARNING: {missing} links rows not found in truth rows.csv")
    df["person_key"] = df["person_key"].fillna("")
    pairs = set(zip(keymap["person_id"], keymap["person_key"], strict=True))
    in_pop = set(keymap["person_key"])
    df["linked"] = df["person_id"].notna()
    df["correct"] = [
        (pid, k) in pairs if isinstance(pid, str) else False
        for pid, k in zip(df["person_id"], df["person_key"], strict=True)
    ]
    df["should"] = df["person_key"].isin(in_pop)
    print("linkage:")
    print(
        fmt_prf(
            "all rows", int(df["correct"].sum()), int(df["linked"].sum()), int(df["should"].sum())
        )
    )
    for src, g in df.groupby("source"):
        print(
            fmt_prf(
                f"source={src}",
                int(g["correct"].sum()),
                int(g["linked"].sum()),
                int(g["should"].sum()),
            )
        )
    print(
        "  by method: "
        + ", ".join(f"{k} {v}" for k, v in df["method"].value_counts().sort_index().items())
    )
    for m, g in df.loc[df["linked"]].groupby("method"):
        print(
            f"    {m:<14} precision {g['correct'].mean():.4f} ({int((~g['correct']).sum())} wrong of {len(g)})"
        )
    fault = df.assign(fault=df["faults"].fillna("").str.split(";").str[0])
    print("  recall by fault tag (rows whose person is in the population):")
    for tag, g in fault.loc[fault["should"]].groupby("fault"):
        print(f"    {tag or '(none)':<22} {g['correct'].mean():.4f} of {len(g)}")
    wrong = df.loc[df["linked"] & ~df["correct"]]
    if len(wrong):
        print("  wrong links (first 10):")
        print(
            wrong[
                [
                    "source",
                    "file",
                    "source_row",
                    "person_id",
                    "method",
                    "match_probability",
                    "repair",
                    "person_key",
                    "faults",
                ]
            ]
            .head(10)
            .to_string(index=False)
        )
    missed = df.loc[df["should"] & ~df["correct"] & ~df["linked"]]
    if len(missed):
        print("  missed (first 10): ")
        print(
            missed[["source", "file", "source_row", "method", "person_key", "faults"]]
            .head(10)
            .to_string(index=False)
        )
    blocking_recall(engine, df, keymap)


def blocking_recall(engine, df: pd.DataFrame, keymap: pd.DataFrame) -> None:
    if not engine.table_exists("link_splink_rows"):
        print("  blocking recall: no Splink rows this period")
        return
    seen = engine.query_df("SELECT unique_id AS rid FROM link_splink_rows")
    cand = engine.query_df("SELECT rid, person_id, match_key FROM link_candidates")
    d = df.assign(rid=df["source"] + "|" + df["file"] + "|" + df["source_row"].astype(str))
    d = d.loc[d["rid"].isin(set(seen["rid"])) & d["should"], ["rid", "person_key"]]
    truth_pairs = d.merge(keymap, on="person_key")
    got = truth_pairs.merge(cand, on=["rid", "person_id"], how="inner")
    n = d["rid"].nunique()
    hit = got["rid"].nunique()
    print(
        f"  blocking recall: {hit}/{n} = {hit / n if n else 1:.4f} of Splink rows with a true "
        f"person in the population; {len(cand)} blocked pairs for {len(seen)} rows"
    )
    rules = engine.query_df(
        "SELECT match_key, count(*) AS n FROM link_candidates GROUP BY match_key ORDER BY match_key"
    )
    from canbao.linkage.model import BLOCKING_RULES

    hits = got.groupby("match_key").size() if len(got) else pd.Series(dtype=int)
    for r in rules.itertuples():
        label = BLOCKING_RULES[int(r.match_key)][0]
        print(
            f"    rule {r.match_key} {label}: {r.n} pairs, first to find {int(hits.get(r.match_key, 0))} true pairs"
        )


Counts = dict[str, tuple[int, int, int]]  # code -> (tp, predicted, true)


def finding_counts(engine, truth_dir: Path) -> Counts:
    """Per finding code: true positives, predicted and true (``canbao.demo.accuracy``'s matching:
    row codes on file+row, person codes on the true person)."""
    from canbao.demo.accuracy import finding_accuracy

    acc = finding_accuracy(engine, truth_dir)
    return {r.finding: (r.correct, r.found, r.true) for r in acc.itertuples(index=False)}


def findings_metrics(engine, truth_dir: Path) -> Counts:
    if not engine.table_exists("findings"):
        print("findings: table missing")
        return {}
    counts = finding_counts(engine, truth_dir)
    print("findings:")
    for code, (tp, n_pred, n_true) in counts.items():
        print(fmt_prf(code, tp, n_pred, n_true))
    return counts


def period_table(per_period: dict[str, Counts]) -> str:
    """Every finding code's F1 per period (true count in brackets; ``-`` = no support and
    nothing predicted), then each period's lowest F1 over the codes with support."""
    periods = list(per_period)
    codes = sorted({c for counts in per_period.values() for c in counts})
    head = f"  {'finding':<20}" + "".join(f" {p:>18}" for p in periods)
    lines = ["findings F1 per period (true count):", head]
    for code in codes:
        cells = []
        for p in periods:
            tp, n_pred, n_true = per_period[p].get(code, (0, 0, 0))
            cell = "-" if not (n_pred or n_true) else f"{prf(tp, n_pred, n_true)[2]:.4f} ({n_true})"
            cells.append(f" {cell:>18}")
        lines.append(f"  {code:<20}" + "".join(cells))
    lows = []
    for p in periods:
        f1 = [prf(*v)[2] for v in per_period[p].values() if v[1] or v[2]]
        lows.append(f" {min(f1) if f1 else float('nan'):>18.4f}")
    lines.append(f"  {'lowest F1':<20}" + "".join(lows))
    return "\n".join(lines)


def status_metrics(engine, truth: dict[str, pd.DataFrame], keymap: pd.DataFrame) -> None:
    if not engine.table_exists("person_status"):
        print("status: person_status missing")
        return
    ps = engine.query_df("SELECT * FROM person_status").merge(keymap, on="person_id")
    tp = truth["persons"]
    tp = tp.loc[tp["population"] != "none"]
    m = tp.merge(ps, on="person_key", how="left", suffixes=("_true", ""))
    print(
        f"status ({len(tp)} truth persons in the population, {m['person_id'].notna().sum()} found):"
    )
    for col in ("pension_status", "medical_status", "registration"):
        acc = (m[f"{col}_true"] == m[col]).mean()
        print(f"  {col:<16} accuracy {acc:.4f}")
        bad = m.loc[m[f"{col}_true"] != m[col]]
        if len(bad):
            top = (
                bad.groupby([f"{col}_true", col], dropna=False)
                .size()
                .sort_values(ascending=False)
                .head(4)
            )
            print(
                "    top confusions (true → got): "
                + "; ".join(f"{a}→{b} {n}" for (a, b), n in top.items())
            )


def run_demo(
    people: int,
    seed: int,
    work: Path,
    periods: int,
    report: bool = True,
    skip: frozenset[str] = frozenset(),
    engine: str = "duckdb",
) -> dict[str, float]:
    import dataclasses

    from canbao.core.config import load_config
    from canbao.core.context import period_context
    from canbao.demo import generate, load_truth
    from canbao.run.pipeline import open_registry

    raw, truth_root, out = work / "raw", work / "truth", work / "reports"
    t0 = time.perf_counter()
    stamp = work / f"demo-{people}-{seed}-{periods}.done"
    if stamp.exists():  # same arguments: the generator is deterministic, reuse its output
        dirs = sorted(p for p in (raw / DISTRICT).iterdir() if p.is_dir())
        print(f"demo: reusing {len(dirs)} period(s) in {raw}")
    else:
        dirs = generate(DISTRICT, people, seed, raw, truth_root, periods=periods)
        stamp.write_text("\n".join(str(d) for d in dirs) + "\n", encoding="utf-8")
        print(f"demo: {people} people, {len(dirs)} period(s) in {time.perf_counter() - t0:.1f} s")
    if out.exists():  # a fresh registry each run (this folder belongs to the benchmark)
        shutil.rmtree(out)
    cfg = load_config(DISTRICT)
    cfg = dataclasses.replace(cfg, linkage=dataclasses.replace(cfg.linkage, engine=engine))
    last: dict[str, float] = {}
    per_period: dict[str, Counts] = {}
    for pdir in dirs:
        ctx = period_context(pdir, out)
        print(f"\n=== period {ctx.period} ===")
        engine = open_registry(cfg, ctx)
        try:
            times, ok, peak = run_stages(engine, cfg, ctx, skip)
            comp = sum(times.get(s, 0.0) for s in COMPARISON_STAGES)
            print(
                "  stage seconds: "
                + ", ".join(f"{k} {v:.1f}" for k, v in times.items())
                + f"\n  comparison stages (persons+link+classify): {comp:.1f} s, peak RSS {peak:.0f} MiB"
            )
            last = {
                "comparison_s": comp,
                "peak_mib": peak,
                **{f"{k}_s": v for k, v in times.items()},
            }
            if not report:
                continue
            truth_dir = truth_root / DISTRICT / ctx.period.isoformat()
            truth = load_truth(truth_dir)
            if "persons" not in ok:
                print("persons stage did not run: no metrics")
                continue
            keymap = person_key_map(engine, truth["rows"])
            if "link" in ok:
                linkage_metrics(engine, truth["rows"], keymap)
            if "classify" in ok:
                per_period[ctx.period.isoformat()] = findings_metrics(engine, truth_dir)
                status_metrics(engine, truth, keymap)
        finally:
            engine.close()
    if per_period:
        print("\n" + period_table(per_period))
        if "rosters" in skip:
            print(
                "  (rosters skipped: no roster was issued, so the returned rows cannot match an "
                "issued list and SURVEY_REJECTED / surveyed are not measured)"
            )
    return last


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temp dir)")
    ap.add_argument("--periods", type=int, default=None, help="default 3, or 1 at ≥ 1M people")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 100k run at ≥ 1M people")
    ap.add_argument("--skip", default="", help="comma-separated stages not to run (e.g. rosters)")
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                    help="where Splink predicts (linkage.engine)")  # fmt: skip
    args = ap.parse_args(argv)
    skip = frozenset(s for s in args.skip.split(",") if s)
    work = args.work or Path(tempfile.mkdtemp(prefix="canbao-accuracy-"))
    periods = args.periods or (1 if args.people >= 1_000_000 else 3)
    small = None
    if args.people >= 1_000_000 and not args.no_scaling:
        print("--- 100k run for scaling ---")
        small = run_demo(
            100_000, args.seed, work / "100k", 1, report=False, skip=skip, engine=args.engine
        )
    big = run_demo(
        args.people, args.seed, work / f"{args.people}", periods, skip=skip, engine=args.engine
    )
    if small:
        ratio = (
            big["comparison_s"] / small["comparison_s"] if small["comparison_s"] else float("nan")
        )
        print(
            f"\nscaling 100k → {args.people}: comparison stages {small['comparison_s']:.1f} s → "
            f"{big['comparison_s']:.1f} s (×{ratio:.1f} for ×{args.people / 100_000:.0f} people); "
            f"peak RSS {small['peak_mib']:.0f} → {big['peak_mib']:.0f} MiB; "
            f"link {small.get('link_s', 0):.1f} → {big.get('link_s', 0):.1f} s"
        )


if __name__ == "__main__":
    main()
