"""Shared database fixtures (a pytest plugin: ``pytest_plugins = ["tests.conftest_db"]``).

* ``sqlite_engine``: a real SQLite file in ``tmp_path`` (foreign keys enforced, as on PostgreSQL).
* ``pg_engine``: the PostgreSQL database named by ``MODELGUARD_TEST_PG_DSN`` (a SQLAlchemy URL,
  e.g. ``postgresql+psycopg2://user:pw@localhost:5432/db``). Each test gets its own fresh schema
  (first on the ``search_path``), dropped with everything in it afterwards. Without the DSN the
  test is skipped, or fails when the ``CI`` environment variable is set.
* ``engine``: parametrised over ``sqlite`` and ``postgres`` (the latter marked ``postgres``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

PG_DSN_ENV = "MODELGUARD_TEST_PG_DSN"
_MISSING_DSN = (
    f"PostgreSQL tests need {PG_DSN_ENV} set to a SQLAlchemy URL such as "
    "postgresql+psycopg2://user:password@localhost:5432/dbname (the user must be allowed to "
    "create schemas in that database)"
)


def running_in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but '', 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'modelguard.sqlite'}")

    @sa.event.listens_for(engine, "connect")
    def _enable_foreign_keys(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    dsn = os.environ.get(PG_DSN_ENV, "").strip()
    if not dsn:
        if running_in_ci():
            pytest.fail(f"{_MISSING_DSN}; CI is set, so these tests may not be skipped")
        pytest.skip(_MISSING_DSN)

    schema = f"mg_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(dsn, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(dsn, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    fixture = {"sqlite": "sqlite_engine", "postgres": "pg_engine"}[request.param]
    return request.getfixturevalue(fixture)


def engine_spec(engine: Engine) -> tuple[str, str | None]:
    """What a spawned process needs to open the same database: the URL (password included)
    and, on PostgreSQL, the test's schema."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url, None
    with engine.connect() as conn:
        return url, conn.execute(sa.text("SELECT current_schema()")).scalar_one()


def child_engine(url: str, schema: str | None) -> Engine:
    """The engine of :func:`engine_spec` in a child process (SQLite: foreign keys on)."""
    if schema is None:
        engine = sa.create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
