"""Alerts of one run, end to end: records first, notifications second.

:func:`raise_alerts` stores what the interval observed (its
:class:`~modelguard.alerts.conditions.Assessment`) in the alert store, which replays the
model's episodes (:mod:`modelguard.alerts.episodes`) and writes one notification row per event
and channel; then each channel gets one message about the model, its alerts critical first,
tried ``alerts.notification_retries`` more times ``alerts.retry_delay_seconds`` apart, and its
outcome is recorded. Nothing here raises because a notification failed.

A backfill records everything and, unless ``alerts.notify_backfills``, sends nothing: its rows
are ``suppressed``. When the store cannot be reached the conditions are still sent (each as
new: there is no episode to compare with), the result says the record is missing, and the
observation is written to the spool (:mod:`modelguard.storage.alert_spool`), which the next run
that reaches the store imports first, with what was sent recorded as sent.

:func:`raise_alert` is the same for one condition outside a monitoring run (e.g. an approval
that timed out); :func:`clear_alert` ends such an episode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelguard.alerts.conditions import AlertCondition, Assessment
from modelguard.alerts.episodes import Observation
from modelguard.alerts.messages import Notice, compose
from modelguard.alerts.records import FAILED, OPENED, SENT, SUPPRESSED
from modelguard.config import ChannelConfig, ModelguardConfig
from modelguard.core.window import Window

SOURCE = "raise_alerts"
BACKFILL_SUPPRESSED = "backfill: not sent (alerts.notify_backfills is false)"

__all__ = [
    "SOURCE",
    "AlertRun",
    "AlertingResult",
    "clear_alert",
    "raise_alert",
    "raise_alerts",
    "send_with_retries",
]


@dataclass(frozen=True)
class AlertRun:
    """Where alerts come from: the run, the interval it judged and how to link to it."""

    dag_id: str
    run_id: str | None
    interval: Window
    backfill: bool = False
    base_url: str = ""
    source: str = SOURCE  # the task that judges (one observation per task and interval)
    model_version_id: int | None = None
    model_version: str | None = None  # its label, e.g. "v3"

    def report_url(self, model_name: str) -> str:
        from modelguard.links import interval_report_url

        return interval_report_url(
            self.base_url, model_name, self.dag_id, self.interval.start, self.interval.end
        )

    def run_url(self) -> str | None:
        from modelguard.links import run_url

        return run_url(self.base_url, self.dag_id, self.run_id) if self.run_id else None

    def observation(self, model_name: str, assessment: Assessment) -> Observation:
        return Observation(
            dag_id=self.dag_id,
            source=self.source,
            interval_start=self.interval.start,
            interval_end=self.interval.end,
            assessment=assessment,
            run_id=self.run_id,
            run_url=self.run_url(),
            report_uri=self.report_url(model_name),
            model_version_id=self.model_version_id,
        )


@dataclass
class AlertingResult:
    """What the alert task did, as its small XCom."""

    interval: Window
    backfill: bool
    conditions: list[AlertCondition]
    stored: bool = True
    store_error: str | None = None
    spooled: str | None = None
    spool_error: str | None = None
    spool_imported: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def to_xcom(self) -> dict[str, Any]:
        return {
            "interval": [self.interval.start.isoformat(), self.interval.end.isoformat()],
            "backfill": self.backfill,
            "stored": self.stored,
            "store_error": self.store_error,
            "spooled": self.spooled,
            "spool_error": self.spool_error,
            "spool_imported": self.spool_imported,
            "conditions": [
                {"kind": c.kind, "key": c.key, "severity": c.severity} for c in self.conditions
            ],
            "counts": {
                "conditions": len(self.conditions),
                "critical": sum(c.severity == "critical" for c in self.conditions),
                "changed": len(self.changed),
                "events": sum(len(c["events"]) for c in self.changed),
                **{
                    status: sum(n["status"] == status for n in self.notifications)
                    for status in (SENT, FAILED, SUPPRESSED)
                },
            },
            "alert_ids": sorted({c["alert_id"] for c in self.changed}),
            "changed": self.changed,
            "notifications": self.notifications,
        }

    def summary(self) -> str:
        counts = self.to_xcom()["counts"]
        text = (
            f"{counts['conditions']} condition(s) ({counts['critical']} critical), "
            f"{counts['changed']} episode(s) changed, {counts['events']} event(s); "
            f"notifications sent {counts['sent']}, failed {counts['failed']}, suppressed "
            f"{counts['suppressed']}"
        )
        if not self.stored:
            text += f"; NOT STORED ({self.store_error}); spool: {self.spooled or self.spool_error}"
        return text


def send_with_retries(
    send: Callable[[], None], retries: int, delay: float, sleep: Callable[[float], None]
) -> tuple[str, int, str | None]:
    """``send()`` until it returns, at most ``retries + 1`` times: (status, attempts, error)."""
    error = None
    for attempt in range(1, retries + 2):
        try:
            send()
        except Exception as exc:  # any delivery failure is recorded, none is raised
            error = f"{type(exc).__name__}: {exc}"
            if attempt <= retries:
                sleep(delay)
        else:
            return SENT, attempt, None
    return FAILED, retries + 1, error


def _deliver(
    config: ModelguardConfig,
    by_channel: Mapping[str, Sequence[Notice]],
    *,
    note: str | None,
    context: Any,
    log: Any,
    sleep: Callable[[float], None],
) -> dict[str, tuple[str, int, str | None]]:
    """One message per channel about the model's notices: channel -> (status, attempts, error)."""
    from modelguard.notifications import notifier_for

    alerts = config.alerts
    channels = {c.name: c for c in alerts.channels}
    outcomes = {}
    for name, notices in by_channel.items():
        if not notices:
            continue
        message = compose(config.model.name, notices, note=note)
        channel = channels[name]

        def send(channel: ChannelConfig = channel, message=message) -> None:
            notifier_for(channel, message, log=log).notify(context or {})

        outcomes[name] = send_with_retries(
            send, alerts.notification_retries, alerts.retry_delay_seconds, sleep
        )
        status, attempts, error = outcomes[name]
        if log is not None:
            (log.info if status == SENT else log.error)(
                "Alert notification to %s (%s, %d notice(s)): %s after %d attempt(s)%s",
                name,
                channel.type,
                len(notices),
                status,
                attempts,
                f": {error}" if error else "",
            )
    return outcomes


def _notice(record, event: str, run: AlertRun) -> Notice:
    version = run.model_version if record.model_version_id == run.model_version_id else None
    if version is None and record.model_version_id is not None:
        version = f"version id {record.model_version_id}"
    return Notice(
        event=event,
        kind=record.kind,
        key=record.key,
        severity=record.severity,
        message=record.message,
        model_name=record.model_name,
        model_version=version,
        dag_id=run.dag_id,
        interval_start=run.interval.start,
        interval_end=run.interval.end,
        report_url=record.report_uri,
        run_url=record.run_url,
        alert_id=record.alert_id,
        since=record.first_interval_end,
    )


def _routes(config: ModelguardConfig) -> dict[str, str]:
    return {c.name: c.min_severity for c in config.alerts.channels}


def _store(registry_engine):
    from modelguard.storage.alerts import AlertStore

    store = AlertStore(registry_engine)
    store.ensure_schema()
    return store


def _import_spool(config: ModelguardConfig, store, result: AlertingResult, log: Any) -> None:
    """Store the observations kept while the store was down (oldest first), then delete
    their files; what was sent then is recorded as sent, nothing is sent again now."""
    from modelguard.storage.alert_spool import read_spool

    for spooled in read_spool(config.storage.report_root, config.model.name):
        preset = {
            c.name: (FAILED, "not sent: the alert store was unreachable when it was raised")
            for c in config.alerts.channels
        }
        for channel, (status, error) in spooled.outcomes.items():
            if status == SENT:
                error = "sent while the alert store was unreachable"
            preset[channel] = (status, error)
        store.record_observation(
            config.model.name,
            spooled.observation,
            renotify_hours=config.alerts.renotify_hours,
            channels=_routes(config),
            preset=preset,
            backfill=spooled.backfill,
        )
        spooled.path.unlink(missing_ok=True)
        result.spool_imported += 1
        if log is not None:
            log.info("Imported spooled alert observation %s", spooled.path.name)


def _record_and_notify(
    config: ModelguardConfig,
    registry_engine,
    assessment: Assessment,
    run: AlertRun,
    *,
    context: Any,
    log: Any,
    sleep: Callable[[float], None],
    unavailable: str | None,
) -> AlertingResult:
    from modelguard.exceptions import StoreUnavailableError
    from modelguard.storage.alert_spool import write_spool

    model = config.model.name
    result = AlertingResult(run.interval, run.backfill, list(assessment.conditions))
    observation = run.observation(model, assessment)
    quiet = run.backfill and not config.alerts.notify_backfills
    preset = {c.name: (SUPPRESSED, BACKFILL_SUPPRESSED) for c in config.alerts.channels}
    try:
        if registry_engine is None:
            raise StoreUnavailableError(unavailable or "the registry connection is not open")
        store = _store(registry_engine)
        try:
            _import_spool(config, store, result, log)
        except Exception as exc:  # a bad spool file must not stop today's alerts
            result.spool_error = f"spool not imported: {type(exc).__name__}: {exc}"
            if log is not None:
                log.error("%s", result.spool_error)
        recorded = store.record_observation(
            model,
            observation,
            renotify_hours=config.alerts.renotify_hours,
            channels=_routes(config),
            preset=preset if quiet else None,
            backfill=run.backfill,
        )
    except Exception as exc:  # the store is down: notify anyway, keep the record on disk
        result.stored = False
        result.store_error = (
            unavailable
            if registry_engine is None and unavailable
            else f"{type(exc).__name__}: {exc}"
        )
        if log is not None:
            log.error("The alert store could not record this interval's alerts: %s", exc)
        notices = {
            c.name: [
                _fallback_notice(config, cond, run, observation)
                for cond in assessment.conditions
                if c.accepts(cond.severity)
            ]
            for c in config.alerts.channels
        }
        if quiet:
            outcomes = {n: (SUPPRESSED, 0, BACKFILL_SUPPRESSED) for n, v in notices.items() if v}
        else:
            note = (
                f"The alert store could not record these alerts ({result.store_error}); they "
                "are kept on disk and stored by the next run that reaches it."
            )
            outcomes = _deliver(config, notices, note=note, context=context, log=log, sleep=sleep)
        result.notifications = [
            {"channel": ch, "status": s, "attempts": a, "error": e, "notices": len(notices[ch])}
            for ch, (s, a, e) in outcomes.items()
        ]
        try:
            path = write_spool(
                config.storage.report_root,
                model,
                observation,
                {ch: (s, e) for ch, (s, _, e) in outcomes.items()},
                backfill=run.backfill,
                reason=result.store_error,
            )
            result.spooled = str(path)
        except OSError as spool_exc:
            result.spool_error = f"{type(spool_exc).__name__}: {spool_exc}"
            if log is not None:
                log.error("The alerts could not be spooled either: %s", spool_exc)
        return result

    result.changed = [
        {
            "alert_id": record.alert_id,
            "kind": record.kind,
            "key": record.key,
            "severity": record.severity,
            "status": record.status,
            "events": list(events),
        }
        for record, events in recorded.changed
    ]
    by_channel: dict[str, list[Notice]] = {}
    ids: dict[str, list[int]] = {}
    for d in recorded.deliveries:
        by_channel.setdefault(d.channel, []).append(_notice(d.alert, d.event, run))
        ids.setdefault(d.channel, []).append(d.notification_id)
    outcomes = _deliver(config, by_channel, note=None, context=context, log=log, sleep=sleep)
    try:
        store.finish_notifications(
            [(i, s, a, e) for ch, (s, a, e) in outcomes.items() for i in ids[ch]]
        )
    except Exception as exc:  # sent, but the outcome could not be written: say so
        result.store_error = f"outcomes not recorded: {type(exc).__name__}: {exc}"
        if log is not None:
            log.error("Notification outcomes could not be recorded: %s", exc)
    result.notifications = [
        {"channel": ch, "status": s, "attempts": a, "error": e, "notices": len(by_channel[ch])}
        for ch, (s, a, e) in outcomes.items()
    ]
    if quiet:
        for channel in config.alerts.channels:
            count = sum(
                len(events)
                for record, events in recorded.changed
                if channel.accepts(record.severity)
            )
            if count:
                result.notifications.append(
                    {
                        "channel": channel.name,
                        "status": SUPPRESSED,
                        "attempts": 0,
                        "error": BACKFILL_SUPPRESSED,
                        "notices": count,
                    }
                )
    return result


def _fallback_notice(config, condition: AlertCondition, run: AlertRun, obs: Observation) -> Notice:
    return Notice(
        event=OPENED,
        kind=condition.kind,
        key=condition.key,
        severity=condition.severity,
        message=condition.message,
        model_name=config.model.name,
        model_version=run.model_version,
        dag_id=run.dag_id,
        interval_start=run.interval.start,
        interval_end=run.interval.end,
        report_url=obs.report_uri,
        run_url=obs.run_url,
    )


def raise_alerts(
    *,
    config: ModelguardConfig,
    registry_engine,
    assessment: Assessment,
    run: AlertRun,
    context: Any = None,
    log: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    store_error: str | None = None,
) -> AlertingResult:
    """Record one interval's assessment and tell the channels what changed (see module doc).
    ``registry_engine`` None: the store could not be opened (``store_error`` says why), so the
    fallback path: notify and spool."""
    result = _record_and_notify(
        config,
        registry_engine,
        assessment,
        run,
        context=context,
        log=log,
        sleep=sleep,
        unavailable=store_error,
    )
    if log is not None:
        log.info("Alerts of %s %s: %s", run.dag_id, run.interval, result.summary())
    return result


def raise_alert(
    config: ModelguardConfig,
    condition: AlertCondition,
    run: AlertRun,
    *,
    registry_engine,
    context: Any = None,
    log: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    store_error: str | None = None,
) -> AlertingResult:
    """A one-off alert from any task (``run.source`` = that task's id): its episode opens
    (once per (kind, key) while open) and is never cleared by monitoring runs, only by
    :func:`clear_alert`. Same storage, channels and fallbacks as :func:`raise_alerts`."""
    assessment = Assessment((condition,), (condition.scope,))
    return raise_alerts(
        config=config,
        registry_engine=registry_engine,
        assessment=assessment,
        run=run,
        context=context,
        log=log,
        sleep=sleep,
        store_error=store_error,
    )


def clear_alert(
    config: ModelguardConfig,
    kind: str,
    key: str,
    run: AlertRun,
    *,
    registry_engine,
    context: Any = None,
    log: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    store_error: str | None = None,
) -> AlertingResult:
    """End the open episode of a one-off alert (a cleared notice is sent). Its observation is
    the task's own (``<source>:clear``), so it never replaces the one that raised the alert."""
    from dataclasses import replace

    return raise_alerts(
        config=config,
        registry_engine=registry_engine,
        assessment=Assessment((), ((kind, key),)),
        run=replace(run, source=f"{run.source}:clear"),
        context=context,
        log=log,
        sleep=sleep,
        store_error=store_error,
    )
