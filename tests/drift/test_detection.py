"""Drift analysis on constructed frames: quiet on the same distribution, loud on real shifts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from modelguard.config import load_config
from modelguard.drift.detection import ReferenceProfile, build_reference_profile, detect_drift
from modelguard.drift.report import summarize
from modelguard.exceptions import ConfigError, DataValidationError
from tests.world import EXAMPLE_CONFIG

FEATURES = {
    "size": "numeric",
    "opens": "numeric",
    "industry": "categorical",
    "region": "categorical",
}
DD = load_config(EXAMPLE_CONFIG).drift_detection


def make_frame(n: int, seed: int, *, shift: float = 0.0, industries=None, missing=0.0):
    rng = np.random.default_rng(seed)
    industries = industries or {"saas": 0.5, "retail": 0.3, "health": 0.2}
    frame = pd.DataFrame(
        {
            "size": rng.lognormal(5 + shift, 1.0, n),
            "opens": np.where(rng.random(n) < 0.6, 0.0, rng.poisson(3, n)),  # zero-inflated
            "industry": rng.choice(list(industries), n, p=list(industries.values())),
            "region": rng.choice(["na", "emea", "apac"], n, p=[0.5, 0.3, 0.2]),
            "engaged": rng.random(n) < 0.1,
            "unused_column": "ignored",
        }
    )
    if missing:
        frame.loc[rng.random(n) < missing, "size"] = np.nan
    frame["engaged"] = frame["engaged"].astype(int)
    return frame


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return build_reference_profile(make_frame(100_000, 1), FEATURES, target="engaged")


def test_two_large_samples_of_one_distribution_flag_nothing(profile):
    report = detect_drift(profile, make_frame(100_000, 2), config=DD)
    assert report.verdict == "healthy"
    assert not report.dataset_drift
    assert report.drifted_features == []
    for f in report.features.values():
        assert f.severity == "none"
        assert f.reason.startswith("no drift")


def test_a_real_shift_is_flagged_with_its_reason(profile):
    report = detect_drift(profile, make_frame(5_000, 3, shift=0.6), config=DD)
    size = report.features["size"]
    assert size.drifted and size.severity == "major"
    assert size.ks_statistic >= DD.min_ks_statistic and size.pvalue_adjusted < DD.ks_significance
    assert "PSI" in size.reason and "KS D" in size.reason
    assert report.verdict == "major" and report.dataset_drift
    assert report.dataset_drift_reason == "major drift in size"
    assert "(major drift in size)" in summarize(report.to_dict())
    assert not report.features["region"].drifted


def test_ks_matches_scipy_when_the_reference_is_kept_whole():
    ref = make_frame(3_000, 4)
    cur = make_frame(2_000, 5, shift=0.05)
    prof = build_reference_profile(ref, FEATURES, sample_size=5_000)
    report = detect_drift(prof, cur, config=DD)
    expected = scipy.stats.ks_2samp(ref["size"], cur["size"])
    assert report.features["size"].ks_statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert report.features["size"].ks_pvalue == pytest.approx(expected.pvalue, rel=1e-9)


def test_new_categories_and_missing_share_are_reported_explicitly(profile):
    cur = make_frame(
        20_000,
        6,
        industries={"saas": 0.4, "retail": 0.25, "health": 0.15, "crypto": 0.2},
        missing=0.3,
    )
    report = detect_drift(profile, cur, config=DD)
    industry = report.features["industry"]
    assert set(industry.new_categories) == {"crypto"}
    assert industry.new_categories["crypto"] == pytest.approx(0.2, abs=0.02)
    assert "crypto" in industry.reason and industry.drifted
    assert np.isfinite(industry.psi) and np.isfinite(industry.chi2_statistic)
    assert "crypto" in industry.bins["labels"]
    size = report.features["size"]
    assert size.missing_share_reference == 0.0
    assert size.missing_share_current == pytest.approx(0.3, abs=0.02)
    assert "missing share" in size.reason and size.severity == "major"
    json.dumps(report.to_dict(), allow_nan=False)  # no NaN or inf anywhere


def test_profile_round_trips_through_json_and_arrays(profile):
    stored = json.loads(json.dumps(profile.to_json()))
    again = ReferenceProfile.from_stored(stored, profile.arrays_bytes())
    cur = make_frame(3_000, 7, shift=0.2)
    a = detect_drift(profile, cur, config=DD).to_dict()
    b = detect_drift(again, cur, config=DD).to_dict()
    assert a == b
    assert stored["features"]["size"]["concept"]["mutual_information"] >= 0
    assert len(stored["features"]["industry"]["concept"]["target_rate_by_bin"]) == 4


def test_report_round_trips_through_its_stored_json(profile):
    from modelguard.drift.detection import DriftReport
    from modelguard.exceptions import MalformedResultError

    report = detect_drift(
        profile,
        make_frame(3_000, 8, shift=0.5, missing=0.05),
        config=DD,
        model_name="m",
        model_version=2,
        window={"start": "2026-05-01T00:00:00", "end": "2026-05-02T00:00:00"},
    )
    stored = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert DriftReport.from_dict(stored) == report
    assert DriftReport.from_dict(stored).to_dict() == stored
    del stored["features"]["size"]["psi"]
    with pytest.raises(MalformedResultError, match="psi"):
        DriftReport.from_dict(stored)


def test_reference_sample_is_bounded_and_keeps_the_point_mass():
    prof = build_reference_profile(make_frame(50_000, 8), FEATURES, sample_size=1_000)
    opens = prof.features["opens"]
    assert opens.sorted_sample.size == 1_000
    assert np.all(np.diff(opens.sorted_sample) >= 0)
    # the zero-inflated mass stays in its own lowest bin (right-closed at 0)
    assert opens.edges[0] == 0.0
    assert opens.counts[0] / opens.n_rows == pytest.approx(0.6 + 0.4 * np.exp(-3), abs=0.01)


def test_thresholds_can_be_overridden_and_are_validated(profile):
    cur = make_frame(5_000, 9, shift=0.15)
    strict = detect_drift(profile, cur, config=DD, psi_warning=0.01, psi_critical=0.02)
    assert strict.features["size"].severity == "major"
    assert strict.thresholds["psi_critical"] == 0.02
    with pytest.raises(ConfigError, match="psi_warning"):
        detect_drift(profile, cur, config=DD, psi_warning=0.5)


def test_tests_per_type_are_configurable(profile):
    cur = make_frame(5_000, 10)
    report = detect_drift(
        profile, cur, config=DD, numeric_tests=["psi"], categorical_tests=["chi2"]
    )
    assert report.features["size"].ks_statistic is None
    assert report.features["industry"].psi is None
    assert report.features["industry"].chi2_pvalue is not None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.iloc[:0], "no rows"),
        (lambda f: f.iloc[:50], "fewer than drift_detection.min_rows"),
        (lambda f: f.drop(columns=["region"]), "missing feature column"),
        (lambda f: f.assign(size="big"), "numeric but its column has dtype"),
        (lambda f: f.assign(size=np.nan), "only missing values"),
        (lambda f: f.assign(industry=1.5), "categorical but its column has dtype"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(profile, mutate, message):
    with pytest.raises(DataValidationError, match=message):
        detect_drift(profile, mutate(make_frame(1_000, 11)), config=DD)


def test_profile_refuses_unusable_training_data():
    with pytest.raises(DataValidationError, match="no rows"):
        build_reference_profile(make_frame(10, 1).iloc[:0], FEATURES)
    with pytest.raises(DataValidationError, match="only missing values"):
        build_reference_profile(make_frame(100, 1).assign(size=np.nan), FEATURES)
    with pytest.raises(DataValidationError, match="no target column"):
        build_reference_profile(make_frame(100, 1), FEATURES, target="nope")
