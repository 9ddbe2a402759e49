"""The monitoring report of one model for one period ``[start, end)``, assembled from stored rows.

What is in it, and which period each part covers:

- the **champion** and its **history**, and every **version** with its **evaluations** (McNemar
  ``b``, ``c``, p-value, improvement, reasons): the whole registry, which is small and never
  pruned, so a report always says who judges and why;
- **drift per feature over time**: the drift runs of the model's monitoring DAGs whose interval
  ends in ``(start, end]`` (the runs of the period), one point per feature and run;
- **performance** (and concept drift) **over time**: the label checks *judged* in the period.
  A check covers the sends of ``[sends_start, sends_end)`` and is judged once their outcomes
  are final, ``labels_mature_at = sends_end + source.label_delay_hours``; a point whose labels
  had not matured enough to judge is kept, marked ``matured: false``;
- **estimated performance over time**: the estimates of the champion's primary metric made
  from its scores before the labels matured, one point per estimate whose window ends in
  ``(start, end]``, with the realised value beside it once the window's labels matured (the
  estimate's error ``realised - estimate`` and whether it lay inside the interval);
- **alerts** overlapping the period (data time), most severe first;
- **deployments and rollbacks** (promotions, rejections, rollbacks, post-deployment checks)
  effective in ``[start, end)`` in data time (the change's ``effective_at``, else the gate's
  ``as_of``; a post-deployment check: its window's end plus the label delay; else the wall
  time the event was written).

Pure: the caller reads the rows (:mod:`modelguard.pipelines.model_report`); records are read
by attribute, so any object with the stores' fields will do. Times are naive UTC.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelguard.core.window import to_naive_utc
from modelguard.exceptions import DataValidationError
from modelguard.links import interval_report_url

SCHEMA_VERSION = 1

PERFORMANCE_CHECK = "performance"
CONCEPT_CHECK = "concept_drift"
SEVERITY_ORDER = ("major", "minor", "none")  # most severe first
METRIC_KEYS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "engagement_rate",
    "predicted_rate",
    "brier_score",
    "expected_calibration_error",
)
DEPLOYMENT_KINDS = {
    "promoted": "deployment",
    "rejected": "rejection",
    "rolled_back": "rollback",
    "rollback_failed": "rollback_failed",
    "post_deployment_check": "post_deployment_check",
}


# ----------------------------------------------------------------------------- the data model


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in naive UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = to_naive_utc(self.start), to_naive_utc(self.end)
        if start >= end:
            raise DataValidationError(
                f"report period: start {start.isoformat()} must be before end "
                f"{end.isoformat()}; the period is half-open [start, end)"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def label(self) -> str:
        from modelguard.core.window import Window

        return Window(self.start, self.end).label


@dataclass(frozen=True)
class Evaluation:
    """One champion/challenger evaluation of a version (its ``evaluated`` event)."""

    event_id: int
    at: datetime
    run_id: str | None
    champion_id: int | None
    champion_version: int | None
    decision: str | None
    test: str | None
    b: int | None
    c: int | None
    n: int | None
    statistic: float | None
    pvalue: float | None
    primary_metric: str | None
    improvement: float | None
    champion_metric: float | None
    challenger_metric: float | None
    significance_level: float | None
    min_improvement: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class VersionEntry:
    """One registered version (no profile, no artifact bytes) and its evaluations."""

    id: int
    version: int
    label: str
    status: str
    created_at: datetime
    strategy: str | None
    training_start: datetime | None
    training_end: datetime | None
    run_id: str | None
    metrics: dict[str, Any]
    evaluations: tuple[Evaluation, ...] = ()


@dataclass(frozen=True)
class ChampionChange:
    """A version becoming champion: bootstrap, promotion or restored by a rollback."""

    event_id: int
    version_id: int
    label: str
    how: str  # "bootstrap", "promotion" or "rollback"
    at: datetime  # wall time the change was written
    effective_at: datetime | None  # data time from which it judges (None: the bootstrap)
    reason: str | None
    run_id: str | None


@dataclass(frozen=True)
class Champion:
    """The current champion and the change that made it champion."""

    version: VersionEntry
    how: str
    since: datetime | None
    effective_at: datetime | None


@dataclass(frozen=True)
class FeaturePoint:
    """One feature in one drift run."""

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    severity: str
    drifted: bool
    psi: float | None
    ks_statistic: float | None
    chi2_statistic: float | None
    pvalue_adjusted: float | None
    effect_size: float | None
    reason: str | None


@dataclass(frozen=True)
class FeatureSeries:
    """One feature's drift over the period, oldest run first."""

    feature: str
    feature_type: str
    worst_severity: str
    points: tuple[FeaturePoint, ...]


@dataclass(frozen=True)
class DriftInterval:
    """One drift run (one monitoring interval of one DAG)."""

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    verdict: str
    dataset_drift: bool
    n_reference: int
    n_current: int
    model_version_id: int | None
    run_id: str | None
    drifted_features: tuple[str, ...]
    summary: str | None
    report_url: str | None  # the interval's HTML report, served by the Model health page


@dataclass(frozen=True)
class PerformancePoint:
    """The judged version's performance on the sends of ``[sends_start, sends_end)``."""

    dag_id: str
    model_version_id: int
    sends_start: datetime
    sends_end: datetime
    labels_mature_at: datetime
    status: str  # measured, degraded, missing
    matured: bool  # False: too few outcomes were known to judge (status "missing")
    sends: int | None
    labelled: int | None
    label_share: float | None
    metric: str
    value: float | None
    baseline: float | None
    relative_drop: float | None
    degraded: bool
    reason: str | None
    metrics: dict[str, float | None]


@dataclass(frozen=True)
class ConceptPoint:
    """The feature->target relation on the sends of ``[sends_start, sends_end)``."""

    dag_id: str
    model_version_id: int
    sends_start: datetime
    sends_end: datetime
    labels_mature_at: datetime
    status: str  # stable, drifted, missing
    matured: bool
    concept_drift: bool
    score: float | None
    drifted_features: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class EstimatePoint:
    """The estimated primary metric of the window ``[window_start, window_end)`` (made from the
    judged version's scores before the labels matured) and, from ``labels_mature_at``, the
    realised value beside it: ``error`` = realised - estimate, ``inside`` whether it lay in
    ``[lower, upper]``. ``realised_status`` None: not matured (or not filled in) yet."""

    dag_id: str
    model_version_id: int
    window_start: datetime
    window_end: datetime
    labels_mature_at: datetime
    status: str  # estimated, unavailable
    metric: str
    estimate: float | None
    lower: float | None
    upper: float | None
    baseline: float | None
    relative_drop: float | None
    degraded: bool
    reason: str | None
    realised_status: str | None
    realised: float | None
    error: float | None
    inside: bool | None


@dataclass(frozen=True)
class DeploymentEvent:
    """A promotion, rejection, rollback (or failed one) or post-deployment check."""

    event_id: int
    event: str
    kind: str
    at: datetime
    effective_at: datetime
    version_id: int | None
    label: str | None
    previous_version_id: int | None
    previous_label: str | None
    status: str | None  # a post-deployment check's status; "bootstrap" for a bootstrap
    reason: str | None
    run_id: str | None


@dataclass(frozen=True)
class ModelReport:
    """Everything the report, the page and its API show of one model for one period."""

    model_name: str
    period: Period
    label_delay_hours: float
    primary_metric: str
    champion: Champion | None
    champion_history: tuple[ChampionChange, ...]
    versions: tuple[VersionEntry, ...]
    drift_intervals: tuple[DriftInterval, ...]
    drift_features: tuple[FeatureSeries, ...]
    performance: tuple[PerformancePoint, ...]
    concept_drift: tuple[ConceptPoint, ...]
    alerts: tuple[Any, ...]  # AlertRecord
    deployments: tuple[DeploymentEvent, ...]
    notes: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION
    estimated_performance: tuple[EstimatePoint, ...] = ()

    @property
    def estimate_summary(self) -> dict[str, Any]:
        """How good the estimates of the period were: how many were made, realised, inside
        their interval (and the share), and the mean absolute error."""
        made = [p for p in self.estimated_performance if p.status == "estimated"]
        realised = [p for p in made if p.realised is not None and p.error is not None]
        inside = [p for p in realised if p.inside]
        return {
            "estimates": len(made),
            "degraded": sum(p.degraded for p in made),
            "realised": len(realised),
            "inside": len(inside),
            "coverage": len(inside) / len(realised) if realised else None,
            "mean_absolute_error": (
                sum(abs(p.error) for p in realised) / len(realised) if realised else None
            ),
        }

    @property
    def counts(self) -> dict[str, int]:
        verdicts = [i.verdict for i in self.drift_intervals]
        kinds = [d.kind for d in self.deployments]
        return {
            "versions": len(self.versions),
            "drift_intervals": len(self.drift_intervals),
            "drift_major_intervals": verdicts.count("major"),
            "drift_minor_intervals": verdicts.count("minor"),
            "performance_points": len(self.performance),
            "performance_not_matured": sum(not p.matured for p in self.performance),
            "performance_degraded": sum(p.degraded for p in self.performance),
            "concept_drift_points": len(self.concept_drift),
            "alerts": len(self.alerts),
            "alerts_open": sum(getattr(a, "status", None) == "open" for a in self.alerts),
            "alerts_critical": sum(getattr(a, "severity", None) == "critical" for a in self.alerts),
            "deployments": kinds.count("deployment"),
            "rejections": kinds.count("rejection"),
            "rollbacks": kinds.count("rollback"),
            "rollbacks_failed": kinds.count("rollback_failed"),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ISO times (naive UTC), lists, no NaN or infinity."""
        out = _plain(self)
        out["counts"] = self.counts
        out["period"]["label"] = self.period.label
        out["estimate_summary"] = self.estimate_summary
        return out


def report_json(report: ModelReport) -> str:
    """The report as stable JSON: keys sorted, two-space indent, strict (no NaN)."""
    return json.dumps(report.to_dict(), sort_keys=True, indent=2, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------- assembly


def assemble_report(
    *,
    model_name: str,
    period: Period,
    label_delay_hours: float,
    primary_metric: str,
    versions: Sequence[Any] = (),
    events: Sequence[Any] = (),
    champion_id: int | None = None,
    drift_runs: Sequence[Any] = (),
    drift_features: Sequence[Any] = (),
    checks: Sequence[Any] = (),
    alerts: Sequence[Any] = (),
    base_url: str | None = "",
    estimates: Sequence[Any] = (),
) -> ModelReport:
    """The :class:`ModelReport` of ``model_name`` for ``period`` from its stored rows.

    ``versions``/``events``: the registry's ``ModelVersion`` / ``ModelEvent`` rows of the model
    (all of them); ``champion_id``: the champion pointer. ``drift_runs``, ``drift_features``,
    ``checks`` (``mg_monitoring_checks``) and ``alerts`` may hold more than the period: each is
    filtered here as the module docstring says. ``base_url`` prefixes the interval report links
    (Airflow's ``[api] base_url``; empty gives root-relative links).
    """
    delay = timedelta(hours=float(label_delay_hours))
    labels = {v.id: v.label for v in versions}
    events = sorted(events, key=lambda e: e.id)
    evaluations = _evaluations(events, primary_metric)
    entries = tuple(_version_entry(v, evaluations.get(v.id, ())) for v in versions)
    by_id = {e.id: e for e in entries}
    history = _champion_history(events, labels)
    champion = None
    if champion_id is not None and champion_id in by_id:
        made = [c for c in history if c.version_id == champion_id]
        last = made[-1] if made else None
        champion = Champion(
            version=by_id[champion_id],
            how=last.how if last else "bootstrap",
            since=last.at if last else None,
            effective_at=last.effective_at if last else None,
        )
    runs = sorted(
        (r for r in drift_runs if period.start < to_naive_utc(r.interval_end) <= period.end),
        key=lambda r: (r.interval_end, r.interval_start, r.dag_id),
    )
    intervals = tuple(_drift_interval(r, model_name, base_url) for r in runs)
    keys = {(r.dag_id, r.interval_start, r.interval_end) for r in runs}
    features = _feature_series(
        [f for f in drift_features if (f.dag_id, f.interval_start, f.interval_end) in keys]
    )
    judged = [
        c for c in checks if period.start < to_naive_utc(c.interval_end) + delay <= period.end
    ]
    judged.sort(key=lambda c: (c.interval_end, c.interval_start, c.dag_id, c.model_version_id))
    performance = tuple(
        _performance_point(c, delay, primary_metric)
        for c in judged
        if c.check_name == PERFORMANCE_CHECK
    )
    concept = tuple(_concept_point(c, delay) for c in judged if c.check_name == CONCEPT_CHECK)
    estimated = tuple(
        _estimate_point(e, delay)
        for e in sorted(
            (e for e in estimates if period.start < to_naive_utc(e.interval_end) <= period.end),
            key=lambda e: (e.interval_end, e.interval_start, e.dag_id, e.model_version_id),
        )
    )
    deployments = tuple(d for d in (_deployment(e, labels, delay) for e in events) if d is not None)
    deployments = tuple(d for d in deployments if period.start <= d.effective_at < period.end)
    notes = (
        f"performance and concept-drift points are judged at labels_mature_at = sends_end + "
        f"source.label_delay_hours ({float(label_delay_hours):g} h, the config's current value: "
        "the stored checks do not record the delay they were judged with)",
    )
    return ModelReport(
        model_name=model_name,
        period=period,
        label_delay_hours=float(label_delay_hours),
        primary_metric=primary_metric,
        champion=champion,
        champion_history=history,
        versions=entries,
        drift_intervals=intervals,
        drift_features=features,
        performance=performance,
        concept_drift=concept,
        alerts=tuple(alerts),
        deployments=deployments,
        notes=notes,
        estimated_performance=estimated,
    )


# ----------------------------------------------------------------------------- the parts


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _time(text: Any) -> datetime | None:
    if isinstance(text, datetime):
        return to_naive_utc(text)
    if isinstance(text, str):
        try:
            return to_naive_utc(datetime.fromisoformat(text))
        except ValueError:
            return None
    return None


def _scalars(metrics: Any) -> dict[str, Any]:
    """A version's metrics without nested values (what a table of versions shows)."""
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, float):
            out[str(key)] = value if math.isfinite(value) else None
        elif value is None or isinstance(value, str | int | bool):
            out[str(key)] = value
    return out


def _evaluations(events: Iterable[Any], primary_metric: str) -> dict[int, tuple[Evaluation, ...]]:
    found: dict[int, list[Evaluation]] = {}
    for e in events:
        if e.event != "evaluated" or e.version_id is None:
            continue
        details = e.details or {}
        result = details.get("result") or {}
        metric = result.get("primary_metric") or primary_metric
        champion = result.get("champion") if isinstance(result.get("champion"), dict) else {}
        challenger = result.get("challenger") if isinstance(result.get("challenger"), dict) else {}
        found.setdefault(e.version_id, []).append(
            Evaluation(
                event_id=e.id,
                at=e.at,
                run_id=e.run_id,
                champion_id=_int(details.get("champion_id")),
                champion_version=_int(details.get("champion_version")),
                decision=result.get("decision"),
                test=result.get("test"),
                b=_int(result.get("b")),
                c=_int(result.get("c")),
                n=_int(result.get("n")),
                statistic=_number(result.get("statistic")),
                pvalue=_number(result.get("pvalue")),
                primary_metric=metric,
                improvement=_number(result.get("improvement")),
                champion_metric=_number(champion.get(metric)),
                challenger_metric=_number(challenger.get(metric)),
                significance_level=_number(result.get("significance_level")),
                min_improvement=_number(result.get("min_improvement")),
                reasons=tuple(str(r) for r in result.get("reasons") or ()),
            )
        )
    return {k: tuple(v) for k, v in found.items()}


def _version_entry(v: Any, evaluations: tuple[Evaluation, ...]) -> VersionEntry:
    return VersionEntry(
        id=v.id,
        version=v.version,
        label=v.label,
        status=v.status,
        created_at=v.created_at,
        strategy=v.strategy,
        training_start=v.training_start,
        training_end=v.training_end,
        run_id=v.run_id,
        metrics=_scalars(v.metrics),
        evaluations=evaluations,
    )


def _effective(details: dict[str, Any], at: datetime) -> datetime:
    """Data time a registry change takes effect (as the registry's champion history reads it)."""
    evaluation = details.get("evaluation") if isinstance(details.get("evaluation"), dict) else {}
    return _time(details.get("effective_at")) or _time(evaluation.get("as_of")) or at


def _champion_history(events: Iterable[Any], labels: dict[int, str]) -> tuple[ChampionChange, ...]:
    changes: list[ChampionChange] = []
    for e in events:
        details = e.details or {}
        if e.event == "promoted":
            version_id = e.version_id
            how = "bootstrap" if details.get("bootstrap") else "promotion"
        elif e.event == "rolled_back":
            version_id = _int(details.get("restored_version_id"))
            how = "rollback"
        else:
            continue
        if version_id is None:
            continue
        changes.append(
            ChampionChange(
                event_id=e.id,
                version_id=version_id,
                label=labels.get(version_id, f"version id {version_id}"),
                how=how,
                at=e.at,
                effective_at=None if how == "bootstrap" else _effective(details, e.at),
                reason=e.reason,
                run_id=e.run_id,
            )
        )
    return tuple(changes)


def _drift_interval(run: Any, model_name: str, base_url: str | None) -> DriftInterval:
    summary = run.summary or {}
    url = (
        interval_report_url(base_url, model_name, run.dag_id, run.interval_start, run.interval_end)
        if run.html_uri
        else None
    )
    return DriftInterval(
        dag_id=run.dag_id,
        interval_start=run.interval_start,
        interval_end=run.interval_end,
        verdict=run.verdict,
        dataset_drift=bool(run.dataset_drift),
        n_reference=run.n_reference,
        n_current=run.n_current,
        model_version_id=run.model_version_id,
        run_id=run.run_id,
        drifted_features=tuple(str(f) for f in summary.get("drifted_features") or ()),
        summary=summary.get("text"),
        report_url=url,
    )


def severity_rank(severity: str) -> int:
    """0 for ``major``; unknown severities sort last."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _feature_series(rows: Sequence[Any]) -> tuple[FeatureSeries, ...]:
    by_name: dict[str, list[Any]] = {}
    for row in rows:
        by_name.setdefault(row.feature, []).append(row)
    series = []
    for name in sorted(by_name):
        points = sorted(by_name[name], key=lambda r: (r.interval_end, r.interval_start, r.dag_id))
        worst = min((p.severity for p in points), key=severity_rank)
        series.append(
            FeatureSeries(
                feature=name,
                feature_type=points[-1].feature_type,
                worst_severity=worst,
                points=tuple(
                    FeaturePoint(
                        dag_id=p.dag_id,
                        interval_start=p.interval_start,
                        interval_end=p.interval_end,
                        severity=p.severity,
                        drifted=bool(p.drifted),
                        psi=p.psi,
                        ks_statistic=p.ks_statistic,
                        chi2_statistic=p.chi2_statistic,
                        pvalue_adjusted=p.pvalue_adjusted,
                        effect_size=p.effect_size,
                        reason=p.reason,
                    )
                    for p in points
                ),
            )
        )
    return tuple(series)


def _performance_point(check: Any, delay: timedelta, primary_metric: str) -> PerformancePoint:
    result = check.result or {}
    metrics = result.get("metrics") if isinstance(result.get("metrics"), dict) else {}
    degradation = result.get("degradation") if isinstance(result.get("degradation"), dict) else {}
    metric = degradation.get("metric") or primary_metric
    sends, labelled = _int(result.get("sends")), _int(result.get("labelled"))
    value = _number(degradation.get("observed"))
    if value is None:
        value = _number(metrics.get(metric))
    return PerformancePoint(
        dag_id=check.dag_id,
        model_version_id=check.model_version_id,
        sends_start=check.interval_start,
        sends_end=check.interval_end,
        labels_mature_at=to_naive_utc(check.interval_end) + delay,
        status=check.status,
        matured=check.status != "missing",
        sends=sends,
        labelled=labelled,
        label_share=(labelled / sends) if sends and labelled is not None else None,
        metric=metric,
        value=value,
        baseline=_number(degradation.get("baseline")),
        relative_drop=_number(degradation.get("relative_drop")),
        degraded=bool(degradation.get("degraded")) or check.status == "degraded",
        reason=result.get("reason"),
        metrics={k: _number(metrics.get(k)) for k in METRIC_KEYS if k in metrics},
    )


def _concept_point(check: Any, delay: timedelta) -> ConceptPoint:
    result = check.result or {}
    return ConceptPoint(
        dag_id=check.dag_id,
        model_version_id=check.model_version_id,
        sends_start=check.interval_start,
        sends_end=check.interval_end,
        labels_mature_at=to_naive_utc(check.interval_end) + delay,
        status=check.status,
        matured=check.status != "missing",
        concept_drift=bool(result.get("concept_drift")),
        score=_number(result.get("score")),
        drifted_features=tuple(str(f) for f in result.get("drifted_features") or ()),
        reason=result.get("reason"),
    )


def _estimate_point(e: Any, delay: timedelta) -> EstimatePoint:
    end = to_naive_utc(e.interval_end)
    return EstimatePoint(
        dag_id=e.dag_id,
        model_version_id=e.model_version_id,
        window_start=to_naive_utc(e.interval_start),
        window_end=end,
        labels_mature_at=end + delay,
        status=e.status,
        metric=e.metric,
        estimate=_number(e.estimate),
        lower=_number(e.lower),
        upper=_number(e.upper),
        baseline=_number(e.baseline),
        relative_drop=_number(e.relative_drop),
        degraded=bool(e.degraded),
        reason=e.reason,
        realised_status=e.realised_status,
        realised=_number(e.realised),
        error=_number(e.error),
        inside=None if e.inside is None else bool(e.inside),
    )


def _deployment(e: Any, labels: dict[int, str], delay: timedelta) -> DeploymentEvent | None:
    kind = DEPLOYMENT_KINDS.get(e.event)
    if kind is None:
        return None
    details = e.details or {}
    version_id, previous, status = e.version_id, None, None
    if e.event == "promoted":
        previous = _int(details.get("previous_champion_id"))
        status = "bootstrap" if details.get("bootstrap") else None
    elif e.event == "rolled_back":
        # the event names the version rolled back; the new champion is the restored one
        previous, version_id = e.version_id, _int(details.get("restored_version_id"))
    effective = _effective(details, e.at)
    if e.event == "post_deployment_check":
        status = details.get("status")
        window = details.get("window")
        if isinstance(window, list | tuple) and len(window) == 2 and _time(window[1]):
            # judged once the window's outcomes were final: as of its end + the label delay
            effective = _time(window[1]) + delay
    return DeploymentEvent(
        event_id=e.id,
        event=e.event,
        kind=kind,
        at=e.at,
        effective_at=effective,
        version_id=version_id,
        label=labels.get(version_id) if version_id is not None else None,
        previous_version_id=previous,
        previous_label=labels.get(previous) if previous is not None else None,
        status=status,
        reason=e.reason,
        run_id=e.run_id,
    )


# ----------------------------------------------------------------------------- JSON


def _plain(value: Any) -> Any:
    """Builtin JSON types: dataclasses as dicts (records with ``to_dict`` through it)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict") and not isinstance(value, ModelReport):
            return _plain(value.to_dict())
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return to_naive_utc(value).isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


__all__ = [
    "SCHEMA_VERSION",
    "Champion",
    "ChampionChange",
    "ConceptPoint",
    "DeploymentEvent",
    "DriftInterval",
    "Evaluation",
    "FeaturePoint",
    "FeatureSeries",
    "ModelReport",
    "Period",
    "PerformancePoint",
    "VersionEntry",
    "assemble_report",
    "report_json",
    "severity_rank",
]
