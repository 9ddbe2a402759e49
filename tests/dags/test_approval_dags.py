"""The shape of the gate with ``deployment.approval: human`` in a real DagBag, next to a model
with ``auto`` whose DAGs keep the shape they always had."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from tests.dags.conftest import DAG_FILE
from tests.dags.test_model_configs import _bag, _write

APPROVAL_TASKS = {"request_approval", "approval_rejected", "approval_timed_out"}
GATE_TASKS = {
    "evaluate_challenger",
    "branch_on_evaluation",
    "deploy",
    "reject",
    "post_deployment_check",
    "deployment_verified",
    "rollback",
}


@pytest.fixture
def bag(airflow_db, monkeypatch, tmp_path):
    _write(tmp_path, "auto_model")
    _write(tmp_path, "human_model", deployment={"approval": "human", "approval_timeout_hours": 0.5})
    bag = _bag(monkeypatch, tmp_path)
    assert bag.import_errors == {}
    return bag


def test_auto_approval_keeps_the_gate_as_it_was(bag):
    retraining = bag.dags["auto_model_retraining"]
    assert not APPROVAL_TASKS & set(retraining.task_ids)
    assert GATE_TASKS <= set(retraining.task_ids)
    assert retraining.get_task("branch_on_evaluation").downstream_task_ids == {
        "deploy",
        "reject",
        "evaluation_only",
    }
    assert retraining.get_task("deploy").approval_task_id is None
    deployment = bag.dags["auto_model_deployment"]
    assert set(deployment.task_ids) == GATE_TASKS | {"done"}
    assert deployment.get_task("done").upstream_task_ids == {
        "reject",
        "deployment_verified",
        "rollback",
    }


@pytest.mark.parametrize("kind", ["retraining", "deployment"])
def test_human_approval_asks_a_person_between_the_gate_and_deploy(bag, kind):
    from airflow.providers.standard.operators.hitl import HITLBranchOperator

    dag = bag.dags[f"human_model_{kind}"]
    auto = bag.dags[f"auto_model_{kind}"]
    assert set(dag.task_ids) == set(auto.task_ids) | APPROVAL_TASKS
    expected = {"request_approval", "reject"} | (
        {"evaluation_only"} if kind == "retraining" else set()
    )
    assert dag.get_task("branch_on_evaluation").downstream_task_ids == expected

    ask = dag.get_task("request_approval")
    assert isinstance(ask, HITLBranchOperator)
    assert ask.upstream_task_ids == {"branch_on_evaluation"}
    assert ask.downstream_task_ids == {"deploy", "approval_rejected", "approval_timed_out"}
    assert ask.options == ["Deploy", "Reject"] and ask.multiple is False
    assert ask.options_mapping == {"Deploy": "deploy", "Reject": "approval_rejected"}
    assert ask.defaults is None  # a timeout is nobody's choice: its own branch, not a default
    assert ask.response_timeout == timedelta(minutes=30)
    assert ask.execution_timeout is None
    assert ask.config_path.endswith("human_model.yaml")
    # The form asks for a reason (required there); the task's own param may be empty until
    # somebody answers, because Airflow validates a task's params when it starts.
    (field,) = ask.serialized_params.values()
    assert field["schema"]["type"] == "string" and field["schema"]["minLength"] == 3
    assert field["value"] is None
    assert ask.params.get_param("decision_reason").resolve(None) is None

    deploy = dag.get_task("deploy")
    assert deploy.upstream_task_ids == {"request_approval"}
    assert deploy.approval_task_id == "request_approval"
    assert dag.get_task("post_deployment_check").downstream_task_ids == {
        "deployment_verified",
        "rollback",
    }
    for task_id in ("approval_rejected", "approval_timed_out"):
        assert dag.get_task(task_id).downstream_task_ids == {"done"}
    done = dag.get_task("done")
    assert done.trigger_rule == "none_failed_min_one_success"
    assert APPROVAL_TASKS - {"request_approval"} <= done.upstream_task_ids
    if kind == "retraining":
        # deploy=never stops before the gate, so before the person too
        assert dag.get_task("deploy_mode").downstream_task_ids == {
            "evaluate_challenger",
            "not_deployed",
        }


def test_the_gate_refuses_an_unknown_approval_mode_or_no_timeout(airflow_db):
    from airflow.sdk import DAG

    from modelguard.exceptions import InvalidArgumentError
    from modelguard.task_groups.gate import GateTaskGroup

    with DAG("gate_args", schedule=None):
        with pytest.raises(InvalidArgumentError, match="'sometimes' is not one of auto, human"):
            GateTaskGroup(group_id="g1", approval="sometimes")
        with pytest.raises(InvalidArgumentError, match="positive approval_timeout"):
            GateTaskGroup(group_id="g2", approval="human")


def test_human_approval_dags_import_no_heavy_libraries(tmp_path):
    _write(tmp_path, "human_model", deployment={"approval": "human", "approval_timeout_hours": 2})
    code = (
        "import os, sys, runpy\n"
        f"os.environ['MODELGUARD_CONFIG'] = {str(tmp_path)!r}\n"
        "import airflow.sdk\n"
        f"g = runpy.run_path({str(DAG_FILE)!r})\n"
        "assert 'human_model_retraining' in g, sorted(g)\n"
        "print(','.join(m for m in ('pandas', 'numpy', 'scipy', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout
