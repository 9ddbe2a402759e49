"""Retraining: when to retrain, on which rows, and whether the new model is fit to be a challenger.

Pure core: numpy, pandas and SQLAlchemy (through :mod:`modelguard.source`), no Airflow import.

Three steps, each usable on its own:

* :func:`should_retrain` decides from the monitoring results (drift report, concept-drift
  summary, measured performance) whether a retraining is worth it *and* allowed (cool-down,
  enough new labels). Every reason is kept, including why not.
* :func:`build_training_set` reads the training rows with one of the :data:`STRATEGIES`
  (``sliding_window``, ``weighted``, ``full_batch``). Every strategy uses only sends whose
  outcome had matured by ``as_of`` and that were sent before the start of the gate's validation
  window (:func:`modelguard.evaluation.gate_windows`), so the champion/challenger gate and the
  post-deployment check later run on rows the challenger never saw.
* :func:`split_holdout` holds out the newest share of the training set, and
  :func:`validate_challenger` checks the model trained on the rest before it may enter the gate:
  enough holdout rows of both classes, better than a trivial baseline, the champion's feature
  schema, no overlap with the validation window.

Time is naive UTC throughout (aware datetimes are converted); a "month" is 30 days.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from modelguard.config import STRATEGIES, ModelguardConfig
from modelguard.exceptions import DataValidationError, InsufficientDataError, ModelguardError
from modelguard.window import Window, to_naive_utc

__all__ = [
    "DAYS_PER_MONTH",
    "MIN_HOLDOUT_AUC",
    "MIN_HOLDOUT_ROWS",
    "STRATEGIES",
    "TRIGGERS",
    "ChallengerValidationError",
    "RetrainDecision",
    "TrainingSet",
    "UnknownStrategyError",
    "ValidationReport",
    "build_training_set",
    "count_new_labelled_rows",
    "full_batch",
    "importance_from_profile",
    "should_retrain",
    "sliding_window",
    "split_holdout",
    "training_end",
    "validate_challenger",
    "weighted",
]

TRIGGERS = ("drift", "concept", "performance")

DAYS_PER_MONTH = 30
"""A "month" of ``sliding_window_months`` is 30 days: windows stay the same length whatever the
calendar month, so two runs with the same settings train on equally long periods."""

MIN_HOLDOUT_ROWS = 200
"""Fewest holdout rows :func:`validate_challenger` accepts (override with ``min_holdout_rows``).
With 200 rows the standard error of an accuracy near 0.7 is about 0.03: enough to tell a model
from a coin, not to rank two good models (that is the gate's job, on more rows)."""

MIN_HOLDOUT_AUC = 0.55
"""ROC AUC the challenger must reach on the holdout (override with ``min_auc``). 0.5 is what a
model that learned nothing scores; the margin keeps chance fluctuations of a useless model (the
AUC of random scores on a few hundred rows has a standard deviation of about 0.02-0.04) from
passing."""

_EARLIEST = datetime(1900, 1, 1)  # lower bound of "everything before the end"
_TOLERANCE = 1e-12


class UnknownStrategyError(ModelguardError, ValueError):
    """A retraining strategy name that is not one of :data:`STRATEGIES`."""


class ChallengerValidationError(ModelguardError):
    """A retrained model failed one or more pre-gate checks; the message lists every one."""


# =============================================================================== the decision


@dataclass(frozen=True)
class RetrainDecision:
    """Whether to retrain now.

    ``retrain`` is true when at least one trigger fired and nothing blocks. ``triggers`` is the
    subset of :data:`TRIGGERS` that fired (whether or not blocked), ``blocked_by`` the subset of
    ("cooldown", "new_labels") that holds, ``reasons`` one sentence per trigger and blocker
    evaluated, including those that did not fire. ``details`` holds the numbers behind them.
    """

    retrain: bool
    triggers: tuple[str, ...]
    reasons: tuple[str, ...]
    blocked_by: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "triggers": list(self.triggers),
            "reasons": list(self.reasons),
            "blocked_by": list(self.blocked_by),
            "details": dict(self.details),
        }


def importance_from_profile(profile: Any) -> dict[str, float]:
    """Feature -> mutual information with the target, from a reference profile.

    Accepts a :class:`modelguard.drift.ReferenceProfile` or its stored JSON form
    (``ReferenceProfile.to_json()``, as the registry keeps it). A feature without a recorded
    mutual information (profile built without a target) gets 0.
    """
    features = getattr(profile, "features", None)
    if features is None and isinstance(profile, Mapping):
        features = profile.get("features")
    if not isinstance(features, Mapping):
        raise ValueError(
            "expected a ReferenceProfile or its to_json() dict with a 'features' mapping; "
            f"got {type(profile).__name__}"
        )
    out: dict[str, float] = {}
    for name, entry in features.items():
        concept = entry.get("concept") if isinstance(entry, Mapping) else entry.concept
        mi = (concept or {}).get("mutual_information")
        out[name] = float(mi) if _is_number(mi) and math.isfinite(mi) else 0.0
    return out


def should_retrain(
    drift_report: dict | None,
    performance: dict | None,
    config: ModelguardConfig,
    *,
    concept: dict | None = None,
    reference_importance: dict[str, float] | None = None,
    last_retraining_at: datetime | None = None,
    as_of: datetime,
    new_labelled_rows: int | None = None,
) -> RetrainDecision:
    """Decide whether to retrain the champion now (pure: no I/O).

    Triggers (``config.retraining``):

    * ``drift``: the features of ``drift_report`` (``DriftReport.to_dict()``) with
      PSI > ``drift_threshold`` carry at least ``min_drifted_importance`` of the reference
      importance. Importance is ``reference_importance`` (feature -> mutual information with the
      target in the champion's training data, see :func:`importance_from_profile`) normalised to
      sum 1; equal weights over the report's features when it is None or sums to 0. A feature
      the importance does not list weighs 0. Major drift on features the model barely uses is
      not worth a retraining; moderate drift on the feature that drives it is.
    * ``concept``: ``concept["concept_drift"]`` is true.
    * ``performance``: a ``"measured"`` (or ``"degraded"``, as the performance check labels a
      drop beyond its threshold) performance whose relative drop against the champion's
      evaluated baseline exceeds ``performance_threshold``. The drop is
      ``degradation["relative_drop"]``, else ``(baseline - observed) / baseline``; only when
      neither is available does ``degradation["degraded"]`` decide. A ``"missing"`` performance
      never triggers.

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
            raise ValueError(f"new_labelled_rows must be an integer; got {new_labelled_rows!r}")
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
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _normalised_importance(
    features: list[str], importance: Mapping[str, float] | None
) -> tuple[dict[str, float], str]:
    if importance:
        bad = {
            k: v
            for k, v in importance.items()
            if not (_is_number(v) and math.isfinite(v) and v >= 0)
        }
        if bad:
            raise ValueError(
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
    report: dict | None, importance: Mapping[str, float] | None, config: ModelguardConfig
) -> tuple[bool, str, dict[str, Any]]:
    rc = config.retraining
    if report is None:
        return False, "drift: no drift report", {"evaluated": False}
    features = report.get("features") if isinstance(report, Mapping) else None
    if not isinstance(features, Mapping):
        raise ValueError("drift_report must be DriftReport.to_dict(): a dict with 'features'")
    weights, how = _normalised_importance(list(features), importance)
    drifted: dict[str, dict[str, float]] = {}
    for name, entry in features.items():
        psi = entry.get("psi") if isinstance(entry, Mapping) else None
        if _is_number(psi) and math.isfinite(psi) and psi > rc.drift_threshold:
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


def _concept_trigger(concept: dict | None) -> tuple[bool, str, dict[str, Any]]:
    if concept is None:
        return False, "concept: no concept-drift check", {"evaluated": False}
    if not isinstance(concept, Mapping) or "concept_drift" not in concept:
        raise ValueError("concept must be a dict with 'concept_drift' (and 'drifted_features')")
    drifted = [str(f) for f in concept.get("drifted_features") or []]
    score = concept.get("score")
    info = {
        "evaluated": True,
        "concept_drift": bool(concept["concept_drift"]),
        "drifted_features": drifted,
        "score": float(score) if _is_number(score) else None,
    }
    score_text = f" (score {float(score):.3g})" if _is_number(score) else ""
    if concept["concept_drift"]:
        which = ", ".join(drifted) if drifted else "(features not listed)"
        return True, f"concept: concept drift{score_text} on {which}", info
    return False, f"concept: no concept drift{score_text}", info


def _performance_trigger(
    performance: dict | None, threshold: float
) -> tuple[bool, str, dict[str, Any]]:
    if performance is None:
        return False, "performance: not measured (no performance result)", {"evaluated": False}
    if not isinstance(performance, Mapping):
        raise ValueError(f"performance must be a dict; got {type(performance).__name__}")
    status = performance.get("status")
    degradation = performance.get("degradation") or {}
    if status == "missing":
        why = degradation.get("reason") or performance.get("reason") or "no matured labels"
        return (
            False,
            f"performance: missing ({why}); a missing measurement never triggers",
            {"evaluated": False, "status": "missing"},
        )
    if status not in ("measured", "degraded"):
        raise ValueError(
            f"performance['status'] must be 'measured', 'degraded' or 'missing'; got {status!r}"
        )
    metric = degradation.get("metric", "metric")
    observed, baseline = degradation.get("observed"), degradation.get("baseline")
    drop = degradation.get("relative_drop")
    if not _is_number(drop) and _is_number(observed) and _is_number(baseline) and baseline > 0:
        drop = (baseline - observed) / baseline
    info = {
        "evaluated": True,
        "status": status,
        "metric": metric,
        "observed": observed,
        "baseline": baseline,
        "relative_drop": float(drop) if _is_number(drop) else None,
        "performance_threshold": threshold,
    }
    if _is_number(drop) and math.isfinite(drop):
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
    fired = bool(degradation.get("degraded"))
    why = degradation.get("reason") or "no relative drop reported"
    state = "degraded" if fired else "not degraded"
    return fired, f"performance: {state} ({why})", info


def _fmt(x: Any) -> str:
    return f"{x:.4g}" if _is_number(x) else str(x)


# =============================================================================== training data


@dataclass(frozen=True, eq=False)  # holds a frame and an array: identity equality
class TrainingSet:
    """Labelled rows to train a challenger on, and how they were chosen.

    ``frame`` holds the send-time column, the feature columns (``config.features``, in order) and
    the label column as int64 0/1, sorted by send time with a fresh 0..n-1 index. ``weights`` is
    aligned with ``frame`` (mean 1) for the weighted strategy, else None. ``window`` is the
    requested ``[start, end)`` of send times (``start`` = the first send used when the strategy
    has no lower bound); ``first_sent_at`` / ``last_sent_at`` are the actual extremes.
    ``holdout_share`` is what :func:`split_holdout` uses by default.
    """

    frame: Any
    weights: np.ndarray | None
    strategy: str
    window: Window
    as_of: datetime
    n_rows: int
    n_positive: int
    weights_summary: dict[str, float] | None
    first_sent_at: datetime
    last_sent_at: datetime
    time_column: str
    label_column: str
    features: dict[str, str]
    holdout_share: float
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_rate(self) -> float:
        return self.n_positive / self.n_rows if self.n_rows else 0.0

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary for the registry and logs (no rows)."""
        return {
            "strategy": self.strategy,
            "parameters": dict(self.parameters),
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
            "first_sent_at": self.first_sent_at.isoformat(),
            "last_sent_at": self.last_sent_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "rows": self.n_rows,
            "positives": self.n_positive,
            "positive_rate": self.positive_rate,
            "weights": dict(self.weights_summary) if self.weights_summary else None,
        }


def training_end(config: ModelguardConfig, as_of: datetime) -> datetime:
    """The end (exclusive) of training send times: the start of the gate's validation window."""
    from modelguard.evaluation import gate_windows

    validation, _ = gate_windows(as_of, config.deployment, config.source.label_delay_hours)
    return validation.start


def _read_matured(
    engine: Any, config: ModelguardConfig, window: Window, as_of: datetime, *, what: str
):
    """Rows of ``window`` whose outcome is known and was known by ``as_of``, checked."""
    import pandas as pd

    from modelguard.source import read_window

    src = config.source
    features = list(config.features)
    columns = [src.time_column, *features, src.label_column, src.label_time_column]
    frame = read_window(engine, src.table, src.time_column, window, columns)
    n_sent = len(frame)
    label_known_at = pd.to_datetime(frame[src.label_time_column], utc=True, format="ISO8601")
    matured = frame[src.label_column].notna().to_numpy() & (
        label_known_at.dt.tz_localize(None) <= pd.Timestamp(as_of)
    ).to_numpy(dtype=bool)
    frame = frame.loc[matured, [src.time_column, *features, src.label_column]]
    frame = frame.reset_index(drop=True)
    n = len(frame)
    rc = config.retraining
    span = f"before {window.end.isoformat()}" if window.start == _EARLIEST else str(window)
    where = f"{what} {span} (outcomes matured by {as_of.isoformat()})"
    if n == 0:
        raise InsufficientDataError(
            f"no matured labels in the training window {where}: {n_sent} send(s) in the window, "
            f"none with a {src.label_column!r} outcome known by as_of"
        )
    labels = frame[src.label_column].to_numpy()
    try:
        numeric = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):
        numeric = None
    if numeric is None or not np.isin(numeric, (0.0, 1.0)).all():
        examples = sorted({repr(v) for v in labels.tolist()} - {"0", "1", "0.0", "1.0"})[:5]
        raise DataValidationError(
            f"label column {src.label_column!r} must hold 0/1 in the training window {where}; "
            f"found e.g. {', '.join(examples)}"
        )
    frame[src.label_column] = numeric.astype(np.int64)
    n_pos = int(frame[src.label_column].sum())
    if n < rc.min_training_rows:
        raise InsufficientDataError(
            f"only {n} matured labelled row(s) in the training window {where} "
            f"({n_sent} sends); retraining.min_training_rows is {rc.min_training_rows}"
        )
    if n_pos in (0, n):
        raise DataValidationError(
            f"the training window {where} holds a single class: all {n} matured labels are "
            f"{int(n_pos == n)} ({n_pos} positive, {n - n_pos} negative); a classifier needs both"
        )
    if n_pos < rc.min_positive_rows:
        raise InsufficientDataError(
            f"only {n_pos} positive ({src.label_column}=1) row(s) among {n} in the training "
            f"window {where}; retraining.min_positive_rows is {rc.min_positive_rows}"
        )
    return frame


def _training_set(
    frame,
    config: ModelguardConfig,
    *,
    strategy: str,
    window: Window,
    as_of: datetime,
    weights: np.ndarray | None,
    parameters: dict[str, Any],
) -> TrainingSet:
    src = config.source
    times = frame[src.time_column]
    return TrainingSet(
        frame=frame,
        weights=weights,
        strategy=strategy,
        window=window,
        as_of=as_of,
        n_rows=len(frame),
        n_positive=int(frame[src.label_column].sum()),
        weights_summary=_weights_summary(weights),
        first_sent_at=times.iloc[0].to_pydatetime(),
        last_sent_at=times.iloc[-1].to_pydatetime(),
        time_column=src.time_column,
        label_column=src.label_column,
        features=dict(config.features),
        holdout_share=config.retraining.holdout_share,
        parameters=parameters,
    )


def _weights_summary(weights: np.ndarray | None) -> dict[str, float] | None:
    """min, max, mean and the effective sample size (sum w)^2 / sum w^2 (Kish)."""
    if weights is None:
        return None
    return {
        "min": float(weights.min()),
        "max": float(weights.max()),
        "mean": float(weights.mean()),
        "effective_n": float(weights.sum() ** 2 / np.square(weights).sum()),
    }


def _positive_number(name: str, value: Any, *, integer: bool = False) -> Any:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}; got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return int(value) if integer else float(value)


def sliding_window(
    engine: Any, config: ModelguardConfig, as_of: datetime, *, window_months: int | None = None
) -> TrainingSet:
    """The most recent ``window_months`` (default ``retraining.sliding_window_months``) of
    matured sends before the validation window: send times in ``[end - 30 * window_months
    days, end)`` with ``end`` = :func:`training_end`. Unweighted. Forgets old behaviour
    completely, which suits abrupt changes (a new product, a new market)."""
    as_of = to_naive_utc(as_of)
    months = _positive_number(
        "window_months",
        config.retraining.sliding_window_months if window_months is None else window_months,
        integer=True,
    )
    end = training_end(config, as_of)
    window = Window(end - timedelta(days=DAYS_PER_MONTH * months), end)
    frame = _read_matured(engine, config, window, as_of, what="sliding_window")
    return _training_set(
        frame,
        config,
        strategy="sliding_window",
        window=window,
        as_of=as_of,
        weights=None,
        parameters={"window_months": months, "days_per_month": DAYS_PER_MONTH},
    )


def full_batch(engine: Any, config: ModelguardConfig, as_of: datetime) -> TrainingSet:
    """Every matured send before the validation window (:func:`training_end`), unweighted.
    The most data, but old behaviour counts as much as new: suits a stable world.
    ``window.start`` is the first send used."""
    as_of = to_naive_utc(as_of)
    end = training_end(config, as_of)
    frame = _read_matured(engine, config, Window(_EARLIEST, end), as_of, what="full_batch")
    first = frame[config.source.time_column].iloc[0].to_pydatetime()
    return _training_set(
        frame,
        config,
        strategy="full_batch",
        window=Window(first, end),
        as_of=as_of,
        weights=None,
        parameters={},
    )


def weighted(
    engine: Any, config: ModelguardConfig, as_of: datetime, *, half_life_days: float | None = None
) -> TrainingSet:
    """Every matured send before the validation window, weighted by recency.

    A send ``age`` days before the training end (:func:`training_end`) weighs
    ``0.5 ** (age / half_life_days)`` (default ``retraining.weight_half_life_days``), so a send
    one half-life older than another weighs half as much; the weights are then scaled to mean 1
    (ratios unchanged) so the effective learning rate and regularisation of the classifier stay
    comparable with unweighted training. ``window.start`` is the first send used."""
    as_of = to_naive_utc(as_of)
    half_life = _positive_number(
        "half_life_days",
        config.retraining.weight_half_life_days if half_life_days is None else half_life_days,
    )
    end = training_end(config, as_of)
    frame = _read_matured(engine, config, Window(_EARLIEST, end), as_of, what="weighted")
    times = frame[config.source.time_column]
    age_days = (np.datetime64(end, "us") - times.to_numpy(dtype="datetime64[us]")) / np.timedelta64(
        1, "D"
    )
    # Compute in log space relative to the newest row so that very old rows underflow to a
    # tiny weight instead of making every weight 0 before normalisation.
    log2_w = -(age_days - age_days.min()) / half_life
    raw = np.exp2(log2_w)
    weights = raw / raw.mean()
    first = times.iloc[0].to_pydatetime()
    return _training_set(
        frame,
        config,
        strategy="weighted",
        window=Window(first, end),
        as_of=as_of,
        weights=weights,
        parameters={"half_life_days": half_life},
    )


_BUILDERS: dict[str, Callable[..., TrainingSet]] = {
    "sliding_window": sliding_window,
    "weighted": weighted,
    "full_batch": full_batch,
}


def build_training_set(
    strategy: str,
    *,
    engine: Any,
    config: ModelguardConfig,
    as_of: datetime,
    window_months: int | None = None,
    half_life_days: float | None = None,
) -> TrainingSet:
    """Build the training set of ``strategy`` (one of :data:`STRATEGIES`; the configured
    default is ``config.retraining.default_strategy``).

    ``window_months`` applies only to ``sliding_window`` and ``half_life_days`` only to
    ``weighted``; giving one to another strategy is a ``ValueError`` rather than silently
    ignored. Raises :class:`UnknownStrategyError` for an unknown name,
    :class:`~modelguard.exceptions.InsufficientDataError` (no matured labels, fewer than
    ``min_training_rows`` rows or ``min_positive_rows`` positives) and
    :class:`~modelguard.exceptions.DataValidationError` (a single class, non-0/1 labels,
    missing table or columns).
    """
    if strategy not in _BUILDERS:
        raise UnknownStrategyError(
            f"unknown retraining strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}"
        )
    if window_months is not None and strategy != "sliding_window":
        raise ValueError(f"window_months applies to 'sliding_window' only, not {strategy!r}")
    if half_life_days is not None and strategy != "weighted":
        raise ValueError(f"half_life_days applies to 'weighted' only, not {strategy!r}")
    if strategy == "sliding_window":
        return sliding_window(engine, config, as_of, window_months=window_months)
    if strategy == "weighted":
        return weighted(engine, config, as_of, half_life_days=half_life_days)
    return full_batch(engine, config, as_of)


def count_new_labelled_rows(
    engine: Any, config: ModelguardConfig, *, since: datetime, as_of: datetime
) -> int:
    """Sends in ``[since, as_of)`` whose outcome had matured by ``as_of``: the new evidence a
    retraining would add since ``since`` (typically the champion's training end)."""
    import pandas as pd

    from modelguard.source import read_window

    since, as_of = to_naive_utc(since), to_naive_utc(as_of)
    if since >= as_of:
        return 0
    src = config.source
    frame = read_window(
        engine,
        src.table,
        src.time_column,
        Window(since, as_of),
        [src.time_column, src.label_column, src.label_time_column],
    )
    known_at = pd.to_datetime(frame[src.label_time_column], utc=True, format="ISO8601")
    matured = frame[src.label_column].notna() & (known_at.dt.tz_localize(None) <= as_of)
    return int(matured.sum())


def split_holdout(training_set: TrainingSet, *, holdout_share: float | None = None):
    """Split off the newest ``holdout_share`` (default the training set's, i.e.
    ``retraining.holdout_share``) of the rows by send time.

    Returns ``(train, holdout)``: ``train`` a :class:`TrainingSet` of the older rows (window
    ``[start, cut)``, weights re-scaled to mean 1, counts recomputed) to fit on, ``holdout`` a
    frame of the rows sent at or after ``cut`` to validate on. Rows sharing the cut's send time
    all go to the holdout, so no send time is on both sides. Raises DataValidationError when
    either side would be empty or the train part holds a single class.
    """
    share = training_set.holdout_share if holdout_share is None else holdout_share
    if not (_is_number(share) and 0 < share < 1):
        raise ValueError(f"holdout_share must be in (0, 1); got {share!r}")
    frame = training_set.frame
    tcol, ycol = training_set.time_column, training_set.label_column
    n = len(frame)
    n_holdout = math.ceil(n * share)
    times = frame[tcol].to_numpy(dtype="datetime64[us]")
    cut_time = times[n - n_holdout] if 0 < n_holdout < n else None
    cut = int(np.searchsorted(times, cut_time, side="left")) if cut_time is not None else 0
    if cut_time is None or cut == 0:
        raise DataValidationError(
            f"cannot hold out {share:.0%} of {n} training rows by send time: one side would be "
            "empty"
        )
    train_frame = frame.iloc[:cut].reset_index(drop=True)
    holdout = frame.iloc[cut:].reset_index(drop=True)
    n_pos = int(train_frame[ycol].sum())
    if n_pos in (0, cut):
        raise DataValidationError(
            f"after holding out the newest {n - cut} rows, the {cut} training rows hold a "
            "single class; use a longer training window"
        )
    weights = None
    if training_set.weights is not None:
        weights = training_set.weights[:cut]
        weights = weights / weights.mean()
    cut_dt = cut_time.astype("datetime64[us]").astype(datetime)
    train = replace(
        training_set,
        frame=train_frame,
        weights=weights,
        window=Window(training_set.window.start, cut_dt),
        n_rows=cut,
        n_positive=n_pos,
        weights_summary=_weights_summary(weights),
        last_sent_at=train_frame[tcol].iloc[-1].to_pydatetime(),
        parameters={**training_set.parameters, "holdout_share": float(share)},
    )
    return train, holdout


# =============================================================================== validation


@dataclass(frozen=True)
class ValidationReport:
    """Pre-gate checks of a retrained model. ``checks`` = (name, passed, detail) in order run;
    ``metrics`` = holdout scores (``ModelScores.to_dict()``) plus the baseline numbers."""

    passed: bool
    checks: tuple[tuple[str, bool, str], ...]
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def failed_checks(self) -> tuple[tuple[str, bool, str], ...]:
        return tuple(c for c in self.checks if not c[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [{"name": n, "passed": p, "detail": d} for n, p, d in self.checks],
            "metrics": dict(self.metrics),
        }

    def raise_if_failed(self) -> None:
        failed = self.failed_checks
        if failed:
            lines = "; ".join(f"{name}: {detail}" for name, _, detail in failed)
            raise ChallengerValidationError(
                f"challenger failed {len(failed)} of {len(self.checks)} check(s): {lines}"
            )


def validate_challenger(
    model: Any,
    training_set: TrainingSet,
    holdout: Any,
    *,
    champion_schema: dict[str, str],
    config: ModelguardConfig,
    min_holdout_rows: int = MIN_HOLDOUT_ROWS,
    min_auc: float = MIN_HOLDOUT_AUC,
) -> ValidationReport:
    """Check a model trained on ``training_set`` (the train part of :func:`split_holdout`)
    before it may be registered as a challenger. Every check runs and is reported:

    * ``holdout_rows``: the holdout has at least ``min_holdout_rows`` rows;
    * ``holdout_classes``: both classes occur in it;
    * ``holdout_after_training``: every holdout send is later than every training send;
    * ``beats_trivial_baseline``: holdout log loss (via
      :func:`modelguard.evaluation.score_model`) is below that of always predicting the training
      engagement rate (accuracy against the majority class is reported, not required: at a low
      engagement rate a useful model can lose to "always no" at a fixed threshold);
    * ``roc_auc``: holdout ROC AUC >= ``min_auc`` (:data:`MIN_HOLDOUT_AUC`), i.e. the scores
      rank engaged sends above the others clearly better than chance;
    * ``feature_schema``: ``config.features`` (the training set's features), the training
      set's feature columns and the model's ``feature_names_in_`` (when it has one) equal
      ``champion_schema`` (names and numeric/categorical types);
    * ``no_leakage``: training and holdout sends all precede the validation window of the gate
      at the training set's ``as_of``, and the training window ends no later than its start.
    """
    from modelguard.evaluation import gate_windows, score_model

    checks: list[tuple[str, bool, str]] = []
    metrics: dict[str, Any] = {"n_train": training_set.n_rows}
    tcol, ycol = training_set.time_column, training_set.label_column
    features = list(training_set.features)
    n_hold = len(holdout)
    metrics["n_holdout"] = n_hold

    checks.append(
        (
            "holdout_rows",
            n_hold >= min_holdout_rows,
            f"{n_hold} holdout row(s), minimum {min_holdout_rows}",
        )
    )
    labels = np.asarray(holdout[ycol].to_numpy(), dtype=np.float64) if n_hold else np.empty(0)
    n_pos = int(np.count_nonzero(labels == 1))
    both = 0 < n_pos < n_hold
    checks.append(
        (
            "holdout_classes",
            both,
            f"{n_pos} positive and {n_hold - n_pos} negative holdout row(s)"
            + ("" if both else "; both classes are needed"),
        )
    )
    hold_times = holdout[tcol].to_numpy(dtype="datetime64[us]") if n_hold else None
    train_last = np.datetime64(training_set.last_sent_at, "us")
    if n_hold:
        hold_first = hold_times.min()
        ok = bool(hold_first > train_last)
        checks.append(
            (
                "holdout_after_training",
                ok,
                f"first holdout send {_iso(hold_first)} "
                f"{'after' if ok else 'NOT after'} last training send {_iso(train_last)}",
            )
        )
    else:
        checks.append(("holdout_after_training", False, "the holdout is empty"))

    majority = max(n_pos, n_hold - n_pos) / n_hold if n_hold else None
    metrics["majority_rate"] = majority
    scores = None
    if n_hold:
        try:
            scores, _ = score_model(
                model,
                holdout[[*features, ycol]],
                ycol,
                threshold=config.deployment.decision_threshold,
            )
        except ModelguardError as exc:
            checks.append(("holdout_scoring", False, f"the model cannot score the holdout: {exc}"))
    if scores is not None:
        metrics.update(scores.to_dict())
        # The trivial baseline predicts the training engagement rate for every send. Log loss is
        # the fair yardstick for a probabilistic model: at a low engagement rate a useful model
        # can still lose to "always no" in accuracy at a fixed threshold.
        prior = min(max(training_set.positive_rate, 1e-6), 1 - 1e-6)
        y_hold = holdout[ycol].to_numpy(dtype=float)
        trivial = float(-np.mean(y_hold * np.log(prior) + (1 - y_hold) * np.log(1 - prior)))
        metrics["trivial_log_loss"] = trivial
        beats = scores.log_loss is not None and scores.log_loss < trivial - _TOLERANCE
        checks.append(
            (
                "beats_trivial_baseline",
                beats,
                f"holdout log loss {scores.log_loss:.4f} "
                f"{'<' if beats else '>='} {trivial:.4f} of always predicting the training "
                f"engagement rate {prior:.3f} (accuracy {scores.accuracy:.4f}, majority-class "
                f"rate {majority:.4f})",
            )
        )
        auc = scores.roc_auc
        auc_ok = auc is not None and auc >= min_auc - _TOLERANCE
        checks.append(
            (
                "roc_auc",
                auc_ok,
                f"holdout ROC AUC {'undefined (one class)' if auc is None else f'{auc:.4f}'} "
                f"{'>=' if auc_ok else 'below'} minimum {min_auc:g} (chance = 0.5)",
            )
        )
    else:
        checks.append(("beats_trivial_baseline", False, "no holdout scores"))
        checks.append(("roc_auc", False, "no holdout scores"))

    checks.append(_schema_check(model, training_set, dict(config.features), dict(champion_schema)))

    validation, _ = gate_windows(
        training_set.as_of, config.deployment, config.source.label_delay_hours
    )
    newest = train_last if hold_times is None else max(train_last, hold_times.max())
    v_start = np.datetime64(validation.start, "us")
    leak_free = bool(newest < v_start) and training_set.window.end <= validation.start
    checks.append(
        (
            "no_leakage",
            leak_free,
            f"training window {training_set.window} and newest training/holdout send "
            f"{_iso(newest)} {'end before' if leak_free else 'REACH INTO'} the validation window "
            f"{validation} (as_of {training_set.as_of.isoformat()})",
        )
    )
    metrics["validation_window"] = {
        "start": validation.start.isoformat(),
        "end": validation.end.isoformat(),
    }
    return ValidationReport(
        passed=all(ok for _, ok, _ in checks), checks=tuple(checks), metrics=metrics
    )


def _schema_check(
    model: Any, training_set: TrainingSet, configured: dict[str, str], champion: dict[str, str]
) -> tuple[str, bool, str]:
    problems: list[str] = []
    if configured != champion:
        missing = sorted(set(champion) - set(configured))
        extra = sorted(set(configured) - set(champion))
        retyped = sorted(
            f"{f} ({configured[f]} vs champion {champion[f]})"
            for f in set(configured) & set(champion)
            if configured[f] != champion[f]
        )
        if missing:
            problems.append(f"champion features missing from config.features: {missing}")
        if extra:
            problems.append(f"features not in the champion's schema: {extra}")
        if retyped:
            problems.append(f"types differ: {', '.join(retyped)}")
    if training_set.features != configured:
        problems.append(
            f"the training set was built with features {sorted(training_set.features)}, "
            f"not config.features {sorted(configured)}"
        )
    absent = [f for f in champion if f not in training_set.frame.columns]
    if absent:
        problems.append(f"training frame lacks champion feature column(s) {absent}")
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        model_features = {str(n) for n in np.asarray(names).tolist()}
        if model_features != set(champion):
            problems.append(
                f"the model's input features {sorted(model_features)} differ from the champion's "
                f"{sorted(champion)}"
            )
    if problems:
        return "feature_schema", False, "; ".join(problems)
    return "feature_schema", True, f"{len(champion)} features, names and types equal the champion's"


def _iso(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="s"))
