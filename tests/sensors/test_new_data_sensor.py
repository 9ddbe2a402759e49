"""NewDataSensor, NewDataTrigger and ModelguardDbHook against a real SQLite file.

Connections come from ``AIRFLOW_CONN_<ID>`` environment variables: outside a running task the
task SDK has no supervisor, and ``Connection.get``/``async_get`` fall back to the environment
variables secrets backend (``ensure_secrets_backend_loaded``), so no DB and no mocks are needed.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mg_airflow_home_"))

import asyncio  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import pytest  # noqa: E402
from airflow.sdk.exceptions import (  # noqa: E402
    AirflowException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    TaskDeferred,
)

from modelguard.exceptions import ConfigError, DataValidationError  # noqa: E402
from modelguard.hooks.db import ModelguardDbHook, UnsupportedConnectionError  # noqa: E402
from modelguard.sensors.new_data import NewDataSensor  # noqa: E402
from modelguard.triggers.new_data import NewDataTrigger  # noqa: E402

CONN_ID = "mg_test_source"
START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 9, 2, tzinfo=UTC)
LABEL = "2026-09-01T00:00_2026-09-02T00:00"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "source.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE events (id INTEGER, ts TIMESTAMP)")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [
                (1, "2026-09-01 00:00:00"),  # start: in
                (2, "2026-09-01 08:00:00"),
                (3, "2026-09-01 23:59:59"),
                (4, "2026-09-02 00:00:00"),  # end: out
                (5, "2026-08-31 12:00:00"),
            ],
        )
    conn.close()
    return path


@pytest.fixture
def source_conn(db_path, monkeypatch):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        json.dumps({"conn_type": "sqlite", "host": str(db_path)}),
    )
    return CONN_ID


def make_context(params=None, start=START, end=END, **extra):
    return {"data_interval_start": start, "data_interval_end": end, "params": params or {}, **extra}


def make_sensor(**kwargs):
    defaults = {
        "task_id": "wait_for_data",
        "conn_id": CONN_ID,
        "table": "events",
        "time_column": "ts",
        "min_rows": 3,
    }
    return NewDataSensor(**{**defaults, **kwargs})


def first_event(trigger: NewDataTrigger):
    async def _first():
        agen = trigger.run()
        try:
            return await asyncio.wait_for(anext(agen), timeout=10)
        finally:
            await agen.aclose()

    return asyncio.run(_first())


# -- hook ------------------------------------------------------------------------------------


def test_hook_sqlite_url_and_cached_engine(source_conn, db_path):
    hook = ModelguardDbHook(source_conn)
    assert hook.get_sqlalchemy_url() == f"sqlite:///{db_path}"
    assert hook.get_engine() is ModelguardDbHook(source_conn).get_engine()


def test_hook_postgres_url_is_escaped(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MG_PG",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "db.example",
                "port": 5433,
                "login": "mg user",
                "password": "p@ss:w/rd%",
                "schema": "warehouse",
                "extra": {"sslmode": "require"},
            }
        ),
    )
    url = ModelguardDbHook("mg_pg").get_sqlalchemy_url()
    assert url.startswith("postgresql+psycopg2://")
    assert "p%40ss%3Aw%2Frd%25@db.example:5433/warehouse" in url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "mg user",
        "p@ss:w/rd%",
        "db.example",
        5433,
        "warehouse",
    )
    assert dict(parsed.query) == {"sslmode": "require"}


def test_hook_extra_sqlalchemy_url_wins(monkeypatch, db_path):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MG_GENERIC",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": f"sqlite:///{db_path}"}}),
    )
    assert ModelguardDbHook("mg_generic").get_sqlalchemy_url() == f"sqlite:///{db_path}"


def test_hook_unsupported_type_names_conn_and_type(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_MG_HTTP", json.dumps({"conn_type": "http", "host": "x"}))
    with pytest.raises(UnsupportedConnectionError, match="'mg_http'.*'http'"):
        ModelguardDbHook("mg_http").get_sqlalchemy_url()


def test_hook_async_url_matches_sync(source_conn):
    hook = ModelguardDbHook(source_conn)
    assert asyncio.run(hook.aget_sqlalchemy_url()) == hook.get_sqlalchemy_url()


# -- sensor: poke / reschedule / poke-mode timeout -------------------------------------------


def test_defaults():
    sensor = make_sensor()
    assert sensor.mode == "reschedule"
    assert sensor.deferrable is False
    assert NewDataSensor.template_fields == ("conn_id", "table", "time_column", "min_rows")


def test_poke_true_when_enough_rows(source_conn, caplog):
    sensor = make_sensor(min_rows=3)
    assert sensor.poke(make_context()) is True
    assert sensor._last_count == 3


def test_poke_false_when_not_enough_rows(source_conn):
    assert make_sensor(min_rows=4).poke(make_context()) is False


def test_min_rows_from_jinja_string(source_conn):
    assert make_sensor(min_rows=" 3 ").poke(make_context()) is True
    with pytest.raises(ConfigError, match="min_rows"):
        make_sensor(min_rows="{{ params.min_rows }}").poke(make_context())


def test_manual_run_params_override_and_missing_interval(source_conn):
    sensor = make_sensor(min_rows=5)
    params = {"window_start": "2026-08-31T00:00:00", "window_end": "2026-09-03T00:00:00"}
    assert sensor.poke(make_context(params=params, start=None, end=None)) is True
    with pytest.raises(DataValidationError, match="no data interval"):
        sensor.poke({"params": {}})  # manual run with a null logical date


def test_window_hours_trailing(source_conn):
    # hourly run 2026-09-02T00:00..01:00; the last 24 h cover the 3 rows of 2026-09-01
    sensor = make_sensor(min_rows=3, window_hours=24)
    context = make_context(start=END, end=END + timedelta(hours=1))
    assert sensor.poke(context) is True


def test_execute_returns_row_count(source_conn):
    assert make_sensor(min_rows=2, mode="poke").execute(make_context()) == 3


def test_poke_mode_timeout_names_table_window_and_counts(source_conn):
    sensor = make_sensor(min_rows=10, mode="poke", timeout=0, poke_interval=0)
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.execute(make_context())
    message = str(info.value)
    assert "'events'" in message and LABEL in message
    assert "has 3 rows" in message and "needed 10" in message


class _TaskInstance:
    """Just what BaseSensorOperator.execute asks of the TI in reschedule mode."""

    def __init__(self, first_reschedule_date):
        self.first_reschedule_date = first_reschedule_date

    def get_first_reschedule_date(self, context):
        return self.first_reschedule_date


def test_reschedule_mode_reschedules_then_times_out(source_conn):
    sensor = make_sensor(min_rows=10, timeout=3600, poke_interval=60)
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(make_context(ti=_TaskInstance(None)))
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(AirflowSensorTimeout, match=f"'events' has 3 rows in window {LABEL}"):
        sensor.execute(make_context(ti=_TaskInstance(long_ago)))


def test_a_backfill_run_looks_once_and_does_not_wait(source_conn):
    from types import SimpleNamespace

    from airflow.sdk.api.datamodels._generated import DagRunType
    from airflow.sdk.exceptions import AirflowSkipException

    backfill = SimpleNamespace(run_type=DagRunType.BACKFILL)
    for deferrable in (False, True):
        sensor = make_sensor(min_rows=10, timeout=3600, deferrable=deferrable)
        with pytest.raises(AirflowSensorTimeout, match="has 3 rows.*looks once"):
            sensor.execute(make_context(dag_run=backfill))
    skipping = make_sensor(min_rows=10, timeout=3600, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="looks once.*soft_fail"):
        skipping.execute(make_context(dag_run=backfill))
    assert make_sensor(min_rows=3, timeout=3600).execute(make_context(dag_run=backfill)) == 3


# -- deferrable path -------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_data_is_there(source_conn):
    assert make_sensor(min_rows=3, deferrable=True).execute(make_context()) == 3


def test_deferrable_defers_with_round_tripping_trigger(source_conn):
    sensor = make_sensor(min_rows=10, deferrable=True, timeout=600, poke_interval=30)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout >= timedelta(seconds=600)
    trigger = deferred.trigger
    assert isinstance(trigger, NewDataTrigger)

    classpath, kwargs = trigger.serialize()
    assert classpath == "modelguard.triggers.new_data.NewDataTrigger"
    assert kwargs["conn_id"] == CONN_ID
    assert (kwargs["window_start"], kwargs["window_end"]) == (
        "2026-09-01T00:00:00",
        "2026-09-02T00:00:00",
    )
    assert kwargs["min_rows"] == 10 and kwargs["poll_interval"] == 30
    deadline = datetime.fromisoformat(kwargs["deadline"])
    assert timedelta(seconds=590) < deadline - datetime.now(UTC) <= timedelta(seconds=600)

    # the way the task runner and the triggerer move kwargs: serde -> JSON -> serde -> cls(**kw)
    from airflow.sdk._shared.module_loading import import_string
    from airflow.sdk.serde import deserialize, serialize

    stored = json.loads(json.dumps(serialize(kwargs)))
    rebuilt = import_string(classpath)(**deserialize(stored))
    assert rebuilt.serialize() == (classpath, kwargs)


def make_trigger(**kwargs):
    defaults = {
        "conn_id": CONN_ID,
        "table": "events",
        "time_column": "ts",
        "window_start": "2026-09-01T00:00:00",
        "window_end": "2026-09-02T00:00:00",
        "min_rows": 3,
        "poll_interval": 0.05,
        "deadline": (datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
    }
    return NewDataTrigger(**{**defaults, **kwargs})


def test_trigger_success_event(source_conn):
    event = first_event(make_trigger(min_rows=3))
    assert event.payload["status"] == "success"
    assert event.payload["rows"] == 3
    assert event.payload["table"] == "events"


def test_trigger_sees_rows_arriving(source_conn, db_path):
    async def scenario():
        agen = make_trigger(min_rows=4).run()
        task = asyncio.ensure_future(anext(agen))
        await asyncio.sleep(0.2)
        assert not task.done()
        conn = sqlite3.connect(db_path)
        with conn:
            conn.execute("INSERT INTO events VALUES (6, '2026-09-01 10:00:00')")
        conn.close()
        event = await asyncio.wait_for(task, timeout=5)
        await agen.aclose()
        return event

    event = asyncio.run(scenario())
    assert (event.payload["status"], event.payload["rows"]) == ("success", 4)


def test_trigger_timeout_event(source_conn):
    deadline = (datetime.now(UTC) + timedelta(seconds=0.2)).isoformat()
    event = first_event(make_trigger(min_rows=10, deadline=deadline))
    assert event.payload["status"] == "timeout"
    assert event.payload["rows"] == 3
    assert event.payload["min_rows"] == 10


def test_trigger_error_event(source_conn):
    event = first_event(make_trigger(table="nope"))
    assert event.payload["status"] == "error"
    assert event.payload["error_type"] == "TableNotFoundError"
    assert "'nope'" in event.payload["message"]


def test_trigger_error_event_for_unknown_connection(monkeypatch):
    event = first_event(make_trigger(conn_id="mg_does_not_exist"))
    assert event.payload["status"] == "error"
    assert "mg_does_not_exist" in event.payload["message"]


def test_execute_complete_success_and_timeout(source_conn):
    sensor = make_sensor(min_rows=10, deferrable=True)
    success = first_event(make_trigger(min_rows=3)).payload
    assert sensor.execute_complete(make_context(), success) == 3

    deadline = datetime.now(UTC).isoformat()
    timeout = first_event(make_trigger(min_rows=10, deadline=deadline)).payload
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.execute_complete(make_context(), timeout)
    message = str(info.value)
    assert "'events'" in message and LABEL in message
    assert "has 3 rows" in message and "needed 10" in message


def test_execute_complete_errors(source_conn):
    sensor = make_sensor(deferrable=True)
    payload = first_event(make_trigger(table="nope")).payload
    with pytest.raises(DataValidationError, match=f"'nope' in window {LABEL}"):
        sensor.execute_complete(make_context(), payload)
    with pytest.raises(AirflowException, match="boom"):
        sensor.execute_complete(make_context(), {"status": "error", "message": "boom"})


def test_triggerer_deferral_timeout_gets_the_table_and_window(source_conn):
    # the triggerer's own timeout resumes the task with next_method="__fail__"
    sensor = make_sensor(min_rows=10, deferrable=True)
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.resume_execution(
            "__fail__", {"error": "Trigger timeout", "traceback": None}, make_context()
        )
    assert "'events'" in str(info.value) and LABEL in str(info.value)
