"""The bulletin's registry builders hold together: one row per person and period, every township."""

from __future__ import annotations

from tests.support.bulletin import build_small, build_synthetic


def test_small_fixture_has_one_row_per_person_and_period(engine):
    build_small(engine)
    dup = engine.scalar(
        "SELECT count(*) FROM (SELECT period, person_id FROM registry_history GROUP BY ALL HAVING count(*) > 1)"
    )
    assert dup == 0
    assert engine.scalar("SELECT count(DISTINCT period) FROM registry_history") == 2


def test_synthetic_fixture_covers_every_township_and_period(engine):
    build_synthetic(engine, per_village=5)
    assert engine.scalar("SELECT count(DISTINCT township_code) FROM registry_history") == 12
    assert engine.scalar("SELECT count(DISTINCT period) FROM registry_history") == 4
    assert engine.scalar("SELECT count(*) FROM survey_tasks") > 0
