"""A SELECT's rows as a pandas frame at the speed of the database.

Pure module: SQLAlchemy Core + pandas, no Airflow import. Every read of a source table
(:func:`modelguard.storage.source.read_window`, :func:`~modelguard.storage.source.read_matured`)
builds its frame here.

The frame is defined by what the first implementation gave, ``pd.DataFrame.from_records`` over
the driver's row tuples: its dtypes and values are the contract, and every path here gives the
same frame. On PostgreSQL a boolean column is ``bool`` (``object`` of True/False/None with a
NULL), an integer column ``int64`` (``float64`` with a NULL), a float column ``float64`` (NULL
and NaN both NaN), text ``str`` (NULL as NaN, ``''`` kept), ``numeric`` an ``object`` column of
``Decimal``, ``date`` one of ``datetime.date``, ``timestamp`` ``datetime64[us]``, ``timestamptz``
``datetime64[us, <the session's offset>]`` (NaT for NULL); a column that is NULL on every row is
``object`` of None, and a frame of no rows has ``object`` columns only.

What it costs is where the paths differ. Building that frame from SQLAlchemy ``Row`` objects took
14.7 s for a 1M-row window of 13 features on PostgreSQL; ``COPY ... TO STDOUT`` into
``pandas.read_csv`` takes 2.4 s. So:

* PostgreSQL through psycopg2: the SELECT is bound by psycopg2 exactly as its ``execute`` would
  send it (``cursor.mogrify``: psycopg2 always binds on the client) and run as ``COPY (...) TO
  STDOUT (FORMAT csv, NULL '<random marker>')`` into a temporary file, which ``pandas.read_csv``
  parses with a dtype per column from the declared types; the few conversions ``read_csv`` does
  not make (booleans, decimals, dates, date-times, all-NULL columns) follow. The NULL marker is
  what tells NULL from ``''`` (``read_csv`` reads a quoted empty field like an empty one); a
  text equal to the marker would be quoted by PostgreSQL, and is looked for.
* SQLite: the DBAPI cursor's tuples (SQLAlchemy's ``Row`` objects cost 3x the fetch).
* Anything else, and whenever the COPY path cannot be sure to give the same frame (a type it does
  not handle, a value it does not parse such as ``infinity`` or a BC date, mixed time-zone
  offsets, a text equal to the marker): the driver's tuples, as before.
"""

from __future__ import annotations

import mmap
import secrets
import tempfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelguard.exceptions import CopyReadNotExactError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection


def select_frame(
    conn: Connection, stmt: sa.Select[Any], columns: list[str], types: dict[str, Any]
) -> pd.DataFrame:
    """The rows of ``stmt`` (selecting ``columns``, of declared SQL ``types``) as a frame with the
    dtypes and values of ``pd.DataFrame.from_records`` over the driver's row tuples."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        kinds = [_copy_kind(types[c]) for c in columns]
        if None not in kinds:
            try:
                return _copy_frame(conn, stmt, columns, kinds)
            except CopyReadNotExactError:
                pass
    return tuples_frame(conn, stmt, columns)


def tuples_frame(conn: Connection, stmt: sa.Select[Any], columns: list[str]) -> pd.DataFrame:
    """``pd.DataFrame.from_records`` over the DBAPI cursor's tuples: SQLAlchemy binds and runs
    the statement; its ``Row`` objects, which cost more than the fetch, are never made."""
    import pandas as pd

    result = conn.execute(stmt)
    try:
        rows = result.cursor.fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            None, None, exc, conn.dialect.loaded_dbapi.Error, connection_invalidated=False
        ) from exc
    finally:
        result.close()
    return pd.DataFrame.from_records(rows, columns=columns)


# --------------------------------------------------------------------------- PostgreSQL COPY

_BOOL, _INT, _FLOAT, _DECIMAL, _TEXT, _DATE, _TIMESTAMP = (
    "bool",
    "int",
    "float",
    "decimal",
    "text",
    "date",
    "timestamp",
)


def _copy_kind(column_type: Any) -> str | None:
    """How the COPY path reads a column of this declared type; None: it does not (arrays, JSON,
    UUID, bytea, time, interval, ...: psycopg2 makes Python objects of those)."""
    if isinstance(column_type, sa.Boolean):
        return _BOOL
    if isinstance(column_type, sa.Integer):
        return _INT
    if isinstance(column_type, sa.Float):
        return _FLOAT
    if isinstance(column_type, sa.Numeric):
        return _DECIMAL
    if isinstance(column_type, sa.String | sa.Enum):
        return _TEXT
    if isinstance(column_type, sa.DateTime):
        return _TIMESTAMP
    if isinstance(column_type, sa.Date):
        return _DATE
    return None


def _driver_sql(conn: Connection, stmt: sa.Select[Any]) -> tuple[str, dict[str, Any]]:
    """``stmt`` as SQLAlchemy hands it to psycopg2: the compiled string and the bound
    parameters after the dialect's bind processing (as ``Connection.execute`` does it)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params(escape_names=False)
    processors = compiled._bind_processors
    escaped = compiled.escaped_bind_names or {}
    bound = {
        escaped.get(key, key): processors[key](value) if key in processors else value
        for key, value in params.items()
    }
    return compiled.string, bound


def _copy_frame(
    conn: Connection, stmt: sa.Select[Any], columns: list[str], kinds: list[str]
) -> pd.DataFrame:
    """The COPY path (see the module docstring); :class:`CopyReadNotExactError` when it cannot be sure."""
    import pandas as pd
    import psycopg2
    import psycopg2.extensions

    raw = conn.connection.dbapi_connection
    encoding = psycopg2.extensions.encodings.get(raw.encoding)
    if encoding is None:
        raise CopyReadNotExactError
    sql, params = _driver_sql(conn, stmt)
    # A random marker for NULL: no value of ours, and a text equal to it is quoted (looked for).
    marker = f"mgnull{secrets.token_hex(8)}"
    kind_of = dict(zip(columns, kinds, strict=True))
    with raw.cursor() as cursor, tempfile.TemporaryFile() as spool:
        try:
            select = cursor.mogrify(sql, params).decode(encoding)
            if not raw.autocommit:
                # Shortest exact float text whatever the session's setting (PostgreSQL >= 12:
                # any value > 0; older: 17 digits); SET LOCAL ends with the read's transaction.
                cursor.execute("SET LOCAL extra_float_digits = 3")
            cursor.copy_expert(
                f"COPY ({select}) TO STDOUT WITH (FORMAT csv, NULL '{marker}')", spool
            )
        except psycopg2.Error as exc:
            raise sa.exc.DBAPIError.instance(
                sql, params, exc, psycopg2.Error, connection_invalidated=False
            ) from exc
        spool.flush()
        if spool.tell() == 0:
            return pd.DataFrame.from_records([], columns=columns)
        with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as view:
            if view.find(f'"{marker}"'.encode(encoding)) != -1:
                raise CopyReadNotExactError

        def parse(usecols: list[str] | None, dtype: dict[str, Any], nulls: dict[str, list[str]]):
            spool.seek(0)
            return pd.read_csv(
                spool,
                header=None,
                names=columns,
                usecols=usecols,
                index_col=False,
                encoding=encoding,
                dtype=dtype,
                keep_default_na=False,  # 'NA', 'null', 'nan', '' are text
                na_values=nulls,
                skip_blank_lines=False,  # a row of one '' text is an empty line
            )

        frame = parse(
            None,
            # integers without a dtype: int64, or float64 with a NULL (as from_records)
            {c: "float64" if k == _FLOAT else str for c, k in kind_of.items() if k != _INT},
            {c: [marker, "NaN"] if k == _FLOAT else [marker] for c, k in kind_of.items()},
        )
        for column, kind in kind_of.items():
            values = frame[column]
            if kind == _FLOAT and values.isna().all():
                # NULL on every row (object of None) or NaN on some (float64): as text, again
                again = parse([column], {column: str}, {column: [marker]})[column]
                if not again.isna().all():
                    continue
            frame[column] = _like_tuples(values, kind)
    return frame


def _like_tuples(values: pd.Series, kind: str) -> pd.Series:
    """A column as ``read_csv`` parsed it, made what ``from_records`` gives for that kind."""
    import numpy as np
    import pandas as pd

    missing = values.isna().to_numpy()

    def series(array: Any) -> pd.Series:
        return pd.Series(array, index=values.index, name=values.name)

    if missing.all():
        return series(np.full(len(values), None, dtype=object))
    if kind in (_INT, _FLOAT, _TEXT):
        return values
    if kind == _BOOL:
        text = values.to_numpy(dtype=object)
        if not np.isin(text[~missing], ("t", "f")).all():
            raise CopyReadNotExactError
        truth = text == "t"
        if not missing.any():
            return series(truth)
        flags = truth.astype(object)
        flags[missing] = None
        return series(flags)
    if kind == _TIMESTAMP:
        try:
            stamps = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            raise CopyReadNotExactError from None  # 'infinity', a BC or 5-digit year, mixed offsets
        return stamps.dt.as_unit("us")
    convert: Callable[[str], Any] = Decimal if kind == _DECIMAL else date.fromisoformat
    try:
        objects = [None if gone else convert(v) for v, gone in zip(values, missing, strict=True)]
    except (ValueError, ArithmeticError):
        raise CopyReadNotExactError from None  # a date 'infinity' or BC
    return series(np.array(objects, dtype=object))
