"""modelguard under the real Airflow 3 stack, driven through the REST API as the UI does.

One stack (scheduler, dag-processor, triggerer, api-server on PostgreSQL; LocalExecutor) and one
data world (``tests/stack/world.py``) on a private PostgreSQL server, so the stores' server can
be restarted mid-run. The tests run in file order and build on each other's registry state:

1. trigger forms refuse bad params before a run exists; an unknown conf key fails the first task;
2. a 30-day daily backfill with the scheduler killed twice: all runs succeed, one row per
   (interval, feature), the episode starts on 07-15, no retraining;
3. a degraded period: the run succeeds, the decision names the performance trigger; the
   retraining it queues while email_engagement_retraining is paused is recorded, then finishes with
   the challenger deployed;
4. the backfill reprocessed with retrain_on_backfill: identical values, one retraining;
5. the sensors wait in reschedule mode, then (restarted with default_deferrable) in the triggerer;
   a window that never gets data fails after data_wait_minutes;
6. the stores' PostgreSQL restarted: the task fails with a clear message, its retry succeeds;
7. the task process killed in the middle of a promotion: one champion, a log that replays to it.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
import sqlalchemy as sa

from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.stack.pg_instance import PostgresInstance
from tests.stack.world import (
    BACKFILL,
    CONCEPT_START,
    DEGRADED_RUN,
    EPISODE,
    build_stack_world,
    seed_days,
)

pytestmark = pytest.mark.stack

MONITORING = "email_engagement_monitoring"
DAILY = "email_engagement_monitoring_daily"
RETRAINING = "email_engagement_retraining"
DEPLOYMENT = "email_engagement_deployment"
ROLLBACK = "email_engagement_rollback"
MODEL = "email_engagement"
FEATURES = 13


def label(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%dT%H:%M}_{end:%Y-%m-%dT%H:%M}"


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def stores(pg_admin_dsn) -> Any:
    """The private PostgreSQL server of the source table, the registry and the results."""
    # Not under pytest's tmp folder: as root the server runs as postgres, which cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="modelguard-stores-pg-"))
    root.chmod(0o755)
    server = PostgresInstance(root / "pg")
    server.init()
    server.start()
    server.source_url = server.create_database("mg_source")
    server.registry_url = server.create_database("mg_registry")
    yield server
    try:
        server.stop("immediate")
    except RuntimeError:
        pass
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def world(stores, tmp_path_factory):
    return build_stack_world(
        tmp_path_factory.mktemp("world"), stores.source_url, stores.registry_url
    )


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world.source_url,
        registry_url=world.registry_url,
        config_path=world.config_path,
        home=tmp_path_factory.mktemp("stack-home"),
        extra_env={"AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "10"},
    ) as started:
        started.unpause()  # the documented setup: what monitoring and people trigger
        started.unpause((MONITORING, DAILY))
        yield started


@pytest.fixture(scope="module")
def api(stack) -> StackClient:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([MONITORING, DAILY, RETRAINING, DEPLOYMENT, ROLLBACK])
        yield client


@pytest.fixture(scope="module")
def registry_engine(world):
    engine = sa.create_engine(world.registry_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def passes() -> dict[str, Any]:
    """What one test leaves for a later one (the first backfill's values)."""
    return {}


# ------------------------------------------------------------------------------------- helpers


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def task_states(api: StackClient, dag_id: str, run_id: str) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in api.task_instances(dag_id, run_id)}


def task_log(api: StackClient, dag_id: str, run_id: str, task_id: str, attempt: int = 1) -> str:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{attempt}"
    response = api.request("GET", path, params={"full_content": True})
    expect(response, 200)
    return response.text


def trigger(api: StackClient, dag_id: str, conf: dict | None = None, **kwargs) -> str:
    return expect(api.trigger(dag_id, conf, **kwargs), 200)["dag_run_id"]


def trigger_day(api: StackClient, day: datetime) -> str:
    """A manual monitoring run (no logical date) of the day's window, given as params."""
    conf = {"window_start": z(day), "window_end": z(day + timedelta(days=1))}
    return trigger(api, MONITORING, conf, logical_date=None)


def wait_then_seed(api: StackClient, world, day: datetime, waiting_state: str) -> str:
    """Run a day that has no data yet: the data sensor must wait in ``waiting_state``; then the
    day's sends arrive and the run must succeed."""
    run_id = trigger_day(api, day)
    assert wait_for_task_state(api, MONITORING, run_id, "wait_for_data", {waiting_state})
    seed_days(world.source_url, day, day + timedelta(days=1))
    assert api.wait_for_run(MONITORING, run_id, timeout=300) == "success", task_states(
        api, MONITORING, run_id
    )
    return run_id


def wait_for_task_state(
    api: StackClient, dag_id: str, run_id: str, task_id: str, states: set[str], timeout=180.0
) -> str:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = task_states(api, dag_id, run_id).get(task_id)
        if seen in states:
            return seen
        time.sleep(0.5)
    raise TimeoutError(f"{dag_id}/{run_id}/{task_id} never reached {states} (last {seen})")


def stored_values(engine, dag_id: str) -> dict[str, list]:
    """The results of ``dag_id``, without computed-at times, run ids and trigger claims."""

    def strip(table: str, order: str, drop: set[str]) -> list[dict]:
        out = []
        for row in rows(
            engine, f"SELECT * FROM {table} WHERE dag_id = :d ORDER BY {order}", d=dag_id
        ):
            out.append({k: v for k, v in row.items() if k not in drop})
        return out

    decisions = strip(
        "mg_monitoring_decisions",
        "interval_end",
        {"decided_at", "run_id", "retraining_started_at", "retraining_run_id"},
    )
    for d in decisions:
        details = json.loads(d["details"])
        details.pop("trigger", None)
        d["details"] = details
    return {
        "runs": strip("mg_drift_runs", "interval_end", {"created_at", "run_id"}),
        "features": strip("mg_drift_features", "interval_end, feature", {"created_at", "run_id"}),
        "checks": strip(
            "mg_monitoring_checks", "interval_end, check_name", {"created_at", "run_id"}
        ),
        "decisions": decisions,
    }


def replayed_champion(engine) -> int:
    """The champion the event log says there is: the last promotion or restoration."""
    champion = None
    for e in rows(
        engine,
        "SELECT event, version_id, details FROM mg_model_events WHERE model_name = :m "
        "AND event IN ('promoted', 'rolled_back') ORDER BY id",
        m=MODEL,
    ):
        champion = (
            e["version_id"]
            if e["event"] == "promoted"
            else json.loads(e["details"])["restored_version_id"]
        )
    return champion


def the_one_champion(engine) -> int:
    pointers = rows(engine, "SELECT version_id FROM mg_champions WHERE model_name = :m", m=MODEL)
    statuses = rows(
        engine,
        "SELECT id FROM mg_model_versions WHERE model_name = :m AND status = 'champion'",
        m=MODEL,
    )
    assert len(pointers) == 1 and [s["id"] for s in statuses] == [pointers[0]["version_id"]]
    assert replayed_champion(engine) == pointers[0]["version_id"]
    return pointers[0]["version_id"]


def retraining_runs(api: StackClient) -> list[dict]:
    """The retraining runs monitoring started (not the ones triggered by hand)."""
    return [r for r in api.dag_runs(RETRAINING) if r["dag_run_id"].startswith("retrain__")]


# ------------------------------------------------------------------------------------- 1. forms


@pytest.mark.parametrize(
    ("dag_id", "conf", "named"),
    [
        (RETRAINING, {"strategy": "yolo"}, "strategy"),
        (RETRAINING, {"window_months": -1}, "window_months"),
        (RETRAINING, {"as_of": "soon"}, "as_of"),
        (
            MONITORING,
            {"window_start": "yesterday", "window_end": "2026-07-02T00:00:00Z"},
            "window_start",
        ),
        (MONITORING, {"judge_with": "whoever"}, "judge_with"),
    ],
)
def test_bad_params_get_400_and_no_run(api, dag_id, conf, named):
    before = len(api.dag_runs(dag_id))
    response = api.trigger(dag_id, conf)
    assert response.status_code == 400, response.text
    assert named in response.text
    assert len(api.dag_runs(dag_id)) == before


def test_a_valid_retraining_form_runs_with_its_conf(api, registry_engine):
    conf = {
        "strategy": "full_batch",
        "deploy": "never",
        "reason": "stack test: register only",
        "as_of": "2026-07-10T00:00:00Z",
    }
    run_id = trigger(api, RETRAINING, conf)
    assert {k: api.dag_run(RETRAINING, run_id)["conf"][k] for k in conf} == conf
    assert api.wait_for_run(RETRAINING, run_id, timeout=300) == "success"
    states = task_states(api, RETRAINING, run_id)
    assert states["not_deployed"] == "success" and states["evaluate_challenger"] == "skipped"
    (newest,) = rows(
        registry_engine,
        "SELECT status, strategy FROM mg_model_versions ORDER BY id DESC LIMIT 1",
    )
    assert newest == {"status": "challenger", "strategy": "full_batch"}


def test_an_unknown_conf_key_fails_the_first_task_naming_it(api, registry_engine):
    versions = len(rows(registry_engine, "SELECT id FROM mg_model_versions"))
    run_id = trigger(api, RETRAINING, {"strateg": "full_batch", "deploy": "never"})
    assert api.wait_for_run(RETRAINING, run_id, timeout=240) == "failed"
    states = task_states(api, RETRAINING, run_id)
    assert states["build_training_set"] == "failed", states
    log = task_log(api, RETRAINING, run_id, "build_training_set")
    assert "'strateg'" in log and "strategy" in log and "UnknownParamError" in log
    assert len(rows(registry_engine, "SELECT id FROM mg_model_versions")) == versions


def test_forms_are_titled_for_people(api):
    for dag_id in (MONITORING, RETRAINING, DEPLOYMENT, ROLLBACK):
        params = expect(api.get(f"/api/v2/dags/{dag_id}/details"), 200)["params"]
        for name, param in params.items():
            title = param["schema"].get("title") or ""
            assert title and "." not in title and "_" not in title, (dag_id, name, title)
    params = expect(api.get(f"/api/v2/dags/{RETRAINING}/details"), 200)["params"]
    for name in ("drift_report_uri", "triggered_by"):
        assert "monitoring" in params[name]["schema"]["section"], params[name]


# ------------------------------------------------------------------------------------- 2. backfill


def test_daily_backfill_survives_scheduler_kills_and_starts_no_retraining(
    api, stack, registry_engine, passes
):
    started = time.monotonic()
    backfill = expect(api.create_backfill(DAILY, BACKFILL[0], BACKFILL[1], max_active_runs=4), 200)
    kills = [(6, signal.SIGTERM, False), (14, signal.SIGKILL, True)]
    deadline = time.monotonic() + 1800
    while kills and time.monotonic() < deadline:
        done = [r for r in api.backfill_runs(backfill) if r["state"] == "success"]
        if len(done) >= kills[0][0]:
            _, sig, children = kills.pop(0)
            stack.kill("scheduler", sig, children=children, wait=120)
            stack.start("scheduler")
            stack.wait_healthy(120)
        time.sleep(3)
    backfill, runs = api.wait_for_backfill(backfill["id"], timeout=1800)
    passes["backfill_seconds"] = time.monotonic() - started
    assert len(runs) == 30
    assert {r["state"] for r in runs} == {"success"}, [
        (r["dag_run_id"], r["state"]) for r in runs if r["state"] != "success"
    ]
    assert {r["run_type"] for r in runs} == {"backfill"}

    duplicated = rows(
        registry_engine,
        "SELECT interval_start, feature, COUNT(*) AS n FROM mg_drift_features WHERE dag_id = :d "
        "GROUP BY interval_start, interval_end, feature HAVING COUNT(*) > 1",
        d=DAILY,
    )
    assert duplicated == []
    features = rows(registry_engine, "SELECT * FROM mg_drift_features WHERE dag_id = :d", d=DAILY)
    assert len(features) == 30 * FEATURES
    drifted = rows(
        registry_engine,
        "SELECT interval_start FROM mg_drift_runs WHERE dag_id = :d AND verdict = 'major' "
        "ORDER BY interval_start",
        d=DAILY,
    )
    assert [r["interval_start"] for r in drifted] == [EPISODE[0], EPISODE[0] + timedelta(days=1)]
    decisions = {
        r["interval_start"]: r["decision"]
        for r in rows(
            registry_engine,
            "SELECT interval_start, decision FROM mg_monitoring_decisions WHERE dag_id = :d",
            d=DAILY,
        )
    }
    assert len(decisions) == 30
    assert [d for d, v in sorted(decisions.items()) if v == "retrain"] == [EPISODE[0]]
    assert decisions[EPISODE[0] + timedelta(days=1)] == "cooldown"
    assert retraining_runs(api) == []
    for run in runs:
        if run["logical_date"].startswith(EPISODE[0].strftime("%Y-%m-%d")):
            assert task_states(api, DAILY, run["dag_run_id"])["trigger_retraining"] == "skipped"
    passes["first"] = stored_values(registry_engine, DAILY)


# ------------------------------------------------------------------------------------- 3. degraded


def test_degraded_performance_retrains_and_a_paused_retraining_is_recorded(
    api, registry_engine, world
):
    api.patch(f"/api/v2/dags/{RETRAINING}", json={"is_paused": True})
    before = the_one_champion(registry_engine)
    run_id = trigger(api, MONITORING, logical_date=DEGRADED_RUN)
    assert api.wait_for_run(MONITORING, run_id, timeout=600) == "success", task_states(
        api, MONITORING, run_id
    )
    states = task_states(api, MONITORING, run_id)
    assert states["trigger_retraining"] == "success" and states["alert"] == "skipped", states

    start = DEGRADED_RUN - timedelta(days=1)
    (decision,) = rows(
        registry_engine,
        "SELECT * FROM mg_monitoring_decisions WHERE dag_id = :d AND interval_end = :e",
        d=MONITORING,
        e=DEGRADED_RUN,
    )
    assert decision["decision"] == "retrain", decision["reason"]
    assert "performance: degraded" in decision["reason"]
    details = json.loads(decision["details"])
    assert "performance" in details["decision"]["triggers"]
    assert details["performance_status"] == "degraded"
    assert details["trigger"]["target_paused"] is True
    assert "is paused" in details["trigger"]["warning"]
    assert "is paused" in task_log(api, MONITORING, run_id, "trigger_retraining")

    retrain_id = f"retrain__{MONITORING}__{label(start, DEGRADED_RUN)}"
    queued = api.dag_run(RETRAINING, retrain_id)
    assert queued["state"] == "queued"
    assert queued["conf"]["as_of"] == DEGRADED_RUN.isoformat() + "+00:00"
    time.sleep(10)
    assert api.dag_run(RETRAINING, retrain_id)["state"] == "queued"  # waits while paused

    api.unpause(RETRAINING)
    assert api.wait_for_run(RETRAINING, retrain_id, timeout=900) == "success", task_states(
        api, RETRAINING, retrain_id
    )
    states = task_states(api, RETRAINING, retrain_id)
    assert states["deploy"] == "success" and states["deployment_verified"] == "success", states
    after = the_one_champion(registry_engine)
    assert after != before
    (promoted,) = rows(
        registry_engine,
        "SELECT details FROM mg_model_events WHERE event = 'promoted' AND version_id = :v",
        v=after,
    )
    assert json.loads(promoted["details"])["effective_at"] == DEGRADED_RUN.isoformat()


# ------------------------------------------------------------------------------------- 4. reprocess


def test_reprocessing_repeats_every_verdict_and_starts_one_retraining(api, registry_engine, passes):
    assert "first" in passes, "runs after the first backfill"
    started = time.monotonic()
    backfill = expect(
        api.create_backfill(
            DAILY,
            BACKFILL[0],
            BACKFILL[1],
            reprocess_behavior="completed",
            max_active_runs=4,
            conf={"retrain_on_backfill": True},
        ),
        200,
    )
    backfill, runs = api.wait_for_backfill(backfill["id"], timeout=1800)
    passes["reprocess_seconds"] = time.monotonic() - started
    assert {r["state"] for r in runs} == {"success"}
    # Judged by the champion of July (not today's): the same values, row for row.
    assert stored_values(registry_engine, DAILY) == passes["first"]
    episode_id = f"retrain__{DAILY}__{label(EPISODE[0], EPISODE[0] + timedelta(days=1))}"
    started_by_backfill = [r for r in retraining_runs(api) if DAILY in r["dag_run_id"]]
    assert [r["dag_run_id"] for r in started_by_backfill] == [episode_id]
    assert api.wait_for_run(RETRAINING, episode_id, timeout=900) == "success"
    assert len({r["dag_run_id"] for r in retraining_runs(api)}) == 2
    the_one_champion(registry_engine)


# ------------------------------------------------------------------------------------- 5. sensors


def test_the_data_sensor_waits_in_reschedule_mode(api, world):
    day = datetime(2026, 9, 20)
    wait_then_seed(api, world, day, "up_for_reschedule")


def test_the_sensors_defer_to_the_triggerer_when_airflow_says_so(api, stack, world):
    deferrable = {"AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True"}
    for component in ("dag-processor", "scheduler"):
        stack.kill(component, signal.SIGTERM)
        stack.start(component, extra_env=deferrable)
    stack.wait_healthy(120)
    time.sleep(15)  # the dag-processor re-serializes the DAGs with the new default
    day = datetime(2026, 9, 21)
    run_id = wait_then_seed(api, world, day, "deferred")
    log = task_log(api, MONITORING, run_id, "wait_for_data")
    assert "Pausing task as DEFERRED" in log and "rows in window" in log and "done" in log


def test_a_window_without_data_fails_after_data_wait_minutes(api):
    day = datetime(2026, 10, 10)
    started = time.monotonic()
    run_id = trigger_day(api, day)
    assert api.wait_for_run(MONITORING, run_id, timeout=400) == "failed"
    elapsed = time.monotonic() - started
    assert elapsed < 240, f"the run held its slot {elapsed:.0f} s (data_wait_minutes is 1)"
    states = task_states(api, MONITORING, run_id)
    assert states["wait_for_data"] == "failed", states
    log = task_log(api, MONITORING, run_id, "wait_for_data")
    assert "email_sends" in log and "0 rows" in log, log[-2000:]


# ------------------------------------------------------------------------------------- 6. PG restart


def test_a_restart_of_the_stores_postgres_fails_the_task_clearly_and_its_retry_succeeds(
    api, stores
):
    day = datetime(2026, 7, 3)
    stores.stop()
    try:
        run_id = trigger_day(api, day)
        wait_for_task_state(api, MONITORING, run_id, "wait_for_data", {"up_for_retry"})
    finally:
        stores.start()
    assert api.wait_for_run(MONITORING, run_id, timeout=400) == "success", task_states(
        api, MONITORING, run_id
    )
    log = task_log(api, MONITORING, run_id, "wait_for_data", attempt=1)
    assert "ConnectionFailedError" in log and "modelguard_source" in log
    assert "could not connect" in log


# ------------------------------------------------------------------------------------- 7. promotion


def _client_pid_waiting_on(engine, table: str, timeout: float = 120.0) -> int:
    """The local pid of the process whose PostgreSQL session waits for a lock on ``table``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = rows(
            engine,
            "SELECT client_port FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE :q AND pid <> pg_backend_pid()",
            q=f"%{table}%",
        )
        for row in waiting:
            for conn in psutil.net_connections(kind="tcp"):
                if conn.laddr and conn.laddr.port == row["client_port"] and conn.pid:
                    return conn.pid
        time.sleep(0.2)
    raise TimeoutError(f"no session waited for a lock on {table}")


def test_a_task_killed_in_the_middle_of_a_promotion_leaves_one_champion(
    api, world, registry_engine
):
    from email_engagement.bootstrap import train_and_register
    from modelguard.config import load_config
    from modelguard.storage.source import engine_for_url

    for run in api.dag_runs(RETRAINING):  # nothing else may write the event log meanwhile
        api.wait_for_run(RETRAINING, run["dag_run_id"], timeout=900)
    first = rows(registry_engine, "SELECT MIN(id) AS id FROM mg_model_versions")[0]["id"]
    run_id = trigger(
        api, ROLLBACK, {"target_version_id": first, "reason": "stack test: the first champion"}
    )
    assert api.wait_for_run(ROLLBACK, run_id, timeout=300) == "success"
    assert the_one_champion(registry_engine) == first
    challenger = train_and_register(
        load_config(world.config_path),
        engine_for_url(world.source_url),
        engine_for_url(world.registry_url),
        CONCEPT_START + timedelta(days=5),
        datetime(2026, 9, 5),
        make_champion=False,
        as_of=datetime(2026, 9, 8),
    )
    as_of = datetime(2026, 9, 15)
    run_id = trigger(api, DEPLOYMENT, {"challenger_version_id": challenger.id, "as_of": z(as_of)})
    wait_for_task_state(api, DEPLOYMENT, run_id, "evaluate_challenger", {"success"}, timeout=300)
    with registry_engine.connect() as holder:
        holder.execute(sa.text("BEGIN"))
        # The promotion's pointer swap and status changes go through; its event insert waits.
        holder.execute(sa.text("LOCK TABLE mg_model_events IN SHARE ROW EXCLUSIVE MODE"))
        pid = _client_pid_waiting_on(registry_engine, "mg_model_events")
        psutil.Process(pid).kill()
        holder.execute(sa.text("ROLLBACK"))
    assert api.wait_for_run(DEPLOYMENT, run_id, timeout=300) == "failed"
    assert task_states(api, DEPLOYMENT, run_id)["deploy"] == "failed"
    assert the_one_champion(registry_engine) == first
    status = rows(
        registry_engine, "SELECT status FROM mg_model_versions WHERE id = :v", v=challenger.id
    )
    assert status == [{"status": "challenger"}]

    expect(
        api.post(
            f"/api/v2/dags/{DEPLOYMENT}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run_id,
                "task_ids": ["deploy"],
                "include_downstream": True,
                "only_failed": False,
            },
        ),
        200,
    )
    assert api.wait_for_run(DEPLOYMENT, run_id, timeout=300) == "success"
    assert the_one_champion(registry_engine) == challenger.id
    promoted = rows(
        registry_engine,
        "SELECT id FROM mg_model_events WHERE event = 'promoted' AND version_id = :v",
        v=challenger.id,
    )
    assert len(promoted) == 1
