"""What every modelguard task reads from its Airflow context: the window and the params."""

from __future__ import annotations

from typing import Any

THRESHOLD_PARAMS = (
    "psi_warning",
    "psi_critical",
    "ks_significance",
    "min_ks_statistic",
    "min_cramers_v",
    "min_rows",
)


def window_from_context(context: Any, window_hours: int):
    """The run's window: manual params win, else the data interval (never ``now()``)."""
    from modelguard.window import resolve_window

    params = context.get("params") or {}
    return resolve_window(
        context.get("data_interval_start"),
        context.get("data_interval_end"),
        window_start=params.get("window_start"),
        window_end=params.get("window_end"),
        window_hours=window_hours,
    )


def threshold_overrides(context: Any, explicit: dict[str, Any] | None = None) -> dict[str, Any]:
    """Threshold params set on this run (None = use the config), then explicit overrides."""
    params = context.get("params") or {}
    found = {k: params.get(k) for k in THRESHOLD_PARAMS if params.get(k) is not None}
    found.update({k: v for k, v in (explicit or {}).items() if v is not None})
    return found
