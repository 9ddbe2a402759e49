"""Airflow connection -> SQLAlchemy URL/engine for the modelguard SQL store.

Thin: the engine cache and all SQL live in :mod:`modelguard.storage.source`. No sqlalchemy import at
module top (DAG files import this at parse time).
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from modelguard.exceptions import (
    ConnectionNotDefinedError,
    StoreUnavailableError,
    UnsupportedConnectionError,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from sqlalchemy.engine import Engine

# modelguard's own connection type (registered by modelguard.provider_info): a SQLAlchemy URL
# in the extra, nothing else.
CONN_TYPE = "modelguard"
SUPPORTED_CONN_TYPES = ("sqlite", "postgres", "postgresql")

# libpq parameters an Airflow postgres connection may carry in ``extra``; passed on as URL query.
_PG_EXTRA_PARAMS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
)


def build_sqlalchemy_url(conn: Connection, extra: dict[str, Any]) -> str:
    """Turn an Airflow connection (and its decoded ``extra``) into a SQLAlchemy URL string.

    * ``extra["sqlalchemy_url"]`` wins for any connection type (and is all a ``modelguard``
      connection holds);
    * ``sqlite``: ``sqlite:///<host>`` (Airflow's sqlite connections keep the file path in host);
    * ``postgres``/``postgresql``: ``postgresql+psycopg2://login:password@host:port/schema``.
    """
    override = extra.get("sqlalchemy_url")
    if override:
        return str(override)

    conn_type = (conn.conn_type or "").lower()
    if conn_type == CONN_TYPE:
        raise UnsupportedConnectionError(
            f"connection {conn.conn_id!r} has type {CONN_TYPE!r} but no sqlalchemy_url in its "
            'extra: set the extra to {"sqlalchemy_url": "dialect+driver://..."}, e.g. '
            '{"sqlalchemy_url": "sqlite:////abs/path.db"}'
        )
    if conn_type == "sqlite":
        if not conn.host:
            raise UnsupportedConnectionError(
                f"sqlite connection {conn.conn_id!r} has no host: put the absolute path of the "
                "database file in the connection's host, e.g. "
                '{"conn_type": "sqlite", "host": "/abs/path.db"}'
            )
        return f"sqlite:///{conn.host}"

    if conn_type in ("postgres", "postgresql"):
        from sqlalchemy.engine import URL

        query = {k: str(extra[k]) for k in _PG_EXTRA_PARAMS if extra.get(k) not in (None, "")}
        url = URL.create(
            "postgresql+psycopg2",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=int(conn.port) if conn.port else None,
            database=conn.schema or None,
            query=query,
        )
        # str(URL) masks the password as '***': render it for real.
        return url.render_as_string(hide_password=False)

    raise UnsupportedConnectionError(
        f"connection {conn.conn_id!r} has type {conn.conn_type!r}, which modelguard cannot use: "
        f"use one of {', '.join(SUPPORTED_CONN_TYPES)}, or put a SQLAlchemy URL in the "
        'connection extra as {"sqlalchemy_url": "dialect+driver://..."}'
    )


def connection_not_defined(conn_id: str) -> ConnectionNotDefinedError:
    """The error for an unknown connection id, with the two usual ways to define it."""
    example = '{"conn_type": "sqlite", "host": "/abs/path.db"}'
    return ConnectionNotDefinedError(
        f"Airflow connection {conn_id!r} is not defined: define it with the environment variable "
        f"AIRFLOW_CONN_{conn_id.upper()}='{example}' (or a postgres connection), or with "
        f"`airflow connections add {conn_id} --conn-uri "
        "'postgres://login:password@host:5432/dbname'`; or set source.conn_id / "
        "storage.registry_conn_id in the modelguard config to a connection that exists"
    )


@contextmanager
def naming_connection(conn_id: str, doing: str | None = None) -> Generator[None]:
    """Re-raise a :class:`StoreUnavailableError` of the pure layer as the same class, its message
    prefixed ``connection '<conn_id>': `` (:mod:`modelguard.storage.source` knows the table and the URL,
    not the Airflow connection id) and, before that, ``<doing>: `` (what the task was doing)."""
    try:
        yield
    except StoreUnavailableError as exc:
        text = str(exc)
        named = f"connection {conn_id!r}: "
        if not isinstance(exc, ConnectionNotDefinedError) and not text.startswith(named):
            text = named + text
        if doing:
            text = f"{doing}: {text}"
        if text == str(exc):
            raise
        raise type(exc)(text) from exc.__cause__


class ModelguardDbHook(BaseHook):
    """SQL store (SQLite or PostgreSQL) reached through an Airflow connection.

    :param conn_id: Airflow connection id, e.g. from
        ``AIRFLOW_CONN_MODELGUARD_SOURCE='{"conn_type": "sqlite", "host": "/abs/path.db"}'``.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "modelguard_source"
    conn_type = CONN_TYPE
    hook_name = "modelguard SQL store"

    def __init__(self, conn_id: str = default_conn_name, logger_name: str | None = None) -> None:
        super().__init__(logger_name=logger_name)
        self.conn_id = conn_id

    def get_sqlalchemy_url(self) -> str:
        """SQLAlchemy URL of the connection (sync; for tasks)."""
        try:
            conn = self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            raise connection_not_defined(self.conn_id) from None
        return build_sqlalchemy_url(conn, conn.extra_dejson)

    async def aget_sqlalchemy_url(self) -> str:
        """SQLAlchemy URL of the connection (async; for triggers running in the triggerer loop)."""
        try:
            conn = await self.aget_connection(self.conn_id)
        except AirflowNotFoundException:
            raise connection_not_defined(self.conn_id) from None
        return build_sqlalchemy_url(conn, await conn.aextra_dejson())

    def get_engine(self) -> Engine:
        """Engine for the connection, cached per process and URL."""
        from modelguard.storage.source import engine_for_url

        return engine_for_url(self.get_sqlalchemy_url())

    def verify(self, table: str | None = None) -> Engine:
        """The engine, after connecting once (and checking that ``table`` exists): a task fails at
        its start naming this connection, not later inside a query. Without ``table`` (a store
        that creates its tables on first use) a SQLite file that does not exist yet is fine.

        :raises ConnectionNotDefinedError: no connection has this id.
        :raises ConnectionFailedError: the database cannot be opened (driver's reason, password
            masked).
        :raises TableNotFoundError: ``table`` is not in the database (the existing ones listed).
        """
        from modelguard.storage.source import check_table, connect

        engine = self.get_engine()
        with naming_connection(self.conn_id):
            if table is None:
                connect(engine, new_sqlite_file_ok=True).close()
            else:
                check_table(engine, table)
        return engine

    def get_conn(self) -> Engine:
        """BaseHook API: the SQLAlchemy engine."""
        return self.get_engine()
