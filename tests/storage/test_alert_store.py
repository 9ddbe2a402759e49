"""The alert store's writes on SQLite and PostgreSQL: episodes replayed from observations,
notification rows per channel and event, reruns that duplicate nothing, concurrent runs that
leave one open episode, and the spool kept while the store is down."""

from __future__ import annotations

import multiprocessing
import queue
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.alerts.conditions import AlertCondition, Assessment
from modelguard.alerts.episodes import Observation
from modelguard.storage.alert_spool import read_spool, write_spool
from modelguard.storage.alerts import NOT_DELIVERED, AlertStore, alerts_table
from tests.conftest_db import child_engine, engine_spec

MODEL = "m"
DAG = "m_monitoring"
T0 = datetime(2026, 7, 1)
CHANNELS = {"log": "warning", "pager": "critical"}


def at(hour: int) -> datetime:
    return T0 + timedelta(hours=hour)


def obs(hour: int, severity: str | None = "warning", dag_id: str = DAG) -> Observation:
    conditions = (
        (AlertCondition("drift", "dataset", severity, f"drift at {hour}", {"h": hour}),)
        if severity
        else ()
    )
    return Observation(
        dag_id=dag_id,
        source="raise_alerts",
        interval_start=at(hour - 1),
        interval_end=at(hour),
        assessment=Assessment(conditions, (("drift", "dataset"),)),
        run_id=f"run_{hour}",
        run_url=f"/dags/{dag_id}/runs/run_{hour}",
        report_uri=f"file:///reports/{hour}",
        model_version_id=1,
    )


@pytest.fixture
def store(engine) -> AlertStore:
    s = AlertStore(engine)
    s.ensure_schema()
    s.ensure_schema()  # idempotent
    return s


def record(store: AlertStore, o: Observation, **kwargs):
    kwargs.setdefault("renotify_hours", 6)
    kwargs.setdefault("channels", CHANNELS)
    return store.record_observation(MODEL, o, **kwargs)


def deliver(store: AlertStore, recorded, status="sent", error=None):
    store.finish_notifications([(d.notification_id, status, 1, error) for d in recorded.deliveries])


def test_an_episode_its_reminder_and_its_clear(store):
    first = record(store, obs(1))
    ((alert, events),) = first.changed
    assert events == ("opened",) and alert.status == "open" and alert.alert_id
    assert [(d.event, d.channel) for d in first.deliveries] == [("opened", "log")]  # warning
    (row,) = store.notifications(alert.alert_id)
    assert (row.status, row.error, row.attempts) == ("failed", NOT_DELIVERED, 0)
    deliver(store, first)
    for hour in range(2, 10):
        deliver(store, record(store, obs(hour, "critical" if hour == 3 else "warning")))
    deliver(store, record(store, obs(10, None)))
    (stored,) = store.list_alerts(MODEL)
    assert (stored.status, stored.severity) == ("cleared", "critical")
    assert (stored.first_interval_end, stored.last_interval_end) == (at(1), at(9))
    assert stored.cleared_interval_end == at(10)
    assert stored.run_id == "run_9" and stored.report_uri == "file:///reports/9"
    sent = [(n.event, n.channel, n.interval_end) for n in store.notifications(stored.alert_id)]
    assert sent == [
        ("opened", "log", at(1)),
        ("escalated", "log", at(3)),
        ("escalated", "pager", at(3)),
        ("reminder", "log", at(9)),  # renotify_hours (6) after the escalation
        ("reminder", "pager", at(9)),
        ("cleared", "log", at(10)),
        ("cleared", "pager", at(10)),
    ]
    assert {n.status for n in store.notifications()} == {"sent"}
    assert [o.interval_end for o in store.observations(MODEL)] == [at(h) for h in range(1, 11)]


def test_a_rerun_duplicates_nothing_and_retries_only_what_failed(store):
    first = record(store, obs(1, "critical"))
    (log, pager) = first.deliveries
    store.finish_notifications(
        [(log.notification_id, "sent", 1, None), (pager.notification_id, "failed", 3, "down")]
    )
    again = record(store, obs(1, "critical"))
    assert again.changed == []
    assert [(d.channel, d.event) for d in again.deliveries] == [("pager", "opened")]
    deliver(store, again)
    assert record(store, obs(1, "critical")).deliveries == []
    assert len(store.list_alerts(MODEL)) == 1
    rows = store.notifications()
    assert [(n.channel, n.status, n.attempts) for n in rows] == [
        ("log", "sent", 1),
        ("pager", "sent", 4),
    ]


def test_preset_outcomes_are_stored_and_not_delivered(store):
    reason = "backfill: alerts.notify_backfills is false"
    recorded = record(
        store, obs(1), preset={c: ("suppressed", reason) for c in CHANNELS}, backfill=True
    )
    assert recorded.deliveries == []
    (n,) = store.notifications()
    assert (n.status, n.error) == ("suppressed", reason)


def test_a_backfill_of_an_older_interval_extends_the_episode_silently(store):
    for hour in (5, 6):
        deliver(store, record(store, obs(hour)))
    older = record(store, obs(4))
    assert [events for _, events in older.changed] == [()]
    (alert,) = store.list_alerts(MODEL)
    assert alert.first_interval_end == at(4) and alert.first_interval_start == at(3)
    assert len(store.notifications()) == 1


def test_the_database_refuses_a_second_open_episode(store):
    record(store, obs(1))
    (alert,) = store.list_alerts(MODEL)
    values = {k: v for k, v in alert.to_dict().items() if k != "alert_id"}
    values.update(
        first_interval_start=at(0),
        first_interval_end=at(1),
        last_interval_end=at(1),
        created_at=at(1),
        last_notified_interval_end=None,
        cleared_interval_end=None,
    )
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.insert(alerts_table).values(**values))


def _worker(url, schema, hours, barrier, results) -> None:
    engine = child_engine(url, schema)
    store = AlertStore(engine)
    try:
        barrier.wait(timeout=60)
        for hour in hours:
            recorded = record(store, obs(hour, dag_id=DAG if hour % 2 else f"{DAG}_daily"))
            results.put(("ok", hour, len(recorded.deliveries)))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", None, f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def test_concurrent_runs_leave_one_open_episode(engine, store):
    url, schema = engine_spec(engine)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    plan = [[6, 1], [5, 2], [4, 3]]
    barrier = context.Barrier(len(plan))
    processes = [
        context.Process(target=_worker, args=(url, schema, hours, barrier, results))
        for hours in plan
    ]
    for p in processes:
        p.start()
    outcomes = []
    try:
        for _ in range(sum(len(h) for h in plan)):
            outcomes.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"a worker did not report back; got {outcomes}")
    finally:
        for p in processes:
            p.join(timeout=30)
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    (alert,) = store.list_alerts(MODEL)
    assert (alert.status, alert.first_interval_end, alert.last_interval_end) == (
        "open",
        at(1),
        at(6),
    )
    # exactly one "opened" row, whichever interval ran first
    assert [n.event for n in store.notifications()].count("opened") == 1


def test_the_spool_round_trips_in_data_time(tmp_path):
    outcomes = {"log": ("sent", None), "pager": ("failed", "connection refused")}
    for hour in (3, 1, 2):
        write_spool(tmp_path, MODEL, obs(hour), outcomes, backfill=False, reason="store down")
    write_spool(tmp_path, MODEL, obs(2), outcomes, backfill=True, reason="rerun")  # replaces
    spooled = read_spool(tmp_path, MODEL)
    assert [s.observation.interval_end for s in spooled] == [at(1), at(2), at(3)]
    assert spooled[0].observation == obs(1)
    assert spooled[0].outcomes == outcomes and spooled[1].backfill is True
    assert read_spool(tmp_path, "other") == []
