"""Realised performance of the champion on matured labels, and its degradation.

Pure core: numpy only (no Airflow, no scikit-learn import; models only need ``predict_proba``).
The metrics are those of :func:`modelguard.core.scoring.score_model` (same label checks, same
definitions: a metric whose denominator is zero is None, never NaN); this module adds how well
the scores are *calibrated* (Brier score, expected calibration error, reliability table), and
compares a measurement with the champion's baseline.

A window whose labels never arrived is not a measurement of zero: :func:`missing_performance`
records it with status ``"missing"``, and :func:`degradation` never reports a missing (or
baseline-less) measurement as degraded.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from modelguard.core.records import fields_from_dict
from modelguard.core.scoring import (
    binary_labels,
    check_threshold,
    positive_probabilities,
    scores_from_probabilities,
)
from modelguard.exceptions import DataValidationError, InvalidArgumentError, MalformedResultError

__all__ = [
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "PERFORMANCE_STATUSES",
    "Baseline",
    "Degradation",
    "PerformanceReport",
    "ReliabilityBin",
    "degradation",
    "measure_performance",
    "missing_performance",
]

PERFORMANCE_STATUSES = ("measured", "missing")
HIGHER_IS_BETTER = ("accuracy", "precision", "recall", "f1", "roc_auc")
LOWER_IS_BETTER = ("log_loss", "brier_score", "expected_calibration_error")

_TOLERANCE = 1e-12
"""Slack in ``relative_drop > threshold``: a drop that equals the threshold up to float rounding
(0.8 -> 0.76 at 5%) is not a degradation."""


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width score bin ``[lower, upper)`` (the last one includes 1): its rows, their
    mean score and their actual engagement rate (both None in an empty bin)."""

    lower: float
    upper: float
    count: int
    mean_score: float | None
    actual_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_score": self.mean_score,
            "actual_rate": self.actual_rate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReliabilityBin:
        return cls(**fields_from_dict(cls, data))


@dataclass(frozen=True)
class Baseline:
    """What the champion was expected to achieve: its metrics (name -> value) and where they
    come from (``"evaluation"``: the gate's evaluation that promoted it; ``"registration"``: its
    holdout metrics when it was registered)."""

    metrics: dict[str, Any]
    source: str

    def metric(self, name: str) -> Any:
        return self.metrics.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.metrics


@dataclass(frozen=True)
class Degradation:
    """An observed metric against the champion's baseline.

    ``relative_drop`` is how much worse the observation is, relative to the baseline:
    ``(baseline - observed) / baseline`` for a metric where higher is better, the relative
    increase ``(observed - baseline) / baseline`` for one where lower is better (log_loss, Brier
    score, ECE). Positive = worse. None when it cannot be computed (no baseline, baseline 0, no
    observation); then ``degraded`` is False: no alarm without evidence.
    """

    metric: str
    observed: float | None
    baseline: float | None
    relative_drop: float | None
    degraded: bool
    threshold: float
    higher_is_better: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "observed": self.observed,
            "baseline": self.baseline,
            "relative_drop": self.relative_drop,
            "degraded": self.degraded,
            "threshold": self.threshold,
            "higher_is_better": self.higher_is_better,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Degradation:
        """Inverse of :meth:`to_dict`."""
        return cls(**fields_from_dict(cls, data))


@dataclass(frozen=True)
class PerformanceReport:
    """The champion's performance on one window of matured labels.

    ``status`` "measured": the metrics of :class:`modelguard.core.scoring.ModelScores` (predicted
    positive = score >= ``threshold``; ``predicted_rate`` is ModelScores' ``positive_rate``),
    ``mean_score``, and calibration: ``brier_score`` (mean squared error of the scores),
    ``expected_calibration_error`` (sum over the ``calibration_bins`` equal-width score bins of
    the bin's share of rows times |mean score - actual rate|) and the ``reliability`` table.
    ``status`` "missing": the labels did not arrive; every metric is None and ``reason`` says
    why. ``degradation`` is attached by :meth:`with_degradation`.
    """

    status: Literal["measured", "missing"]
    reason: str
    n: int
    n_labelled: int
    n_sends: int | None
    threshold: float | None
    accuracy: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    roc_auc: float | None = None
    log_loss: float | None = None
    engagement_rate: float | None = None
    predicted_rate: float | None = None
    mean_score: float | None = None
    brier_score: float | None = None
    expected_calibration_error: float | None = None
    calibration_bins: int | None = None
    reliability: tuple[ReliabilityBin, ...] = ()
    degradation: Degradation | None = None

    @property
    def measured(self) -> bool:
        return self.status == "measured"

    def metric(self, name: str) -> float | None:
        """The value of one metric (see :data:`HIGHER_IS_BETTER`, :data:`LOWER_IS_BETTER`)."""
        _metric_direction(name)
        return getattr(self, name)

    def with_degradation(
        self, baseline: Baseline, *, metric: str = "accuracy", threshold: float = 0.05
    ) -> PerformanceReport:
        """A copy carrying :func:`degradation` of this report against ``baseline``."""
        return replace(
            self, degradation=degradation(self, baseline, metric=metric, threshold=threshold)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: builtin types only, no NaN or infinity."""
        return {
            "status": self.status,
            "reason": self.reason,
            "n": self.n,
            "n_labelled": self.n_labelled,
            "n_sends": self.n_sends,
            "threshold": self.threshold,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "roc_auc": self.roc_auc,
            "log_loss": self.log_loss,
            "engagement_rate": self.engagement_rate,
            "predicted_rate": self.predicted_rate,
            "mean_score": self.mean_score,
            "brier_score": self.brier_score,
            "expected_calibration_error": self.expected_calibration_error,
            "calibration_bins": self.calibration_bins,
            "reliability": [b.to_dict() for b in self.reliability],
            "degradation": None if self.degradation is None else self.degradation.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceReport:
        """Inverse of :meth:`to_dict`."""
        values = fields_from_dict(cls, data)
        if values["status"] not in PERFORMANCE_STATUSES:
            raise MalformedResultError(
                f"PerformanceReport.from_dict: status {values['status']!r} is not one of "
                f"{PERFORMANCE_STATUSES}"
            )
        values["reliability"] = tuple(ReliabilityBin.from_dict(b) for b in values["reliability"])
        if values["degradation"] is not None:
            values["degradation"] = Degradation.from_dict(values["degradation"])
        return cls(**values)


# ----------------------------------------------------------------------------- measuring


def measure_performance(
    model: Any, frame: Any, target: str, *, threshold: float = 0.5, bins: int = 10
) -> PerformanceReport:
    """Score ``model`` on the labelled ``frame`` (the model gets it without ``target``).

    Raises as :func:`modelguard.core.scoring.score_model` does (DataValidationError on an empty
    frame, a missing target column, missing or non-0/1 labels; ModelInterfaceError /
    SchemaMismatchError for a model that cannot score the frame), and InvalidArgumentError (a ValueError) for a
    threshold outside (0, 1) or ``bins`` < 1.
    """
    threshold = check_threshold(threshold)
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise InvalidArgumentError(f"bins must be an integer >= 1; got {bins!r}")
    bins = int(bins)
    y = binary_labels(frame, target, "labelled window")
    proba = positive_probabilities(model, frame.drop(columns=[target]), y.size, "model")
    scores, _ = scores_from_probabilities(y, proba, threshold)
    brier, ece, table = calibration(y, proba, bins)
    return PerformanceReport(
        status="measured",
        reason=f"measured on {scores.n} labelled rows",
        n=scores.n,
        n_labelled=scores.n,
        n_sends=None,
        threshold=threshold,
        accuracy=_finite(scores.accuracy),
        precision=_finite(scores.precision),
        recall=_finite(scores.recall),
        f1=_finite(scores.f1),
        roc_auc=_finite(scores.roc_auc),
        log_loss=_finite(scores.log_loss),
        engagement_rate=_finite(scores.engagement_rate),
        predicted_rate=_finite(scores.positive_rate),
        mean_score=_finite(float(proba.mean())),
        brier_score=brier,
        expected_calibration_error=ece,
        calibration_bins=bins,
        reliability=table,
    )


def calibration(
    y: np.ndarray, proba: np.ndarray, bins: int = 10
) -> tuple[float, float, tuple[ReliabilityBin, ...]]:
    """Brier score, expected calibration error and reliability table of scores ``proba`` for
    0/1 labels ``y`` over ``bins`` equal-width bins ``[k/bins, (k+1)/bins)`` (last: up to 1)."""
    y = np.asarray(y, dtype=np.float64)
    proba = np.asarray(proba, dtype=np.float64)
    n = y.size
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.searchsorted(edges[1:-1], proba, side="right")
    count = np.bincount(idx, minlength=bins)
    score_sum = np.bincount(idx, weights=proba, minlength=bins)
    pos_sum = np.bincount(idx, weights=y, minlength=bins)
    brier = float(np.mean((proba - y) ** 2))
    ece = float(np.sum(np.abs(score_sum - pos_sum)) / n)  # = sum_b n_b/n * |mean_b - rate_b|
    table = tuple(
        ReliabilityBin(
            lower=float(edges[b]),
            upper=float(edges[b + 1]),
            count=int(count[b]),
            mean_score=float(score_sum[b] / count[b]) if count[b] else None,
            actual_rate=float(pos_sum[b] / count[b]) if count[b] else None,
        )
        for b in range(bins)
    )
    return _finite(brier), _finite(ece), table


def missing_performance(reason: str, n_labelled: int, n_sends: int) -> PerformanceReport:
    """The record of a window whose labels did not (all) arrive: status "missing", no metrics.

    ``reason`` says why (e.g. "43 of 1,200 sends labelled, below min_labelled_rows 200");
    ``n_labelled`` / ``n_sends`` are the window's labelled rows and sends.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidArgumentError(f"reason must be a non-empty string; got {reason!r}")
    for name, value in (("n_labelled", n_labelled), ("n_sends", n_sends)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise InvalidArgumentError(f"{name} must be an integer >= 0; got {value!r}")
    if n_labelled > n_sends:
        raise InvalidArgumentError(f"n_labelled ({n_labelled}) cannot exceed n_sends ({n_sends})")
    return PerformanceReport(
        status="missing",
        reason=reason,
        n=int(n_labelled),
        n_labelled=int(n_labelled),
        n_sends=int(n_sends),
        threshold=None,
    )


# ----------------------------------------------------------------------------- degradation


def degradation(
    observed: PerformanceReport,
    baseline: Baseline,
    *,
    metric: str = "accuracy",
    threshold: float = 0.05,
) -> Degradation:
    """Is ``observed`` worse than ``baseline`` in ``metric`` by more than ``threshold``?

    ``observed``: a :class:`PerformanceReport` (a stored or pushed one is read back with
    :meth:`PerformanceReport.from_dict` first); ``baseline``: the champion's metrics when it was
    evaluated (:class:`Baseline`). ``degraded`` = ``relative_drop > threshold`` (see :class:`Degradation` for the
    sign of lower-is-better metrics). Never degraded without evidence: a missing observation
    (status "missing"), an undefined observed metric, or a baseline that lacks the metric or
    holds None or 0 give ``degraded=False`` with the reason.
    """
    higher = _metric_direction(metric)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise InvalidArgumentError(f"threshold must be a number >= 0; got {threshold!r}")
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold >= 0):
        raise InvalidArgumentError(f"threshold must be a finite number >= 0; got {threshold}")
    if not isinstance(observed, PerformanceReport):
        raise InvalidArgumentError(
            f"observed must be a PerformanceReport; got {type(observed).__name__} (read a "
            "stored or pushed one back with PerformanceReport.from_dict)"
        )
    status, reason_missing = observed.status, observed.reason
    obs = observed.metric(metric)
    if not isinstance(baseline, Baseline):
        raise InvalidArgumentError(f"baseline must be a Baseline; got {type(baseline).__name__}")
    raw_base = baseline.metric(metric)
    obs = _number_or_none(obs)
    base = _number_or_none(raw_base)

    def result(drop: float | None, degraded: bool, reason: str) -> Degradation:
        return Degradation(
            metric=metric,
            observed=obs,
            baseline=base,
            relative_drop=drop,
            degraded=degraded,
            threshold=threshold,
            higher_is_better=higher,
            reason=reason,
        )

    if status == "missing":
        return result(
            None, False, f"performance missing ({reason_missing or 'no labels'}); not degraded"
        )
    if base is None or base == 0:
        why = "not in the baseline" if metric not in baseline else f"baseline is {raw_base!r}"
        return result(None, False, f"no baseline for {metric} ({why}); not degraded")
    if obs is None:
        return result(None, False, f"observed {metric} is undefined; not degraded")
    drop = (base - obs) / base if higher else (obs - base) / base
    degraded = drop - threshold > _TOLERANCE
    what = "relative drop" if higher else "relative increase"
    cmp = ">" if degraded else "<="
    reason = (
        f"{'degraded' if degraded else 'healthy'}: {metric} {obs:.4g} vs baseline {base:.4g}, "
        f"{what} {drop:.1%} {cmp} threshold {threshold:.1%}"
    )
    return result(_finite(drop), degraded, reason)


# ----------------------------------------------------------------------------- helpers


def _metric_direction(name: str) -> bool:
    """True when higher is better; InvalidArgumentError for an unknown metric."""
    if name in HIGHER_IS_BETTER:
        return True
    if name in LOWER_IS_BETTER:
        return False
    raise InvalidArgumentError(
        f"{name!r} is not a performance metric; allowed: "
        f"{', '.join(HIGHER_IS_BETTER + LOWER_IS_BETTER)}"
    )


def _number_or_none(x: Any) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):  # never reaches a report or XCom as NaN/inf
        raise DataValidationError(
            f"a performance statistic came out as {x}; please report this input"
        )
    return x
