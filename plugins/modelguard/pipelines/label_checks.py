"""Monitoring that needs outcomes: performance and concept drift on the matured window.

A monitoring run for the window W = [start, end) can only judge sends whose outcomes are final by
``end``: those of the matured window M = W shifted back by ``source.label_delay_hours``. Every
function here reads M "as of" ``end``, so a rerun or a backfill of the same interval decides the
same. Results are stored per (interval, model version) and replaced on rerun.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelguard.config import ModelguardConfig
from modelguard.core.timing import phase
from modelguard.core.window import Window
from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END
from modelguard.storage.source import matured_window  # noqa: F401  (re-exported for the operators)

if TYPE_CHECKING:
    from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome
    from modelguard.labels.performance import Baseline

PERFORMANCE = "performance"
CONCEPT = "concept_drift"


def champion_baseline(registry, champion) -> Baseline:
    """What the champion was expected to achieve: its metrics in the evaluation that promoted
    it, or (for a bootstrapped champion) its holdout metrics at registration."""
    evaluated = [
        e
        for e in registry.events(champion.model_name)
        if e.event == "evaluated" and e.version_id == champion.id
    ]
    from modelguard.labels.performance import Baseline

    if evaluated:
        result = evaluated[-1].details.get("result", {})
        if isinstance(result.get("challenger"), dict):
            return Baseline(metrics=dict(result["challenger"]), source="evaluation")
    return Baseline(metrics=dict(champion.metrics), source="registration")


def count_labels(source_engine, config: ModelguardConfig, window: Window, as_of: datetime):
    from modelguard.storage.source import label_counts

    src = config.source
    return label_counts(
        source_engine,
        src.table,
        src.time_column,
        src.label_column,
        src.label_time_column,
        window,
        as_of,
    )


def _enough_labels(config: ModelguardConfig, sends: int, labelled: int) -> str | None:
    """Why the matured window cannot be judged, or None when it can."""
    from modelguard.storage.source import enough_labels

    mon = config.monitoring
    share = labelled / sends if sends else 0.0
    if not enough_labels(sends, labelled, mon.min_labelled_rows, mon.min_label_share):
        return (
            f"labels missing: {labelled} of {sends} sends have a known outcome "
            f"({share:.0%}); needed {mon.min_labelled_rows} and {mon.min_label_share:.0%}"
        )
    return None


def _start(
    config: ModelguardConfig, source_engine, registry_engine, window: Window, as_of, judge_with
):
    """What every matured-window check starts from: the judged version (the champion at
    ``as_of`` by default), the label counts, and why the window cannot be judged (None when it
    can)."""
    from modelguard.pipelines.drift_check import judged_version
    from modelguard.storage.registry import ModelRegistry

    with phase("registry"):
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)
        champion = judged_version(registry, config.model.name, as_of, judge_with)
    with phase("read"):
        sends, labelled = count_labels(source_engine, config, window, as_of)
    common: dict[str, Any] = {
        "window": (window.start.isoformat(), window.end.isoformat()),
        "model_version_id": champion.id,
        "sends": sends,
        "labelled": labelled,
    }
    return registry, champion, common, _enough_labels(config, sends, labelled)


def run_performance_check(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    window: Window,
    as_of: datetime,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> PerformanceOutcome:
    """The champion's realised metrics on ``window`` (already matured) and its degradation
    (its ``to_dict()`` is the task's XCom and the stored result)."""
    from modelguard.labels.outcomes import PerformanceOutcome
    from modelguard.labels.performance import degradation, measure_performance
    from modelguard.pipelines.deployment import read_labelled

    registry, champion, common, missing = _start(
        config, source_engine, registry_engine, window, as_of, judge_with
    )
    if missing:
        out = PerformanceOutcome(**common, status="missing", reason=missing)
    else:
        with phase("read"):
            frame = read_labelled(source_engine, config, window, as_of)
        with phase("model"):
            model = registry.load_model(champion)
        with phase("compute"):
            report = measure_performance(
                model,
                frame,
                config.source.label_column,
                threshold=config.deployment.decision_threshold,
            )
        with phase("registry"):
            baseline = champion_baseline(registry, champion)
        deg = degradation(
            report,
            baseline,
            metric=config.deployment.primary_metric,
            threshold=config.retraining.performance_threshold,
        )
        out = PerformanceOutcome(
            **common,
            status="degraded" if deg.degraded else "measured",
            reason=deg.reason,
            metrics=report,
            degradation=deg,
        )
    _save(config, registry_engine, dag_id, window, PERFORMANCE, champion.id, out, run_id)
    if log:
        log.info("Performance of %s on %s: %s", champion.label, window, out.reason)
    return out


def run_concept_check(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    window: Window,
    as_of: datetime,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> ConceptOutcome:
    """The feature->engagement relation on ``window`` (already matured) vs the reference (its
    ``to_dict()`` is the task's XCom and the stored result)."""
    from modelguard.drift.detection import ReferenceProfile
    from modelguard.labels.concept import detect_concept_drift
    from modelguard.labels.outcomes import ConceptOutcome
    from modelguard.pipelines.deployment import read_labelled

    registry, champion, common, missing = _start(
        config, source_engine, registry_engine, window, as_of, judge_with
    )
    if missing:
        out = ConceptOutcome(**common, status="missing", reason=missing, concept_drift=False)
    else:
        with phase("profile"):
            profile = ReferenceProfile.from_stored(
                champion.reference_profile, champion.profile_arrays
            )
        with phase("read"):
            frame = read_labelled(source_engine, config, window, as_of)
        # The champion's predictions carry the training-time relation over to today's inputs,
        # so a pure input shift is not mistaken for a changed relation.
        with phase("model"):
            model = registry.load_model(champion)
        with phase("compute"):
            predictions = model.predict_proba(frame[list(config.features)])[:, 1]
            report = detect_concept_drift(
                profile,
                frame,
                config.source.label_column,
                predictions=predictions,
                config=config.drift_detection,
                min_rows=config.monitoring.min_labelled_rows,
            )
        out = ConceptOutcome(
            **common,
            status="drifted" if report.concept_drift else "stable",
            reason=(
                f"concept drift in {', '.join(report.drifted_features)}"
                if report.concept_drift
                else "feature->engagement relation stable"
            ),
            concept_drift=bool(report.concept_drift),
            drifted_features=tuple(report.drifted_features),
            score=report.score,
            report=report,
        )
    _save(config, registry_engine, dag_id, window, CONCEPT, champion.id, out, run_id)
    if log:
        log.info("Concept check of %s on %s: %s", champion.label, window, out.reason)
    return out


def _save(config, registry_engine, dag_id, window, name, version_id, out, run_id) -> None:
    from modelguard.storage.results import MonitoringCheck, ResultStore

    with phase("write"):
        store = ResultStore(registry_engine)
        store.ensure_schema()
        store.save_check(
            MonitoringCheck(
                dag_id=dag_id,
                interval_start=window.start,
                interval_end=window.end,
                check_name=name,
                model_version_id=version_id,
                model_name=config.model.name,
                status=out.status,
                result=out.to_dict(),
                run_id=run_id,
            )
        )
