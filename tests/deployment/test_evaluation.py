"""modelguard.deployment.evaluation: the McNemar gate on constructed tables, on synthetic models, the
gate's windows, the post-deployment check, serialisation and input errors."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modelguard.config import DeploymentConfig, load_config
from modelguard.core.scoring import ModelScores, score_model
from modelguard.core.window import Window
from modelguard.deployment.evaluation import (
    EvaluationResult,
    PostDeploymentCheck,
    compare,
    gate_windows,
    post_deployment_check,
)
from modelguard.exceptions import (
    ConfigError,
    DataValidationError,
    ModelInterfaceError,
    SchemaMismatchError,
)

TARGET = "engaged"


def deployment(**values) -> DeploymentConfig:
    base = dict(
        significance_level=0.05,
        min_improvement=0.02,
        validation_window_days=7,
        max_rollback_attempts=3,
        primary_metric="accuracy",
        decision_threshold=0.5,
        min_validation_rows=500,
        post_deployment_window_days=2,
        post_deployment_max_drop=0.05,
        approval="auto",
        approval_timeout_hours=24.0,
    )
    base.update(values)
    return DeploymentConfig(**base)


CONFIG = deployment()


# --------------------------------------------------------------------------- controlled models


class LookupModel:
    """predict_proba from a fixed array, looked up by the frame's ``row_id`` column: the test
    decides every prediction exactly. Has no ``classes_`` (like any duck-typed classifier)."""

    def __init__(self, positive_proba):
        self.p = np.asarray(positive_proba, dtype=float)

    def predict_proba(self, X):
        p = self.p[X["row_id"].to_numpy()]
        return np.column_stack([1 - p, p])


def table_case(both_right, b, c, both_wrong, *, seed=0):
    """A frame and two lookup models with exactly ``b`` rows where only the champion is right
    and ``c`` where only the challenger is right (rows shuffled, labels about 1/3 positive)."""
    rng = np.random.default_rng(seed)
    n = both_right + b + c + both_wrong
    champion_right = np.repeat([True, True, False, False], [both_right, b, c, both_wrong])
    challenger_right = np.repeat([True, False, True, False], [both_right, b, c, both_wrong])
    order = rng.permutation(n)
    champion_right, challenger_right = champion_right[order], challenger_right[order]
    y = (rng.random(n) < 1 / 3).astype(int)

    def proba(right):
        pred = np.where(right, y, 1 - y)
        # varied scores on the right side of 0.5, so ROC AUC is not degenerate
        return np.where(pred == 1, rng.uniform(0.55, 0.95, n), rng.uniform(0.05, 0.45, n))

    frame = pd.DataFrame({"row_id": np.arange(n), "noise": rng.normal(size=n), TARGET: y})
    return frame, LookupModel(proba(champion_right)), LookupModel(proba(challenger_right))


def starts_with(reasons, prefix):
    return [r for r in reasons if r.startswith(prefix)]


# --------------------------------------------------------------------------- McNemar tables


def test_no_discordant_pairs_rejects_as_not_significant():
    frame, champion, challenger = table_case(550, 0, 0, 50)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert (result.b, result.c, result.n) == (0, 0, 600)
    assert result.pvalue == 1.0
    assert result.test == "mcnemar_exact"
    assert result.decision == "reject" and not result.deploy
    assert result.reasons == (
        "challenger not better: b=0 = c=0",
        "not significant: McNemar p=1 >= 0.05",
        "improvement in accuracy 0 below min_improvement 0.02",
    )
    assert result.improvement == 0.0


def test_exact_below_25_discordant_pairs_matches_binomtest():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert (result.b, result.c) == (5, 19)
    assert result.test == "mcnemar_exact"
    assert result.statistic == 5.0
    expected = sps.binomtest(5, 24, 0.5, alternative="two-sided").pvalue
    assert result.pvalue == pytest.approx(expected, rel=1e-12)
    assert result.pvalue < 0.05
    # significant and better, but 14 of 600 rows is an accuracy gain of 0.0233
    assert result.improvement == pytest.approx(14 / 600)
    assert result.deploy, result.reasons


def test_asymptotic_from_25_discordant_pairs_matches_chi2():
    frame, champion, challenger = table_case(560, 5, 20, 15)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert (result.b, result.c) == (5, 20)
    assert result.test == "mcnemar_asymptotic"
    statistic = (abs(5 - 20) - 1) ** 2 / 25
    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(sps.chi2.sf(statistic, 1), rel=1e-12)


def test_significant_but_small_improvement_rejects_with_min_improvement_reason():
    # c - b = 60 on 5000 rows: p ~ 2.5e-4 but accuracy +0.012
    frame, champion, challenger = table_case(4200, 100, 160, 540)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert result.pvalue < 0.001
    assert result.improvement == pytest.approx(0.012)
    assert result.decision == "reject"
    assert result.reasons == ("improvement in accuracy 0.012 below min_improvement 0.02",)


def test_improvement_exactly_at_min_improvement_deploys():
    # c - b = 40 of 2000 rows = 0.02 exactly
    frame, champion, challenger = table_case(1700, 60, 100, 140)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert result.improvement == 0.02
    assert result.deploy
    assert len(result.reasons) == 1
    reason = result.reasons[0]
    assert reason.startswith("challenger better: c=100 > b=60, McNemar p=")
    assert "(mcnemar_asymptotic)" in reason
    assert "improvement in accuracy 0.02 >= min_improvement 0.02" in reason
    assert "on 2000 labelled rows >= min_validation_rows 500" in reason


def test_significant_but_challenger_worse_rejects():
    frame, champion, challenger = table_case(1600, 160, 100, 140)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert result.pvalue < 0.05
    assert result.decision == "reject"
    assert result.reasons == (
        "challenger worse: b=160 > c=100",
        "improvement in accuracy -0.03 below min_improvement 0.02",
    )


def test_too_small_window_rejects_with_that_reason_only():
    # a clear win (c=40, b=0) on 120 rows: everything but the size says deploy
    frame, champion, challenger = table_case(70, 0, 40, 10)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert result.pvalue < 1e-6 and result.improvement > 0.3
    assert result.reasons == (
        "validation window too small: 120 labelled rows < min_validation_rows 500",
    )
    assert result.decision == "reject"


def test_min_validation_rows_boundary():
    frame, champion, challenger = table_case(400, 10, 50, 40)  # 500 rows, a clear win
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert result.n == 500 and result.deploy, result.reasons
    result = compare(champion, challenger, frame, TARGET, config=CONFIG, min_validation_rows=501)
    assert result.reasons == (
        "validation window too small: 500 labelled rows < min_validation_rows 501",
    )


def test_pvalue_equal_to_significance_level_is_not_significant():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    p = compare(champion, challenger, frame, TARGET, config=CONFIG).pvalue
    assert p == pytest.approx(sps.binomtest(5, 24, 0.5).pvalue, rel=1e-12)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG, significance_level=p)
    assert result.decision == "reject"
    assert result.reasons == (f"not significant: McNemar p={p:.4g} >= {p:.4g}",)


def test_every_applicable_reason_is_listed():
    frame, champion, challenger = table_case(90, 6, 4, 20)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    p = 2 * sps.binom.cdf(4, 10, 0.5)
    assert result.pvalue == pytest.approx(p)
    assert result.reasons == (
        "validation window too small: 120 labelled rows < min_validation_rows 500",
        "challenger worse: b=6 > c=4",
        f"not significant: McNemar p={p:.4g} >= 0.05",
        "improvement in accuracy -0.01667 below min_improvement 0.02",
    )


def test_accuracy_chi2_matches_chi2_contingency():
    frame, champion, challenger = table_case(1500, 70, 110, 320)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    n = result.n
    champion_right = 1500 + 70
    challenger_right = 1500 + 110
    table = [[champion_right, challenger_right], [n - champion_right, n - challenger_right]]
    expected = sps.chi2_contingency(table)
    assert result.accuracy_chi2_statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.accuracy_chi2_pvalue == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.champion.accuracy == pytest.approx(champion_right / n)
    assert result.challenger.accuracy == pytest.approx(challenger_right / n)


def test_accuracy_chi2_when_both_models_are_always_right():
    # the 'incorrect' row of the table is empty: equal accuracies, statistic 0, p 1
    frame, champion, challenger = table_case(600, 0, 0, 0)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG)
    assert (result.accuracy_chi2_statistic, result.accuracy_chi2_pvalue) == (0.0, 1.0)


def test_other_primary_metric_measures_improvement_in_that_metric():
    frame, champion, challenger = table_case(1700, 60, 100, 140)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG, primary_metric="f1")
    assert result.primary_metric == "f1"
    assert result.improvement == pytest.approx(result.challenger.f1 - result.champion.f1)
    assert result.improvement != pytest.approx((result.c - result.b) / result.n)


def test_undefined_primary_metric_rejects_with_reason():
    frame, champion, challenger = table_case(560, 2, 30, 8)
    frame[TARGET] = 0  # one class only: ROC AUC undefined for both models
    result = compare(champion, challenger, frame, TARGET, config=CONFIG, primary_metric="roc_auc")
    assert result.champion.roc_auc is None and result.challenger.roc_auc is None
    assert result.improvement is None
    assert result.decision == "reject"
    assert (
        "improvement in roc_auc undefined: roc_auc is undefined for the champion and the "
        "challenger (only one class among the labels)"
    ) in result.reasons


def test_overrides_are_validated_and_recorded():
    frame, champion, challenger = table_case(1700, 60, 100, 140)
    result = compare(champion, challenger, frame, TARGET, config=CONFIG, min_improvement=0.05)
    assert result.min_improvement == 0.05
    assert starts_with(result.reasons, "improvement in accuracy 0.02 below min_improvement 0.05")
    with pytest.raises(ConfigError, match="primary_metric"):
        compare(champion, challenger, frame, TARGET, config=CONFIG, primary_metric="brier")
    with pytest.raises(ConfigError, match="unknown key"):
        compare(champion, challenger, frame, TARGET, config=CONFIG, min_gain=0.1)
    with pytest.raises(ConfigError, match="significance_level"):
        compare(champion, challenger, frame, TARGET, config=CONFIG, significance_level=1.5)


def test_config_none_reads_the_repo_config():
    frame, champion, challenger = table_case(1700, 60, 100, 140)
    repo = load_config().deployment
    result = compare(champion, challenger, frame, TARGET)
    assert result.significance_level == repo.significance_level
    assert result.min_improvement == repo.min_improvement
    assert result.primary_metric == repo.primary_metric
    assert result.min_validation_rows == repo.min_validation_rows


def test_decision_threshold_changes_predictions():
    frame = pd.DataFrame({"row_id": [0, 1, 2, 3], TARGET: [1, 1, 0, 0]})
    model = LookupModel([0.7, 0.5, 0.4, 0.2])
    scores, pred = score_model(model, frame, TARGET, threshold=0.5)
    assert pred.tolist() == [1, 1, 0, 0]  # 0.5 >= 0.5 is positive
    assert scores.accuracy == 1.0
    scores, pred = score_model(model, frame, TARGET, threshold=0.35)
    assert pred.tolist() == [1, 1, 1, 0]
    assert scores.accuracy == 0.75 and scores.positive_rate == 0.75


# --------------------------------------------------------------------------- scores


def test_scores_match_sklearn():
    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    p = np.round(np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.2, n), 0.01, 0.99), 2)  # ties
    frame = pd.DataFrame({"row_id": np.arange(n), TARGET: y})
    scores, pred = score_model(LookupModel(p), frame, TARGET, threshold=0.4)
    expected_pred = (p >= 0.4).astype(int)
    assert pred.tolist() == expected_pred.tolist()
    assert scores.accuracy == pytest.approx(metrics.accuracy_score(y, expected_pred))
    assert scores.precision == pytest.approx(metrics.precision_score(y, expected_pred))
    assert scores.recall == pytest.approx(metrics.recall_score(y, expected_pred))
    assert scores.f1 == pytest.approx(metrics.f1_score(y, expected_pred))
    assert scores.roc_auc == pytest.approx(metrics.roc_auc_score(y, p), rel=1e-12)
    assert scores.log_loss == pytest.approx(metrics.log_loss(y, p), rel=1e-12)
    assert scores.n == n
    assert scores.positive_rate == pytest.approx(expected_pred.mean())
    assert scores.engagement_rate == pytest.approx(y.mean())


def test_undefined_metrics_are_none_not_nan():
    frame = pd.DataFrame({"row_id": [0, 1, 2], TARGET: [0, 0, 0]})
    scores, _ = score_model(LookupModel([0.1, 0.2, 0.3]), frame, TARGET)
    assert scores.roc_auc is None  # one class
    assert scores.precision is None  # no positive predictions
    assert scores.recall is None  # no positive labels
    assert scores.f1 is None
    assert scores.accuracy == 1.0
    frame[TARGET] = [1, 1, 0]
    scores, _ = score_model(LookupModel([0.1, 0.2, 0.3]), frame, TARGET)
    assert scores.precision is None and scores.recall == 0.0 and scores.f1 == 0.0


def test_boolean_and_nullable_targets_are_accepted():
    model = LookupModel([0.9, 0.1])
    for column in (
        pd.Series([True, False]),
        pd.Series([1, 0], dtype="Int64"),
        pd.Series([1.0, 0.0]),
        pd.Series([True, 0], dtype=object),
    ):
        frame = pd.DataFrame({"row_id": [0, 1], TARGET: column})
        scores, _ = score_model(model, frame, TARGET)
        assert scores.accuracy == 1.0, column.dtype


# --------------------------------------------------------------------------- synthetic gate


FEATURES = [f"x{i}" for i in range(8)]


def synthetic(n, seed):
    X, y = make_classification(
        n_samples=n,
        n_features=len(FEATURES),
        n_informative=5,
        n_redundant=1,
        flip_y=0.05,
        class_sep=0.8,
        random_state=0,  # one distribution ...
        shuffle=True,
    )
    rng = np.random.default_rng(seed)  # ... different samples of it
    rows = rng.permutation(n)
    frame = pd.DataFrame(X[rows], columns=FEATURES)
    frame["send_id"] = np.arange(n)  # a column the model must not use
    frame[TARGET] = y[rows]
    return frame


def pipeline():
    select = ColumnTransformer([("features", "passthrough", FEATURES)], remainder="drop")
    return Pipeline([("select", select), ("classifier", LogisticRegression(max_iter=500))])


@pytest.fixture(scope="module")
def synthetic_models():
    data = synthetic(24_000, seed=1)
    train_a, train_b, validation = data.iloc[:8000], data.iloc[8000:16000], data.iloc[16000:]
    good = pipeline().fit(train_a.drop(columns=[TARGET]), train_a[TARGET])
    twin = pipeline().fit(train_b.drop(columns=[TARGET]), train_b[TARGET])
    permuted = np.random.default_rng(7).permutation(train_a[TARGET].to_numpy())
    bad = pipeline().fit(train_a.drop(columns=[TARGET]), permuted)
    return good, twin, bad, validation.reset_index(drop=True)


def test_gate_deploys_a_truly_better_challenger(synthetic_models):
    good, _, bad, validation = synthetic_models
    result = compare(bad, good, validation, TARGET, config=CONFIG)
    assert result.deploy
    assert result.c > 3 * result.b
    assert result.pvalue < 1e-10
    assert result.improvement > 0.1
    assert result.challenger.roc_auc > result.champion.roc_auc + 0.1
    assert len(result.reasons) == 1 and result.reasons[0].startswith("challenger better")


def test_gate_rejects_an_equal_challenger(synthetic_models):
    good, twin, _, validation = synthetic_models
    result = compare(good, twin, validation, TARGET, config=CONFIG)
    assert result.decision == "reject"
    assert abs(result.improvement) < 0.01
    assert starts_with(result.reasons, "improvement in accuracy")
    assert starts_with(result.reasons, "not significant: McNemar p=")
    assert not starts_with(result.reasons, "validation window too small")


def test_gate_rejects_a_worse_challenger(synthetic_models):
    good, _, bad, validation = synthetic_models
    result = compare(good, bad, validation, TARGET, config=CONFIG, primary_metric="roc_auc")
    assert result.decision == "reject"
    assert result.b > 3 * result.c
    assert result.improvement < -0.1
    assert starts_with(result.reasons, f"challenger worse: b={result.b} > c={result.c}")
    assert starts_with(result.reasons, "improvement in roc_auc -")
    assert not starts_with(result.reasons, "not significant")


def test_gate_on_a_small_sample_of_a_better_challenger(synthetic_models):
    good, _, bad, validation = synthetic_models
    result = compare(bad, good, validation.iloc[:200], TARGET, config=CONFIG)
    assert result.decision == "reject"
    assert result.reasons == (
        "validation window too small: 200 labelled rows < min_validation_rows 500",
    )


# --------------------------------------------------------------------------- windows


def test_gate_windows_arithmetic():
    validation, post = gate_windows(datetime(2026, 9, 10), CONFIG, 72)
    assert post == Window(datetime(2026, 9, 5), datetime(2026, 9, 7))
    assert validation == Window(datetime(2026, 8, 29), datetime(2026, 9, 5))


def test_gate_windows_fractional_delay_and_aware_as_of():
    as_of = datetime(2026, 9, 10, 12, 0, tzinfo=timezone(timedelta(hours=2)))  # 10:00 UTC
    cfg = deployment(validation_window_days=3, post_deployment_window_days=1)
    validation, post = gate_windows(as_of, cfg, 1.5)
    matured = datetime(2026, 9, 10, 8, 30)
    assert post == Window(matured - timedelta(days=1), matured)
    assert validation == Window(matured - timedelta(days=4), matured - timedelta(days=1))
    assert post.start.tzinfo is None and validation.end == post.start


def test_gate_windows_zero_delay_and_bad_delay():
    validation, post = gate_windows(datetime(2026, 9, 10, tzinfo=UTC), CONFIG, 0)
    assert post.end == datetime(2026, 9, 10)
    for bad in (-1, float("nan"), "72", True):
        with pytest.raises(ValueError, match="label_delay_hours"):
            gate_windows(datetime(2026, 9, 10), CONFIG, bad)


# --------------------------------------------------------------------------- post-deployment


def accuracy_case(n, n_right, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    right = rng.permutation(np.arange(n) < n_right)
    pred = np.where(right, y, 1 - y)
    frame = pd.DataFrame({"row_id": np.arange(n), TARGET: y})
    return frame, LookupModel(np.where(pred == 1, 0.8, 0.2))


def test_post_deployment_passed():
    frame, model = accuracy_case(1000, 900)
    check = post_deployment_check(model, frame, TARGET, expected=0.92, config=CONFIG)
    assert check.status == "passed" and not check.failed
    assert (check.metric, check.observed, check.expected, check.max_drop, check.n) == (
        "accuracy",
        0.9,
        0.92,
        0.05,
        1000,
    )
    assert check.reason == (
        "passed: accuracy 0.9 >= expected 0.92 - max_drop 0.05 = 0.87 on 1000 rows"
    )


def test_post_deployment_boundary_passes():
    frame, model = accuracy_case(1000, 870)
    check = post_deployment_check(model, frame, TARGET, expected=0.92, config=CONFIG)
    assert check.observed == 0.87
    assert check.status == "passed"


def test_post_deployment_boundary_despite_float_rounding():
    # 0.67 - 0.1 is 0.5700000000000001 in floating point; 0.57 observed still reaches it
    frame, model = accuracy_case(1000, 570)
    check = post_deployment_check(
        model, frame, TARGET, expected=0.67, config=CONFIG, post_deployment_max_drop=0.1
    )
    assert check.observed == 0.57 and 0.67 - 0.1 > 0.57
    assert check.status == "passed"
    assert check.reason == (
        "passed: accuracy 0.57 >= expected 0.67 - max_drop 0.1 = 0.57 on 1000 rows"
    )


def test_post_deployment_at_min_validation_rows_decides():
    frame, model = accuracy_case(500, 100)
    check = post_deployment_check(model, frame, TARGET, expected=0.92, config=CONFIG)
    assert (check.status, check.n) == ("failed", 500)


def test_post_deployment_failed():
    frame, model = accuracy_case(1000, 869)
    check = post_deployment_check(model, frame, TARGET, expected=0.92, config=CONFIG)
    assert check.status == "failed" and check.failed
    assert check.reason.startswith("failed: accuracy 0.869 < expected 0.92 - max_drop 0.05")


def test_post_deployment_inconclusive_on_few_rows():
    frame, model = accuracy_case(499, 100)  # terrible, but too little evidence
    check = post_deployment_check(model, frame, TARGET, expected=0.92, config=CONFIG)
    assert check.status == "inconclusive" and not check.failed
    assert check.observed == pytest.approx(100 / 499)
    assert check.reason == (
        "inconclusive: 499 labelled rows < min_validation_rows 500; "
        "too little evidence to roll back"
    )
    empty = frame.iloc[:0]
    check = post_deployment_check(model, empty, TARGET, expected=0.92, config=CONFIG)
    assert (check.status, check.n, check.observed) == ("inconclusive", 0, None)


def test_post_deployment_other_metric_and_undefined():
    frame, model = accuracy_case(1000, 900)
    check = post_deployment_check(
        model, frame, TARGET, expected=0.8, config=CONFIG, primary_metric="recall"
    )
    scores, _ = score_model(model, frame, TARGET)
    assert check.metric == "recall" and check.observed == scores.recall
    frame[TARGET] = 1
    check = post_deployment_check(
        model, frame, TARGET, expected=0.8, config=CONFIG, primary_metric="roc_auc"
    )
    assert check.status == "inconclusive" and check.observed is None
    assert "roc_auc is undefined" in check.reason


def test_post_deployment_bad_expected():
    frame, model = accuracy_case(600, 500)
    for bad in (float("nan"), 1.2, None):
        with pytest.raises(ValueError, match="expected"):
            post_deployment_check(model, frame, TARGET, expected=bad, config=CONFIG)


# --------------------------------------------------------------------------- serialisation


@pytest.mark.parametrize(
    "case",
    [
        dict(counts=(1700, 60, 100, 140), metric="accuracy"),  # deploy, asymptotic
        dict(counts=(560, 5, 19, 16), metric="f1"),  # exact
        dict(counts=(90, 6, 4, 20), metric="roc_auc", one_class=True),  # None values
    ],
)
def test_evaluation_result_round_trip(case):
    frame, champion, challenger = table_case(*case["counts"])
    if case.get("one_class"):
        frame[TARGET] = 1
    result = compare(
        champion, challenger, frame, TARGET, config=CONFIG, primary_metric=case["metric"]
    )
    text = json.dumps(result.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["deploy"] is result.deploy
    back = EvaluationResult.from_dict(data)
    assert back == result
    assert isinstance(back.reasons, tuple) and isinstance(back.champion, ModelScores)
    if case.get("one_class"):
        assert data["champion"]["roc_auc"] is None and data["improvement"] is None


def test_post_deployment_check_round_trip():
    frame, model = accuracy_case(100, 80)
    check = post_deployment_check(model, frame.iloc[:0], TARGET, expected=0.9, config=CONFIG)
    data = json.loads(json.dumps(check.to_dict(), allow_nan=False))
    assert PostDeploymentCheck.from_dict(data) == check
    with pytest.raises(ValueError, match="missing key"):
        PostDeploymentCheck.from_dict({"status": "passed"})


def test_from_dict_refuses_unknown_decision():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    data = compare(champion, challenger, frame, TARGET, config=CONFIG).to_dict()
    data["decision"] = "maybe"
    with pytest.raises(ValueError, match="decision"):
        EvaluationResult.from_dict(data)


# --------------------------------------------------------------------------- bad input


def test_missing_target_column():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    with pytest.raises(DataValidationError, match="target column 'outcome' is not in"):
        compare(champion, challenger, frame, "outcome", config=CONFIG)


def test_target_with_other_values_says_how_many():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    frame.loc[[3, 7, 9], TARGET] = 2
    with pytest.raises(DataValidationError, match=r"only 0/1 labels; 3 of 600 rows .* 2"):
        compare(champion, challenger, frame, TARGET, config=CONFIG)
    frame[TARGET] = frame[TARGET].astype(str)
    with pytest.raises(DataValidationError, match="600 of 600 rows"):
        compare(champion, challenger, frame, TARGET, config=CONFIG)


def test_missing_labels_say_how_many():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    frame[TARGET] = frame[TARGET].astype(float)
    frame.loc[[1, 2, 3, 4], TARGET] = np.nan
    with pytest.raises(DataValidationError, match="4 missing label"):
        compare(champion, challenger, frame, TARGET, config=CONFIG)


def test_empty_frame():
    frame, champion, challenger = table_case(560, 5, 19, 16)
    with pytest.raises(DataValidationError, match="empty"):
        compare(champion, challenger, frame.iloc[:0], TARGET, config=CONFIG)


def test_model_without_predict_proba():
    frame, champion, _ = table_case(560, 5, 19, 16)

    class HardClassifier:
        def predict(self, X):
            return np.zeros(len(X), dtype=int)

    with pytest.raises(ModelInterfaceError, match="challenger .*HardClassifier.* no predict_proba"):
        compare(champion, HardClassifier(), frame, TARGET, config=CONFIG)
    with pytest.raises(TypeError):  # also a TypeError for callers that catch that
        post_deployment_check(HardClassifier(), frame.iloc[:0], TARGET, expected=0.9, config=CONFIG)


def test_model_with_bad_probabilities_or_classes():
    frame, champion, _ = table_case(560, 5, 19, 16)

    class OneColumn:
        def predict_proba(self, X):
            return np.full((len(X), 1), 0.5)

    class NaNs(LookupModel):
        def predict_proba(self, X):
            out = super().predict_proba(X)
            out[0, 1] = math.nan
            return out

    with pytest.raises(ModelInterfaceError, match=r"shape \(600, 1\)"):
        compare(champion, OneColumn(), frame, TARGET, config=CONFIG)
    with pytest.raises(ModelInterfaceError, match="1 value"):
        compare(champion, NaNs(champion.p), frame, TARGET, config=CONFIG)
    strings = LookupModel(champion.p)
    strings.classes_ = np.array(["no", "yes"])
    with pytest.raises(ModelInterfaceError, match="classes"):
        compare(champion, strings, frame, TARGET, config=CONFIG)


def test_model_that_cannot_read_the_frame(synthetic_models):
    good, *_ = synthetic_models
    frame, champion, _ = table_case(560, 5, 19, 16)
    with pytest.raises(SchemaMismatchError, match="challenger"):
        compare(champion, good, frame, TARGET, config=CONFIG)


def test_bad_threshold():
    frame, champion, _ = table_case(560, 5, 19, 16)
    for bad in (0, 1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="threshold"):
            score_model(champion, frame, TARGET, threshold=bad)
