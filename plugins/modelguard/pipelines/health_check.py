"""The health check of one monitoring run, without Airflow: measure, judge, record.

The facts come through storage (the source table, the registry, the artifact store, the stored
decisions); the rules are :mod:`modelguard.health.checks`. Nothing here raises because a check
failed or a store is down: what cannot be measured becomes a failed check saying why, and the
record is kept whatever happens:

* the registry (the result store) answers: spooled records of earlier runs are imported, then
  this run's record is stored (replacing the interval's earlier one): ``stored`` True;
* it does not: the registry check says so, the record is written to the spool
  (:class:`~modelguard.storage.health.HealthSpool`, under ``storage.report_root``) for the next
  run that reaches the store, and ``stored`` is False; a spool folder that cannot be written
  either is logged and named in the result (``spool.written`` False, with the OS error).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from modelguard.config import ModelguardConfig
from modelguard.core.window import Window
from modelguard.health import checks as rules
from modelguard.health.checks import HealthCheck, HealthReport
from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END

_T = TypeVar("_T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthOutcome:
    """The record, whether it reached the store, and where it was spooled otherwise."""

    report: HealthReport
    stored: bool
    spool: dict[str, Any] | None = None
    imported: list[str] = field(default_factory=list)

    def to_xcom(self) -> dict[str, Any]:
        return self.report.to_xcom(
            stored=self.stored,
            run_id=self.report.run_id,
            spool=self.spool,
            imported_from_spool=len(self.imported),
        )


def _attempt(work: Callable[[], _T]) -> tuple[_T | None, str | None]:
    """``(result, None)``, or ``(None, why)`` when ``work`` raised: a health check that cannot
    measure something reports it instead of failing the run."""
    try:
        return work(), None
    except Exception as exc:  # any failure to measure is a finding, never a crash
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_health_check(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    interval: Window,
    interval_seconds: int,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    backfill: bool = False,
    source_error: str | None = None,
    registry_error: str | None = None,
    log: Any = None,
) -> HealthOutcome:
    """Check the run's interval (the DAG's data interval, or the run's window params).

    ``source_error`` / ``registry_error``: why the caller could not even get an engine (an
    undefined connection); otherwise the engines are tried here. ``interval_seconds`` is the
    DAG's cadence, which the earlier intervals of ``recent_runs`` are counted in.
    """
    from modelguard.core.timing import switch_phase
    from modelguard.pipelines.drift_check import judged_version
    from modelguard.storage.artifacts import ArtifactStore
    from modelguard.storage.health import HealthSpool, HealthStore, decision_ends
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.source import (
        check_table,
        column_kinds,
        connect,
        interval_counts,
        newest_time,
        unparseable_times,
    )

    log = log or logger
    hc, src = config.monitoring.health, config.source
    found: dict[str, HealthCheck] = {}

    # --- the registry and the champion
    switch_phase("registry")
    if registry_error is None:
        _, registry_error = _attempt(
            lambda: connect(registry_engine, new_sqlite_file_ok=True).close()
        )
    store = HealthStore(registry_engine) if registry_error is None else None
    if store is not None:
        _, registry_error = _attempt(store.ensure_schema)
    champion = None
    champion_error = None
    if registry_error is None:
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)

        def champion_then():
            registry.ensure_schema()
            return judged_version(registry, config.model.name, interval.end, judge_with)

        champion, champion_error = _attempt(champion_then)
    found[rules.REGISTRY] = rules.registry_reachable(registry_error)
    if registry_error is not None:
        found[rules.CHAMPION_ARTIFACT] = rules.not_checked(
            rules.CHAMPION_ARTIFACT, "the registry is unreachable"
        )
    elif champion is None:
        found[rules.CHAMPION_ARTIFACT] = rules.champion_artifact(
            f"no champion to judge {interval} with: {champion_error}",
            label=config.model.name,
            uri="",
        )
    else:
        problem, error = _attempt(
            lambda: ArtifactStore(config.storage.artifact_root).problem(
                champion.artifact, what=f"the artifact of {champion.label}"
            )
        )
        found[rules.CHAMPION_ARTIFACT] = rules.champion_artifact(
            problem or error, label=champion.label, uri=champion.artifact_uri
        )

    # --- the source
    switch_phase("read")
    if source_error is None:
        _, source_error = _attempt(lambda: check_table(source_engine, src.table))
    found[rules.SOURCE_REACHABLE] = rules.source_reachable(source_error, table=src.table)
    if source_error is not None:
        for name in (
            rules.SOURCE_FRESH,
            rules.ROW_COUNT,
            rules.SCHEMA,
            rules.SOURCE_TIMES_PARSEABLE,
        ):
            found[name] = rules.not_checked(name, "the source is unreachable")
    else:
        lookback_days = max(hc.row_count_history_days, math.ceil(hc.max_staleness_hours / 24) + 1)
        newest, error = _attempt(
            lambda: newest_time(
                source_engine,
                src.table,
                src.time_column,
                before=interval.end,
                since=interval.end - timedelta(days=lookback_days),
            )
        )
        found[rules.SOURCE_FRESH] = (
            rules.not_checked(rules.SOURCE_FRESH, error)
            if error
            else rules.source_fresh(
                newest,
                interval.end,
                max_staleness_hours=hc.max_staleness_hours,
                looked_back_days=lookback_days,
                time_column=src.time_column,
            )
        )
        earlier = rules.seasonal_intervals(
            interval, history_days=hc.row_count_history_days, season=hc.row_count_season
        )
        counts, error = _attempt(
            lambda: interval_counts(source_engine, src.table, src.time_column, [interval, *earlier])
        )
        found[rules.ROW_COUNT] = (
            rules.not_checked(rules.ROW_COUNT, error)
            if error
            else rules.row_count(
                counts[0],
                counts[1:],
                low_ratio=hc.row_count_low_ratio,
                high_ratio=hc.row_count_high_ratio,
                min_points=hc.row_count_min_points,
                season=hc.row_count_season,
            )
        )

        def times_problems():
            sends = unparseable_times(source_engine, src.table, src.time_column)
            labels = unparseable_times(
                source_engine, src.table, src.label_time_column, label_column=src.label_column
            )
            return sends, labels

        bad_times, error = _attempt(times_problems)
        if error:
            found[rules.SOURCE_TIMES_PARSEABLE] = rules.not_checked(
                rules.SOURCE_TIMES_PARSEABLE, error
            )
        else:
            sends, labels = bad_times
            found[rules.SOURCE_TIMES_PARSEABLE] = rules.source_times_parseable(
                sends.count,
                sends.example,
                table=src.table,
                column=src.time_column,
                label_count=labels.count,
                label_example=labels.example,
                label_column=src.label_time_column,
            )
            for problem in (sends, labels):
                if problem.count:
                    log.warning("%s", problem.message())
        kinds, error = _attempt(lambda: column_kinds(source_engine, src.table))
        if champion is not None:
            features, whose = champion.feature_schema, f"the champion {champion.label}"
        else:
            features, whose = config.features, "the config (the champion could not be read)"
        found[rules.SCHEMA] = (
            rules.not_checked(rules.SCHEMA, error)
            if error
            else rules.schema(kinds, features, table=src.table, whose=whose)
        )

    # --- earlier runs of this DAG
    switch_phase("registry")
    if registry_error is not None:
        found[rules.RECENT_RUNS] = rules.not_checked(
            rules.RECENT_RUNS, "the registry is unreachable"
        )
    else:
        ends = rules.previous_interval_ends(interval.end, interval_seconds, hc.recent_runs)
        result, error = _attempt(lambda: decision_ends(registry_engine, dag_id, ends))
        found[rules.RECENT_RUNS] = (
            rules.not_checked(rules.RECENT_RUNS, error)
            if error
            else rules.recent_runs(ends, result[0], result[1], dag_id=dag_id, backfill=backfill)
        )

    def report_with(checks: dict[str, HealthCheck]) -> HealthReport:
        return HealthReport(
            dag_id=dag_id,
            model_name=config.model.name,
            interval_start=interval.start,
            interval_end=interval.end,
            checks=tuple(checks[name] for name in rules.CHECK_NAMES),
            model_version_id=None if champion is None else champion.id,
            run_id=run_id,
        )

    report = report_with(found)
    spool = HealthSpool(config.storage.report_root, config.model.name)

    # --- the record: stored, or spooled
    switch_phase("write")
    imported: list[str] = []
    if store is not None and registry_error is None:
        done, error = _attempt(lambda: store.import_spool(spool))
        if error:
            log.warning(
                "Could not import the spooled health records of %s: %s", spool.folder, error
            )
        else:
            imported = done or []
            if imported:
                log.info(
                    "Imported %d spooled health record(s) from %s", len(imported), spool.folder
                )
        saved, error = _attempt(lambda: store.save(report))
        if saved is not None:
            return HealthOutcome(report=saved, stored=True, imported=imported)
        found[rules.REGISTRY] = rules.registry_reachable(
            f"the store answered but the health record could not be written: {error}"
        )
        report = report_with(found)
    written = spool.write(report)
    if written.written:
        log.warning(
            "The registry is unreachable: health record spooled to %s (imported by the next "
            "run that reaches the store)",
            written.path,
        )
    else:
        log.error(
            "The registry is unreachable and the health record could not be spooled to %s "
            "either (%s): it is only in this task's log and XCom: %s",
            written.path,
            written.error,
            json.dumps(report.to_dict(), sort_keys=True),
        )
    return HealthOutcome(report=report, stored=False, spool=written.to_dict(), imported=imported)
