"""Helpers for real DAG runs: load the DAG file after the world's environment is set."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


DAG_FILE = ROOT / "dags" / "modelguard_dags.py"


def load_dag(dag_id: str):
    """One DAG of the models MODELGUARD_CONFIG names, parsed the way Airflow parses it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags[dag_id]


def task_states(dagrun) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dagrun.get_task_instances()}


def forget_dag_runs(dag_id: str) -> None:
    """Delete a DAG's runs from the test metadata DB: run ids that deduplicate triggers
    (``retrain__<dag>__<window>``) must not leak between tests or test sessions."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id).delete()
        session.query(DagRun).filter(DagRun.dag_id == dag_id).delete()
