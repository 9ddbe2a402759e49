"""Alert episodes and their notifications, stored with SQLAlchemy Core (SQLite and PostgreSQL).

``mg_alerts``
    One row per episode (:class:`~modelguard.alerts.records.AlertRecord`). At most one *open*
    episode per (model_name, kind, key).
``mg_alert_notifications``
    One row per notification event and channel of an episode, with its outcome (sent, failed
    after its retries, suppressed), so a failed delivery is never a lost alert.
``mg_alert_observations``
    One row per (model, DAG, judging task, interval): the conditions that interval showed and
    the scopes it judged (:class:`~modelguard.alerts.conditions.Assessment`). Episodes are the
    replay of these rows in data time (:mod:`modelguard.alerts.episodes`), so a rerun replaces
    its row and changes nothing else, and runs that arrive out of order (a backfill, concurrent
    runs) give the episodes an in-order run would.

The read API here is what the report, the page and the CLI use; the alert task's writes
(:meth:`AlertStore.record_observation`, then :meth:`AlertStore.finish_notifications` once the
messages went out) live beside it. Every write of a model's episodes holds the model's lock
(``alerts:<model>``, :func:`modelguard.storage.db.lock`), so concurrent runs see each other's
episodes and there is at most one open episode per (model, kind, key); a partial unique index
holds that too.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from modelguard.alerts.conditions import Assessment
from modelguard.alerts.episodes import EpisodeChange, Observation, anchor, in_tail, plan_episodes
from modelguard.alerts.records import (
    FAILED,
    NOTIFICATION_STATUSES,
    OPEN,
    SEVERITIES,
    AlertRecord,
    NotificationRecord,
)
from modelguard.exceptions import StoreError
from modelguard.storage.db import (
    JSONText,
    UTCDateTime,
    add_missing_columns,
    ensure_lock,
    lock,
    locks_table,
    metadata,
    optional_naive_utc,
    to_naive_utc,
    utcnow,
)
from modelguard.storage.ids import check_optional_version_id

__all__ = [
    "NOT_DELIVERED",
    "AlertStore",
    "Delivery",
    "RecordedInterval",
    "alert_notifications_table",
    "alert_observations_table",
    "alerts_table",
]

NOT_DELIVERED = (
    "not delivered yet: the alert task stopped before it could send this (a rerun of the "
    "interval tries again)"
)
"""The error of a notification row between its episode's write and its delivery."""

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
    # which observation caused it (a rerun of that interval retries a failed delivery)
    sa.Column("dag_id", sa.String(250), nullable=True),
    sa.Column("source", sa.String(250), nullable=True),
)

# At most one open episode per condition, whatever writes (the lock already serialises ours).
open_episode_index = sa.Index(
    "uq_mg_alerts_open_episode",
    alerts_table.c.model_name,
    alerts_table.c.kind,
    alerts_table.c.key,
    unique=True,
    sqlite_where=alerts_table.c.status == OPEN,
    postgresql_where=alerts_table.c.status == OPEN,
)

alert_observations_table = sa.Table(
    "mg_alert_observations",
    metadata,
    sa.Column("model_name", sa.String(200), primary_key=True),
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("source", sa.String(250), primary_key=True),
    sa.Column("interval_start", UTCDateTime, primary_key=True),
    sa.Column("interval_end", UTCDateTime, primary_key=True, index=True),
    sa.Column("assessment", JSONText, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("run_url", sa.Text, nullable=True),
    sa.Column("report_uri", sa.Text, nullable=True),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("backfill", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

_TABLES = [alerts_table, alert_notifications_table, alert_observations_table, locks_table]
_WRITE_ATTEMPTS = 3


def _alert(row) -> AlertRecord:
    values = dict(row._mapping)
    values["details"] = values.get("details") or {}
    return AlertRecord(**values)


def _notification(row) -> NotificationRecord:
    values = dict(row._mapping)
    values.pop("dag_id", None)
    values.pop("source", None)
    return NotificationRecord(**values)


def _observation(row) -> Observation:
    r = row._mapping
    return Observation(
        dag_id=r["dag_id"],
        source=r["source"],
        interval_start=r["interval_start"],
        interval_end=r["interval_end"],
        assessment=Assessment.from_dict(r["assessment"] or {}),
        run_id=r["run_id"],
        run_url=r["run_url"],
        report_uri=r["report_uri"],
        model_version_id=r["model_version_id"],
    )


def _normalised(obs: Observation) -> Observation:
    from dataclasses import replace

    start, end = to_naive_utc(obs.interval_start), to_naive_utc(obs.interval_end)
    if start > end:  # an instant (start == end) is fine: a one-off alert of a manual run
        raise StoreError(
            f"observation of {obs.dag_id!r}: interval start {start} is after its end {end}"
        )
    version_id = check_optional_version_id(obs.model_version_id, "observation.model_version_id")
    return replace(obs, interval_start=start, interval_end=end, model_version_id=version_id)


@dataclass(frozen=True)
class Delivery:
    """One notification row waiting to be sent: its episode (as stored) and event."""

    notification_id: int
    alert: AlertRecord
    event: str
    channel: str


@dataclass(frozen=True)
class RecordedInterval:
    """What :meth:`AlertStore.record_observation` wrote: the episodes it changed with their
    events, and the notifications to deliver now (new ones and failed ones of a rerun)."""

    changed: list[tuple[AlertRecord, tuple[str, ...]]]
    deliveries: list[Delivery]


class AlertStore:
    """Alert episodes of every model. The constructor does no I/O; call :meth:`ensure_schema`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        """Create the alert tables if they do not exist, add what a store created by an
        earlier release lacks (idempotent; stored rows are kept)."""
        metadata.create_all(self.engine, tables=_TABLES, checkfirst=True)
        add_missing_columns(self.engine, alert_notifications_table)
        open_episode_index.create(self.engine, checkfirst=True)

    # ------------------------------------------------------------------ writes

    def _locked(self, model_name: str, work):
        """``work(conn)`` in one transaction holding the model's alert lock."""
        name = f"alerts:{model_name}"
        ensure_lock(self.engine, name)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    lock(conn, name)
                    return work(conn)
            except sa.exc.IntegrityError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def record_observation(
        self,
        model_name: str,
        observation: Observation,
        *,
        renotify_hours: float,
        channels: Mapping[str, str],
        preset: Mapping[str, tuple[str, str | None]] | None = None,
        backfill: bool = False,
    ) -> RecordedInterval:
        """Store what one interval observed and bring the model's episodes up to date.

        One transaction under the model's lock: the observation replaces the one of the same
        (DAG, source, interval); the episodes it can change are replayed
        (:func:`~modelguard.alerts.episodes.plan_episodes`) and written; each event gets one
        notification row per channel that takes its severity (``channels``: name ->
        ``min_severity``). Those rows are ``failed`` with :data:`NOT_DELIVERED` until
        :meth:`finish_notifications` records the outcome, unless ``preset`` gives the outcome
        now (channel -> (status, error): ``suppressed`` for a backfill, or what was sent while
        the store was down). The deliveries returned are the new rows and the failed rows of
        earlier runs of the same interval, so a rerun retries a failed notification and never
        re-sends a sent one.
        """
        obs = _normalised(observation)
        for status, _ in (preset or {}).values():
            if status not in NOTIFICATION_STATUSES:
                raise StoreError(
                    f"notification status {status!r} is not one of "
                    f"{', '.join(NOTIFICATION_STATUSES)}"
                )

        def work(conn: Connection) -> RecordedInterval:
            previous = self._get_observation(conn, model_name, obs)
            stored = in_tail(
                self._open_or_recent(conn, model_name, obs.interval_end), obs.interval_end
            )
            since = anchor(obs.interval_end, stored)
            pool = self._observations(conn, model_name, since)
            changes = plan_episodes(
                model_name=model_name,
                current=obs,
                previous=previous,
                observations=pool,
                stored=stored,
                renotify_hours=renotify_hours,
            )
            self._put_observation(conn, model_name, obs, backfill)
            changed = [(self._apply(conn, c), c.events) for c in changes]
            now = utcnow()
            for record, events in changed:
                for event in events:
                    for channel, min_severity in channels.items():
                        if SEVERITIES.index(record.severity) > SEVERITIES.index(min_severity):
                            continue
                        status, error = (preset or {}).get(channel, (FAILED, NOT_DELIVERED))
                        conn.execute(
                            sa.insert(alert_notifications_table).values(
                                alert_id=record.alert_id,
                                event=event,
                                channel=channel,
                                status=status,
                                attempts=0,
                                error=error,
                                interval_end=obs.interval_end,
                                attempted_at=now,
                                dag_id=obs.dag_id,
                                source=obs.source,
                            )
                        )
            return RecordedInterval(changed, self._pending(conn, obs, set(channels)))

        return self._locked(model_name, work)

    def finish_notifications(self, outcomes: Sequence[tuple[int, str, int, str | None]]) -> None:
        """Record delivery outcomes: (notification_id, status, attempts, error) each."""
        t = alert_notifications_table
        with self.engine.begin() as conn:
            for notification_id, status, attempts, error in outcomes:
                if status not in NOTIFICATION_STATUSES:
                    raise StoreError(
                        f"notification status {status!r} is not one of "
                        f"{', '.join(NOTIFICATION_STATUSES)}"
                    )
                conn.execute(
                    sa.update(t)
                    .where(t.c.notification_id == notification_id)
                    .values(
                        status=status,
                        attempts=t.c.attempts + attempts,
                        error=error,
                        attempted_at=utcnow(),
                    )
                )

    def _get_observation(self, conn, model_name: str, obs: Observation) -> Observation | None:
        row = conn.execute(
            sa.select(alert_observations_table).where(self._identity(model_name, obs))
        ).first()
        return _observation(row) if row is not None else None

    @staticmethod
    def _identity(model_name: str, obs: Observation):
        t = alert_observations_table
        return sa.and_(
            t.c.model_name == model_name,
            t.c.dag_id == obs.dag_id,
            t.c.source == obs.source,
            t.c.interval_start == obs.interval_start,
            t.c.interval_end == obs.interval_end,
        )

    def _put_observation(self, conn, model_name: str, obs: Observation, backfill: bool) -> None:
        t = alert_observations_table
        conn.execute(sa.delete(t).where(self._identity(model_name, obs)))
        conn.execute(
            sa.insert(t).values(
                model_name=model_name,
                dag_id=obs.dag_id,
                source=obs.source,
                interval_start=obs.interval_start,
                interval_end=obs.interval_end,
                assessment=obs.assessment.to_dict(),
                run_id=obs.run_id,
                run_url=obs.run_url,
                report_uri=obs.report_uri,
                model_version_id=obs.model_version_id,
                backfill=bool(backfill),
                recorded_at=utcnow(),
            )
        )

    def _open_or_recent(self, conn, model_name: str, at: datetime) -> list[AlertRecord]:
        t = alerts_table
        query = sa.select(t).where(
            t.c.model_name == model_name,
            sa.or_(t.c.status == OPEN, t.c.cleared_interval_end >= at),
        )
        return [_alert(r) for r in conn.execute(query.order_by(t.c.alert_id))]

    def _observations(self, conn, model_name: str, since: datetime) -> list[Observation]:
        t = alert_observations_table
        query = sa.select(t).where(t.c.model_name == model_name, t.c.interval_end >= since)
        return [_observation(r) for r in conn.execute(query)]

    def _apply(self, conn, change: EpisodeChange) -> AlertRecord:
        t = alerts_table
        if change.alert_id is None:
            values = {**change.values, "created_at": utcnow()}
            alert_id = conn.execute(sa.insert(t).values(**values)).inserted_primary_key[0]
        else:
            alert_id = change.alert_id
            conn.execute(sa.update(t).where(t.c.alert_id == alert_id).values(**change.values))
        return _alert(conn.execute(sa.select(t).where(t.c.alert_id == alert_id)).one())

    def _pending(self, conn, obs: Observation, channels: set[str]) -> list[Delivery]:
        n, a = alert_notifications_table, alerts_table
        rows = conn.execute(
            sa.select(n.c.notification_id, n.c.event, n.c.channel, a)
            .join(a, a.c.alert_id == n.c.alert_id)
            .where(
                n.c.status == FAILED,
                n.c.dag_id == obs.dag_id,
                n.c.source == obs.source,
                n.c.interval_end == obs.interval_end,
            )
            .order_by(n.c.notification_id)
        ).all()
        out = []
        for row in rows:
            if row.channel not in channels:
                continue  # a channel no longer configured
            values = {c.name: row._mapping[c.name] for c in a.columns}
            record = AlertRecord(**{**values, "details": values["details"] or {}})
            out.append(Delivery(row.notification_id, record, row.event, row.channel))
        return out

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

    def observations(self, model_name: str, since: datetime | None = None) -> list[Observation]:
        """The stored interval observations of a model, in data time."""
        t = alert_observations_table
        query = sa.select(t).where(t.c.model_name == model_name)
        if since is not None:
            query = query.where(t.c.interval_end >= to_naive_utc(since))
        with self.engine.connect() as conn:
            return sorted((_observation(r) for r in conn.execute(query)), key=lambda o: o.order)

    def notifications(self, alert_id: int | None = None) -> list[NotificationRecord]:
        """Notifications in the order they were recorded (of one episode, or all)."""
        t = alert_notifications_table
        query = sa.select(t).order_by(t.c.notification_id)
        if alert_id is not None:
            query = query.where(t.c.alert_id == alert_id)
        with self.engine.connect() as conn:
            return [_notification(r) for r in conn.execute(query)]
