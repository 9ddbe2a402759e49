"""A scheduled monitoring run's alert reaches a real webhook server, under the real stack.

Data is seeded around the machine's clock (the past 40 days, drifted over the last 5), the
hourly monitoring DAG starts a few hours ago without catchup, and unpausing it makes the
scheduler create the run of the latest complete hour (run type ``scheduled``). Its
``raise_alerts`` task POSTs the drift alert to an HTTP server started by this test, with
links built from the api-server's base URL; clearing the task re-runs it and sends nothing new.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.alerts.servers import WEBHOOK_CONN, WebhookServer
from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack

pytestmark = pytest.mark.stack

MONITORING = "email_engagement_monitoring"
NOW = datetime.now(UTC).replace(tzinfo=None)
HOUR = NOW.replace(minute=0, second=0, microsecond=0)
TODAY = HOUR.replace(hour=0)
SEED = (TODAY - timedelta(days=40), TODAY + timedelta(days=1))
CHAMPION = (SEED[0], SEED[0] + timedelta(days=20))
DRIFT_START = TODAY - timedelta(days=5)


@pytest.fixture(scope="module")
def webhook():
    with WebhookServer() as server:
        yield server


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url
    from tests.world import new_world

    alerts = {
        "renotify_hours": 24,
        "notify_backfills": False,
        "notification_retries": 1,
        "retry_delay_seconds": 1,
        "channels": [
            {"name": "task_log", "type": "log", "min_severity": "warning"},
            {"name": "chat", "type": "webhook", "conn_id": WEBHOOK_CONN, "min_severity": "warning"},
        ],
    }
    monitoring = {
        "start_date": (HOUR - timedelta(hours=3)).isoformat(),
        "catchup": False,
        "data_wait_minutes": 1,
        "label_wait_minutes": 2,
        "data_poke_seconds": 5,
        "label_poke_seconds": 5,
    }
    world = new_world(tmp_path_factory.mktemp("alerts-stack"), alerts=alerts, monitoring=monitoring)
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        *SEED,
        seed=51,
        sends_per_hour=30,
        scenario="covariate_shift",
        drift_start=DRIFT_START,
    )
    train_and_register(
        world.config,
        source,
        engine_for_url(world.registry_url),
        *CHAMPION,
        as_of=CHAMPION[1] + timedelta(hours=72),
    )
    return world


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, webhook, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world.source_url,
        registry_url=world.registry_url,
        config_path=world.config_path,
        home=tmp_path_factory.mktemp("stack-home"),
        extra_env={f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}": webhook.connection()},
    ) as started:
        yield started


@pytest.fixture(scope="module")
def api(stack):
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([MONITORING])
        yield client


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def alerts(world) -> list[dict]:
    engine = sa.create_engine(world.registry_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM mg_alerts"))]
    finally:
        engine.dispose()


def test_a_scheduled_runs_alert_reaches_the_webhook_and_a_cleared_task_sends_nothing_new(
    api, stack, world, webhook
):
    api.unpause(MONITORING)
    (run,) = wait_for(lambda: api.dag_runs(MONITORING), 180, "the scheduled run")
    assert run["run_type"] == "scheduled"
    assert run["data_interval_end"].startswith(HOUR.strftime("%Y-%m-%dT%H:%M"))
    run_id = run["dag_run_id"]
    assert api.wait_for_run(MONITORING, run_id, timeout=600) == "success"
    states = {t["task_id"]: t["state"] for t in api.task_instances(MONITORING, run_id)}
    assert states["raise_alerts"] == "success", states

    (body,) = wait_for(lambda: webhook.received, 30, "the webhook POST")
    assert "CRITICAL drift (dataset), new" in body["text"]
    assert f"{stack.base_url}/dags/{MONITORING}/runs/" in body["text"]
    assert f"{stack.base_url}/modelguard/models/email_engagement/report?" in body["text"]
    assert webhook.paths == ["/hooks/modelguard"]
    (alert,) = [a for a in alerts(world) if a["kind"] == "drift"]
    assert alert["status"] == "open" and alert["run_id"] == run_id

    xcom = expect(
        api.get(
            f"/api/v2/dags/{MONITORING}/dagRuns/{run_id}/taskInstances/raise_alerts/xcomEntries/return_value"
        ),
        200,
    )["value"]
    summary = json.loads(xcom) if isinstance(xcom, str) else xcom
    assert summary["stored"] is True
    assert {n["channel"]: n["status"] for n in summary["notifications"]} == {
        "task_log": "sent",
        "chat": "sent",
    }

    # clear raise_alerts: it runs again for the same interval and sends nothing new
    expect(
        api.post(
            f"/api/v2/dags/{MONITORING}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run_id,
                "task_ids": ["raise_alerts"],
                "only_failed": False,
            },
        ),
        200,
    )
    wait_for(
        lambda: (
            {t["task_id"]: t for t in api.task_instances(MONITORING, run_id)}["raise_alerts"][
                "try_number"
            ]
            >= 2
        ),
        60,
        "the cleared task's second try",
    )
    assert api.wait_for_run(MONITORING, run_id, timeout=300) == "success"
    time.sleep(3)
    assert len(webhook.received) == 1
    assert len([a for a in alerts(world) if a["kind"] == "drift"]) == 1
