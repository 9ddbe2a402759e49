"""Read rows of a source table inside a time window.

Pure module: SQLAlchemy Core + pandas, no Airflow import. Windows are half-open ``[start, end)``
in naive UTC (see :mod:`modelguard.core.window`).

Time comparison per backend:

* PostgreSQL: the time column is compared with bound ``DateTime`` values. Engines created by
  :func:`engine_for_url` pin the session time zone to UTC, so ``timestamp`` (assumed to hold UTC)
  and ``timestamptz`` columns both compare correctly with naive-UTC bounds.
* SQLite stores date-times as text in whatever form the writer chose (``2026-09-01 00:00:00``,
  ``...00:00:00.000000``, ``2026-09-01T00:00:00Z``, ``...+02:00``). Comparing those strings
  with a bound string is wrong at the boundaries. ``julianday()`` understands all of them but
  rounds to the millisecond, so it only decides rows more than 2 ms from a bound; the rows near
  a bound are compared as integer microseconds since 1970 (UTC), read from the text itself
  (whole seconds and offset through ``strftime('%s', ...)`` on the text without its fraction,
  plus the fraction's digits). Exact to the microsecond, as PostgreSQL and pandas compare, at
  about the cost of ``julianday()``. Rows are ordered by ``julianday()``.

Times that are no date-time (SQLite only: an epoch integer, a REAL julian day, garbage or
empty text, an impossible date such as ``2026-02-30``; and NULL on every backend) lie in no
window, so every read and count leaves them out; they are never dropped silently, though:
:func:`unparseable_times` counts them (with one example value) over the table, once per run,
and the drift check and the health check report that count (``source_times_parseable``) and
log it as a warning. On SQLite a time is usable when it is text that starts ``YYYY-MM-DD``, is
a real calendar date and ``julianday()`` reads it; the check runs only on the rows a window
comparison already kept, so the fast path stays fast.

Labelled rows matured by ``as_of`` (the outcome is known and its label time is at or before
``as_of``) have one reader, :func:`read_matured`, and one count, :func:`label_counts`, both on
the same SQL condition, so a count and the rows later read for it agree to the row.

A database that cannot be opened (:class:`~modelguard.exceptions.ConnectionFailedError`) or a
missing table (:class:`~modelguard.exceptions.TableNotFoundError`) is reported before any query,
naming the table and the URL (password masked); this module cannot know the Airflow connection
id, which :func:`modelguard.hooks.db.naming_connection` adds.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelguard.exceptions import ConnectionFailedError, DataValidationError, TableNotFoundError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import URL, Connection, Engine

    from modelguard.core.window import Window

_EPOCH = datetime(1970, 1, 1)
_ONE_MICROSECOND = timedelta(microseconds=1)

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
    schema, name, columns = _inspect_typed(conn, table)
    return schema, name, list(columns)


def _inspect_typed(conn: Connection, table: str) -> tuple[str | None, str, dict[str, Any]]:
    """(schema, name, column name -> declared SQL type) of ``table``, in table order."""
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
    columns = {c["name"]: c["type"] for c in inspector.get_columns(name, schema=schema)}
    return schema, name, columns


def check_table(engine: Engine, table: str) -> list[str]:
    """Connect and return the column names of ``table``: :class:`ConnectionFailedError` or
    :class:`TableNotFoundError` up front, before a task starts its real work."""
    with connect(engine) as conn:
        return _inspect_columns(conn, table)[2]


def missing_tables(engine: Engine, tables: list[str]) -> list[str]:
    """Connect (a SQLite file that does not exist is refused, not created) and return those of
    ``tables`` that the database lacks: a read-only look at a store before reading it."""
    with connect(engine) as conn:
        inspector = sa.inspect(conn)
        missing = []
        for table in tables:
            schema, name = _split_table(table)
            if not inspector.has_table(name, schema=schema):
                missing.append(table)
        return missing


def _check_columns(table: str, wanted: list[str], existing: list[str]) -> None:
    bad = [c for c in wanted if not isinstance(c, str) or not c]
    if bad:
        raise DataValidationError(
            f"column names must be non-empty strings, got {', '.join(repr(c) for c in bad)} "
            f"for table {table!r}"
        )
    missing = [c for c in wanted if c not in existing]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise DataValidationError(
            f"{noun} {', '.join(repr(c) for c in missing)} not found in table {table!r}; "
            f"available columns: {', '.join(existing)} (names are compared exactly, case "
            "included)"
        )


def _check_time_types(engine: Engine, table: str, columns: dict[str, Any], *times: str) -> None:
    """Off SQLite a time column must be a date-time type: a text column there would be
    compared as text (or not at all), so it is refused naming the column and its type."""
    if engine.dialect.name == "sqlite":
        return
    for column in times:
        kind = _kind(columns[column])
        if kind != "datetime":
            raise DataValidationError(
                f"time column {column!r} of table {table!r} has type {columns[column]} "
                f"({kind}); on {engine.dialect.name} a time column must be a timestamp or "
                "timestamptz column (convert it, or expose it through a view)"
            )


def _check_window(window: Window, what: str = "window") -> None:
    """A window to read: two datetimes, both naive (UTC) or both aware, start before end."""
    from modelguard.storage.ids import check_window_bounds

    check_window_bounds(window.start, window.end, what=what, error=DataValidationError)


_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"


def _usable_time(engine: Engine, column: str) -> sa.ColumnElement[bool]:
    """The rows whose ``column`` is a time every read can compare and convert: on SQLite text
    starting ``YYYY-MM-DD``, a real calendar date, that ``julianday()`` reads; elsewhere not
    NULL (a timestamp column holds nothing else)."""
    if engine.dialect.name != "sqlite":
        return sa.column(column).is_not(None)
    f, text = sa.func, sa.column(column)
    day = f.substr(text, 1, 10)
    return sa.and_(
        f.typeof(text) == "text",
        text.op("GLOB")(_DATE_GLOB),
        f.julianday(text).is_not(None),
        # julianday() reads 2026-02-30 as March 2nd: a day after the 28th must survive a
        # round trip (only those rows pay for it).
        sa.or_(f.substr(text, 9, 2) <= "28", f.date(f.julianday(day)) == day),
    )


@dataclass(frozen=True)
class UnparseableTimes:
    """Rows whose time column holds no usable date-time: ``count`` of them and one
    ``example`` (as an SQL literal: ``NULL``, ``'garbage'``, ``1700000000``; None if none)."""

    table: str
    column: str
    count: int
    example: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "count": self.count,
            "example": self.example,
        }

    def message(self) -> str:
        if not self.count:
            return f"every {self.column} of {self.table} is a usable date-time"
        return (
            f"{self.count} row(s) of {self.table} have a {self.column} that is no date-time "
            f"(e.g. {self.example}); they lie in no window, so reads and counts leave them out: "
            "store times as ISO 8601 text (YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]) or a timestamp"
        )


def _sqlite_microseconds(text: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """Microseconds since 1970 (UTC) of a SQLite date-time text, exactly.

    ``YYYY-MM-DD HH:MM:SS`` (or ``T``) is the first 19 characters; a fraction, when there is
    one, starts at the 20th with ``.``; whatever follows it is the offset (``Z``, ``+02:00``)
    or nothing. ``strftime('%s')`` of the text without the fraction gives whole seconds (no
    rounding, offset applied); the fraction's first six digits give the microseconds.
    """
    f = sa.func
    has_fraction = f.substr(text, 20, 1) == "."
    after_dot = f.substr(text, 21)
    offset_after_fraction = f.ltrim(after_dot, "0123456789")
    digits = f.substr(after_dot, 1, f.length(after_dot) - f.length(offset_after_fraction))
    offset = sa.case((has_fraction, offset_after_fraction), else_=f.substr(text, 20))
    seconds = sa.cast(f.strftime("%s", f.substr(text, 1, 19).concat(offset)), sa.BigInteger)
    micros = sa.case(
        (has_fraction, sa.cast(f.substr(digits.concat("000000"), 1, 6), sa.BigInteger)),
        else_=0,
    )
    return seconds * 1_000_000 + micros


def _order_expr(engine: Engine, time_column: str) -> sa.ColumnElement[Any]:
    """What rows are ordered by: the time column (on SQLite its ``julianday()``)."""
    if engine.dialect.name == "sqlite":
        return sa.func.julianday(sa.column(time_column))
    return sa.column(time_column, sa.DateTime())


# Beyond this distance (in days) from a bound, julianday()'s rounding to the millisecond cannot
# change a comparison: only rows closer than that pay for the exact expression.
_JULIANDAY_SLACK = 2 / 86_400_000


def _compare(engine: Engine, time_column: str, op: str, value: datetime) -> sa.ColumnElement[bool]:
    """``time_column <op> value`` (op: ``>=``, ``<`` or ``<=``) exact to the microsecond.

    On SQLite, ``julianday()`` decides every row more than 2 ms from the bound (fast), and
    :func:`_sqlite_microseconds` the rows near it (exact). An aware ``value`` is taken in UTC."""
    from modelguard.core.window import to_naive_utc

    value = to_naive_utc(value)
    if engine.dialect.name != "sqlite":
        return sa.column(time_column, sa.DateTime()).op(op)(sa.literal(value, sa.DateTime()))
    text = sa.column(time_column)
    day = sa.func.julianday(text)
    bound = sa.func.julianday(sa.literal(value.isoformat(sep=" "), sa.String()))
    exact = _sqlite_microseconds(text).op(op)(
        sa.literal((value - _EPOCH) // _ONE_MICROSECOND, sa.BigInteger())
    )
    if op == ">=":
        return sa.or_(
            day > bound + _JULIANDAY_SLACK, sa.and_(day >= bound - _JULIANDAY_SLACK, exact)
        )
    return sa.or_(day < bound - _JULIANDAY_SLACK, sa.and_(day <= bound + _JULIANDAY_SLACK, exact))


def _matured_clause(
    engine: Engine, label_column: str, label_time_column: str, as_of: datetime
) -> sa.ColumnElement[bool]:
    """The outcome is known and was known by ``as_of`` (inclusive), at a usable label time."""
    clause = sa.and_(
        sa.column(label_column).is_not(None), _compare(engine, label_time_column, "<=", as_of)
    )
    if engine.dialect.name == "sqlite":
        clause = sa.and_(clause, _usable_time(engine, label_time_column))
    return clause


def _window_clause(engine: Engine, time_column: str, window: Window) -> sa.ColumnElement[bool]:
    clause = sa.and_(
        _compare(engine, time_column, ">=", window.start),
        _compare(engine, time_column, "<", window.end),
    )
    if engine.dialect.name == "sqlite":
        # After the comparisons: only the rows they kept pay for the check (a REAL julian day
        # or "now" can pass julianday(); they are no time of the window).
        clause = sa.and_(clause, _usable_time(engine, time_column))
    return clause


def unparseable_times(
    engine: Engine,
    table: str,
    column: str,
    *,
    time_column: str | None = None,
    window: Window | None = None,
    label_column: str | None = None,
) -> UnparseableTimes:
    """Count the rows of ``table`` whose ``column`` is no usable date-time (see
    :func:`_usable_time`), with one example: one scan, made once per run.

    Send times: over the whole table (such a row lies in no window). Label times: pass
    ``label_column`` (only rows whose label is known count), and ``time_column`` with
    ``window`` to count only the sends of that window."""
    with connect(engine) as conn:
        schema, name, columns = _inspect_typed(conn, table)
        wanted = [column, *(c for c in (time_column, label_column) if c)]
        _check_columns(table, wanted, list(columns))
        col = sa.column(column)
        conditions = [sa.not_(_usable_time(engine, column))]
        if label_column:
            conditions.append(sa.column(label_column).is_not(None))
        if window is not None and time_column:
            _check_window(window)
            conditions.append(_window_clause(engine, time_column, window))
        shown = sa.func.quote(col) if engine.dialect.name == "sqlite" else sa.cast(col, sa.Text)
        stmt = (
            sa.select(sa.func.count(), sa.func.max(shown))
            .select_from(sa.table(name, schema=schema))
            .where(sa.and_(*conditions))
        )
        count, example = conn.execute(stmt).one()
    count = int(count or 0)
    if count and example is None:
        example = "NULL"
    return UnparseableTimes(table, column, count, example if count else None)


def count_rows(engine: Engine, table: str, time_column: str, window: Window) -> int:
    """Number of rows of ``table`` whose ``time_column`` lies in ``[window.start, window.end)``."""
    _check_window(window)
    with connect(engine) as conn:
        schema, name, columns = _inspect_typed(conn, table)
        _check_columns(table, [time_column], list(columns))
        _check_time_types(engine, table, columns, time_column)
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
    return _read(engine, table, time_column, window, columns)


def read_matured(
    engine: Engine,
    table: str,
    time_column: str,
    label_column: str,
    label_time_column: str,
    window: Window,
    as_of: datetime,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``table`` sent in ``[window.start, window.end)`` whose ``label_column`` is known
    and whose ``label_time_column`` is at or before ``as_of`` (aware, or naive UTC): the
    outcomes a run "as of" then may use. Ordered by ``time_column``; the two time columns, when
    selected, come back as naive-UTC ``datetime64``. Exactly the rows :func:`label_counts`
    counts as labelled."""
    from modelguard.core.window import to_naive_utc

    matured = _matured_clause(engine, label_column, label_time_column, to_naive_utc(as_of))
    return _read(
        engine,
        table,
        time_column,
        window,
        columns,
        where=matured,
        needed=(label_column, label_time_column),
        times=(label_time_column,),
    )


def _read(
    engine: Engine,
    table: str,
    time_column: str,
    window: Window,
    columns: list[str] | None,
    *,
    where: sa.ColumnElement[bool] | None = None,
    needed: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The selected columns of the rows in ``window`` (and ``where``), ordered by time;
    ``needed`` columns must exist too, ``times`` are converted like the time column. The frame
    is built by :func:`modelguard.storage.frames.select_frame` (PostgreSQL: through COPY)."""
    from modelguard.storage.frames import select_frame

    _check_window(window)
    if columns is not None and (isinstance(columns, str) or not hasattr(columns, "__iter__")):
        raise DataValidationError(
            f"columns must be a list of column names of table {table!r}, got {columns!r}"
        )
    with connect(engine) as conn:
        schema, name, typed = _inspect_typed(conn, table)
        existing = list(typed)
        # A column requested twice (or the time column named again) is read once, in the
        # order first asked for: a frame with duplicate column names is no valid input.
        selected = existing if columns is None else list(dict.fromkeys(_names(columns, table)))
        if not selected:
            raise DataValidationError(f"no columns requested from table {table!r}")
        _check_columns(table, [time_column, *needed, *selected], existing)
        _check_time_types(engine, table, typed, time_column, *times)

        clause = _window_clause(engine, time_column, window)
        stmt = (
            sa.select(*(sa.column(c) for c in selected))
            .select_from(sa.table(name, schema=schema))
            .where(clause if where is None else sa.and_(clause, where))
            .order_by(_order_expr(engine, time_column))
        )
        frame = select_frame(conn, stmt, selected, {c: typed[c] for c in selected})

    for column in (time_column, *times):
        if column in frame.columns:
            frame[column] = _to_naive_utc_series(frame[column], table, column)
    return frame


def _names(columns: Any, table: str) -> list[str]:
    names = list(columns)
    bad = [c for c in names if not isinstance(c, str) or not c]
    if bad:
        raise DataValidationError(
            f"column names must be non-empty strings, got {', '.join(repr(c) for c in bad)} "
            f"for table {table!r}"
        )
    return names


def _to_naive_utc_series(values: pd.Series, table: str, column: str) -> pd.Series:
    """``values`` as naive-UTC ``datetime64[us]``; a value pandas cannot read (one SQLite
    accepted) is a :class:`DataValidationError` naming the column and the value."""
    import pandas as pd

    try:
        return (
            pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None).dt.as_unit("us")
        )
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        bad = None
        for value in values:
            try:
                pd.to_datetime(value, utc=True, format="ISO8601")
            except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
                bad = value
                break
        raise DataValidationError(
            f"column {column!r} of table {table!r} holds {bad!r}, which is no date-time "
            "pandas can read; store times as ISO 8601 text (YYYY-MM-DD HH:MM:SS[.ffffff]"
            "[+HH:MM]) or a timestamp"
        ) from None


def matured_window(window: Window, label_delay_hours: float) -> Window:
    """The sends whose outcome is final by ``window.end``: ``window`` moved back by the delay.

    Outcomes become final at most ``label_delay_hours`` after the send, so every send in
    ``[start - delay, end - delay)`` has its final outcome by ``end``.
    """
    import math

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
    by then: the rows :func:`read_matured` reads. One query; times compared as in
    :func:`count_rows`, exact to the microsecond.
    """
    from modelguard.core.window import to_naive_utc

    _check_window(window)
    with connect(engine) as conn:
        schema, name, columns = _inspect_typed(conn, table)
        _check_columns(table, [time_column, label_column, label_time_column], list(columns))
        _check_time_types(engine, table, columns, time_column, label_time_column)
        known = _matured_clause(engine, label_column, label_time_column, to_naive_utc(as_of))
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


# --------------------------------------------------------------------------- health facts


def newest_time(
    engine: Engine,
    table: str,
    time_column: str,
    before: datetime,
    since: datetime | None = None,
) -> datetime | None:
    """The newest ``time_column`` of ``table`` in ``[since, before)`` (naive UTC), or ``None``
    when no row lies there: how fresh the source was at ``before`` (data time, so a backfill
    judges the source as it stood then). ``since`` bounds the scan."""
    import pandas as pd

    from modelguard.core.window import to_naive_utc

    if since is not None:
        from modelguard.storage.ids import check_window_bounds

        check_window_bounds(
            since, before, what="newest_time's [since, before)", error=DataValidationError
        )
    before = to_naive_utc(before)
    with connect(engine) as conn:
        schema, name, columns = _inspect_typed(conn, table)
        _check_columns(table, [time_column], list(columns))
        _check_time_types(engine, table, columns, time_column)
        clause = _compare(engine, time_column, "<", before)
        if since is not None:
            clause = sa.and_(_compare(engine, time_column, ">=", to_naive_utc(since)), clause)
        if engine.dialect.name == "sqlite":
            clause = sa.and_(clause, _usable_time(engine, time_column))
        stmt = (
            sa.select(sa.column(time_column))
            .select_from(sa.table(name, schema=schema))
            .where(clause)
            .order_by(_order_expr(engine, time_column).desc())
            .limit(1)
        )
        value = conn.execute(stmt).scalar_one_or_none()
    if value is None:
        return None
    stamp = _to_naive_utc_series(pd.Series([value]), table, time_column).iloc[0]
    return to_naive_utc(stamp.to_pydatetime())


def interval_counts(
    engine: Engine, table: str, time_column: str, windows: list[Window]
) -> list[int]:
    """Rows of ``table`` in each of ``windows`` (disjoint), in their order: one grouped
    ``COUNT`` query, times compared as in :func:`count_rows`."""
    if not windows:
        return []
    for window in windows:
        _check_window(window)
    with connect(engine) as conn:
        schema, name, columns = _inspect_typed(conn, table)
        _check_columns(table, [time_column], list(columns))
        _check_time_types(engine, table, columns, time_column)
        clauses = [_window_clause(engine, time_column, w) for w in windows]
        bucket = sa.case(*((c, i) for i, c in enumerate(clauses)), else_=-1).label("bucket")
        stmt = (
            sa.select(bucket, sa.func.count())
            .select_from(sa.table(name, schema=schema))
            .where(sa.or_(*clauses))
            .group_by(bucket)
        )
        found = {int(b): int(n) for b, n in conn.execute(stmt).all()}
    return [found.get(i, 0) for i in range(len(windows))]


def _kind(column_type: Any) -> str:
    """What a column's declared SQL type holds, as the feature checks name it."""
    if isinstance(column_type, sa.types.NullType):
        return "unknown"  # SQLite: a column declared without a type
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Float):
        return "float"
    if isinstance(column_type, sa.Numeric):
        return "decimal"  # read back as Python decimals, which drift detection refuses
    if isinstance(column_type, sa.String | sa.Enum):
        return "text"
    if isinstance(column_type, sa.DateTime | sa.Date | sa.Time):
        return "datetime"
    return "other"


def column_kinds(engine: Engine, table: str) -> dict[str, str]:
    """Column name -> ``integer``, ``float``, ``decimal``, ``text``, ``boolean``, ``datetime``,
    ``other`` or ``unknown`` (no declared type), from the table's declared types."""
    with connect(engine) as conn:
        schema, name, _ = _inspect_columns(conn, table)
        columns = sa.inspect(conn).get_columns(name, schema=schema)
    return {c["name"]: _kind(c["type"]) for c in columns}
