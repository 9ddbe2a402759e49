"""A one-off alert from another task (the approval-timeout path): stored, notified, left open
by monitoring, cleared on request; and the store down does not lose it."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from types import SimpleNamespace

from modelguard.alerts.conditions import AlertCondition
from modelguard.config import AlertsConfig, ChannelConfig, load_config
from modelguard.operators.alerts import raise_alert_from_context
from modelguard.storage.alerts import AlertStore
from modelguard.storage.source import engine_for_url
from tests.alerts.servers import WEBHOOK_CONN, WebhookServer
from tests.world import EXAMPLE_CONFIG

TIMEOUT = AlertCondition(
    "approval_timeout", "approval:v4", "warning", "nobody approved v4 within 24 h; not deployed"
)


def config(tmp_path):
    cfg = load_config(EXAMPLE_CONFIG)
    alerts = AlertsConfig(
        renotify_hours=24,
        notify_backfills=False,
        notification_retries=0,
        retry_delay_seconds=0,
        channels=(ChannelConfig("chat", "webhook", "warning", conn_id=WEBHOOK_CONN),),
    )
    storage = dataclasses.replace(cfg.storage, report_root=tmp_path / "reports")
    return dataclasses.replace(cfg, alerts=alerts, storage=storage)


def context(as_of: str, task_id="approval_timed_out"):
    return {
        "dag": SimpleNamespace(dag_id="email_engagement_retraining"),
        "task": SimpleNamespace(task_id=task_id, dag_id="email_engagement_retraining"),
        "run_id": "manual__1",
        "params": {"as_of": as_of},
        "data_interval_start": None,
        "data_interval_end": None,
        "dag_run": SimpleNamespace(run_type=SimpleNamespace(value="manual")),
    }


def test_a_one_off_alert_is_stored_notified_and_cleared_on_request(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_MODELGUARD_REGISTRY",
        json.dumps({"conn_type": "sqlite", "extra": {"sqlalchemy_url": url}}),
    )
    cfg = config(tmp_path)
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        summary = raise_alert_from_context(context("2026-07-20T00:00:00"), cfg, TIMEOUT)
        assert summary["stored"] and summary["changed"][0]["events"] == ["opened"]
        assert summary["interval"] == ["2026-07-20T00:00:00", "2026-07-20T00:00:00"]
        # raised again by a rerun: nothing new
        again = raise_alert_from_context(context("2026-07-20T00:00:00"), cfg, TIMEOUT)
        assert [c["events"] for c in again["changed"]] in ([], [[]])
        assert len(hook.received) == 1
        assert "WARNING approval_timeout (approval:v4), new" in hook.received[0]["text"]
        store = AlertStore(engine_for_url(url))
        (alert,) = store.list_alerts("email_engagement")
        assert (alert.status, alert.dag_id) == ("open", "email_engagement_retraining")

        cleared = raise_alert_from_context(
            context("2026-07-21T00:00:00", "deploy"), cfg, TIMEOUT, clear=True
        )
        assert cleared["changed"][0]["events"] == ["cleared"]
        assert len(hook.received) == 2
    (alert,) = store.list_alerts("email_engagement")
    assert (alert.status, alert.cleared_interval_end) == ("cleared", datetime(2026, 7, 21))


def test_a_one_off_alert_with_the_store_down_is_sent_and_spooled(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MODELGUARD_REGISTRY",
        json.dumps(
            {"conn_type": "sqlite", "extra": {"sqlalchemy_url": f"sqlite:///{tmp_path}/no/x.db"}}
        ),
    )
    cfg = config(tmp_path)
    with WebhookServer() as hook:
        monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN.upper()}", hook.connection())
        summary = raise_alert_from_context(context("2026-07-20T00:00:00"), cfg, TIMEOUT)
    assert summary["stored"] is False and "modelguard_registry" in summary["store_error"]
    assert summary["spooled"] and len(hook.received) == 1
