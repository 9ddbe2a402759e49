"""Human approval of deployments on the real Airflow 3 stack, answered through the REST API.

One stack and one data world (``tests/stack/world.py``: as of 09-10 a challenger trained on the
last month beats the champion, McNemar p ~ 1e-28) with ``deployment.approval: human`` and
``approval_timeout_hours: 0.02`` (72 s). Every run reaches the gate with ``deploy`` and waits in
``request_approval`` (``awaiting_input`` on Airflow 3.3) for a person; the tests run in file
order on one registry:

1. a manual retraining run, rejected with a reason: the challenger is rejected, the event log
   holds the reason and the user, the champion is unchanged;
2. a manual run nobody answers: after the timeout nothing is deployed, ``approval_timed_out``
   ran (its XCom says so), the timeout is an event, the challenger stays a challenger, and an
   answer that comes too late changes nothing;
3. a run started by the monitoring DAG (degraded performance), approved: the challenger is
   deployed and verified as without approval, and the promotion names the person.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.stack.world import DEGRADED_RUN, build_stack_world

pytestmark = pytest.mark.stack

MODEL = "email_engagement"
MONITORING = f"{MODEL}_monitoring"
RETRAINING = f"{MODEL}_retraining"
DEPLOYMENT = f"{MODEL}_deployment"
ASK = "request_approval"
WAITING = {"awaiting_input", "deferred"}  # 3.3 parks HITL tasks; older versions defer them
TIMEOUT_HOURS = 0.02
AS_OF = DEGRADED_RUN.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world(stores, tmp_path_factory):
    world = build_stack_world(
        tmp_path_factory.mktemp("approval-world"), stores["source"], stores["registry"]
    )
    raw = yaml.safe_load(world.config_path.read_text())
    raw["deployment"].update(approval="human", approval_timeout_hours=TIMEOUT_HOURS)
    world.config_path.write_text(yaml.safe_dump(raw))
    return world


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world.source_url,
        registry_url=world.registry_url,
        config_path=world.config_path,
        home=tmp_path_factory.mktemp("approval-stack-home"),
    ) as started:
        started.unpause()  # retraining, deployment, rollback
        yield started


@pytest.fixture(scope="module")
def api(stack) -> StackClient:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([MONITORING, RETRAINING, DEPLOYMENT])
        yield client


@pytest.fixture(scope="module")
def registry_engine(world):
    engine = sa.create_engine(world.registry_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


# ------------------------------------------------------------------------------------- helpers


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def champion(engine) -> int:
    (row,) = rows(engine, "SELECT version_id FROM mg_champions WHERE model_name = :m", m=MODEL)
    return row["version_id"]


def status(engine, version_id: int) -> str:
    (row,) = rows(engine, "SELECT status FROM mg_model_versions WHERE id = :v", v=version_id)
    return row["status"]


def events(engine, event: str, version_id: int) -> list[dict]:
    found = rows(
        engine,
        "SELECT * FROM mg_model_events WHERE event = :e AND version_id = :v ORDER BY id",
        e=event,
        v=version_id,
    )
    return [{**e, "details": json.loads(e["details"])} for e in found]


def task_states(api: StackClient, dag_id: str, run_id: str) -> dict[str, str]:
    return {t["task_id"]: t["state"] for t in api.task_instances(dag_id, run_id)}


def xcom(api: StackClient, run_id: str, task_id: str, key: str = "return_value") -> Any:
    path = f"/api/v2/dags/{RETRAINING}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
    value = expect(api.get(path), 200)["value"]
    return json.loads(value) if isinstance(value, str) else value


def hitl_path(run_id: str) -> str:
    return f"/api/v2/dags/{RETRAINING}/dagRuns/{run_id}/taskInstances/{ASK}/-1/hitlDetails"


def approval_alerts(engine) -> list:
    from modelguard.storage.alerts import AlertStore

    return [a for a in AlertStore(engine).list_alerts(MODEL) if a.kind == "approval_timeout"]


def trigger_retraining(api: StackClient, reason: str) -> str:
    conf = {"as_of": AS_OF, "reason": reason}
    return expect(api.trigger(RETRAINING, conf, logical_date=None), 200)["dag_run_id"]


def wait_for_question(api: StackClient, run_id: str, timeout: float = 900.0) -> dict:
    """Wait until the run asks (its approval task waits for a person); its HITL detail."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        seen = task_states(api, RETRAINING, run_id)
        if seen.get(ASK) in WAITING:
            # As a person would: not within the first second. Airflow 3.3.2 fails the task when
            # the answer resumes it before the scheduler has processed the exit of the process
            # that parked it ("finished with state success, but the task instance's state
            # attribute is queued"); seen here with an answer 0.5 s after the park.
            time.sleep(5)
            return expect(api.get(hitl_path(run_id)), 200)
        if api.dag_run(RETRAINING, run_id)["state"] in ("success", "failed"):
            break
        time.sleep(2)
    raise AssertionError(f"{RETRAINING}/{run_id} never asked for approval; task states {seen}")


def answer(api: StackClient, run_id: str, option: str, reason: str):
    return api.patch(
        hitl_path(run_id),
        json={"chosen_options": [option], "params_input": {"decision_reason": reason}},
    )


def finished(api: StackClient, run_id: str, dag_id: str = RETRAINING) -> dict[str, str]:
    state = api.wait_for_run(dag_id, run_id, timeout=900)
    states = task_states(api, dag_id, run_id)
    assert state == "success", states
    return states


def challenger_of(api: StackClient, run_id: str) -> int:
    return xcom(api, run_id, "register_challenger")["challenger_id"]


# ------------------------------------------------------------------------------------- 1. reject


def test_a_rejection_is_recorded_with_the_reason_and_the_user(api, stack, registry_engine):
    before = champion(registry_engine)
    run_id = trigger_retraining(api, "stack test: reject")
    question = wait_for_question(api, run_id)

    # What the person sees: the McNemar result, the improvement, both versions, the page.
    verdict = xcom(api, run_id, "evaluate_challenger")
    assert verdict["decision"] == "deploy" and verdict["champion_id"] == before
    assert question["options"] == ["Deploy", "Reject"] and question["multiple"] is False
    assert question["response_received"] is False and question["defaults"] is None
    assert (
        verdict["challenger"] in question["subject"] and verdict["champion"] in question["subject"]
    )
    body = question["body"]
    assert f"b = {verdict['b']} " in body and f"c = {verdict['c']} " in body
    assert f"p = {verdict['pvalue']:.3g}" in body
    assert f"{verdict['improvement']:+.4f} (min_improvement 0.02)" in body
    assert f"({stack.base_url}/modelguard/models/{MODEL})" in body
    assert f"({stack.base_url}/dags/{RETRAINING}/runs/" in body
    for reason in verdict["reasons"]:
        assert reason in body
    reason_field = question["params"]["decision_reason"]
    assert reason_field["schema"]["type"] == "string" and reason_field["schema"]["minLength"] == 3

    # The API refuses an option that is not offered; the answer itself is taken once.
    expect(
        api.patch(hitl_path(run_id), json={"chosen_options": ["Maybe"], "params_input": {}}), 400
    )
    response = expect(answer(api, run_id, "Reject", "stack test: not before the audit"), 200)
    assert response["responded_by"]["name"] == stack.username
    expect(answer(api, run_id, "Deploy", "changed my mind"), 409)

    states = finished(api, run_id)
    assert states[ASK] == "success" and states["approval_rejected"] == "success", states
    for skipped in ("deploy", "approval_timed_out", "post_deployment_check", "reject"):
        assert states[skipped] == "skipped", states
    assert states["done"] == "success"
    challenger = verdict["challenger_id"]
    assert status(registry_engine, challenger) == "rejected"
    (rejected,) = events(registry_engine, "rejected", challenger)
    assert rejected["reason"] == f"rejected by {stack.username}: stack test: not before the audit"
    assert rejected["run_id"] == run_id
    approval = rejected["details"]["approval"]
    assert approval["decision"] == "rejected" and approval["by_name"] == stack.username
    assert approval["reason"] == "stack test: not before the audit"
    assert rejected["details"]["evaluation"]["challenger_id"] == challenger
    assert champion(registry_engine) == before
    assert xcom(api, run_id, ASK, key="approval") == approval


# ------------------------------------------------------------------------------------- 2. timeout


def test_no_answer_in_time_deploys_nothing_and_says_so(api, registry_engine):
    before = champion(registry_engine)
    run_id = trigger_retraining(api, "stack test: nobody answers")
    question = wait_for_question(api, run_id)
    asked_at = time.monotonic()
    challenger = challenger_of(api, run_id)
    assert f"within {TIMEOUT_HOURS:g} h nothing is deployed" in question["body"]

    states = finished(api, run_id)
    waited = time.monotonic() - asked_at
    assert waited >= TIMEOUT_HOURS * 3600 - 10, waited  # not before the timeout
    assert states[ASK] == "success", states  # the outcome is a branch, not a failed run
    assert states["approval_timed_out"] == "success" and states["done"] == "success", states
    for skipped in ("deploy", "approval_rejected", "post_deployment_check"):
        assert states[skipped] == "skipped", states

    outcome = xcom(api, run_id, "approval_timed_out")
    assert outcome["outcome"] == "approval_timed_out" and outcome["kind"] == "approval_timeout"
    assert (outcome["challenger_id"], outcome["champion_id"]) == (challenger, before)
    assert outcome["timeout_hours"] == TIMEOUT_HOURS and outcome["run_id"] == run_id
    (timed_out,) = events(registry_engine, "approval_timed_out", challenger)
    assert timed_out["id"] == outcome["event_id"] and timed_out["run_id"] == run_id
    assert "no answer within 0.02 h" in timed_out["reason"]
    assert status(registry_engine, challenger) == "challenger"  # registered, not promoted
    assert events(registry_engine, "promoted", challenger) == []
    assert champion(registry_engine) == before
    assert xcom(api, run_id, ASK, key="approval")["decision"] == "timed_out"
    (alert,) = approval_alerts(registry_engine)  # an alert says so, through the channels
    assert (alert.status, alert.severity) == ("open", "warning"), alert
    assert alert.details["challenger_id"] == challenger and alert.run_id == run_id

    # Airflow still stores an answer that comes too late, but nothing acts on it.
    expect(answer(api, run_id, "Deploy", "sorry, I was away"), 200)
    time.sleep(20)
    assert task_states(api, RETRAINING, run_id) == states
    assert (
        champion(registry_engine) == before and status(registry_engine, challenger) == "challenger"
    )


# ------------------------------------------------------------------------------------- 3. approve


def test_an_approved_deployment_from_monitoring_deploys_and_is_checked(api, stack, registry_engine):
    before = champion(registry_engine)
    api.unpause(MONITORING)
    monitoring_run = expect(api.trigger(MONITORING, logical_date=DEGRADED_RUN), 200)["dag_run_id"]
    finished(api, monitoring_run, MONITORING)
    start = DEGRADED_RUN - timedelta(days=1)
    run_id = f"retrain__{MONITORING}__{start:%Y-%m-%dT%H:%M}_{DEGRADED_RUN:%Y-%m-%dT%H:%M}"
    assert api.dag_run(RETRAINING, run_id)["conf"]["triggered_by"]  # started by monitoring
    wait_for_question(api, run_id)
    challenger = challenger_of(api, run_id)

    expect(answer(api, run_id, "Deploy", "stack test: McNemar is clear"), 200)

    states = finished(api, run_id)
    assert states["deploy"] == "success" and states["post_deployment_check"] == "success", states
    assert states["deployment_verified"] == "success", states  # as without approval (world.py)
    for skipped in ("approval_rejected", "approval_timed_out", "rollback", "reject"):
        assert states[skipped] == "skipped", states
    assert champion(registry_engine) == challenger != before
    (promoted,) = events(registry_engine, "promoted", challenger)
    assert promoted["reason"].startswith(
        f"approved by {stack.username}: stack test: McNemar is clear; challenger better"
    )
    assert promoted["details"]["approval"]["by_name"] == stack.username
    assert promoted["details"]["effective_at"] == DEGRADED_RUN.isoformat()
    # a person answered: the timed-out request's alert is over
    (alert,) = approval_alerts(registry_engine)
    assert alert.status == "cleared", alert
    assert events(registry_engine, "post_deployment_check", challenger)[0]["details"]["status"] in (
        "passed",
        "inconclusive",
    )
