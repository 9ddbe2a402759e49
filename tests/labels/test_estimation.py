"""Estimated performance (CBPE): calibration against scikit-learn, the expected confusion matrix
and ROC AUC against independent computations, the interval's coverage, determinism, the
degenerate inputs, and the round trips of the results."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from modelguard.core.scoring import scores_from_probabilities
from modelguard.exceptions import (
    EstimationUnavailableError,
    InvalidArgumentError,
    MalformedResultError,
)
from modelguard.labels.estimation import (
    ESTIMATED_METRICS,
    Calibration,
    EstimateOutcome,
    MetricEstimate,
    PerformanceEstimate,
    estimate_performance,
    estimated_degradation,
    expected_metrics,
    fit_calibration,
    seed_for,
)
from modelguard.labels.performance import Baseline


def calibrated_world(n: int, seed: int, shift: float = 0.0):
    """True probabilities from a Beta, labels drawn from them, scores = the probabilities
    squeezed by a monotone map (so calibration has work to do); ``shift`` moves the
    probabilities (a covariate shift: the score->probability relation stays)."""
    rng = np.random.default_rng(seed)
    p = np.clip(rng.beta(2.0, 4.0, n) + shift, 0.0, 1.0)
    y = (rng.random(n) < p).astype(np.int8)
    scores = p**1.7  # monotone, not calibrated
    return scores, y, p


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    scores, y, _ = calibrated_world(5000, seed=1)
    return fit_calibration(scores, y)


# ------------------------------------------------------------------------------ calibration


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_isotonic_calibration_matches_scikit_learn(seed):
    scores, y, _ = calibrated_world(3000, seed)
    cal = fit_calibration(scores, y)
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, y)
    grid = np.linspace(-0.1, 1.1, 500).clip(0, 1)
    np.testing.assert_allclose(cal.apply(grid), reference.predict(grid), atol=1e-9)
    np.testing.assert_allclose(cal.apply(scores), reference.predict(scores), atol=1e-9)


def test_isotonic_calibration_recovers_the_true_probability(calibration):
    scores, _, p = calibrated_world(20000, seed=9)
    err = np.abs(calibration.apply(scores) - p)
    assert err.mean() < 0.03, err.mean()


@pytest.mark.parametrize("bins", [2, 5, 10, 20])
def test_histogram_calibration_is_the_rate_of_each_quantile_bin(bins):
    scores, y, _ = calibrated_world(4000, seed=4)
    cal = fit_calibration(scores, y, method="histogram", bins=bins)
    edges = np.quantile(scores, np.linspace(0, 1, bins + 1))
    for b in range(bins):
        lo, hi = edges[b], edges[b + 1]
        inside = (scores > lo) & (scores <= hi) if b else (scores <= hi)
        expected = y[inside].mean()
        probe = scores[inside][:5]
        np.testing.assert_allclose(cal.apply(probe), expected, atol=1e-12)


def test_calibration_round_trip_through_json(calibration):
    back = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    probe = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(back.apply(probe), calibration.apply(probe))
    assert back.summary() == calibration.summary()


def test_a_large_calibration_set_is_subsampled_deterministically():
    scores, y, _ = calibrated_world(50_000, seed=5)
    a, b = fit_calibration(scores, y), fit_calibration(scores, y)
    assert a.n_rows == 20_000
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        (np.linspace(0, 1, 50), np.ones(50), "one class only"),
        (np.linspace(0, 1, 50), np.zeros(50), "one class only"),
        (np.full(50, 0.3), np.r_[np.ones(25), np.zeros(25)], "same score"),
        (np.linspace(0, 1, 5), np.array([0, 1, 0, 1, 1]), "holds 5 labelled row"),
    ],
)
def test_a_calibration_set_that_cannot_calibrate_is_unavailable(scores, labels, match):
    with pytest.raises(EstimationUnavailableError, match=match):
        fit_calibration(scores, labels, min_rows=10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scores": [0.1, float("nan")], "labels": [0, 1]}, r"calibration scores must be"),
        ({"scores": [0.1, 1.5], "labels": [0, 1]}, r"1 of 2 are not"),
        ({"scores": [0.1, 0.2], "labels": [0, 2]}, r"labels must be 0 or 1.*\[2.0\]"),
        ({"scores": [0.1, 0.2], "labels": [0, 1, 1]}, r"2 numbers 0/1"),
        ({"scores": [0.1, 0.2], "labels": ["a", "b"]}, r"calibration labels must be numbers"),
        ({"scores": "abc", "labels": [0]}, r"calibration scores must be numbers"),
        ({"scores": [0.1, 0.2], "labels": [0, 1], "method": "platt"}, r"'platt' is not one"),
        ({"scores": [0.1, 0.2], "labels": [0, 1], "bins": 1}, r"bins must be an integer"),
        ({"scores": [0.1, 0.2], "labels": [0, 1], "bins": True}, r"bins must be an integer"),
    ],
)
def test_bad_calibration_input_is_refused_with_what_is_allowed(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        fit_calibration(min_rows=1, **kwargs)


# ------------------------------------------------------------------------------ point estimate


def test_expected_confusion_matrix_against_a_row_by_row_computation():
    rng = np.random.default_rng(3)
    p = rng.random(40)
    scores = rng.random(40)
    pred = (scores >= 0.5).astype(float)
    got = expected_metrics(p, pred, scores)
    tp = sum(pi for pi, yi in zip(p, pred, strict=True) if yi)
    fp = sum(1 - pi for pi, yi in zip(p, pred, strict=True) if yi)
    fn = sum(pi for pi, yi in zip(p, pred, strict=True) if not yi)
    tn = sum(1 - pi for pi, yi in zip(p, pred, strict=True) if not yi)
    assert got["accuracy"] == pytest.approx((tp + tn) / 40)
    assert got["precision"] == pytest.approx(tp / (tp + fp))
    assert got["recall"] == pytest.approx(tp / (tp + fn))
    assert got["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))


@pytest.mark.parametrize("seed", range(5))
def test_expected_roc_auc_is_the_pairwise_expectation(seed):
    """Σ_i Σ_j p_i (1 - p_j) ([s_i > s_j] + ½[s_i = s_j]) / (Σ p · Σ (1 - p)), ties included."""
    rng = np.random.default_rng(seed)
    p = rng.random(30)
    scores = np.round(rng.random(30), 1)  # ties on purpose
    got = expected_metrics(p, scores >= 0.5, scores)["roc_auc"]
    num = sum(
        p[i] * (1 - p[j]) * (1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0)
        for i in range(30)
        for j in range(30)
    )
    assert got == pytest.approx(num / (p.sum() * (1 - p).sum()))


def test_expected_metrics_undefined_denominators_are_none():
    p = np.array([0.2, 0.4])
    got = expected_metrics(p, np.zeros(2), p)
    assert got["precision"] is None
    assert got["accuracy"] == pytest.approx(0.7)
    none_positive = expected_metrics(np.zeros(3), np.zeros(3), np.array([0.1, 0.2, 0.3]))
    assert none_positive["recall"] is None and none_positive["roc_auc"] is None
    assert none_positive["f1"] is None


# ------------------------------------------------------------------------------ the interval


def test_realised_metrics_lie_in_the_interval_in_at_least_90_percent_of_windows(calibration):
    """Windows from the calibrated world (no drift) and under a covariate shift (the
    probabilities move, the score->probability map stays): the realised value of each metric
    falls in its 95% interval in at least 90% of 60 windows."""
    hits = {m: 0 for m in ESTIMATED_METRICS}
    total = 60
    for w in range(total):
        scores, y, _ = calibrated_world(600, seed=100 + w, shift=0.15 if w % 2 else 0.0)
        est = estimate_performance(
            scores, calibration, threshold=0.3, simulations=200, seed=seed_for("t", w)
        )
        realised, _ = scores_from_probabilities(y, scores, 0.3)
        for m in ESTIMATED_METRICS:
            hits[m] += bool(est.metrics[m].contains(realised.metric(m)))
    coverage = {m: h / total for m, h in hits.items()}
    assert all(c >= 0.9 for c in coverage.values()), f"observed coverage {coverage}"


def test_the_point_estimate_tracks_the_realised_value_under_covariate_shift(calibration):
    scores, y, _ = calibrated_world(50_000, seed=77, shift=0.25)
    est = estimate_performance(scores, calibration, threshold=0.3, simulations=40, seed=1)
    realised, _ = scores_from_probabilities(y, scores, 0.3)
    for m in ESTIMATED_METRICS:
        assert est.metrics[m].value == pytest.approx(realised.metric(m), abs=0.02), m


def test_the_interval_narrows_with_more_rows(calibration):
    widths = []
    for n in (200, 5000):
        scores, _, _ = calibrated_world(n, seed=8)
        est = estimate_performance(scores, calibration, threshold=0.3, seed=2)
        widths.append(est.metrics["accuracy"].upper - est.metrics["accuracy"].lower)
    assert widths[1] < widths[0] / 2


def test_same_seed_same_numbers_other_seed_other_draws(calibration):
    scores, _, _ = calibrated_world(500, seed=12)
    a = estimate_performance(scores, calibration, threshold=0.3, seed=5)
    b = estimate_performance(scores, calibration, threshold=0.3, seed=5)
    c = estimate_performance(scores, calibration, threshold=0.3, seed=6)
    assert a.to_dict() == b.to_dict()
    assert a.metrics["accuracy"].value == c.metrics["accuracy"].value
    assert a.metrics["accuracy"].lower != c.metrics["accuracy"].lower


def test_seed_for_depends_on_every_part():
    assert seed_for(3, "2026-07-01", "2026-07-02") == seed_for(3, "2026-07-01", "2026-07-02")
    assert seed_for(3, "2026-07-01", "2026-07-02") != seed_for(4, "2026-07-01", "2026-07-02")
    assert 0 <= seed_for("x") < 2**63


def test_identical_window_scores_are_estimated_with_a_note(calibration):
    est = estimate_performance(np.full(300, 0.4), calibration, threshold=0.3, seed=1)
    p = float(calibration.apply(np.array([0.4]))[0])
    assert est.metrics["accuracy"].value == pytest.approx(p)  # all predicted positive
    assert est.metrics["roc_auc"].value == pytest.approx(0.5)
    assert "identical" in est.note


def test_nothing_predicted_positive_leaves_precision_undefined(calibration):
    est = estimate_performance(np.full(300, 0.1), calibration, threshold=0.9, seed=1)
    assert est.metrics["precision"] == MetricEstimate("precision", None, None, None)
    assert est.metrics["accuracy"].value is not None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scores": []}, EstimationUnavailableError, "no rows"),
        ({"scores": [0.2, float("inf")]}, InvalidArgumentError, "window scores must be"),
        ({"scores": [0.2], "threshold": 1.0}, InvalidArgumentError, "threshold must be in"),
        ({"scores": [0.2], "level": 1.0}, InvalidArgumentError, "level must be a number"),
        ({"scores": [0.2], "level": float("nan")}, InvalidArgumentError, "level must be"),
        ({"scores": [0.2], "simulations": 5}, InvalidArgumentError, "simulations must be"),
        ({"scores": [0.2], "simulations": 50.0}, InvalidArgumentError, "simulations must be"),
        ({"scores": [0.2], "seed": -1}, InvalidArgumentError, "seed must be"),
        ({"scores": [0.2], "calibration": "iso"}, InvalidArgumentError, "must be a Calibration"),
    ],
)
def test_bad_estimate_input_is_refused(calibration, kwargs, error, match):
    args = {"calibration": calibration, "threshold": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        estimate_performance(args.pop("scores"), args.pop("calibration"), **args)


# ------------------------------------------------------------------------------ results


def test_performance_estimate_round_trip(calibration):
    scores, _, _ = calibrated_world(400, seed=3)
    est = estimate_performance(scores, calibration, threshold=0.3, seed=9)
    text = json.dumps(est.to_dict(), allow_nan=False)
    assert PerformanceEstimate.from_dict(json.loads(text)) == est


def test_estimated_degradation_uses_the_realised_rule(calibration):
    scores, _, _ = calibrated_world(400, seed=3)
    est = estimate_performance(scores, calibration, threshold=0.3, seed=9)
    acc = est.metrics["accuracy"].value
    high = Baseline({"accuracy": acc / 0.9}, "registration")  # 10% drop
    low = Baseline({"accuracy": acc}, "registration")
    deg = estimated_degradation(est, high, metric="accuracy", threshold=0.05)
    assert deg.degraded and deg.relative_drop == pytest.approx(0.1)
    assert not estimated_degradation(est, low, metric="accuracy", threshold=0.05).degraded
    none = estimated_degradation(est, Baseline({}, "registration"), metric="f1", threshold=0.05)
    assert not none.degraded and "no baseline" in none.reason


def outcome(**overrides) -> EstimateOutcome:
    values = dict(
        status="estimated",
        reason="ok",
        window=("2026-07-01T00:00:00", "2026-07-02T00:00:00"),
        model_version_id=1,
        metric="accuracy",
        estimate=0.6,
        lower=0.55,
        upper=0.65,
        baseline=0.7,
        relative_drop=1 / 7,
        degraded=True,
        threshold=0.05,
        n_rows=700,
    )
    values.update(overrides)
    return EstimateOutcome(**values)


def test_estimate_outcome_round_trip_through_xcom_json():
    out = outcome()
    back = EstimateOutcome.from_xcom(json.loads(json.dumps(out.to_dict())), "estimate_performance")
    assert back == out


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"status": "guessed"}, "status 'guessed' is not one of"),
        ({"window": ["2026-07-01"]}, "window must be"),
        ({"metric": None, "drop": 1}, None),
    ],
)
def test_a_malformed_estimate_xcom_names_the_task(change, match):
    data = outcome().to_dict()
    if "drop" in change:
        del data["metric"]
        match = "missing key"
    else:
        data.update(change)
    with pytest.raises(MalformedResultError, match=f"estimate_performance.*{match}"):
        EstimateOutcome.from_xcom(data, "estimate_performance")


def test_a_non_finite_number_in_an_xcom_reads_back_as_none():
    data = outcome().to_dict()
    data["estimate"] = math.nan
    assert EstimateOutcome.from_dict(data).estimate is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"method": "isotonic"},
        {"method": "isotonic", "bins": 10, "source": "h", "scores": ["x"], "labels": [1]},
    ],
)
def test_a_malformed_stored_calibration_is_refused(data):
    with pytest.raises((MalformedResultError, InvalidArgumentError)):
        Calibration.from_dict(data)
