"""A run whose conf carries NaN or Infinity for a threshold, in real Airflow: JSON Schema lets
NaN through every numeric bound, and Airflow's execution API turns it into null before a task
sees it, so without the params' finite-number rule the run would silently use the config's
threshold. dag.test() must refuse it before a run exists, naming the param."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tests.dags.conftest import load_dag
from tests.world import HEALTHY_RUN

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"


def _runs_at(logical):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return (
            session.query(DagRun)
            .filter(DagRun.dag_id == DAG_ID, DagRun.logical_date == logical)
            .count()
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("psi_critical", float("nan")),
        ("psi_warning", float("nan")),
        ("ks_significance", float("nan")),
        ("psi_critical", float("inf")),
    ],
    ids=repr,
)
def test_a_non_finite_threshold_in_the_conf_is_refused_naming_the_param(airflow_db, key, value):
    from airflow.sdk.definitions.param import ParamValidationError

    dag = load_dag(DAG_ID)
    logical = HEALTHY_RUN.replace(tzinfo=UTC) + timedelta(hours=7)
    with pytest.raises(ParamValidationError, match=key):
        dag.test(logical_date=logical, run_conf={key: value})
    assert _runs_at(logical) == 0
    # the same param with a finite value passes the same validation
    assert dag.params.validate() is not None
    dag.params[key] = 0.2 if key != "psi_warning" else 0.05
    dag.params.validate()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("key", ["psi_critical", "ks_significance"])
def test_the_rest_api_refuses_a_non_finite_threshold(rest_client, key, literal):
    """Python's json (FastAPI's) reads NaN and Infinity: the trigger must refuse them (400,
    naming the param) before any run exists."""
    from tests.dags.test_rest_api import runs

    before = len(runs(rest_client, DAG_ID))
    response = rest_client.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        content=f'{{"logical_date": null, "conf": {{"{key}": {literal}}}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert key in response.json()["detail"]
    assert len(runs(rest_client, DAG_ID)) == before


@pytest.fixture(scope="module")
def rest_client(airflow_db):
    from tests.dags.test_rest_api import client

    yield from client.__wrapped__(airflow_db)
