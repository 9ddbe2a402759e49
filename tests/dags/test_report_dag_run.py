"""The weekly report DAG (email_engagement_report): its shape, and real runs with dag.test() on
a seeded SQLite registry (the data interval, and a manual period given as params)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelguard.storage.source import engine_for_url
from tests.dags.conftest import forget_dag_runs, load_dag, task_states
from tests.reporting.history import MODEL, seed_history
from tests.world import new_world

pytestmark = pytest.mark.airflow_run
DAG_ID = f"{MODEL}_report"


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    root = tmp_path_factory.mktemp("reportdag")
    world = new_world(root / "world")
    seed_history(
        engine_for_url(world.registry_url),
        report_root=world.config.storage.report_root,
        artifact_root=world.config.storage.artifact_root,
        outside=root / "outside",
    )
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        forget_dag_runs(DAG_ID)
        yield world
        forget_dag_runs(DAG_ID)


@pytest.fixture(scope="module")
def dag(world):
    return load_dag(DAG_ID)


def test_the_report_dag_is_weekly_with_its_period_as_data_interval(dag):
    from airflow.sdk import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * 1"
    assert set(dag.params) == {"period_start", "period_end"}
    assert dag.task_ids == ["write_report"] and f"model:{MODEL}" in dag.tags


def _written(dr) -> dict:
    (ti,) = [t for t in dr.get_task_instances() if t.task_id == "write_report"]
    return ti.xcom_pull(task_ids="write_report")


def test_a_manual_run_reports_the_period_of_its_params(dag, world):
    conf = {"period_start": "2026-07-01T00:00:00Z", "period_end": "2026-07-08T00:00:00Z"}
    dr = dag.test(logical_date=None, run_conf=conf)
    assert task_states(dr) == {"write_report": "success"}
    out = _written(dr)
    path = Path(world.config.storage.report_root) / MODEL / "reports"
    path = path / "2026-07-01T00:00_2026-07-08T00:00.json"
    assert out["path"] == str(path.resolve()) and out["uri"] == path.resolve().as_uri()
    assert out["counts"]["drift_intervals"] == 6 and out["counts"]["rollbacks"] == 1
    report = json.loads(path.read_text())
    assert report["period"]["start"] == "2026-07-01T00:00:00"
    assert report["champion"]["how"] == "rollback"
    first = path.read_bytes()
    dag.test(logical_date=None, run_conf=conf)  # a rerun replaces the file, identically
    assert path.read_bytes() == first


def test_a_scheduled_run_reports_its_data_interval(world):
    dag = load_dag(DAG_ID)  # dag.test() keeps the params of the run before in the DAG object
    dr = dag.test(logical_date=datetime(2026, 7, 6, tzinfo=UTC))
    assert task_states(dr) == {"write_report": "success"}
    out = _written(dr)
    start = dr.data_interval_start.astimezone(UTC).replace(tzinfo=None)
    end = dr.data_interval_end.astimezone(UTC).replace(tzinfo=None)
    assert (end - start).days == 7 and end.weekday() == 0
    assert out["period_start"] == start.isoformat() and out["period_end"] == end.isoformat()
    assert Path(out["path"]).is_file()
