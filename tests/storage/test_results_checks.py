"""Label-dependent checks of an interval, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from modelguard.storage.results import MonitoringCheck, ResultStore

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
