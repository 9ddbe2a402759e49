"""Realised performance: metrics against scikit-learn, calibration, degradation, missing labels."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.calibration import calibration_curve

from email_engagement.generator import generate_sends
from email_engagement.model import train_model
from email_engagement.schema import FEATURES, LABEL_COLUMN
from modelguard.core.scoring import score_model
from modelguard.exceptions import DataValidationError, MalformedResultError
from modelguard.labels.performance import (
    Baseline,
    Degradation,
    PerformanceReport,
    degradation,
    measure_performance,
    missing_performance,
)

START = datetime(2026, 6, 1)


class ColumnModel:
    """predict_proba = the frame's ``p`` column: the test decides every score."""

    def predict_proba(self, X):
        p = X["p"].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


def observed_report(**metrics) -> PerformanceReport:
    """A measured report holding only ``metrics`` (what degradation reads)."""
    return PerformanceReport(
        status="measured",
        reason="test",
        n=100,
        n_labelled=100,
        n_sends=None,
        threshold=0.5,
        **metrics,
    )


def scored_frame(p, y) -> pd.DataFrame:
    return pd.DataFrame({"p": np.asarray(p, dtype=float), "y": np.asarray(y, dtype=int)})


@pytest.fixture(scope="module")
def champion():
    train = generate_sends(START, START + timedelta(days=4), seed=1, sends_per_hour=60)
    return train_model(train, FEATURES)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    frame = generate_sends(
        START + timedelta(days=4), START + timedelta(days=6), seed=2, sends_per_hour=60
    )
    return frame[[*FEATURES, LABEL_COLUMN]]


# ----------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_metrics_match_scikit_learn(champion, holdout, threshold):
    report = measure_performance(champion, holdout, LABEL_COLUMN, threshold=threshold)
    y = holdout[LABEL_COLUMN].to_numpy()
    p = champion.predict_proba(holdout[list(FEATURES)])[:, 1]
    pred = (p >= threshold).astype(int)
    assert report.status == "measured" and report.measured
    assert report.n == report.n_labelled == len(holdout)
    assert report.threshold == threshold
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y, pred))
    assert report.precision == pytest.approx(metrics.precision_score(y, pred))
    assert report.recall == pytest.approx(metrics.recall_score(y, pred))
    assert report.f1 == pytest.approx(metrics.f1_score(y, pred))
    assert report.roc_auc == pytest.approx(metrics.roc_auc_score(y, p))
    assert report.log_loss == pytest.approx(metrics.log_loss(y, p))
    assert report.brier_score == pytest.approx(metrics.brier_score_loss(y, p))
    assert report.engagement_rate == pytest.approx(y.mean())
    assert report.predicted_rate == pytest.approx(pred.mean())
    assert report.mean_score == pytest.approx(p.mean())
    # the same numbers as the gate's score_model
    scores, _ = score_model(champion, holdout, LABEL_COLUMN, threshold=threshold)
    assert report.accuracy == scores.accuracy and report.roc_auc == scores.roc_auc


def test_reliability_table_matches_scikit_learn(champion, holdout):
    report = measure_performance(champion, holdout, LABEL_COLUMN, bins=10)
    y = holdout[LABEL_COLUMN].to_numpy()
    p = champion.predict_proba(holdout[list(FEATURES)])[:, 1]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [b for b in report.reliability if b.count]
    assert len(report.reliability) == report.calibration_bins == 10
    assert sum(b.count for b in report.reliability) == len(holdout)
    assert [b.actual_rate for b in filled] == pytest.approx(prob_true)
    assert [b.mean_score for b in filled] == pytest.approx(prob_pred)
    ece = sum(b.count * abs(b.mean_score - b.actual_rate) for b in filled) / len(holdout)
    assert report.expected_calibration_error == pytest.approx(ece)
    assert report.reliability[0].lower == 0.0 and report.reliability[-1].upper == 1.0


def test_a_calibrated_score_has_near_zero_ece_and_a_miscalibrated_one_does_not():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, 100_000)
    y = (rng.random(p.size) < p).astype(int)
    calibrated = measure_performance(ColumnModel(), scored_frame(p, y), "y")
    overconfident = measure_performance(ColumnModel(), scored_frame(p**0.3, y), "y")
    assert calibrated.expected_calibration_error < 0.01
    assert overconfident.expected_calibration_error > 0.2
    assert calibrated.brier_score == pytest.approx(np.mean(p * (1 - p)), abs=0.005)
    assert overconfident.brier_score > calibrated.brier_score + 0.05
    for b in calibrated.reliability:
        assert abs(b.mean_score - b.actual_rate) < 0.02
    # same ranking, so the same AUC: calibration is what tells them apart
    assert overconfident.roc_auc == pytest.approx(calibrated.roc_auc)


def test_ece_by_hand_and_bin_edges():
    # bin [0, 0.1): scores 0.05, 0.05 with labels 0, 1; bin [0.9, 1]: 0.95 and 1.0, both 1
    report = measure_performance(
        ColumnModel(), scored_frame([0.05, 0.05, 0.95, 1.0], [0, 1, 1, 1]), "y"
    )
    assert report.expected_calibration_error == pytest.approx(0.5 * 0.45 + 0.5 * 0.025)
    assert [b.count for b in report.reliability] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert report.reliability[1].mean_score is None and report.reliability[1].actual_rate is None
    # a score on an edge opens the next bin
    edge = measure_performance(ColumnModel(), scored_frame([0.1, 0.5], [0, 1]), "y")
    assert edge.reliability[1].count == 1 and edge.reliability[5].count == 1
    # one bin: ECE is the gap between the mean score and the engagement rate
    one = measure_performance(ColumnModel(), scored_frame([0.2, 0.4, 0.9], [0, 0, 1]), "y", bins=1)
    assert one.expected_calibration_error == pytest.approx(abs(0.5 - 1 / 3))


def test_undefined_metrics_are_none_and_json_safe():
    report = measure_performance(ColumnModel(), scored_frame([0.1, 0.2, 0.3], [0, 0, 0]), "y")
    assert report.roc_auc is None and report.recall is None and report.precision is None
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["status"] == "measured" and data["roc_auc"] is None
    assert len(data["reliability"]) == 10 and data["degradation"] is None


def test_measure_errors(champion, holdout):
    with pytest.raises(DataValidationError, match="target column"):
        measure_performance(champion, holdout.drop(columns=[LABEL_COLUMN]), LABEL_COLUMN)
    with pytest.raises(DataValidationError, match="empty"):
        measure_performance(champion, holdout.head(0), LABEL_COLUMN)
    with pytest.raises(ValueError, match="threshold"):
        measure_performance(champion, holdout, LABEL_COLUMN, threshold=1.5)
    with pytest.raises(ValueError, match="bins"):
        measure_performance(champion, holdout, LABEL_COLUMN, bins=0)


# ----------------------------------------------------------------------------- degradation


@pytest.mark.parametrize(
    ("metric", "observed", "baseline", "drop", "degraded"),
    [
        ("accuracy", 0.72, 0.80, 0.10, True),
        ("accuracy", 0.78, 0.80, 0.025, False),
        ("accuracy", 0.76, 0.80, 0.05, False),  # exactly the threshold: not more than it
        ("accuracy", 0.75, 0.80, 0.0625, True),
        ("accuracy", 0.85, 0.80, -0.0625, False),  # better than the baseline
        ("roc_auc", 0.70, 0.76, 0.06 / 0.76, True),
        ("log_loss", 0.60, 0.50, 0.20, True),  # lower is better: an increase is worse
        ("log_loss", 0.45, 0.50, -0.10, False),
        ("log_loss", 0.52, 0.50, 0.04, False),
        ("brier_score", 0.25, 0.20, 0.25, True),
    ],
)
def test_degradation(metric, observed, baseline, drop, degraded):
    result = degradation(
        observed_report(**{metric: observed}),
        Baseline({metric: baseline}, "test"),
        metric=metric,
        threshold=0.05,
    )
    assert isinstance(result, Degradation)
    assert result.relative_drop == pytest.approx(drop)
    assert result.degraded is degraded
    assert result.higher_is_better is (metric in ("accuracy", "roc_auc"))
    assert result.reason.startswith("degraded" if degraded else "healthy")
    assert result.observed == observed and result.baseline == baseline


@pytest.mark.parametrize("baseline", [{}, {"accuracy": None}, {"accuracy": 0}, {"f1": 0.7}])
def test_no_baseline_is_never_a_degradation(baseline):
    result = degradation(observed_report(accuracy=0.1), Baseline(baseline, "test"))
    assert not result.degraded
    assert result.relative_drop is None
    assert result.reason.startswith("no baseline for accuracy")


def test_an_undefined_observation_is_not_a_degradation():
    result = degradation(
        observed_report(precision=None), Baseline({"precision": 0.6}, "test"), metric="precision"
    )
    assert not result.degraded and "undefined" in result.reason


def test_degradation_of_a_report_and_of_model_scores(champion, holdout):
    report = measure_performance(champion, holdout, LABEL_COLUMN)
    baseline = Baseline(
        {"accuracy": report.accuracy / 0.9, "log_loss": report.log_loss * 0.9}, "test"
    )
    assert degradation(report, baseline).degraded
    assert degradation(report, baseline, metric="log_loss").relative_drop == pytest.approx(
        1 / 0.9 - 1
    )
    assert not degradation(report, baseline, threshold=0.2).degraded
    scores, _ = score_model(champion, holdout, LABEL_COLUMN)
    assert degradation(
        observed_report(accuracy=scores.accuracy), baseline
    ).relative_drop == pytest.approx(0.1)
    attached = report.with_degradation(baseline, metric="accuracy", threshold=0.05)
    data = json.loads(json.dumps(attached.to_dict(), allow_nan=False))
    assert data["degradation"]["degraded"] is True
    assert data["degradation"]["relative_drop"] == pytest.approx(0.1)
    assert data["degradation"]["metric"] == "accuracy"


def test_report_round_trips_through_its_dict(champion, holdout):
    report = measure_performance(champion, holdout, LABEL_COLUMN)
    attached = report.with_degradation(Baseline({"accuracy": report.accuracy / 0.9}, "test"))
    missing = missing_performance("late", 3, 10).with_degradation(
        Baseline({"accuracy": 0.9}, "test")
    )
    for value in (report, attached, missing):
        data = json.loads(json.dumps(value.to_dict(), allow_nan=False))
        assert PerformanceReport.from_dict(data) == value
    assert Degradation.from_dict(attached.degradation.to_dict()) == attached.degradation
    with pytest.raises(MalformedResultError, match="missing key"):
        PerformanceReport.from_dict({"status": "measured"})
    with pytest.raises(MalformedResultError, match="status 'degraded'"):
        PerformanceReport.from_dict({**report.to_dict(), "status": "degraded"})


def test_degradation_errors():
    with pytest.raises(ValueError, match="not a performance metric"):
        degradation(
            observed_report(accuracy=0.8), Baseline({"accuracy": 0.9}, "test"), metric="speed"
        )
    with pytest.raises(ValueError, match="threshold"):
        degradation(
            observed_report(accuracy=0.8), Baseline({"accuracy": 0.9}, "test"), threshold=-0.1
        )
    with pytest.raises(ValueError, match="baseline must be a Baseline"):
        degradation(observed_report(accuracy=0.8), None)
    with pytest.raises(ValueError, match="observed must be a PerformanceReport"):
        degradation({"accuracy": 0.8}, {"accuracy": 0.9})


# ----------------------------------------------------------------------------- missing labels


def test_missing_performance_is_not_a_measurement():
    report = missing_performance("43 of 1200 sends labelled, below min_labelled_rows 200", 43, 1200)
    assert isinstance(report, PerformanceReport)
    assert report.status == "missing" and not report.measured
    assert report.n_labelled == 43 and report.n_sends == 1200
    assert report.accuracy is None and report.expected_calibration_error is None
    assert report.reliability == ()
    result = degradation(report, Baseline({"accuracy": 0.9}, "test"))
    assert not result.degraded and result.relative_drop is None
    assert result.reason.startswith("performance missing (43 of 1200")
    data = json.loads(
        json.dumps(
            report.with_degradation(Baseline({"accuracy": 0.9}, "test")).to_dict(), allow_nan=False
        )
    )
    assert data["status"] == "missing" and data["accuracy"] is None
    assert data["degradation"]["degraded"] is False
    # a report that says missing is treated the same way, whatever metric it holds
    missing = replace(observed_report(accuracy=0.1), status="missing", reason="late")
    assert not degradation(missing, Baseline({"accuracy": 0.9}, "test")).degraded


@pytest.mark.parametrize(
    ("reason", "n_labelled", "n_sends"),
    [("", 1, 2), ("late", -1, 2), ("late", 3, 2), ("late", 1.5, 2), ("late", True, 2)],
)
def test_missing_performance_errors(reason, n_labelled, n_sends):
    with pytest.raises(ValueError):
        missing_performance(reason, n_labelled, n_sends)
