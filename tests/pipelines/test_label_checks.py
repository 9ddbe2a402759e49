"""Label-dependent checks and retraining steps on a real seeded source (no Airflow): labels that
never arrive, labels arriving twice, and the refusals of a retraining run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.core.window import Window
from modelguard.exceptions import DataValidationError, InsufficientDataError, UnknownStrategyError
from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome
from modelguard.pipelines.drift_check import DriftCheckResult
from modelguard.pipelines.label_checks import run_concept_check, run_performance_check
from modelguard.pipelines.retrain_decision import decide_retraining
from modelguard.pipelines.retraining import (
    EstimatorError,
    TrainedChallenger,
    build_training_set_step,
    register_step,
    train_and_validate_step,
)
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.world import AUDIENCE_DRIFT_RUN, AUDIENCE_START, build_audience_world

MODEL = "email_engagement"
WEEK = Window(datetime(2026, 7, 27), datetime(2026, 8, 3))
AS_OF = datetime(2026, 8, 6)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_audience_world(tmp_path_factory.mktemp("labels"))


def engines(world):
    return engine_for_url(world.source_url), engine_for_url(world.registry_url)


def check(world, fn, window=WEEK, as_of=AS_OF, **kw):
    """The check's XCom (its outcome's ``to_dict()``), which must read back to that outcome."""
    outcome = run_check(world, fn, window=window, as_of=as_of, **kw)
    data = outcome.to_dict()
    assert type(outcome).from_dict(data) == outcome
    assert type(outcome).from_dict(json.loads(json.dumps(data, allow_nan=False))) == outcome
    return data


def run_check(world, fn, window=WEEK, as_of=AS_OF, **kw):
    source, registry = engines(world)
    args = dict(
        config=world.config,
        source_engine=source,
        registry_engine=registry,
        window=window,
        as_of=as_of,
        dag_id="unit",
        run_id="r",
    )
    args.update(kw)
    return fn(**args)


def test_performance_and_concept_on_the_new_audience(world):
    perf = check(world, run_performance_check)
    assert perf["status"] in ("measured", "degraded")
    assert perf["labelled"] == perf["sends"] > 1000
    for key in ("accuracy", "roc_auc", "log_loss", "brier_score", "expected_calibration_error"):
        assert perf["metrics"][key] is not None, key
    concept = check(world, run_concept_check)
    assert concept["concept_drift"] is True and concept["drifted_features"]


def test_labels_not_yet_known_are_missing_not_degraded(world):
    # as of the window's own end hardly any outcome is final: no verdict, no false alarm
    early = check(world, run_performance_check, as_of=WEEK.end)
    assert early["status"] == "missing" and early["degradation"] is None
    assert "labels missing" in early["reason"]
    concept = check(world, run_concept_check, as_of=WEEK.end)
    assert concept["status"] == "missing" and concept["concept_drift"] is False


def test_labels_that_never_arrive(world):
    source, registry = engines(world)
    gap = Window(datetime(2026, 7, 20), datetime(2026, 7, 27))
    with source.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE email_sends SET engaged = NULL, outcome_at = NULL "
                "WHERE sent_at >= :s AND sent_at < :e"
            ),
            {"s": gap.start, "e": gap.end},
        )
    result = check(world, run_performance_check, window=gap, as_of=AS_OF)
    assert result["status"] == "missing" and result["labelled"] == 0 < result["sends"]
    stored = ResultStore(registry).checks("unit", gap.start, gap.end, "performance")
    assert [c.status for c in stored] == ["missing"]


def test_labels_arriving_twice_change_nothing(world):
    from email_engagement.generator import generate_sends, write_sends

    first = check(world, run_performance_check)
    source, _ = engines(world)
    day = Window(datetime(2026, 7, 28), datetime(2026, 7, 29))
    frame = generate_sends(
        day.start,
        day.end,
        seed=31,
        sends_per_hour=30,
        scenario="audience_shift",
        drift_start=AUDIENCE_START,
    )
    write_sends(source, frame, start=day.start, end=day.end)  # the same outcomes, again
    second = check(world, run_performance_check, run_id="again")
    assert second["metrics"] == first["metrics"] and second["sends"] == first["sends"]
    stored = ResultStore(engines(world)[1]).checks("unit", WEEK.start, WEEK.end, "performance")
    assert len(stored) == 1 and stored[0].run_id == "again"


def test_decision_cool_down_and_record(world):
    source, registry = engines(world)
    drift = DriftCheckResult(
        verdict="healthy",
        dataset_drift=False,
        drifted_features=[],
        major_features=[],
        report_uri=None,
        html_uri=None,
        model_name=MODEL,
        model_version=1,
        model_version_id=1,
        window_start=WEEK.start.isoformat(),
        window_end=WEEK.end.isoformat(),
        n_rows=0,
        summary="",
    )
    perf = run_check(world, run_performance_check)
    concept = run_check(world, run_concept_check)
    assert isinstance(perf, PerformanceOutcome) and isinstance(concept, ConceptOutcome)
    window = Window(AS_OF - timedelta(hours=24), AS_OF)
    args = dict(
        config=world.config,
        source_engine=source,
        registry_engine=registry,
        drift=drift,
        performance=perf,
        concept=concept,
        dag_id="unit_decide",
        run_id="r",
    )
    first = decide_retraining(window=window, **args)
    assert first["verdict"] == "retrain" and "concept" in first["triggers"]
    later = Window(window.start + timedelta(hours=24), window.end + timedelta(hours=24))
    second = decide_retraining(window=later, **args)
    assert second["verdict"] == "cooldown", second["reason"]
    assert "cool-down: retraining decided for unit_decide" in second["reason"]
    stored = ResultStore(registry).get_decision("unit_decide", later.start, later.end)
    assert stored.decision == "cooldown" and stored.retrain_candidate
    assert stored.model_name == MODEL and stored.model_version_id == first["model_version_id"]
    # Reprocessing the earlier interval out of order changes nothing: it is still the one.
    again = decide_retraining(window=window, **args)
    assert again["verdict"] == "retrain"
    assert ResultStore(registry).get_decision("unit_decide", later.start, later.end) == stored


def test_retraining_refusals_register_nothing(world, tmp_path):
    source, registry_engine = engines(world)
    registry = ModelRegistry(registry_engine)
    before = [(v.id, v.status) for v in registry.list_versions(MODEL)]
    common = dict(config=world.config, source_engine=source, run_id="bad")
    with pytest.raises(UnknownStrategyError, match="yolo"):
        build_training_set_step(
            as_of=AUDIENCE_DRIFT_RUN, strategy="yolo", window_months=None, **common
        )
    with pytest.raises((InsufficientDataError, DataValidationError), match="matured"):
        build_training_set_step(
            as_of=datetime(2026, 6, 5), strategy="full_batch", window_months=None, **common
        )
    built = build_training_set_step(
        as_of=AUDIENCE_DRIFT_RUN, strategy="sliding_window", window_months=1, **common
    )
    with pytest.raises(EstimatorError, match="failed to fit"):
        train_and_validate_step(
            config=world.config,
            registry_engine=registry_engine,
            built=built,
            estimator="tests.pipelines.test_label_checks:failing_estimator",
            run_id="bad",
        )
    with pytest.raises(EstimatorError, match="cannot be imported"):
        train_and_validate_step(
            config=world.config,
            registry_engine=registry_engine,
            built=built,
            estimator="no_such_module:fit",
            run_id="bad",
        )
    assert [(v.id, v.status) for v in registry.list_versions(MODEL)] == before
    # the happy path registers exactly one challenger
    trained = train_and_validate_step(
        config=world.config,
        registry_engine=registry_engine,
        built=built,
        estimator="email_engagement.model:train_model",
        run_id="good",
    )
    out = register_step(
        config=world.config,
        registry_engine=registry_engine,
        built=built,
        trained=trained,
        reason="unit",
        run_id="good",
    )
    version = registry.get_version(out["challenger_id"])
    assert version.status == "challenger" and version.strategy == "sliding_window"
    assert version.training_end == datetime.fromisoformat(built.training["window"]["end"])
    for step in (built, trained):  # what the steps push, read back
        data = json.loads(json.dumps(step.to_dict(), allow_nan=False))
        assert type(step).from_dict(data) == step
    assert TrainedChallenger.from_dict(trained.to_dict()).validation.metrics == (
        trained.validation.metrics
    )
    assert version.metrics["validation_checks"] == trained.validation.to_dict()["checks"]
    assert len(registry.list_versions(MODEL)) == len(before) + 1


def failing_estimator(frame, features, target, *, sample_weight=None):
    raise RuntimeError("the solver diverged")


def test_a_malformed_xcom_names_the_task_and_key(world):
    from modelguard.exceptions import MalformedResultError

    perf = check(world, run_performance_check)
    broken = {k: v for k, v in perf.items() if k != "status"}
    with pytest.raises(MalformedResultError, match=r"task 'performance'.*'return_value'.*status"):
        PerformanceOutcome.from_xcom(broken, "performance")
    with pytest.raises(MalformedResultError, match=r"task 'concept_drift'.*ConceptOutcome"):
        ConceptOutcome.from_xcom(
            {**check(world, run_concept_check), "window": "x"}, "concept_drift"
        )
    with pytest.raises(MalformedResultError, match=r"task 'drift_check'.*'return_value'"):
        DriftCheckResult.from_xcom({"verdict": "major"}, "drift_check")
    with pytest.raises(MalformedResultError, match=r"task 'drift_check'"):
        DriftCheckResult.from_xcom(None, "drift_check")
