"""The DAG folder parses cleanly, cheaply, and the monitoring DAG has the promised shape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "scipy", "sklearn", "matplotlib")


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {
        "email_engagement_monitoring",
        "email_engagement_deployment",
        "email_engagement_rollback",
        "email_engagement_retraining",
    } <= set(dagbag.dags)


@pytest.mark.parametrize("dag_file", sorted(p.name for p in (ROOT / "dags").glob("*.py")))
def test_dag_files_import_no_heavy_libraries(dag_file):
    code = (
        "import sys, runpy\n"
        "import airflow.sdk\n"
        f"runpy.run_path({str(ROOT / 'dags' / dag_file)!r})\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout


def test_monitoring_dag_shape(dagbag):
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["email_engagement_monitoring"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert set(dag.task_ids) == {
        "wait_for_data",
        "detect_drift",
        "estimate_performance",
        "wait_for_labels",
        "measure_performance",
        "detect_concept_drift",
        "decide",
        "trigger_retraining",
        "alert",
        "healthy",
        "done",
        "raise_alerts",
        "check_health",
        "prune_history",
    }
    assert dag.get_task("done").trigger_rule == "none_failed_min_one_success"
    # check_health starts with the run, beside the sensors; raise_alerts and prune_history end
    # it as teardowns (run when all is done, left out of the run's state)
    assert dag.get_task("check_health").upstream_task_ids == set()
    alerts = dag.get_task("raise_alerts")
    assert alerts.trigger_rule == "all_done"
    assert alerts.upstream_task_ids == {"done", "check_health"}
    assert alerts.is_teardown  # its success must not hide a failed run
    prune = dag.get_task("prune_history")
    assert prune.upstream_task_ids == {"raise_alerts"} and prune.is_teardown
    assert prune.trigger_rule == "all_done_setup_success" and not prune.on_failure_fail_dagrun
    assert dag.get_task("wait_for_data").mode == "reschedule"
    labels = dag.get_task("wait_for_labels")
    assert labels.mode == "reschedule" and labels.soft_fail
    for task_id in ("measure_performance", "detect_concept_drift", "decide"):
        assert dag.get_task(task_id).trigger_rule == "none_failed", task_id
    # the estimate reads the drift window beside detect_drift, before the labels, into decide
    estimate = dag.get_task("estimate_performance")
    assert estimate.upstream_task_ids == {"wait_for_data"}
    assert "estimate_performance" in dag.get_task("decide").upstream_task_ids
    assert dag.get_task("decide").estimate_task_id == "estimate_performance"
    assert {
        "window_start",
        "window_end",
        "psi_warning",
        "psi_critical",
        "ks_significance",
        "min_rows",
        "retrain_on_backfill",
    } <= set(dag.params)
    assert dag.get_task("decide").downstream_task_ids == {"trigger_retraining", "alert", "healthy"}
    assert dag.get_task("trigger_retraining").trigger_dag_id == "email_engagement_retraining"


def test_retraining_dag_shape_and_params(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["email_engagement_retraining"]
    chain = ["build_training_set", "train_challenger", "register_challenger", "deploy_mode"]
    for upstream, downstream in zip(chain, chain[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    assert dag.get_task("deploy_mode").downstream_task_ids == {
        "evaluate_challenger",
        "not_deployed",
    }
    assert dag.get_task("branch_on_evaluation").downstream_task_ids == {
        "deploy",
        "reject",
        "evaluation_only",
    }
    assert dag.get_task("done").trigger_rule == "none_failed_min_one_success"
    params = dag.params
    assert params.get_param("strategy").resolve("sliding_window") == "sliding_window"
    for name, bad in (("strategy", "yolo"), ("deploy", "sometimes"), ("window_months", 0)):
        with pytest.raises(ParamValidationError):
            params.get_param(name).resolve(bad)


@pytest.mark.parametrize(
    ("name", "value"),
    [("psi_warning", -1), ("ks_significance", 1.5), ("min_rows", 0), ("window_start", 5)],
)
def test_params_refuse_bad_values(dagbag, name, value):
    from airflow.sdk.exceptions import ParamValidationError

    param = dagbag.dags["email_engagement_monitoring"].params.get_param(name)
    assert param.resolve(None) is None  # empty = use the config
    with pytest.raises(ParamValidationError):
        param.resolve(value)


@pytest.mark.parametrize(
    "plugins_folder",
    [os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"], str(ROOT / "plugins")],
    ids=["empty-folder", "repo-plugins"],
)
def test_plugin_is_registered_once_from_its_entry_point(plugins_folder):
    """The installed distribution registers the plugin. With the repo's plugins/ as plugins
    folder (how the repo ran before it was a package) it is still registered once, and Airflow
    execs no module of the package as a top-level one (plugins/.airflowignore)."""
    code = (
        "import sys\n"
        "from airflow import plugins_manager as pm\n"
        "info = {p['name']: str(p['source']) for p in pm.get_plugin_info()}\n"
        "bare = [m for m in ('config', 'registry', 'db', 'stats', 'plugin') if m in sys.modules]\n"
        "errors = pm.get_import_errors()\n"
        "print(info, bare, errors)\n"
        "assert info.get('modelguard', '').startswith('modelguard=='), info\n"
        "assert not bare and not errors, (bare, errors)\n"
    )
    env = dict(os.environ, AIRFLOW__CORE__PLUGINS_FOLDER=plugins_folder)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_deployment_dag_shape(dagbag):
    dag = dagbag.dags["email_engagement_deployment"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # triggered, never scheduled
    assert dag.get_task("branch_on_evaluation").downstream_task_ids == {"deploy", "reject"}
    assert dag.get_task("post_deployment_check").downstream_task_ids == {
        "deployment_verified",
        "rollback",
    }
    assert dag.get_task("done").trigger_rule == "none_failed_min_one_success"
    assert dag.get_task("done").upstream_task_ids == {"reject", "deployment_verified", "rollback"}


def test_rollback_dag_requires_a_reason(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["email_engagement_rollback"].params
    with pytest.raises(ParamValidationError):
        params.get_param("reason").resolve(None)
    with pytest.raises(ParamValidationError):
        params.get_param("reason").resolve("no")
    assert params.get_param("reason").resolve("bad deploy") == "bad deploy"
    with pytest.raises(ParamValidationError):
        params.get_param("target_version_id").resolve(0)


def test_retraining_refuses_bad_params_before_any_task_runs(dagbag):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["email_engagement_retraining"]
    with pytest.raises(ParamValidationError, match="strategy: 'yolo' is not one of"):
        dag.test(logical_date=None, run_conf={"strategy": "yolo"})
    with pytest.raises(ParamValidationError, match="deploy"):
        dag.test(logical_date=None, run_conf={"deploy": "sometimes"})
