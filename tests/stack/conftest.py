"""Fixtures of the stack tests: the real Airflow 3 topology (``scripts/airflow_stack.py``).

``stack`` is module-scoped: each test module gets its own fresh stack and metadata database, so
fault tests in one module cannot disturb another. It needs ``MODELGUARD_TEST_PG_DSN`` (a role
allowed to CREATE DATABASE): without it the tests are skipped, or fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest_db import PG_DSN_ENV, running_in_ci
from tests.stack.client import StackClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from airflow_stack import COMPONENTS, AirflowStack, alive  # noqa: E402

__all__ = ["COMPONENTS", "MODELGUARD_DAGS", "AirflowStack", "alive"]

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
