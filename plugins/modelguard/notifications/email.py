"""Email through Airflow's SMTP provider (``SmtpNotifier`` on an Airflow SMTP connection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from modelguard.alerts.messages import AlertMessage
    from modelguard.config import ChannelConfig


def email_notifier(channel: ChannelConfig, message: AlertMessage) -> SmtpNotifier:
    """The provider's notifier for one message to ``channel.to`` over ``channel.conn_id``.

    The sender is the connection's ``from_email`` extra, else Airflow's ``[email] from_email``.
    The message is set as is: the subject and body are not Jinja templates (``notify`` is
    called directly), so an alert text holding ``{{`` is sent as written.
    """
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    from airflow.sdk import conf

    return SmtpNotifier(
        to=list(channel.to or ()),
        from_email=conf.get("email", "from_email", fallback=None) or None,
        subject=message.subject,
        html_content=message.html,
        smtp_conn_id=channel.conn_id,
        custom_headers={"X-Modelguard-Model": message.model_name},
    )
