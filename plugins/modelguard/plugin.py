"""The Airflow plugin, registered through the ``airflow.plugins`` entry point of the wheel.

Airflow loads it in every component (``airflow plugins`` lists it with the distribution as its
source), so this module imports nothing but ``AirflowPlugin``. Operators, sensors, hooks and
triggers need no registration in Airflow 3: DAGs import them from ``modelguard``, and the
provider entry point (``modelguard.provider_info``) makes them known to ``airflow providers``.

UI parts: the Model health page, a FastAPI app (:mod:`modelguard.web`) that the api-server
mounts at ``/modelguard`` (``fastapi_apps``), and an ``external_views`` entry "Model health" in
Airflow's navigation that shows it inside the UI (``url_route``: ``/plugin/model-health``).
``fastapi_apps`` is built on first access: only the api-server (and ``airflow plugins``) reads
it, so schedulers and task processes, which load plugins for their macros, never import
FastAPI or the page's templates.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

PAGE_PREFIX = "/modelguard"  # modelguard.links.PAGE_PREFIX (not imported: keep this module bare)


class ModelguardPlugin(AirflowPlugin):
    """modelguard in Airflow's plugin manager."""

    name = "modelguard"
    external_views = [
        {
            "name": "Model health",
            "href": f"{PAGE_PREFIX}/",
            "url_route": "model-health",
            "destination": "nav",
        }
    ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from modelguard.web.app import get_app

        return [{"app": get_app(), "url_prefix": PAGE_PREFIX, "name": "Model health"}]
