"""Concept drift: the formula on constructed frames, then the generator's scenarios.

The acceptance test of the score: it flags the generator's ``concept_drift`` scenario and stays
quiet on ``none``, ``covariate_shift`` (P(engaged | x) unchanged) and ``new_categories``, on
matured windows of a few thousand rows, over several seeds.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from email_engagement.generator import generate_sends
from email_engagement.model import train_model
from email_engagement.schema import FEATURES, LABEL_COLUMN, SCORE_COLUMN
from modelguard.config import load_config
from modelguard.drift.detection import ReferenceProfile, build_reference_profile
from modelguard.exceptions import DataValidationError, InsufficientDataError, ProfileError
from modelguard.labels.concept import ConceptDriftReport, detect_concept_drift
from tests.world import EXAMPLE_CONFIG

DD = load_config(EXAMPLE_CONFIG).drift_detection
THRESHOLD = DD.concept_drift_threshold
TRAIN_START = datetime(2026, 6, 1)
DRIFT_START = TRAIN_START + timedelta(days=20)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return generate_sends(TRAIN_START, DRIFT_START, seed=1, sends_per_hour=60)


@pytest.fixture(scope="module")
def profile(train) -> ReferenceProfile:
    return build_reference_profile(train, FEATURES, target=LABEL_COLUMN)


def window(scenario: str, seed: int, days: float = 2.5, magnitude: float = 1.0) -> pd.DataFrame:
    """Matured sends of ``days`` days right after the drift start (~1,250 rows a day)."""
    return generate_sends(
        DRIFT_START,
        DRIFT_START + timedelta(days=days),
        seed=seed,
        sends_per_hour=60,
        scenario=scenario,
        drift_start=DRIFT_START,
        magnitude=magnitude,
    )


def max_score(report: ConceptDriftReport) -> float:
    return max(f.score for f in report.features.values() if f.score is not None)


# ----------------------------------------------------------------------------- the formula


def constructed(counts: dict[str, tuple[int, int]], extra: dict | None = None) -> pd.DataFrame:
    """A frame of one categorical feature: per category (rows, engaged rows), exactly."""
    cats, ys = [], []
    for cat, (n, k) in counts.items():
        cats += [cat] * n
        ys += [1] * k + [0] * (n - k)
    frame = pd.DataFrame({"c": pd.Series(cats, dtype="str"), "y": ys})
    for name, values in (extra or {}).items():
        frame[name] = values
    return frame


@pytest.fixture(scope="module")
def small_profile() -> ReferenceProfile:
    # a: rate 0.2, b: rate 0.4 (base rate 0.3)
    ref = constructed({"a": (1000, 200), "b": (1000, 400)})
    return build_reference_profile(ref, {"c": "categorical"}, target="y")


def test_score_is_the_documented_formula(small_profile):
    # the relation flips: a now engages at 0.4, b at 0.2 (the base rate stays 0.3)
    current = constructed({"a": (500, 200), "b": (500, 100)})
    report = detect_concept_drift(small_profile, current, "y", threshold=0.15)
    w = np.array([0.5, 0.5])
    d = np.array([0.4 - 0.2, 0.2 - 0.4])
    e = np.array([0.2, 0.4])  # expected = reference rates
    noise = np.sum(w * (1 - w) * (e * (1 - e) / 500 + e * (1 - e) / 1000))
    spread = np.sum(w * (d - np.sum(w * d)) ** 2)
    expected = math.sqrt(spread - noise) / 0.3
    feature = report.features["c"]
    assert feature.score == pytest.approx(expected, rel=1e-12)
    assert feature.drifted and report.concept_drift
    assert report.drifted_features == ["c"]
    assert report.method == "reference_rates"
    assert report.base_rate_change == pytest.approx(0.0)
    assert feature.compared == (True, True, False, False)  # a, b, missing, new


def test_a_uniform_offset_is_a_base_rate_change_not_concept_drift(small_profile):
    # every category engages 0.1 less: a label shift, the same for every bin
    current = constructed({"a": (2000, 200), "b": (2000, 600)})
    report = detect_concept_drift(small_profile, current, "y", threshold=0.15)
    assert report.features["c"].score == 0.0
    assert not report.concept_drift
    assert report.base_rate_change == pytest.approx((0.2 - 0.3) / 0.3)


def test_expected_rates_come_from_predictions_when_given(small_profile):
    # the current rates differ from the reference, but exactly as the predictions say
    current = constructed({"a": (500, 200), "b": (500, 100)})
    proba = np.where(current["c"] == "a", 0.4, 0.2)
    report = detect_concept_drift(small_profile, current, "y", predictions=proba, threshold=0.15)
    assert report.method == "predictions"
    assert report.features["c"].score == 0.0
    assert report.features["c"].rate_expected[:2] == pytest.approx((0.4, 0.2))
    assert report.expected_rate == pytest.approx(0.3)
    assert report.base_rate_residual == pytest.approx(0.0)
    # the same predictions as a column of the frame
    by_column = detect_concept_drift(
        small_profile, current.assign(p=proba), "y", predictions="p", threshold=0.15
    )
    assert by_column.features["c"].score == 0.0


def test_sampling_noise_alone_scores_near_zero():
    rates = np.linspace(0.2, 0.45, 8)
    cats = [f"k{i}" for i in range(8)]
    ref = constructed({c: (1000, int(1000 * r)) for c, r in zip(cats, rates, strict=True)})
    prof = build_reference_profile(ref, {"c": "categorical"}, target="y")
    rng = np.random.default_rng(0)
    scores, raw = [], []
    for _ in range(30):
        idx = rng.integers(0, 8, 2000)
        y = (rng.random(2000) < rates[idx]).astype(int)
        frame = pd.DataFrame({"c": pd.Series(np.array(cats)[idx], dtype="str"), "y": y})
        f = detect_concept_drift(prof, frame, "y", threshold=0.15).features["c"]
        scores.append(f.score)
        w = np.array(f.n_current_by_bin[:8]) / 2000
        d = np.array(f.rate_current[:8]) - np.array(f.rate_reference[:8])
        raw.append(math.sqrt(np.sum(w * (d - np.sum(w * d)) ** 2)) / prof.target_rate)
    scores, raw = np.array(scores), np.array(raw)
    # without the noise term a world that did not change would score ~0.08 at 2,000 rows
    assert np.median(raw) > 0.06
    # net of it, about half the windows score exactly 0 and none comes near the threshold
    assert np.mean(scores == 0) > 0.3
    assert np.median(scores) < 0.04 and scores.max() < 0.1


def test_missing_values_and_new_categories_have_their_own_bins():
    ref = pd.DataFrame(
        {
            "x": np.r_[np.arange(900, dtype=float), [np.nan] * 100],
            "c": pd.Series(["a", "b"] * 500, dtype="str"),
            "y": ([0, 1] * 500),
        }
    )
    prof = build_reference_profile(ref, {"x": "numeric", "c": "categorical"}, target="y", bins=4)
    cur = pd.DataFrame(
        {
            "x": np.r_[np.arange(300, dtype=float), [np.nan] * 100],
            "c": pd.Series(["a", "b", "zzz", None] * 100, dtype="str"),
            "y": ([0, 1] * 200),
        }
    )
    report = detect_concept_drift(prof, cur, "y", threshold=0.15, min_bin_rows=10)
    x, c = report.features["x"], report.features["c"]
    assert x.labels[-1] == "missing" and x.n_current_by_bin[-1] == 100
    assert x.compared[-1]  # 100 missing rows in both: compared like any bin
    assert c.labels == ("a", "b", "missing", "new")
    assert c.n_current_by_bin == (100, 100, 100, 100)
    assert c.new_category_rows == 100 and "never saw" in c.reason
    assert c.compared == (True, True, False, False)  # no missing in the reference; new never
    assert c.rate_current[-1] is not None and c.rate_reference[-1] is None


# ----------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("seed", [2, 3, 4])
@pytest.mark.parametrize("days", [2.0, 3.5])
def test_none_is_quiet(profile, seed, days):
    frame = window("none", seed, days)
    assert 2000 <= len(frame) <= 5000
    for predictions in (SCORE_COLUMN, None):
        report = detect_concept_drift(
            profile, frame, LABEL_COLUMN, predictions=predictions, config=DD
        )
        assert not report.concept_drift, report.reason
        assert report.drifted_features == []
        assert max_score(report) < 0.8 * THRESHOLD
        assert report.score < 0.05


@pytest.mark.parametrize("magnitude", [1.0, 2.0])
@pytest.mark.parametrize("seed", [5, 6, 7])
def test_covariate_shift_is_quiet_with_predictions(profile, seed, magnitude):
    frame = window("covariate_shift", seed, magnitude=magnitude)
    report = detect_concept_drift(profile, frame, LABEL_COLUMN, predictions=SCORE_COLUMN, config=DD)
    assert not report.concept_drift, report.reason
    assert max_score(report) < 0.8 * THRESHOLD
    # the inputs did move: the engagement rate drops although P(engaged | x) is unchanged
    assert report.base_rate_change < -0.1


def test_covariate_shift_is_quiet_with_a_trained_champion(train, profile):
    champion = train_model(train, FEATURES)
    frame = window("covariate_shift", 8, magnitude=2.0)
    proba = champion.predict_proba(frame[list(FEATURES)])[:, 1]
    report = detect_concept_drift(profile, frame, LABEL_COLUMN, predictions=proba, config=DD)
    assert not report.concept_drift, report.reason
    assert max_score(report) < 0.8 * THRESHOLD


def test_reference_rates_alone_mistake_a_confounded_shift_for_concept_drift(profile):
    """Why predictions matter: subject lines get longer and subject length depends on the
    template, so P(engaged | template) changes although P(engaged | x) does not. The reference
    rates cannot tell; the champion's scores can."""
    frame = window("covariate_shift", 12, days=3.5, magnitude=2.0)
    alone = detect_concept_drift(profile, frame, LABEL_COLUMN, config=DD)
    with_scores = detect_concept_drift(
        profile, frame, LABEL_COLUMN, predictions=SCORE_COLUMN, config=DD
    )
    assert alone.concept_drift and "template" in alone.drifted_features
    assert alone.features["template"].score > 0.12
    assert not with_scores.concept_drift
    assert with_scores.features["template"].score < 0.05


@pytest.mark.parametrize("seed", [9, 10])
def test_new_categories_are_quiet(profile, seed):
    frame = window("new_categories", seed)
    for predictions in (SCORE_COLUMN, None):
        report = detect_concept_drift(
            profile, frame, LABEL_COLUMN, predictions=predictions, config=DD
        )
        assert not report.concept_drift, report.reason
        assert max_score(report) < 0.8 * THRESHOLD
        for name in ("industry", "template"):
            feature = report.features[name]
            assert feature.new_category_rows > 0.2 * len(frame)
            assert not feature.compared[-1]


def test_label_shift_shows_in_the_base_rate_not_in_the_flag(profile):
    frame = window("label_shift", 11)
    report = detect_concept_drift(profile, frame, LABEL_COLUMN, predictions=SCORE_COLUMN, config=DD)
    assert not report.concept_drift, report.reason
    assert report.base_rate_change < -0.25  # engagement odds halved
    assert report.base_rate_residual < -0.25  # and the champion did not expect it


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_concept_drift_is_flagged(profile, seed):
    frame = window("concept_drift", seed)
    for predictions in (SCORE_COLUMN, None):
        report = detect_concept_drift(
            profile, frame, LABEL_COLUMN, predictions=predictions, config=DD
        )
        assert report.concept_drift, report.reason
        drifted = set(report.drifted_features)
        assert drifted & {"personalization_score", "send_hour"}
        assert "followup_step" in drifted
        assert max_score(report) > 2 * THRESHOLD
        assert report.reason.startswith("concept drift in ")
        for name in ("region", "send_weekday", "title_seniority"):  # unchanged relations
            assert not report.features[name].drifted
    personalization = report.features["personalization_score"]
    # personalization stopped helping: its correlation and mutual information collapse
    assert personalization.correlation_reference > 0.15
    assert abs(personalization.correlation_current) < 0.1
    assert (
        personalization.mutual_information_current
        < personalization.mutual_information_reference / 3
    )
    # follow-ups help now instead of hurting: the correlation changes sign
    followup = report.features["followup_step"]
    assert followup.correlation_reference < 0 < followup.correlation_current


def test_threshold_comes_from_the_config_or_the_argument(profile):
    frame = window("concept_drift", 2)
    report = detect_concept_drift(profile, frame, LABEL_COLUMN, config=DD)
    assert report.threshold == THRESHOLD
    strict = detect_concept_drift(profile, frame, LABEL_COLUMN, threshold=5.0, config=DD)
    assert strict.threshold == 5.0 and not strict.concept_drift
    assert strict.features["followup_step"].score == report.features["followup_step"].score


def test_a_stored_profile_gives_the_same_report(profile):
    stored = ReferenceProfile.from_stored(
        json.loads(json.dumps(profile.to_json())), profile.arrays_bytes()
    )
    frame = window("concept_drift", 3)
    a = detect_concept_drift(profile, frame, LABEL_COLUMN, threshold=THRESHOLD)
    b = detect_concept_drift(stored, frame, LABEL_COLUMN, threshold=THRESHOLD)
    assert a.to_dict() == b.to_dict()


def test_to_dict_is_json_safe(profile):
    frame = window("new_categories", 3)
    report = detect_concept_drift(profile, frame, LABEL_COLUMN, predictions=SCORE_COLUMN, config=DD)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["concept_drift"] is False and data["drifted_features"] == []
    assert set(data["features"]) == set(FEATURES)
    assert data["score"] == pytest.approx(report.score)
    industry = data["features"]["industry"]
    assert industry["bins"]["labels"][-2:] == ["missing", "new"]
    assert industry["bins"]["rate_reference"][-1] is None
    assert len({len(v) for v in industry["bins"].values()}) == 1


# ----------------------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def frame3() -> pd.DataFrame:
    return window("none", 3, days=1.0)


def test_missing_target_column_is_refused(profile, frame3):
    with pytest.raises(DataValidationError, match="target column 'engaged'"):
        detect_concept_drift(profile, frame3.drop(columns=[LABEL_COLUMN]), LABEL_COLUMN, config=DD)


def test_missing_labels_are_refused(profile, frame3):
    frame = frame3.astype({LABEL_COLUMN: "float64"})
    frame.loc[frame.index[:3], LABEL_COLUMN] = np.nan
    with pytest.raises(DataValidationError, match="3 missing label"):
        detect_concept_drift(profile, frame, LABEL_COLUMN, config=DD)


def test_labels_other_than_0_1_are_refused(profile, frame3):
    frame = frame3.copy()
    frame.loc[frame.index[0], LABEL_COLUMN] = 2
    with pytest.raises(DataValidationError, match="only 0/1 labels"):
        detect_concept_drift(profile, frame, LABEL_COLUMN, config=DD)


def test_too_few_rows_are_refused(profile, frame3):
    with pytest.raises(InsufficientDataError, match="fewer than min_rows"):
        detect_concept_drift(profile, frame3.head(150), LABEL_COLUMN, config=DD)
    assert issubclass(InsufficientDataError, DataValidationError)
    report = detect_concept_drift(profile, frame3.head(150), LABEL_COLUMN, config=DD, min_rows=100)
    assert report.n_rows == 150


def test_missing_feature_column_is_refused(profile, frame3):
    with pytest.raises(DataValidationError, match="send_hour"):
        detect_concept_drift(profile, frame3.drop(columns=["send_hour"]), LABEL_COLUMN, config=DD)


def test_bad_predictions_are_refused(profile, frame3):
    with pytest.raises(DataValidationError, match="expected"):
        detect_concept_drift(profile, frame3, LABEL_COLUMN, predictions=[0.5], config=DD)
    with pytest.raises(DataValidationError, match="not probabilities"):
        bad = np.full(len(frame3), 1.5)
        detect_concept_drift(profile, frame3, LABEL_COLUMN, predictions=bad, config=DD)
    with pytest.raises(DataValidationError, match="not in the labelled window"):
        detect_concept_drift(profile, frame3, LABEL_COLUMN, predictions="nope", config=DD)


def test_a_profile_without_target_is_refused(train, frame3):
    no_target = build_reference_profile(train.head(2000), FEATURES)
    with pytest.raises(ProfileError, match="without a target"):
        detect_concept_drift(no_target, frame3, LABEL_COLUMN, config=DD)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "0.1", True])
def test_bad_threshold_is_refused(profile, frame3, bad):
    with pytest.raises(ValueError, match="threshold"):
        detect_concept_drift(profile, frame3, LABEL_COLUMN, threshold=bad)


# ----------------------------------------------------------------------------- round trip


def test_report_round_trips_through_its_dict(small_profile):
    from modelguard.exceptions import MalformedResultError

    current = constructed({"a": (100, 30), "b": (100, 70)})
    report = detect_concept_drift(small_profile, current, "y", threshold=0.15)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert ConceptDriftReport.from_dict(data) == report
    assert ConceptDriftReport.from_dict(data).drifted_features == data["drifted_features"]
    del data["features"][next(iter(data["features"]))]["bins"]
    with pytest.raises(MalformedResultError, match="'bins'"):
        ConceptDriftReport.from_dict(data)
