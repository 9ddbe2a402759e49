"""Airflow notifiers (``BaseNotifier``) that deliver modelguard's alert messages: to the task
log, by email through Airflow's SMTP provider, and to a Slack-compatible JSON webhook.
:func:`notifier_for` builds the one a configured channel (``alerts.channels``) needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import BaseNotifier

    from modelguard.alerts.messages import AlertMessage
    from modelguard.config import ChannelConfig

__all__ = ["notifier_for"]


def notifier_for(channel: ChannelConfig, message: AlertMessage, *, log: Any = None) -> BaseNotifier:
    """A fresh notifier of ``channel`` carrying ``message`` (call ``.notify(context)``)."""
    if channel.type == "email":
        from modelguard.notifications.email import email_notifier

        return email_notifier(channel, message)
    if channel.type == "webhook":
        from modelguard.notifications.webhook import WebhookAlertNotifier

        return WebhookAlertNotifier(
            webhook_conn_id=channel.conn_id, payload=message.slack_payload()
        )
    from modelguard.notifications.log import LogAlertNotifier

    return LogAlertNotifier(text=message.text, subject=message.subject, log=log)
