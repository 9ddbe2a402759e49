"""Notifications reach real local servers: a mail received by an SMTP server (aiosmtpd), a
JSON body received by an HTTP server; and with either one down, the notification is retried,
recorded as failed with the error, and the alert record is kept."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from modelguard.alerts.conditions import AlertCondition, Assessment
from modelguard.alerts.messages import Notice, compose
from modelguard.config import AlertsConfig, ChannelConfig, load_config
from modelguard.core.window import Window
from modelguard.notifications import notifier_for
from modelguard.notifications.webhook import webhook_url
from modelguard.pipelines.alerting import AlertRun, raise_alerts
from modelguard.storage.alerts import AlertStore
from tests.alerts.servers import (
    SMTP_CONN,
    WEBHOOK_CONN,
    SmtpServer,
    WebhookServer,
    body_text,
    closed_port,
    smtp_connection,
    webhook_connection,
)
from tests.world import EXAMPLE_CONFIG

END = datetime(2026, 7, 15)
EMAIL = ChannelConfig("oncall", "email", "warning", conn_id=SMTP_CONN, to=("oncall@example.com",))
WEBHOOK = ChannelConfig("chat", "webhook", "warning", conn_id=WEBHOOK_CONN)
LOG = ChannelConfig("task_log", "log", "warning")


def config_with(*channels, retries=2, delay=0.01):
    cfg = load_config(EXAMPLE_CONFIG)
    alerts = AlertsConfig(
        renotify_hours=24,
        notify_backfills=False,
        notification_retries=retries,
        retry_delay_seconds=delay,
        channels=tuple(channels),
    )
    return dataclasses.replace(cfg, alerts=alerts)


def run_at(end=END, **kwargs) -> AlertRun:
    return AlertRun(
        dag_id="email_engagement_monitoring",
        run_id=f"scheduled__{end:%Y-%m-%dT%H:%M}",
        interval=Window(end - timedelta(hours=24), end),
        base_url="http://airflow.example",
        model_version_id=1,
        model_version="v1",
        **kwargs,
    )


DRIFT = AlertCondition("drift", "dataset", "critical", "dataset drift: company_size (PSI 0.41)")
HEALTH = AlertCondition("health", "health:source_fresh", "warning", "newest row is 5 h old")
ASSESSMENT = Assessment((DRIFT, HEALTH), (("drift", "dataset"), ("health", "*")))


def notice(severity="critical", event="opened", kind="drift") -> Notice:
    return Notice(
        event=event,
        kind=kind,
        key="dataset",
        severity=severity,
        message=f"{kind} {severity}",
        model_name="email_engagement",
        model_version="v1",
        dag_id="d",
        interval_start=END - timedelta(days=1),
        interval_end=END,
        report_url="http://airflow.example/modelguard/models/email_engagement/report?x=1",
        run_url="http://airflow.example/dags/d/runs/r",
        alert_id=7,
    )


@pytest.fixture
def sleeps():
    return []


def alerts(config, engine, sleeps, run=None, assessment=ASSESSMENT):
    return raise_alerts(
        config=config,
        registry_engine=engine,
        assessment=assessment,
        run=run or run_at(),
        sleep=sleeps.append,
    )


def test_one_message_per_model_critical_first_with_links():
    message = compose(
        "email_engagement",
        [notice("warning", kind="health"), notice("critical", "cleared"), notice("critical")],
    )
    assert (
        message.subject == "[modelguard] email_engagement: 1 critical, 1 warning, 1 cleared alerts"
    )
    heads = [n.headline() for n in message.notices]
    assert heads == [
        "CRITICAL drift (dataset), new",
        "CRITICAL drift (dataset), cleared",
        "WARNING health (dataset), new",
    ]
    assert (
        "report: http://airflow.example/modelguard/models/email_engagement/report" in message.text
    )
    assert "run: http://airflow.example/dags/d/runs/r" in message.text
    assert "email_engagement v1" in message.text
    payload = message.slack_payload()
    assert payload["text"] == message.text and payload["blocks"][0]["type"] == "header"
    assert "<http://airflow.example/dags/d/runs/r|run>" in payload["blocks"][1]["text"]["text"]


def test_the_email_reaches_a_real_smtp_server(monkeypatch, sqlite_engine, sleeps):
    with SmtpServer() as smtp:
        monkeypatch.setenv(f"AIRFLOW_CONN_{SMTP_CONN.upper()}", smtp.connection())
        result = alerts(config_with(EMAIL), sqlite_engine, sleeps)
        (mail,) = smtp.wait_for(1)
    assert mail["Subject"] == "[modelguard] email_engagement: 1 critical, 1 warning alerts"
    assert mail["To"] == "oncall@example.com" and mail["From"] == "modelguard@example.com"
    assert mail["X-Modelguard-Model"] == "email_engagement"
    body = body_text(mail)
    assert body.index("CRITICAL drift") < body.index("WARNING health")
    assert "company_size (PSI 0.41)" in body
    assert "http://airflow.example/dags/email_engagement_monitoring/runs/" in body
    assert "/modelguard/models/email_engagement/report?dag_id=email_engagement_monitoring" in body
    assert result.stored and sleeps == []
    assert result.notifications == [
        {"channel": "oncall", "status": "sent", "attempts": 1, "error": None, "notices": 2}
    ]
    rows = AlertStore(sqlite_engine).notifications()
    assert [(n.channel, n.status, n.attempts) for n in rows] == [("oncall", "sent", 1)] * 2


def test_the_webhook_reaches_a_real_http_server(monkeypatch, sqlite_engine, sleeps):
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        result = alerts(config_with(WEBHOOK), sqlite_engine, sleeps)
    (body,) = hook.received
    assert hook.paths == ["/hooks/modelguard"]
    assert body["text"].startswith("CRITICAL drift (dataset), new: dataset drift")
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) == 2 and sections[0].startswith("*CRITICAL drift")
    assert "|report>" in sections[0] and "|run>" in sections[0]
    assert result.notifications[0]["status"] == "sent"


@pytest.mark.parametrize("channel", [EMAIL, WEBHOOK], ids=["smtp", "webhook"])
def test_a_server_that_is_down_is_retried_then_recorded_failed(
    monkeypatch, sqlite_engine, sleeps, channel
):
    port = closed_port()
    conn = smtp_connection(port) if channel.type == "email" else webhook_connection(port)
    monkeypatch.setenv(f"AIRFLOW_CONN_{channel.conn_id.upper()}", conn)
    result = alerts(config_with(channel, LOG, retries=2, delay=0.5), sqlite_engine, sleeps)
    assert sleeps == [0.5, 0.5]  # two retries, retry_delay_seconds apart
    by_channel = {n["channel"]: n for n in result.notifications}
    assert by_channel[channel.name]["status"] == "failed"
    assert by_channel[channel.name]["attempts"] == 3
    assert "refused" in by_channel[channel.name]["error"].lower()
    assert by_channel["task_log"]["status"] == "sent"  # the other channel is not held up
    store = AlertStore(sqlite_engine)
    assert {(a.kind, a.status) for a in store.list_alerts("email_engagement")} == {
        ("drift", "open"),
        ("health", "open"),
    }
    failed = [n for n in store.notifications() if n.channel == channel.name]
    assert {(n.status, n.attempts) for n in failed} == {("failed", 3)}
    assert "refused" in failed[0].error.lower()

    # the server is back and the interval is rerun: only the failed notification is sent
    sleeps.clear()
    with SmtpServer() if channel.type == "email" else WebhookServer() as server:
        monkeypatch.setenv(f"AIRFLOW_CONN_{channel.conn_id.upper()}", server.connection())
        again = alerts(config_with(channel, LOG), sqlite_engine, sleeps)
        received = server.wait_for(1) if channel.type == "email" else server.received
    assert len(received) == 1
    assert [n["channel"] for n in again.notifications] == [channel.name]
    assert {n.status for n in store.notifications()} == {"sent"}
    assert [n.attempts for n in store.notifications() if n.channel == channel.name] == [4, 4]


def test_a_webhook_answering_an_error_is_a_failure(monkeypatch, sqlite_engine, sleeps):
    with WebhookServer(status=500) as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        result = alerts(config_with(WEBHOOK, retries=1), sqlite_engine, sleeps)
    assert len(hook.received) == 2
    (n,) = result.notifications
    assert n["status"] == "failed" and "answered 500" in n["error"]


def test_channels_take_only_their_severity_and_a_backfill_is_suppressed(
    monkeypatch, sqlite_engine, sleeps
):
    pager = dataclasses.replace(WEBHOOK, min_severity="critical")
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        alerts(config_with(pager), sqlite_engine, sleeps)
        (body,) = hook.received
        assert "health" not in body["text"] and "CRITICAL drift" in body["text"]
        later = run_at(END + timedelta(days=3), backfill=True)
        cleared = alerts(
            config_with(pager),
            sqlite_engine,
            sleeps,
            run=later,
            assessment=Assessment((), ASSESSMENT.judged),
        )
    assert len(hook.received) == 1  # the backfill's clear notice is recorded, not sent
    assert cleared.notifications == [
        {
            "channel": "chat",
            "status": "suppressed",
            "attempts": 0,
            "error": "backfill: not sent (alerts.notify_backfills is false)",
            "notices": 1,
        }
    ]
    statuses = [(n.event, n.status) for n in AlertStore(sqlite_engine).notifications()]
    assert statuses == [("opened", "sent"), ("cleared", "suppressed")]


def test_an_unreachable_store_still_notifies_and_spools(monkeypatch, tmp_path, sleeps):
    import sqlalchemy as sa

    config = config_with(WEBHOOK)
    config = dataclasses.replace(
        config, storage=dataclasses.replace(config.storage, report_root=tmp_path / "reports")
    )
    down = sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        result = alerts(config, down, sleeps)
        assert not result.stored and "OperationalError" in result.store_error
        (body,) = hook.received
        assert body["text"].startswith("The alert store could not record these alerts")
        spool = tmp_path / "reports" / "email_engagement" / "alerts-spool"
        assert [p.name for p in spool.iterdir()] == [
            "email_engagement_monitoring__raise_alerts__2026-07-14T000000_2026-07-15T000000.json"
        ]
        assert result.to_xcom()["spooled"].endswith(".json")

        # the store is back: the next run imports the spool first and sends nothing twice
        up = sa.create_engine(f"sqlite:///{tmp_path / 'registry.db'}")
        nxt = alerts(config, up, sleeps, run=run_at(END + timedelta(hours=1)))
        assert nxt.stored and nxt.spool_imported == 1 and list(spool.iterdir()) == []
        assert len(hook.received) == 1  # the open episodes were already told
    store = AlertStore(up)
    assert {(a.kind, a.first_interval_end) for a in store.list_alerts("email_engagement")} == {
        ("drift", END),
        ("health", END),
    }
    rows = store.notifications()
    assert [(n.event, n.status) for n in rows] == [("opened", "sent")] * 2
    assert "unreachable" in rows[0].error


def test_the_webhook_url_of_an_http_connection():
    from airflow.sdk import Connection

    def url(**fields):
        return webhook_url(Connection(conn_id="c", conn_type="http", **fields))

    assert url(host="https://hooks.slack.com", extra='{"endpoint": "/services/T/B/X"}') == (
        "https://hooks.slack.com/services/T/B/X"
    )
    assert url(host="localhost", port=8080, schema="hook") == "http://localhost:8080/hook"
    assert url(host="example.com", schema="https") == "https://example.com"


def test_the_log_channel_writes_the_message(caplog):
    import logging

    message = compose("email_engagement", [notice()])
    with caplog.at_level(logging.WARNING, logger="modelguard.alerts"):
        notifier_for(LOG, message).notify({})
    assert "[modelguard] email_engagement: 1 critical alert" in caplog.text
    assert "CRITICAL drift (dataset), new" in caplog.text


def test_a_report_folder_that_cannot_be_written_is_reported(monkeypatch, tmp_path, sleeps):
    import sqlalchemy as sa

    blocker = tmp_path / "reports"
    blocker.write_text("a file where the report folder should be")
    config = config_with(WEBHOOK)
    config = dataclasses.replace(
        config, storage=dataclasses.replace(config.storage, report_root=blocker)
    )
    down = sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'x.db'}")
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        result = alerts(config, down, sleeps)
    assert len(hook.received) == 1  # still told
    summary = result.to_xcom()
    assert summary["stored"] is False and summary["spooled"] is None
    assert (
        "NotADirectoryError" in summary["spool_error"]
        or "FileExistsError" in summary["spool_error"]
    )
    assert "NOT STORED" in result.summary()
