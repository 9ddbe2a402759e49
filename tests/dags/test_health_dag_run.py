"""Real Airflow runs (dag.test) of email_engagement_monitoring with check_health and
prune_history: a healthy interval, a stale source, and a registry that cannot be reached."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelguard.storage.health import HealthSpool, HealthStore
from modelguard.storage.source import engine_for_url
from tests.dags.conftest import load_dag, task_states
from tests.world import SEED_END, build_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"
# Logical dates no other DAG test uses (dag.test clears the runs of its logical date).
HEALTHY = datetime(2026, 7, 6, 6)
STALE = SEED_END + timedelta(days=2)
REGISTRY_DOWN = datetime(2026, 7, 6, 9)


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    world = build_world(tmp_path_factory.mktemp("healthdagworld"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


def xcom(dagrun, task_id: str):
    (ti,) = [t for t in dagrun.get_task_instances() if t.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id)


def record(world, end: datetime):
    return HealthStore(engine_for_url(world.registry_url)).get(
        DAG_ID, end - timedelta(hours=1), end
    )


def fast(dag):
    """No retries, and a data sensor that gives up after seconds (not data_wait_minutes)."""
    for task in dag.tasks:
        task.retries = 0
    sensor = dag.get_task("wait_for_data")
    sensor.timeout, sensor.poke_interval = 3, 1
    return dag


def test_a_healthy_interval_records_its_health_and_prunes(world):
    dr = fast(load_dag(DAG_ID)).test(logical_date=HEALTHY.replace(tzinfo=UTC))
    st = task_states(dr)
    assert str(dr.state) == "success", st
    assert st["check_health"] == st["prune_history"] == st["healthy"] == "success", st
    health = xcom(dr, "check_health")
    assert health["status"] == "healthy" and health["stored"], health
    assert health["interval_start"] == (HEALTHY - timedelta(hours=1)).isoformat()
    stored = record(world, HEALTHY)
    assert stored.status == "healthy" and stored.run_id == dr.run_id
    assert [c.to_dict() for c in stored.checks] == health["checks"]
    pruned = xcom(dr, "prune_history")
    assert pruned["cutoff"] == (HEALTHY - timedelta(days=30)).isoformat()
    assert pruned["rows_deleted"] == 0 and pruned["refused"] == []


def test_a_stale_source_is_reported_at_once_and_the_run_fails(world):
    dr = fast(load_dag(DAG_ID)).test(logical_date=STALE.replace(tzinfo=UTC))
    st = task_states(dr)
    # the sensor gives up (no rows in the window); the health check succeeded with its verdict
    assert str(dr.state) == "failed", st
    assert st["wait_for_data"] == "failed" and st["check_health"] == "success", st
    assert st["prune_history"] == "success", st  # a teardown: runs when all is done
    health = xcom(dr, "check_health")
    assert health["status"] == "unhealthy" and health["stored"]
    failing = {c["name"]: c for c in health["checks"] if not c["ok"]}
    # (recent_runs too when the healthy run's decision is stored: the DAG missed 07-21)
    assert (
        {"source_fresh", "row_count"}
        <= set(failing)
        <= {"source_fresh", "row_count", "recent_runs"}
    )
    assert "48.0 h older than the interval end" in failing["source_fresh"]["message"]
    assert xcom(dr, "prune_history")["cutoff"] is None  # the run analysed nothing
    stored = record(world, STALE)
    assert stored.status == "unhealthy" and not stored.check("source_fresh").ok


def test_an_unreachable_registry_is_recorded_in_the_spool(world, monkeypatch):
    down = "postgresql+psycopg2://nobody:secret@127.0.0.1:1/nowhere"
    monkeypatch.setenv(
        "AIRFLOW_CONN_MODELGUARD_REGISTRY",
        json.dumps({"conn_type": "postgres", "extra": {"sqlalchemy_url": down}}),
    )
    dr = fast(load_dag(DAG_ID)).test(logical_date=REGISTRY_DOWN.replace(tzinfo=UTC))
    st = task_states(dr)
    assert st["check_health"] == "success", st
    assert st["detect_drift"] == "failed" and str(dr.state) == "failed", st
    health = xcom(dr, "check_health")
    assert not health["stored"] and health["spool"]["written"]
    registry = next(c for c in health["checks"] if c["name"] == "registry")
    assert not registry["ok"] and "modelguard_registry" in registry["message"]
    assert "secret" not in json.dumps(health)
    spooled = json.loads(Path(health["spool"]["path"]).read_text())
    assert spooled["run_id"] == dr.run_id and spooled["status"] == "unhealthy"
    monkeypatch.undo()
    for key, value in world.env().items():
        monkeypatch.setenv(key, value)
    # the next run that reaches the registry imports it
    again = fast(load_dag(DAG_ID)).test(logical_date=HEALTHY.replace(tzinfo=UTC))
    assert xcom(again, "check_health")["imported_from_spool"] == 1
    assert record(world, REGISTRY_DOWN).run_id == dr.run_id
    assert HealthSpool(world.config.storage.report_root, "email_engagement").pending() == []


def test_an_undefined_source_connection_is_a_failed_check_not_a_failed_task(world, monkeypatch):
    """The DAG's check_health task executed directly (as test_connection_errors_dag does)."""
    from types import SimpleNamespace

    monkeypatch.delenv("AIRFLOW_CONN_MODELGUARD_SOURCE")
    task = load_dag(DAG_ID).get_task("check_health")
    end = datetime(2026, 7, 6, 4, tzinfo=UTC)  # before any stored decision: no recent_runs
    result = task.execute(
        {
            "data_interval_start": end - timedelta(hours=1),
            "data_interval_end": end,
            "params": {},
            "run_id": "direct",
            "dag_run": SimpleNamespace(run_type="manual"),
        }
    )
    checks = {c["name"]: c for c in result["checks"]}
    assert result["status"] == "unhealthy" and result["stored"]
    assert "ConnectionNotDefinedError" in checks["source_reachable"]["message"]
    assert "'modelguard_source' is not defined" in checks["source_reachable"]["message"]
    assert {n for n, c in checks.items() if not c["ok"]} == {
        "source_reachable",
        "source_fresh",
        "row_count",
        "schema",
        "source_times_parseable",
    }
