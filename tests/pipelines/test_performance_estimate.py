"""The estimate task's pipeline on a real seeded source (no Airflow): a covariate shift that hurts
accuracy is flagged before its labels mature (an alert and a reason, never a retraining), the
realised value lies in the interval on no-drift windows, reruns give the same numbers, and what
the data can do (no rows, a model without predict_proba, no calibration) is a status."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa

from modelguard.core.scoring import score_model
from modelguard.core.window import Window
from modelguard.labels.estimation import EstimateOutcome
from modelguard.pipelines.deployment import read_labelled
from modelguard.pipelines.performance_estimate import run_performance_estimate
from modelguard.pipelines.retrain_decision import decide_retraining
from modelguard.storage.estimates import EstimateStore, calibrations_table
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.source import engine_for_url
from tests.estimation_world import (
    ESTIMATE_SHIFT_START,
    QUIET_RUNS,
    SHIFTED_RUN,
    build_estimation_world,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_estimation_world(tmp_path_factory.mktemp("estimate"))


def day_window(run_at) -> Window:
    return Window(run_at - timedelta(days=1), run_at)


def estimate(world, run_at, *, dag_id="est_dag", config=None, run_id="r") -> EstimateOutcome:
    out = run_performance_estimate(
        config=config or world.config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
        window=day_window(run_at),
        dag_id=dag_id,
        run_id=run_id,
    )
    assert EstimateOutcome.from_dict(out.to_dict()) == out  # the XCom reads back
    return out


def store(world) -> EstimateStore:
    return EstimateStore(engine_for_url(world.registry_url))


def champion(world):
    registry = ModelRegistry(engine_for_url(world.registry_url), world.config.storage.artifact_root)
    return registry, registry.get_champion(world.config.model.name)


def realised_accuracy(world, window: Window) -> float:
    """An independent computation: the champion scored on the window's labels as of maturity."""
    registry, version = champion(world)
    as_of = window.end + timedelta(hours=world.config.source.label_delay_hours)
    frame = read_labelled(engine_for_url(world.source_url), world.config, window, as_of)
    scores, _ = score_model(registry.load_model(version), frame, world.config.source.label_column)
    return scores.accuracy


def test_the_bootstrap_stored_the_champions_calibration(world):
    _, version = champion(world)
    stored = store(world).calibration(version.id)
    assert stored is not None and stored.source == "holdout_at_registration"
    assert stored.method == "isotonic" and 0 < stored.n_positive < stored.n_rows
    assert stored.n_rows == version.metrics["n_holdout"]


def test_a_covariate_shift_that_hurts_accuracy_is_flagged_before_its_labels_mature(world):
    window = day_window(SHIFTED_RUN)
    assert window.start >= ESTIMATE_SHIFT_START
    # As of the run, none of the window's outcomes is final: there is nothing to measure.
    frame = read_labelled(engine_for_url(world.source_url), world.config, window, SHIFTED_RUN)
    negatives = int((frame[world.config.source.label_column] == 0).sum())
    assert negatives == 0  # only early engagements are known: no measurement possible

    out = estimate(world, SHIFTED_RUN, dag_id="shift_dag")
    assert out.status == "estimated", out.reason
    assert out.degraded and out.relative_drop > world.config.retraining.performance_threshold
    assert out.metric == "accuracy" and out.lower <= out.estimate <= out.upper
    quiet = estimate(world, QUIET_RUNS[5], dag_id="shift_dag")
    assert quiet.status == "estimated" and not quiet.degraded, quiet.reason

    # The decision: an alert with the estimate as a reason, never a retraining because of it
    # (no drift report, no matured labels: only the estimate speaks).
    decision = decide_retraining(
        config=world.config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
        drift=None,
        performance=None,
        concept=None,
        estimate=out,
        window=window,
        dag_id="shift_dag",
        run_id="r",
    )
    assert decision["verdict"] == "alert"
    assert decision["triggers"] == []
    assert "estimate: accuracy estimated" in decision["reason"]
    assert "not a retraining" in decision["reason"]
    assert decision["decision"]["alerts"] == ["estimated_performance"]
    assert decision["decision"]["details"]["estimate"]["relative_drop"] == out.relative_drop
    assert decision["estimate_status"] == "estimated"

    # Three days later the labels have matured: the realised accuracy dropped too.
    later = estimate(world, SHIFTED_RUN + timedelta(days=3), dag_id="shift_dag")
    assert later.realised_filled >= 1
    _, version = champion(world)
    row = store(world).estimate("shift_dag", window.start, window.end, version.id)
    assert row.realised_status == "measured"
    assert row.realised == pytest.approx(realised_accuracy(world, window))
    assert (row.baseline - row.realised) / row.baseline > 0.05
    assert row.error == pytest.approx(row.realised - row.estimate)


def test_on_no_drift_windows_the_realised_value_lies_in_the_interval(world):
    """At least 40 no-drift daily windows: each estimated by its own run, each realised value
    filled in by the run of the day its labels matured (3 days later)."""
    runs = QUIET_RUNS
    assert len(runs) >= 40
    for run_at in runs:
        out = estimate(world, run_at, dag_id="quiet_dag", run_id=f"r{run_at:%m%d}")
        assert out.status == "estimated", out.reason
    for k in range(1, 4):  # the runs after the last window fill in its realised value
        estimate(world, runs[-1] + timedelta(days=k), dag_id="quiet_dag")
    rows = [
        r
        for r in store(world).history("email_engagement", dag_ids=["quiet_dag"])
        if r.interval_end in set(runs)
    ]
    assert len(rows) == len(runs)
    assert all(r.realised_status == "measured" for r in rows)
    inside = [r.inside for r in rows]
    coverage = sum(inside) / len(inside)
    errors = [r.error for r in rows]
    assert coverage >= 0.9, (
        f"observed coverage {coverage:.1%} over {len(rows)} windows; errors {errors}"
    )
    assert sum(r.degraded for r in rows) <= 2, "no-drift windows flagged as degraded"
    some = rows[7]
    assert some.realised == pytest.approx(
        realised_accuracy(world, Window(some.interval_start, some.interval_end))
    )


def test_a_rerun_gives_the_same_numbers_and_one_row(world):
    first = estimate(world, QUIET_RUNS[2], dag_id="rerun_dag", run_id="a")
    again = estimate(world, QUIET_RUNS[2], dag_id="rerun_dag", run_id="b")
    assert (first.estimate, first.lower, first.upper) == (again.estimate, again.lower, again.upper)
    rows = store(world).history("email_engagement", dag_ids=["rerun_dag"])
    assert len(rows) == 1 and rows[0].run_id == "b"


def test_a_window_without_rows_is_unavailable_not_a_failure(world):
    out = estimate(world, ESTIMATE_SHIFT_START + timedelta(days=40), dag_id="empty_dag")
    assert out.status == "unavailable"
    assert "holds 0 row(s); performance_estimation.min_rows needs 100" in out.reason
    assert store(world).history("email_engagement", dag_ids=["empty_dag"])[0].status == (
        "unavailable"
    )


def test_disabled_estimates_nothing_and_stores_nothing(world):
    config = dataclasses.replace(
        world.config,
        performance_estimation=dataclasses.replace(
            world.config.performance_estimation, enabled=False
        ),
    )
    out = estimate(world, QUIET_RUNS[0], dag_id="off_dag", config=config)
    assert out.status == "disabled"
    assert store(world).history("email_engagement", dag_ids=["off_dag"]) == []


def test_a_champion_registered_without_a_calibration_is_calibrated_lazily_and_the_same(world):
    _, version = champion(world)
    engine = engine_for_url(world.registry_url)
    at_registration = store(world).calibration(version.id)
    t = calibrations_table
    try:
        with engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.model_version_id == version.id))
        first = estimate(world, QUIET_RUNS[1], dag_id="lazy_dag")
        lazy = store(world).calibration(version.id)
        assert lazy.source == "holdout_refit" and lazy.n_rows > 1000
        with engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.model_version_id == version.id))
        again = estimate(world, QUIET_RUNS[1], dag_id="lazy_dag")
        assert store(world).calibration(version.id).calibration == lazy.calibration
        assert (first.estimate, first.lower) == (again.estimate, again.lower)
        assert first.status == "estimated"
    finally:
        store(world).save_calibration(at_registration)


def test_too_small_a_calibration_set_is_unavailable(world):
    _, version = champion(world)
    engine = engine_for_url(world.registry_url)
    at_registration = store(world).calibration(version.id)
    config = dataclasses.replace(
        world.config,
        performance_estimation=dataclasses.replace(
            world.config.performance_estimation, min_calibration_rows=10**7
        ),
    )
    t = calibrations_table
    try:
        with engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.model_version_id == version.id))
        out = estimate(world, QUIET_RUNS[1], dag_id="small_dag", config=config)
        assert out.status == "unavailable"
        assert "min_calibration_rows needs 10000000" in out.reason
    finally:
        store(world).save_calibration(at_registration)


class NoProba:
    """A "model" without predict_proba."""

    def predict(self, X):
        return [0] * len(X)


def test_a_champion_without_predict_proba_is_unavailable(tmp_path, world):
    from modelguard.pipelines.retraining import register_model
    from modelguard.storage.source import read_window

    config = dataclasses.replace(
        world.config,
        storage=dataclasses.replace(world.config.storage, artifact_root=tmp_path / "art"),
    )
    registry_engine = engine_for_url(f"sqlite:///{tmp_path / 'reg.db'}")
    registry = ModelRegistry(registry_engine, config.storage.artifact_root)
    frame = read_window(
        engine_for_url(world.source_url),
        config.source.table,
        config.source.time_column,
        day_window(QUIET_RUNS[0]),
    )
    version = register_model(
        config,
        registry,
        NoProba(),
        frame,
        metrics={"accuracy": 0.7},
        training_start=None,
        training_end=None,
        strategy="manual",
        run_id=None,
    )
    registry.bootstrap_champion(config.model.name, version.id)
    no_window = run_performance_estimate(
        config=config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=registry_engine,
        window=day_window(QUIET_RUNS[0]),
        dag_id="noproba",
        run_id="r",
    )
    assert no_window.status == "unavailable"
    assert "no calibration and no recorded training window" in no_window.reason
    _, real = champion(world)
    borrowed = store(world).calibration(real.id)
    EstimateStore(registry_engine).save_calibration(
        dataclasses.replace(borrowed, model_version_id=version.id)
    )
    out = run_performance_estimate(
        config=config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=registry_engine,
        window=day_window(QUIET_RUNS[0]),
        dag_id="noproba",
        run_id="r",
    )
    assert out.status == "unavailable"
    assert "has no predict_proba method" in out.reason
