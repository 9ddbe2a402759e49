"""Window resolution and windowed reads on a real SQLite file (pure core, no Airflow)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pendulum
import pytest

from modelguard.core.window import Window, resolve_window
from modelguard.exceptions import DataValidationError
from modelguard.storage.source import (
    count_rows,
    engine_for_url,
    label_counts,
    read_matured,
    read_window,
)

DAY = datetime(2026, 9, 1)
NEXT_DAY = datetime(2026, 9, 2)


# -- resolve_window ---------------------------------------------------------------------------


def test_data_interval_is_the_window():
    window = resolve_window(DAY, NEXT_DAY)
    assert window == Window(DAY, NEXT_DAY)
    assert window.label == "2026-09-01T00:00_2026-09-02T00:00"


def test_aware_and_pendulum_bounds_become_naive_utc():
    start = pendulum.datetime(2026, 9, 1, 2, 0, tz="Europe/Berlin")  # 00:00 UTC
    end = datetime(2026, 9, 2, 0, 0, tzinfo=UTC)
    window = resolve_window(start, end)
    assert window == Window(DAY, NEXT_DAY)
    assert type(window.start) is datetime and window.start.tzinfo is None
    assert type(window.end) is datetime and window.end.tzinfo is None


def test_params_override_the_data_interval():
    window = resolve_window(
        DAY,
        NEXT_DAY,
        window_start="2026-08-01T02:00:00+02:00",
        window_end="2026-08-03",
        window_hours=24,
    )
    assert window == Window(datetime(2026, 8, 1), datetime(2026, 8, 3))


def test_params_as_datetimes_and_without_data_interval():
    tz = timezone(timedelta(hours=-5))
    window = resolve_window(
        None,
        None,
        window_start=datetime(2026, 8, 1, tzinfo=tz),
        window_end=datetime(2026, 8, 2, 5, 0),
    )
    assert window == Window(datetime(2026, 8, 1, 5, 0), datetime(2026, 8, 2, 5, 0))


def test_blank_params_fall_back_to_the_data_interval():
    assert resolve_window(DAY, NEXT_DAY, window_start="", window_end=None) == Window(DAY, NEXT_DAY)


@pytest.mark.parametrize(
    ("start", "end", "fragment", "shows_format"),
    [
        ("yesterday", "2026-09-02", "window_start='yesterday'", True),
        ("2026-09-01", "2026-13-01", "window_end='2026-13-01'", True),
        ("2026-09-01", 20260902, "window_end has type int", True),
        ("2026-09-01", None, "window_end is missing", True),
        (None, "2026-09-01", "window_start is missing", True),
        ("2026-09-02", "2026-09-01", "must be before window_end", False),
        ("2026-09-01", "2026-09-01", "must be before window_end", False),
    ],
)
def test_bad_params_name_the_param_and_the_format(start, end, fragment, shows_format):
    with pytest.raises(DataValidationError) as info:
        resolve_window(DAY, NEXT_DAY, window_start=start, window_end=end)
    assert fragment in str(info.value)
    assert ("ISO 8601" in str(info.value)) is shows_format


def test_manual_run_without_logical_date_needs_params():
    with pytest.raises(DataValidationError, match="no data interval") as info:
        resolve_window(None, None)
    assert "give window_start and window_end params" in str(info.value)
    with pytest.raises(DataValidationError, match="no data interval"):
        resolve_window(DAY, None, window_hours=24)


def test_zero_length_interval_is_explained():
    with pytest.raises(DataValidationError) as info:
        resolve_window(NEXT_DAY, NEXT_DAY)
    message = str(info.value)
    assert "CronDataIntervalTimetable" in message
    assert "window_hours" in message


def test_window_hours_is_a_trailing_window_ending_at_the_interval_end():
    hour_start, hour_end = datetime(2026, 9, 2, 13), datetime(2026, 9, 2, 14)
    assert resolve_window(hour_start, hour_end, window_hours=24) == Window(
        datetime(2026, 9, 1, 14), hour_end
    )
    # also rescues a zero-length (CronTriggerTimetable) interval
    assert resolve_window(hour_end, hour_end, window_hours=2) == Window(
        datetime(2026, 9, 2, 12), hour_end
    )


@pytest.mark.parametrize("hours", [-1, 1.5, "24", True])
def test_bad_window_hours(hours):
    with pytest.raises(DataValidationError, match="window_hours"):
        resolve_window(DAY, NEXT_DAY, window_hours=hours)


def test_label_keeps_seconds_when_present():
    assert Window(datetime(2026, 9, 1, 0, 0, 30), NEXT_DAY).label == (
        "2026-09-01T00:00:30_2026-09-02T00:00"
    )


# -- count_rows / read_window on SQLite -------------------------------------------------------

ROWS = [
    # (id, ts as stored by various writers, value)
    (1, "2026-08-31 23:59:59.999000", 1.0),  # just before start: out
    (2, "2026-09-01 00:00:00", 2.0),  # exactly start (no fraction): in
    (3, "2026-09-01T06:00:00Z", 3.0),  # ISO with T and Z: in
    (4, "2026-09-01 12:00:00.000000", 4.0),  # SQLAlchemy/pandas style: in
    (5, "2026-09-01 23:30:00-02:00", 5.0),  # = 2026-09-02 01:30 UTC: out
    (6, "2026-09-02 00:00:00", 6.0),  # exactly end: out (half-open)
    (7, "2026-09-01 03:00:00+02:00", 7.0),  # = 2026-09-01 01:00 UTC: in
]


@pytest.fixture
def db_url(tmp_path) -> str:
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER, ts TIMESTAMP, value REAL, label TEXT)")
        conn.executemany(
            "INSERT INTO events (id, ts, value, label) VALUES (?, ?, ?, ?)",
            [(i, ts, v, f"row{i}") for i, ts, v in ROWS],
        )
    conn.close()
    return f"sqlite:///{path}"


WINDOW = Window(DAY, NEXT_DAY)


def test_count_rows_is_half_open(db_url):
    engine = engine_for_url(db_url)
    assert count_rows(engine, "events", "ts", WINDOW) == 4
    # a row exactly at the end belongs to the next window
    assert count_rows(engine, "events", "ts", Window(NEXT_DAY, datetime(2026, 9, 3))) == 2
    assert count_rows(engine, "events", "ts", Window(datetime(2020, 1, 1), DAY)) == 1


def test_read_window_orders_by_time_and_returns_naive_utc(db_url):
    frame = read_window(engine_for_url(db_url), "events", "ts", WINDOW)
    assert list(frame.columns) == ["id", "ts", "value", "label"]
    assert frame["id"].tolist() == [2, 7, 3, 4]
    assert frame["ts"].tolist() == [
        datetime(2026, 9, 1, 0),
        datetime(2026, 9, 1, 1),
        datetime(2026, 9, 1, 6),
        datetime(2026, 9, 1, 12),
    ]
    assert frame["ts"].dt.tz is None


def test_read_window_selected_columns(db_url):
    frame = read_window(engine_for_url(db_url), "events", "ts", WINDOW, columns=["value", "id"])
    assert list(frame.columns) == ["value", "id"]
    assert frame["id"].tolist() == [2, 7, 3, 4]


def test_read_window_empty(db_url):
    frame = read_window(
        engine_for_url(db_url), "events", "ts", Window(datetime(2020, 1, 1), datetime(2020, 1, 2))
    )
    assert frame.empty
    assert list(frame.columns) == ["id", "ts", "value", "label"]


def test_missing_table_lists_existing_tables(db_url):
    engine = engine_for_url(db_url)
    with pytest.raises(DataValidationError) as info:
        count_rows(engine, "evnets", "ts", WINDOW)
    assert "'evnets'" in str(info.value)
    assert "existing tables: events" in str(info.value)
    with pytest.raises(DataValidationError, match="evnets"):
        read_window(engine, "evnets", "ts", WINDOW)


def test_missing_columns_list_available_columns(db_url):
    engine = engine_for_url(db_url)
    with pytest.raises(DataValidationError) as info:
        count_rows(engine, "events", "created_at", WINDOW)
    assert "'created_at'" in str(info.value)
    assert "available columns: id, ts, value, label" in str(info.value)
    with pytest.raises(DataValidationError, match="'score'.*'events'"):
        read_window(engine, "events", "ts", WINDOW, columns=["id", "score"])


def test_engine_is_cached_per_url(db_url, tmp_path):
    assert engine_for_url(db_url) is engine_for_url(db_url)
    assert engine_for_url(db_url) is not engine_for_url(f"sqlite:///{tmp_path / 'other.sqlite'}")


# -- PostgreSQL (MODELGUARD_TEST_PG_DSN) --------------------------------------------------------

PG_DSN_ENV = "MODELGUARD_TEST_PG_DSN"


@pytest.fixture
def pg_url():
    """A fresh schema in the PostgreSQL database of MODELGUARD_TEST_PG_DSN, first on search_path."""
    import os
    import uuid

    import sqlalchemy as sa

    dsn = os.environ.get(PG_DSN_ENV, "").strip()
    if not dsn:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{PG_DSN_ENV} must be set when CI is set")
        pytest.skip(f"PostgreSQL tests need {PG_DSN_ENV} (a SQLAlchemy URL)")
    schema = f"mg_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(dsn, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        engine_for_url(url.render_as_string(hide_password=False)).dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_timestamp_and_timestamptz_windows(pg_url):
    import sqlalchemy as sa

    engine = engine_for_url(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE events (id int, ts timestamp, tstz timestamptz)"))
        conn.execute(
            sa.text(
                "INSERT INTO events VALUES "
                "(1, '2026-09-01 00:00', '2026-09-01 00:00+00'),"
                "(2, '2026-09-01 23:59:59.999999', '2026-09-02 01:30+02'),"
                "(3, '2026-09-02 00:00', '2026-09-02 00:00+00'),"
                "(4, '2026-08-31 23:59:59', '2026-08-31 20:30-04')"
            )
        )
    with engine.connect() as conn:  # pinned whatever the server's default time zone
        assert conn.execute(sa.text("SHOW TIME ZONE")).scalar() == "UTC"

    assert count_rows(engine, "events", "ts", WINDOW) == 2
    # tstz: 1 = 00:00 UTC (in), 2 = 23:30 UTC (in), 3 = end (out), 4 = 00:30 UTC (in)
    assert count_rows(engine, "events", "tstz", WINDOW) == 3
    frame = read_window(engine, "events", "tstz", WINDOW, columns=["id", "tstz"])
    assert frame["id"].tolist() == [1, 4, 2]
    assert frame["tstz"].tolist() == [
        DAY,
        datetime(2026, 9, 1, 0, 30),
        datetime(2026, 9, 1, 23, 30),
    ]
    with pytest.raises(DataValidationError, match="existing tables: events"):
        count_rows(engine, "missing", "ts", WINDOW)


# -- read_matured / label_counts: one condition, exact to the microsecond ---------------------

AS_OF = datetime(2026, 9, 3)
LABEL_ROWS = [
    # (id, sent_at, label, label known at: as stored by various writers)
    (1, "2026-09-01 01:00:00", 1, "2026-09-03 00:00:00"),  # exactly as_of: matured
    (2, "2026-09-01 02:00:00", 0, "2026-09-03 00:00:00.000000"),  # exactly as_of: matured
    (3, "2026-09-01 03:00:00", 1, "2026-09-03T00:00:00Z"),  # exactly as_of: matured
    (4, "2026-09-01 04:00:00", 0, "2026-09-03T02:00:00+02:00"),  # = as_of: matured
    (5, "2026-09-01 05:00:00", 1, "2026-09-03 00:00:00.000001"),  # 1 µs late: not matured
    (6, "2026-09-01 06:00:00", 0, "2026-09-02 23:59:59.999999"),  # 1 µs early: matured
    (7, "2026-09-01 07:00:00", 1, "2026-09-03T00:00:00.5Z"),  # late: not matured
    (8, "2026-09-01 08:00:00", 0, "2026-09-03 01:59:59.999999+02:00"),  # early: matured
    (9, "2026-09-01 09:00:00", None, "2026-09-02 00:00:00"),  # no label: not matured
    (10, "2026-09-01 10:00:00", 1, None),  # no label time: not matured
    (11, "2026-09-01 23:59:59.999999", 1, "2026-09-02 00:00:00"),  # last µs of the window
    (12, "2026-09-02 00:00:00", 1, "2026-09-02 00:00:00"),  # the window's end: out
]
MATURED_IDS = [1, 2, 3, 4, 6, 8, 11]


@pytest.fixture
def labelled_url(tmp_path) -> str:
    path = tmp_path / "labelled.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sends (id INTEGER, sent_at TIMESTAMP, y INTEGER, y_at TEXT)")
        conn.executemany("INSERT INTO sends VALUES (?, ?, ?, ?)", LABEL_ROWS)
    conn.close()
    return f"sqlite:///{path}"


def test_read_matured_and_label_counts_agree_to_the_microsecond(labelled_url):
    engine = engine_for_url(labelled_url)
    names = ("sends", "sent_at", "y", "y_at")
    frame = read_matured(engine, *names, WINDOW, AS_OF, ["id", "y", "y_at"])
    assert frame["id"].tolist() == MATURED_IDS
    assert frame["y_at"].dt.tz is None  # naive UTC, like the time column
    assert frame["y_at"].max() == datetime(2026, 9, 3)
    assert label_counts(engine, *names, WINDOW, AS_OF) == (11, len(MATURED_IDS))
    # an aware as_of is converted to UTC; a microsecond earlier drops the rows known at as_of
    aware = datetime(2026, 9, 3, 2, tzinfo=timezone(timedelta(hours=2)))
    assert read_matured(engine, *names, WINDOW, aware, ["id"])["id"].tolist() == MATURED_IDS
    before = AS_OF - timedelta(microseconds=1)
    assert read_matured(engine, *names, WINDOW, before, ["id"])["id"].tolist() == [6, 8, 11]
    assert label_counts(engine, *names, WINDOW, before) == (11, 3)


def test_read_matured_names_missing_columns(labelled_url):
    engine = engine_for_url(labelled_url)
    with pytest.raises(DataValidationError, match="'known_at' not found in table 'sends'"):
        read_matured(engine, "sends", "sent_at", "y", "known_at", WINDOW, AS_OF, ["id"])


@pytest.mark.postgres
def test_postgres_read_matured_and_label_counts_agree(pg_url):
    import sqlalchemy as sa

    engine = engine_for_url(pg_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE sends (id int, sent_at timestamp, y int, y_at timestamptz)")
        )
        conn.execute(
            sa.text(
                "INSERT INTO sends VALUES "
                "(1, '2026-09-01 01:00', 1, '2026-09-03 02:00+02'),"  # exactly as_of: matured
                "(2, '2026-09-01 02:00', 0, '2026-09-03 00:00:00.000001+00'),"  # 1 µs late
                "(3, '2026-09-01 03:00', NULL, '2026-09-02 00:00+00'),"  # no label
                "(4, '2026-09-01 04:00', 1, '2026-09-02 23:59:59.999999+00')"  # matured
            )
        )
    names = ("sends", "sent_at", "y", "y_at")
    frame = read_matured(engine, *names, WINDOW, AS_OF, ["id", "y_at"])
    assert frame["id"].tolist() == [1, 4]
    assert frame["y_at"].tolist() == [AS_OF, datetime(2026, 9, 2, 23, 59, 59, 999999)]
    assert label_counts(engine, *names, WINDOW, AS_OF) == (4, 2)
