"""Estimated performance before the labels arrive: confidence-based performance estimation.

Outcomes mature ``source.label_delay_hours`` after a send, so realised performance is seen that
late. The champion's own scores already say how well it should do, if they are calibrated:
with ``p_i = P(y_i = 1 | score_i)`` and the predictions ``ŷ_i = [score_i >= threshold]``, the
expected confusion matrix of a window is ``E[TP] = Σ ŷ p``, ``E[FP] = Σ ŷ (1 - p)``,
``E[FN] = Σ (1 - ŷ) p``, ``E[TN] = Σ (1 - ŷ)(1 - p)``, and accuracy, precision, recall and F1
follow. ROC AUC comes from the expected ROC curve: at each score ``t``,
``TPR(t) = Σ_{s >= t} p / Σ p`` and ``FPR(t) = Σ_{s >= t} (1 - p) / Σ (1 - p)``.

This is NannyML's CBPE (confidence-based performance estimation,
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html): it
calibrates the scores on a labelled reference (isotonic regression), then estimates each
metric from the expected confusion matrix, and ROC AUC from the expected ROC curve. Its one
assumption holds here too: ``P(y | score)`` is the same in the window as in the reference.
That holds under covariate shift (the inputs move, the relation stays), the case this estimate
is for; under concept drift only the labels can tell, and the realised value stored beside the
estimate shows the estimate's error.

The interval differs from NannyML's (which gives ±3 standard errors of the metric, estimated
from reference chunks). It is a Monte Carlo *predictive* interval of the metric the labels will
show: each of ``simulations`` draws bootstraps the calibration set and refits the calibration
(its own uncertainty), calibrates the window's scores with it and draws labels
``y_i ~ Bernoulli(p_i)`` (the window's sampling noise), then computes the metric; the interval
is the central ``level`` of those draws. The random numbers come from a seed derived from the
model version and the window (:func:`seed_for`), so a rerun or a backfill gives the same
numbers.

Pure core: numpy and scipy only.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelguard.config import CALIBRATION_METHODS
from modelguard.core.records import fields_from_dict, from_xcom
from modelguard.core.stats import average_ranks
from modelguard.exceptions import (
    EstimationUnavailableError,
    InvalidArgumentError,
    MalformedResultError,
)

__all__ = [
    "CALIBRATION_METHODS",
    "ESTIMATED_METRICS",
    "ESTIMATE_STATUSES",
    "Calibration",
    "EstimateOutcome",
    "MetricEstimate",
    "PerformanceEstimate",
    "estimate_performance",
    "estimated_degradation",
    "expected_metrics",
    "fit_calibration",
    "seed_for",
]

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
ESTIMATE_STATUSES = ("estimated", "unavailable", "disabled")
MAX_CALIBRATION_ROWS = 20_000
"""A larger calibration set is subsampled (deterministically) to this many rows: stored with
the version as JSON, and refit ``simulations`` times per estimate."""

_CHUNK = 32  # simulations per vectorised block (memory: _CHUNK x window rows)


def seed_for(*parts: Any) -> int:
    """A 63-bit seed from ``parts`` (e.g. version id and window): reruns draw the same."""
    text = "|".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


# ============================================================================ calibration


@dataclass(frozen=True, eq=False)
class Calibration:
    """A monotone map from the champion's score to ``P(y = 1 | score)``, fitted on labelled
    ``scores``/``labels`` (kept: the interval refits it on bootstrap samples of them).

    ``method`` "isotonic": isotonic regression (pool adjacent violators) over the distinct
    scores, applied by linear interpolation between them and clipped at the ends (as
    scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``); "histogram": ``bins``
    quantile bins of the scores, each mapped to its rows' engagement rate.
    """

    method: str
    bins: int
    scores: np.ndarray
    labels: np.ndarray
    source: str = "holdout"
    knots_x: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    knots_y: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.knots_x is None or self.knots_y is None:
            x, y = _fit(self.method, self.bins, self.scores, self.labels)
            object.__setattr__(self, "knots_x", x)
            object.__setattr__(self, "knots_y", y)

    @property
    def n_rows(self) -> int:
        return int(self.scores.size)

    @property
    def n_positive(self) -> int:
        return int(self.labels.sum())

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of ``scores``."""
        return _apply(self.method, self.knots_x, self.knots_y, np.asarray(scores, np.float64))

    def summary(self) -> dict[str, Any]:
        """What a person needs to judge it (no arrays)."""
        return {
            "method": self.method,
            "bins": self.bins,
            "source": self.source,
            "n_rows": self.n_rows,
            "n_positive": self.n_positive,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "scores": self.scores.tolist(),
            "labels": self.labels.astype(int).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`; a stored one that is not is a MalformedResultError."""
        if not isinstance(data, dict):
            raise MalformedResultError(f"a stored calibration must be a dict; got {data!r:.80}")
        missing = [k for k in ("method", "bins", "source", "scores", "labels") if k not in data]
        if missing:
            raise MalformedResultError(
                f"a stored calibration lacks {', '.join(missing)}; refit it (it is fitted "
                "from the version's holdout)"
            )
        try:
            scores = np.asarray(data["scores"], dtype=np.float64)
            labels = np.asarray(data["labels"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MalformedResultError(f"a stored calibration holds non-numbers: {exc}") from exc
        try:
            return fit_calibration(
                scores,
                labels,
                method=data["method"],
                bins=data["bins"],
                min_rows=1,
                source=str(data["source"]),
            )
        except (InvalidArgumentError, EstimationUnavailableError) as exc:
            raise MalformedResultError(f"a stored calibration is unusable: {exc}") from exc


def fit_calibration(
    scores: Any,
    labels: Any,
    *,
    method: str = "isotonic",
    bins: int = 10,
    min_rows: int = 100,
    source: str = "holdout",
) -> Calibration:
    """Fit the calibration of ``scores`` (probabilities in [0, 1]) against 0/1 ``labels``.

    Raises :class:`EstimationUnavailableError` (naming what is wrong and what is needed) for
    fewer than ``min_rows`` rows, one class only or identical scores, and
    :class:`InvalidArgumentError` for a bad method, bins, shapes or values.
    """
    if method not in CALIBRATION_METHODS:
        raise InvalidArgumentError(
            f"calibration method {method!r} is not one of {', '.join(CALIBRATION_METHODS)}"
        )
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or not 2 <= bins <= 1000:
        raise InvalidArgumentError(
            f"calibration bins must be an integer in [2, 1000]; got {bins!r}"
        )
    s = _probabilities(scores, "calibration scores")
    y = _as_floats(labels, "calibration labels")
    if y.shape != s.shape:
        raise InvalidArgumentError(
            f"calibration labels must be {s.size} numbers 0/1, one per score; got {y.size}"
        )
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise InvalidArgumentError(
            f"calibration labels must be 0 or 1; {int(bad.sum())} of {y.size} are not, e.g. "
            f"{y[bad][:3].tolist()}"
        )
    n = s.size
    if n < min_rows:
        raise EstimationUnavailableError(
            f"the calibration set holds {n} labelled row(s); performance_estimation."
            f"min_calibration_rows needs {min_rows}"
        )
    positives = int(y.sum())
    if positives in (0, n):
        raise EstimationUnavailableError(
            f"the calibration set's {n} labelled rows hold one class only ({positives} "
            "positive); calibrating scores needs both outcomes"
        )
    if np.ptp(s) == 0:
        raise EstimationUnavailableError(
            f"the champion gave all {n} calibration rows the same score ({s[0]:.6g}): its "
            "scores carry no information to estimate performance from"
        )
    if n > MAX_CALIBRATION_ROWS:
        keep = np.sort(
            np.random.default_rng(seed_for("calibration", n, positives)).choice(
                n, MAX_CALIBRATION_ROWS, replace=False
            )
        )
        s, y = s[keep], y[keep]
    return Calibration(method=method, bins=int(bins), scores=s, labels=y, source=source)


def _fit(method: str, bins: int, s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if method == "isotonic":
        x, inverse = np.unique(s, return_inverse=True)
        counts = np.bincount(inverse, minlength=x.size).astype(np.float64)
        rates = np.bincount(inverse, weights=y, minlength=x.size) / counts
        from scipy.optimize import isotonic_regression  # the isotonic calibration only

        fitted = isotonic_regression(rates, weights=counts, increasing=True).x
        return x, np.clip(fitted, 0.0, 1.0)
    edges = np.unique(np.quantile(s, np.linspace(0.0, 1.0, bins + 1)))
    interior = edges[1:-1]
    idx = np.searchsorted(interior, s, side="left")
    k = interior.size + 1
    counts = np.bincount(idx, minlength=k).astype(np.float64)
    pos = np.bincount(idx, weights=y, minlength=k)
    overall = y.mean()
    rates = np.where(counts > 0, pos / np.maximum(counts, 1.0), overall)
    return interior, rates


def _apply(method: str, x: np.ndarray, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    if method == "isotonic":
        return np.interp(s, x, y)
    return y[np.searchsorted(x, s, side="left")]


# ============================================================================ the estimate


@dataclass(frozen=True)
class MetricEstimate:
    """One metric's point estimate (the expected value) and its predictive interval; None when
    the metric is undefined (e.g. precision when nothing is predicted positive)."""

    metric: str
    value: float | None
    lower: float | None
    upper: float | None

    def contains(self, realised: float | None) -> bool | None:
        """Whether ``realised`` lies in [lower, upper] (None when either is unknown)."""
        if realised is None or self.lower is None or self.upper is None:
            return None
        return bool(self.lower - 1e-12 <= realised <= self.upper + 1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricEstimate:
        values = fields_from_dict(cls, data)
        for k in ("value", "lower", "upper"):
            values[k] = _number_or_none(values[k])
        return cls(**values)


@dataclass(frozen=True)
class PerformanceEstimate:
    """The estimated performance of one window from the champion's scores.

    ``metrics``: one :class:`MetricEstimate` per :data:`ESTIMATED_METRICS`. ``predicted_rate``
    is the share predicted positive, ``expected_rate`` the mean calibrated probability (the
    engagement rate the labels are expected to show). ``note`` flags a degenerate window (all
    scores identical).
    """

    n_rows: int
    threshold: float
    level: float
    simulations: int
    seed: int
    predicted_rate: float
    expected_rate: float
    calibration: dict[str, Any]
    metrics: dict[str, MetricEstimate]
    note: str | None = None

    def metric(self, name: str) -> MetricEstimate:
        if name not in ESTIMATED_METRICS:
            raise InvalidArgumentError(
                f"{name!r} is not an estimated metric; allowed: {', '.join(ESTIMATED_METRICS)}"
            )
        return self.metrics[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "threshold": self.threshold,
            "level": self.level,
            "simulations": self.simulations,
            "seed": self.seed,
            "predicted_rate": self.predicted_rate,
            "expected_rate": self.expected_rate,
            "calibration": dict(self.calibration),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceEstimate:
        values = fields_from_dict(cls, data)
        if not isinstance(values["metrics"], dict):
            raise MalformedResultError("PerformanceEstimate.from_dict: metrics must be a dict")
        values["metrics"] = {k: MetricEstimate.from_dict(v) for k, v in values["metrics"].items()}
        return cls(**values)


def expected_metrics(p: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """The CBPE point estimates: each metric of the expected confusion matrix of calibrated
    probabilities ``p`` and 0/1 predictions ``pred``; ROC AUC of the expected ROC curve of
    ``scores``. A metric whose expected denominator is 0 is None."""
    p = np.asarray(p, np.float64)
    pred = np.asarray(pred, np.float64)
    n = p.size
    tp = float(np.sum(pred * p))
    fp = float(np.sum(pred * (1 - p)))
    fn = float(np.sum((1 - pred) * p))
    tn = n - tp - fp - fn
    return {
        "accuracy": (tp + tn) / n,
        "precision": tp / (tp + fp) if tp + fp > 0 else None,
        "recall": tp / (tp + fn) if tp + fn > 0 else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else None,
        "roc_auc": _expected_auc(p, np.asarray(scores, np.float64)),
    }


def _expected_auc(p: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the expected ROC curve (ties in ``scores`` form one step, drawn straight)."""
    pos, neg = float(p.sum()), float((1 - p).sum())
    if pos <= 0 or neg <= 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tpr = np.r_[0.0, np.cumsum(p[order])[last_of_tie] / pos]
    fpr = np.r_[0.0, np.cumsum(1 - p[order])[last_of_tie] / neg]
    return float(np.clip(np.trapezoid(tpr, fpr), 0.0, 1.0))


def estimate_performance(
    scores: Any,
    calibration: Calibration,
    *,
    threshold: float,
    level: float = 0.95,
    simulations: int = 200,
    seed: int = 0,
) -> PerformanceEstimate:
    """Estimate accuracy, precision, recall, F1 and ROC AUC of the window whose champion scores
    are ``scores`` (module docstring: the point estimate and the interval).

    Raises :class:`EstimationUnavailableError` for an empty window and
    :class:`InvalidArgumentError` for scores that are not probabilities or bad arguments.
    """
    from modelguard.core.scoring import check_threshold

    threshold = check_threshold(threshold)
    if not isinstance(calibration, Calibration):
        raise InvalidArgumentError(
            f"calibration must be a Calibration (fit_calibration); got {type(calibration).__name__}"
        )
    if not _real(level) or not 0 < level < 1:
        raise InvalidArgumentError(f"level must be a number in (0, 1); got {level!r}")
    if isinstance(simulations, bool) or not isinstance(simulations, numbers.Integral):
        raise InvalidArgumentError(f"simulations must be an integer >= 20; got {simulations!r}")
    if simulations < 20:
        raise InvalidArgumentError(f"simulations must be an integer >= 20; got {simulations}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidArgumentError(f"seed must be an integer >= 0; got {seed!r}")
    s = _probabilities(scores, "window scores")
    n = s.size
    if n == 0:
        raise EstimationUnavailableError("the window holds no rows to estimate performance on")
    pred = (s >= threshold).astype(np.float64)
    p = calibration.apply(s)
    point = expected_metrics(p, pred, s)
    draws = _simulate(s, pred, calibration, int(simulations), np.random.default_rng(int(seed)))
    alpha = (1.0 - float(level)) / 2.0
    metrics = {}
    for name in ESTIMATED_METRICS:
        column = draws[name]
        finite = column[np.isfinite(column)]
        if point[name] is None or finite.size < max(10, column.size // 2):
            metrics[name] = MetricEstimate(name, _number_or_none(point[name]), None, None)
            continue
        lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
        value = float(point[name])
        metrics[name] = MetricEstimate(name, value, float(min(lo, value)), float(max(hi, value)))
    note = None
    if np.ptp(s) == 0:
        note = (
            f"all {n} scores of the window are identical ({s[0]:.6g}): every row gets the same "
            "prediction, ROC AUC is 0.5 by construction"
        )
    return PerformanceEstimate(
        n_rows=int(n),
        threshold=threshold,
        level=float(level),
        simulations=int(simulations),
        seed=int(seed),
        predicted_rate=float(pred.mean()),
        expected_rate=float(p.mean()),
        calibration=calibration.summary(),
        metrics=metrics,
        note=note,
    )


def _simulate(
    s: np.ndarray, pred: np.ndarray, calibration: Calibration, b: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Each metric over ``b`` draws: bootstrap the calibration set, refit, calibrate ``s``,
    draw labels."""
    n = s.size
    ranks = average_ranks(s)
    cs, cy = calibration.scores, calibration.labels
    m = cs.size
    out = {k: np.empty(b) for k in ESTIMATED_METRICS}
    n_pp = pred.sum()
    done = 0
    while done < b:
        k = min(_CHUNK, b - done)
        probs = np.empty((k, n))
        for j in range(k):
            idx = rng.integers(0, m, m)
            by, bs = cy[idx], cs[idx]
            if np.ptp(bs) == 0 or by.min() == by.max():  # a degenerate resample: keep the fit
                probs[j] = calibration.apply(s)
                continue
            x, y = _fit(calibration.method, calibration.bins, bs, by)
            probs[j] = _apply(calibration.method, x, y, s)
        y_sim = (rng.random((k, n)) < probs).astype(np.float64)
        tp = y_sim @ pred
        n1 = y_sim.sum(axis=1)
        fp = n_pp - tp
        fn = n1 - tp
        tn = y_sim.shape[1] - tp - fp - fn
        with np.errstate(divide="ignore", invalid="ignore"):
            sl = slice(done, done + k)
            out["accuracy"][sl] = (tp + tn) / n
            out["precision"][sl] = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
            out["recall"][sl] = np.where(n1 > 0, tp / n1, np.nan)
            denom = 2 * tp + fp + fn
            out["f1"][sl] = np.where(denom > 0, 2 * tp / denom, np.nan)
            n0 = n - n1
            auc = (y_sim @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)
            out["roc_auc"][sl] = np.where((n1 > 0) & (n0 > 0), auc, np.nan)
        done += k
    return out


def estimated_degradation(
    estimate: PerformanceEstimate, baseline: Any, *, metric: str, threshold: float
):
    """:func:`modelguard.labels.performance.degradation` of the estimated ``metric`` against the
    champion's ``baseline`` (the same rule as the realised check: relative drop > threshold)."""
    from modelguard.labels.performance import PerformanceReport, degradation

    values = {name: estimate.metrics[name].value for name in ESTIMATED_METRICS}
    report = PerformanceReport(
        status="measured",
        reason=f"estimated from the scores of {estimate.n_rows} rows",
        n=estimate.n_rows,
        n_labelled=0,
        n_sends=estimate.n_rows,
        threshold=estimate.threshold,
        **values,
    )
    return degradation(report, baseline, metric=metric, threshold=threshold)


# ============================================================================ the task's verdict


@dataclass(frozen=True)
class EstimateOutcome:
    """The estimate task's small verdict (its XCom): ``status`` "estimated", "unavailable" (the
    reason says why: no calibration, too few rows, a model without ``predict_proba``, ...) or
    "disabled" (``performance_estimation.enabled`` is false). ``estimate``/``lower``/``upper``
    are the primary ``metric``'s; ``relative_drop`` is against the champion's ``baseline`` and
    ``degraded`` whether it exceeds ``retraining.performance_threshold`` (``threshold``).
    ``realised_filled``: stored estimates of earlier windows whose realised value this run
    filled in."""

    status: str
    reason: str
    window: tuple[str, str]
    model_version_id: int | None
    metric: str
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    baseline: float | None = None
    relative_drop: float | None = None
    degraded: bool = False
    threshold: float | None = None
    n_rows: int = 0
    realised_filled: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["window"] = list(self.window)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EstimateOutcome:
        values = fields_from_dict(cls, data)
        if values["status"] not in ESTIMATE_STATUSES:
            raise MalformedResultError(
                f"EstimateOutcome.from_dict: status {values['status']!r} is not one of "
                f"{', '.join(ESTIMATE_STATUSES)}"
            )
        window = values["window"]
        if not isinstance(window, list | tuple) or len(window) != 2:
            raise MalformedResultError(
                f"EstimateOutcome.from_dict: window must be [start, end]; got {window!r}"
            )
        values["window"] = (str(window[0]), str(window[1]))
        for k in ("estimate", "lower", "upper", "baseline", "relative_drop", "threshold"):
            values[k] = _number_or_none(values[k])
        for k in ("model_version_id", "n_rows", "realised_filled"):
            v = values[k]
            if (v is None and k == "model_version_id") or (
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
            ):
                continue
            raise MalformedResultError(
                f"EstimateOutcome.from_dict: {k} must be an integer >= 0; got {v!r}"
            )
        if not isinstance(values["degraded"], bool):
            raise MalformedResultError(
                f"EstimateOutcome.from_dict: degraded must be true or false; got "
                f"{values['degraded']!r}"
            )
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value") -> EstimateOutcome:
        return from_xcom(cls, value, task_id, key)


# ============================================================================ helpers


def _real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _as_floats(values: Any, what: str) -> np.ndarray:
    """``values`` as a 1-D float array: numbers (or bools) only, one per row; strings, other
    objects and 2-D arrays (e.g. a whole ``predict_proba`` output) are refused."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind in "USVMmc":
        raise InvalidArgumentError(
            f"{what} must be numbers, one per row; got {type(values).__name__}"
            + ("" if arr is None else f" of {arr.dtype}")
        )
    if arr.dtype.kind == "O":
        bad = [v for v in arr.ravel().tolist() if v is not None and not _is_real(v)]
        if bad:
            raise InvalidArgumentError(
                f"{what} must be numbers, one per row; {len(bad)} value(s) are not, e.g. "
                f"{bad[:3]!r}"
            )
        arr = np.array([np.nan if v is None else float(v) for v in arr.ravel()], dtype=float)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InvalidArgumentError(
            f"{what} must be one number per row (a 1-D array); got shape {arr.shape} (pass "
            "column 1 of predict_proba, not the whole output)"
        )
    return arr.astype(np.float64)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real | np.bool_) and not isinstance(v, str)


def _probabilities(values: Any, what: str) -> np.ndarray:
    s = _as_floats(values, what)
    bad = ~np.isfinite(s) | (s < 0) | (s > 1)
    if bad.any():
        raise InvalidArgumentError(
            f"{what} must be probabilities in [0, 1]; {int(bad.sum())} of {s.size} are not "
            f"(NaN, inf or out of range), e.g. {s[bad][:3].tolist()}"
        )
    return s


def _number_or_none(x: Any) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    x = float(x)
    return x if math.isfinite(x) else None
