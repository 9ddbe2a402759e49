"""Shared SQLAlchemy Core plumbing for the registry and the result store.

Portability rules, the same on SQLite and PostgreSQL:

* every table lives in the one :data:`metadata` and its name starts with ``mg_``;
* datetimes are stored naive and in UTC (:class:`UTCDateTime` converts tz-aware input);
* JSON is stored as text written with ``json.dumps(sort_keys=True)`` (:class:`JSONText`);
  NaN and infinities become ``null`` so the text is strict JSON;
* floats that are NaN or infinite are stored as NULL (:class:`FiniteFloat`);
* binary data is ``LargeBinary`` (``bytea`` on PostgreSQL, ``BLOB`` on SQLite).

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from modelguard.core.window import to_naive_utc
from modelguard.exceptions import NotJSONSerializableError, StoreError

__all__ = [
    "FiniteFloat",
    "JSONText",
    "UTCDateTime",
    "add_missing_columns",
    "dumps_json",
    "ensure_lock",
    "lock",
    "finite_or_none",
    "loads_json",
    "metadata",
    "to_naive_utc",
    "utcnow",
]

TABLE_PREFIX = "mg_"

# Deterministic constraint names, so PostgreSQL error messages and future migrations can name them.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def add_missing_columns(engine: Engine, table: sa.Table) -> list[str]:
    """Add the nullable columns of ``table`` that an existing table lacks (a store created by an
    earlier modelguard), so upgrading keeps every stored row. Returns the names added."""
    existing = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in existing]
    not_nullable = [c.name for c in missing if not c.nullable]
    if not_nullable:
        raise StoreError(
            f"table {table.name} lacks the required column(s) {', '.join(not_nullable)}, which "
            "cannot be added to stored rows; migrate it by hand"
        )
    with engine.begin() as conn:
        for column in missing:
            kind = column.type.compile(dialect=engine.dialect)
            conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
    return [c.name for c in missing]


locks_table = sa.Table(
    "mg_locks",
    metadata,
    sa.Column("name", sa.String(250), primary_key=True),
    sa.Column("counter", sa.Integer, nullable=False),
)


def ensure_lock(engine: Engine, name: str) -> None:
    """Create the row of lock ``name`` if it does not exist yet, in its own transaction (before
    the transaction that takes it: on SQLite that one holds the only writer lock)."""
    t = locks_table
    with engine.connect() as conn:
        if conn.execute(sa.select(t.c.name).where(t.c.name == name)).first() is not None:
            return
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(t).values(name=name, counter=0))
    except sa.exc.IntegrityError:
        pass  # another process created it first


def lock(conn: sa.Connection, name: str) -> None:
    """Serialise every transaction that calls this with ``name`` until it ends.

    Call it as the first statement of the transaction, after :func:`ensure_lock`: an ``UPDATE``
    of the lock's row takes a row lock on PostgreSQL and SQLite's database-wide writer lock, on
    both held to the commit, so a check and the write it leads to are one atomic step."""
    t = locks_table
    bump = sa.update(t).where(t.c.name == name).values(counter=t.c.counter + 1)
    if conn.execute(bump).rowcount != 1:
        raise StoreError(f"lock {name!r} has no row in {t.name}: call ensure_lock first")


# --------------------------------------------------------------------------- datetimes


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (microsecond precision)."""
    return datetime.now(UTC).replace(tzinfo=None)


def optional_naive_utc(value: datetime | None) -> datetime | None:
    """:func:`to_naive_utc` that lets ``None`` through."""
    return None if value is None else to_naive_utc(value)


# --------------------------------------------------------------------------- floats and JSON


def finite_or_none(value: Any) -> float | None:
    """``float(value)``, or ``None`` for ``None``, NaN, +inf and -inf (also numpy scalars)."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types: numpy scalars/arrays, datetimes, tuples; NaN → None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return to_naive_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    # numpy (and pandas) scalars and arrays, without importing numpy here.
    if hasattr(value, "dtype") and hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    raise NotJSONSerializableError(
        f"value of type {type(value).__name__} cannot be stored as JSON: {value!r}; "
        "use str, int, float, bool, None, lists, tuples, dicts, datetimes or numpy values"
    )


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    plain = _jsonable(key)
    if isinstance(plain, (dict, list)):
        raise NotJSONSerializableError(
            f"a JSON object key must be a scalar, got {type(key).__name__}: {key!r}"
        )
    return json.dumps(plain) if not isinstance(plain, str) else plain


def dumps_json(value: Any) -> str:
    """Strict, deterministic JSON text (``sort_keys=True``; NaN/inf written as ``null``)."""
    return json.dumps(_jsonable(value), sort_keys=True, allow_nan=False)


def loads_json(text: str | None) -> Any:
    """Inverse of :func:`dumps_json`; ``None`` stays ``None``."""
    return None if text is None else json.loads(text)


# --------------------------------------------------------------------------- column types


class UTCDateTime(TypeDecorator):
    """``DateTime`` without time zone holding naive UTC; tz-aware input is converted on write."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        return optional_naive_utc(value)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return optional_naive_utc(value)


class JSONText(TypeDecorator):
    """JSON stored as ``Text`` via :func:`dumps_json`; read back with ``json.loads``."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else dumps_json(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return loads_json(value)


class FiniteFloat(TypeDecorator):
    """Double-precision float that stores NaN and ±inf as NULL."""

    impl = sa.Double
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> float | None:
        return finite_or_none(value)

    def process_result_value(self, value: Any, dialect: Any) -> float | None:
        return None if value is None else float(value)


def to_bytes(value: Any) -> bytes | None:
    """Binary column value as ``bytes`` (psycopg2 may hand back a ``memoryview``)."""
    return None if value is None else bytes(value)
