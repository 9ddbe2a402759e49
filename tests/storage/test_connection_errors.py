"""An undefined connection, a database that cannot be opened and a missing table fail the sensors
(reschedule and deferrable paths) and ``load_run_config`` at once, with a message naming the
connection id and the table and never the password.

Real parts only: connections from ``AIRFLOW_CONN_<ID>`` environment variables (as in
test_new_data_sensor.py), real SQLite files, the local PostgreSQL of ``MODELGUARD_TEST_PG_DSN``
(tests marked ``postgres``), a TCP port where nothing listens.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mg_airflow_home_"))

import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from airflow.sdk.exceptions import AirflowRescheduleException  # noqa: E402

from modelguard.exceptions import (  # noqa: E402
    ConnectionFailedError,
    ConnectionNotDefinedError,
    StoreUnavailableError,
    TableNotFoundError,
)
from modelguard.hooks.db import ModelguardDbHook  # noqa: E402
from modelguard.operators.common import load_run_config  # noqa: E402
from modelguard.sensors.base import NON_TRANSIENT_ERRORS  # noqa: E402
from modelguard.sensors.labels_matured import LabelsMaturedSensor  # noqa: E402
from modelguard.sensors.new_data import NewDataSensor  # noqa: E402
from modelguard.triggers.labels_matured import LabelsMaturedTrigger  # noqa: E402
from modelguard.triggers.new_data import NewDataTrigger  # noqa: E402
from tests.conftest_db import PG_DSN_ENV, running_in_ci  # noqa: E402

TABLE = "email_sends"
START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 9, 2, tzinfo=UTC)
WINDOW_LABEL = "2026-09-01T00:00_2026-09-02T00:00"
MATURED_LABEL = "2026-08-31T00:00_2026-09-01T00:00"  # the window moved back 24 h


@dataclass(frozen=True)
class Broken:
    """One broken store: the connection id to use, the error expected and a secret that must
    never appear in a message (None: the connection has no password)."""

    conn_id: str
    error: type[StoreUnavailableError]
    password: str | None = None
    what: str = ""


def set_conn(monkeypatch, conn_id: str, conn: dict) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def pg_dsn() -> sa.engine.URL:
    dsn = os.environ.get(PG_DSN_ENV, "").strip()
    if not dsn:
        if running_in_ci():
            pytest.fail(f"{PG_DSN_ENV} must be set when CI is set")
        pytest.skip(f"PostgreSQL tests need {PG_DSN_ENV} (a SQLAlchemy URL)")
    return sa.engine.make_url(dsn)


def pg_conn(url: sa.engine.URL, **override) -> dict:
    """An Airflow postgres connection (conn_type fields, as users define them) for ``url``."""
    conn = {
        "conn_type": "postgres",
        "host": url.host,
        "port": url.port or 5432,
        "login": url.username,
        "password": url.password,
        "schema": url.database,
    }
    return {**conn, **override}


# -- the broken stores ---------------------------------------------------------------------------


@pytest.fixture
def undefined(monkeypatch) -> Broken:
    conn_id = "mg_undefined_source"
    monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}", raising=False)
    return Broken(conn_id, ConnectionNotDefinedError, what="is not defined")


@pytest.fixture
def sqlite_without_table(tmp_path, monkeypatch) -> Broken:
    path = tmp_path / "source.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE prospects (id INTEGER)")
    conn.close()
    set_conn(monkeypatch, "mg_sqlite_source", {"conn_type": "sqlite", "host": str(path)})
    return Broken("mg_sqlite_source", TableNotFoundError, what="existing tables: prospects")


@pytest.fixture
def sqlite_file_missing(tmp_path, monkeypatch) -> Broken:
    path = tmp_path / "no_such_dir" / "source.sqlite"
    set_conn(monkeypatch, "mg_sqlite_nofile", {"conn_type": "sqlite", "host": str(path)})
    return Broken("mg_sqlite_nofile", ConnectionFailedError, what=f"{str(path)!r} does not exist")


@pytest.fixture
def nothing_listening(monkeypatch) -> Broken:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "s3cret-pw"
    set_conn(
        monkeypatch,
        "mg_pg_down",
        {
            "conn_type": "postgres",
            "host": "127.0.0.1",
            "port": port,
            "login": "modelguard",
            "password": secret,
            "schema": "modelguard_test",
        },
    )
    return Broken("mg_pg_down", ConnectionFailedError, secret, what="Connection refused")


@pytest.fixture
def pg_wrong_password(monkeypatch) -> Broken:
    set_conn(monkeypatch, "mg_pg_badpw", pg_conn(pg_dsn(), password="WRONG"))
    return Broken(
        "mg_pg_badpw", ConnectionFailedError, "WRONG", what="password authentication failed"
    )


@pytest.fixture
def pg_without_table(monkeypatch):
    """A fresh, empty schema first on the connection's search_path."""
    url = pg_dsn()
    schema = f"mg_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".prospects (id int)'))
    extra = {"options": f"-csearch_path={schema}"}
    set_conn(monkeypatch, "mg_pg_notable", pg_conn(url, extra=extra))
    try:
        yield Broken(
            "mg_pg_notable",
            TableNotFoundError,
            f":{url.password}@",  # the real password equals the user name: look for it in place
            what=f"schema '{schema}' of postgresql+psycopg2://",
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


BROKEN = [
    "undefined",
    "sqlite_without_table",
    "sqlite_file_missing",
    "nothing_listening",
    pytest.param("pg_wrong_password", marks=pytest.mark.postgres),
    pytest.param("pg_without_table", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BROKEN)
def broken(request) -> Broken:
    return request.getfixturevalue(request.param)


def assert_clear(exc: BaseException, broken: Broken, *, table: str | None = TABLE) -> str:
    """The error class, and a message naming the connection, the table and what failed."""
    message = str(exc)
    assert isinstance(exc, broken.error), f"{type(exc).__name__}: {message}"
    assert f"'{broken.conn_id}'" in message
    if table is not None:
        assert f"'{table}'" in message
    assert broken.what in message
    if broken.password:
        assert broken.password not in message
    return message


# -- helpers as in test_new_data_sensor.py / test_labels_matured_sensor.py ----------------------


class _TaskInstance:
    """Just what BaseSensorOperator.execute asks of the TI in reschedule mode."""

    def get_first_reschedule_date(self, context):
        return None


def make_context(**extra):
    return {"data_interval_start": START, "data_interval_end": END, "params": {}, **extra}


def new_data_sensor(conn_id: str, **kwargs) -> NewDataSensor:
    return NewDataSensor(
        task_id="wait_for_data",
        conn_id=conn_id,
        table=TABLE,
        time_column="sent_at",
        min_rows=1,
        **kwargs,
    )


def labels_sensor(conn_id: str, **kwargs) -> LabelsMaturedSensor:
    return LabelsMaturedSensor(
        task_id="wait_for_labels",
        conn_id=conn_id,
        table=TABLE,
        time_column="sent_at",
        label_column="engaged",
        label_time_column="outcome_at",
        label_delay_hours=24,
        min_labelled_rows=1,
        min_label_share=0.9,
        **kwargs,
    )


def deadline() -> str:
    return (datetime.now(UTC) + timedelta(seconds=5)).isoformat()


def first_event(trigger):
    async def _first():
        agen = trigger.run()
        try:
            return await asyncio.wait_for(anext(agen), timeout=20)
        finally:
            await agen.aclose()

    return asyncio.run(_first()).payload


def assert_error_event(payload: dict, broken: Broken) -> None:
    assert payload["status"] == "error"
    assert NON_TRANSIENT_ERRORS.get(payload["error_type"]) is broken.error
    assert f"'{broken.conn_id}'" in payload["message"]
    if broken.password:
        assert broken.password not in payload["message"]


# -- the hook ----------------------------------------------------------------------------------


def test_hook_verify(broken):
    with pytest.raises(broken.error) as info:
        ModelguardDbHook(broken.conn_id).verify(table=TABLE)
    # the hook names the table only when the table is what is wrong; the sensors always do
    assert_clear(info.value, broken, table=TABLE if broken.error is TableNotFoundError else None)


def test_unknown_conn_id_tells_how_to_define_it(undefined):
    with pytest.raises(ConnectionNotDefinedError) as info:
        ModelguardDbHook(undefined.conn_id).get_sqlalchemy_url()
    message = str(info.value)
    assert message.startswith(f"Airflow connection '{undefined.conn_id}' is not defined")
    assert f"AIRFLOW_CONN_{undefined.conn_id.upper()}=" in message
    assert f"airflow connections add {undefined.conn_id}" in message
    with pytest.raises(ConnectionNotDefinedError, match=undefined.conn_id):
        asyncio.run(ModelguardDbHook(undefined.conn_id).aget_sqlalchemy_url())


def test_registry_like_store_may_be_a_new_sqlite_file(tmp_path, monkeypatch):
    """Without a table to check (the registry creates its tables), a new SQLite file is fine."""
    path = tmp_path / "registry.sqlite"
    set_conn(monkeypatch, "mg_new_registry", {"conn_type": "sqlite", "host": str(path)})
    ModelguardDbHook("mg_new_registry").verify()
    assert path.exists()


# -- reschedule path: the poke fails the task at once -----------------------------------------


def test_new_data_sensor_reschedule_mode_fails_at_once(broken):
    sensor = new_data_sensor(broken.conn_id, mode="reschedule", timeout=3600)
    try:
        sensor.execute(make_context(ti=_TaskInstance()))
    except AirflowRescheduleException:
        pytest.fail("a broken store must fail the task, not reschedule it")
    except StoreUnavailableError as exc:
        message = assert_clear(exc, broken)
        assert message.startswith(
            f"NewDataSensor could not count rows of table '{TABLE}' in window {WINDOW_LABEL}: "
        )
    else:
        pytest.fail("no error")


def test_labels_sensor_fails_even_with_soft_fail(broken):
    sensor = labels_sensor(broken.conn_id, soft_fail=True, timeout=3600)
    with pytest.raises(StoreUnavailableError) as info:
        sensor.execute(make_context(ti=_TaskInstance()))
    message = assert_clear(info.value, broken)
    assert f"matured window {MATURED_LABEL}" in message


# -- deferrable path: the trigger's error event, re-raised by execute_complete ----------------


def test_new_data_trigger_and_execute_complete(broken):
    trigger = NewDataTrigger(
        conn_id=broken.conn_id,
        table=TABLE,
        time_column="sent_at",
        window_start=START,
        window_end=END,
        min_rows=1,
        poll_interval=0.05,
        deadline=deadline(),
    )
    payload = first_event(trigger)
    assert_error_event(payload, broken)

    sensor = new_data_sensor(broken.conn_id, deferrable=True)
    with pytest.raises(StoreUnavailableError) as info:
        sensor.execute_complete(make_context(), payload)
    message = assert_clear(info.value, broken)
    assert message.startswith(f"NewDataSensor could not count rows of table '{TABLE}'")

    # the task runner resumes through resume_execution: same error
    with pytest.raises(broken.error):
        sensor.resume_execution("execute_complete", {"event": payload}, make_context())


def test_labels_trigger_and_execute_complete(broken):
    trigger = LabelsMaturedTrigger(
        conn_id=broken.conn_id,
        table=TABLE,
        time_column="sent_at",
        label_column="engaged",
        label_time_column="outcome_at",
        window_start=START - timedelta(days=1),
        window_end=END - timedelta(days=1),
        as_of=END,
        min_labelled_rows=1,
        min_label_share=0.9,
        poll_interval=0.05,
        deadline=deadline(),
    )
    payload = first_event(trigger)
    assert_error_event(payload, broken)

    sensor = labels_sensor(broken.conn_id, deferrable=True, soft_fail=True)
    with pytest.raises(StoreUnavailableError) as info:
        sensor.resume_execution("execute_complete", {"event": payload}, make_context())
    assert_clear(info.value, broken)


# -- load_run_config: both connections checked, the failing one named -------------------------


@pytest.fixture
def config_path(tmp_path, monkeypatch):
    from tests.world import write_config

    source = tmp_path / "source.sqlite"
    conn = sqlite3.connect(source)
    with conn:
        conn.execute(f"CREATE TABLE {TABLE} (sent_at TIMESTAMP)")
    conn.close()
    set_conn(monkeypatch, "modelguard_source", {"conn_type": "sqlite", "host": str(source)})
    registry = tmp_path / "registry.sqlite"
    set_conn(monkeypatch, "modelguard_registry", {"conn_type": "sqlite", "host": str(registry)})
    return write_config(tmp_path)


def test_load_run_config_with_both_connections(config_path):
    config, source, registry = load_run_config(str(config_path))
    assert config.source.table == TABLE
    assert source.dialect.name == registry.dialect.name == "sqlite"


def test_load_run_config_names_the_undefined_registry(config_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_MODELGUARD_REGISTRY")
    with pytest.raises(ConnectionNotDefinedError) as info:
        load_run_config(str(config_path))
    message = str(info.value)
    assert "'modelguard_registry' is not defined" in message
    assert "AIRFLOW_CONN_MODELGUARD_REGISTRY=" in message


def test_load_run_config_names_the_source_without_its_table(config_path, tmp_path, monkeypatch):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    set_conn(monkeypatch, "modelguard_source", {"conn_type": "sqlite", "host": str(empty)})
    with pytest.raises(TableNotFoundError) as info:
        load_run_config(str(config_path))
    message = str(info.value)
    assert message.startswith(f"connection 'modelguard_source': table '{TABLE}' does not exist")
    assert "existing tables: (none)" in message


def test_load_run_config_without_source_check(config_path, tmp_path, monkeypatch):
    """A task that never reads the source (a rollback) does not need its database up."""
    missing = tmp_path / "gone" / "source.sqlite"
    set_conn(monkeypatch, "modelguard_source", {"conn_type": "sqlite", "host": str(missing)})
    with pytest.raises(ConnectionFailedError, match="connection 'modelguard_source': "):
        load_run_config(str(config_path))
    load_run_config(str(config_path), verify_source=False)
    assert not missing.parent.exists()


@pytest.mark.postgres
def test_load_run_config_names_the_registry_refusing_the_login(config_path, monkeypatch):
    set_conn(monkeypatch, "modelguard_registry", pg_conn(pg_dsn(), password="WRONG"))
    with pytest.raises(ConnectionFailedError) as info:
        load_run_config(str(config_path))
    message = str(info.value)
    assert message.startswith("connection 'modelguard_registry': could not connect to ")
    assert "password authentication failed" in message
    assert "WRONG" not in message and ":***@" in message
