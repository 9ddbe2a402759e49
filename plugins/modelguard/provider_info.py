"""What ``airflow providers`` knows about modelguard (the ``apache_airflow_provider`` entry point).

Airflow calls :func:`get_provider_info` in every process that lists providers and validates the
dict against its ``provider_info.schema.json``; ``package-name`` must be the distribution's name.
Plain data, so listing providers imports nothing of modelguard but this module: hooks are
imported lazily, by connection type, when a connection of type ``modelguard`` is used.
"""

from __future__ import annotations

from typing import Any

PACKAGE_NAME = "modelguard"
INTEGRATION = "modelguard"
CONNECTION_TYPE = "modelguard"

HOOK_MODULES = ("modelguard.hooks.db",)
OPERATOR_MODULES = (
    "modelguard.operators.alerts",
    "modelguard.operators.approval",
    "modelguard.operators.config_error",
    "modelguard.operators.deployment",
    "modelguard.operators.drift",
    "modelguard.operators.estimation",
    "modelguard.operators.health",
    "modelguard.operators.labels",
    "modelguard.operators.report",
    "modelguard.operators.retention",
    "modelguard.operators.retraining",
)
SENSOR_MODULES = (
    "modelguard.sensors.base",
    "modelguard.sensors.labels_matured",
    "modelguard.sensors.new_data",
)
TRIGGER_MODULES = (
    "modelguard.triggers.base",
    "modelguard.triggers.labels_matured",
    "modelguard.triggers.new_data",
)
NOTIFIER_CLASSES = (
    "modelguard.notifications.log.LogAlertNotifier",
    "modelguard.notifications.webhook.WebhookAlertNotifier",
)
HOOK_CLASS = "modelguard.hooks.db.ModelguardDbHook"


def _modules(modules: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION, "python-modules": list(modules)}]


def get_provider_info() -> dict[str, Any]:
    """The provider record of modelguard (a new dict each call: Airflow adds keys to it)."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "modelguard",
        "description": "Keeps a production classifier healthy: data and concept drift, "
        "performance on matured labels, retraining, a McNemar champion/challenger gate, "
        "deployment and rollback.",
        "integrations": [{"integration-name": INTEGRATION, "tags": ["software"]}],
        "hooks": _modules(HOOK_MODULES),
        "operators": _modules(OPERATOR_MODULES),
        "sensors": _modules(SENSOR_MODULES),
        "triggers": _modules(TRIGGER_MODULES),
        "notifications": list(NOTIFIER_CLASSES),
        "connection-types": [
            {
                "connection-type": CONNECTION_TYPE,
                "hook-class-name": HOOK_CLASS,
                "hook-name": "modelguard SQL store",
                # A modelguard connection is one SQLAlchemy URL in the extra (sqlite and
                # postgres connections work too, with their usual fields).
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "login", "password", "port"],
                    "relabeling": {},
                    "placeholders": {
                        "extra": '{"sqlalchemy_url": "postgresql+psycopg2://user:pw@host:5432/db"}'
                    },
                },
            }
        ],
    }
