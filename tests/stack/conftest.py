"""Fixtures of the stack tests: the real Airflow 3 topology (``scripts/airflow_stack.py``).

``stack`` is module-scoped: each test module gets its own fresh stack and metadata database, so
fault tests in one module cannot disturb another. It needs ``MODELGUARD_TEST_PG_DSN`` (a role
allowed to CREATE DATABASE): without it the tests are skipped, or fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest_db import PG_DSN_ENV, running_in_ci
from tests.stack.client import StackClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from airflow_stack import COMPONENTS, AirflowStack, alive  # noqa: E402

__all__ = ["COMPONENTS", "MODELGUARD_DAGS", "AirflowStack", "alive", "own_databases"]

MODELGUARD_DAGS = (
    "email_engagement_monitoring",
    "email_engagement_retraining",
    "email_engagement_deployment",
    "email_engagement_rollback",
)
_MISSING_DSN = (
    f"stack tests need {PG_DSN_ENV} set to a PostgreSQL SQLAlchemy URL such as "
    "postgresql+psycopg2://user:password@localhost:5432/dbname whose role may CREATE DATABASE "
    "(ALTER ROLE <user> CREATEDB)"
)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    dsn = os.environ.get(PG_DSN_ENV, "").strip()
    if not dsn:
        if running_in_ci():
            pytest.fail(f"{_MISSING_DSN}; CI is set, so these tests may not be skipped")
        pytest.skip(_MISSING_DSN)
    return dsn


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, tmp_path_factory) -> Iterator[AirflowStack]:
    """A started stack on SQLite source/registry files and the repo's config."""
    data = tmp_path_factory.mktemp("stack-data")
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=f"sqlite:///{data / 'source.db'}",
        registry_url=f"sqlite:///{data / 'registry.db'}",
        config_path=ROOT / "config" / "main_config.yaml",
        home=tmp_path_factory.mktemp("stack-home"),
    ) as started:
        yield started


@pytest.fixture(scope="module")
def api(stack) -> Iterator[StackClient]:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        yield client


@contextmanager
def own_databases(pg_admin_dsn: str, prefix: str) -> Generator[dict[str, str], None, None]:
    """A source and a registry database of a module's own on the test PostgreSQL server
    (``{"source": url, "registry": url}``), dropped afterwards."""
    from airflow_stack import _with_database, create_database, drop_database

    names = {kind: f"{prefix}_{kind}_{secrets.token_hex(3)}" for kind in ("source", "registry")}
    for name in names.values():
        create_database(pg_admin_dsn, name)
    try:
        yield {k: _with_database(pg_admin_dsn, n, "postgresql+psycopg2") for k, n in names.items()}
    finally:
        for name in names.values():
            drop_database(pg_admin_dsn, name)


@pytest.fixture(scope="module")
def stores(pg_admin_dsn, request) -> Iterator[dict[str, str]]:
    """The module's own source and registry databases (:func:`own_databases`), named after
    it; a module with stores of another kind (a private server) defines its own fixture."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").removesuffix("_stack")
    with own_databases(pg_admin_dsn, f"mg_{name[:20]}") as urls:
        yield urls
