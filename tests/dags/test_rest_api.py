"""The trigger forms through Airflow's REST API (in-process FastAPI app, simple auth manager with
all users admin): typed params refuse a bad value before any run exists."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.airflow_run


@pytest.fixture(scope="module")
def client(airflow_db):
    from airflow.api_fastapi.app import create_app
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session
    from fastapi.testclient import TestClient

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
        manager = DagBundlesManager()
        with create_session() as session:
            manager.sync_bundles_to_db(session=session)
        for bundle in manager.get_all_dag_bundles():
            if not bundle.is_initialized:
                bundle.initialize()
            bag = BundleDagBag(
                dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name
            )
            sync_bag_to_db(bag, bundle.name, bundle.version)
        yield TestClient(create_app("core"))


def runs(client, dag_id: str) -> list[dict]:
    response = client.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["dag_runs"]


@pytest.mark.parametrize(
    ("dag_id", "conf", "named"),
    [
        ("email_engagement_retraining", {"strategy": "yolo"}, "strategy"),
        ("email_engagement_retraining", {"deploy": "sometimes"}, "deploy"),
        ("email_engagement_retraining", {"window_months": 0}, "window_months"),
        ("email_engagement_monitoring", {"psi_warning": -1}, "psi_warning"),
        ("email_engagement_monitoring", {"ks_significance": 1.5}, "ks_significance"),
        ("email_engagement_rollback", {}, "reason"),
        ("email_engagement_report", {"period_start": "last week"}, "period_start"),
        (
            "email_engagement_deployment",
            {"challenger_version_id": "seven"},
            "challenger_version_id",
        ),
    ],
)
def test_bad_params_are_refused_before_a_run_exists(client, dag_id, conf, named):
    before = len(runs(client, dag_id))
    response = client.post(
        f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
    )
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"]
    assert len(runs(client, dag_id)) == before


def test_a_valid_form_queues_a_run_with_its_conf(client):
    conf = {"strategy": "full_batch", "deploy": "force_evaluation_only", "reason": "api test"}
    response = client.post(
        "/api/v2/dags/email_engagement_retraining/dagRuns",
        json={"logical_date": None, "conf": conf},
    )
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["state"] == "queued" and run["logical_date"] is None
    assert {k: run["conf"][k] for k in conf} == conf
