"""Read rows of a source table inside a time window.

Pure module: SQLAlchemy Core + pandas, no Airflow import. Windows are half-open ``[start, end)``
in naive UTC (see :mod:`modelguard.core.window`).

Time comparison per backend:

* PostgreSQL: the time column is compared with bound ``DateTime`` values. Engines created by
  :func:`engine_for_url` pin the session time zone to UTC, so ``timestamp`` (assumed to hold UTC)
  and ``timestamptz`` columns both compare correctly with naive-UTC bounds.
* SQLite stores date-times as text in whatever form the writer chose (``2026-09-01 00:00:00``,
  ``...00:00:00.000000``, ``2026-09-01T00:00:00Z``, ``...+02:00``). Comparing those strings
  with a bound string is wrong at the boundaries, so both sides go through ``julianday()``,
  which understands all of them (precision: 1 ms).

A database that cannot be opened (:class:`~modelguard.exceptions.ConnectionFailedError`) or a
missing table (:class:`~modelguard.exceptions.TableNotFoundError`) is reported before any query,
naming the table and the URL (password masked); this module cannot know the Airflow connection
id, which :func:`modelguard.hooks.db.naming_connection` adds.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelguard.exceptions import ConnectionFailedError, DataValidationError, TableNotFoundError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import URL, Connection, Engine

    from modelguard.core.window import Window

_SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

_ENGINES: dict[tuple[int, str], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for_url(url: str) -> Engine:
    """Return a SQLAlchemy engine for ``url``, cached per process and per URL.

    The cache key includes the process id: an engine (and its pool) must not be shared across a
    fork, which is how Airflow starts task processes.
    SQLite engines wait up to 30 s on a locked database; PostgreSQL sessions use time zone UTC.
    """
    key = (os.getpid(), url)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _create_engine(url)
            _ENGINES[key] = engine
    return engine


def _create_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        # Session time zone UTC (a libpq startup option, so it survives pool rollbacks);
        # connect_args replace the URL's own ``options``, so keep those.
        options = parsed.query.get("options")
        if isinstance(options, tuple):
            options = " ".join(options)
        kwargs["connect_args"] = {
            "options": f"{options} -c timezone=UTC" if options else "-c timezone=UTC"
        }
    return sa.create_engine(parsed, **kwargs)


def masked_url(url: str | URL) -> str:
    """``url`` with its password shown as ``***``: the form every message uses."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _driver_line(exc: BaseException, password: str | None) -> str:
    """The first line of the driver's own message (e.g. psycopg2's ``FATAL: password
    authentication failed``), with the password blanked should a driver ever echo it."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    line = lines[0] if lines else type(orig).__name__
    return line.replace(password, "***") if password else line


def connect(engine: Engine, *, new_sqlite_file_ok: bool = False) -> Connection:
    """Open a connection of ``engine``, or raise :class:`ConnectionFailedError` naming the
    database (password masked), the driver's first line and what to check.

    A SQLite file that does not exist is refused rather than created empty (reading from it can
    only mean the connection points at the wrong path), unless ``new_sqlite_file_ok``: a store
    that creates its tables on first use.
    """
    url = engine.url
    where = masked_url(url)
    database = url.database or ""
    if (
        not new_sqlite_file_ok
        and url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
        and not os.path.exists(database)
    ):
        raise ConnectionFailedError(
            f"could not open {where}: the SQLite database file {database!r} does not exist; "
            "check the path (host) of the connection"
        )
    try:
        return engine.connect()
    except sa.exc.DBAPIError as exc:
        raise ConnectionFailedError(
            f"could not connect to {where}: {_driver_line(exc, url.password)}; check that the "
            "server is up and the host, port, database, login and password of the connection"
        ) from exc


_MAX_LISTED_TABLES = 20


def _split_table(table: str) -> tuple[str | None, str]:
    if "." in table:
        schema, name = table.split(".", 1)
        return schema, name
    return None, table


def _inspect_columns(conn: Connection, table: str) -> tuple[str | None, str, list[str]]:
    """Return (schema, name, column names) of ``table`` or raise :class:`TableNotFoundError`."""
    schema, name = _split_table(table)
    inspector = sa.inspect(conn)
    if not inspector.has_table(name, schema=schema):
        existing = sorted(inspector.get_table_names(schema=schema))
        shown = ", ".join(existing[:_MAX_LISTED_TABLES]) if existing else "(none)"
        if len(existing) > _MAX_LISTED_TABLES:
            shown += f", ... ({len(existing) - _MAX_LISTED_TABLES} more)"
        in_schema = schema or (
            None if conn.dialect.name == "sqlite" else inspector.default_schema_name
        )
        where = f"schema {in_schema!r} of" if in_schema else "the database"
        raise TableNotFoundError(
            f"table {table!r} does not exist in {where} {masked_url(conn.engine.url)}; "
            f"existing tables: {shown}; check the table name (source.table in the modelguard "
            "config) or point the connection at the database that holds it"
        )
    columns = [c["name"] for c in inspector.get_columns(name, schema=schema)]
    return schema, name, columns


def check_table(engine: Engine, table: str) -> list[str]:
    """Connect and return the column names of ``table``: :class:`ConnectionFailedError` or
    :class:`TableNotFoundError` up front, before a task starts its real work."""
    with connect(engine) as conn:
        return _inspect_columns(conn, table)[2]


def _check_columns(table: str, wanted: list[str], existing: list[str]) -> None:
    missing = [c for c in wanted if c not in existing]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise DataValidationError(
            f"{noun} {', '.join(repr(c) for c in missing)} not found in table {table!r}; "
            f"available columns: {', '.join(existing)}"
        )


def _time_expr(engine: Engine, time_column: str) -> sa.ColumnElement[Any]:
    """The expression used to compare and order by the time column."""
    if engine.dialect.name == "sqlite":
        return sa.func.julianday(sa.column(time_column))
    return sa.column(time_column, sa.DateTime())


def _bound(engine: Engine, value: Any) -> sa.ColumnElement[Any]:
    if engine.dialect.name == "sqlite":
        return sa.func.julianday(sa.literal(value.strftime(_SQLITE_TS_FORMAT), sa.String()))
    return sa.literal(value, sa.DateTime())


def _window_clause(engine: Engine, time_column: str, window: Window) -> sa.ColumnElement[bool]:
    expr = _time_expr(engine, time_column)
    return sa.and_(expr >= _bound(engine, window.start), expr < _bound(engine, window.end))


def count_rows(engine: Engine, table: str, time_column: str, window: Window) -> int:
    """Number of rows of ``table`` whose ``time_column`` lies in ``[window.start, window.end)``."""
    with connect(engine) as conn:
        schema, name, existing = _inspect_columns(conn, table)
        _check_columns(table, [time_column], existing)
        stmt = (
            sa.select(sa.func.count())
            .select_from(sa.table(name, schema=schema))
            .where(_window_clause(engine, time_column, window))
        )
        return int(conn.execute(stmt).scalar_one())


def read_window(
    engine: Engine,
    table: str,
    time_column: str,
    window: Window,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``table`` in ``[window.start, window.end)``, ordered by ``time_column``.

    ``columns`` defaults to every column of the table. The time column, when selected, is
    returned as naive-UTC ``datetime64`` whatever the storage (SQLite text, PostgreSQL
    ``timestamp``/``timestamptz``).
    """
    import pandas as pd

    with connect(engine) as conn:
        schema, name, existing = _inspect_columns(conn, table)
        selected = list(existing) if columns is None else list(columns)
        if not selected:
            raise DataValidationError(f"no columns requested from table {table!r}")
        _check_columns(table, [time_column, *selected], existing)

        stmt = (
            sa.select(*(sa.column(c) for c in selected))
            .select_from(sa.table(name, schema=schema))
            .where(_window_clause(engine, time_column, window))
            .order_by(_time_expr(engine, time_column))
        )
        result = conn.execute(stmt)
        frame = pd.DataFrame.from_records(list(result), columns=selected)

    if time_column in frame.columns:
        frame[time_column] = (
            pd.to_datetime(frame[time_column], utc=True, format="ISO8601")
            .dt.tz_localize(None)
            .dt.as_unit("us")
        )
    return frame


if TYPE_CHECKING:
    from datetime import datetime


def matured_window(window: Window, label_delay_hours: float) -> Window:
    """The sends whose outcome is final by ``window.end``: ``window`` moved back by the delay.

    Outcomes become final at most ``label_delay_hours`` after the send, so every send in
    ``[start - delay, end - delay)`` has its final outcome by ``end``.
    """
    import math
    from datetime import timedelta

    from modelguard.core.window import Window

    try:
        hours = float(label_delay_hours)
    except (TypeError, ValueError):
        hours = math.nan
    if isinstance(label_delay_hours, bool) or not math.isfinite(hours) or hours < 0:
        raise DataValidationError(
            f"label_delay_hours must be a finite number >= 0, got {label_delay_hours!r}"
        )
    delay = timedelta(hours=hours)
    return Window(start=window.start - delay, end=window.end - delay)


def label_counts(
    engine: Engine,
    table: str,
    time_column: str,
    label_column: str,
    label_time_column: str,
    window: Window,
    as_of: datetime,
) -> tuple[int, int]:
    """``(sends, labelled)`` of ``table`` in ``[window.start, window.end)`` (by ``time_column``).

    ``labelled`` counts the sends whose ``label_column`` is not null and whose
    ``label_time_column`` is at or before ``as_of`` (aware, or naive UTC), i.e. outcomes known
    by then.
    One query; times compared as in :func:`count_rows`.
    """
    from modelguard.core.window import to_naive_utc

    with connect(engine) as conn:
        schema, name, existing = _inspect_columns(conn, table)
        _check_columns(table, [time_column, label_column, label_time_column], existing)
        known = sa.and_(
            sa.column(label_column).is_not(None),
            _time_expr(engine, label_time_column) <= _bound(engine, to_naive_utc(as_of)),
        )
        stmt = (
            sa.select(sa.func.count(), sa.func.count(sa.case((known, 1))))
            .select_from(sa.table(name, schema=schema))
            .where(_window_clause(engine, time_column, window))
        )
        sends, labelled = conn.execute(stmt).one()
    return int(sends), int(labelled or 0)


def enough_labels(
    sends: int, labelled: int, min_labelled_rows: int, min_label_share: float
) -> bool:
    """Whether ``labelled`` of ``sends`` is at least ``min_labelled_rows`` and at least the share
    ``min_label_share`` (> 0) of the sends. A window without sends never has enough."""
    return sends > 0 and labelled >= min_labelled_rows and labelled / sends >= min_label_share
