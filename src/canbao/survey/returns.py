"""Stage 5: import a period's returned rosters (``survey_returns/``): judge every row,
log the verdicts, stage accepted results and task updates for the registry commit
(stage 7) to apply; and its CLI, which applies them at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from canbao.core.config import Config, load_config
from canbao.core.context import PeriodContext, period_context
from canbao.core.engine import Engine, open_registry_db, transaction
from canbao.core.errors import InputError
from canbao.survey.check import _checked_sql, _judged_sql, _values_sql, _verdict_sql, outcome_rules
from canbao.survey.normalise import _INPUT_COLUMNS, _normalise_rows
from canbao.survey.places import place_names
from canbao.survey.provincial import code_table
from canbao.survey.read import _path_township, read_return_file, return_files
from canbao.survey.rejections import write_rejections
from canbao.survey.tables import (
    STAGED,
    TASK_UPDATES,
    apply_staged_sql,
    ensure_tables,
    reset_staging,
    with_staged_sql,
)
from canbao.survey.vocabulary import REASONS

RETURNS_DIR = "survey_returns"


def import_returns(
    engine: Engine, cfg: Config, ctx: PeriodContext, *, commit: bool = False
) -> dict:
    """Stage 5: validate and import every file under ``period_dir/survey_returns/``.

    Rosters come back as .xlsx (also named .xls or .xlsm, or a real .xls) or CSV,
    in sub-folders too; any other file is reported as a file that cannot be read.
    The verdicts, accepted results and task updates go to the staging tables
    (``canbao.survey.tables``), which the registry commit applies, so a period killed
    before its commit leaves the persistent survey tables unchanged; stale staging of
    a killed run is discarded here. A file counts as already imported only when the
    persistent tables hold it. ``commit=True`` (the CLI, outside a period run) applies
    the staged rows in the same transaction.
    Args: the registry engine, params, period. Returns: counts (files, rows,
    accepted, rejected, not_returned, duplicate, already_imported_files,
    same_content_files, file_errors); the invariant rows = accepted + rejected +
    not_returned + duplicate holds (``rows``: rows holding anything of a return;
    entirely blank rows are skipped, see :func:`read_return_file`).
    """
    ensure_tables(engine)
    reset_staging(engine)
    files = return_files(ctx.period_dir / RETURNS_DIR)
    result = _import_files(engine, cfg, ctx, files, commit)
    rej = engine.query_df("SELECT * FROM survey_rejects ORDER BY file, source_row")
    towns, _ = place_names(engine, cfg, ctx.district_code)
    result["rejection_files"] = write_rejections(
        rej, ctx.out_dir / "survey" / "rejections", towns, ctx.period
    )
    return result


# survey_return_rows without its period (added once the rows are sorted)
_LOG_COLUMNS = (
    "file_sha256", "file", "source_row", "person_id", "id_number", "name", "township_code",
    "village_code", "outcome", "verdict", "reason", "column",
)  # fmt: skip


def _import_files(
    engine: Engine, cfg: Config, ctx: PeriodContext, files: list[Path], commit: bool
) -> dict:
    known = set(
        engine.query_df("SELECT DISTINCT file_sha256 FROM survey_return_rows")["file_sha256"]
    )
    run_files: list[tuple[str, str]] = []  # (sha, file) of this run
    frames, errors, same_content = [], [], 0
    for path in files:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        rel = path.relative_to(ctx.period_dir).as_posix()
        if any(s == sha for s, _ in run_files):
            same_content += 1  # the same content twice in one folder: judged once
            continue
        run_files.append((sha, rel))
        if sha in known:
            continue
        raw, err = read_return_file(path, data)
        town = _path_township(rel)
        if err:
            errors.append(
                dict.fromkeys(_LOG_COLUMNS)
                | {"file_sha256": sha, "file": rel, "source_row": 0, "township_code": town,
                   "verdict": "rejected", "reason": err}
            )  # fmt: skip
            continue
        frames.append(_normalise_rows(raw, rel, sha, town, ctx.period))
    inp = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_INPUT_COLUMNS)
    inp = inp.astype({"batch": "Int64", "source_row": "int64", "collected_bad": "bool"})
    text = [
        c
        for c in _INPUT_COLUMNS
        if c not in ("batch", "source_row", "collected_bad", "collected_date")
    ]
    inp[text] = inp[text].astype("string")
    inp["collected_date"] = pd.to_datetime(inp["collected_date"]).astype("datetime64[s]")
    engine.register_df("survey_return_input", inp)
    outcomes_sql, o_params = _values_sql(
        outcome_rules(code_table(cfg.provincial_import)),
        (
            "outcome",
            "outcome_code",
            "exemption",
            "insured_family",
            "insured_status",
            "reported_deceased",
        ),
    )
    reasons_sql, r_params = _values_sql(tuple((r,) for r in REASONS), ("reason",))
    age = cfg.survey.student_max_age
    engine.execute(
        "CREATE OR REPLACE TABLE survey_return_checked AS "
        + _checked_sql(outcomes_sql, reasons_sql),
        [ctx.period, age, age, *o_params, *r_params],
    )
    verdicts = engine.query_df(_verdict_sql())
    blanks = engine.query_df(
        "SELECT file_sha256, file, source_row, id_number, name, file_township AS township_code,"
        f" village_code FROM survey_return_input i WHERE NOT {_judged_sql('i')}"
        " ORDER BY file, file_sha256, source_row"
    ).assign(person_id=None, outcome=None, verdict="not_returned", reason="核实情况为空（未回收）")
    log = pd.concat([verdicts, blanks, pd.DataFrame(errors)], ignore_index=True)
    log = log.reindex(columns=list(_LOG_COLUMNS))
    log = log.sort_values(["file", "source_row"], kind="stable").reset_index(drop=True)
    log.insert(2, "period", pd.Timestamp(ctx.period))
    log["period"] = log["period"].astype("datetime64[s]")
    log = log.astype({"source_row": "int64"})
    engine.register_df("survey_return_log_new", log)
    with transaction(engine):
        engine.execute(_log_insert_sql())
        engine.execute(_results_insert_sql(), [ctx.period])
        engine.execute(_tasks_rejected_sql(), [ctx.period])
        engine.execute(_tasks_returned_sql(), [ctx.period])
        for sql in apply_staged_sql() if commit else []:
            engine.execute(sql)
    shas = pd.DataFrame(run_files, columns=["file_sha256", "file"])
    engine.register_df("survey_return_files", shas)
    engine.execute(_rejects_sql())
    counts = engine.query_df(f"""
        SELECT verdict, count(*) AS n FROM {with_staged_sql("survey_return_rows")} r
        JOIN survey_return_files f USING (file_sha256) WHERE r.source_row > 0
        GROUP BY verdict ORDER BY verdict""")
    by = dict(zip(counts["verdict"], counts["n"].astype(int), strict=True))
    return {
        "files": len(run_files) + same_content,
        "already_imported_files": sum(1 for s, _ in run_files if s in known),
        "same_content_files": same_content,
        "rows": sum(by.values()),
        "accepted": by.get("accepted", 0),
        "rejected": by.get("rejected", 0),
        "not_returned": by.get("not_returned", 0),
        "duplicate": by.get("duplicate", 0),
        "file_errors": int(
            engine.scalar(
                f"SELECT count(*) FROM {with_staged_sql('survey_return_rows')} "
                "JOIN survey_return_files USING (file_sha256) WHERE source_row = 0"
            )
        ),
    }


def _log_insert_sql() -> str:
    cols = (
        "file_sha256, file, period, source_row, person_id, id_number, name, township_code,"
        ' village_code, outcome, verdict, reason, "column"'
    )
    return (
        f"INSERT INTO {STAGED['survey_return_rows']} ({cols}) "
        f"SELECT {cols} FROM survey_return_log_new"
    )


def _results_insert_sql() -> str:
    """Accepted rows → staged survey_results (param: period)."""
    return f"""INSERT INTO {STAGED["survey_results"]}
        SELECT c.person_id, ?::DATE, c.file, c.source_row, c.outcome, c.outcome_code, c.exemption,
               c.insured_family, c.insured_status, c.reported_deceased, c.uninsured_reason, c.phone,
               c.actual_address, c.note, c.collector, c.collected_date, c.task_batch,
               c.village_code, c.file_sha256
        FROM survey_return_checked c JOIN survey_return_log_new l
            ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
        WHERE l.verdict = 'accepted' ORDER BY c.file, c.source_row"""


def _tasks_rejected_sql() -> str:
    """An open task whose return was rejected stays open, marked 'rejected' (staged;
    param: period)."""
    return f"""INSERT INTO {TASK_UPDATES}
        SELECT c.person_id, c.task_batch, 'rejected',
               arg_min(l.reason, (l.file, l.source_row)), ?::DATE
        FROM survey_return_checked c JOIN survey_return_log_new l
            ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
        WHERE l.verdict = 'rejected' AND c.is_open GROUP BY c.person_id, c.task_batch
        ORDER BY c.person_id, c.task_batch"""


def _tasks_returned_sql() -> str:
    """Accepted rows close their task as 'returned' (staged; param: period)."""
    return f"""INSERT INTO {TASK_UPDATES}
        SELECT c.person_id, c.task_batch, 'returned', c.outcome, ?::DATE
        FROM survey_return_checked c JOIN survey_return_log_new l
            ON l.file_sha256 = c.file_sha256 AND l.source_row = c.source_row
        WHERE l.verdict = 'accepted' ORDER BY c.person_id, c.task_batch"""


def _rejects_sql() -> str:
    """This run's rejected rows (from the log, so a re-import reports the same rows)."""
    return f"""CREATE OR REPLACE TABLE survey_rejects AS
        SELECT f.file, r.source_row, r.person_id, r.id_number, r.name, r.reason,
               r.township_code, r.village_code, r.outcome, r."column"
        FROM {with_staged_sql("survey_return_rows")} r JOIN survey_return_files f USING (file_sha256)
        WHERE r.verdict = 'rejected'
        QUALIFY row_number() OVER (PARTITION BY r.file_sha256, r.source_row ORDER BY r.period) = 1
        ORDER BY f.file, r.source_row"""


def import_returns_cli(period_dir: Path, out_root: Path, params_dir: Path) -> int:
    """``canbao import-returns``: validate and import one period's returns into its registry
    (outside a period run, so the imported rows are committed at once)."""
    ctx = period_context(Path(period_dir), Path(out_root))
    cfg = load_config(ctx.district_code, Path(params_dir))
    if not ctx.registry_path.exists():
        raise InputError(str(ctx.registry_path), "returns_no_registry")
    engine = open_registry_db(ctx.registry_path, cfg.engine)
    try:
        res = import_returns(engine, cfg, ctx, commit=True)
    finally:
        engine.close()
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    return 0
