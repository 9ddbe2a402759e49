"""Alert episodes from interval observations, in data time, whatever order the runs came in.

An :class:`Observation` is what one interval said about a model (its
:class:`~modelguard.alerts.conditions.Assessment`: the conditions, and the scopes it judged).
For one condition (``kind``, ``key``) the observations that judged it, ordered by interval end,
form *episodes*: a maximal run of observations with the condition present, cleared by the
first later observation that judged it absent, open while there is none.

:func:`plan_episodes` replays the observations of every condition the new interval touches and
compares the result with the stored episodes, giving the changes to write and the notification
events each one causes:

* a new episode: ``opened`` (and ``cleared`` as well when later intervals already judged the
  condition absent: a backfill found history);
* an open episode the new interval extends: nothing, unless its severity rose (``escalated``)
  or ``renotify_hours`` of data time passed since its last notification and the new interval is
  its newest (``reminder``);
* an open episode now followed by an interval without the condition: ``cleared``;
* a cleared episode a rerun re-opens (the clearing interval now shows the condition):
  ``opened`` again;
* an episode whose every interval a rerun withdrew: ``cleared`` (marked ``withdrawn``);
* two episodes a rerun joined: the older one goes on, the newer is closed as ``merged_into``.

Because the stored episodes are always the replay of the stored observations, a rerun of an
interval changes nothing (no episode twice, no notification twice), and a backfill of an older
interval lands where it belongs in data time: it extends the episode it borders, splits one it
falls inside of, or records a past episode, already cleared. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelguard.alerts.conditions import ANY_KEY, AlertCondition, Assessment
from modelguard.alerts.records import (
    CLEARED,
    CLEARED_NOTICE,
    ESCALATED,
    OPEN,
    OPENED,
    REMINDER,
    AlertRecord,
    severity_rank,
)

__all__ = [
    "EpisodeChange",
    "Observation",
    "Span",
    "anchor",
    "in_tail",
    "plan_episodes",
    "replay",
]


@dataclass(frozen=True)
class Observation:
    """What one interval of one DAG (as judged by one task, ``source``) said about a model."""

    dag_id: str
    source: str
    interval_start: datetime
    interval_end: datetime
    assessment: Assessment
    run_id: str | None = None
    run_url: str | None = None
    report_uri: str | None = None
    model_version_id: int | None = None

    @property
    def identity(self) -> tuple[str, str, datetime, datetime]:
        return (self.dag_id, self.source, self.interval_start, self.interval_end)

    @property
    def order(self) -> tuple:
        """Data time first; ties (two DAGs ending together) in a fixed order."""
        return (self.interval_end, self.interval_start, self.dag_id, self.source)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO times)."""
        return {
            "dag_id": self.dag_id,
            "source": self.source,
            "interval_start": self.interval_start.isoformat(),
            "interval_end": self.interval_end.isoformat(),
            "assessment": self.assessment.to_dict(),
            "run_id": self.run_id,
            "run_url": self.run_url,
            "report_uri": self.report_uri,
            "model_version_id": self.model_version_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        from modelguard.exceptions import MalformedResultError

        try:
            return cls(
                dag_id=data["dag_id"],
                source=data["source"],
                interval_start=datetime.fromisoformat(data["interval_start"]),
                interval_end=datetime.fromisoformat(data["interval_end"]),
                assessment=Assessment.from_dict(data["assessment"]),
                run_id=data.get("run_id"),
                run_url=data.get("run_url"),
                report_uri=data.get("report_uri"),
                model_version_id=data.get("model_version_id"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResultError(f"not an alert observation: {exc}") from exc


@dataclass(frozen=True)
class Span:
    """One episode as the observations give it."""

    kind: str
    key: str
    first: Observation
    last: Observation  # the newest observation with the condition
    condition: AlertCondition  # as the newest observation saw it
    severity: str  # the highest seen
    cleared_by: Observation | None  # the first later observation without it

    def overlaps(self, record: AlertRecord) -> bool:
        return (
            record.first_interval_end <= self.last.interval_end
            and self.first.interval_end <= record.last_interval_end
        )


@dataclass(frozen=True)
class EpisodeChange:
    """One episode to insert (``alert_id`` None) or update, and the notification events it
    causes at the new interval."""

    alert_id: int | None
    values: dict[str, Any]  # the AlertRecord fields but alert_id and created_at
    events: tuple[str, ...] = ()
    previous: AlertRecord | None = field(default=None, repr=False)

    @property
    def severity(self) -> str:
        return self.values["severity"]


def replay(kind: str, key: str, observations: Sequence[Observation]) -> list[Span]:
    """The episodes of one condition in ``observations`` (those that judge it, in data time)."""
    spans: list[Span] = []
    current: dict[str, Any] | None = None
    for obs in sorted(observations, key=lambda o: o.order):
        if not obs.assessment.judges(kind, key):
            continue
        found = obs.assessment.condition(kind, key)
        if found is None:
            if current is not None:
                spans.append(Span(kind, key, **current, cleared_by=obs))
                current = None
            continue
        if current is None:
            current = {"first": obs, "last": obs, "condition": found, "severity": found.severity}
        else:
            worst = min(current["severity"], found.severity, key=severity_rank)
            current.update(last=obs, condition=found, severity=worst)
    if current is not None:
        spans.append(Span(kind, key, **current, cleared_by=None))
    return spans


def _scopes(
    current: Observation, previous: Observation | None, stored: Sequence[AlertRecord]
) -> list[tuple[str, str]]:
    """The conditions the new observation (or the one it replaces) may change."""
    observations = [current] + ([previous] if previous else [])
    scopes: dict[tuple[str, str], None] = {}
    for obs in observations:
        for kind, key in obs.assessment.judged:
            if key != ANY_KEY:
                scopes[(kind, key)] = None
                continue
            for other in observations:
                for c in other.assessment.conditions:
                    if c.kind == kind:
                        scopes[c.scope] = None
            for record in stored:
                if record.kind == kind:
                    scopes[(record.kind, record.key)] = None
    return list(scopes)


def _values(model_name: str, span: Span, record: AlertRecord | None) -> dict[str, Any]:
    first = span.first
    first_start, first_end = first.interval_start, first.interval_end
    severity = span.severity
    if record is not None and record.first_interval_end < first_end:
        # the episode began before the observations still kept (pruned): keep what it saw
        first_start, first_end = record.first_interval_start, record.first_interval_end
        severity = min(severity, record.severity, key=severity_rank)
    last = span.last
    return {
        "model_name": model_name,
        "kind": span.kind,
        "key": span.key,
        "severity": severity,
        "status": OPEN if span.cleared_by is None else CLEARED,
        "message": span.condition.message,
        "dag_id": last.dag_id,
        "first_interval_start": first_start,
        "first_interval_end": first_end,
        "last_interval_end": last.interval_end,
        "cleared_interval_end": None if span.cleared_by is None else span.cleared_by.interval_end,
        "model_version_id": last.model_version_id,
        "run_id": last.run_id,
        "run_url": last.run_url,
        "report_uri": last.report_uri,
        "details": dict(span.condition.details),
        "last_notified_interval_end": record.last_notified_interval_end if record else None,
    }


def _record_values(record: AlertRecord) -> dict[str, Any]:
    skip = {"alert_id", "created_at"}
    return {k: getattr(record, k) for k in record.__dataclass_fields__ if k not in skip}


def _events(span: Span, record: AlertRecord, at: datetime, renotify: timedelta) -> tuple[str, ...]:
    cleared = span.cleared_by is not None
    if record.status == OPEN and cleared:
        return (CLEARED_NOTICE,)
    if record.status != OPEN and not cleared:
        return (OPENED,)  # re-opened by a rerun of the interval that had cleared it
    if cleared:
        return ()
    if severity_rank(span.severity) < severity_rank(record.severity):
        return (ESCALATED,)
    notified = record.last_notified_interval_end
    if span.last.interval_end == at and (notified is None or at - notified >= renotify):
        return (REMINDER,)
    return ()


def plan_episodes(
    *,
    model_name: str,
    current: Observation,
    previous: Observation | None,
    observations: Sequence[Observation],
    stored: Sequence[AlertRecord],
    renotify_hours: float,
) -> list[EpisodeChange]:
    """The episode changes a new observation causes.

    ``observations``: the model's stored observations from :func:`anchor` on (the one
    ``current`` replaces may be among them); ``previous``: the stored observation of the same
    identity, if any; ``stored``: the model's episodes that are open or cleared at or after
    ``current.interval_end``. Changes come critical first.
    """
    at = current.interval_end
    renotify = timedelta(hours=renotify_hours)
    pool = [o for o in observations if o.identity != current.identity] + [current]
    changes: list[EpisodeChange] = []
    for kind, key in _scopes(current, previous, stored):
        tail = sorted(
            (r for r in stored if (r.kind, r.key) == (kind, key) and _in_tail(r, at)),
            key=lambda r: r.first_interval_end,
        )
        since = min([at, *(r.first_interval_end for r in tail)])
        spans = replay(kind, key, [o for o in pool if o.interval_end >= since])
        changes += _match(model_name, spans, tail, at, renotify)
    return sorted(changes, key=lambda c: (severity_rank(c.severity), c.values["kind"]))


def _in_tail(record: AlertRecord, at: datetime) -> bool:
    """Whether a new observation at ``at`` can change the episode: it is open, or it cleared
    at or after ``at`` (an earlier, cleared episode is history the new one cannot reach)."""
    return record.status == OPEN or (
        record.cleared_interval_end is not None and record.cleared_interval_end >= at
    )


def in_tail(stored: Sequence[AlertRecord], at: datetime) -> list[AlertRecord]:
    """The episodes an observation at ``at`` can change."""
    return [r for r in stored if _in_tail(r, at)]


def anchor(at: datetime, stored: Sequence[AlertRecord]) -> datetime:
    """The oldest interval end whose observations :func:`plan_episodes` needs for an
    observation at ``at``: the start of the oldest episode it can change, else ``at``."""
    return min([at, *(r.first_interval_end for r in in_tail(stored, at))])


def _match(
    model_name: str,
    spans: list[Span],
    tail: list[AlertRecord],
    at: datetime,
    renotify: timedelta,
) -> list[EpisodeChange]:
    changes: list[EpisodeChange] = []
    taken: set[int] = set()
    for span in spans:
        matched = [r for r in tail if r.alert_id not in taken and span.overlaps(r)]
        if not matched:
            values = _values(model_name, span, None)
            events = (OPENED,) + ((CLEARED_NOTICE,) if span.cleared_by else ())
            values["last_notified_interval_end"] = at
            changes.append(EpisodeChange(None, values, events))
            continue
        survivor, *merged = matched
        taken.update(r.alert_id for r in matched)
        values = _values(model_name, span, survivor)
        events = _events(span, survivor, at, renotify)
        if events:
            values["last_notified_interval_end"] = at
        if values != _record_values(survivor) or events:
            changes.append(EpisodeChange(survivor.alert_id, values, events, survivor))
        for other in merged:
            closed = _record_values(other)
            closed.update(
                status=CLEARED,
                cleared_interval_end=other.cleared_interval_end or other.last_interval_end,
                details={**other.details, "merged_into": survivor.alert_id},
            )
            changes.append(EpisodeChange(other.alert_id, closed, (), other))
    for record in tail:
        if record.alert_id in taken or record.status != OPEN:
            continue
        # every interval that showed it was rerun without it
        closed = _record_values(record)
        closed.update(
            status=CLEARED,
            cleared_interval_end=at,
            last_notified_interval_end=at,
            details={**record.details, "withdrawn": True},
        )
        changes.append(EpisodeChange(record.alert_id, closed, (CLEARED_NOTICE,), record))
    return changes
