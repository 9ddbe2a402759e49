"""check_health and prune_history's pipelines with PostgreSQL as source, registry and store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.config import load_config
from modelguard.core.window import Window
from modelguard.pipelines.health_check import run_health_check
from modelguard.pipelines.retention import run_retention
from modelguard.storage.health import HealthStore
from tests.world import write_config

pytestmark = pytest.mark.postgres
START, TRAIN_END, END = datetime(2026, 6, 1), datetime(2026, 6, 20), datetime(2026, 7, 10)
DAG = "email_engagement_monitoring"


def test_health_on_postgres_then_retention(pg_engine, tmp_path):
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source

    config = load_config(write_config(tmp_path))
    seed_source(pg_engine, START, END, seed=5, sends_per_hour=30)
    train_and_register(config, pg_engine, pg_engine, START, TRAIN_END)

    def check(end, **kw):
        return run_health_check(
            config=config,
            source_engine=pg_engine,
            registry_engine=pg_engine,
            interval=Window(end - timedelta(hours=1), end),
            interval_seconds=3600,
            dag_id=DAG,
            run_id="pg",
            **kw,
        )

    healthy = check(END - timedelta(hours=2))
    assert healthy.report.healthy and healthy.stored, healthy.report.summary
    stale = check(END + timedelta(days=1))
    assert {c.name for c in stale.report.failed} == {"source_fresh", "row_count"}
    with pg_engine.begin() as conn:  # a feature retyped in place
        conn.execute(sa.text("ALTER TABLE email_sends ALTER COLUMN company_size TYPE text"))
    retyped = check(END - timedelta(hours=2))
    assert {c.name for c in retyped.report.failed} == {"schema"}
    assert (
        "company_size is numeric but its column is text" in retyped.report.check("schema").message
    )

    store = HealthStore(pg_engine)
    assert len(store.health_history("email_engagement")) == 2
    # the run analysed nothing (no drift run, no decision): it prunes nothing
    result = run_retention(
        config=config,
        registry_engine=pg_engine,
        dag_ids=[DAG],
        dag_id=DAG,
        run_end=END + timedelta(days=90),
    )
    assert result.cutoff is None and len(store.health_history("email_engagement")) == 2
