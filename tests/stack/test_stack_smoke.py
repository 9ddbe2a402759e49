"""The stack script starts the real topology, secures it, parses our DAGs, and cleans up.

The tests run in file order on one module-scoped stack; the last one stops it.
"""

from __future__ import annotations

import ipaddress
import signal

import httpx
import psutil
import pytest
import sqlalchemy as sa

from tests.stack.conftest import COMPONENTS, MODELGUARD_DAGS, alive

pytestmark = pytest.mark.stack


def test_all_four_components_run_and_are_healthy(stack):
    assert set(stack.pids) == set(COMPONENTS)
    for name in COMPONENTS:
        assert stack.is_running(name), stack.log_tails([name])
        assert psutil.Process(stack.pids[name]).is_running()
    health = stack.wait_healthy(30)
    for key in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert health[key]["status"] == "healthy", health
    env = stack.env
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"{stack.base_url}/execution/"
    assert "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE" not in env
    # the LocalExecutor's workers are the scheduler's children
    assert any("LocalExecutor" in " ".join(p.cmdline()) for p in stack.processes("scheduler"))


def test_token_works_and_anonymous_calls_are_refused(stack, api):
    assert httpx.get(f"{stack.base_url}/api/v2/dags").status_code == 401
    wrong = httpx.post(
        f"{stack.base_url}/auth/token", json={"username": stack.username, "password": "nope"}
    )
    assert wrong.status_code == 401
    response = api.get("/api/v2/dags")
    assert response.status_code == 200, response.text


def test_our_dags_are_parsed_without_import_errors(api):
    dags = api.wait_for_dags(MODELGUARD_DAGS, timeout=180)
    assert api.import_errors() == []
    # the stack keeps Airflow's production default: new DAGs are paused until unpaused via REST
    assert all(dag["is_paused"] for dag in dags.values())


def test_everything_listens_on_loopback_only(stack):
    listening = []
    for proc in stack.processes():
        try:
            conns = proc.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        listening += [(proc.pid, c.laddr) for c in conns if c.status == psutil.CONN_LISTEN]
    assert listening, "nothing listens: the api-server should"
    assert all(ipaddress.ip_address(addr.ip).is_loopback for _, addr in listening), listening
    api_pid = stack.pids["api-server"]
    api_tree = {p.pid for p in stack.processes("api-server")} | {api_pid}
    assert any(pid in api_tree and addr.port == stack.port for pid, addr in listening)


def test_a_killed_component_restarts_healthy(stack):
    old = stack.pids["triggerer"]
    # without children: its trigger runner is left orphaned, and must be killed by stop()
    stack.kill("triggerer", signal.SIGKILL)
    assert not stack.is_running("triggerer")
    stack.start("triggerer")
    assert stack.pids["triggerer"] != old
    stack.wait_healthy(120)


def test_stop_leaves_no_process_and_drops_the_database(stack, pg_admin_dsn):
    procs = stack.processes()
    assert {p.pid for p in procs} >= set(stack.pids.values())
    assert len(procs) > len(COMPONENTS)  # children (LocalExecutor workers) are included
    stack.stop()
    assert [p.pid for p in procs if alive(p)] == []
    admin = sa.create_engine(pg_admin_dsn, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": stack.db_name}
        ).first()
    admin.dispose()
    assert found is None
