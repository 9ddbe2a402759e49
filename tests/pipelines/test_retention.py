"""run_retention over real monitoring history (drift checks, decisions, health records, report
folders written by the pipelines): old history goes, nothing a later verdict reads does."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.config import with_overrides
from modelguard.core.window import Window
from modelguard.pipelines.health_check import run_health_check
from modelguard.pipelines.retention import run_retention
from modelguard.storage.health import HealthStore
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.world import build_world, monitor

DAILY = "email_engagement_monitoring_daily"
DAGS = ["email_engagement_monitoring", DAILY]
RUNS = [datetime(2026, 7, 11) + timedelta(days=k) for k in range(7)]  # the drift episode
LAST = RUNS[-1]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("retention_world"))
    config = with_overrides(world.config, "retraining", cooldown_hours=48)
    config = with_overrides(
        config,
        "monitoring",
        max_history_days=4,
        retention_batch_size=7,
        health=dataclasses.replace(config.monitoring.health, recent_runs=2),
    )
    world = dataclasses.replace(world, config=config)
    for run_at in RUNS:
        monitor(world, run_at, dag_id=DAILY)
        run_health_check(
            config=config,
            source_engine=engine_for_url(world.source_url),
            registry_engine=engine_for_url(world.registry_url),
            interval=Window(run_at - timedelta(days=1), run_at),
            interval_seconds=86400,
            dag_id=DAILY,
            run_id="r",
        )
    return world


def retain(world, run_end: datetime):
    return run_retention(
        config=world.config,
        registry_engine=engine_for_url(world.registry_url),
        dag_ids=DAGS,
        dag_id=DAILY,
        run_end=run_end,
    )


def decisions(world) -> dict[datetime, str]:
    store = ResultStore(engine_for_url(world.registry_url))
    return {d.interval_end: d.decision for d in store.decisions("email_engagement")}


def folders(world) -> list[str]:
    return sorted(p.name for p in (world.config.storage.report_root / DAILY).iterdir())


def test_history_older_than_max_history_days_goes_and_no_verdict_changes(world):
    engine = engine_for_url(world.registry_url)
    before = decisions(world)
    assert "retrain" in before.values() and "cooldown" in before.values(), before
    registry = ModelRegistry(engine)
    versions, events = (
        registry.list_versions("email_engagement"),
        registry.events("email_engagement"),
    )
    assert len(folders(world)) == len(RUNS)

    result = retain(world, LAST)
    cutoff = LAST - timedelta(days=4)
    assert result.cutoff == cutoff
    gone = [e for e in RUNS if e < cutoff]
    assert len(gone) == 2
    xcom = result.to_xcom()
    assert xcom["deleted"]["mg_drift_runs"] == 2
    assert xcom["deleted"]["mg_drift_features"] == 2 * len(world.config.features)
    assert xcom["deleted"]["mg_health_records"] == 2
    # performance and concept drift are stored under their matured window, which ends
    # label_delay_hours (72) before the run: five of the seven ended before the cutoff
    assert xcom["deleted"]["mg_monitoring_checks"] == 2 * 5
    assert xcom["folders_deleted"] == 2 and xcom["refused"] == []
    assert xcom["batches"] >= 4  # 26 feature rows in batches of 7
    # retrain, cooldown, retrain, ... every 48 h: the newest retraining is recent, so no old
    # decision needs keeping (tests/storage/test_retention.py keeps an old anchor)
    after = decisions(world)
    assert after == {e: d for e, d in before.items() if e >= cutoff}
    assert xcom["kept_decisions"] == []
    assert folders(world) == [
        f"{(e - timedelta(days=1)):%Y-%m-%dT%H:%M}_{e:%Y-%m-%dT%H:%M}" for e in RUNS if e >= cutoff
    ]
    health = HealthStore(engine).health_history("email_engagement")
    assert [h.interval_end for h in health] == [e for e in RUNS if e >= cutoff]
    assert registry.list_versions("email_engagement") == versions
    assert registry.events("email_engagement") == events

    # a rerun deletes nothing more
    again = retain(world, LAST)
    assert again.to_xcom()["rows_deleted"] == 0 and again.to_xcom()["folders_deleted"] == 0

    # the newest intervals decided again: the same verdicts (the cool-down reads what is kept)
    for run_at in RUNS[-3:]:
        assert monitor(world, run_at, dag_id=DAILY)["verdict"] == before[run_at]
    assert decisions(world) == after


def test_a_run_that_analysed_nothing_prunes_nothing(world):
    engine = engine_for_url(world.registry_url)
    retain(world, LAST)
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT COUNT(*) FROM mg_drift_runs")).scalar()
    far = retain(world, datetime(2030, 1, 1))  # a window in the future, by mistake
    assert far.cutoff is None and far.to_xcom()["rows_deleted"] == 0
    assert "analysed no interval ending 2030-01-01T00:00:00" in far.summary
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM mg_drift_runs")).scalar() == runs == 5
