"""Hostile input to the estimated performance: every case ends in a value checked against an
independent computation or a modelguard error naming the input and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from modelguard.exceptions import (
    EstimationUnavailableError,
    InvalidArgumentError,
    MalformedResultError,
    ModelguardError,
)
from modelguard.labels.estimation import (
    ESTIMATED_METRICS,
    Calibration,
    EstimateOutcome,
    PerformanceEstimate,
    estimate_performance,
    fit_calibration,
)

RNG = np.random.default_rng(0)
_S = RNG.random(800)
CAL = fit_calibration(_S, (RNG.random(800) < _S).astype(int))

probabilities = arrays(
    np.float64, st.integers(1, 60), elements=st.floats(0, 1, allow_nan=False, width=64)
)


@given(probabilities, st.floats(0.01, 0.99))
def test_any_scores_give_estimates_in_range_and_an_ordered_interval(scores, threshold):
    est = estimate_performance(scores, CAL, threshold=threshold, simulations=20, seed=1)
    p = CAL.apply(scores)
    pred = scores >= threshold
    expected_accuracy = float(np.mean(np.where(pred, p, 1 - p)))
    assert est.metrics["accuracy"].value == pytest.approx(expected_accuracy)
    assert est.predicted_rate == pytest.approx(pred.mean())
    for name in ESTIMATED_METRICS:
        m = est.metrics[name]
        if m.value is None:
            continue
        assert 0.0 <= m.value <= 1.0 and math.isfinite(m.value)
        if m.lower is not None:
            assert m.lower <= m.value <= m.upper
            assert 0.0 <= m.lower and m.upper <= 1.0
    assert PerformanceEstimate.from_dict(est.to_dict()) == est


@given(
    arrays(np.float64, st.integers(2, 200), elements=st.floats(0, 1, width=64)),
    st.integers(0, 2**32),
)
def test_any_calibration_set_calibrates_monotonically_or_is_unavailable(scores, seed):
    labels = (np.random.default_rng(seed).random(scores.size) < scores).astype(int)
    try:
        cal = fit_calibration(scores, labels, min_rows=2)
    except EstimationUnavailableError as exc:
        positives = int(labels.sum())
        assert positives in (0, scores.size) or np.ptp(scores) == 0, exc
        return
    grid = np.linspace(0, 1, 101)
    out = cal.apply(grid)
    assert np.all(np.diff(out) >= -1e-12) and out.min() >= 0 and out.max() <= 1


BAD_SCORES = [
    [0.2, float("nan")],
    [0.2, float("inf")],
    [0.2, -0.1],
    [0.2, 1.0000001],
    ["0.2", "0.3"],
    [b"a"],
    [0.2, None],
    [0.2, "x"],
    [[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]],  # a whole predict_proba output
    np.zeros((2, 2, 2)),
    {"a": 1},
    "0.5",
    object(),
    [np.datetime64("2026-01-01")],
    [complex(0.5, 0)],
]


@pytest.mark.parametrize("scores", BAD_SCORES, ids=lambda s: repr(s)[:30])
def test_hostile_window_scores_are_refused_naming_them(scores):
    with pytest.raises(InvalidArgumentError, match="window scores must be"):
        estimate_performance(scores, CAL, threshold=0.5, simulations=20)


@pytest.mark.parametrize("scores", BAD_SCORES, ids=lambda s: repr(s)[:30])
def test_hostile_calibration_scores_are_refused_naming_them(scores):
    with pytest.raises(InvalidArgumentError, match="calibration scores must be"):
        fit_calibration(scores, [0, 1], min_rows=1)


@pytest.mark.parametrize(
    "labels",
    [
        [0, 2],
        [0, -1],
        [0, 0.5],
        [0, float("nan")],
        ["0", "1"],
        [0, None],
        [True, "x"],
        [[0, 1], [1, 0]],
        [0, 1, 1],
        [0],
    ],
    ids=repr,
)
def test_hostile_calibration_labels_are_refused_naming_them(labels):
    with pytest.raises(InvalidArgumentError, match="calibration labels must be"):
        fit_calibration([0.1, 0.9], labels, min_rows=1)


def test_boolean_labels_are_labels():
    scores = RNG.random(300)
    labels = RNG.random(300) < scores
    a = fit_calibration(scores, labels)
    b = fit_calibration(scores, labels.astype(int))
    np.testing.assert_array_equal(a.apply(scores), b.apply(scores))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 0}, "threshold must be in"),
        ({"threshold": float("nan")}, "threshold must be in"),
        ({"threshold": "0.5"}, "threshold must be a number"),
        ({"threshold": True}, "threshold must be a number"),
        ({"level": 0}, "level must be"),
        ({"level": "0.9"}, "level must be"),
        ({"level": True}, "level must be"),
        ({"level": float("inf")}, "level must be"),
        ({"simulations": 19}, "simulations must be"),
        ({"simulations": True}, "simulations must be"),
        ({"simulations": "100"}, "simulations must be"),
        ({"seed": 1.5}, "seed must be"),
        ({"seed": True}, "seed must be"),
        ({"seed": None}, "seed must be"),
    ],
    ids=repr,
)
def test_hostile_estimate_arguments_are_refused(kwargs, match):
    args = {"threshold": 0.5, "simulations": 20, **kwargs}
    with pytest.raises(InvalidArgumentError, match=match):
        estimate_performance([0.2, 0.7], CAL, **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "platt"}, "'platt' is not one of isotonic, histogram"),
        ({"method": None}, "is not one of"),
        ({"bins": 0}, r"bins must be an integer in \[2, 1000\]"),
        ({"bins": 1001}, "bins must be an integer"),
        ({"bins": 2.5}, "bins must be an integer"),
        ({"bins": "10"}, "bins must be an integer"),
    ],
    ids=repr,
)
def test_hostile_calibration_arguments_are_refused(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        fit_calibration([0.1, 0.9], [0, 1], min_rows=1, **kwargs)


GOOD_OUTCOME = EstimateOutcome(
    status="estimated",
    reason="r",
    window=("2026-07-01T00:00:00", "2026-07-02T00:00:00"),
    model_version_id=1,
    metric="accuracy",
    estimate=0.6,
).to_dict()


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "estimated",
        {},
        {**GOOD_OUTCOME, "status": "ESTIMATED"},
        {**GOOD_OUTCOME, "status": None},
        {**GOOD_OUTCOME, "window": None},
        {**GOOD_OUTCOME, "window": "2026-07-01"},
        {**GOOD_OUTCOME, "window": [1, 2, 3]},
        {k: v for k, v in GOOD_OUTCOME.items() if k != "degraded"},
        {**GOOD_OUTCOME, "degraded": "false"},  # a truthy string must not read as degraded
        {**GOOD_OUTCOME, "degraded": 1},
        {**GOOD_OUTCOME, "model_version_id": "1"},
        {**GOOD_OUTCOME, "model_version_id": True},
        {**GOOD_OUTCOME, "n_rows": -1},
        {**GOOD_OUTCOME, "n_rows": 1.5},
        {**GOOD_OUTCOME, "realised_filled": None},
    ],
    ids=lambda d: repr(d)[:40],
)
def test_hostile_estimate_xcoms_are_refused_naming_the_task(data):
    with pytest.raises(MalformedResultError, match="estimate_performance"):
        EstimateOutcome.from_xcom(data, "estimate_performance")


@pytest.mark.parametrize(
    ("field", "value"),
    [("estimate", float("nan")), ("estimate", "0.6"), ("lower", float("inf")), ("upper", True)],
)
def test_non_numbers_in_an_estimate_xcom_read_as_unknown_never_as_numbers(field, value):
    out = EstimateOutcome.from_dict({**GOOD_OUTCOME, field: value})
    assert getattr(out, field) is None


STORED = CAL.to_dict()


@pytest.mark.parametrize(
    "data",
    [
        None,
        "isotonic",
        {},
        {**STORED, "method": "magic"},
        {**STORED, "bins": "ten"},
        {**STORED, "scores": STORED["scores"][:-1]},  # truncated: one label too many
        {**STORED, "scores": ["x"] * len(STORED["scores"])},
        {**STORED, "scores": [2.0] * len(STORED["scores"])},
        {**STORED, "labels": [3] * len(STORED["labels"])},
        {**STORED, "labels": [1] * len(STORED["labels"])},  # one class: tampered
        {k: v for k, v in STORED.items() if k != "labels"},
    ],
    ids=lambda d: repr(d)[:40],
)
def test_a_tampered_stored_calibration_is_refused_not_used(data):
    with pytest.raises(MalformedResultError):
        Calibration.from_dict(data)


def test_every_refusal_is_a_modelguard_error():
    for bad in BAD_SCORES:
        with pytest.raises(ModelguardError):
            estimate_performance(bad, CAL, threshold=0.5, simulations=20)
