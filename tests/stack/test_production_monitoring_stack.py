"""Production monitoring under the real stack: one monitoring DAG, five situations, real servers.

The stack world's timeline (``tests/stack/world.py``: quiet July, a new audience on 07-15, a
changed feature->engagement relation from 08-10, data until 09-20) with the alerts going to
an SMTP server (critical ones) and a webhook server (all) started here. Runs are triggered
through the REST API one after the other, as a person reprocessing intervals would:

1. healthy (07-05): decision healthy, a healthy health record, no alert, nothing sent;
2. covariate drift (07-16): retraining triggered, a critical drift alert mailed and posted;
3. concept drift (09-10): degraded performance and concept drift, mailed and posted;
4. label delay (09-20, outcomes of its label window withheld): the label checks record
   "missing", a warning posted but not mailed;
5. stale source: the scheduled run of the latest hour (the source ended 09-20): the health
   record says the source is stale, the run fails after data_wait_minutes, and the health
   alert is still mailed (raise_alerts is a teardown).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.alerts.servers import SMTP_CONN, WEBHOOK_CONN, SmtpServer, WebhookServer, body_text
from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.stack.world import CHAMPION, DEGRADED_RUN, SEED, SENDS_PER_HOUR, segments
from tests.world import EXAMPLE_CONFIG, write_config

pytestmark = pytest.mark.stack

MODEL = "email_engagement"
MONITORING = f"{MODEL}_monitoring"
HEALTHY = datetime(2026, 7, 5)
DRIFTED = datetime(2026, 7, 16)  # the window 07-15..07-16: the new audience
LABELS_LATE = datetime(2026, 9, 20)  # the last seeded day; its label window is after 09-10's
# The label window of the LABELS_LATE run: the week of sends ending label_delay_hours before it.
WITHHELD = (LABELS_LATE - timedelta(hours=72 + 168), LABELS_LATE - timedelta(hours=72))


@pytest.fixture(scope="module")
def servers():
    with SmtpServer() as smtp, WebhookServer() as hook:
        yield smtp, hook


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.config import load_config
    from modelguard.storage.source import engine_for_url

    root = tmp_path_factory.mktemp("production-world")
    health = yaml.safe_load(EXAMPLE_CONFIG.read_text())["monitoring"]["health"]
    config_path = write_config(
        root,
        retraining={"weighted_retraining": False, "sliding_window_months": 1},
        monitoring={
            "data_wait_minutes": 1,
            "label_wait_minutes": 1,
            # Pokes well apart: Airflow 3.3.2 fails a rescheduled sensor whose next try is
            # queued before the scheduler has processed the previous try's exit (seen here
            # with 5 s pokes on a busy machine: "finished with state success, but the task
            # instance's state attribute is queued").
            "data_poke_seconds": 25,
            "label_poke_seconds": 25,
            # the runs below jump between days: the hours between them have no decision
            "health": {**health, "recent_runs": 0},
        },
        alerts={
            "renotify_hours": 24,
            "notify_backfills": False,
            "notification_retries": 1,
            "retry_delay_seconds": 1,
            "channels": [
                {"name": "task_log", "type": "log", "min_severity": "warning"},
                {
                    "name": "oncall",
                    "type": "email",
                    "conn_id": SMTP_CONN,
                    "to": ["oncall@example.com"],
                    "min_severity": "critical",
                },
                {
                    "name": "chat",
                    "type": "webhook",
                    "conn_id": WEBHOOK_CONN,
                    "min_severity": "warning",
                },
            ],
        },
    )
    source_url = f"sqlite:///{root / 'source.db'}"
    registry_url = f"sqlite:///{root / 'registry.db'}"
    source = engine_for_url(source_url)
    for start, end, kwargs in segments():
        seed_source(source, start, end, seed=SEED, sends_per_hour=SENDS_PER_HOUR, **kwargs)
    with source.begin() as conn:  # outcomes that have not arrived (the label-delay case)
        conn.execute(
            sa.text(
                "UPDATE email_sends SET engaged = NULL, outcome_at = NULL "
                "WHERE sent_at >= :start AND sent_at < :end"
            ),
            {"start": WITHHELD[0].isoformat(" "), "end": WITHHELD[1].isoformat(" ")},
        )
    train_and_register(
        load_config(config_path),
        source,
        engine_for_url(registry_url),
        *CHAMPION,
        run_id="stack_bootstrap",
        as_of=CHAMPION[1] + timedelta(hours=72),
    )
    return {"config_path": config_path, "source_url": source_url, "registry_url": registry_url}


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, servers, tmp_path_factory):
    smtp, hook = servers
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world["source_url"],
        registry_url=world["registry_url"],
        config_path=world["config_path"],
        home=tmp_path_factory.mktemp("stack-home"),
        extra_env={
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "5",
            f"AIRFLOW_CONN_{SMTP_CONN.upper()}": smtp.connection(),
            f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}": hook.connection(),
        },
    ) as started:
        yield started


@pytest.fixture(scope="module")
def api(stack):
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([MONITORING])
        yield client


@pytest.fixture(scope="module")
def registry(world):
    engine = sa.create_engine(world["registry_url"], poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def scheduled_run(api):
    """Unpausing makes the scheduler start the latest hour's run (no catchup): today, far past
    the source's end. It runs beside the manual runs; test 5 reads its outcome."""
    api.unpause(MONITORING)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        runs = [r for r in api.dag_runs(MONITORING) if r["run_type"] == "scheduled"]
        if runs:
            return runs[0]
        time.sleep(2)
    raise TimeoutError("the scheduler created no run after the unpause")


# ---------------------------------------------------------------------------------- helpers


def run_at(api: StackClient, logical_date: datetime) -> tuple[str, dict[str, str]]:
    run_id = expect(api.trigger(MONITORING, logical_date=logical_date), 200)["dag_run_id"]
    state = api.wait_for_run(MONITORING, run_id, timeout=900)
    states = {t["task_id"]: t["state"] for t in api.task_instances(MONITORING, run_id)}
    assert state == "success", (state, states)
    return run_id, states


def xcom(api: StackClient, run_id: str, task_id: str) -> Any:
    value = expect(
        api.get(
            f"/api/v2/dags/{MONITORING}/dagRuns/{run_id}/taskInstances/{task_id}"
            "/xcomEntries/return_value"
        ),
        200,
    )["value"]
    return json.loads(value) if isinstance(value, str) else value


def rows(engine, table: str, **where: Any) -> list[dict]:
    clause = " AND ".join(f"{k} = :{k}" for k in where) or "1 = 1"
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {table} WHERE {clause}"), where)
        return [dict(r._mapping) for r in result]


def decision_of(engine, run_id: str) -> str:
    (decision,) = rows(engine, "mg_monitoring_decisions", run_id=run_id)
    return decision["decision"]


def health_of(engine, run_id: str) -> dict:
    (record,) = rows(engine, "mg_health_records", run_id=run_id)
    checks = record["checks"]
    checks = json.loads(checks) if isinstance(checks, str) else checks
    return {"status": record["status"], "failed": {c["name"] for c in checks if not c["ok"]}}


def alerts_seen_by(engine, run_id: str) -> dict[tuple[str, str], dict]:
    return {(a["kind"], a["key"]): a for a in rows(engine, "mg_alerts", run_id=run_id)}


def mails_about(smtp, end: datetime) -> list[str]:
    """Mail bodies about the interval ending at ``end`` (the scheduled run mails beside us)."""
    return [t for t in map(body_text, smtp.messages) if f"to {end:%Y-%m-%d %H:%M} UTC" in t]


def posts_about(hook, end: datetime) -> list[str]:
    return [b["text"] for b in hook.received if f"to {end:%Y-%m-%d %H:%M} UTC" in b["text"]]


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


# ------------------------------------------------------------------------------------ cases


def test_a_healthy_interval_records_health_and_sends_nothing(api, registry, servers, scheduled_run):
    smtp, hook = servers
    run_id, states = run_at(api, HEALTHY)
    assert decision_of(registry, run_id) == "healthy" and states["healthy"] == "success", states
    assert states["trigger_retraining"] == states["alert"] == "skipped", states
    assert states["check_health"] == states["raise_alerts"] == "success", states
    assert health_of(registry, run_id) == {"status": "healthy", "failed": set()}
    assert alerts_seen_by(registry, run_id) == {}
    assert xcom(api, run_id, "raise_alerts")["counts"]["conditions"] == 0
    # the champion's performance estimated from its scores, stored for the run's window
    estimate = xcom(api, run_id, "estimate_performance")
    assert estimate["status"] == "estimated" and not estimate["degraded"], estimate
    assert estimate["lower"] <= estimate["estimate"] <= estimate["upper"], estimate
    (row,) = rows(registry, "mg_performance_estimates", run_id=run_id)
    assert row["status"] == "estimated" and row["estimate"] == estimate["estimate"]
    time.sleep(2)
    assert mails_about(smtp, HEALTHY) == [] and posts_about(hook, HEALTHY) == []


def test_covariate_drift_retrains_and_its_critical_alert_is_mailed_and_posted(
    api, registry, servers
):
    smtp, hook = servers
    run_id, states = run_at(api, DRIFTED)
    assert decision_of(registry, run_id) == "retrain"
    assert states["trigger_retraining"] == "success", states
    assert health_of(registry, run_id)["status"] == "healthy"
    drift = alerts_seen_by(registry, run_id)[("drift", "dataset")]
    assert (drift["status"], drift["severity"]) == ("open", "critical")
    assert wait_until(lambda: mails_about(smtp, DRIFTED) and posts_about(hook, DRIFTED))
    (mail,) = mails_about(smtp, DRIFTED)
    (post,) = posts_about(hook, DRIFTED)
    assert "CRITICAL drift (dataset), new" in mail and "CRITICAL drift (dataset), new" in post
    sent = rows(registry, "mg_alert_notifications", alert_id=drift["alert_id"])
    assert {(n["channel"], n["event"], n["status"]) for n in sent} == {
        ("task_log", "opened", "sent"),
        ("oncall", "opened", "sent"),
        ("chat", "opened", "sent"),
    }


def test_concept_drift_and_degraded_performance_are_alerted(api, registry, servers):
    smtp, hook = servers
    run_id, states = run_at(api, DEGRADED_RUN)
    assert decision_of(registry, run_id) == "retrain"
    assert states["trigger_retraining"] == "success", states
    seen = alerts_seen_by(registry, run_id)
    kinds = {kind for kind, _key in seen}
    assert {"performance", "concept_drift"} <= kinds, seen
    assert any(a["severity"] == "critical" for a in seen.values())
    assert wait_until(lambda: mails_about(smtp, DEGRADED_RUN) and posts_about(hook, DEGRADED_RUN))
    (text,) = posts_about(hook, DEGRADED_RUN)
    assert "performance (" in text and "concept_drift (" in text, text


def test_labels_that_do_not_arrive_give_a_warning_posted_not_mailed(api, registry, servers):
    smtp, hook = servers
    run_id, states = run_at(api, LABELS_LATE)
    assert states["wait_for_labels"] == "skipped", states  # soft fail after label_wait_minutes
    missing = [
        a
        for (kind, key), a in alerts_seen_by(registry, run_id).items()
        if kind == "performance" and "labels_missing" in key
    ]
    assert [(a["severity"], a["status"]) for a in missing] == [("warning", "open")], missing
    assert wait_until(lambda: posts_about(hook, LABELS_LATE))
    (text,) = posts_about(hook, LABELS_LATE)
    assert "WARNING performance (labels_missing), new" in text, text
    time.sleep(2)
    assert mails_about(smtp, LABELS_LATE) == []  # warnings do not page the on-call mailbox


def test_a_stale_source_is_a_health_alert_even_though_the_run_fails(
    api, registry, servers, scheduled_run
):
    smtp, _hook = servers
    run_id = scheduled_run["dag_run_id"]
    state = api.wait_for_run(MONITORING, run_id, timeout=900)
    states = {t["task_id"]: t["state"] for t in api.task_instances(MONITORING, run_id)}
    assert state == "failed" and states["wait_for_data"] == "failed", (state, states)
    assert states["raise_alerts"] == "success", states  # a teardown: the run stays failed
    health = health_of(registry, run_id)
    assert health["status"] == "unhealthy" and "source_fresh" in health["failed"], health
    seen = alerts_seen_by(registry, run_id)
    fresh = seen[("health", "health:source_fresh")]
    assert (fresh["severity"], fresh["status"]) == ("critical", "open")
    assert wait_until(
        lambda: any("CRITICAL health (health:source_fresh)" in body_text(m) for m in smtp.messages),
        timeout=60,
    ), [m["Subject"] for m in smtp.messages]
