"""The retraining decision of a monitoring run: drift, performance and concept drift combined
into retrain / cooldown / alert / healthy, stored once per interval (replaced on rerun), and the
small verdict the branch and the retraining trigger read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from modelguard.config import ModelguardConfig
from modelguard.core.timing import phase
from modelguard.core.window import Window
from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END

if TYPE_CHECKING:
    from modelguard.drift.detection import DriftReport
    from modelguard.labels.estimation import EstimateOutcome
    from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome
    from modelguard.pipelines.drift_check import DriftCheckResult


def load_report(uri: str) -> dict[str, Any]:
    """A JSON report written by this package, from its file URI or path."""
    parsed = urlparse(uri)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)
    return json.loads(path.read_text())


def load_drift_report(uri: str) -> DriftReport:
    """The drift report a drift check wrote (``drift_report.json``), read back typed;
    MalformedResultError naming the file when it is not a ``DriftReport.to_dict()``."""
    from modelguard.drift.detection import DriftReport
    from modelguard.exceptions import MalformedResultError

    try:
        return DriftReport.from_dict(load_report(uri))
    except MalformedResultError as exc:
        raise MalformedResultError(f"drift report {uri}: {exc}") from exc


def decide_retraining(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    drift: DriftCheckResult | None,
    performance: PerformanceOutcome | None,
    concept: ConceptOutcome | None,
    window: Window,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
    estimate: EstimateOutcome | None = None,
) -> dict[str, Any]:
    """Combine drift, performance and concept drift into retrain / cooldown / alert / healthy.

    The triggers are judged here (``should_retrain``, pure); the cool-down is settled by the
    results store in the same locked transaction that stores the decision, over every
    interval of the model in data time, so concurrent and out-of-order runs (backfills)
    decide the same: the earliest interval of an episode retrains, later ones record
    ``cooldown``.

    The three inputs are typed: the operator reads its upstream XComs back with
    ``DriftCheckResult.from_xcom``, ``PerformanceOutcome.from_dict`` and
    ``ConceptOutcome.from_dict``. Returns the decision's XCom (:func:`decision_xcom`).
    """
    from modelguard.pipelines.drift_check import judged_version
    from modelguard.retraining.decision import importance_from_profile, should_retrain
    from modelguard.retraining.training_sets import count_new_labelled_rows
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.results import MonitoringDecision, ResultStore

    as_of = window.end
    with phase("registry"):
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)
        champion = judged_version(registry, config.model.name, as_of, judge_with)
    with phase("read"):
        drift_report = load_drift_report(drift.report_uri) if drift and drift.report_uri else None
    store = ResultStore(registry_engine)
    with phase("write"):
        store.ensure_schema()
    new_labels = None
    if champion.training_end is not None and champion.training_end < as_of:
        with phase("read"):
            new_labels = count_new_labelled_rows(
                source_engine, config, since=champion.training_end, as_of=as_of
            )
    with phase("compute"):
        decision = should_retrain(
            drift_report,
            performance,
            config,
            concept=concept,
            reference_importance=importance_from_profile(champion.reference_profile),
            as_of=as_of,
            new_labelled_rows=new_labels,
            estimate=estimate,
        )
    candidate = decision.retrain  # only the cool-down can still block it: the store decides
    noticed = bool(
        decision.triggers
        or (drift and drift.verdict in ("major", "minor"))
        or (concept and concept.concept_drift)
        or (performance and performance.status == "degraded")
        or decision.alerts  # an estimated drop: an alert, never a retraining
    )
    proposed = "retrain" if candidate else ("alert" if noticed else "healthy")
    details = {
        "decision": decision.to_dict(),
        "drift_verdict": drift.verdict if drift else None,
        "performance_status": performance.status if performance else None,
        "concept_status": concept.status if concept else None,
        "estimate_status": estimate.status if estimate else None,
        "report_uri": drift.report_uri if drift else None,
        "html_uri": drift.html_uri if drift else None,
        "champion_id": champion.id,
        "judge_with": judge_with,
    }
    record = MonitoringDecision(
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
    )
    with phase("write"):
        stored = store.decide(record, cooldown_hours=config.retraining.cooldown_hours)
    verdict, reason = stored.decision, stored.reason or ""
    if log:
        (log.warning if verdict != "healthy" else log.info)("Decision %s: %s", verdict, reason)
    return decision_xcom(stored, dag_id, run_id, window)


def retraining_run_id(dag_id: str, window: Window) -> str:
    """The run id of the retraining an interval starts: one per monitored window, so a rerun of
    the interval starts no second one (and a person can tell which window asked for it)."""
    return f"retrain__{dag_id}__{window.label}"


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
        "trigger_run_id": retraining_run_id(dag_id, window),
        "trigger_conf": {
            "reason": f"monitoring {dag_id} {window}: {stored.reason}",
            "drift_report_uri": details.get("report_uri"),
            "as_of": window.end.isoformat() + "+00:00",
            "triggered_by": f"{dag_id}/{run_id}",
        },
        **details,
    }
