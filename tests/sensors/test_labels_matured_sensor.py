"""LabelsMaturedSensor, LabelsMaturedTrigger, label_counts and matured_window on a real SQLite file.

Connections come from ``AIRFLOW_CONN_<ID>`` environment variables, as in test_new_data_sensor.py.

The run's window W is 2026-09-02 (a daily data interval), the label delay 24 h, so the matured
window M is 2026-09-01 and outcomes count when known by 2026-09-03 00:00 (W's end).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mg_airflow_home_"))

import asyncio  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
from datetime import UTC, datetime, timedelta, timezone  # noqa: E402

import pytest  # noqa: E402
from airflow.sdk.exceptions import (  # noqa: E402
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from modelguard.core.window import Window  # noqa: E402
from modelguard.exceptions import ConfigError, DataValidationError  # noqa: E402
from modelguard.sensors.labels_matured import LabelsMaturedSensor  # noqa: E402
from modelguard.storage.source import (  # noqa: E402
    engine_for_url,
    enough_labels,
    label_counts,
    matured_window,
)
from modelguard.triggers.labels_matured import LabelsMaturedTrigger  # noqa: E402

CONN_ID = "mg_test_labels"
START = datetime(2026, 9, 2, tzinfo=UTC)
END = datetime(2026, 9, 3, tzinfo=UTC)
M = Window(datetime(2026, 9, 1), datetime(2026, 9, 2))
M_LABEL = "2026-09-01T00:00_2026-09-02T00:00"
AS_OF = datetime(2026, 9, 3)

ROWS = [
    # id, sent_at, engaged, engaged_at
    (1, "2026-09-01 00:00:00", 1, "2026-09-01 10:00:00"),  # M's start: in, labelled
    (2, "2026-09-01 08:00:00", 0, "2026-09-02T08:00:00Z"),  # labelled (a 0 counts)
    (3, "2026-09-01 12:00:00", 1, "2026-09-03 00:00:00"),  # known exactly at W's end: counted
    (4, "2026-09-01 20:00:00", 1, "2026-09-03 00:00:01"),  # known after W's end: not counted
    (5, "2026-09-01 22:00:00", None, "2026-09-02 01:00:00"),  # time but no label: not counted
    (6, "2026-09-01 23:59:59", None, None),  # outcome unknown
    (7, "2026-09-02 00:00:00", 1, "2026-09-02 01:00:00"),  # M's end: out
    (8, "2026-08-31 23:59:59", 1, "2026-09-01 01:00:00"),  # before M: out
]
SENDS, LABELLED = 6, 3


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "sends.sqlite"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "CREATE TABLE sends (id INTEGER, sent_at TIMESTAMP, engaged INTEGER, "
            "engaged_at TIMESTAMP)"
        )
        conn.executemany("INSERT INTO sends VALUES (?, ?, ?, ?)", ROWS)
    conn.close()
    return path


@pytest.fixture
def engine(db_path):
    return engine_for_url(f"sqlite:///{db_path}")


@pytest.fixture
def source_conn(db_path, monkeypatch):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        json.dumps({"conn_type": "sqlite", "host": str(db_path)}),
    )
    return CONN_ID


def add_labelled(db_path, sent_at, engaged_at, n=1):
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany(
            "INSERT INTO sends VALUES (?, ?, ?, ?)",
            [(100 + i, sent_at, 1, engaged_at) for i in range(n)],
        )
    conn.close()


def make_context(params=None, start=START, end=END, **extra):
    return {"data_interval_start": start, "data_interval_end": end, "params": params or {}, **extra}


def make_sensor(**kwargs):
    defaults = {
        "task_id": "wait_for_labels",
        "conn_id": CONN_ID,
        "table": "sends",
        "time_column": "sent_at",
        "label_column": "engaged",
        "label_time_column": "engaged_at",
        "label_delay_hours": 24,
        "min_labelled_rows": 3,
        "min_label_share": 0.5,
    }
    return LabelsMaturedSensor(**{**defaults, **kwargs})


def make_trigger(**kwargs):
    defaults = {
        "conn_id": CONN_ID,
        "table": "sends",
        "time_column": "sent_at",
        "label_column": "engaged",
        "label_time_column": "engaged_at",
        "window_start": "2026-09-01T00:00:00",
        "window_end": "2026-09-02T00:00:00",
        "as_of": "2026-09-03T00:00:00",
        "min_labelled_rows": 3,
        "min_label_share": 0.5,
        "poll_interval": 0.05,
        "deadline": (datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
    }
    return LabelsMaturedTrigger(**{**defaults, **kwargs})


def first_event(trigger: LabelsMaturedTrigger):
    async def _first():
        agen = trigger.run()
        try:
            return await asyncio.wait_for(anext(agen), timeout=10)
        finally:
            await agen.aclose()

    return asyncio.run(_first())


class _TaskInstance:
    """Just what BaseSensorOperator.execute asks of the TI in reschedule mode."""

    def __init__(self, first_reschedule_date):
        self.first_reschedule_date = first_reschedule_date

    def get_first_reschedule_date(self, context):
        return self.first_reschedule_date


def assert_timeout_message(message, sends=SENDS, labelled=LABELLED, needed="10 and 50%"):
    assert "'sends'" in message and M_LABEL in message
    assert f"{labelled} of {sends} sends" in message
    assert "'engaged' by 2026-09-03 00:00" in message
    assert f"needed {needed}" in message


# -- pure functions --------------------------------------------------------------------------


def test_matured_window_moves_back_by_the_delay():
    window = Window(datetime(2026, 9, 2), datetime(2026, 9, 3))
    assert matured_window(window, 24) == M
    assert matured_window(window, 0) == window
    assert matured_window(window, 1.5) == Window(
        datetime(2026, 9, 1, 22, 30), datetime(2026, 9, 2, 22, 30)
    )
    for bad in (-1, float("nan"), float("inf"), True, "x"):
        with pytest.raises(DataValidationError, match="label_delay_hours"):
            matured_window(window, bad)


def test_label_counts_boundaries(engine):
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", M, AS_OF) == (6, 3)
    # as_of is inclusive: row 2 (known 08:00Z) counts at 08:00, not a microsecond before
    at_8 = datetime(2026, 9, 2, 8)
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", M, at_8) == (6, 2)
    before_8 = at_8 - timedelta(microseconds=1000)
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", M, before_8) == (6, 1)
    # an aware as_of is converted to UTC
    aware = datetime(2026, 9, 3, 2, 0, 1, tzinfo=timezone(timedelta(hours=2)))
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", M, aware) == (6, 4)
    # the window is half-open on the send time
    day_after = Window(M.end, M.end + timedelta(days=1))
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", day_after, AS_OF) == (
        1,
        1,
    )
    empty = Window(datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert label_counts(engine, "sends", "sent_at", "engaged", "engaged_at", empty, AS_OF) == (0, 0)


def test_label_counts_names_missing_columns(engine):
    with pytest.raises(DataValidationError, match="'clicked' not found in table 'sends'"):
        label_counts(engine, "sends", "sent_at", "clicked", "engaged_at", M, AS_OF)
    with pytest.raises(DataValidationError, match="'nope' does not exist"):
        label_counts(engine, "nope", "sent_at", "engaged", "engaged_at", M, AS_OF)


def test_enough_labels():
    assert enough_labels(10, 9, 9, 0.9) is True
    assert enough_labels(10, 7, 1, 0.7) is True  # 7/10 >= 0.7 exactly
    assert enough_labels(10, 8, 9, 0.5) is False  # too few rows
    assert enough_labels(10, 8, 1, 0.9) is False  # too small a share
    assert enough_labels(0, 0, 0, 0.1) is False  # no sends, nothing to judge


# -- sensor: construction, poke --------------------------------------------------------------


def test_defaults_and_validation():
    sensor = make_sensor()
    assert sensor.mode == "reschedule" and sensor.deferrable is False
    assert "min_labelled_rows" in LabelsMaturedSensor.template_fields
    with pytest.raises(ConfigError, match="min_label_share must be a number in \\(0, 1\\]"):
        make_sensor(min_label_share=0)
    with pytest.raises(ConfigError, match="min_label_share"):
        make_sensor(min_label_share=1.5)
    with pytest.raises(ConfigError, match="label_delay_hours must be a number >= 0"):
        make_sensor(label_delay_hours=-1)


def test_poke_true_returns_matured_window_counts(source_conn):
    sensor = make_sensor(min_labelled_rows=3, min_label_share=0.5, mode="poke")
    assert sensor.poke(make_context()) is True
    assert sensor.execute(make_context()) == {
        "window_start": "2026-09-01T00:00:00",
        "window_end": "2026-09-02T00:00:00",
        "as_of": "2026-09-03T00:00:00",
        "sends": SENDS,
        "labelled": LABELLED,
    }


def test_poke_false_on_too_few_rows_or_too_small_a_share(source_conn):
    assert make_sensor(min_labelled_rows=4, min_label_share=0.1).poke(make_context()) is False
    assert make_sensor(min_labelled_rows=1, min_label_share=0.51).poke(make_context()) is False


def test_min_labelled_rows_from_jinja_string(source_conn):
    assert make_sensor(min_labelled_rows=" 3 ").poke(make_context()) is True
    with pytest.raises(ConfigError, match="min_labelled_rows"):
        make_sensor(min_labelled_rows="{{ params.x }}").poke(make_context())


def test_labels_known_after_the_interval_end_do_not_count(source_conn, db_path):
    sensor = make_sensor(min_labelled_rows=4, min_label_share=0.1)
    add_labelled(db_path, "2026-09-01 09:00:00", "2026-09-03 00:00:00.001", n=5)
    assert sensor.poke(make_context()) is False
    assert (sensor._sends, sensor._labelled) == (SENDS + 5, LABELLED)
    assert sensor.poke(make_context()) is False  # a rerun decides the same
    add_labelled(db_path, "2026-09-01 09:00:00", "2026-09-02 23:00:00")  # known in time
    assert sensor.poke(make_context()) is True


def test_window_hours_and_manual_params(source_conn):
    # hourly run ending 2026-09-03T00:00 looking back 24 h: same W, same M
    context = make_context(start=END - timedelta(hours=1), end=END)
    assert make_sensor(window_hours=24).poke(context) is True
    params = {"window_start": "2026-09-02T00:00:00", "window_end": "2026-09-03T00:00:00"}
    sensor = make_sensor()
    assert sensor.poke(make_context(params=params, start=None, end=None)) is True
    assert sensor._matured == M


# -- timeouts: poke and reschedule mode ------------------------------------------------------


def test_poke_mode_hard_timeout_message(source_conn):
    sensor = make_sensor(min_labelled_rows=10, mode="poke", timeout=0, poke_interval=0)
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.execute(make_context())
    message = str(info.value)
    assert_timeout_message(message)
    assert message.startswith("LabelsMaturedSensor timed out after 0s on table 'sends'")
    assert "too few labels matured: 3 of 6 sends (50%)" in message


def test_reschedule_mode_soft_fail_timeout_skips_with_the_message(source_conn):
    sensor = make_sensor(min_labelled_rows=10, soft_fail=True, timeout=3600, poke_interval=60)
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(make_context(ti=_TaskInstance(None)))
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(AirflowSkipException) as info:
        sensor.execute(make_context(ti=_TaskInstance(long_ago)))
    message = str(info.value)
    assert_timeout_message(message)
    assert message.endswith("skipped because soft_fail=True")


def test_reschedule_mode_hard_timeout_when_no_label_arrived(source_conn, db_path):
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE sends SET engaged = NULL, engaged_at = NULL")
    conn.close()
    sensor = make_sensor(min_labelled_rows=1200, min_label_share=0.9, timeout=60)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.execute(make_context(ti=_TaskInstance(long_ago)))
    message = str(info.value)
    assert "labels never arrived: 0 of 6 sends (0%)" in message
    assert_timeout_message(message, labelled=0, needed="1,200 and 90%")


def test_soft_fail_does_not_hide_real_errors(source_conn):
    sensor = make_sensor(table="nope", soft_fail=True, mode="poke", timeout=0)
    with pytest.raises(DataValidationError, match="'nope'"):
        sensor.execute(make_context())


# -- deferrable path -------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_labels_are_there(source_conn):
    result = make_sensor(deferrable=True).execute(make_context())
    assert (result["sends"], result["labelled"]) == (SENDS, LABELLED)


def test_deferrable_defers_with_round_tripping_trigger(source_conn):
    sensor = make_sensor(min_labelled_rows=10, deferrable=True, timeout=600, poke_interval=30)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout >= timedelta(seconds=600)
    trigger = deferred.trigger
    assert isinstance(trigger, LabelsMaturedTrigger)

    classpath, kwargs = trigger.serialize()
    assert classpath == "modelguard.triggers.labels_matured.LabelsMaturedTrigger"
    assert kwargs["conn_id"] == CONN_ID
    assert (kwargs["window_start"], kwargs["window_end"], kwargs["as_of"]) == (
        "2026-09-01T00:00:00",
        "2026-09-02T00:00:00",
        "2026-09-03T00:00:00",
    )
    assert (kwargs["min_labelled_rows"], kwargs["min_label_share"]) == (10, 0.5)
    assert kwargs["poll_interval"] == 30
    deadline = datetime.fromisoformat(kwargs["deadline"])
    assert timedelta(seconds=590) < deadline - datetime.now(UTC) <= timedelta(seconds=600)

    # the way the task runner and the triggerer move kwargs: serde -> JSON -> serde -> cls(**kw)
    from airflow.sdk._shared.module_loading import import_string
    from airflow.sdk.serde import deserialize, serialize

    stored = json.loads(json.dumps(serialize(kwargs)))
    rebuilt = import_string(classpath)(**deserialize(stored))
    assert rebuilt.serialize() == (classpath, kwargs)


def test_trigger_success_event(source_conn):
    payload = first_event(make_trigger()).payload
    assert payload["status"] == "success"
    assert (payload["sends"], payload["labelled"]) == (SENDS, LABELLED)
    assert (payload["table"], payload["label_column"]) == ("sends", "engaged")


def test_trigger_sees_labels_arriving(source_conn, db_path):
    async def scenario():
        agen = make_trigger(min_labelled_rows=4).run()
        task = asyncio.ensure_future(anext(agen))
        await asyncio.sleep(0.2)
        assert not task.done()
        conn = sqlite3.connect(db_path)
        with conn:
            conn.execute("UPDATE sends SET engaged = 1, engaged_at = '2026-09-02' WHERE id = 6")
        conn.close()
        event = await asyncio.wait_for(task, timeout=5)
        await agen.aclose()
        return event

    payload = asyncio.run(scenario()).payload
    assert (payload["status"], payload["labelled"]) == ("success", 4)


def test_trigger_timeout_event(source_conn):
    deadline = (datetime.now(UTC) + timedelta(seconds=0.2)).isoformat()
    payload = first_event(make_trigger(min_label_share=0.9, deadline=deadline)).payload
    assert payload["status"] == "timeout"
    assert (payload["sends"], payload["labelled"]) == (SENDS, LABELLED)
    assert payload["min_label_share"] == 0.9


def test_trigger_error_event(source_conn):
    payload = first_event(make_trigger(label_column="clicked")).payload
    assert payload["status"] == "error"
    assert payload["error_type"] == "DataValidationError"
    assert "'clicked'" in payload["message"]


def test_execute_complete_success_and_timeout(source_conn):
    sensor = make_sensor(min_labelled_rows=10, deferrable=True)
    success = first_event(make_trigger()).payload
    assert sensor.execute_complete(make_context(), success) == {
        "window_start": "2026-09-01T00:00:00",
        "window_end": "2026-09-02T00:00:00",
        "as_of": "2026-09-03T00:00:00",
        "sends": SENDS,
        "labelled": LABELLED,
    }

    timeout = first_event(make_trigger(min_labelled_rows=10, deadline=datetime.now(UTC))).payload
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.execute_complete(make_context(), timeout)
    assert_timeout_message(str(info.value))

    # the task runner resumes through resume_execution: same result, same error
    with pytest.raises(AirflowSensorTimeout) as info:
        sensor.resume_execution("execute_complete", {"event": timeout}, make_context())
    assert_timeout_message(str(info.value))


def test_execute_complete_timeout_with_soft_fail_skips_with_the_message(source_conn):
    sensor = make_sensor(min_labelled_rows=10, deferrable=True, soft_fail=True)
    timeout = first_event(make_trigger(min_labelled_rows=10, deadline=datetime.now(UTC))).payload
    with pytest.raises(AirflowSkipException) as info:
        sensor.execute_complete(make_context(), timeout)
    assert_timeout_message(str(info.value))
    # through resume_execution, BaseSensorOperator would turn it into a bare "Skipping due to
    # soft_fail is set to True."; the message survives
    with pytest.raises(AirflowSkipException) as info:
        sensor.resume_execution("execute_complete", {"event": timeout}, make_context())
    assert_timeout_message(str(info.value))
    assert str(info.value).endswith("skipped because soft_fail=True")


def test_execute_complete_error(source_conn):
    sensor = make_sensor(deferrable=True, soft_fail=True)
    payload = first_event(make_trigger(label_column="clicked")).payload
    with pytest.raises(DataValidationError, match=f"'sends' in matured window {M_LABEL}"):
        sensor.execute_complete(make_context(), payload)


@pytest.mark.parametrize("soft_fail", [False, True])
def test_triggerer_deferral_timeout_gets_the_table_and_window(source_conn, soft_fail):
    # the triggerer's own timeout resumes the task with next_method="__fail__"
    sensor = make_sensor(min_labelled_rows=10, deferrable=True, soft_fail=soft_fail)
    expected = AirflowSkipException if soft_fail else AirflowSensorTimeout
    with pytest.raises(expected) as info:
        sensor.resume_execution(
            "__fail__", {"error": "Trigger timeout", "traceback": None}, make_context()
        )
    message = str(info.value)
    assert "'sends'" in message and M_LABEL in message
    assert "an unknown number of the sends" in message and "needed 10 and 50%" in message
