"""ResultStore on SQLite and PostgreSQL (the ``engine`` fixture comes from tests/conftest_db.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
import sqlalchemy as sa

from modelguard.storage.results import (
    DriftRunRecord,
    FeatureDriftRecord,
    MonitoringDecision,
    ResultStore,
    StoreError,
    drift_features_table,
    drift_runs_table,
    monitoring_decisions_table,
)

DAG = "modelguard_monitoring"
START = datetime(2024, 5, 1, 0, 0)
END = datetime(2024, 5, 2, 0, 0)


@pytest.fixture
def store(engine) -> ResultStore:
    result_store = ResultStore(engine)
    result_store.ensure_schema()
    return result_store


def _run(start=START, end=END, **kwargs) -> DriftRunRecord:
    values = {
        "dag_id": DAG,
        "interval_start": start,
        "interval_end": end,
        "model_name": "churn",
        "model_version_id": 3,
        "run_id": "scheduled__1",
        "verdict": "drift",
        "dataset_drift": True,
        "n_reference": 5000,
        "n_current": 800,
        "report_uri": "/reports/r.json",
        "html_uri": "/reports/r.html",
        "summary": {"drifted_features": ["age"], "share": 0.5},
    }
    values.update(kwargs)
    return DriftRunRecord(**values)


def _feature(name, start=START, end=END, **kwargs) -> FeatureDriftRecord:
    values = {
        "dag_id": DAG,
        "interval_start": start,
        "interval_end": end,
        "feature": name,
        "model_name": "churn",
        "model_version_id": 3,
        "run_id": "scheduled__1",
        "feature_type": "numeric",
        "psi": 0.3,
        "ks_statistic": 0.2,
        "ks_pvalue": 1e-6,
        "pvalue_adjusted": 2e-6,
        "effect_size": 0.2,
        "severity": "major",
        "drifted": True,
        "reason": "psi 0.3 >= 0.25",
        "missing_share_reference": 0.0,
        "missing_share_current": 0.01,
    }
    values.update(kwargs)
    return FeatureDriftRecord(**values)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_save_and_read_back(store):
    features = [
        _feature("age"),
        _feature(
            "channel",
            feature_type="categorical",
            psi=0.01,
            ks_statistic=None,
            ks_pvalue=None,
            chi2_statistic=12.5,
            chi2_pvalue=0.002,
            severity="none",
            drifted=False,
            reason=None,
            new_categories=["push", "whatsapp"],
        ),
    ]
    saved = store.save_drift_run(_run(), features)

    run = store.get_drift_run(DAG, START, END)
    assert run == saved
    assert run.created_at is not None and run.created_at.tzinfo is None
    assert run.summary == {"drifted_features": ["age"], "share": 0.5}
    assert run.dataset_drift is True
    assert (run.n_reference, run.n_current) == (5000, 800)

    stored = store.drift_features(DAG, START, END)
    assert [f.feature for f in stored] == ["age", "channel"]
    assert stored[0] == _feature("age", created_at=run.created_at)
    assert stored[1].new_categories == ["push", "whatsapp"]
    assert stored[1].chi2_statistic == 12.5
    assert stored[1].ks_statistic is None
    assert stored[1].drifted is False


def test_saving_same_interval_twice_keeps_only_second(engine, store):
    store.save_drift_run(_run(), [_feature("age"), _feature("tenure"), _feature("channel")])
    second_run = _run(run_id="scheduled__1_rerun", verdict="healthy", dataset_drift=False)
    second_features = [
        _feature("age", run_id="scheduled__1_rerun", psi=0.02, severity="none", drifted=False),
        _feature("tenure", run_id="scheduled__1_rerun", psi=0.05, severity="none", drifted=False),
    ]
    store.save_drift_run(second_run, second_features)

    assert _count(engine, drift_runs_table) == 1
    assert _count(engine, drift_features_table) == 2
    run = store.get_drift_run(DAG, START, END)
    assert (run.run_id, run.verdict, run.dataset_drift) == ("scheduled__1_rerun", "healthy", False)
    stored = store.drift_features(DAG, START, END)
    assert [(f.feature, f.psi, f.drifted) for f in stored] == [
        ("age", 0.02, False),
        ("tenure", 0.05, False),
    ]
    assert {f.run_id for f in stored} == {"scheduled__1_rerun"}


def test_different_intervals_and_dags_coexist(engine, store):
    day2 = (END, END + timedelta(days=1))
    store.save_drift_run(_run(), [_feature("age")])
    store.save_drift_run(
        _run(*day2, verdict="healthy"), [_feature("age", *day2), _feature("tenure", *day2)]
    )
    store.save_drift_run(_run(dag_id="other_dag"), [])

    assert _count(engine, drift_runs_table) == 3
    assert _count(engine, drift_features_table) == 3
    assert store.get_drift_run(DAG, START, END).verdict == "drift"
    assert store.get_drift_run(DAG, *day2).verdict == "healthy"
    assert len(store.drift_features(DAG, *day2)) == 2
    assert store.drift_features("other_dag", START, END) == []
    assert store.get_drift_run(DAG, START, END + timedelta(hours=1)) is None


def test_nan_and_inf_are_stored_as_null(engine, store):
    feature = _feature(
        "age",
        psi=float("nan"),
        ks_statistic=np.float64("nan"),
        ks_pvalue=float("inf"),
        effect_size=-math.inf,
        chi2_pvalue=np.float32(0.5),
    )
    assert feature.psi is None and feature.ks_pvalue is None and feature.effect_size is None
    store.save_drift_run(
        _run(summary={"score": float("nan"), "values": [1.0, math.inf]}), [feature]
    )

    columns = ["psi", "ks_statistic", "ks_pvalue", "effect_size", "chi2_pvalue"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(*(drift_features_table.c[c] for c in columns))).one()
        summary_text = conn.execute(
            sa.select(sa.cast(drift_runs_table.c.summary, sa.Text))
        ).scalar_one()
        null_psi = conn.execute(
            sa.select(sa.func.count())
            .select_from(drift_features_table)
            .where(drift_features_table.c.psi.is_(None))
        ).scalar_one()
    assert tuple(row) == (None, None, None, None, 0.5)
    assert null_psi == 1
    assert "NaN" not in summary_text and "Infinity" not in summary_text
    assert store.get_drift_run(DAG, START, END).summary == {"score": None, "values": [1.0, None]}


def test_nan_bypassing_the_record_still_becomes_null(engine, store):
    store.save_drift_run(_run(), [])
    with engine.begin() as conn:
        conn.execute(
            sa.insert(drift_features_table).values(
                **{
                    **_feature("raw").__dict__,
                    "psi": float("nan"),
                    "created_at": datetime(2024, 5, 2),
                }
            )
        )
    assert store.drift_features(DAG, START, END)[0].psi is None


def test_failed_write_leaves_previous_rows_intact(store):
    first = store.save_drift_run(_run(), [_feature("age"), _feature("tenure")])
    # Not JSON-serialisable: the insert of the features fails after the deletes ran.
    broken = _feature("age", run_id="scheduled__1", new_categories=[object()])
    with pytest.raises(Exception, match="cannot be stored as JSON"):
        store.save_drift_run(_run(verdict="healthy"), [_feature("tenure"), broken])

    assert store.get_drift_run(DAG, START, END) == first
    assert [f.feature for f in store.drift_features(DAG, START, END)] == ["age", "tenure"]


def test_timezone_aware_intervals_are_stored_as_naive_utc(store):
    plus2 = timezone(timedelta(hours=2))
    aware_start = datetime(2024, 5, 1, 2, 0, tzinfo=plus2)
    aware_end = datetime(2024, 5, 2, 2, 0, tzinfo=plus2)
    store.save_drift_run(_run(aware_start, aware_end), [_feature("age", aware_start, aware_end)])

    run = store.get_drift_run(DAG, START, END)
    assert run is not None
    assert (run.interval_start, run.interval_end) == (START, END)
    assert run.interval_start.tzinfo is None
    assert len(store.drift_features(DAG, aware_start, aware_end)) == 1


def test_features_must_match_their_run(engine, store):
    with pytest.raises(StoreError, match="does not belong"):
        store.save_drift_run(_run(), [_feature("age", end=END + timedelta(hours=1))])
    with pytest.raises(StoreError, match="model_version_id"):
        store.save_drift_run(_run(), [_feature("age", model_version_id=4)])
    with pytest.raises(StoreError, match="appears twice"):
        store.save_drift_run(_run(), [_feature("age"), _feature("age")])
    with pytest.raises(StoreError, match="before it starts"):
        store.save_drift_run(_run(START, START - timedelta(days=1)), [])
    assert _count(engine, drift_runs_table) == 0


def test_records_require_their_text_fields():
    with pytest.raises(StoreError, match="verdict must be a non-empty string"):
        _run(verdict=None)
    with pytest.raises(StoreError, match="feature must be a non-empty string"):
        _feature("")
    assert _run(summary=None).summary == {}


def test_drift_history(store):
    days = [START + timedelta(days=i) for i in range(4)]
    for day in reversed(days):
        store.save_drift_run(_run(day, day + timedelta(days=1)), [])
    store.save_drift_run(_run(dag_id="other_dag"), [])

    history = store.drift_history(DAG)
    assert [r.interval_start for r in history] == days
    assert all(r.dag_id == DAG for r in history)
    since = store.drift_history(DAG, since=days[2].replace(tzinfo=UTC))
    assert [r.interval_start for r in since] == days[2:]
    assert store.drift_history("nobody") == []


def test_decision_upsert(engine, store):
    assert store.get_decision(DAG, START, END) is None
    first = store.record_decision(
        DAG, START, END, "retrain", "psi of age 0.31", {"features": ["age"]}, "scheduled__1"
    )
    assert isinstance(first, MonitoringDecision)
    assert store.get_decision(DAG, START, END) == first

    second = store.record_decision(DAG, START, END, "healthy", None, None, "scheduled__1_rerun")
    store.record_decision(DAG, END, END + timedelta(days=1), "alert", "labels late", {}, "s2")

    assert _count(engine, monitoring_decisions_table) == 2
    stored = store.get_decision(DAG, START, END)
    assert stored == second
    assert (stored.decision, stored.reason, stored.details, stored.run_id) == (
        "healthy",
        None,
        {},
        "scheduled__1_rerun",
    )
    assert stored.decided_at >= first.decided_at
    assert store.get_decision(DAG, END, END + timedelta(days=1)).decision == "alert"


def test_ensure_schema_is_idempotent_and_constructor_does_no_io(tmp_path, engine):
    lazy = sa.create_engine(f"sqlite:///{tmp_path / 'never.sqlite'}")
    ResultStore(lazy)
    assert not (tmp_path / "never.sqlite").exists()
    lazy.dispose()
    store = ResultStore(engine)
    store.ensure_schema()
    store.ensure_schema()
    names = set(sa.inspect(engine).get_table_names())
    assert {"mg_drift_runs", "mg_drift_features", "mg_monitoring_decisions"} <= names
