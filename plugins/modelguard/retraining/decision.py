"""Whether to retrain now: :func:`should_retrain` weighs drift, concept drift and measured
performance against the thresholds, and keeps every reason, including why not. Pure."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.window import to_naive_utc
from modelguard.drift.detection import DriftReport
from modelguard.exceptions import InvalidArgumentError, MalformedResultError
from modelguard.labels.estimation import EstimateOutcome
from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome

TRIGGERS = ("drift", "concept", "performance")
ESTIMATED_PERFORMANCE = "estimated_performance"  # an alert, never a trigger (should_retrain)

_TOLERANCE = 1e-12

# =============================================================================== the decision


@dataclass(frozen=True)
class RetrainDecision:
    """Whether to retrain now.

    ``retrain`` is true when at least one trigger fired and nothing blocks. ``alerts`` holds
    what calls for an alert but never a retraining: ``"estimated_performance"`` when the
    estimate of the champion's performance (before the labels mature) dropped beyond
    ``performance_threshold``. ``triggers`` is the
    subset of :data:`TRIGGERS` that fired (whether or not blocked), ``blocked_by`` the subset of
    ("cooldown", "new_labels") that holds, ``reasons`` one sentence per trigger and blocker
    evaluated, including those that did not fire. ``details`` holds the numbers behind them.
    """

    retrain: bool
    triggers: tuple[str, ...]
    reasons: tuple[str, ...]
    blocked_by: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, compare=False)
    alerts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "triggers": list(self.triggers),
            "reasons": list(self.reasons),
            "blocked_by": list(self.blocked_by),
            "details": dict(self.details),
            "alerts": list(self.alerts),
        }


def importance_from_profile(profile: Any) -> dict[str, float]:
    """Feature -> mutual information with the target, from a reference profile.

    Accepts a :class:`modelguard.drift.detection.ReferenceProfile` or its stored JSON form
    (``ReferenceProfile.to_json()``, as the registry keeps it). A feature without a recorded
    mutual information (profile built without a target) gets 0.
    """
    features = getattr(profile, "features", None)
    if features is None and isinstance(profile, Mapping):
        features = profile.get("features")
    if not isinstance(features, Mapping):
        raise MalformedResultError(
            "expected a ReferenceProfile or its to_json() dict with a 'features' mapping; "
            f"got {type(profile).__name__}"
        )
    out: dict[str, float] = {}
    for name, entry in features.items():
        concept = entry.get("concept") if isinstance(entry, Mapping) else entry.concept
        mi = (concept or {}).get("mutual_information")
        out[name] = float(mi) if is_number(mi) and math.isfinite(mi) else 0.0
    return out


def should_retrain(
    drift_report: DriftReport | None,
    performance: PerformanceOutcome | None,
    config: ModelguardConfig,
    *,
    concept: ConceptOutcome | None = None,
    reference_importance: dict[str, float] | None = None,
    last_retraining_at: datetime | None = None,
    as_of: datetime,
    new_labelled_rows: int | None = None,
    estimate: EstimateOutcome | None = None,
) -> RetrainDecision:
    """Decide whether to retrain the champion now (pure: no I/O).

    Triggers (``config.retraining``):

    * ``drift``: the features of ``drift_report`` (a stored one read back with
      ``DriftReport.from_dict``) with
      PSI > ``drift_threshold`` carry at least ``min_drifted_importance`` of the reference
      importance. Importance is ``reference_importance`` (feature -> mutual information with the
      target in the champion's training data, see :func:`importance_from_profile`) normalised to
      sum 1; equal weights over the report's features when it is None or sums to 0. A feature
      the importance does not list weighs 0. Major drift on features the model barely uses is
      not worth a retraining; moderate drift on the feature that drives it is.
    * ``concept``: ``concept.concept_drift`` is true.
    * ``performance``: a ``"measured"`` (or ``"degraded"``, as the performance check labels a
      drop beyond its threshold) performance whose relative drop against the champion's
      evaluated baseline exceeds ``performance_threshold``. The drop is
      ``degradation.relative_drop``, else ``(baseline - observed) / baseline``; only when
      neither is available does ``degradation.degraded`` decide. A ``"missing"`` performance
      never triggers.

    ``estimate`` (optional): the estimated performance of the newest window
    (:class:`~modelguard.labels.estimation.EstimateOutcome`). Its relative drop beyond
    ``performance_threshold`` adds a reason and ``"estimated_performance"`` to ``alerts``, never
    a trigger: an estimate warns before the labels arrive, the measured drop retrains. Its
    numbers are in ``details["estimate"]``.

    Blockers: ``cooldown`` when ``last_retraining_at`` lies less than ``cooldown_hours`` before
    ``as_of``; ``new_labels`` when ``new_labelled_rows`` is given and below
    ``min_new_labelled_rows`` (see :func:`count_new_labelled_rows`).
    """
    rc = config.retraining
    as_of = to_naive_utc(as_of)
    triggers: list[str] = []
    reasons: list[str] = []
    blocked: list[str] = []
    details: dict[str, Any] = {"as_of": as_of.isoformat()}

    fired, reason, info = _drift_trigger(drift_report, reference_importance, config)
    details["drift"] = info
    reasons.append(reason)
    if fired:
        triggers.append("drift")

    fired, reason, info = _concept_trigger(concept)
    details["concept"] = info
    reasons.append(reason)
    if fired:
        triggers.append("concept")

    fired, reason, info = _performance_trigger(performance, rc.performance_threshold)
    details["performance"] = info
    reasons.append(reason)
    if fired:
        triggers.append("performance")

    alerts: list[str] = []
    if estimate is not None:
        fired, reason, info = _estimate_note(estimate, rc.performance_threshold)
        details["estimate"] = info
        reasons.append(reason)
        if fired:
            alerts.append(ESTIMATED_PERFORMANCE)

    if last_retraining_at is not None and rc.cooldown_hours > 0:
        last = to_naive_utc(last_retraining_at)
        until = last + timedelta(hours=rc.cooldown_hours)
        details["cooldown_until"] = until.isoformat()
        if as_of < until:
            blocked.append("cooldown")
            reasons.append(
                f"cool-down: last retraining at {last.isoformat()}, less than "
                f"{rc.cooldown_hours:g} h before {as_of.isoformat()}; no retraining until "
                f"{until.isoformat()}"
            )
        else:
            reasons.append(
                f"cool-down over: last retraining at {last.isoformat()}, cool-down of "
                f"{rc.cooldown_hours:g} h ended {until.isoformat()}"
            )
    if new_labelled_rows is not None:
        if isinstance(new_labelled_rows, bool) or not isinstance(
            new_labelled_rows, numbers.Integral
        ):
            raise InvalidArgumentError(
                f"new_labelled_rows must be an integer; got {new_labelled_rows!r}"
            )
        details["new_labelled_rows"] = int(new_labelled_rows)
        if new_labelled_rows < rc.min_new_labelled_rows:
            blocked.append("new_labels")
            reasons.append(
                f"too few new labelled rows: {int(new_labelled_rows)} matured since the "
                f"champion's training data, below min_new_labelled_rows "
                f"{rc.min_new_labelled_rows}"
            )
        else:
            reasons.append(
                f"new labelled rows: {int(new_labelled_rows)} >= min_new_labelled_rows "
                f"{rc.min_new_labelled_rows}"
            )

    retrain = bool(triggers) and not blocked
    if not triggers:
        reasons.append("no retraining: no trigger fired (drift, concept, performance)")
    elif blocked:
        reasons.append(
            f"no retraining: triggered by {', '.join(triggers)} but blocked by {', '.join(blocked)}"
        )
    else:
        reasons.append(f"retrain: triggered by {', '.join(triggers)}")
    return RetrainDecision(
        retrain=retrain,
        triggers=tuple(triggers),
        reasons=tuple(reasons),
        blocked_by=tuple(blocked),
        details=details,
        alerts=tuple(alerts),
    )


def is_number(x: Any) -> bool:
    """A real number that is not a bool (``True`` is an int in Python, never a threshold)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _normalised_importance(
    features: list[str], importance: Mapping[str, float] | None
) -> tuple[dict[str, float], str]:
    if importance:
        bad = {
            k: v
            for k, v in importance.items()
            if not (is_number(v) and math.isfinite(v) and v >= 0)
        }
        if bad:
            raise InvalidArgumentError(
                f"reference_importance must map features to finite numbers >= 0; got {bad}"
            )
        total = float(sum(importance.values()))
        if total > 0:
            return {k: float(v) / total for k, v in importance.items()}, "mutual information"
    if not features:
        return {}, "equal weights"
    how = "equal weights (reference importance sums to 0)" if importance else "equal weights"
    return {f: 1.0 / len(features) for f in features}, how


def _drift_trigger(
    report: DriftReport | None, importance: Mapping[str, float] | None, config: ModelguardConfig
) -> tuple[bool, str, dict[str, Any]]:
    rc = config.retraining
    if report is None:
        return False, "drift: no drift report", {"evaluated": False}
    if not isinstance(report, DriftReport):
        raise InvalidArgumentError(
            f"drift_report must be a DriftReport (a stored one read back with "
            f"DriftReport.from_dict); got {type(report).__name__}"
        )
    features = report.features
    weights, how = _normalised_importance(list(features), importance)
    drifted: dict[str, dict[str, float]] = {}
    for name, entry in features.items():
        psi = entry.psi
        if is_number(psi) and math.isfinite(psi) and psi > rc.drift_threshold:
            drifted[name] = {"psi": float(psi), "importance": weights.get(name, 0.0)}
    share = float(sum(d["importance"] for d in drifted.values()))
    fired = bool(drifted) and share >= rc.min_drifted_importance - _TOLERANCE
    info = {
        "evaluated": True,
        "drifted_importance": share,
        "min_drifted_importance": rc.min_drifted_importance,
        "drift_threshold": rc.drift_threshold,
        "weighting": how,
        "features": drifted,
    }
    listed = ", ".join(
        f"{n} (PSI {d['psi']:.3g}, importance {d['importance']:.1%})"
        for n, d in sorted(drifted.items(), key=lambda kv: -kv[1]["importance"])
    )
    if fired:
        return (
            True,
            f"drift: major drift on enough important features: {listed} carry {share:.1%} of "
            f"the reference importance ({how}), >= min_drifted_importance "
            f"{rc.min_drifted_importance:.1%}",
            info,
        )
    if not drifted:
        return (
            False,
            f"drift: no feature has PSI > drift_threshold {rc.drift_threshold:g}",
            info,
        )
    return (
        False,
        f"drift: {listed} have PSI > {rc.drift_threshold:g} but carry only {share:.1%} of the "
        f"reference importance ({how}), below min_drifted_importance "
        f"{rc.min_drifted_importance:.1%}",
        info,
    )


def _concept_trigger(concept: ConceptOutcome | None) -> tuple[bool, str, dict[str, Any]]:
    if concept is None:
        return False, "concept: no concept-drift check", {"evaluated": False}
    if not isinstance(concept, ConceptOutcome):
        raise InvalidArgumentError(
            f"concept must be a ConceptOutcome (a pushed one read back with "
            f"ConceptOutcome.from_dict); got {type(concept).__name__}"
        )
    drifted = [str(f) for f in concept.drifted_features]
    score = concept.score
    info = {
        "evaluated": True,
        "concept_drift": bool(concept.concept_drift),
        "drifted_features": drifted,
        "score": float(score) if is_number(score) else None,
    }
    score_text = f" (score {float(score):.3g})" if is_number(score) else ""
    if concept.concept_drift:
        which = ", ".join(drifted) if drifted else "(features not listed)"
        return True, f"concept: concept drift{score_text} on {which}", info
    return False, f"concept: no concept drift{score_text}", info


def _performance_trigger(
    performance: PerformanceOutcome | None, threshold: float
) -> tuple[bool, str, dict[str, Any]]:
    if performance is None:
        return False, "performance: not measured (no performance result)", {"evaluated": False}
    if not isinstance(performance, PerformanceOutcome):
        raise InvalidArgumentError(
            f"performance must be a PerformanceOutcome (a pushed one read back with "
            f"PerformanceOutcome.from_dict); got {type(performance).__name__}"
        )
    status = performance.status
    degradation = performance.degradation
    if status == "missing":
        why = (degradation and degradation.reason) or performance.reason or "no matured labels"
        return (
            False,
            f"performance: missing ({why}); a missing measurement never triggers",
            {"evaluated": False, "status": "missing"},
        )
    if status not in ("measured", "degraded"):
        raise MalformedResultError(
            f"performance.status must be 'measured', 'degraded' or 'missing'; got {status!r}"
        )
    if degradation is None:
        metric, observed, baseline, drop = "metric", None, None, None
    else:
        metric = degradation.metric
        observed, baseline = degradation.observed, degradation.baseline
        drop = degradation.relative_drop
    if not is_number(drop) and is_number(observed) and is_number(baseline) and baseline > 0:
        drop = (baseline - observed) / baseline
    info = {
        "evaluated": True,
        "status": status,
        "metric": metric,
        "observed": observed,
        "baseline": baseline,
        "relative_drop": float(drop) if is_number(drop) else None,
        "performance_threshold": threshold,
    }
    if is_number(drop) and math.isfinite(drop):
        fired = drop - threshold > _TOLERANCE
        numbers_text = (
            f"{metric} {_fmt(observed)} vs baseline {_fmt(baseline)}: relative drop {drop:.1%}"
        )
        if fired:
            return (
                True,
                f"performance: degraded, {numbers_text} > performance_threshold {threshold:.1%}",
                info,
            )
        return (
            False,
            f"performance: healthy, {numbers_text} <= performance_threshold {threshold:.1%}",
            info,
        )
    fired = bool(degradation is not None and degradation.degraded)
    why = (degradation and degradation.reason) or "no relative drop reported"
    state = "degraded" if fired else "not degraded"
    return fired, f"performance: {state} ({why})", info


def _estimate_note(estimate: EstimateOutcome, threshold: float) -> tuple[bool, str, dict[str, Any]]:
    """Whether the estimated drop calls for an alert, the reason and the numbers."""
    if not isinstance(estimate, EstimateOutcome):
        raise InvalidArgumentError(
            f"estimate must be an EstimateOutcome (a pushed one read back with "
            f"EstimateOutcome.from_dict); got {type(estimate).__name__}"
        )
    info = {
        "evaluated": estimate.status == "estimated",
        "status": estimate.status,
        "metric": estimate.metric,
        "estimate": estimate.estimate,
        "lower": estimate.lower,
        "upper": estimate.upper,
        "baseline": estimate.baseline,
        "relative_drop": estimate.relative_drop,
        "performance_threshold": threshold,
        "window": list(estimate.window),
    }
    if estimate.status != "estimated":
        return False, f"estimate: {estimate.status} ({estimate.reason})", info
    drop = estimate.relative_drop
    metric = estimate.metric
    interval = (
        f" [{_fmt(estimate.lower)}, {_fmt(estimate.upper)}]"
        if is_number(estimate.lower) and is_number(estimate.upper)
        else ""
    )
    text = (
        f"{metric} estimated {_fmt(estimate.estimate)}{interval} from the champion's scores vs "
        f"baseline {_fmt(estimate.baseline)}"
    )
    if not (is_number(drop) and math.isfinite(drop)):
        return False, f"estimate: {text}: no relative drop (no baseline)", info
    if drop - threshold > _TOLERANCE:
        return (
            True,
            f"estimate: {text}: relative drop {drop:.1%} > performance_threshold "
            f"{threshold:.1%}; an alert before the labels mature, not a retraining",
            info,
        )
    return (
        False,
        f"estimate: {text}: relative drop {drop:.1%} <= performance_threshold {threshold:.1%}",
        info,
    )


def _fmt(x: Any) -> str:
    return f"{x:.4g}" if is_number(x) else str(x)
