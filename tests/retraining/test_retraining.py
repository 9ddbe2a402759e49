"""Retraining: the decision, the three training-set strategies on a real seeded SQLite source,
the holdout split and the pre-gate validation of a retrained model."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from email_engagement.generator import generate_sends, seed_source
from email_engagement.model import train_model
from modelguard.config import STRATEGIES, load_config
from modelguard.core.window import Window
from modelguard.deployment.evaluation import gate_windows
from modelguard.drift.detection import DriftReport, FeatureDrift, build_reference_profile
from modelguard.exceptions import (
    ChallengerValidationError,
    DataValidationError,
    InsufficientDataError,
    UnknownStrategyError,
)
from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome
from modelguard.labels.performance import Degradation
from modelguard.retraining.decision import importance_from_profile, should_retrain
from modelguard.retraining.training_sets import (
    build_training_set,
    count_new_labelled_rows,
    split_holdout,
    training_end,
)
from modelguard.retraining.validation import ValidationReport, validate_challenger
from modelguard.storage.source import engine_for_url
from tests.world import write_config

SEED_START = datetime(2026, 3, 1)
SEED_END = datetime(2026, 5, 10)
AS_OF = datetime(2026, 5, 10)
# as_of - 72 h label delay - 2 days post-deployment - 7 days validation (the default config)
VALIDATION_START = datetime(2026, 4, 28)
ONE_MONTH_START = VALIDATION_START - timedelta(days=30)  # 2026-03-29
SENDS_PER_HOUR = 5
TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime in SQLite


def _ts(value: datetime) -> str:
    return value.strftime(TS)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return load_config(write_config(tmp_path_factory.mktemp("retraining_config")))


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A seeded source with hand-placed boundary rows:

    * a send exactly at the validation start (must be excluded) and one exactly at the start of
      a one-month sliding window (must be included);
    * sends inside the training range whose outcome became known after as_of (excluded), one
      whose outcome became known exactly at as_of (included), and some never labelled (excluded).
    """
    root = tmp_path_factory.mktemp("retraining_source")
    engine = engine_for_url(f"sqlite:///{root / 'source.db'}")
    seed_source(engine, SEED_START, SEED_END, seed=5, sends_per_hour=SENDS_PER_HOUR)
    with engine.begin() as conn:

        def first_id_after(moment: datetime) -> str:
            return conn.execute(
                sa.text(
                    "SELECT send_id FROM email_sends WHERE sent_at >= :t ORDER BY sent_at LIMIT 1"
                ),
                {"t": _ts(moment)},
            ).scalar_one()

        def set_row(send_id: str, **values) -> None:
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(
                sa.text(f"UPDATE email_sends SET {assignments} WHERE send_id = :id"),
                {"id": send_id, **values},
            )

        set_row(first_id_after(VALIDATION_START), sent_at=_ts(VALIDATION_START))
        set_row(
            first_id_after(ONE_MONTH_START),
            sent_at=_ts(ONE_MONTH_START),
            outcome_at=_ts(ONE_MONTH_START + timedelta(hours=72)),
        )
        late = [first_id_after(datetime(2026, 4, d, 12)) for d in (2, 9, 16)]
        for send_id in late:
            set_row(send_id, outcome_at=_ts(AS_OF + timedelta(microseconds=1)))
        on_time = first_id_after(datetime(2026, 4, 20, 12))
        set_row(on_time, outcome_at=_ts(AS_OF))
        unlabelled = [first_id_after(datetime(2026, 4, d, 18)) for d in (3, 10, 17)]
        set_row(unlabelled[0], engaged=None, outcome_at=None)
        for send_id in unlabelled[1:]:  # a label time but no label: still not usable
            set_row(send_id, engaged=None)
        table = pd.read_sql(sa.text("SELECT * FROM email_sends"), conn)
    table["sent_at"] = pd.to_datetime(table["sent_at"])
    table["outcome_at"] = pd.to_datetime(table["outcome_at"])
    return {
        "engine": engine,
        "table": table,
        "late": late,
        "on_time": on_time,
        "unlabelled": unlabelled,
    }


def direct_count(engine, start: datetime, end: datetime, *, positives: bool = False) -> int:
    """Matured labelled sends in [start, end), counted in SQL (SQLite text timestamps of one
    format compare correctly as strings)."""
    sql = (
        "SELECT count(*) FROM email_sends WHERE sent_at >= :s AND sent_at < :e "
        "AND engaged IS NOT NULL AND outcome_at <= :a"
    ) + (" AND engaged = 1" if positives else "")
    with engine.connect() as conn:
        return conn.execute(
            sa.text(sql), {"s": _ts(start), "e": _ts(end), "a": _ts(AS_OF)}
        ).scalar_one()


def sent_times(table, ids) -> list[pd.Timestamp]:
    return table.loc[table["send_id"].isin(ids), "sent_at"].tolist()


# ------------------------------------------------------------------------------ the windows


def test_training_end_is_the_gate_validation_start(config):
    validation, _ = gate_windows(AS_OF, config.deployment, config.source.label_delay_hours)
    assert validation.start == VALIDATION_START
    assert training_end(config, AS_OF) == VALIDATION_START


def assert_no_leakage(ts, source):
    frame = ts.frame
    times = frame["sent_at"]
    assert times.max() < pd.Timestamp(VALIDATION_START)
    assert not (times == pd.Timestamp(VALIDATION_START)).any()
    table = source["table"]
    excluded = sent_times(table, source["late"] + source["unlabelled"])
    assert len(excluded) == 6
    assert not times.isin(excluded).any()
    assert frame["engaged"].dtype == np.int64
    assert set(frame["engaged"].unique()) == {0, 1}
    assert times.is_monotonic_increasing


def test_sliding_window_exact_window(config, source):
    ts = build_training_set(
        "sliding_window", engine=source["engine"], config=config, as_of=AS_OF, window_months=1
    )
    assert ts.strategy == "sliding_window"
    assert ts.window == Window(ONE_MONTH_START, VALIDATION_START)
    assert ts.first_sent_at == ONE_MONTH_START  # the send placed exactly at the start
    table = source["table"]
    before_end = table.loc[
        (table["sent_at"] < pd.Timestamp(VALIDATION_START)) & table["engaged"].notna()
    ]
    assert ts.last_sent_at == before_end["sent_at"].max().to_pydatetime()
    assert (
        ts.n_rows == len(ts.frame) == direct_count(source["engine"], ts.window.start, ts.window.end)
    )
    assert ts.n_positive == direct_count(
        source["engine"], ONE_MONTH_START, VALIDATION_START, positives=True
    )
    assert ts.n_positive == int(ts.frame["engaged"].sum())
    assert ts.frame["sent_at"].min() >= pd.Timestamp(ONE_MONTH_START)
    assert sent_times(table, [source["on_time"]])[0] in set(ts.frame["sent_at"])
    assert ts.weights is None and ts.weights_summary is None
    assert list(ts.frame.columns) == ["sent_at", *config.features, "engaged"]
    assert_no_leakage(ts, source)


def test_sliding_window_defaults_to_configured_months(config, source):
    ts = build_training_set("sliding_window", engine=source["engine"], config=config, as_of=AS_OF)
    months = config.retraining.sliding_window_months
    assert months == 6
    assert ts.window == Window(VALIDATION_START - timedelta(days=30 * months), VALIDATION_START)
    # six months reach back before the seeded data: everything matured before the end is used
    assert ts.first_sent_at == source["table"]["sent_at"].min().to_pydatetime()
    assert ts.n_rows == direct_count(source["engine"], SEED_START, VALIDATION_START)


def test_full_batch_uses_everything_before_the_validation_window(config, source):
    ts = build_training_set("full_batch", engine=source["engine"], config=config, as_of=AS_OF)
    first = source["table"]["sent_at"].min().to_pydatetime()
    assert first < SEED_START + timedelta(hours=1)
    assert ts.first_sent_at == first
    assert ts.window == Window(first, VALIDATION_START)
    assert ts.n_rows == direct_count(source["engine"], datetime(2000, 1, 1), VALIDATION_START)
    assert ts.weights is None
    assert_no_leakage(ts, source)


def test_weighted_halves_per_half_life_and_has_mean_one(config, source):
    ts = build_training_set(
        "weighted", engine=source["engine"], config=config, as_of=AS_OF, half_life_days=10
    )
    full = build_training_set("full_batch", engine=source["engine"], config=config, as_of=AS_OF)
    pd.testing.assert_frame_equal(ts.frame, full.frame)
    assert ts.window == full.window
    w = ts.weights
    assert w.shape == (ts.n_rows,)
    assert w.mean() == pytest.approx(1.0, abs=1e-12)
    age_days = (pd.Timestamp(VALIDATION_START) - ts.frame["sent_at"]).dt.total_seconds() / 86400
    # log2 w = c - age / half_life exactly, for every row
    residual = np.log2(w) + age_days.to_numpy() / 10
    assert np.ptp(residual) < 1e-9
    # a send one half-life older than the newest weighs (almost exactly) half
    newest = int(np.argmin(age_days))
    older = int(np.argmin(np.abs(age_days.to_numpy() - (age_days[newest] + 10))))
    assert abs(age_days[older] - age_days[newest] - 10) < 0.05
    assert w[older] / w[newest] == pytest.approx(
        0.5 ** ((age_days[older] - age_days[newest]) / 10), rel=1e-12
    )
    assert w[older] / w[newest] == pytest.approx(0.5, abs=0.005)
    summary = ts.weights_summary
    assert summary["mean"] == pytest.approx(1.0)
    assert summary["min"] == w.min() and summary["max"] == w[-1] == w.max()
    assert summary["effective_n"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert 0 < summary["effective_n"] < ts.n_rows
    assert_no_leakage(ts, source)


def test_weighted_defaults_to_configured_half_life(config, source):
    ts = build_training_set("weighted", engine=source["engine"], config=config, as_of=AS_OF)
    assert ts.parameters["half_life_days"] == config.retraining.weight_half_life_days == 30
    age = (pd.Timestamp(VALIDATION_START) - ts.frame["sent_at"]).dt.total_seconds() / 86400
    assert np.ptp(np.log2(ts.weights) + age.to_numpy() / 30) < 1e-9


def test_describe_is_json_safe(config, source):
    ts = build_training_set(
        "weighted", engine=source["engine"], config=config, as_of=AS_OF, half_life_days=10
    )
    d = json.loads(json.dumps(ts.describe()))
    assert d["strategy"] == "weighted"
    assert d["window"] == {"start": ts.window.start.isoformat(), "end": "2026-04-28T00:00:00"}
    assert d["as_of"] == "2026-05-10T00:00:00"
    assert d["rows"] == ts.n_rows and d["positives"] == ts.n_positive
    assert d["weights"]["mean"] == pytest.approx(1.0)
    assert d["parameters"] == {"half_life_days": 10.0}


def test_unknown_strategy(config, source):
    with pytest.raises(UnknownStrategyError, match="'newest_only'") as info:
        build_training_set("newest_only", engine=source["engine"], config=config, as_of=AS_OF)
    assert isinstance(info.value, ValueError)
    for name in STRATEGIES:
        assert name in str(info.value)


def test_parameter_of_another_strategy_is_refused(config, source):
    with pytest.raises(ValueError, match="window_months applies to 'sliding_window' only"):
        build_training_set(
            "weighted", engine=source["engine"], config=config, as_of=AS_OF, window_months=2
        )
    with pytest.raises(ValueError, match="half_life_days must be > 0"):
        build_training_set(
            "weighted", engine=source["engine"], config=config, as_of=AS_OF, half_life_days=0
        )


def test_too_few_rows(tmp_path, source):
    config = load_config(write_config(tmp_path, retraining={"min_training_rows": 1_000_000}))
    with pytest.raises(InsufficientDataError, match="min_training_rows is 1000000") as info:
        build_training_set("full_batch", engine=source["engine"], config=config, as_of=AS_OF)
    assert "2026-04-28" in str(info.value)


def test_too_few_positives(tmp_path, source):
    config = load_config(write_config(tmp_path, retraining={"min_positive_rows": 100_000}))
    with pytest.raises(InsufficientDataError, match=r"positive .*min_positive_rows is 100000"):
        build_training_set("full_batch", engine=source["engine"], config=config, as_of=AS_OF)


def test_no_matured_labels(config, source):
    # as of 5 days after the seed start the validation window starts before any send
    with pytest.raises(InsufficientDataError, match="no matured labels"):
        build_training_set(
            "sliding_window",
            engine=source["engine"],
            config=config,
            as_of=SEED_START + timedelta(days=5),
        )


def test_single_class(tmp_path):
    engine = engine_for_url(f"sqlite:///{tmp_path / 'one_class.db'}")
    seed_source(engine, datetime(2026, 3, 1), datetime(2026, 3, 15), seed=3, sends_per_hour=8)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE email_sends SET engaged = 0"))
    config = load_config(write_config(tmp_path, retraining={"min_training_rows": 100}))
    with pytest.raises(DataValidationError, match="single class") as info:
        build_training_set("full_batch", engine=engine, config=config, as_of=datetime(2026, 3, 15))
    assert not isinstance(info.value, InsufficientDataError)
    assert "0 positive" in str(info.value)


def test_count_new_labelled_rows(config, source):
    since = datetime(2026, 4, 1)
    n = count_new_labelled_rows(source["engine"], config, since=since, as_of=AS_OF)
    assert n == direct_count(source["engine"], since, AS_OF)
    assert n < len(source["table"].query("sent_at >= @since"))  # unmatured ones left out


# ------------------------------------------------------------------------------ the decision

IMPORTANCE = {"personalization_score": 0.020, "template": 0.018, "send_weekday": 0.002}


def report(**psi: float) -> DriftReport:
    """A drift report whose features have the given PSI (0.01 for the others)."""
    features = {}
    for name in IMPORTANCE:
        value = psi.get(name, 0.01)
        severity = "healthy"
        if name in psi:
            severity = "major" if value >= 0.25 else "minor"
        features[name] = FeatureDrift(
            name=name,
            type="numeric",
            tests=("ks",),
            psi=value,
            ks_statistic=None,
            ks_pvalue=None,
            chi2_statistic=None,
            chi2_pvalue=None,
            pvalue_adjusted=None,
            effect_size=None,
            effect_measure="ks_statistic",
            severity=severity,
            drifted=name in psi and value >= 0.1,
            reason="",
            missing_share_reference=0.0,
            missing_share_current=0.0,
            new_categories={},
            n_reference=1000,
            n_current=1000,
            bins={},
        )
    return DriftReport(
        dataset_drift=False,
        dataset_drift_reason="",
        verdict="major",
        features=features,
        n_reference=1000,
        n_current=1000,
        thresholds={},
    )


def performance(status: str, **degradation) -> PerformanceOutcome:
    """A performance check outcome whose degradation has the given fields."""
    deg = {
        "metric": "accuracy",
        "observed": None,
        "baseline": None,
        "relative_drop": None,
        "threshold": 0.05,
        "higher_is_better": True,
        **degradation,
    }
    return PerformanceOutcome(
        window=("2026-05-01T00:00:00", "2026-05-08T00:00:00"),
        model_version_id=1,
        sends=1000,
        labelled=1000,
        status=status,
        reason=deg["reason"],
        degradation=Degradation(**deg),
    )


def concept_check(concept_drift: bool, drifted_features=(), score=None) -> ConceptOutcome:
    return ConceptOutcome(
        window=("2026-05-01T00:00:00", "2026-05-08T00:00:00"),
        model_version_id=1,
        sends=1000,
        labelled=1000,
        status="drifted" if concept_drift else "stable",
        reason="",
        concept_drift=concept_drift,
        drifted_features=tuple(drifted_features),
        score=score,
    )


MEASURED_OK = performance(
    "measured",
    observed=0.70,
    baseline=0.71,
    relative_drop=0.01 / 0.71,
    degraded=False,
    reason="within tolerance",
)
MEASURED_BAD = performance(
    "measured",
    observed=0.60,
    baseline=0.70,
    relative_drop=0.1 / 0.7,
    degraded=True,
    reason="accuracy dropped",
)
MISSING = performance("missing", baseline=0.7, degraded=False, reason="only 12 matured labels")


def decide(config, drift=None, performance=None, **kw):
    kw.setdefault("as_of", AS_OF)
    kw.setdefault("reference_importance", IMPORTANCE)
    return should_retrain(drift, performance, config, **kw)


def test_drift_on_an_important_feature_triggers(config):
    d = decide(config, report(personalization_score=0.4))
    assert d.retrain and d.triggers == ("drift",) and d.blocked_by == ()
    assert any("major drift on enough important features" in r for r in d.reasons)
    assert d.details["drift"]["drifted_importance"] == pytest.approx(0.5)


def test_drift_on_an_unimportant_feature_does_not(config):
    d = decide(config, report(send_weekday=0.9))
    assert not d.retrain and d.triggers == ()
    assert d.details["drift"]["drifted_importance"] == pytest.approx(0.05)
    assert any("send_weekday" in r and "below min_drifted_importance" in r for r in d.reasons)


def test_drift_at_the_threshold_is_not_above_it(config):
    d = decide(config, report(personalization_score=0.25, template=0.2))
    assert "drift" not in d.triggers
    assert any("no feature has PSI > drift_threshold 0.25" in r for r in d.reasons)


def test_drift_without_importance_uses_equal_weights(config):
    d = decide(config, report(send_weekday=0.9), reference_importance=None)
    assert d.triggers == ("drift",)
    assert d.details["drift"]["drifted_importance"] == pytest.approx(1 / 3)
    assert d.details["drift"]["weighting"] == "equal weights"


def test_importance_from_profile(config):
    frame = generate_sends(datetime(2026, 3, 1), datetime(2026, 3, 4), seed=2, sends_per_hour=20)
    profile = build_reference_profile(frame, config.features, target="engaged")
    imp = importance_from_profile(profile)
    assert imp == importance_from_profile(json.loads(json.dumps(profile.to_json())))
    assert set(imp) == set(config.features)
    # personalization drives engagement far more than the weekday does
    assert imp["personalization_score"] > 3 * imp["send_weekday"] > 0


def test_concept_drift_triggers(config):
    concept = concept_check(True, ["send_hour"], 0.3)
    d = decide(config, report(), concept=concept)
    assert d.retrain and d.triggers == ("concept",)
    assert any("concept drift" in r and "send_hour" in r for r in d.reasons)
    quiet = decide(config, report(), concept=concept_check(False))
    assert not quiet.retrain


def test_performance_degradation_triggers(config):
    d = decide(config, None, MEASURED_BAD)
    assert d.retrain and d.triggers == ("performance",)
    assert any("degraded" in r and "14.3%" in r for r in d.reasons)
    assert not decide(config, None, MEASURED_OK).retrain


def test_performance_uses_the_retraining_threshold(tmp_path):
    """The relative drop is judged against retraining.performance_threshold, whatever flag the
    producer set; only without any numbers does the flag decide."""
    strict = load_config(write_config(tmp_path, retraining={"performance_threshold": 0.2}))
    d = decide(strict, None, MEASURED_BAD)
    assert not d.retrain
    assert any("14.3% <= performance_threshold 20.0%" in r for r in d.reasons)
    flag_only = performance("measured", degraded=True, reason="dropped")
    assert decide(strict, None, flag_only).triggers == ("performance",)


def test_missing_performance_never_triggers(config):
    d = decide(config, None, MISSING)
    assert not d.retrain and d.triggers == ()
    assert any("missing" in r and "12 matured labels" in r for r in d.reasons)


def test_cooldown_blocks(config):
    last = AS_OF - timedelta(hours=10)
    d = decide(config, None, MEASURED_BAD, last_retraining_at=last)
    assert not d.retrain
    assert d.triggers == ("performance",) and d.blocked_by == ("cooldown",)
    until = (last + timedelta(hours=72)).isoformat()
    assert any("cool-down" in r and until in r for r in d.reasons)
    after = decide(config, None, MEASURED_BAD, last_retraining_at=AS_OF - timedelta(hours=72))
    assert after.retrain and after.blocked_by == ()


def test_too_few_new_labels_block(config):
    d = decide(config, report(personalization_score=0.4), new_labelled_rows=1999)
    assert not d.retrain and d.blocked_by == ("new_labels",)
    assert any("1999" in r and "2000" in r for r in d.reasons)
    assert decide(config, report(personalization_score=0.4), new_labelled_rows=2000).retrain


def test_nothing_means_no_retrain_with_reasons(config):
    d = decide(config, report(), MEASURED_OK, concept=concept_check(False))
    assert not d.retrain and d.triggers == () and d.blocked_by == ()
    text = " | ".join(d.reasons)
    for part in ("drift:", "concept:", "performance:", "no trigger fired"):
        assert part in text
    data = json.loads(json.dumps(d.to_dict()))
    assert data["retrain"] is False and data["reasons"] == list(d.reasons)


def test_all_triggers_together(config):
    d = decide(
        config,
        report(template=1.0),
        MEASURED_BAD,
        concept=concept_check(True, ["template"]),
    )
    assert d.retrain and d.triggers == ("drift", "concept", "performance")


# ------------------------------------------------------------------------------ validation


@pytest.fixture(scope="module")
def split(config, source):
    ts = build_training_set(
        "weighted", engine=source["engine"], config=config, as_of=AS_OF, half_life_days=20
    )
    train, holdout = split_holdout(ts)
    return ts, train, holdout


@pytest.fixture(scope="module")
def good_model(config, split):
    _, train, _ = split
    return train_model(train.frame, config.features, "engaged", sample_weight=train.weights)


def test_split_holdout_takes_the_newest_share(split):
    ts, train, holdout = split
    assert train.n_rows + len(holdout) == ts.n_rows
    assert len(holdout) == math.ceil(0.2 * ts.n_rows)  # no tie at the cut in this data
    assert holdout["sent_at"].min() > train.frame["sent_at"].max()
    assert holdout["sent_at"].max().to_pydatetime() == ts.last_sent_at
    assert train.window == Window(ts.window.start, holdout["sent_at"].min().to_pydatetime())
    assert train.weights.shape == (train.n_rows,)
    assert train.weights.mean() == pytest.approx(1.0)
    ratio = train.weights / ts.weights[: train.n_rows]
    assert np.ptp(ratio) < 1e-9  # only rescaled
    assert train.n_positive == int(train.frame["engaged"].sum())


def test_validate_challenger_passes(config, split, good_model):
    _, train, holdout = split
    result = validate_challenger(
        good_model, train, holdout, champion_schema=dict(config.features), config=config
    )
    assert result.passed, result.failed_checks
    names = [c[0] for c in result.checks]
    assert names == [
        "holdout_rows",
        "holdout_classes",
        "holdout_after_training",
        "beats_trivial_baseline",
        "roc_auc",
        "feature_schema",
        "no_leakage",
    ]
    assert result.metrics["accuracy"] > result.metrics["majority_rate"]
    assert result.metrics["roc_auc"] >= 0.55
    result.raise_if_failed()
    data = json.loads(json.dumps(result.to_dict()))
    again = ValidationReport.from_dict(data)
    assert again == result and again.metrics == result.metrics


def test_model_trained_on_shuffled_labels_fails(config, split):
    _, train, holdout = split
    shuffled = train.frame.copy()
    shuffled["engaged"] = np.random.default_rng(0).permutation(shuffled["engaged"].to_numpy())
    model = train_model(shuffled, config.features, "engaged")
    result = validate_challenger(
        model, train, holdout, champion_schema=dict(config.features), config=config
    )
    assert not result.passed
    failed = {name for name, _, _ in result.failed_checks}
    assert "roc_auc" in failed and "beats_trivial_baseline" in failed
    assert failed <= {"roc_auc", "beats_trivial_baseline"}
    with pytest.raises(ChallengerValidationError, match="roc_auc") as info:
        result.raise_if_failed()
    assert "beats_trivial_baseline" in str(info.value)


def test_wrong_schema_fails(config, split, good_model):
    _, train, holdout = split
    schema = dict(config.features)
    schema["send_hour"] = "categorical"
    del schema["industry"]
    result = validate_challenger(good_model, train, holdout, champion_schema=schema, config=config)
    assert [c[0] for c in result.failed_checks] == ["feature_schema"]
    detail = result.failed_checks[0][2]
    assert "industry" in detail and "send_hour (numeric vs champion categorical)" in detail


def test_leaky_window_and_small_one_class_holdout_fail(config, split, good_model):
    _, train, holdout = split
    validation, _ = gate_windows(AS_OF, config.deployment, config.source.label_delay_hours)
    leaky = replace(train, window=Window(train.window.start, validation.end))
    result = validate_challenger(
        good_model, leaky, holdout, champion_schema=dict(config.features), config=config
    )
    assert [c[0] for c in result.failed_checks] == ["no_leakage"]

    negatives = holdout[holdout["engaged"] == 0].iloc[:50]
    result = validate_challenger(
        good_model, train, negatives, champion_schema=dict(config.features), config=config
    )
    failed = {c[0] for c in result.failed_checks}
    assert {"holdout_rows", "holdout_classes", "roc_auc"} <= failed
