"""A hand-made period of three people (张建国, 刘桂英 deceased, 阿依古丽 without an ID) with the
ingest stage's reconciliation and rejects, for the exports and worklists tests."""

from __future__ import annotations

import pandas as pd

from canbao.core.engine import DuckDBEngine
from tests.support.period import (
    Period,
    employer_row,
    enr_row,
    make_id,
    memory_engine,
    nm_row,
    pop_row,
)

ZHANG = make_id("1962-03-15", 11)
LIU = make_id("1958-07-02", 22)
STRANGER = make_id("1970-01-01", 33)


def three_people(order: int = 1) -> Period:
    pop = [
        pop_row(1, "张建国", ZHANG, "1962-03-15", "1"),
        pop_row(2, "刘桂英", LIU, "1958-07-02", "2", life="deceased"),
        pop_row(3, "阿依古丽·买买提", None, "1999-09-09", "2", household="H0009"),
    ]
    enr = [
        enr_row(1, "张建国", ZHANG, "110", 1),
        enr_row(2, "张建国", ZHANG, "170", 1),
        enr_row(3, "刘桂英", LIU, "170", 4, 1),
        enr_row(4, "李,四", STRANGER, "390", 1, member_no='A"1'),  # needs CSV quoting
        enr_row(5, "张建国", None, "390", 1),
    ]
    if order < 0:
        pop, enr = pop[::-1], enr[::-1]
    return Period(
        population=pop,
        enrollment=enr,
        national_match=[nm_row(1, ZHANG, "110", 1)],
        employers=[employer_row(1, "91350200M000000510", "湘潭市某商贸有限公司", False)],
        links={("enrollment.csv", 5): (ZHANG, "probabilistic", None)},
    )


def ingest_tables(order: int = 1) -> DuckDBEngine:
    """An in-memory engine holding the ingest stage's reconciliation and rejects tables."""
    e = memory_engine()
    recon = pd.DataFrame(
        {"extract": ["hukou", "enrollment"], "file": ["hukou.csv", "enrollment.csv"],
         "rows_read": [4, 5], "rows_loaded": [3, 5], "rows_rejected": [1, 0],
         "extra_columns": ["备注", None], "unknown_codes": [1, 0], "rows_repeated": [0, 0]}
    )  # fmt: skip
    if order < 0:
        recon = recon.iloc[::-1].reset_index(drop=True)
    e.register_df("reconciliation", recon)
    e.register_df(
        "rejects",
        pd.DataFrame(
            {"file": ["hukou.csv", "hukou.csv"], "source_row": [4, 5],
             "column": ["公民身份号码", "公民身份号码"],
             "reason": ["no_id_no_name", "summary_row"], "value": [None, "=SUM(B2:B9)"]}
        ),
    )  # fmt: skip
    return e
