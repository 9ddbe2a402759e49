"""A folder of model configs in a real DagBag: one set of DAGs per model, each model's own
settings, and a broken config that costs only its own model's DAGs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tests.dags.conftest import DAG_FILE
from tests.world import EXAMPLE_CONFIG

KINDS = ("monitoring", "monitoring_daily", "retraining", "deployment", "rollback", "report")


def _write(folder, name: str, **sections) -> None:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    raw["model"]["name"] = name
    for section, values in sections.items():
        raw[section].update(values)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(raw))


def _bag(monkeypatch, location):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("MODELGUARD_CONFIG", str(location))
    return DagBag(dag_folder=str(DAG_FILE))


@pytest.fixture
def two_models(tmp_path):
    _write(tmp_path, "churn", drift_detection={"psi_warning": 0.05, "min_rows": 50})
    _write(tmp_path, "leads", monitoring={"monitoring_interval": 7200, "catchup": True})
    return tmp_path


def test_each_model_gets_its_own_dags(airflow_db, monkeypatch, two_models):
    bag = _bag(monkeypatch, two_models)
    assert bag.import_errors == {}
    assert set(bag.dags) == {f"{m}_{k}" for m in ("churn", "leads") for k in KINDS}
    for model in ("churn", "leads"):
        config = str((two_models / f"{model}.yaml").resolve())
        for kind in KINDS:
            dag = bag.dags[f"{model}_{kind}"]
            assert f"model:{model}" in dag.tags
            for task in dag.tasks:
                if hasattr(task, "config_path"):
                    assert task.config_path == config, (dag.dag_id, task.task_id)
        trigger = bag.dags[f"{model}_monitoring"].get_task("trigger_retraining")
        assert trigger.trigger_dag_id == f"{model}_retraining"


def test_each_model_keeps_its_own_settings(airflow_db, monkeypatch, two_models):
    bag = _bag(monkeypatch, two_models)
    churn, leads = bag.dags["churn_monitoring"], bag.dags["leads_monitoring"]
    assert "(0.05)" in churn.params.get_param("psi_warning").description
    assert "(0.1)" in leads.params.get_param("psi_warning").description
    assert churn.get_task("wait_for_data").min_rows == "{{ params.min_rows or 50 }}"
    assert leads.get_task("wait_for_data").min_rows == "{{ params.min_rows or 200 }}"
    assert churn.timetable.expression == "0 * * * *"
    assert leads.timetable.expression == "0 */2 * * *"
    assert (churn.catchup, leads.catchup) == (False, True)
    assert bag.dags["leads_monitoring_daily"].timetable.expression == "0 0 * * *"


def test_a_broken_config_costs_only_its_models_dags(airflow_db, monkeypatch, two_models):
    """No import error (Airflow would mark every DAG of the file stale): the good model's five
    DAGs, and in place of the broken one's a DAG that names the file and every error."""
    raw = yaml.safe_load((two_models / "leads.yaml").read_text())
    raw["drift_detection"]["psi_bins"] = 1
    raw["monitoring"]["catchup"] = "often"
    (two_models / "leads.yaml").write_text(yaml.safe_dump(raw))
    bag = _bag(monkeypatch, two_models)
    assert bag.import_errors == {}
    assert set(bag.dags) == {f"churn_{k}" for k in KINDS} | {"leads_config_error"}
    placeholder = bag.dags["leads_config_error"]
    assert placeholder.description.startswith("CONFIG ERROR: ")
    for text in (placeholder.description, placeholder.doc_md):
        assert "leads.yaml" in text
        assert "drift_detection.psi_bins: 1 is out of range" in text
        assert "monitoring.catchup: 'often' is not a boolean" in text
    assert "config-error" in placeholder.tags and placeholder.timetable.can_be_scheduled is False


def test_the_config_error_task_fails_naming_the_errors(airflow_db, monkeypatch, two_models):
    from modelguard.exceptions import InvalidModelConfigError

    (two_models / "leads.yaml").write_text("model: [unclosed\n")
    bag = _bag(monkeypatch, two_models)
    task = bag.dags["leads_config_error"].get_task("config_error")
    with pytest.raises(InvalidModelConfigError, match=r"leads.yaml: ConfigError: .*not valid YAML"):
        task.execute({})


def test_one_config_file_is_strict_its_error_is_the_dag_files(airflow_db, monkeypatch, two_models):
    """A DAG file per model (MODELGUARD_CONFIG naming one file): the broken file raises, so it is
    that DAG file's import error."""
    raw = yaml.safe_load((two_models / "leads.yaml").read_text())
    raw["drift_detection"]["psi_bins"] = 1
    (two_models / "leads.yaml").write_text(yaml.safe_dump(raw))
    bag = _bag(monkeypatch, two_models / "leads.yaml")
    assert bag.dags == {}
    (message,) = bag.import_errors.values()
    assert "drift_detection.psi_bins: 1 is out of range" in message


def test_two_configs_of_one_model_name_keep_the_first(airflow_db, monkeypatch, two_models):
    raw = yaml.safe_load((two_models / "churn.yaml").read_text())
    (two_models / "zz_copy.yaml").write_text(yaml.safe_dump(raw))
    bag = _bag(monkeypatch, two_models)
    assert bag.import_errors == {}
    assert {d for d in bag.dags if d.startswith("churn_")} == {f"churn_{k}" for k in KINDS}
    assert "'churn' is already the model of" in bag.dags["zz_copy_config_error"].description


def _task_bag(monkeypatch, location, dag_id: str):
    """The DagBag a task process of ``dag_id`` parses: the task runner sets the parsing
    context's variables around its parse (airflow.sdk.get_parsing_context)."""
    from airflow.sdk.definitions.context import (
        _AIRFLOW_PARSING_CONTEXT_DAG_ID,
        _AIRFLOW_PARSING_CONTEXT_TASK_ID,
    )

    with monkeypatch.context() as patched:
        patched.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, dag_id)
        patched.setenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID, "any")
        return _bag(monkeypatch, location)


@pytest.mark.parametrize("kind", KINDS)
def test_a_task_process_builds_only_its_dag_and_the_same_dag(
    airflow_db, monkeypatch, two_models, kind
):
    """Airflow parses the DAG file again in every task process: only the task's DAG is built
    there, and it is the DAG the dag-processor serialized."""
    from airflow.serialization.serialized_objects import DagSerialization

    full = _bag(monkeypatch, two_models)
    bag = _task_bag(monkeypatch, two_models, f"leads_{kind}")
    assert bag.import_errors == {}
    assert set(bag.dags) == {f"leads_{kind}"}
    dag, expected = bag.dags[f"leads_{kind}"], full.dags[f"leads_{kind}"]
    assert DagSerialization.to_dict(dag) == DagSerialization.to_dict(expected)


def test_a_task_process_of_a_config_error_dag_gets_that_dag(airflow_db, monkeypatch, two_models):
    (two_models / "leads.yaml").write_text("model: [unclosed\n")
    bag = _task_bag(monkeypatch, two_models, "leads_config_error")
    assert set(bag.dags) == {"leads_config_error"}
    assert set(_task_bag(monkeypatch, two_models, "churn_monitoring").dags) == {"churn_monitoring"}


def test_no_config_anywhere_is_an_import_error_that_says_where_to_set_it(airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.delenv("MODELGUARD_CONFIG", raising=False)
    monkeypatch.delenv("AIRFLOW__MODELGUARD__CONFIG_PATH", raising=False)
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.dags == {}
    (message,) = bag.import_errors.values()
    assert "set MODELGUARD_CONFIG or [modelguard] config_path" in message


def test_airflows_own_config_names_the_folder(two_models):
    """``[modelguard] config_path`` (here through its AIRFLOW__ variable) when MODELGUARD_CONFIG
    is not set, read by Airflow's config parser in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "MODELGUARD_CONFIG"}
    env["AIRFLOW__MODELGUARD__CONFIG_PATH"] = str(two_models)
    code = (
        "from modelguard.factory import build_dags\n"
        "print(' '.join(sorted(d for d in build_dags() if d.endswith('_rollback'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["churn_rollback", "leads_rollback"]


def test_the_dags_to_unpause_leave_out_a_broken_model(two_models):
    from modelguard.factory import dependent_dag_ids

    raw = yaml.safe_load((two_models / "leads.yaml").read_text())
    raw["monitoring"]["monitoring_interval"] = "hourly"
    (two_models / "leads.yaml").write_text(yaml.safe_dump(raw))
    assert dependent_dag_ids(two_models) == [
        "churn_retraining",
        "churn_deployment",
        "churn_rollback",
    ]
