"""Real Airflow runs (dag.test) of email_engagement_monitoring with estimate_performance: the
estimate's XCom and row, the decision's reason and the alert, on the estimation world."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest

from modelguard.storage.alerts import AlertStore
from modelguard.storage.estimates import EstimateStore
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.dags.conftest import load_dag, task_states
from tests.estimation_world import QUIET_RUNS, SHIFTED_RUN, build_estimation_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    # drift alone never retrains here: the verdict shows what the estimate adds
    world = build_estimation_world(
        tmp_path_factory.mktemp("estimate_dag"), retraining={"drift_threshold": 1000.0}
    )
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


@pytest.fixture(scope="module")
def dag(world):
    return load_dag(DAG_ID)


def xcom(dr, task_id: str, key: str = "return_value"):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dr.dag_id, run_id=dr.run_id, task_id=task_id, key=key)
            .one()
        )
        value = row.value
    return json.loads(value) if isinstance(value, str) else value


def test_a_shifted_window_is_flagged_by_the_estimate_before_its_labels_mature(world, dag):
    dr = dag.test(logical_date=SHIFTED_RUN.replace(tzinfo=UTC))
    st = task_states(dr)
    assert str(dr.state) == "success", st
    assert st["estimate_performance"] == "success"
    assert st["alert"] == "success" and st["trigger_retraining"] == "skipped"

    verdict = xcom(dr, "estimate_performance")
    assert verdict["status"] == "estimated" and verdict["degraded"], verdict
    assert verdict["metric"] == "accuracy"
    assert verdict["relative_drop"] > world.config.retraining.performance_threshold
    start, end = SHIFTED_RUN - timedelta(hours=24), SHIFTED_RUN
    assert verdict["window"] == [start.isoformat(), end.isoformat()]

    decision = ResultStore(engine_for_url(world.registry_url)).get_decision(DAG_ID, start, end)
    assert decision.decision == "alert"
    assert decision.details["decision"]["alerts"] == ["estimated_performance"]
    assert "estimated_performance" not in decision.details["decision"]["triggers"]
    assert "estimate: accuracy estimated" in decision.reason
    assert decision.details["estimate_status"] == "estimated"

    row = EstimateStore(engine_for_url(world.registry_url)).estimate(
        DAG_ID, start, end, verdict["model_version_id"]
    )
    assert row.run_id == dr.run_id and row.degraded and row.realised_status is None

    alerts = xcom(dr, "raise_alerts")
    kinds = {(c["kind"], c["key"]) for c in alerts["conditions"]}
    assert ("estimated_performance", "estimated_degradation") in kinds
    stored = [
        a
        for a in AlertStore(engine_for_url(world.registry_url)).list_alerts(world.config.model.name)
        if a.kind == "estimated_performance"
    ]
    assert len(stored) == 1 and stored[0].status == "open"


def test_a_quiet_window_estimates_without_an_alert(world, dag):
    dr = dag.test(logical_date=QUIET_RUNS[10].replace(tzinfo=UTC))
    st = task_states(dr)
    assert str(dr.state) == "success", st
    verdict = xcom(dr, "estimate_performance")
    assert verdict["status"] == "estimated" and not verdict["degraded"], verdict
    assert verdict["lower"] <= verdict["estimate"] <= verdict["upper"]
    assert st["healthy"] == "success"
