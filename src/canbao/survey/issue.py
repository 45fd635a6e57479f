"""Stage 9: number this period's 下发批次 and write its rosters, forms and ledgers."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pandas as pd

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import Engine, transaction
from canbao.survey.forms import write_registration_forms
from canbao.survey.jobs import Job, run_jobs, worker_count
from canbao.survey.ledgers import write_ledger, write_summary
from canbao.survey.places import _place, district_name, place_names
from canbao.survey.provincial import code_table
from canbao.survey.rosters import RosterMeta, roster_values, write_roster
from canbao.survey.tables import ensure_tables
from canbao.survey.worklists import work_list_jobs


def issue_rosters(
    engine: Engine, cfg: Config, ctx: PeriodContext, *, workers: int | None = None
) -> dict:
    """Stage 9: after the commit, issue this period's batch of rosters, forms and ledgers.

    Args: the registry engine (tables ``registry``, ``survey_tasks``), params, period;
    ``workers``: processes writing the workbooks (None: :func:`~canbao.survey.jobs.worker_count`
    decides from the params and the batch's size; the files are the same either way).
    Returns: counts (batch, people, reissued, townships, villages, files).
    """
    ensure_tables(engine)
    engine.execute("UPDATE survey_tasks SET status = 'accepted' WHERE status = 'returned'")
    out = ctx.out_dir / "rosters"
    if out.exists():
        shutil.rmtree(out)  # this stage's own output: a re-run rewrites it whole
    if not engine.table_exists("registry"):
        return {
            "batch": None,
            "people": 0,
            "reissued": 0,
            "townships": 0,
            "villages": 0,
            "files": 0,
        }
    with transaction(engine):
        batch = engine.scalar("SELECT max(batch) FROM survey_tasks WHERE period = ?", [ctx.period])
        if batch is not None:
            engine.execute(
                "DELETE FROM survey_tasks WHERE batch = ?", [batch]
            )  # re-run of this period
        n_targets = engine.scalar("SELECT count(*) FROM registry WHERE registration = 'survey'")
        if batch is None and n_targets:
            batch = int(engine.scalar("SELECT coalesce(max(batch), 0) + 1 FROM survey_tasks"))
        if n_targets:
            engine.execute(_insert_tasks_sql(), [batch, ctx.period, batch])
    towns, villages = place_names(engine, cfg, ctx.district_code)
    dname = district_name(cfg)
    people = pd.DataFrame()
    jobs: list[Job] = []
    if n_targets:
        people = engine.query_df(_roster_people_sql(), [batch, batch])
        jobs += _batch_jobs(people, out, cfg, ctx, int(batch), towns, villages, dname)
    jobs += _ledger_jobs(engine, out, ctx, towns, villages, dname)
    jobs += work_list_jobs(engine, out, ctx, towns, dname, cfg.survey.roster_password)
    rows = sum(j.rows for j in jobs)
    files = run_jobs(jobs, worker_count(cfg.worker_count, rows, workers))
    return {
        "batch": None if batch is None else int(batch),
        "people": int(len(people)),
        "reissued": int(people["reissued"].sum()) if len(people) else 0,
        "townships": int(people["township_code"].nunique()) if len(people) else 0,
        "villages": int(people.groupby(["township_code", "village_code"], dropna=False).ngroups)
        if len(people)
        else 0,
        "files": files,
    }


_REL_ORDER = "CASE WHEN r.relation IN ('02', '户主') THEN 0 WHEN r.relation IN ('01', '本人') THEN 1 ELSE 2 END"


def _insert_tasks_sql() -> str:
    """This batch's tasks, numbered in print order: township, village, household, 户主 first."""
    return f"""
        INSERT INTO survey_tasks
        SELECT ?::INTEGER AS batch, ?::DATE AS period, r.person_id, r.township_code, r.village_code,
               row_number() OVER (ORDER BY r.township_code NULLS LAST, r.village_code NULLS LAST,
                   r.household_no NULLS LAST, {_REL_ORDER}, r.relation NULLS LAST,
                   r.id_number NULLS LAST, r.person_id)::INTEGER AS seq_in_batch,
               EXISTS (SELECT 1 FROM survey_tasks t
                       WHERE t.person_id = r.person_id AND t.batch < ?) AS reissued,
               'issued' AS status, NULL AS result, NULL AS result_period,
               r.id_number, r.name, r.birth_date
        FROM registry r WHERE r.registration = 'survey'"""


def _roster_people_sql() -> str:
    """The batch's people with what the roster pre-fills, and their previous task's fate."""
    return """
        WITH prev AS (
            SELECT person_id, arg_max(batch, batch) AS pb, arg_max(status, batch) AS ps,
                   arg_max(result, batch) AS pr
            FROM survey_tasks WHERE batch < ? GROUP BY person_id)
        SELECT t.batch, t.seq_in_batch, t.reissued, t.township_code, t.village_code,
               r.person_id, r.id_number, r.name, r.sex, r.birth_date, r.population,
               r.household_no, r.relation, r.address, r.pension_status, r.medical_status,
               CASE WHEN p.pb IS NULL THEN NULL
                    WHEN p.ps = 'rejected' THEN '第' || p.pb || '批退回：' || coalesce(p.pr, '')
                    ELSE '第' || p.pb || '批未回收' END AS prev_result
        FROM survey_tasks t JOIN registry r USING (person_id)
        LEFT JOIN prev p USING (person_id)
        WHERE t.batch = ?
        ORDER BY t.seq_in_batch"""


def _batch_jobs(
    people: pd.DataFrame,
    out: Path,
    cfg: Config,
    ctx: PeriodContext,
    batch: int,
    towns: dict[str, str],
    villages: dict[str, str],
    dname: str,
) -> list[Job]:
    """Village rosters + 登记表 and one 汇总 per township, as jobs."""
    jobs: list[Job] = []
    people = people.assign(
        township_code=people["township_code"].fillna(""),
        village_code=people["village_code"].fillna(""),
    )
    codes = code_table(cfg.provincial_import)
    for tcode, tdf in people.groupby("township_code", sort=True):
        tdir = out / _place(tcode, towns, "未分乡镇")
        counts = []
        for vcode, vdf in tdf.groupby("village_code", sort=True):
            vdf = vdf.sort_values("seq_in_batch")
            vpart = _place(vcode, villages, "未分村社区")
            meta = RosterMeta(
                ctx.district_code,
                dname,
                tcode,
                towns.get(tcode, tcode),
                vcode,
                villages.get(vcode, vcode),
                batch,
                ctx.period,
                cfg.survey.roster_password,
                codes,
            )
            roster = tdir / f"{vpart}.xlsx"
            jobs.append(Job(write_village_roster, (vdf, roster, meta), len(vdf)))
            forms = tdir / f"{vpart}_登记表.xlsx"
            jobs.append(Job(write_registration_forms, (vdf, forms, meta), 2 * len(vdf)))
            counts.append(
                {
                    "village_code": vcode,
                    "village_name": villages.get(vcode, ""),
                    "people": len(vdf),
                    "households": int(vdf["household_no"].fillna(vdf["person_id"]).nunique()),
                    "reissued": int(vdf["reissued"].sum()),
                    "pension_not_insured": int((vdf["pension_status"] == "not_insured").sum()),
                    "medical_not_insured": int((vdf["medical_status"] == "not_insured").sum()),
                    "file": roster.name,
                }
            )
        meta = RosterMeta(
            ctx.district_code,
            dname,
            tcode,
            towns.get(tcode, tcode),
            "",
            "",
            batch,
            ctx.period,
            cfg.survey.roster_password,
            codes,
        )
        summary = tdir / f"{tdir.name}_汇总.xlsx"
        jobs.append(Job(write_summary, (pd.DataFrame(counts), summary, meta), len(counts)))
    return jobs


def write_village_roster(people: pd.DataFrame, path: Path, meta: RosterMeta) -> Path:
    """A village's roster from its batch rows (in print order): a job of its own."""
    return write_roster(roster_values(people.reset_index(drop=True)), path, meta)


def _ledger_sql() -> str:
    return """
        WITH res AS (
            SELECT person_id, arg_max(uninsured_reason, (period, file, source_row)) AS uninsured_reason
            FROM survey_results GROUP BY person_id)
        SELECT t.batch, t.seq_in_batch, t.township_code, t.village_code, t.name, t.id_number,
               t.status, t.result, t.reissued, t.result_period, res.uninsured_reason,
               CASE WHEN r.person_id IS NULL THEN ''
                    WHEN r.pension_status = 'not_insured' OR r.medical_status = 'not_insured' THEN '否'
                    ELSE '是' END AS insured
        FROM survey_tasks t LEFT JOIN registry r USING (person_id) LEFT JOIN res USING (person_id)
        ORDER BY t.township_code NULLS LAST, t.batch, t.seq_in_batch"""


def _ledger_jobs(
    engine: Engine,
    out: Path,
    ctx: PeriodContext,
    towns: dict[str, str],
    villages: dict[str, str],
    dname: str,
) -> list[Job]:
    """One 未参保落实台账 per township (every batch's tasks), as jobs."""
    tasks = engine.query_df(_ledger_sql())
    if tasks.empty:
        return []
    tasks["township_code"] = tasks["township_code"].fillna("")
    tasks["village_name"] = tasks["village_code"].map(lambda v: villages.get(v, v or ""))
    jobs = []
    for tcode, tdf in tasks.groupby("township_code", sort=True):
        tdir = out / _place(tcode, towns, "未分乡镇")
        write = partial(
            write_ledger,
            district_name=dname,
            township_name=towns.get(tcode, tcode),
            period=ctx.period,
        )
        path = tdir / f"{tdir.name}_未参保落实台账.xlsx"
        jobs.append(Job(write, (tdf.reset_index(drop=True), path), len(tdf)))
    return jobs
