"""What every modelguard task reads from its Airflow context: the window and the params."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

THRESHOLD_PARAMS = (
    "psi_warning",
    "psi_critical",
    "ks_significance",
    "min_ks_statistic",
    "min_cramers_v",
    "min_rows",
)


def timed(method: _F) -> _F:
    """Time a task method (``execute``, ``resume_execution``) with
    :func:`modelguard.core.timing.task_timer`: its phases and imports, logged as one line
    through the task's logger, also when it raises."""

    @functools.wraps(method)
    def run(self, *args: Any, **kwargs: Any) -> Any:
        from modelguard.core.timing import task_timer

        with task_timer(self.task_id, self.log):
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


def window_from_context(context: Any, window_hours: int):
    """The run's window: manual params win, else the data interval (never ``now()``)."""
    from modelguard.core.window import resolve_window

    params = context.get("params") or {}
    return resolve_window(
        context.get("data_interval_start"),
        context.get("data_interval_end"),
        window_start=params.get("window_start"),
        window_end=params.get("window_end"),
        window_hours=window_hours,
    )


def trailing_window_from_context(context: Any, hours: int):
    """The ``hours`` ending where the run's window ends (params or data interval; 0 = the window
    itself): label checks look back further than the drift window, and a manual window only
    fixes their end."""
    from modelguard.core.window import Window

    window = window_from_context(context, hours)
    if not hours:
        return window
    return Window(window.end - timedelta(hours=hours), window.end)


def threshold_overrides(context: Any, explicit: dict[str, Any] | None = None) -> dict[str, Any]:
    """Threshold params set on this run (None = use the config), then explicit overrides."""
    params = context.get("params") or {}
    found = {k: params.get(k) for k in THRESHOLD_PARAMS if params.get(k) is not None}
    found.update({k: v for k, v in (explicit or {}).items() if v is not None})
    return found


def as_of_from_context(context: Any):
    """The instant a gate decision is made "as of": the ``as_of`` param, else the data interval
    end (the logical date for unscheduled DAGs). Never ``now()``, so reruns decide the same."""
    from modelguard.core.window import parse_datetime_param, to_naive_utc
    from modelguard.exceptions import DataValidationError

    params = context.get("params") or {}
    if params.get("as_of"):
        return parse_datetime_param("as_of", params["as_of"])
    end = context.get("data_interval_end")
    if end is None:
        raise DataValidationError(
            "this run has no data interval (manual run without a logical date): give the as_of "
            "param, an ISO date-time such as 2026-09-01T00:00:00"
        )
    return to_naive_utc(end)


def load_run_config(config_path: str | None, *, verify_source: bool = True):
    """The config and the engines of its two connections, both verified first: an undefined
    connection, a database that cannot be opened or a missing source table fails the task at
    its start, naming the connection (``source.conn_id`` / ``storage.registry_conn_id``)
    instead of surfacing as a driver error deep inside the task's queries.

    ``verify_source=False``: for a task that never reads the source (a rollback must not wait for
    the source database); its connection must still be defined.
    """
    from modelguard.config import load_config
    from modelguard.core.timing import phase
    from modelguard.hooks.db import ModelguardDbHook

    with phase("config"):
        config = load_config(config_path)
    with phase("connect"):
        source_hook = ModelguardDbHook(config.source.conn_id)
        if verify_source:
            source = source_hook.verify(table=config.source.table)
        else:
            source = source_hook.get_engine()
        # The registry's tables are created on first use: only check that its database opens.
        registry = ModelguardDbHook(config.storage.registry_conn_id).verify()
    return config, source, registry


def pull_dict(context: Any, task_id: str, what: str, key: str = "return_value") -> dict:
    """A dict XCom of an upstream task, or a clear error naming the task."""
    from modelguard.exceptions import DataValidationError

    value = context["ti"].xcom_pull(task_ids=task_id, key=key)
    if not isinstance(value, dict):
        raise DataValidationError(f"task {task_id!r} left no {what} (got {value!r})")
    return value


def is_backfill(dag_run: Any) -> bool:
    """Whether the run is part of a backfill. At runtime ``run_type`` is the Task SDK's enum,
    whose ``str()`` is ``'DagRunType.BACKFILL'``: compare its value, never its text."""
    run_type = getattr(dag_run, "run_type", None)
    value = getattr(run_type, "value", run_type)
    return value == "backfill"


def judge_with_from_context(context: Any) -> str:
    """Which model version judges the run's interval: the ``judge_with`` param, by default the
    champion at the interval's end (so a reprocess repeats the first verdicts)."""
    from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END

    params = context.get("params") or {}
    return params.get("judge_with") or CHAMPION_AT_INTERVAL_END
