"""The estimate store on SQLite and PostgreSQL: round trips, idempotent reruns that keep the
realised value, the realised value and the estimate's error, pending work, and retention."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.exceptions import StoreError
from modelguard.storage.estimates import (
    CalibrationRecord,
    EstimateRecord,
    EstimateStore,
    estimates_table,
)
from modelguard.storage.results import ResultStore
from modelguard.storage.retention import prune_rows

DAG = "m_monitoring"
DAY = datetime(2026, 9, 1)


def day(k: int) -> tuple[datetime, datetime]:
    return DAY + timedelta(days=k), DAY + timedelta(days=k + 1)


def record(k: int = 0, *, version: int = 1, estimate: float | None = 0.7, **kw) -> EstimateRecord:
    start, end = day(k)
    values = dict(
        dag_id=DAG,
        interval_start=start,
        interval_end=end,
        model_version_id=version,
        model_name="m",
        run_id=f"run{k}",
        status="estimated",
        reason="estimated accuracy",
        metric="accuracy",
        estimate=estimate,
        lower=0.65,
        upper=0.75,
        baseline=0.72,
        relative_drop=0.028,
        degraded=False,
        n_rows=700,
        details={"estimate": {"n_rows": 700}, "nan": math.nan},
    )
    values.update(kw)
    return EstimateRecord(**values)


@pytest.fixture
def store(engine) -> EstimateStore:
    s = EstimateStore(engine)
    s.ensure_schema()
    s.ensure_schema()  # idempotent
    return s


def test_estimate_round_trip(store):
    saved = store.save_estimate(record())
    got = store.estimate(DAG, *day(0), 1)
    assert got == saved
    assert got.estimate == 0.7 and got.lower == 0.65 and got.degraded is False
    assert got.details == {"estimate": {"n_rows": 700}, "nan": None}
    assert got.realised_status is None and not got.matured
    assert got.created_at is not None


def test_tz_aware_times_are_stored_naive_utc(store):
    from datetime import UTC

    start, end = day(0)
    store.save_estimate(
        record(interval_start=start.replace(tzinfo=UTC), interval_end=end.replace(tzinfo=UTC))
    )
    assert store.estimate(DAG, start, end, 1) is not None


def test_a_rerun_replaces_the_estimate_and_keeps_the_realised_value(store, engine):
    first = store.save_estimate(record())
    store.save_realised(
        first,
        status="measured",
        realised=0.74,
        n_labelled=690,
        metrics={"accuracy": 0.74},
        as_of=day(3)[1],
        run_id="later",
    )
    again = store.save_estimate(record(estimate=0.71, run_id="rerun"))
    assert again.estimate == 0.71 and again.run_id == "rerun"
    assert again.realised == 0.74 and again.realised_status == "measured"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(estimates_table)).scalar() == 1


def test_versions_of_one_interval_coexist(store):
    store.save_estimate(record(version=1))
    store.save_estimate(record(version=2, estimate=0.6))
    assert store.estimate(DAG, *day(0), 1).estimate == 0.7
    assert store.estimate(DAG, *day(0), 2).estimate == 0.6


@pytest.mark.parametrize(
    ("realised", "error", "inside"),
    [(0.74, 0.04, True), (0.80, 0.10, False), (0.65, -0.05, True), (0.6, -0.1, False)],
)
def test_the_realised_value_its_error_and_whether_it_lay_inside(store, realised, error, inside):
    saved = store.save_estimate(record())
    out = store.save_realised(
        saved,
        status="measured",
        realised=realised,
        n_labelled=690,
        metrics={"accuracy": realised},
        as_of=day(3)[1],
        run_id="r",
    )
    assert out.error == pytest.approx(error)
    assert out.inside is inside
    assert out.realised_as_of == day(3)[1] and out.n_labelled == 690


def test_missing_labels_are_recorded_without_a_comparison(store):
    saved = store.save_estimate(record())
    out = store.save_realised(
        saved,
        status="missing",
        realised=None,
        n_labelled=0,
        metrics=None,
        as_of=day(3)[1],
        run_id="r",
        reason="no labelled sends",
    )
    assert out.realised_status == "missing" and out.error is None and out.inside is None
    assert out.realised_metrics == {"reason": "no labelled sends"}


def test_an_unavailable_estimate_is_stored_and_never_pending(store):
    store.save_estimate(record(status="unavailable", estimate=None, lower=None, upper=None))
    assert store.pending_realisation(DAG, "m", ended_by=day(9)[1], limit=10) == []
    assert store.estimate(DAG, *day(0), 1).status == "unavailable"


def test_realised_for_an_estimate_never_stored_is_refused(store):
    with pytest.raises(StoreError, match="no stored estimate"):
        store.save_realised(
            record(),
            status="measured",
            realised=0.7,
            n_labelled=1,
            metrics={},
            as_of=DAY,
            run_id=None,
        )


def test_pending_realisation_is_oldest_first_bounded_and_by_window_end(store):
    for k in range(6):
        store.save_estimate(record(k))
    pending = store.pending_realisation(DAG, "m", ended_by=day(3)[1], limit=3)
    assert [p.interval_end for p in pending] == [day(0)[1], day(1)[1], day(2)[1]]
    store.save_realised(
        pending[0],
        status="measured",
        realised=0.7,
        n_labelled=1,
        metrics={},
        as_of=day(3)[1],
        run_id=None,
    )
    again = store.pending_realisation(DAG, "m", ended_by=day(3)[1], limit=10)
    assert [p.interval_end for p in again] == [day(1)[1], day(2)[1], day(3)[1]]
    assert store.pending_realisation("other_dag", "m", ended_by=day(9)[1], limit=10) == []


def test_history_is_oldest_first_and_bounded(store):
    for k in range(5):
        store.save_estimate(record(k))
    rows = store.history("m", limit=3)
    assert [r.interval_end for r in rows] == [day(k)[1] for k in (2, 3, 4)]
    assert store.history("m", since=day(3)[1]) == rows[1:]
    assert store.history("other") == []


def test_history_of_a_store_without_the_table_is_empty(engine):
    assert EstimateStore(engine).history("m") == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"dag_id": ""}, "dag_id must be a non-empty string"),
        ({"model_version_id": True}, "model_version_id must be an integer"),
        ({"model_version_id": None}, "model_version_id must be an integer"),
        ({"interval_start": day(2)[0]}, "ends .* before it starts"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field(change, match):
    with pytest.raises(StoreError, match=match):
        record(**change)


def test_calibration_round_trip_and_replace(store):
    rec = CalibrationRecord(
        model_version_id=3,
        model_name="m",
        method="isotonic",
        source="holdout_at_registration",
        n_rows=4,
        n_positive=2,
        calibration={"scores": [0.1, 0.2, 0.8, 0.9], "labels": [0, 0, 1, 1]},
    )
    store.save_calibration(rec)
    got = store.calibration(3)
    assert got.calibration == rec.calibration and got.created_at is not None
    store.save_calibration(CalibrationRecord(**{**rec.__dict__, "source": "holdout_refit"}))
    assert store.calibration(3).source == "holdout_refit"
    assert store.calibration(4) is None


def test_retention_prunes_estimates_of_decided_intervals_only(store, engine):
    for k in range(6):
        store.save_estimate(record(k))
    store.save_estimate(record(0, version=2))
    other = record(1, model_name="other", dag_id="other_monitoring")
    store.save_estimate(other)
    results = ResultStore(engine)
    results.ensure_schema()
    for k in (0, 1, 2, 4):  # day 3 never decided: its run is still working on it
        start, end = day(k)
        results.record_decision(DAG, start, end, "healthy", "ok", {}, "r")
    result = prune_rows(
        engine, model_name="m", dag_ids=[DAG], cutoff=day(4)[1] + timedelta(hours=1), batch_size=2
    )
    assert result.deleted["mg_performance_estimates"] == 5  # days 0 (two versions), 1, 2, 4
    left = [(r.interval_end, r.model_version_id) for r in store.history("m")]
    assert left == [(day(3)[1], 1), (day(5)[1], 1)]
    assert store.history("other") != []
    again = prune_rows(
        engine, model_name="m", dag_ids=[DAG], cutoff=day(4)[1] + timedelta(hours=1), batch_size=2
    )
    assert again.deleted["mg_performance_estimates"] == 0
