"""Who is asking, and may they read this model: Airflow's own authentication and authorization.

A request is authenticated by ``airflow.api_fastapi.core_api.security.get_user``, exactly as
Airflow's REST API does it: an ``Authorization: Bearer <token>`` header (a token from
``POST /auth/token``), else the UI's session cookie (``_token``). Reading a model needs read
access (``GET``) to its DAGs, decided by the configured auth manager's ``is_authorized_dag``
for the model's monitoring DAG (and the DAG a report URL names).
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from modelguard.factory.ids import ModelDagIds

__all__ = [
    "ApiUser",
    "PageUser",
    "can_read_model",
    "get_user",
    "login_url",
    "optional_user",
    "require_model",
]


async def optional_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
):
    """The user, or None when the request carries no valid login (the page then redirects to
    Airflow's login; the API answers 401 through :func:`get_user`)."""
    try:
        return await get_user(request, None, bearer)
    except HTTPException as exc:
        if exc.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            return None
        raise


ApiUser = Annotated[Any, Depends(get_user)]
"""The API's user: 401 without a login (403 for an invalid token), as Airflow's REST API."""
PageUser = Annotated[Any, Depends(optional_user)]
"""The page's user, None without a login (the page redirects to the login)."""


def login_url(request: Request) -> str:
    """Airflow's login page, coming back to this request's URL."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=str(request.url))


def _team(dag_id: str) -> str | None:
    from airflow.configuration import conf

    if not conf.getboolean("core", "multi_team", fallback=False):
        return None
    from airflow.models.dag import DagModel

    return DagModel.get_team_name(dag_id)


def _may_read(user, dag_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return get_auth_manager().is_authorized_dag(
        method="GET", details=DagDetails(id=dag_id, team_name=_team(dag_id)), user=user
    )


def can_read_model(user, model_name: str) -> bool:
    """Whether ``user`` may read the model's monitoring DAG."""
    return _may_read(user, ModelDagIds(model_name).monitoring)


def require_model(user, model_name: str, *dag_ids: str) -> None:
    """403 unless ``user`` may read the model's monitoring DAG and every DAG in ``dag_ids``."""
    for dag_id in dict.fromkeys((ModelDagIds(model_name).monitoring, *dag_ids)):
        if not _may_read(user, dag_id):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Forbidden: the Model health page of {model_name!r} needs read access to the "
                f"DAG {dag_id!r}",
            )
