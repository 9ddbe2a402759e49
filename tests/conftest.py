"""Test environment: Airflow runs from a folder inside the repo, on SQLite.

Environment variables are set before anything imports Airflow, so plain ``pytest`` works as
well as ``make test``. modelguard and the example models come from the venv's editable installs
(``make install``), never from ``PYTHONPATH``: the suite stops at once when they would be
imported from anywhere but this checkout.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".airflow" / "test"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
# The plugin is registered by modelguard's entry point; an empty plugins folder (as the Makefile).
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / ".airflow" / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# The example model; tests of several models point it at a folder of their own.
os.environ.setdefault("MODELGUARD_CONFIG", str(ROOT / "config" / "main_config.yaml"))


def _require_editable_install() -> None:
    """Tests must run this checkout's code, installed the way users install it (editable)."""
    packages = {
        "modelguard": "plugins",
        "email_engagement": "include",
        "support_escalation": "include",
        "synthetic_source": "include",
    }
    for package, folder in packages.items():
        spec = importlib.util.find_spec(package)
        where = Path(spec.origin).resolve() if spec and spec.origin else None
        if where is None or not where.is_relative_to(ROOT / folder):
            pytest.exit(
                f"{package} is {'imported from ' + str(where) if where else 'not installed'} "
                f"in {sys.executable}, not from {ROOT / folder}: install the checkout with "
                "`make install` (pip install -e . -e ./include -c requirements.lock)",
                returncode=4,
            )


_require_editable_install()

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
