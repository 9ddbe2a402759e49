"""Concept drift: has the relation between the inputs and engagement changed since training?

Data drift (:mod:`modelguard.drift.detection`) asks whether the inputs moved; this module asks whether the
same inputs still lead to the same outcomes, on matured (labelled) rows. Every feature is binned
with the reference profile's own bins (quantile edges, or the training categories; missing
values are a bin of their own; categories the reference never saw form one extra "new" bin that
is counted but never compared, since the reference has no rate for it), and the engagement rate
per bin now is compared with what the reference concept expects for the same rows.

The score of a feature
----------------------
For every bin ``b`` with at least ``min_bin_rows`` current rows (and as many reference rows):

* ``r_cur(b)``: the engagement rate of the current rows in the bin;
* ``e(b)``: the rate the reference concept expects for those rows. With ``predictions`` (the
  champion's P(engaged) per row) it is their mean in the bin, the reference concept carried to
  today's inputs; without, it is the reference rate of the bin ``r_ref(b)``;
* ``d(b) = r_cur(b) - e(b)`` and ``w(b)`` the bin's share of the compared current rows.

``score_f = sqrt(max(0, sum_b w(b) * (d(b) - dbar)^2 - noise)) / r_ref``, where
``dbar = sum_b w(b) * d(b)``, ``noise = sum_b w(b) * (1 - w(b)) * v(b)`` is the expected value of
the sum under pure sampling noise (``v(b) = e(b) * (1 - e(b)) / n_cur(b)``, plus
``r_ref(b) * (1 - r_ref(b)) / n_ref(b)`` when ``e`` is the reference rate) and ``r_ref`` is the
reference engagement rate. In words: the root mean square, over the current rows, of how much
more or less often they engage than the reference concept predicts, after removing one common
offset, net of what binomial noise alone would produce, as a share of the reference base rate.
``score_f >= threshold`` (``drift_detection.concept_drift_threshold``) flags the feature.

Why each part:

* The current mix ``w(b)`` weighs the bins, so a bin that became rare cannot dominate and a
  shift of the inputs alone (P(engaged | x) unchanged) moves rows between bins without changing
  any bin's rate.
* Removing ``dbar`` makes the score measure a change in the *shape* of the relation. A uniform
  offset, a different base rate (label shift, or a covariate shift that moves many rows towards
  less engaging inputs) changes every feature's bins alike and would otherwise flag every feature
  at once; it is reported separately as ``base_rate_change``.
* Subtracting ``noise`` keeps a few thousand rows of an unchanged world near 0 instead of near
  the typical size of the noise (about 0.1 at 2,000 rows), which is what the threshold would
  otherwise have to sit above.
* With ``predictions`` the expected rate follows the inputs: when a covariate shift moves the
  inputs of *other* features (say longer subject lines, which depend on the template), the
  engagement rate per template changes although P(engaged | x) did not; the reference rates
  cannot know that, the champion's predictions do. Without predictions that confounded change is
  indistinguishable from concept drift, so pass predictions whenever the champion's scores are
  available (the score is only as good as the champion's calibration per bin on its training
  data, which the comparison assumes).

Mutual information and correlation are reported alongside, not used for the flag: the MI change
``|MI_cur - MI_ref| / H(Y_ref)`` (both bias-corrected by ``(bins - 1) / (2n)`` nats) misses a
relation that flips sign with the same strength, and the correlation only sees monotone ones.
The overall score is the mean of the feature scores weighted by the reference MI (the features
the model leans on count most).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelguard.config import DriftDetectionConfig
from modelguard.core.records import fields_from_dict
from modelguard.core.scoring import binary_labels
from modelguard.drift.detection import (
    MISSING_LABEL,
    NumericProfile,
    ReferenceProfile,
    category_index,
    edge_labels,
    mutual_information,
    numeric_concept,
    numeric_values,
    require_columns,
)
from modelguard.exceptions import (
    DataValidationError,
    InsufficientDataError,
    InvalidArgumentError,
    MalformedResultError,
    ProfileError,
)

__all__ = [
    "METHODS",
    "NEW_LABEL",
    "ConceptDriftReport",
    "FeatureConcept",
    "detect_concept_drift",
]

NEW_LABEL = "new"
"""Display label of the bin of the categories the reference never saw (counted, never
compared). A category may have the same text as this or ``missing``: the bins are identified by
``kinds`` ("bin", "category", "missing", "new"), never by their label."""

METHODS = ("predictions", "reference_rates")
"""Where the expected rate per bin comes from: the champion's predictions for the current rows,
or the reference profile's rates."""


@dataclass(frozen=True)
class FeatureConcept:
    """The feature -> engagement relation of one feature, now against the reference.

    Per bin (``labels``; numeric: the reference's quantile bins then ``missing``; categorical:
    the reference categories, ``missing``, then ``new``): ``n_reference`` / ``n_current`` rows,
    ``rate_reference`` / ``rate_current`` engagement rates (None in an empty bin),
    ``rate_expected`` the rate the reference concept expects for the current rows (the mean
    prediction, or the reference rate), ``compared`` whether the bin entered the score,
    ``kinds`` what each bin is ("bin", "category", "missing", "new"; a category may be called
    "missing" or "new"). ``score`` is None when fewer than two bins could be compared.
    """

    name: str
    type: str
    score: float | None
    drifted: bool
    reason: str
    mutual_information_reference: float | None
    mutual_information_current: float
    mi_change: float | None
    correlation_reference: float | None
    correlation_current: float | None
    n_current: int
    n_compared: int
    compared_bins: int
    new_category_rows: int
    labels: tuple[str, ...]
    n_reference_by_bin: tuple[int, ...]
    n_current_by_bin: tuple[int, ...]
    rate_reference: tuple[float | None, ...]
    rate_current: tuple[float | None, ...]
    rate_expected: tuple[float | None, ...]
    compared: tuple[bool, ...]
    kinds: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "score": self.score,
            "drifted": self.drifted,
            "reason": self.reason,
            "mutual_information_reference": self.mutual_information_reference,
            "mutual_information_current": self.mutual_information_current,
            "mi_change": self.mi_change,
            "correlation_reference": self.correlation_reference,
            "correlation_current": self.correlation_current,
            "n_current": self.n_current,
            "n_compared": self.n_compared,
            "compared_bins": self.compared_bins,
            "new_category_rows": self.new_category_rows,
            "bins": {
                "labels": list(self.labels),
                "n_reference": list(self.n_reference_by_bin),
                "n_current": list(self.n_current_by_bin),
                "rate_reference": list(self.rate_reference),
                "rate_current": list(self.rate_current),
                "rate_expected": list(self.rate_expected),
                "compared": list(self.compared),
                "kinds": list(self.kinds),
            },
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> FeatureConcept:
        """Inverse of :meth:`to_dict` (which leaves the name to the report's key)."""
        if not isinstance(data, dict) or not isinstance(data.get("bins"), dict):
            raise MalformedResultError(
                f"FeatureConcept.from_dict: feature {name!r} needs a dict with a 'bins' dict"
            )
        bins = data["bins"]
        flat = {
            **data,
            "name": name,
            "labels": bins.get("labels"),
            "n_reference_by_bin": bins.get("n_reference"),
            "n_current_by_bin": bins.get("n_current"),
            "rate_reference": bins.get("rate_reference"),
            "rate_current": bins.get("rate_current"),
            "rate_expected": bins.get("rate_expected"),
            "compared": bins.get("compared"),
            "kinds": bins.get("kinds") or _inferred_kinds(data.get("type"), bins.get("labels")),
        }
        values = fields_from_dict(cls, flat)
        for key in _BIN_FIELDS:
            if values[key] is None:
                raise MalformedResultError(
                    f"FeatureConcept.from_dict: feature {name!r} bins lack {key!r}"
                )
            values[key] = tuple(values[key])
        return cls(**values)


_BIN_FIELDS = (
    "labels",
    "n_reference_by_bin",
    "n_current_by_bin",
    "rate_reference",
    "rate_current",
    "rate_expected",
    "compared",
    "kinds",
)


def _bin_kinds(feature_type: str, n_bins: int) -> tuple[str, ...]:
    """Numeric: quantile bins then missing; categorical: categories, missing, new."""
    if feature_type == "numeric":
        return ("bin",) * (n_bins - 1) + ("missing",)
    return ("category",) * (n_bins - 2) + ("missing", "new")


def _inferred_kinds(feature_type: Any, labels: Any) -> list[str] | None:
    """The kinds of a report stored before they were recorded (the layout was the same)."""
    if not isinstance(labels, list) or feature_type not in ("numeric", "categorical"):
        return None
    minimum = 1 if feature_type == "numeric" else 2
    if len(labels) < minimum:
        return None
    return list(_bin_kinds(feature_type, len(labels)))


@dataclass(frozen=True)
class ConceptDriftReport:
    """Concept drift of one labelled window against a reference profile.

    ``concept_drift`` is true when any feature's score reaches ``threshold``; ``score`` is the
    reference-MI-weighted mean of the feature scores (None when no feature could be scored).
    ``base_rate_reference`` / ``base_rate_current`` are the engagement rates, and
    ``base_rate_change`` the relative change (current - reference) / reference; with
    predictions, ``expected_rate`` is their mean and ``base_rate_residual`` the relative gap
    (current - expected) / reference. A label shift shows up in these, not in the flag.
    """

    concept_drift: bool
    reason: str
    score: float | None
    threshold: float
    method: str
    min_bin_rows: int
    n_rows: int
    n_reference: int
    base_rate_reference: float
    base_rate_current: float
    base_rate_change: float
    expected_rate: float | None
    base_rate_residual: float | None
    features: dict[str, FeatureConcept]

    @property
    def drifted_features(self) -> list[str]:
        return [name for name, f in self.features.items() if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: builtin types only, no NaN or infinity."""
        return {
            "concept_drift": self.concept_drift,
            "reason": self.reason,
            "score": self.score,
            "threshold": self.threshold,
            "method": self.method,
            "min_bin_rows": self.min_bin_rows,
            "n_rows": self.n_rows,
            "n_reference": self.n_reference,
            "base_rate_reference": self.base_rate_reference,
            "base_rate_current": self.base_rate_current,
            "base_rate_change": self.base_rate_change,
            "expected_rate": self.expected_rate,
            "base_rate_residual": self.base_rate_residual,
            "drifted_features": self.drifted_features,
            "features": {name: f.to_dict() for name, f in self.features.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConceptDriftReport:
        """Inverse of :meth:`to_dict` (the derived ``drifted_features`` key is ignored)."""
        values = fields_from_dict(cls, data)
        if not isinstance(values["features"], dict):
            raise MalformedResultError("ConceptDriftReport.from_dict: 'features' must be a dict")
        values["features"] = {
            name: FeatureConcept.from_dict(name, f) for name, f in values["features"].items()
        }
        return cls(**values)


# ----------------------------------------------------------------------------- detection


def detect_concept_drift(
    profile: ReferenceProfile,
    frame,
    target: str,
    *,
    predictions=None,
    threshold: float | None = None,
    min_bin_rows: int = 30,
    min_rows: int = 200,
    config: DriftDetectionConfig | None = None,
) -> ConceptDriftReport:
    """Compare the feature -> ``target`` relation of the labelled ``frame`` with ``profile``.

    ``predictions``: the champion's P(target = 1) for the rows of ``frame`` (array-like aligned
    with its rows, or the name of a column of ``frame``); None compares with the reference rates
    alone, which cannot tell a confounded covariate shift from concept drift (module docstring).
    ``threshold`` None takes ``concept_drift_threshold`` from ``config`` (None: the repo's
    config). A bin enters a feature's score when it holds at least ``min_bin_rows`` current and
    reference rows. Raises DataValidationError (InsufficientDataError for too few rows) when
    the target column is missing, its labels are missing or not 0/1, the frame has fewer than
    ``min_rows`` rows or lacks a feature column; ProfileError when the profile holds no
    feature -> target relation.
    """
    threshold = _resolve_threshold(threshold, config)
    min_bin_rows = _positive_int(min_bin_rows, "min_bin_rows")
    min_rows = _positive_int(min_rows, "min_rows")
    base_ref = _reference_rate(profile, target)
    y = binary_labels(frame, target, "labelled window").astype(np.float64)
    n = int(y.size)
    if n < min_rows:
        raise InsufficientDataError(
            f"labelled window has {n} rows, fewer than min_rows ({min_rows}); concept drift "
            "needs matured outcomes, widen the window or wait for labels"
        )
    require_columns(frame, profile.feature_types, "labelled window")
    proba = _predictions(predictions, frame, n)
    method = "reference_rates" if proba is None else "predictions"
    h_ref = _binary_entropy(base_ref)

    features: dict[str, FeatureConcept] = {}
    for name, ref in profile.features.items():
        features[name] = _feature_concept(
            name, ref, frame, y, proba, base_ref, h_ref, threshold, min_bin_rows
        )

    scored = {k: f for k, f in features.items() if f.score is not None}
    overall = _importance_weighted(scored, profile)
    drifted = [k for k, f in features.items() if f.drifted]
    base_cur = float(y.mean())
    expected = None if proba is None else float(proba.mean())
    if drifted:
        worst = max(drifted, key=lambda k: features[k].score)
        reason = (
            f"concept drift in {', '.join(drifted)}: score >= threshold {threshold:g} "
            f"(highest {worst} {features[worst].score:.3f})"
        )
    elif scored:
        worst = max(scored, key=lambda k: scored[k].score)
        reason = (
            f"no concept drift: every feature score < threshold {threshold:g} "
            f"(highest {worst} {scored[worst].score:.3f})"
        )
    else:
        reason = f"no concept drift measurable: no feature has two bins of {min_bin_rows} rows"
    return ConceptDriftReport(
        concept_drift=bool(drifted),
        reason=reason,
        score=overall,
        threshold=threshold,
        method=method,
        min_bin_rows=min_bin_rows,
        n_rows=n,
        n_reference=int(profile.n_rows),
        base_rate_reference=base_ref,
        base_rate_current=base_cur,
        base_rate_change=(base_cur - base_ref) / base_ref,
        expected_rate=expected,
        base_rate_residual=None if expected is None else (base_cur - expected) / base_ref,
        features=features,
    )


def _feature_concept(
    name: str,
    ref,
    frame,
    y: np.ndarray,
    proba: np.ndarray | None,
    base_ref: float,
    h_ref: float,
    threshold: float,
    min_bin_rows: int,
) -> FeatureConcept:
    concept = ref.concept
    rate_ref = [None if r is None else float(r) for r in concept["target_rate_by_bin"]]
    n_ref = np.asarray(ref.counts, dtype=np.int64)
    if len(rate_ref) != n_ref.size:
        raise ProfileError(
            f"reference profile of {name!r} has {len(rate_ref)} target rates for "
            f"{n_ref.size} bins; rebuild the profile"
        )
    if isinstance(ref, NumericProfile):
        values = numeric_values(frame, name, "labelled window")
        current = numeric_concept(values, ref.edges, y)
        missing = np.isnan(values)
        idx = np.where(missing, ref.edges.size + 1, np.searchsorted(ref.edges, values, "left"))
        n_bins = ref.edges.size + 2
        labels = edge_labels(ref.edges)
        corr = current["correlation"]
    else:
        idx = _category_index(frame, ref.categories, name)
        n_bins = len(ref.categories) + 2  # categories, missing, new
        mi, rates = mutual_information(idx, n_bins, y)
        current = {"mutual_information": mi, "target_rate_by_bin": rates}
        labels = [*ref.categories, MISSING_LABEL, NEW_LABEL]
        corr = None
    n_cur = np.bincount(idx, minlength=n_bins)
    k = n_ref.size  # comparable bins; a categorical feature's "new" bin comes after them
    rate_cur = current["target_rate_by_bin"]
    r_ref = np.array([np.nan if r is None else r for r in rate_ref])
    ok = (n_cur[:k] >= min_bin_rows) & (n_ref >= min_bin_rows) & ~np.isnan(r_ref)
    if proba is None:
        expected = r_ref
        ref_var = np.where(ok, r_ref * (1 - r_ref) / np.maximum(n_ref, 1), 0.0)
        expected_out = list(rate_ref) + [None] * (n_bins - k)
    else:
        sums = np.bincount(idx, weights=proba, minlength=n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_p = sums / n_cur
        expected = mean_p[:k]
        ref_var = np.zeros(k)
        expected_out = [float(p) if c else None for p, c in zip(mean_p, n_cur, strict=True)]

    score = None
    if ok.sum() >= 2:
        w = n_cur[:k][ok] / n_cur[:k][ok].sum()
        e = expected[ok]
        d = np.array([rate_cur[i] for i in np.flatnonzero(ok)]) - e
        spread = float(np.sum(w * (d - np.sum(w * d)) ** 2))
        noise = float(np.sum(w * (1 - w) * (e * (1 - e) / n_cur[:k][ok] + ref_var[ok])))
        score = math.sqrt(max(0.0, spread - noise)) / base_ref

    mi_cur = float(current["mutual_information"])
    mi_ref = concept.get("mutual_information")
    mi_change = None
    if mi_ref is not None and h_ref > 0:
        present_ref = int(np.count_nonzero(n_ref))
        present_cur = int(np.count_nonzero(n_cur))
        mi_ref_c = max(0.0, mi_ref - (present_ref - 1) / (2 * max(int(ref.n_rows), 1)))
        mi_cur_c = max(0.0, mi_cur - (present_cur - 1) / (2 * y.size))
        mi_change = abs(mi_cur_c - mi_ref_c) / h_ref

    drifted = score is not None and score >= threshold
    compared_bins = int(ok.sum())
    n_compared = int(n_cur[:k][ok].sum())
    new_rows = int(n_cur[k:].sum())
    if score is None:
        reason = (
            f"not scored: {compared_bins} bin(s) with >= {min_bin_rows} current and reference "
            "rows, need 2"
        )
    else:
        cmp = ">=" if drifted else "<"
        reason = (
            f"{'drifted' if drifted else 'no drift'}: score {score:.3f} {cmp} threshold "
            f"{threshold:g} over {compared_bins} bins ({n_compared} of {int(y.size)} rows)"
        )
    if new_rows:
        reason += f"; {new_rows} rows in categories the reference never saw (not compared)"
    return FeatureConcept(
        name=name,
        type=ref.kind,
        score=_finite(score, name),
        drifted=drifted,
        reason=reason,
        mutual_information_reference=_finite(mi_ref, name),
        mutual_information_current=_finite(mi_cur, name),
        mi_change=_finite(mi_change, name),
        correlation_reference=_finite(concept.get("correlation"), name),
        correlation_current=_finite(corr, name),
        n_current=int(y.size),
        n_compared=n_compared,
        compared_bins=compared_bins,
        new_category_rows=new_rows,
        labels=tuple(labels),
        n_reference_by_bin=tuple(int(c) for c in n_ref) + (0,) * (n_bins - k),
        n_current_by_bin=tuple(int(c) for c in n_cur),
        rate_reference=tuple(rate_ref) + (None,) * (n_bins - k),
        rate_current=tuple(None if r is None else float(r) for r in rate_cur),
        rate_expected=tuple(expected_out),
        compared=tuple(bool(c) for c in ok) + (False,) * (n_bins - k),
        kinds=_bin_kinds(ref.kind, n_bins),
    )


# ----------------------------------------------------------------------------- helpers


def _category_index(frame, categories: tuple[str, ...], name: str) -> np.ndarray:
    """Bin per row: the reference category's position, then missing, then new (categories
    by the same rule as the profile: :func:`modelguard.drift.detection.category_index`)."""
    col = frame[name]
    if col.isna().all():
        codes, uniques = np.full(len(col), -1, dtype=np.int64), []
    else:
        codes, uniques = category_index(frame, name, "labelled window")
    position = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    lookup = np.array([position.get(u, k + 1) for u in uniques] + [k], dtype=np.int64)
    return lookup[codes]  # code -1 (missing) picks the last entry


def _predictions(predictions, frame, n: int) -> np.ndarray | None:
    if predictions is None:
        return None
    if isinstance(predictions, str):
        if predictions not in frame.columns:
            raise DataValidationError(
                f"predictions column {predictions!r} is not in the labelled window"
            )
        predictions = frame[predictions]
    try:
        arr = np.asarray(predictions, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataValidationError("predictions must be numbers (P(target = 1) per row)") from None
    if arr.ndim != 1 or arr.size != n:
        raise DataValidationError(
            f"predictions have shape {arr.shape}; expected ({n},), one per row of the window"
        )
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
    if bad.any():
        raise DataValidationError(
            f"{int(bad.sum())} prediction(s) are not probabilities in [0, 1] (NaN, inf or out "
            "of range)"
        )
    return arr


def _resolve_threshold(threshold, config: DriftDetectionConfig | None) -> float:
    if threshold is None:
        if config is None:
            from modelguard.config import load_config

            config = load_config().drift_detection
        threshold = config.concept_drift_threshold
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise InvalidArgumentError(f"threshold must be a positive number; got {threshold!r}")
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold > 0):
        raise InvalidArgumentError(f"threshold must be a positive finite number; got {threshold}")
    return threshold


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidArgumentError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _reference_rate(profile: ReferenceProfile, target: str) -> float:
    if profile.target is None or profile.target_rate is None:
        raise ProfileError(
            "the reference profile was built without a target, so it holds no feature -> "
            "target relation; rebuild it with target="
        )
    if profile.target != target:
        raise ProfileError(
            f"the reference profile relates features to {profile.target!r}, not {target!r}"
        )
    rate = float(profile.target_rate)
    if not 0 < rate < 1:
        raise ProfileError(
            f"the reference target rate is {rate}; a relation needs both classes in training"
        )
    missing = [name for name, p in profile.features.items() if not p.concept]
    if missing:
        raise ProfileError(f"reference profile has no target relation for {', '.join(missing)}")
    return rate


def _binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log1p(-p))


def _importance_weighted(scored: dict[str, FeatureConcept], profile) -> float | None:
    if not scored:
        return None
    weights = np.array(
        [max(profile.features[k].concept.get("mutual_information") or 0.0, 0.0) for k in scored]
    )
    scores = np.array([f.score for f in scored.values()])
    if weights.sum() <= 0:
        return float(scores.mean())
    return float(np.sum(weights * scores) / weights.sum())


def _finite(x, name: str) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):  # never reaches a report or the store as NaN/inf
        raise DataValidationError(f"a concept statistic of {name!r} came out as {x}")
    return x
