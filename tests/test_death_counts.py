"""A pensioner who dies between two extracts while her pension still pays and her medical
row still runs: both deceased codes in the findings, and every place that counts deaths
(change log 死亡, bulletin 清理数（死亡） and its 待清理死亡人员 sentence, the township's
死亡 cleanup list) counts her exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from canbao.core.engine import DuckDBEngine
from canbao.report import bulletin, views
from tests.support.period import (
    Period,
    config,
    enr_row,
    findings_of,
    make_id,
    memory_engine,
    pop_row,
    run_period,
)

P1, P2 = "2026-10-15", "2026-10-31"
LIU = make_id("1938-07-02", 22)  # 刘桂英: 170 正常享受 + 390 正常参保, dies before P2
WANG = make_id("1941-02-11", 33)  # 王秀兰: dies before P2, every row already ended
ZHANG = make_id("1962-03-15", 11)  # 张建国: alive throughout


def _period(dead: bool) -> Period:
    life = "deceased" if dead else "alive"
    return Period(
        population=[
            pop_row(1, "刘桂英", LIU, "1938-07-02", "2", life=life),
            pop_row(2, "王秀兰", WANG, "1941-02-11", "2", life=life, household="H0002"),
            pop_row(3, "张建国", ZHANG, "1962-03-15", "1", household="H0003"),
        ],
        enrollment=[
            enr_row(1, "刘桂英", LIU, "170", 1, 1),
            enr_row(2, "刘桂英", LIU, "390", 1, 0),
            enr_row(3, "王秀兰", WANG, "170", 4 if dead else 1, 3 if dead else 1),
            enr_row(4, "王秀兰", WANG, "390", 4 if dead else 1, 0),
            enr_row(5, "张建国", ZHANG, "170", 1, 0),
            enr_row(6, "张建国", ZHANG, "390", 1, 0),
        ],
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    e = memory_engine()
    root: Path = tmp_path_factory.mktemp("deaths")
    run_period(e, _period(dead=False), P1, root, exports=False)
    run_period(e, _period(dead=True), P2, root, exports=False)
    return e


def test_both_deceased_codes_for_the_dead_pensioner(registry: DuckDBEngine) -> None:
    assert findings_of(registry) == [
        ("DECEASED_ACTIVE", "刘桂英", None, None),
        ("DECEASED_BENEFIT", "刘桂英", None, None),
    ]


def test_change_log_has_one_death_row_per_person(registry: DuckDBEngine) -> None:
    deaths = registry.query_df(
        "SELECT p.name, count(*) AS n FROM changelog c JOIN persons p USING (person_id) "
        "WHERE c.period = CAST(? AS DATE) AND c.change = '死亡' GROUP BY p.name ORDER BY p.name",
        [P2],
    )
    assert dict(deaths.itertuples(index=False)) == {"刘桂英": 1, "王秀兰": 1}


def test_bulletin_counts_her_once_as_a_death_to_clean_up(registry: DuckDBEngine) -> None:
    cfg = config()
    table = bulletin.district_table(registry, P2, cfg)
    total = table.loc[table["is_total"]].iloc[0]
    assert int(total["clean_deceased"]) == 1  # 王秀兰's rows ended: nothing to clean
    assert int(total["clean_duplicate"]) == 0
    text = bulletin.summary_text(
        table, bulletin.indicators(registry, P2), period=P2, scope="雨湖区", level="township"
    )
    assert "待清理死亡人员1人" in text


def test_township_death_list_has_two_rows_and_one_person(registry: DuckDBEngine) -> None:
    township = registry.query_df("SELECT DISTINCT township_code FROM registry_history")
    lists = views.cleanup_lists(registry, P2, township.iloc[0, 0])
    summary = views.cleanup_summary(lists).set_index("名单")
    assert summary.loc["死亡人员仍参保或领待遇", "条数"] == 2
    assert summary.loc["死亡人员仍参保或领待遇", "人数"] == 1
    counts = views.finding_counts(registry, P2).set_index("问题")
    assert counts.loc["DECEASED_ACTIVE", "涉及人数"] == 1
    assert counts.loc["DECEASED_BENEFIT", "涉及人数"] == 1
