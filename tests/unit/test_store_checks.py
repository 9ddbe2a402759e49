"""Label-dependent checks and the retraining cool-down lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from modelguard.store import MonitoringCheck, ResultStore

START, END = datetime(2026, 9, 1), datetime(2026, 9, 2)


def check(status: str, version: int = 1, run_id: str = "r1") -> MonitoringCheck:
    return MonitoringCheck(
        dag_id="d",
        interval_start=START,
        interval_end=END,
        check_name="performance",
        model_version_id=version,
        model_name="m",
        status=status,
        result={"accuracy": 0.7, "status": status},
        run_id=run_id,
    )


def test_a_rerun_replaces_and_versions_coexist(engine):
    store = ResultStore(engine)
    store.ensure_schema()
    store.save_check(check("measured", run_id="first"))
    store.save_check(check("missing", run_id="second"))
    store.save_check(check("measured", version=2))
    rows = store.checks("d", START, END, "performance")
    assert [(r.model_version_id, r.status, r.run_id) for r in rows] == [
        (1, "missing", "second"),
        (2, "measured", "r1"),
    ]
    assert rows[0].result == {"accuracy": 0.7, "status": "missing"}
    assert store.checks("d", START, END, "concept_drift") == []


def test_last_decision_end_only_looks_back(engine):
    store = ResultStore(engine)
    store.ensure_schema()
    assert store.last_decision_end("d", "retrain", END) is None
    for day, decision in ((1, "retrain"), (3, "healthy"), (5, "retrain"), (9, "retrain")):
        end = datetime(2026, 9, day + 1)
        store.record_decision("d", datetime(2026, 9, day), end, decision, None, {}, None)
    assert store.last_decision_end("d", "retrain", datetime(2026, 9, 8)) == datetime(2026, 9, 6)
    assert store.last_decision_end("d", "retrain", datetime(2026, 9, 6)) == datetime(2026, 9, 2)
    assert store.last_decision_end("other", "retrain", datetime(2026, 9, 30)) is None
