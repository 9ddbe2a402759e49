"""Real Airflow runs (dag.test) of email_engagement_monitoring with alerts going to a real SMTP
server and a real HTTP webhook server: healthy, covariate-drift, concept-drift and label-delay
intervals; a persisting condition is one episode, reminded only after renotify_hours; a rerun
sends nothing new; a clearing interval sends a clear notice; a failed run is still a failed run
and its alert says which task failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
import yaml

from modelguard.storage.alerts import AlertStore
from modelguard.storage.source import engine_for_url
from tests.alerts.servers import (
    SMTP_CONN,
    WEBHOOK_CONN,
    SmtpServer,
    WebhookServer,
    body_text,
    closed_port,
)
from tests.dags.conftest import forget_dag_runs, load_dag, task_states
from tests.world import DRIFTED_RUN, EXAMPLE_CONFIG, HEALTHY_RUN, SENDS_PER_HOUR, new_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"
MODEL = "email_engagement"
ALERTS = {
    "renotify_hours": 2,
    "notify_backfills": False,
    "notification_retries": 1,
    "retry_delay_seconds": 0.1,
    "channels": [
        {"name": "task_log", "type": "log", "min_severity": "warning"},
        {
            "name": "oncall",
            "type": "email",
            "conn_id": SMTP_CONN,
            "to": ["oncall@example.com"],
            "min_severity": "warning",
        },
        {"name": "chat", "type": "webhook", "conn_id": WEBHOOK_CONN, "min_severity": "warning"},
    ],
}
# A label delay is seen within a minute (the labels sensor then soft-fails).
EXAMPLE_HEALTH = yaml.safe_load(EXAMPLE_CONFIG.read_text())["monitoring"]["health"]
# These runs jump between days on purpose: the hours between them have no decision, which
# check_health's recent_runs would (rightly) report; these tests are about the other alerts.
MONITORING = {
    "label_wait_minutes": 1,
    "label_poke_seconds": 5,
    "health": {**EXAMPLE_HEALTH, "recent_runs": 0},
}


@pytest.fixture(scope="module")
def servers():
    with SmtpServer() as smtp, WebhookServer() as hook:
        yield smtp, hook


def _world(
    root,
    scenario: str,
    seed: int,
    drift_start: datetime,
    train=(datetime(2026, 6, 1), datetime(2026, 7, 1)),
):
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source

    world = new_world(root, alerts=ALERTS, monitoring=MONITORING)
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        datetime(2026, 6, 1),
        datetime(2026, 7, 20),
        seed=seed,
        sends_per_hour=SENDS_PER_HOUR,
        scenario=scenario,
        drift_start=drift_start,
        **({"magnitude": 1.5} if scenario == "concept_drift" else {}),
    )
    train_and_register(
        world.config,
        source,
        engine_for_url(world.registry_url),
        *train,
        as_of=train[1] + timedelta(hours=72),
    )
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db, servers):
    world = _world(
        tmp_path_factory.mktemp("alertworld"), "covariate_shift", 11, datetime(2026, 7, 10)
    )
    smtp, hook = servers
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        mp.setenv(f"AIRFLOW_CONN_{SMTP_CONN.upper()}", smtp.connection())
        mp.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        forget_dag_runs("email_engagement_retraining")
        yield world


@pytest.fixture
def received(servers):
    smtp, hook = servers
    smtp.messages.clear()
    hook.received.clear()
    return smtp, hook


def store(world) -> AlertStore:
    return AlertStore(engine_for_url(world.registry_url))


def xcom(dr, task_id: str):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dr.dag_id, run_id=dr.run_id, task_id=task_id, key="return_value")
            .one()
        )
        value = row.value
    return json.loads(value) if isinstance(value, str) else value


def run(dag, at: datetime):
    dr = dag.test(logical_date=at.replace(tzinfo=UTC))
    states = task_states(dr)
    assert states["raise_alerts"] == "success", states
    return dr, states


def test_a_healthy_interval_raises_nothing(world, received):
    dag = load_dag(DAG_ID)
    dr, states = run(dag, HEALTHY_RUN)
    assert str(dr.state) == "success" and states["healthy"] == "success"
    summary = xcom(dr, "raise_alerts")
    assert summary["stored"] is True and summary["counts"]["conditions"] == 0
    assert summary["interval"] == [
        (HEALTHY_RUN - timedelta(days=1)).isoformat(),
        HEALTHY_RUN.isoformat(),
    ]
    assert store(world).list_alerts(MODEL) == []
    smtp, hook = received
    assert smtp.messages == [] and hook.received == []
    assert len(store(world).observations(MODEL)) == 1


def test_persisting_drift_is_one_episode_reminded_after_renotify_hours_then_cleared(
    world, received
):
    smtp, hook = received
    dag = load_dag(DAG_ID)
    hours = [DRIFTED_RUN + timedelta(hours=h) for h in range(3)]

    dr, _ = run(dag, hours[0])
    summary = xcom(dr, "raise_alerts")
    assert [c["kind"] for c in summary["conditions"]] == ["drift"]
    assert summary["conditions"][0]["severity"] == "critical"
    assert summary["changed"][0]["events"] == ["opened"]
    assert {n["channel"]: n["status"] for n in summary["notifications"]} == {
        "task_log": "sent",
        "oncall": "sent",
        "chat": "sent",
    }
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"] == "[modelguard] email_engagement: 1 critical alert"
    body = body_text(mail)
    assert "<h3>CRITICAL drift (dataset), new</h3><p>dataset drift" in body
    assert "email_engagement v1" in body
    assert f"/dags/{DAG_ID}/runs/{quote(dr.run_id, safe='')}" in body
    assert f"/modelguard/models/{MODEL}/report?dag_id={DAG_ID}" in body
    assert len(hook.received) == 1 and "dataset drift" in hook.received[0]["text"]

    run(dag, hours[1])  # one hour later: the same episode, nobody told again
    assert len(smtp.messages) == 1 and len(hook.received) == 1
    dr2, _ = run(dag, hours[2])  # renotify_hours (2) later: a reminder
    assert len(smtp.wait_for(2)) == 2 and len(hook.received) == 2
    assert "still open" in hook.received[1]["text"]
    assert xcom(dr2, "raise_alerts")["changed"][0]["events"] == ["reminder"]

    (episode,) = store(world).list_alerts(MODEL)
    assert (episode.kind, episode.status, episode.severity) == ("drift", "open", "critical")
    assert (episode.first_interval_end, episode.last_interval_end) == (hours[0], hours[2])
    assert episode.run_id == dr2.run_id

    # a rerun of the newest interval: nothing new stored, nothing sent
    dr3, _ = run(dag, hours[2])
    again = xcom(dr3, "raise_alerts")
    # (the episode now names the newest run that saw it; no event, nothing sent)
    assert [c["events"] for c in again["changed"]] == [[]] and again["notifications"] == []
    assert len(smtp.messages) == 2 and len(hook.received) == 2
    assert len(store(world).list_alerts(MODEL)) == 1

    # the drift goes away (the days the next window reads are re-sent undrifted): cleared
    from email_engagement.generator import seed_source

    seed_source(
        engine_for_url(world.source_url),
        datetime(2026, 7, 14),
        datetime(2026, 7, 16),
        seed=11,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="none",
    )
    clearing = DRIFTED_RUN + timedelta(hours=3)
    dr4, _ = run(dag, clearing)
    assert xcom(dr4, "raise_alerts")["changed"][0]["events"] == ["cleared"]
    assert len(smtp.wait_for(3)) == 3 and len(hook.received) == 3
    assert smtp.messages[-1]["Subject"] == "[modelguard] email_engagement: 1 cleared alert"
    assert "CRITICAL drift (dataset), cleared" in hook.received[-1]["text"]
    (episode,) = store(world).list_alerts(MODEL)
    assert (episode.status, episode.cleared_interval_end) == ("cleared", clearing)
    events = [(n.event, n.channel, n.status) for n in store(world).notifications(episode.alert_id)]
    assert events == [
        (event, channel, "sent")
        for event in ("opened", "reminder", "cleared")
        for channel in ("task_log", "oncall", "chat")
    ]


def test_a_label_delay_is_a_warning_and_leaves_performance_unjudged(world, received):
    smtp, hook = received
    at = datetime(2026, 7, 18)  # after the drift intervals; its matured week ends 07-15
    with engine_for_url(world.source_url).begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE email_sends SET outcome_at = datetime(outcome_at, '+10 days') "
                "WHERE sent_at >= '2026-07-08' AND sent_at < '2026-07-15'"
            )
        )
    dag = load_dag(DAG_ID)
    dr, states = run(dag, at)
    assert states["wait_for_labels"] == "skipped", states
    summary = xcom(dr, "raise_alerts")
    assert {"kind": "performance", "key": "labels_missing", "severity": "warning"} in (
        summary["conditions"]
    )
    missing = [a for a in store(world).list_alerts(MODEL, status="open") if a.kind == "performance"]
    assert [(a.key, a.severity) for a in missing] == [("labels_missing", "warning")]
    assert "labels missing" in missing[0].message
    mail = smtp.wait_for(1)[-1]
    assert "WARNING performance (labels_missing), new</h3>" in body_text(mail)
    (observation,) = [o for o in store(world).observations(MODEL) if o.interval_end == at]
    assert observation.assessment.judges("performance", "labels_missing")
    assert not observation.assessment.judges("performance", "degradation")
    assert not observation.assessment.judges("concept_drift", "relation")


def test_a_failed_run_stays_failed_and_its_alert_names_the_task(world, received, monkeypatch):
    """Also with the SMTP server down: the mail is recorded failed, the task succeeds."""
    smtp, hook = received
    monkeypatch.setenv(f"AIRFLOW_CONN_{SMTP_CONN.upper()}", smtp.connection(port=closed_port()))
    at = datetime(2026, 7, 25)  # no data: the source ends on 07-20
    dag = load_dag(DAG_ID)
    for task in dag.tasks:
        task.retries = 0
    dag.get_task("wait_for_data").timeout = 1
    dag.get_task("wait_for_data").poke_interval = 1
    dr = dag.test(logical_date=at.replace(tzinfo=UTC))
    states = task_states(dr)
    assert str(dr.state) == "failed", states  # raise_alerts (a teardown) does not hide it
    assert states["wait_for_data"] == "failed" and states["raise_alerts"] == "success", states
    summary = xcom(dr, "raise_alerts")
    assert {"kind": "health", "key": "health:monitoring_tasks", "severity": "critical"} in (
        summary["conditions"]
    )
    assert any("wait_for_data (failed)" in b["text"] for b in hook.received)
    outcome = {n["channel"]: n for n in summary["notifications"]}
    assert outcome["oncall"]["status"] == "failed" and outcome["oncall"]["attempts"] == 2
    assert "refused" in outcome["oncall"]["error"].lower()
    assert outcome["chat"]["status"] == "sent" and smtp.messages == []
    (alert,) = [a for a in store(world).list_alerts(MODEL) if a.key == "health:monitoring_tasks"]
    mails = [n for n in store(world).notifications(alert.alert_id) if n.channel == "oncall"]
    assert [(n.status, n.attempts) for n in mails] == [("failed", 2)]


# ------------------------------------------------------------------ concept drift (runs last)


@pytest.fixture(scope="module")
def concept_world(tmp_path_factory, airflow_db, servers):
    """The feature->engagement relation changes on 07-01; the champion knows June only."""
    world = _world(
        tmp_path_factory.mktemp("conceptworld"),
        "concept_drift",
        21,
        datetime(2026, 7, 1),
        train=(datetime(2026, 6, 1), datetime(2026, 6, 1, 12)),
    )
    smtp, hook = servers
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        mp.setenv(f"AIRFLOW_CONN_{SMTP_CONN.upper()}", smtp.connection())
        mp.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        forget_dag_runs("email_engagement_retraining")
        yield world


def test_concept_drift_is_a_warning_alert_while_performance_holds(concept_world, received):
    smtp, hook = received
    at = datetime(2026, 7, 20)
    dr, states = run(load_dag(DAG_ID), at)
    assert states["detect_concept_drift"] == "success", states
    summary = xcom(dr, "raise_alerts")
    assert {"kind": "concept_drift", "key": "relation", "severity": "warning"} in (
        summary["conditions"]
    )
    (alert,) = [a for a in store(concept_world).list_alerts(MODEL) if a.kind == "concept_drift"]
    assert alert.status == "open" and "relation changed in" in alert.message
    assert alert.details["decision"]["verdict"] == "retrain"
    (body,) = hook.received
    assert "WARNING concept_drift (relation), new" in body["text"]
    assert len(smtp.wait_for(1)) == 1
    forget_dag_runs("email_engagement_retraining")
