"""The monitoring report of one model for one period, read from its stores and written as JSON,
without Airflow: the report task, the ``modelguard report`` command and the Model health page
all build it here (:func:`build_model_report`), so the three show the same data.

The file is ``<storage.report_root>/<model>/reports/<start>_<end>.json``, written atomically: a
rerun of the same period replaces it, and its bytes depend only on the stored rows (no
wall-clock time in it), so a rerun over unchanged history writes the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.exceptions import ReportWriteError
from modelguard.reporting import ModelReport, Period, assemble_report, report_json

DEFAULT_PAGE_DAYS = 7


def build_model_report(
    config: ModelguardConfig, registry_engine, period: Period, *, base_url: str | None = ""
) -> ModelReport:
    """The report of ``config.model.name`` for ``period`` from the registry and results store
    (read-only: nothing is created, a store that was never written reads as empty)."""
    from modelguard.storage.estimates import EstimateStore
    from modelguard.storage.monitoring_history import MonitoringHistory

    history = MonitoringHistory(registry_engine)
    name = config.model.name
    delay = timedelta(hours=config.source.label_delay_hours)
    return assemble_report(
        model_name=name,
        period=period,
        label_delay_hours=config.source.label_delay_hours,
        primary_metric=config.deployment.primary_metric,
        versions=history.versions(name),
        events=history.events(name),
        champion_id=history.champion_id(name),
        drift_runs=history.drift_runs(name, period.start, period.end),
        drift_features=history.drift_features(name, period.start, period.end),
        # checks judged in the period cover sends that ended one label delay earlier
        checks=history.checks(name, period.start - delay, period.end - delay),
        alerts=history.alerts(name, period.start, period.end),
        base_url=base_url,
        estimates=EstimateStore(registry_engine).history(
            name, since=period.start, until=period.end, limit=100_000
        ),
    )


def recent_period(
    config: ModelguardConfig,
    registry_engine,
    *,
    days: int = DEFAULT_PAGE_DAYS,
    now: datetime | None = None,
) -> Period:
    """The ``days`` of stored history ending at the model's newest drift interval (a page shows
    what was monitored last, in data time); ``now`` (default: the clock, whole hours up) when
    nothing is stored yet."""
    from modelguard.storage.monitoring_history import MonitoringHistory

    latest = MonitoringHistory(registry_engine).latest_interval_end(config.model.name)
    if latest is None:
        clock = (now or datetime.now(UTC)).replace(tzinfo=None)
        latest = clock.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return Period(latest - timedelta(days=days), latest)


def report_file(report_root: str | Path, model_name: str, period: Period) -> Path:
    """Where the report of one period is written: confined to ``report_root``
    (:class:`~modelguard.exceptions.UnsafePathError` for a model name that climbs out)."""
    from modelguard.storage.paths import check_part, inside

    check_part(model_name, what="model name")
    return inside(
        report_root, model_name, "reports", f"{period.label}.json", root_name="storage.report_root"
    )


@dataclass(frozen=True)
class ReportWritten:
    """The small result of a written report (the task's XCom): where, which period, counts."""

    uri: str
    path: str
    model_name: str
    period_start: str
    period_end: str
    counts: dict[str, int]

    def to_xcom(self) -> dict[str, Any]:
        return dict(self.__dict__)


def write_model_report(report: ModelReport, report_root: str | Path) -> ReportWritten:
    """Write ``report`` as JSON under ``report_root`` atomically (replacing the period's file)."""
    from modelguard.storage.artifacts import atomic_write_text

    path = report_file(report_root, report.model_name, report.period)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, report_json(report))
    except OSError as exc:
        raise ReportWriteError(
            f"cannot write the monitoring report {path}: {exc.strerror or exc}; make "
            f"storage.report_root ({report_root}) a folder this process may write"
        ) from exc
    return ReportWritten(
        uri=path.resolve().as_uri(),
        path=str(path.resolve()),
        model_name=report.model_name,
        period_start=report.period.start.isoformat(),
        period_end=report.period.end.isoformat(),
        counts=report.counts,
    )


def run_model_report(
    *,
    config: ModelguardConfig,
    registry_engine,
    period: Period,
    base_url: str | None = "",
    log=None,
) -> ReportWritten:
    """Build the report of ``period`` and write it under ``storage.report_root``."""
    report = build_model_report(config, registry_engine, period, base_url=base_url)
    written = write_model_report(report, config.storage.report_root)
    if log:
        log.info(
            "Monitoring report of %s for [%s, %s): %s (%s)",
            config.model.name,
            written.period_start,
            written.period_end,
            written.path,
            ", ".join(f"{k} {v}" for k, v in sorted(written.counts.items())),
        )
    return written
