"""What is wrong in one monitoring interval: the checks' small verdicts (their XComs) read as
typed :class:`AlertCondition` s, and which conditions the interval could judge at all.

Pure: dicts in (exactly what the tasks push), dataclasses out. The rules (also in the README,
"Alerts"), with ``monitoring.alert_thresholds`` deciding the severity:

* ``drift`` / ``dataset``: the drift verdict is not healthy, or a feature's PSI reaches
  ``drift_critical``. Critical when the dataset drifted (verdict ``major``) or any feature's PSI
  >= ``drift_critical``; warning for other (minor) drift.
* ``performance`` / ``degradation``: the champion's primary metric dropped by more than
  ``retraining.performance_threshold`` (status ``degraded``) or by at least
  ``performance_degradation``. Critical when the relative drop >= ``performance_degradation``,
  warning for a smaller drop that still crossed retraining's threshold.
* ``performance`` / ``labels_missing``: too few matured labels to measure (a label delay);
  always a warning. While labels are missing the ``degradation`` and ``concept_drift``
  conditions are *not judged*: an open episode of theirs stays open, it is not cleared.
* ``concept_drift`` / ``relation``: the feature->outcome relation changed. Critical when the
  champion's performance on the same matured window is also degraded (the change costs what
  the gate judges), warning otherwise.
* ``estimated_performance`` / ``estimated_degradation``: the champion's primary metric,
  estimated from its scores on the newest window before the labels mature, dropped by more
  than ``retraining.performance_threshold`` (or by at least ``performance_degradation``).
  Critical when the estimated relative drop >= ``performance_degradation``, warning otherwise.
  An estimate that is ``unavailable`` (or disabled) judges nothing: an open episode stays.
* ``health`` / ``health:<check>``: a check of ``check_health`` that is not ok, with the check's
  own severity; ``health:monitoring_tasks``: a task of this monitoring run failed (critical:
  the interval was not fully judged).

A condition is only cleared by an interval that judged it (:attr:`Assessment.judges`): a drift
check that failed, a health task that did not run, or labels that are missing leave an open
episode of that kind as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelguard.alerts.records import (
    ALERT_KINDS,
    CONCEPT_DRIFT,
    CRITICAL,
    DRIFT,
    ESTIMATED_PERFORMANCE,
    HEALTH,
    PERFORMANCE,
    SEVERITIES,
    WARNING,
    severity_rank,
)
from modelguard.exceptions import MalformedResultError

__all__ = [
    "ANY_KEY",
    "Assessment",
    "AlertCondition",
    "assess",
    "concept_condition",
    "drift_condition",
    "estimate_condition",
    "health_conditions",
    "performance_conditions",
    "task_failure_condition",
]

ANY_KEY = "*"
"""A scope's key that stands for every key of its kind (the health checks)."""

DATASET = "dataset"
DEGRADATION = "degradation"
LABELS_MISSING = "labels_missing"
RELATION = "relation"
ESTIMATED_DEGRADATION = "estimated_degradation"
MONITORING_TASKS = "health:monitoring_tasks"


@dataclass(frozen=True)
class AlertCondition:
    """One thing wrong with a model or its pipeline in one interval."""

    kind: str
    key: str  # the condition within its kind: one open episode per (model, kind, key)
    severity: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise MalformedResultError(
                f"alert kind {self.kind!r} is not one of {', '.join(ALERT_KINDS)}"
            )
        if self.severity not in SEVERITIES:
            raise MalformedResultError(
                f"alert severity {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        if not self.key or not self.message:
            raise MalformedResultError("an alert condition needs a key and a message")

    @property
    def scope(self) -> tuple[str, str]:
        return (self.kind, self.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "severity": self.severity,
            "message": self.message,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertCondition:
        try:
            return cls(
                kind=data["kind"],
                key=data["key"],
                severity=data["severity"],
                message=data["message"],
                details=dict(data.get("details") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise MalformedResultError(f"not an alert condition: {data!r} ({exc})") from exc


def by_severity(conditions: Sequence[AlertCondition]) -> list[AlertCondition]:
    """Critical first, then by kind and key (the order alerts are listed in)."""
    return sorted(conditions, key=lambda c: (severity_rank(c.severity), c.kind, c.key))


@dataclass(frozen=True)
class Assessment:
    """The conditions of one interval and the scopes it judged: ``(kind, key)`` pairs, where
    the key :data:`ANY_KEY` stands for every key of the kind. A scope judged without a
    condition clears that condition's open episode; a scope not judged leaves it alone."""

    conditions: tuple[AlertCondition, ...]
    judged: tuple[tuple[str, str], ...]

    def judges(self, kind: str, key: str) -> bool:
        return (kind, key) in self.judged or (kind, ANY_KEY) in self.judged

    def condition(self, kind: str, key: str) -> AlertCondition | None:
        return next((c for c in self.conditions if c.scope == (kind, key)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conditions": [c.to_dict() for c in self.conditions],
            "judged": [list(s) for s in self.judged],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        return cls(
            conditions=tuple(AlertCondition.from_dict(c) for c in data.get("conditions") or ()),
            judged=tuple((str(k), str(v)) for k, v in data.get("judged") or ()),
        )


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def drift_condition(
    drift: Mapping[str, Any], feature_psi: Mapping[str, float | None], drift_critical: float
) -> AlertCondition | None:
    """The drift condition of a drift verdict (``detect_drift``'s XCom) and the interval's PSI
    per feature, or None when the interval shows no drift."""
    verdict = drift.get("verdict")
    psi = {k: float(v) for k, v in feature_psi.items() if v is not None}
    over = sorted((k for k, v in psi.items() if v >= drift_critical), key=lambda k: -psi[k])
    if verdict not in ("major", "minor") and not over:
        return None
    drifted = list(drift.get("drifted_features") or [])
    severity = CRITICAL if verdict == "major" or over else WARNING
    named = over or drifted
    shown = ", ".join(f"{f} (PSI {_fmt(psi.get(f))})" for f in named[:5])
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    what = {"major": "dataset drift", "minor": "minor drift"}.get(verdict, "a feature's PSI")
    message = f"{what}: {len(drifted)} drifted feature(s)"
    if over:
        message += f", {len(over)} with PSI >= {drift_critical:g}"
    message += f": {shown}{more}" if shown else ""
    return AlertCondition(
        DRIFT,
        DATASET,
        severity,
        message,
        {
            "verdict": verdict,
            "drifted_features": drifted,
            "major_features": list(drift.get("major_features") or []),
            "max_psi": max(psi.values()) if psi else None,
            "psi_over_critical": {k: psi[k] for k in over},
            "drift_critical": drift_critical,
            "n_rows": drift.get("n_rows"),
            "report_uri": drift.get("report_uri"),
        },
    )


def performance_conditions(
    performance: Mapping[str, Any], performance_degradation: float
) -> tuple[list[AlertCondition], list[tuple[str, str]]]:
    """The performance conditions of ``measure_performance``'s XCom and the scopes it judged."""
    status = performance.get("status")
    window = performance.get("window")
    if status == "missing":
        return [
            AlertCondition(
                PERFORMANCE,
                LABELS_MISSING,
                WARNING,
                f"performance not measured on the matured window: {performance.get('reason')}",
                {
                    "window": window,
                    "sends": performance.get("sends"),
                    "labelled": performance.get("labelled"),
                },
            )
        ], [(PERFORMANCE, LABELS_MISSING)]
    judged = [(PERFORMANCE, LABELS_MISSING), (PERFORMANCE, DEGRADATION)]
    deg = performance.get("degradation") or {}
    drop = deg.get("relative_drop")
    critical = drop is not None and drop >= performance_degradation
    if status != "degraded" and not critical:
        return [], judged
    metric = deg.get("metric", "primary metric")
    message = (
        f"{metric} {_fmt(deg.get('observed'))} against a baseline of "
        f"{_fmt(deg.get('baseline'))}: {_fmt(drop, '.1%')} lower"
    )
    if critical:
        message += f" (>= {performance_degradation:.1%})"
    details = {
        "window": window,
        "metric": metric,
        "observed": deg.get("observed"),
        "baseline": deg.get("baseline"),
        "relative_drop": drop,
        "performance_degradation": performance_degradation,
        "retraining_threshold": deg.get("threshold"),
        "labelled": performance.get("labelled"),
    }
    severity = CRITICAL if critical else WARNING
    return [AlertCondition(PERFORMANCE, DEGRADATION, severity, message, details)], judged


def estimate_condition(
    estimate: Mapping[str, Any], performance_degradation: float
) -> tuple[AlertCondition | None, list[tuple[str, str]]]:
    """The condition of ``estimate_performance``'s XCom (an estimated drop of the primary
    metric, before the labels mature) and the scopes it judged (none unless estimated)."""
    if estimate.get("status") != "estimated":
        return None, []
    judged = [(ESTIMATED_PERFORMANCE, ESTIMATED_DEGRADATION)]
    drop = estimate.get("relative_drop")
    critical = drop is not None and drop >= performance_degradation
    if not estimate.get("degraded") and not critical:
        return None, judged
    metric = estimate.get("metric", "primary metric")
    message = (
        f"{metric} estimated {_fmt(estimate.get('estimate'))} "
        f"[{_fmt(estimate.get('lower'))}, {_fmt(estimate.get('upper'))}] from the champion's "
        f"scores, against a baseline of {_fmt(estimate.get('baseline'))}: "
        f"{_fmt(drop, '.1%')} lower"
    )
    if critical:
        message += f" (>= {performance_degradation:.1%})"
    message += "; the labels have not matured yet"
    details = {
        "window": estimate.get("window"),
        "metric": metric,
        "estimate": estimate.get("estimate"),
        "lower": estimate.get("lower"),
        "upper": estimate.get("upper"),
        "baseline": estimate.get("baseline"),
        "relative_drop": drop,
        "performance_degradation": performance_degradation,
        "retraining_threshold": estimate.get("threshold"),
        "n_rows": estimate.get("n_rows"),
    }
    severity = CRITICAL if critical else WARNING
    condition = AlertCondition(
        ESTIMATED_PERFORMANCE, ESTIMATED_DEGRADATION, severity, message, details
    )
    return condition, judged


def concept_condition(
    concept: Mapping[str, Any], performance: Mapping[str, Any] | None
) -> tuple[AlertCondition | None, list[tuple[str, str]]]:
    """The concept-drift condition of ``detect_concept_drift``'s XCom (and the performance of
    the same matured window, which decides the severity) and the scopes it judged."""
    status = concept.get("status")
    if status == "missing":
        return None, []
    judged = [(CONCEPT_DRIFT, RELATION)]
    if not concept.get("concept_drift"):
        return None, judged
    degraded = bool(performance) and performance.get("status") == "degraded"
    features = list(concept.get("drifted_features") or [])
    message = f"feature->outcome relation changed in {', '.join(features) or 'the data'}"
    message += (
        "; the champion's performance dropped on the same window"
        if degraded
        else "; performance not (yet) degraded"
    )
    details = {
        "window": concept.get("window"),
        "drifted_features": features,
        "score": concept.get("score"),
        "performance_degraded": degraded,
        "reason": concept.get("reason"),
    }
    severity = CRITICAL if degraded else WARNING
    return AlertCondition(CONCEPT_DRIFT, RELATION, severity, message, details), judged


def health_conditions(health: Mapping[str, Any]) -> list[AlertCondition]:
    """One condition per check of ``check_health``'s XCom that is not ok."""
    checks = health.get("checks")
    if not isinstance(checks, list):
        raise MalformedResultError(
            f"the health check's XCom has no list of checks (got {health!r}); expected "
            '{"checks": [{"name", "ok", "severity", "message", "value"}, ...]}'
        )
    out = []
    for check in checks:
        if check.get("ok"):
            continue
        severity = check.get("severity") if check.get("severity") in SEVERITIES else CRITICAL
        name = str(check.get("name") or "unnamed")
        out.append(
            AlertCondition(
                HEALTH,
                f"health:{name}",
                severity,
                f"health check {name} failed: {check.get('message') or 'no message'}",
                {"check": name, "value": check.get("value")},
            )
        )
    return out


def task_failure_condition(failed: Mapping[str, str]) -> AlertCondition | None:
    """A condition for this run's monitoring tasks that failed (task id -> state)."""
    if not failed:
        return None
    named = ", ".join(f"{t} ({s})" for t, s in sorted(failed.items()))
    return AlertCondition(
        HEALTH,
        MONITORING_TASKS,
        CRITICAL,
        f"monitoring tasks did not complete: {named}; the interval was not fully judged",
        {"tasks": dict(sorted(failed.items()))},
    )


def assess(
    *,
    drift: Mapping[str, Any] | None,
    feature_psi: Mapping[str, float | None] | None = None,
    performance: Mapping[str, Any] | None,
    concept: Mapping[str, Any] | None,
    health: Mapping[str, Any] | None,
    failed_tasks: Mapping[str, str] | None,
    drift_critical: float,
    performance_degradation: float,
    decision: Mapping[str, Any] | None = None,
    estimate: Mapping[str, Any] | None = None,
) -> Assessment:
    """Every condition of one interval. An input that is None was not produced (its task
    failed, was skipped or does not exist yet): its scopes are not judged. ``failed_tasks``
    None: the run's task states are unknown, so ``health:monitoring_tasks`` is not judged.
    ``decision`` (``decide``'s XCom) is added to every condition's details."""
    conditions: list[AlertCondition] = []
    judged: list[tuple[str, str]] = []
    if drift is not None:
        judged.append((DRIFT, DATASET))
        found = drift_condition(drift, feature_psi or {}, drift_critical)
        conditions += [found] if found else []
    if performance is not None:
        found_perf, scopes = performance_conditions(performance, performance_degradation)
        conditions += found_perf
        judged += scopes
    if concept is not None:
        found, scopes = concept_condition(concept, performance)
        conditions += [found] if found else []
        judged += scopes
    if estimate is not None:
        found, scopes = estimate_condition(estimate, performance_degradation)
        conditions += [found] if found else []
        judged += scopes
    if health is not None:
        judged.append((HEALTH, ANY_KEY))
        conditions += health_conditions(health)
    elif failed_tasks is not None:
        judged.append((HEALTH, MONITORING_TASKS))
    if failed_tasks is not None:
        found = task_failure_condition(failed_tasks)
        conditions += [found] if found else []
    if decision:
        summary = {"verdict": decision.get("verdict"), "reason": decision.get("reason")}
        conditions = [
            AlertCondition(c.kind, c.key, c.severity, c.message, {**c.details, "decision": summary})
            for c in conditions
        ]
    return Assessment(tuple(by_severity(conditions)), tuple(dict.fromkeys(judged)))
