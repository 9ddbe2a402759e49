"""Real Airflow runs of the gate (email_engagement_deployment) and of email_engagement_rollback on SQLite.

One world, one story, in order: a good pre-drift challenger beats the weak champion, is deployed,
fails its post-deployment check on post-drift data and is rolled back automatically; a post-drift
challenger is deployed and verified; its twin is rejected; then a person rolls back by hand.
"""

from __future__ import annotations

from datetime import UTC

import pytest

from modelguard.storage.registry import ModelRegistry
from modelguard.storage.source import engine_for_url
from tests.dags.conftest import load_dag, task_states
from tests.world import (
    GATE_DEPLOY_AS_OF,
    GATE_ROLLBACK_AS_OF,
    POST_DRIFT_CHALLENGER,
    PRE_DRIFT_CHALLENGER,
    TWIN_CHALLENGER,
    build_gate_world,
    register_challenger,
)

pytestmark = pytest.mark.airflow_run
MODEL = "email_engagement"


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    world = build_gate_world(tmp_path_factory.mktemp("gateworld"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world


@pytest.fixture(scope="module")
def registry(world):
    return ModelRegistry(engine_for_url(world.registry_url))


@pytest.fixture(scope="module")
def dag(world):
    return load_dag("email_engagement_deployment")


def run(dag, as_of, **conf):
    dr = dag.test(logical_date=as_of.replace(tzinfo=UTC), run_conf=conf or None)
    return dr, task_states(dr)


def events_of(registry, version_id):
    return [e.event for e in registry.events(MODEL) if e.version_id == version_id]


def test_deploy_then_automatic_rollback(dag, registry, world):
    v1 = registry.get_champion(MODEL)
    v2 = register_challenger(world, PRE_DRIFT_CHALLENGER)
    dr, st = run(dag, GATE_ROLLBACK_AS_OF)
    assert str(dr.state) == "success", st
    assert st["deploy"] == "success" and st["reject"] == "skipped"
    assert st["rollback"] == "success" and st["deployment_verified"] == "skipped"
    assert registry.get_champion(MODEL).id == v1.id
    assert registry.get_version(v2.id).status == "rolled_back"
    assert events_of(registry, v2.id)[-4:] == [
        "evaluated",
        "promoted",
        "post_deployment_check",
        "rolled_back",
    ]
    check = [e for e in registry.events(MODEL) if e.event == "post_deployment_check"][-1]
    assert check.details["status"] == "failed"
    assert check.details["observed"] < check.details["expected"] - check.details["max_drop"]
    rolled = [e for e in registry.events(MODEL) if e.event == "rolled_back"][-1]
    assert "post-deployment check failed" in rolled.reason
    assert rolled.run_id == dr.run_id


def test_truly_better_challenger_is_deployed_and_verified(dag, registry, world):
    v3 = register_challenger(world, POST_DRIFT_CHALLENGER)
    dr, st = run(dag, GATE_DEPLOY_AS_OF)
    assert str(dr.state) == "success", st
    assert st["deploy"] == "success" and st["deployment_verified"] == "success"
    assert st["rollback"] == "skipped" and st["reject"] == "skipped"
    assert registry.get_champion(MODEL).id == v3.id
    assert events_of(registry, v3.id)[-1] == "post_deployment_check"
    evaluated = [e for e in registry.events(MODEL) if e.event == "evaluated"][-1]
    result = evaluated.details["result"]
    assert result["decision"] == "deploy" and result["c"] > result["b"]
    assert result["pvalue"] < world.config.deployment.significance_level


def test_equal_challenger_is_rejected(dag, registry, world):
    champion = registry.get_champion(MODEL)
    v4 = register_challenger(world, TWIN_CHALLENGER)
    dr, st = run(dag, GATE_DEPLOY_AS_OF, challenger_version_id=v4.id)
    assert str(dr.state) == "success", st
    assert st["reject"] == "success" and st["deploy"] == "skipped"
    assert registry.get_version(v4.id).status == "rejected"
    assert registry.get_champion(MODEL).id == champion.id


def test_manual_rollback_dag(registry, world):
    before = registry.get_champion(MODEL)
    rollback_dag = load_dag("email_engagement_rollback")
    dr = rollback_dag.test(logical_date=None, run_conf={"reason": "ops: revert for an audit"})
    assert str(dr.state) == "success", task_states(dr)
    after = registry.get_champion(MODEL)
    assert after.id != before.id
    assert registry.get_version(before.id).status == "rolled_back"
    last = registry.events(MODEL)[-1]
    assert last.event == "rolled_back" and last.reason == "ops: revert for an audit"
