"""Retention of monitoring history on SQLite and PostgreSQL: what goes, what stays, in batches."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.alerts.records import CLEARED, OPEN
from modelguard.health import checks as rules
from modelguard.health.checks import HealthReport
from modelguard.storage.alerts import AlertStore, alert_notifications_table, alerts_table
from modelguard.storage.health import HealthStore
from modelguard.storage.registry import ModelRegistry, model_events_table, model_versions_table
from modelguard.storage.results import (
    DriftRunRecord,
    FeatureDriftRecord,
    MonitoringCheck,
    MonitoringDecision,
    ResultStore,
    monitoring_decisions_table,
)
from modelguard.storage.retention import (
    analysed,
    decided_ends,
    label_end,
    prune_folders,
    prune_rows,
)

MODEL = "churn"
DAG = "churn_monitoring"
DAGS = [DAG, "churn_monitoring_daily"]
DAY0 = datetime(2026, 7, 1)
DAYS = 10
CUTOFF = DAY0 + timedelta(days=6)  # intervals ending on days 1..5 go, 6..10 stay
FEATURES = ("age", "plan", "visits")


def day(k: int) -> tuple[datetime, datetime]:
    """The k-th daily window (k = 0 ends on DAY0 + 1 day)."""
    return DAY0 + timedelta(days=k), DAY0 + timedelta(days=k + 1)


def count(engine, table, **where) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def add_alert(engine, *, model=MODEL, status=CLEARED, last_end: datetime, notes=2) -> int:
    with engine.begin() as conn:
        alert_id = conn.execute(
            sa.insert(alerts_table).values(
                model_name=model,
                kind="health",
                key="health:source_fresh",
                severity="critical",
                status=status,
                message="stale",
                dag_id=DAG,
                first_interval_start=last_end - timedelta(days=1),
                first_interval_end=last_end,
                last_interval_end=last_end,
                cleared_interval_end=last_end if status == CLEARED else None,
                details={},
                created_at=last_end,
            )
        ).inserted_primary_key[0]
        for i in range(notes):
            conn.execute(
                sa.insert(alert_notifications_table).values(
                    alert_id=alert_id,
                    event="opened" if i == 0 else "cleared",
                    channel="log",
                    status="sent",
                    attempts=1,
                    interval_end=last_end,
                    attempted_at=last_end,
                )
            )
    return alert_id


@pytest.fixture
def history(engine, tmp_path):
    """Ten days of one model's monitoring history, another model's, a registry and alerts."""
    registry = ModelRegistry(engine, artifact_root=tmp_path)
    registry.ensure_schema()
    artifact = registry.artifacts.save({"model": MODEL}, "m.joblib")
    version = registry.register(
        MODEL,
        artifact_uri=artifact.uri,
        artifact_sha256=artifact.sha256,
        feature_schema={"age": "numeric"},
        reference_profile={},
    )
    registry.bootstrap_champion(MODEL, version.id)
    results = ResultStore(engine)
    results.ensure_schema()
    health = HealthStore(engine)
    health.ensure_schema()
    AlertStore(engine).ensure_schema()
    for model, dag in ((MODEL, DAG), ("other", "other_monitoring")):
        for k in range(DAYS):
            start, end = day(k)
            common = dict(
                dag_id=dag,
                interval_start=start,
                interval_end=end,
                model_name=model,
                model_version_id=version.id,
                run_id=f"r{k}",
            )
            results.save_drift_run(
                DriftRunRecord(
                    **common, verdict="healthy", dataset_drift=False, n_reference=1, n_current=1
                ),
                [FeatureDriftRecord(**common, feature=f, feature_type="numeric") for f in FEATURES],
            )
            results.save_check(
                MonitoringCheck(
                    dag_id=dag,
                    interval_start=start,
                    interval_end=end,
                    check_name="performance",
                    model_version_id=version.id,
                    model_name=model,
                    status="ok",
                    result={},
                )
            )
            results.decide(
                MonitoringDecision(
                    dag_id=dag,
                    interval_start=start,
                    interval_end=end,
                    decision="healthy",
                    reason="",
                    details={},
                    run_id=f"r{k}",
                    decided_at=end,
                    model_name=model,
                ),
                cooldown_hours=24,
            )
            health.save(
                HealthReport(
                    dag, model, start, end, (rules.registry_reachable(None),), run_id=f"r{k}"
                )
            )
    alerts = {
        "old_cleared": add_alert(engine, last_end=day(1)[1]),
        "old_open": add_alert(engine, status=OPEN, last_end=day(1)[1]),
        "new_cleared": add_alert(engine, last_end=day(8)[1]),
        "other_model": add_alert(engine, model="other", last_end=day(1)[1]),
    }
    return {"engine": engine, "version": version, "alerts": alerts}


def prune(engine, batch_size=4, cutoff=CUTOFF):
    return prune_rows(engine, model_name=MODEL, dag_ids=DAGS, cutoff=cutoff, batch_size=batch_size)


def test_old_rows_go_recent_stay_versions_and_events_untouched(history):
    engine = history["engine"]
    events_before = count(engine, model_events_table)
    result = prune(engine)
    assert result.deleted == {
        "mg_drift_features": 5 * len(FEATURES),
        "mg_drift_runs": 5,
        "mg_monitoring_checks": 5,
        "mg_health_records": 5,
        "mg_monitoring_decisions": 5,
        "mg_alerts": 1,
        "mg_alert_notifications": 2,
        "mg_performance_estimates": 0,  # no estimates stored here (tests/storage/test_estimates)
    }
    # batches of 4: features 15 rows = 4 batches, the other tables 5 rows = 2 each, alerts 1
    assert result.batches == 4 + 2 + 2 + 2 + 2 + 1
    health = HealthStore(engine).health_history(MODEL)
    assert [r.interval_end for r in health] == [day(k)[1] for k in range(5, DAYS)]
    kept = ResultStore(engine).decisions(MODEL)
    assert sorted(d.interval_end for d in kept) == [day(k)[1] for k in range(5, DAYS)]
    assert count(engine, model_versions_table) == 1
    assert count(engine, model_events_table) == events_before
    alerts = {a.alert_id for a in AlertStore(engine).list_alerts()}
    ids = history["alerts"]
    assert alerts == {ids["old_open"], ids["new_cleared"], ids["other_model"]}
    assert len(AlertStore(engine).notifications(ids["old_open"])) == 2
    # the other model's history is its own
    assert len(HealthStore(engine).health_history("other")) == DAYS
    assert len(ResultStore(engine).decisions("other")) == DAYS


def test_a_rerun_deletes_nothing_more(history):
    engine = history["engine"]
    assert prune(engine).total > 0
    again = prune(engine, batch_size=1)
    assert again.total == 0 and set(again.deleted.values()) == {0}


def test_one_big_batch_or_many_small_ones_delete_the_same(history):
    engine = history["engine"]
    small = prune(engine, batch_size=1, cutoff=CUTOFF - timedelta(days=2))
    assert small.deleted["mg_drift_features"] == 3 * len(FEATURES)
    assert small.batches > 3 * len(FEATURES)
    rest = prune(engine, batch_size=5000)
    assert rest.deleted["mg_drift_features"] == 2 * len(FEATURES)


def test_the_cooldowns_anchor_is_kept_whatever_its_age(history):
    engine = history["engine"]
    results = ResultStore(engine)
    start, end = day(2)
    t = monitoring_decisions_table
    with engine.begin() as conn:
        conn.execute(
            sa.update(t)
            .where(t.c.dag_id == DAG, t.c.interval_end == end)
            .values(decision="retrain", retrain_candidate=True, retraining_started_at=end)
        )
    result = prune(engine)
    assert result.deleted["mg_monitoring_decisions"] == 4
    assert result.kept == [f"{DAG} [{start.isoformat()}, {end.isoformat()})"]
    assert results.get_decision(DAG, start, end).decision == "retrain"
    assert prune(engine).total == 0


def test_decisions_stored_before_they_named_the_model_are_matched_by_dag(history):
    engine = history["engine"]
    t = monitoring_decisions_table
    with engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.dag_id == DAG).values(model_name=None))
    assert prune(engine).deleted["mg_monitoring_decisions"] == 5
    assert count(engine, t, dag_id=DAG) == 5


def test_only_an_analysed_interval_prunes(history, tmp_path):
    engine = history["engine"]
    assert analysed(engine, DAG, day(DAYS - 1)[1])
    assert not analysed(engine, DAG, datetime(2031, 1, 1))  # a window in the future
    assert not analysed(engine, "churn_monitoring_daily", day(3)[1])  # another DAG's interval
    empty = sa.create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert not analysed(empty, DAG, day(3)[1])  # no tables at all
    empty.dispose()


def test_a_store_without_the_tables_has_nothing_to_prune(sqlite_engine):
    result = prune(sqlite_engine)
    assert result.total == 0 and result.deleted["mg_alerts"] == 0
    assert sa.inspect(sqlite_engine).get_table_names() == []


# ------------------------------------------------------------------ report folders


def test_label_end_parses_window_labels_only():
    assert label_end("2026-07-01T00:00_2026-07-02T00:00") == datetime(2026, 7, 2)
    assert label_end("2026-07-01T00:00_2026-07-02T00:00.partial") == datetime(2026, 7, 2)
    assert label_end("2026-07-01T00:00_2026-07-02T00:00.parts") == datetime(2026, 7, 2)
    assert label_end("2026-07-01T00:00_2026-07-02T00:00.parts.partial") is None
    assert label_end("2026-07-01T00:00:30_2026-07-01T00:10:15.500000") == datetime(
        2026, 7, 1, 0, 10, 15, 500000
    )
    for name in ("plots", "2026-07-01", "a_b", "2026-07-02T00:00_2026-07-01T00:00", "x_y_z"):
        assert label_end(name) is None, name


def test_old_report_folders_go_and_nothing_outside_the_root(tmp_path):
    root = tmp_path / "reports"
    outside = tmp_path / "elsewhere"
    for k in range(DAYS):
        start, end = day(k)
        folder = root / DAG / f"{start:%Y-%m-%dT%H:%M}_{end:%Y-%m-%dT%H:%M}"
        (folder / "plots").mkdir(parents=True)
        (folder / "drift_report.json").write_text("{}")
    (root / DAG / "2026-07-01T00:00_2026-07-02T00:00.partial").mkdir()
    parts = root / DAG / "2026-07-01T00:00_2026-07-02T00:00.parts"  # drift partition files
    parts.mkdir()
    (parts / "part-0000-of-0008.npz").write_bytes(b"")
    recent_parts = (
        root / DAG / f"{day(DAYS - 1)[0]:%Y-%m-%dT%H:%M}_{day(DAYS - 1)[1]:%Y-%m-%dT%H:%M}.parts"
    )
    recent_parts.mkdir()
    (root / DAG / "notes").mkdir()
    (outside / "2026-07-01T00:00_2026-07-02T00:00").mkdir(parents=True)
    (root / DAG / "2026-06-01T00:00_2026-06-02T00:00").symlink_to(
        outside / "2026-07-01T00:00_2026-07-02T00:00"
    )
    (root / MODEL / "health-spool").mkdir(parents=True)  # not a DAG's folder: never looked at

    result = prune_folders(root, [DAG, "..", "churn_monitoring_daily", "a/b", ""], CUTOFF)
    kept = sorted(p.name for p in (root / DAG).iterdir())
    assert kept == [
        "2026-06-01T00:00_2026-06-02T00:00",
        *(f"{day(k)[0]:%Y-%m-%dT%H:%M}_{day(k)[1]:%Y-%m-%dT%H:%M}" for k in range(5, DAYS)),
        recent_parts.name,
        "notes",
    ]
    assert len(result.deleted) == 7  # five windows, the partial one and the partition files
    assert all(str(p).startswith(str(root.resolve())) for p in result.deleted)
    assert (outside / "2026-07-01T00:00_2026-07-02T00:00").is_dir()
    assert (root / MODEL / "health-spool").is_dir()
    refused = "\n".join(result.refused)
    assert "'..' is not a plain file or folder name" in refused
    assert "'a/b' is not a plain file or folder name" in refused and "'' is not" in refused
    assert "a symlink" in refused
    assert prune_folders(root, [DAG], CUTOFF).deleted == []


def test_a_dag_folder_that_is_a_symlink_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    (outside / "2026-07-01T00:00_2026-07-02T00:00").mkdir(parents=True)
    (root / DAG).symlink_to(outside)
    result = prune_folders(root, [DAG], CUTOFF)
    assert result.deleted == [] and "a symlink" in result.refused[0]
    assert (outside / "2026-07-01T00:00_2026-07-02T00:00").is_dir()


def test_an_old_interval_whose_run_has_not_decided_keeps_its_rows_and_report(history, tmp_path):
    """A backfill of old history beside a run of today: the backfill's interval keeps what its
    next task reads until its run decides; then the next prune takes it."""
    engine = history["engine"]
    d = monitoring_decisions_table
    working = day(2)
    with engine.begin() as conn:  # day 2's run has written its drift rows, not yet decided
        conn.execute(sa.delete(d).where(d.c.dag_id == DAG, d.c.interval_end == working[1]))
    root = tmp_path / "reports"
    for k in (1, 2):
        start, end = day(k)
        (root / DAG / f"{start:%Y-%m-%dT%H:%M}_{end:%Y-%m-%dT%H:%M}").mkdir(parents=True)

    decided = decided_ends(engine, DAGS, CUTOFF)
    result = prune(engine)
    folders = prune_folders(root, DAGS, CUTOFF, decided)
    assert result.deleted["mg_drift_runs"] == 4 and result.deleted["mg_health_records"] == 4
    assert result.deleted["mg_drift_features"] == 4 * len(FEATURES)
    store = ResultStore(engine)
    assert store.get_drift_run(DAG, *working) is not None
    assert len(store.drift_features(DAG, *working)) == len(FEATURES)
    assert [p.rsplit("/", 1)[-1] for p in folders.deleted] == [
        f"{day(1)[0]:%Y-%m-%dT%H:%M}_{day(1)[1]:%Y-%m-%dT%H:%M}"
    ]
    assert (root / DAG / f"{working[0]:%Y-%m-%dT%H:%M}_{working[1]:%Y-%m-%dT%H:%M}").is_dir()

    store.decide(  # the run decides; the next prune takes its interval
        MonitoringDecision(
            dag_id=DAG,
            interval_start=working[0],
            interval_end=working[1],
            decision="healthy",
            reason="",
            details={},
            run_id="r2",
            decided_at=working[1],
            model_name=MODEL,
        ),
        cooldown_hours=24,
    )
    decided = decided_ends(engine, DAGS, CUTOFF)
    assert prune(engine).deleted["mg_drift_runs"] == 1
    assert len(prune_folders(root, DAGS, CUTOFF, decided).deleted) == 1
    assert store.get_drift_run(DAG, *working) is None
