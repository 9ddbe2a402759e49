"""Alert episodes and their notifications, stored with SQLAlchemy Core (SQLite and PostgreSQL).

``mg_alerts``
    One row per episode (:class:`~modelguard.alerts.records.AlertRecord`). At most one *open*
    episode per (model_name, kind, key).
``mg_alert_notifications``
    One row per notification event and channel of an episode, with its outcome (sent, failed
    after its retries, suppressed), so a failed delivery is never a lost alert.

The read API here is what the report, the page and the CLI use; the monitoring task's writes
(open, refresh, clear, record a notification) live beside it.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from modelguard.alerts.records import (
    OPEN,
    SEVERITIES,
    AlertRecord,
    NotificationRecord,
)
from modelguard.storage.db import JSONText, UTCDateTime, metadata, optional_naive_utc

__all__ = ["AlertStore", "alert_notifications_table", "alerts_table"]

alerts_table = sa.Table(
    "mg_alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("first_interval_start", UTCDateTime, nullable=False),
    sa.Column("first_interval_end", UTCDateTime, nullable=False, index=True),
    sa.Column("last_interval_end", UTCDateTime, nullable=False),
    sa.Column("cleared_interval_end", UTCDateTime, nullable=True),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("run_url", sa.Text, nullable=True),
    sa.Column("report_uri", sa.Text, nullable=True),
    sa.Column("details", JSONText, nullable=False),
    sa.Column("last_notified_interval_end", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

alert_notifications_table = sa.Table(
    "mg_alert_notifications",
    metadata,
    sa.Column("notification_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "alert_id",
        sa.Integer,
        sa.ForeignKey("mg_alerts.alert_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("interval_end", UTCDateTime, nullable=False),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
)

_TABLES = [alerts_table, alert_notifications_table]


def _alert(row) -> AlertRecord:
    values = dict(row._mapping)
    values["details"] = values.get("details") or {}
    return AlertRecord(**values)


def _notification(row) -> NotificationRecord:
    return NotificationRecord(**dict(row._mapping))


class AlertStore:
    """Alert episodes of every model. The constructor does no I/O; call :meth:`ensure_schema`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        """Create the alert tables if they do not exist (idempotent)."""
        metadata.create_all(self.engine, tables=_TABLES, checkfirst=True)

    # ------------------------------------------------------------------ reads

    def list_alerts(
        self,
        model_name: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[AlertRecord]:
        """Episodes that overlap [since, until) in data time (open ones reach to the present),
        most severe first, then newest first."""
        t = alerts_table
        query = sa.select(t)
        if model_name is not None:
            query = query.where(t.c.model_name == model_name)
        if status is not None:
            query = query.where(t.c.status == status)
        since, until = optional_naive_utc(since), optional_naive_utc(until)
        if until is not None:
            query = query.where(t.c.first_interval_end <= until)
        if since is not None:
            query = query.where(
                sa.or_(
                    t.c.status == OPEN,
                    sa.func.coalesce(t.c.cleared_interval_end, t.c.last_interval_end) >= since,
                )
            )
        rank = sa.case({s: i for i, s in enumerate(SEVERITIES)}, value=t.c.severity, else_=99)
        query = query.order_by(t.c.model_name, rank, t.c.last_interval_end.desc(), t.c.alert_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_alert(r) for r in conn.execute(query)]

    def get_alert(self, alert_id: int) -> AlertRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(alerts_table).where(alerts_table.c.alert_id == alert_id)
            ).first()
        return _alert(row) if row is not None else None

    def notifications(self, alert_id: int | None = None) -> list[NotificationRecord]:
        """Notifications in the order they were recorded (of one episode, or all)."""
        t = alert_notifications_table
        query = sa.select(t).order_by(t.c.notification_id)
        if alert_id is not None:
            query = query.where(t.c.alert_id == alert_id)
        with self.engine.connect() as conn:
            return [_notification(r) for r in conn.execute(query)]
