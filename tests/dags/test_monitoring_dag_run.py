"""Real Airflow runs of email_engagement_monitoring (dag.test) on SQLite: branch taken, rows stored."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.dags.conftest import forget_dag_runs, load_dag, task_states
from tests.world import DRIFTED_RUN, HEALTHY_RUN, build_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"
BRANCHES = ("major_drift", "minor_drift", "healthy")


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    world = build_world(tmp_path_factory.mktemp("dagworld"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


@pytest.fixture(scope="module")
def dag(world):
    return load_dag(DAG_ID)


def stored(world, start, end):
    store = ResultStore(engine_for_url(world.registry_url))
    return (
        store.get_drift_run(DAG_ID, start, end),
        store.drift_features(DAG_ID, start, end),
        (store.get_decision(DAG_ID, start, end)),
    )


def test_healthy_interval_takes_the_healthy_branch(world, dag):
    dr = dag.test(logical_date=HEALTHY_RUN.replace(tzinfo=UTC))
    st = task_states(dr)
    assert str(dr.state) == "success", st
    assert st["healthy"] == "success"
    assert st["trigger_retraining"] == st["alert"] == "skipped"
    assert st["measure_performance"] == st["detect_concept_drift"] == "success"
    assert st["done"] == "success"
    # CronDataIntervalTimetable: the manual run's interval ends at the logical date; the
    # window is the 24 h before it.
    start, end = HEALTHY_RUN - timedelta(hours=24), HEALTHY_RUN
    run, features, decision = stored(world, start, end)
    assert run.verdict == "healthy" and run.run_id == dr.run_id
    assert len(features) == len(world.config.features)
    assert decision.decision == "healthy"


def test_manual_run_without_logical_date_uses_window_params(world, dag):
    forget_dag_runs("email_engagement_retraining")
    start, end = DRIFTED_RUN - timedelta(hours=24), DRIFTED_RUN
    conf = {"window_start": start.isoformat() + "Z", "window_end": end.isoformat() + "Z"}
    dr = dag.test(logical_date=None, run_conf=conf)
    st = task_states(dr)
    assert str(dr.state) == "success", st
    assert st["trigger_retraining"] == "success"
    assert st["alert"] == st["healthy"] == "skipped"
    run, features, decision = stored(world, start, end)
    assert run.verdict == "major"
    drifted = {f.feature for f in features if f.drifted}
    assert {"company_size", "subject_length"} <= drifted
    assert decision.decision == "retrain"
    assert "drift" in decision.details["decision"]["triggers"]
    assert decision.details["report_uri"].endswith("drift_report.json")
    run_id = f"retrain__{DAG_ID}__{start:%Y-%m-%dT%H:%M}_{end:%Y-%m-%dT%H:%M}"
    triggered = [r for r in retraining_runs() if r.run_id == run_id]
    assert len(triggered) == 1
    assert triggered[0].conf["drift_report_uri"] == decision.details["report_uri"]
    assert triggered[0].conf["as_of"] == end.isoformat() + "+00:00"

    # a rerun of the same window replaces rather than duplicates, and starts no second retraining
    dr2 = dag.test(logical_date=None, run_conf=conf)
    assert str(dr2.state) == "success"
    assert task_states(dr2)["trigger_retraining"] == "skipped"
    run2, features2, _ = stored(world, start, end)
    assert run2.run_id == dr2.run_id != run.run_id
    assert len(features2) == len(features)
    assert len([r for r in retraining_runs() if r.run_id == run_id]) == 1


def retraining_runs():
    """email_engagement_retraining runs queued in Airflow's metadata DB (test-side read)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "email_engagement_retraining").all()
        session.expunge_all()
    return runs
