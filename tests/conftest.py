"""Test environment: Airflow runs from a folder inside the repo, on SQLite.

Environment variables are set before anything imports Airflow, so plain ``pytest`` works as
well as ``make test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".airflow" / "test"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# The example model; tests of several models point it at a folder of their own.
os.environ.setdefault("MODELGUARD_CONFIG", str(ROOT / "config" / "main_config.yaml"))
_paths = [str(ROOT / "plugins"), str(ROOT / "include")]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [*_paths, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p not in _paths)]
).rstrip(os.pathsep)

pytest_plugins = ["tests.conftest_db"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """An Airflow metadata DB migrated once per AIRFLOW_HOME (kept between runs)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if not marker.exists():
        home.mkdir(parents=True, exist_ok=True)
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
        marker.touch()
    return home
