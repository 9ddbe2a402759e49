"""Health records, the spool and the source's health facts, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.core.window import Window
from modelguard.health import checks as rules
from modelguard.health.checks import HealthReport
from modelguard.storage.health import HealthSpool, HealthStore, decision_ends
from modelguard.storage.results import ResultStore
from modelguard.storage.source import column_kinds, engine_for_url, interval_counts, newest_time

DAG = "churn_monitoring"
END = datetime(2026, 7, 5)
HOUR = timedelta(hours=1)


def report(end=END, *, ok=True, run_id="r1", created_at=None, dag_id=DAG, model="churn"):
    checks = (
        rules.source_reachable(None if ok else "ConnectionFailedError: down", table="t"),
        rules.registry_reachable(None),
        rules.recent_runs([], [], None, dag_id=dag_id),
    )
    return HealthReport(
        dag_id,
        model,
        end - HOUR,
        end,
        checks,
        model_version_id=7,
        run_id=run_id,
        created_at=created_at,
    )


@pytest.fixture
def store(engine) -> HealthStore:
    s = HealthStore(engine)
    s.ensure_schema()
    return s


def test_one_record_per_interval_replaced_on_rerun(store):
    first = store.save(report(ok=True, run_id="r1"))
    assert first.created_at is not None
    store.save(report(ok=False, run_id="r2"))
    got = store.get(DAG, END - HOUR, END)
    assert got.run_id == "r2" and got.status == "unhealthy" and got.model_version_id == 7
    assert [c.name for c in got.checks] == [c.name for c in report().checks]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM mg_health_records")).scalar() == 1
    assert store.get(DAG, END, END + HOUR) is None


def test_health_history_by_model_and_period(store):
    for k in range(5):
        store.save(report(END + k * HOUR))
    store.save(report(END, dag_id="churn_monitoring_daily"))
    store.save(report(END, model="other", dag_id="other_monitoring"))
    history = store.health_history("churn", since=END, until=END + 3 * HOUR)
    # intervals overlapping [since, until): ending after since and starting before until
    assert [(r.dag_id, r.interval_end) for r in history] == [
        (DAG, END + HOUR),
        (DAG, END + 2 * HOUR),
        (DAG, END + 3 * HOUR),
    ]
    assert len(store.health_history("churn")) == 6
    assert len(store.health_history("churn", dag_id="churn_monitoring_daily")) == 1


def test_spool_round_trip_and_import(store, tmp_path):
    spool = HealthSpool(tmp_path / "reports", "churn")
    written = spool.write(report(ok=False, run_id="offline", created_at=datetime(2026, 7, 5, 1)))
    assert written.written and written.path.endswith(
        "reports/churn/health-spool/churn_monitoring__2026-07-04T23:00_2026-07-05T00:00.json"
    )
    # a newer record of another interval, and an older spool file than the stored record
    store.save(report(END + HOUR, run_id="online", created_at=datetime(2026, 7, 6)))
    spool.write(report(END + HOUR, run_id="stale", created_at=datetime(2026, 7, 5, 2)))
    (spool.folder / "notes.json").write_text("{not json")
    imported = store.import_spool(spool)
    assert len(imported) == 2
    assert store.get(DAG, END - HOUR, END).run_id == "offline"
    assert store.get(DAG, END, END + HOUR).run_id == "online"  # the newer stored record wins
    assert [p.name for p in spool.folder.iterdir()] == ["notes.json"]  # left alone
    assert store.import_spool(spool) == []


def test_spool_into_a_report_root_that_is_a_file(tmp_path):
    root = tmp_path / "reports"
    root.write_text("not a folder")
    written = HealthSpool(root, "churn").write(report())
    assert not written.written and written.error.startswith(("NotADirectoryError", "FileExists"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_spool_into_a_read_only_folder(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    root.chmod(0o500)
    try:
        written = HealthSpool(root, "churn").write(report())
    finally:
        root.chmod(0o700)
    assert not written.written and "PermissionError" in written.error


def test_decision_ends_match_on_the_interval_end(engine):
    assert decision_ends(engine, DAG, [END]) == (set(), None)  # no decisions table yet
    results = ResultStore(engine)
    results.ensure_schema()
    assert decision_ends(engine, DAG, [END]) == (set(), None)
    for k in (1, 3, 4):
        end = END - k * HOUR
        # decisions are stored under the analysis window (24 h), not the data interval
        results.record_decision(DAG, end - timedelta(hours=24), end, "healthy", "", {}, "r")
    results.record_decision("other", END - 9 * HOUR, END - 8 * HOUR, "healthy", "", {}, "r")
    ends = [END - k * HOUR for k in (1, 2, 3)]
    found, first = decision_ends(engine, DAG, ends)
    assert found == {END - HOUR, END - 3 * HOUR} and first == END - 4 * HOUR


# ------------------------------------------------------------------ the source's facts


@pytest.fixture
def source(engine):
    md = sa.MetaData()
    table = sa.Table(
        "events",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("visits", sa.Integer),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("plan", sa.String(20)),
        sa.Column("flag", sa.Boolean),
    )
    md.create_all(engine)
    rows = []
    for day in range(4):
        for minute in range(0, 60, 60 // (day + 1)):  # 1, 2, 3, 4 rows in the 00:00 hour
            rows.append({"at": datetime(2026, 7, 1 + day, 0, minute), "amount": 1.0})
    rows.append({"at": datetime(2026, 7, 4, 5, 30), "amount": 2.0})
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
    return engine


def test_column_kinds(source):
    assert column_kinds(source, "events") == {
        "id": "integer",
        "at": "datetime",
        "amount": "float",
        "visits": "integer",
        "price": "decimal",
        "plan": "text",
        "flag": "boolean",
    }


def test_interval_counts_in_one_query(source):
    windows = [Window(datetime(2026, 7, d), datetime(2026, 7, d, 1)) for d in (4, 3, 2, 1, 5)]
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(source, "before_cursor_execute", seen)
    try:
        assert interval_counts(source, "events", "at", windows) == [4, 3, 2, 1, 0]
    finally:
        sa.event.remove(source, "before_cursor_execute", seen)
    assert sum("count(" in s.lower() for s in statements) == 1
    assert interval_counts(source, "events", "at", []) == []


def test_newest_time_before_the_interval_end(source):
    assert newest_time(source, "events", "at", before=datetime(2026, 7, 5)) == datetime(
        2026, 7, 4, 5, 30
    )
    # data time: what the source held before an earlier end
    assert newest_time(source, "events", "at", before=datetime(2026, 7, 4, 5, 30)) == datetime(
        2026, 7, 4, 0, 45
    )
    assert (
        newest_time(
            source, "events", "at", before=datetime(2026, 7, 5), since=datetime(2026, 7, 4, 6)
        )
        is None
    )


def test_newest_time_reads_sqlite_text_in_any_form(tmp_path):
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (at TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?)",
            [("2026-07-04 23:00:00",), ("2026-07-04T23:30:00+02:00",), ("2026-07-04T22:00:00Z",)],
        )
    engine = engine_for_url(f"sqlite:///{path}")
    # 23:30+02:00 is 21:30 UTC: the newest is 23:00
    assert newest_time(engine, "t", "at", before=datetime(2026, 7, 5)) == datetime(2026, 7, 4, 23)
