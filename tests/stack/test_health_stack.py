"""check_health and prune_history under the real Airflow 3 stack, driven through the REST API.

The monitoring DAGs changed shape: ``check_health`` starts with the run beside the sensors and
``prune_history`` ends it as a teardown. Only the real scheduler decides what that means for a
run, so this module checks, on the data of ``tests/stack/world.py`` (SQLite source and
registry):

1. a healthy interval: the health record is stored, the run succeeds, prune_history runs;
2. a stale source (an interval two days after the last row): the record says so when the run
   starts, the data sensor still fails the run after data_wait_minutes, and prune_history runs
   anyway without hiding that failure;
3. a daily run six weeks later prunes the first interval's history (rows and report folder)
   and leaves the registry's versions and events alone.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from modelguard.config import load_config
from modelguard.storage.health import HealthStore, health_records_table
from modelguard.storage.results import drift_runs_table, monitoring_decisions_table
from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.stack.world import build_stack_world

pytestmark = pytest.mark.stack

MONITORING = "email_engagement_monitoring"
DAILY = "email_engagement_monitoring_daily"
MODEL = "email_engagement"
HEALTHY_END = datetime(2026, 7, 10)  # hourly interval [07-09 23:00, 07-10 00:00)
STALE_END = datetime(2026, 9, 22)  # two days after the last seeded row (09-20)
LATER_END = datetime(2026, 8, 25)  # a daily run: its cutoff (30 days back) is after 07-10


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("health-stack-data")
    return build_stack_world(
        data / "world", f"sqlite:///{data / 'source.db'}", f"sqlite:///{data / 'registry.db'}"
    )


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world.source_url,
        registry_url=world.registry_url,
        config_path=world.config_path,
        home=tmp_path_factory.mktemp("health-stack-home"),
        extra_env={"AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "10"},
    ) as started:
        started.unpause((MONITORING, DAILY))
        yield started


@pytest.fixture(scope="module")
def api(stack) -> StackClient:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([MONITORING, DAILY])
        yield client


@pytest.fixture(scope="module")
def registry(world):
    engine = sa.create_engine(world.registry_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def states(api: StackClient, dag_id: str, run_id: str) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in api.task_instances(dag_id, run_id)}


def xcom(api: StackClient, dag_id: str, run_id: str, task_id: str) -> Any:
    path = (
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    )
    value = expect(api.get(path, deserialize=True), 200)["value"]
    return json.loads(value) if isinstance(value, str) else value


def run(api: StackClient, dag_id: str, end: datetime, timeout: float = 600) -> tuple[str, str]:
    run_id = expect(api.trigger(dag_id, logical_date=end), 200)["dag_run_id"]
    return run_id, api.wait_for_run(dag_id, run_id, timeout=timeout)


def health_record(engine, dag_id: str, end: datetime) -> dict | None:
    """The stored record of the interval ending at ``end`` (the store's own read)."""
    found = [
        r for r in HealthStore(engine).health_history(MODEL, dag_id=dag_id) if r.interval_end == end
    ]
    if not found:
        return None
    (record,) = found
    return {
        "status": record.status,
        "run_id": record.run_id,
        "interval_start": record.interval_start,
        "checks": {c.name: c.to_dict() for c in record.checks},
    }


def older_than(engine, table: sa.Table, cutoff: datetime) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.interval_end < cutoff)
        ).scalar_one()


def test_a_healthy_interval_is_recorded_and_pruning_runs(api, registry):
    run_id, state = run(api, MONITORING, HEALTHY_END)
    st = states(api, MONITORING, run_id)
    assert state == "success", st
    assert st["check_health"] == st["prune_history"] == "success", st
    health = xcom(api, MONITORING, run_id, "check_health")
    assert health["status"] == "healthy" and health["stored"], health
    record = health_record(registry, MONITORING, HEALTHY_END)
    assert record["status"] == "healthy" and record["run_id"] == run_id
    assert record["interval_start"] == HEALTHY_END - timedelta(hours=1)
    assert set(record["checks"]) == {c["name"] for c in health["checks"]}
    pruned = xcom(api, MONITORING, run_id, "prune_history")
    assert pruned["cutoff"] == (HEALTHY_END - timedelta(days=30)).isoformat()
    assert pruned["rows_deleted"] == 0


def test_a_stale_source_is_reported_at_once_and_still_fails_the_run(api, registry):
    started = time.monotonic()
    run_id = expect(api.trigger(MONITORING, logical_date=STALE_END), 200)["dag_run_id"]
    # recorded when the run starts, not after data_wait_minutes
    deadline = time.monotonic() + 120
    while health_record(registry, MONITORING, STALE_END) is None:
        assert time.monotonic() < deadline, states(api, MONITORING, run_id)
        time.sleep(1)
    assert states(api, MONITORING, run_id)["wait_for_data"] != "failed"
    record = health_record(registry, MONITORING, STALE_END)
    assert record["status"] == "unhealthy"
    assert not record["checks"]["source_fresh"]["ok"]
    assert "older than the interval end" in record["checks"]["source_fresh"]["message"]
    assert not record["checks"]["row_count"]["ok"]

    assert api.wait_for_run(MONITORING, run_id, timeout=400) == "failed"
    assert time.monotonic() - started < 300
    st = states(api, MONITORING, run_id)
    assert st["wait_for_data"] == "failed" and st["check_health"] == "success", st
    # the teardown ran after the failure and did not turn the run green; the run analysed
    # nothing, so it pruned nothing
    assert st["prune_history"] == "success", st
    assert xcom(api, MONITORING, run_id, "prune_history")["cutoff"] is None


def test_a_later_run_prunes_the_first_intervals_history(api, registry, world):
    reports = load_config(world.config_path).storage.report_root
    first = reports / MONITORING / "2026-07-09T00:00_2026-07-10T00:00"
    assert first.is_dir()
    versions = rows(registry, "SELECT id, status FROM mg_model_versions ORDER BY id")
    events = rows(registry, "SELECT id FROM mg_model_events ORDER BY id")

    run_id, state = run(api, DAILY, LATER_END)
    assert state == "success", states(api, DAILY, run_id)
    pruned = xcom(api, DAILY, run_id, "prune_history")
    cutoff = LATER_END - timedelta(days=30)
    assert pruned["cutoff"] == cutoff.isoformat()
    deleted = pruned["deleted"]
    assert deleted["mg_drift_runs"] == 1 and deleted["mg_monitoring_decisions"] == 1
    assert deleted["mg_health_records"] == 1 and deleted["mg_drift_features"] == 13
    assert pruned["folders_deleted"] == 1 and not first.exists()
    for table in (drift_runs_table, monitoring_decisions_table, health_records_table):
        assert older_than(registry, table, cutoff) == 0, table.name
    assert rows(registry, "SELECT id, status FROM mg_model_versions ORDER BY id") == versions
    assert rows(registry, "SELECT id FROM mg_model_events ORDER BY id") == events
    # the stale interval's record is younger than the cutoff: kept
    assert health_record(registry, MONITORING, STALE_END)["status"] == "unhealthy"
