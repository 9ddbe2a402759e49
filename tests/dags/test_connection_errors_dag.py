"""A real run of email_engagement_monitoring (dag.test) whose source connection points at a SQLite file
without the source table: ``wait_for_data`` fails at once (no reschedule until its timeout) with
a message naming the connection and the table, and nothing downstream runs."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from modelguard.exceptions import TableNotFoundError
from tests.dags.conftest import load_dag, task_states
from tests.world import build_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"
# A logical date no other DAG test uses (dag.test clears the runs of its logical date).
RUN = datetime(2026, 7, 3, tzinfo=UTC)
MESSAGE = (
    "connection 'modelguard_source': table 'email_sends' does not exist in the database sqlite:///"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    root = tmp_path_factory.mktemp("noworld")
    world = build_world(root, with_champion=False)  # no champion needed: the first task fails
    empty = root / "without_email_sends.db"
    conn = sqlite3.connect(empty)
    with conn:
        conn.execute("CREATE TABLE prospects (id INTEGER)")
    conn.close()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        mp.setenv(
            "AIRFLOW_CONN_MODELGUARD_SOURCE",
            json.dumps({"conn_type": "sqlite", "host": str(empty)}),
        )
        yield world


def test_missing_source_table_fails_wait_for_data_at_once(world, capfd):
    dag = load_dag(DAG_ID)
    # The DAG retries every task once after 2 minutes; the retry would fail the same way, so
    # skip it to keep the test fast.
    for task in dag.tasks:
        task.retries = 0
    dr = dag.test(logical_date=RUN)
    st = task_states(dr)
    assert str(dr.state) == "failed", st
    assert st["wait_for_data"] == "failed", st
    # soft_fail does not hide a broken store: wait_for_labels fails itself or, when it waits
    # for wait_for_data, upstream
    assert st["wait_for_labels"] in ("failed", "upstream_failed"), st
    assert st["detect_drift"] == st["decide"] == "upstream_failed", st

    # The task log (dag.test runs the task in-process, logging to stdout): the error class and
    # the message naming the connection and the table.
    out, err = capfd.readouterr()
    logged = out + err
    assert "TableNotFoundError" in logged
    assert MESSAGE in logged
    assert "existing tables: prospects" in logged


def test_wait_for_data_of_the_dag_raises_the_message(world):
    """The same sensor the DAG runs, executed directly (reschedule mode): the message."""
    dag = load_dag(DAG_ID)
    sensor = dag.task_dict["wait_for_data"]
    context = {
        "data_interval_start": RUN.replace(hour=0),
        "data_interval_end": RUN,
        "params": {"min_rows": None},
    }
    sensor.min_rows = 200  # what the template renders to without the min_rows param
    with pytest.raises(TableNotFoundError) as info:
        sensor.poke(context)
    message = str(info.value)
    assert message.startswith("NewDataSensor could not count rows of table 'email_sends'")
    assert MESSAGE in message
