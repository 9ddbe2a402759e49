"""The retraining cool-down in data time: pure resolution, the store's atomic decide and claim,
and concurrent processes deciding adjacent intervals at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import queue
import random
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from modelguard.retraining.cooldown import COOLDOWN, RETRAIN, Candidate, resolve_cooldown
from modelguard.storage.results import MonitoringDecision, ResultStore
from tests.conftest_db import child_engine, engine_spec

DAY = timedelta(days=1)
T0 = datetime(2026, 9, 1)
MODEL = "m"
DAG = "modelguard_monitoring_daily"


def cand(day: int, dag: str = DAG, started: bool = False) -> Candidate:
    return Candidate(dag, T0 + (day - 1) * DAY, T0 + day * DAY, started=started)


def decisions(verdicts, *days):
    return [verdicts[cand(d).key].decision for d in days]


# ------------------------------------------------------------------------------ pure resolution


def test_the_earliest_of_an_episode_retrains_whatever_the_order():
    days = [1, 2, 3, 4, 5, 6]
    expected = [RETRAIN, COOLDOWN, COOLDOWN, RETRAIN, COOLDOWN, COOLDOWN]
    for seed in range(5):
        shuffled = days[:]
        random.Random(seed).shuffle(shuffled)
        verdicts = resolve_cooldown([cand(d) for d in shuffled], 72)
        assert decisions(verdicts, *days) == expected
    blocked = verdicts[cand(2).key]
    assert blocked.blocked_by == cand(1) and blocked.until == cand(1).end + timedelta(hours=72)
    assert "no retraining until 2026-09-05T00:00:00" in blocked.reason(72, cand(2).end)


def test_a_gap_longer_than_the_cooldown_starts_a_new_episode_and_zero_disables_it():
    verdicts = resolve_cooldown([cand(1), cand(2), cand(9)], 72)
    assert decisions(verdicts, 1, 2, 9) == [RETRAIN, COOLDOWN, RETRAIN]
    assert decisions(resolve_cooldown([cand(1), cand(2)], 0), 1, 2) == [RETRAIN, RETRAIN]


def test_a_started_retraining_stays_and_earlier_ones_of_its_episode_defer_to_it():
    verdicts = resolve_cooldown([cand(1), cand(2, started=True), cand(3)], 72)
    assert decisions(verdicts, 1, 2, 3) == [COOLDOWN, RETRAIN, COOLDOWN]
    assert verdicts[cand(1).key].started_elsewhere
    assert "already started by" in verdicts[cand(1).key].reason(72, cand(1).end)


def test_ties_in_data_time_are_broken_by_start_then_dag_id():
    hourly = Candidate("modelguard_monitoring", T0, T0 + DAY)
    daily = Candidate("modelguard_monitoring_daily", T0, T0 + DAY)
    verdicts = resolve_cooldown([daily, hourly], 72)
    assert verdicts[hourly.key].decision == RETRAIN
    assert verdicts[daily.key].decision == COOLDOWN


def test_the_last_retraining_before_the_tail_counts():
    verdicts = resolve_cooldown([cand(3)], 72, last_retraining=cand(1))
    assert verdicts[cand(3).key].decision == COOLDOWN


# ------------------------------------------------------------------------------ the store


def proposal(day: int, *, candidate: bool = True, dag: str = DAG, run_id: str = "r"):
    c = cand(day, dag)
    reasons = ["drift: major drift", "retrain: triggered by drift"]
    return MonitoringDecision(
        dag_id=dag,
        interval_start=c.start,
        interval_end=c.end,
        decision=RETRAIN if candidate else "healthy",
        reason="; ".join(reasons),
        details={"decision": {"reasons": reasons, "triggers": ["drift"] if candidate else []}},
        run_id=run_id,
        decided_at=c.end,
        model_name=MODEL,
        model_version_id=1,
        retrain_candidate=candidate,
    )


def stored(store: ResultStore, *days: int, dag: str = DAG) -> list[str]:
    return [store.get_decision(dag, cand(d).start, cand(d).end).decision for d in days]


@pytest.fixture
def store(engine) -> ResultStore:
    store = ResultStore(engine)
    store.ensure_schema()
    return store


def test_out_of_order_decisions_are_settled_in_data_time(store):
    for day in (3, 2, 1):
        store.decide(proposal(day), cooldown_hours=72)
    assert stored(store, 1, 2, 3) == [RETRAIN, COOLDOWN, COOLDOWN]
    row = store.get_decision(DAG, cand(3).start, cand(3).end)
    assert "cool-down: retraining decided for" in row.reason
    assert row.reason.endswith("no retraining: triggered by drift but blocked by cooldown")
    assert row.details["cooldown"]["blocked_by"] == cand(1).label
    assert "cooldown" in row.details["decision"]["blocked_by"]
    # Reprocessed with no trigger (e.g. other thresholds), day 1 frees day 2.
    store.decide(proposal(1, candidate=False), cooldown_hours=72)
    assert stored(store, 1, 2, 3) == ["healthy", RETRAIN, COOLDOWN]
    row = store.get_decision(DAG, cand(2).start, cand(2).end)
    assert row.reason.endswith("retrain: triggered by drift") and "cool-down" not in row.reason


def test_episodes_span_the_models_dags_and_not_other_models(store):
    store.decide(proposal(1, dag="modelguard_monitoring"), cooldown_hours=72)
    store.decide(proposal(2), cooldown_hours=72)
    other = MonitoringDecision(**{**proposal(2).__dict__, "model_name": "other", "dag_id": "x"})
    store.decide(other, cooldown_hours=72)
    assert stored(store, 2) == [COOLDOWN]
    assert store.get_decision("x", cand(2).start, cand(2).end).decision == RETRAIN


def test_a_claim_is_granted_once_per_episode_and_survives_a_reprocess(store):
    for day in (1, 2):
        store.decide(proposal(day), cooldown_hours=72)
    c1, c2 = cand(1), cand(2)
    first = store.claim_retraining(
        MODEL, DAG, c1.start, c1.end, trigger_run_id="retrain_1", cooldown_hours=72
    )
    assert first.granted and first.decision.retraining_run_id == "retrain_1"
    retry = store.claim_retraining(
        MODEL, DAG, c1.start, c1.end, trigger_run_id="retrain_1", cooldown_hours=72
    )
    assert retry.granted and "retry" in retry.reason
    refused = store.claim_retraining(
        MODEL, DAG, c2.start, c2.end, trigger_run_id="retrain_2", cooldown_hours=72
    )
    assert not refused.granted and "cooldown" in refused.reason
    store.decide(proposal(1, run_id="reprocess"), cooldown_hours=72)
    again = store.get_decision(DAG, c1.start, c1.end)
    assert again.run_id == "reprocess" and again.retraining_run_id == "retrain_1"


def test_a_store_of_the_first_release_gains_the_new_columns_and_keeps_its_rows(engine):
    from modelguard.storage.db import JSONText, UTCDateTime

    old_table = sa.Table(
        "mg_monitoring_decisions",
        sa.MetaData(),
        sa.Column("dag_id", sa.String(250), primary_key=True),
        sa.Column("interval_start", UTCDateTime, primary_key=True),
        sa.Column("interval_end", UTCDateTime, primary_key=True),
        sa.Column("decision", sa.String(50), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("details", JSONText, nullable=False),
        sa.Column("run_id", sa.String(250)),
        sa.Column("decided_at", UTCDateTime, nullable=False),
    )
    old_table.create(engine)
    start, end = datetime(2026, 8, 1), datetime(2026, 8, 2)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(old_table).values(
                dag_id="d",
                interval_start=start,
                interval_end=end,
                decision="healthy",
                reason="old",
                details={},
                run_id="r0",
                decided_at=end,
            )
        )
    store = ResultStore(engine)
    store.ensure_schema()
    old = store.get_decision("d", start, end)
    assert old.decision == "healthy" and old.reason == "old" and old.model_name is None
    store.decide(proposal(1), cooldown_hours=72)
    assert stored(store, 1) == [RETRAIN]


# ------------------------------------------------------------------------------ processes


def _decide_worker(url, schema, days, barrier, results) -> None:
    engine = child_engine(url, schema)
    store = ResultStore(engine)
    try:
        with engine.connect():
            pass
        barrier.wait(timeout=60)
        for day in days:
            decided = store.decide(proposal(day), cooldown_hours=72)
            results.put(("decided", day, decided.decision))
        barrier.wait(timeout=60)  # every interval decided: now the triggers race
        for day in days:
            c = cand(day)
            claim = store.claim_retraining(
                MODEL, DAG, c.start, c.end, trigger_run_id=f"retrain_{day}", cooldown_hours=72
            )
            results.put(("claim", day, claim.granted))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", None, f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def test_adjacent_intervals_decided_by_concurrent_processes(engine, store):
    url, schema = engine_spec(engine)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    # Four processes, two intervals each, later ones first: the order must not matter.
    plan = [[6, 1], [5, 2], [4, 3], [2, 6]]
    barrier = context.Barrier(len(plan))
    processes = [
        context.Process(target=_decide_worker, args=(url, schema, days, barrier, results))
        for days in plan
    ]
    for p in processes:
        p.start()
    outcomes = []
    try:
        for _ in range(sum(2 * len(days) for days in plan)):
            outcomes.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"a worker did not report back; got {outcomes}")
    finally:
        for p in processes:
            p.join(timeout=30)
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    assert stored(store, 1, 2, 3, 4, 5, 6) == [RETRAIN, COOLDOWN, COOLDOWN] * 2
    granted = sorted(day for kind, day, ok in outcomes if kind == "claim" and ok)
    assert granted == [1, 4]  # one retraining per episode, started by its earliest interval
