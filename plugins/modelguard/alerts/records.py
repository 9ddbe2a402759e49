"""The alert vocabulary shared by the monitoring tasks, the store, the report and the page.

An *episode* is one condition (``kind`` + ``key`` of one model) from the interval it was first
seen until the interval it cleared in; it is one :class:`AlertRecord` however many runs see it.
Each message sent about it is one :class:`NotificationRecord`. Times named ``*_interval_end``
are data time (the monitoring interval's end), so reruns and backfills give the same episodes;
``attempted_at`` of a notification is wall-clock time, because it records a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# kinds: what kind of condition an episode is about
DRIFT = "drift"
PERFORMANCE = "performance"
CONCEPT_DRIFT = "concept_drift"
HEALTH = "health"
APPROVAL_TIMEOUT = "approval_timeout"
ESTIMATED_PERFORMANCE = "estimated_performance"  # estimated from scores, before labels mature
ALERT_KINDS = (DRIFT, PERFORMANCE, CONCEPT_DRIFT, HEALTH, APPROVAL_TIMEOUT, ESTIMATED_PERFORMANCE)

# severities, most severe first (the order alerts are listed and grouped in)
CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

# episode status
OPEN = "open"
CLEARED = "cleared"
ALERT_STATUSES = (OPEN, CLEARED)

# notification events and outcomes
OPENED = "opened"
REMINDER = "reminder"
ESCALATED = "escalated"
CLEARED_NOTICE = "cleared"
NOTIFICATION_EVENTS = (OPENED, REMINDER, ESCALATED, CLEARED_NOTICE)
SENT = "sent"
FAILED = "failed"
SUPPRESSED = "suppressed"  # e.g. a backfill, which records alerts but pages nobody
NOTIFICATION_STATUSES = (SENT, FAILED, SUPPRESSED)


def severity_rank(severity: str) -> int:
    """0 for the most severe; sorts alerts critical first."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class AlertRecord:
    """One stored alert episode of one model."""

    alert_id: int
    model_name: str
    kind: str
    key: str  # the condition within its kind, e.g. "dataset" or "health:source_fresh"
    severity: str  # the highest severity seen in the episode
    status: str
    message: str  # the newest message
    dag_id: str
    first_interval_start: datetime
    first_interval_end: datetime
    last_interval_end: datetime  # newest interval the condition was seen in
    cleared_interval_end: datetime | None
    model_version_id: int | None
    run_id: str | None  # the newest run that saw it
    run_url: str | None
    report_uri: str | None
    details: dict[str, Any] = field(default_factory=dict)
    last_notified_interval_end: datetime | None = None
    created_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO times), for XCom, the report and the page's API."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class NotificationRecord:
    """One attempt to tell people about an episode on one channel (after its retries)."""

    notification_id: int
    alert_id: int
    event: str
    channel: str
    status: str
    attempts: int
    error: str | None
    interval_end: datetime  # the monitoring interval that caused it (data time)
    attempted_at: datetime  # wall clock of the last attempt

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out
