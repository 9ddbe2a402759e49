"""The monitoring path with PostgreSQL as source, registry and results store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from modelguard.config import load_config
from modelguard.core.window import Window
from modelguard.drift.detection import resolve_thresholds
from modelguard.pipelines.drift_check import run_drift_check
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import ResultStore
from modelguard.storage.source import count_rows
from tests.world import write_config

pytestmark = pytest.mark.postgres
START, TRAIN_END, DRIFT_START, END = (
    datetime(2026, 6, 1),
    datetime(2026, 6, 11),
    datetime(2026, 6, 13),
    datetime(2026, 6, 15),
)


def test_seed_bootstrap_and_check_on_postgres(pg_engine, tmp_path):
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source

    config = load_config(write_config(tmp_path))
    seed = dict(seed=3, sends_per_hour=30, scenario="new_categories", drift_start=DRIFT_START)
    rows = seed_source(pg_engine, START, END, **seed)
    # the seeding is idempotent on PostgreSQL too
    assert seed_source(pg_engine, START, END, **seed) == rows
    assert count_rows(pg_engine, "email_sends", "sent_at", Window(START, END)) == rows

    champion = train_and_register(config, pg_engine, pg_engine, START, TRAIN_END)
    assert ModelRegistry(pg_engine).get_champion("email_engagement").id == champion.id

    window = Window(END - timedelta(hours=24), END)
    kwargs = dict(
        config=config,
        thresholds=resolve_thresholds(config.drift_detection),
        source_engine=pg_engine,
        registry_engine=pg_engine,
        window=window,
        dag_id="pg_monitoring",
    )
    result = run_drift_check(run_id="one", **kwargs)
    assert result.verdict == "major"
    assert "industry" in result.drifted_features
    run_drift_check(run_id="two", **kwargs)
    features = ResultStore(pg_engine).drift_features("pg_monitoring", window.start, window.end)
    assert len(features) == len(config.features)
    assert {f.run_id for f in features} == {"two"}
    industry = next(f for f in features if f.feature == "industry")
    assert {c["category"] for c in industry.new_categories} >= {"crypto"}
