"""Monitoring that needs outcomes: performance, concept drift, and the retraining decision.

A monitoring run for the window W = [start, end) can only judge sends whose outcomes are final by
``end``: those of the matured window M = W shifted back by ``source.label_delay_hours``. Every
function here reads M "as of" ``end``, so a rerun or a backfill of the same interval decides the
same. Results are stored per (interval, model version) and replaced on rerun.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from modelguard.config import ModelguardConfig
from modelguard.monitoring import CHAMPION_AT_INTERVAL_END
from modelguard.source import matured_window  # noqa: F401  (re-exported for the operators)
from modelguard.window import Window

PERFORMANCE = "performance"
CONCEPT = "concept_drift"


def champion_baseline(registry, champion) -> dict[str, Any]:
    """What the champion was expected to achieve: its metrics in the evaluation that promoted
    it, or (for a bootstrapped champion) its holdout metrics at registration."""
    evaluated = [
        e
        for e in registry.events(champion.model_name)
        if e.event == "evaluated" and e.version_id == champion.id
    ]
    if evaluated:
        result = evaluated[-1].details.get("result", {})
        if isinstance(result.get("challenger"), dict):
            return {**result["challenger"], "source": "evaluation"}
    return {**champion.metrics, "source": "registration"}


def _labels(source_engine, config: ModelguardConfig, window: Window, as_of: datetime):
    from modelguard.source import label_counts

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
    from modelguard.source import enough_labels

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
    from modelguard.monitoring import judged_version
    from modelguard.registry import ModelRegistry

    registry = ModelRegistry(registry_engine)
    champion = judged_version(registry, config.model.name, as_of, judge_with)
    sends, labelled = _labels(source_engine, config, window, as_of)
    out: dict[str, Any] = {
        "window": [window.start.isoformat(), window.end.isoformat()],
        "model_version_id": champion.id,
        "sends": sends,
        "labelled": labelled,
    }
    return registry, champion, out, _enough_labels(config, sends, labelled)


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
) -> dict[str, Any]:
    """The champion's realised metrics on ``window`` (already matured) and its degradation."""
    from modelguard.gate import read_labelled
    from modelguard.performance import degradation, measure_performance

    registry, champion, out, missing = _start(
        config, source_engine, registry_engine, window, as_of, judge_with
    )
    if missing:
        out.update(status="missing", reason=missing, metrics=None, degradation=None)
    else:
        frame = read_labelled(source_engine, config, window, as_of)
        report = measure_performance(
            registry.load_model(champion),
            frame,
            config.source.label_column,
            threshold=config.deployment.decision_threshold,
        )
        metrics = report.to_dict()
        baseline = champion_baseline(registry, champion)
        deg = degradation(
            metrics,
            baseline,
            metric=config.deployment.primary_metric,
            threshold=config.retraining.performance_threshold,
        )
        out.update(
            status="degraded" if deg.degraded else "measured",
            reason=deg.reason,
            metrics=metrics,
            degradation=deg.to_dict(),
        )
    _save(config, registry_engine, dag_id, window, PERFORMANCE, champion.id, out, run_id)
    if log:
        log.info("Performance of %s on %s: %s", champion.label, window, out["reason"])
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
) -> dict[str, Any]:
    """The feature->engagement relation on ``window`` (already matured) vs the reference."""
    from modelguard.concept import detect_concept_drift
    from modelguard.drift import ReferenceProfile
    from modelguard.gate import read_labelled

    registry, champion, out, missing = _start(
        config, source_engine, registry_engine, window, as_of, judge_with
    )
    if missing:
        out.update(status="missing", reason=missing, concept_drift=False, drifted_features=[])
    else:
        profile = ReferenceProfile.from_stored(champion.reference_profile, champion.profile_arrays)
        frame = read_labelled(source_engine, config, window, as_of)
        # The champion's predictions carry the training-time relation over to today's inputs,
        # so a pure input shift is not mistaken for a changed relation.
        model = registry.load_model(champion)
        predictions = model.predict_proba(frame[list(config.features)])[:, 1]
        report = detect_concept_drift(
            profile,
            frame,
            config.source.label_column,
            predictions=predictions,
            config=config.drift_detection,
            min_rows=config.monitoring.min_labelled_rows,
        )
        details = report.to_dict()
        out.update(
            status="drifted" if report.concept_drift else "stable",
            concept_drift=bool(report.concept_drift),
            drifted_features=list(report.drifted_features),
            score=details.get("score"),
            report=details,
        )
        out["reason"] = (
            f"concept drift in {', '.join(report.drifted_features)}"
            if report.concept_drift
            else "feature->engagement relation stable"
        )
    _save(config, registry_engine, dag_id, window, CONCEPT, champion.id, out, run_id)
    if log:
        log.info("Concept check of %s on %s: %s", champion.label, window, out["reason"])
    return out


def _save(config, registry_engine, dag_id, window, name, version_id, out, run_id) -> None:
    from modelguard.store import MonitoringCheck, ResultStore

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
            status=out["status"],
            result=out,
            run_id=run_id,
        )
    )


def load_report(uri: str) -> dict[str, Any]:
    """A JSON report written by this package, from its file URI or path."""
    parsed = urlparse(uri)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)
    return json.loads(path.read_text())


def decide_retraining(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    drift: dict[str, Any] | None,
    performance: dict[str, Any] | None,
    concept: dict[str, Any] | None,
    window: Window,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> dict[str, Any]:
    """Combine drift, performance and concept drift into retrain / cooldown / alert / healthy.

    The triggers are judged here (``should_retrain``, pure); the cool-down is settled by the
    results store in the same locked transaction that stores the decision, over every
    interval of the model in data time, so concurrent and out-of-order runs (backfills)
    decide the same: the earliest interval of an episode retrains, later ones record
    ``cooldown``.
    """
    from modelguard.monitoring import judged_version
    from modelguard.registry import ModelRegistry
    from modelguard.retraining import importance_from_profile, should_retrain
    from modelguard.store import MonitoringDecision, ResultStore

    registry = ModelRegistry(registry_engine)
    as_of = window.end
    champion = judged_version(registry, config.model.name, as_of, judge_with)
    drift_report = load_report(drift["report_uri"]) if drift and drift.get("report_uri") else None
    store = ResultStore(registry_engine)
    store.ensure_schema()
    new_labels = None
    if champion.training_end is not None and champion.training_end < as_of:
        _sends, new_labels = _labels(
            source_engine, config, Window(champion.training_end, as_of), as_of
        )
    decision = should_retrain(
        drift_report,
        performance,
        config,
        concept=concept,
        reference_importance=importance_from_profile(champion.reference_profile),
        as_of=as_of,
        new_labelled_rows=new_labels,
    )
    candidate = decision.retrain  # only the cool-down can still block it: the store decides
    noticed = bool(
        decision.triggers
        or (drift and drift.get("verdict") in ("major", "minor"))
        or (concept and concept.get("concept_drift"))
        or (performance and performance.get("status") == "degraded")
    )
    proposed = "retrain" if candidate else ("alert" if noticed else "healthy")
    details = {
        "decision": decision.to_dict(),
        "drift_verdict": drift.get("verdict") if drift else None,
        "performance_status": performance.get("status") if performance else None,
        "concept_status": concept.get("status") if concept else None,
        "report_uri": drift.get("report_uri") if drift else None,
        "html_uri": drift.get("html_uri") if drift else None,
        "champion_id": champion.id,
        "judge_with": judge_with,
    }
    stored = store.decide(
        MonitoringDecision(
            dag_id=dag_id,
            interval_start=window.start,
            interval_end=window.end,
            decision=proposed,
            reason="; ".join(decision.reasons),
            details=details,
            run_id=run_id,
            decided_at=as_of,  # replaced by the store's clock
            model_name=config.model.name,
            model_version_id=champion.id,
            retrain_candidate=candidate,
        ),
        cooldown_hours=config.retraining.cooldown_hours,
    )
    verdict, reason = stored.decision, stored.reason or ""
    if log:
        (log.warning if verdict != "healthy" else log.info)("Decision %s: %s", verdict, reason)
    return decision_xcom(stored, dag_id, run_id, window)


def decision_xcom(stored, dag_id: str, run_id: str | None, window: Window) -> dict[str, Any]:
    """The small verdict the branch and the trigger read (XCom)."""
    details = stored.details or {}
    decision = details.get("decision") or {}
    return {
        "verdict": stored.decision,
        "reason": stored.reason or "",
        "triggers": list(decision.get("triggers") or []),
        "model_name": stored.model_name,
        "model_version_id": stored.model_version_id,
        "window": [window.start.isoformat(), window.end.isoformat()],
        "trigger_run_id": f"retrain__{dag_id}__{window.label}",
        "trigger_conf": {
            "reason": f"monitoring {dag_id} {window}: {stored.reason}",
            "drift_report_uri": details.get("report_uri"),
            "as_of": window.end.isoformat() + "+00:00",
            "triggered_by": f"{dag_id}/{run_id}",
        },
        **details,
    }
