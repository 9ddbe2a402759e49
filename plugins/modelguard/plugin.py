"""The Airflow plugin, registered through the ``airflow.plugins`` entry point of the wheel.

Airflow loads it in every component (``airflow plugins`` lists it with the distribution as its
source), so this module imports nothing but ``AirflowPlugin``. Operators, sensors, hooks and
triggers need no registration in Airflow 3: DAGs import them from ``modelguard``, and the
provider entry point (``modelguard.provider_info``) makes them known to ``airflow providers``.
UI parts (``fastapi_apps``, ``external_views``) hang off this class.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class ModelguardPlugin(AirflowPlugin):
    """modelguard in Airflow's plugin manager."""

    name = "modelguard"
