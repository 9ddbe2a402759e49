"""Registers modelguard with Airflow's plugin manager (shown by ``airflow plugins``).

Operators, sensors and hooks need no registration in Airflow 3: DAGs import them from the
``modelguard`` package. Later UI parts (dashboard, report views) hang off this plugin.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class ModelguardPlugin(AirflowPlugin):
    name = "modelguard"
