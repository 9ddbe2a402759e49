"""The whole path through Airflow: a new audience -> monitoring decides to retrain and starts
email_engagement_retraining -> the challenger trained on the new regime beats the stale champion and
is deployed. And the quiet path: nothing is retrained. SQLite here; PostgreSQL in CI too."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.conftest_db import PG_DSN_ENV, running_in_ci
from tests.dags.conftest import forget_dag_runs, load_dag, task_states
from tests.world import AUDIENCE_DRIFT_RUN, AUDIENCE_QUIET_RUN, build_audience_world

pytestmark = pytest.mark.airflow_run
MODEL = "email_engagement"


def retraining_run_for(run_at):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = (
            session.query(DagRun)
            .filter(
                DagRun.dag_id == "email_engagement_retraining",
                DagRun.run_id == f"retrain__email_engagement_monitoring__{window_label(run_at)}",
            )
            .one_or_none()
        )
        if run is not None:
            session.expunge(run)
    return run


def window_label(run_at) -> str:
    from modelguard.core.window import Window

    return Window(run_at - timedelta(hours=24), run_at).label


def monitoring_run(world, run_at):
    dr = load_dag("email_engagement_monitoring").test(logical_date=run_at.replace(tzinfo=UTC))
    st = task_states(dr)
    assert str(dr.state) == "success", st
    decision = ResultStore(engine_for_url(world.registry_url)).get_decision(
        "email_engagement_monitoring", run_at - timedelta(hours=24), run_at
    )
    return dr, st, decision


def check_whole_path(world):
    forget_dag_runs("email_engagement_retraining")
    registry = ModelRegistry(engine_for_url(world.registry_url))
    stale = registry.get_champion(MODEL)

    dr, st, decision = monitoring_run(world, AUDIENCE_DRIFT_RUN)
    assert st["trigger_retraining"] == "success", (st, decision.reason)
    assert decision.decision == "retrain"
    assert {"drift", "concept"} <= set(decision.details["decision"]["triggers"]), decision.reason
    queued = retraining_run_for(AUDIENCE_DRIFT_RUN)
    assert queued is not None and queued.conf["as_of"] == AUDIENCE_DRIFT_RUN.isoformat() + "+00:00"

    # what the scheduler would do with the queued run: run it with its conf
    retraining = load_dag("email_engagement_retraining")
    rr = retraining.test(logical_date=None, run_conf=queued.conf)
    st = task_states(rr)
    assert str(rr.state) == "success", st
    assert st["deploy"] == "success" and st["deployment_verified"] == "success", st
    champion = registry.get_champion(MODEL)
    assert champion.id != stale.id
    assert champion.strategy == "sliding_window"
    training = champion.metrics["training"]
    assert training["strategy"] == "sliding_window"
    assert champion.training_end <= AUDIENCE_DRIFT_RUN
    evaluated = [e for e in registry.events(MODEL) if e.event == "evaluated"][-1]
    result = evaluated.details["result"]
    assert result["decision"] == "deploy" and result["c"] > result["b"]
    assert "monitoring" in champion.metrics["reason"]


@pytest.fixture
def sqlite_world(tmp_path, airflow_db):
    world = build_audience_world(tmp_path / "audience")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


def test_quiet_interval_retrains_nothing(sqlite_world):
    forget_dag_runs("email_engagement_retraining")
    registry = ModelRegistry(engine_for_url(sqlite_world.registry_url))
    before = [v.id for v in registry.list_versions(MODEL)]
    dr, st, decision = monitoring_run(sqlite_world, AUDIENCE_QUIET_RUN)
    assert st["healthy"] == "success", decision.reason
    assert st["trigger_retraining"] == "skipped"
    assert decision.decision == "healthy"
    assert retraining_run_for(AUDIENCE_QUIET_RUN) is None
    assert [v.id for v in registry.list_versions(MODEL)] == before

    check_whole_path(sqlite_world)


@pytest.mark.postgres
def test_whole_path_on_postgres(tmp_path, airflow_db):
    dsn = os.environ.get(PG_DSN_ENV, "").strip()
    if not dsn:
        reason = f"the PostgreSQL path needs {PG_DSN_ENV}"
        if running_in_ci():
            pytest.fail(f"{reason}; CI is set, so it may not be skipped")
        pytest.skip(reason)
    schema = f"mg_path_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(dsn, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{dsn}?options=-csearch_path%3D{schema}"
    try:
        world = build_audience_world(tmp_path / "pg", source_url=url, registry_url=url)
        with pytest.MonkeyPatch.context() as mp:
            for key, value in world.env().items():
                mp.setenv(key, value)
            check_whole_path(world)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
