"""``EstimatePerformanceOperator``: a thin Airflow shell over
``modelguard.pipelines.performance_estimate``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from modelguard.operators.common import (
    judge_with_from_context,
    load_run_config,
    timed,
    window_from_context,
)


class EstimatePerformanceOperator(BaseOperator):
    """Estimate the champion's performance on the run's window (the drift window) from its
    scores, before the labels mature; store it per (DAG, window, version) and fill in the
    realised value of earlier estimates whose labels have matured by the window's end.

    Returns a small verdict for XCom (status, metric, estimate, interval, drop, degraded,
    reason). A window or model that cannot be estimated is recorded as ``unavailable``; the
    task does not fail for it.
    """

    template_fields = ("config_path",)
    ui_color = "#e0d4f7"

    def __init__(
        self, *, config_path: str | None = None, window_hours: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path
        self.window_hours = window_hours

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.performance_estimate import run_performance_estimate

        config, source, registry = load_run_config(self.config_path)
        hours = config.monitoring.window_hours if self.window_hours is None else self.window_hours
        outcome = run_performance_estimate(
            config=config,
            source_engine=source,
            registry_engine=registry,
            window=window_from_context(context, hours),
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            judge_with=judge_with_from_context(context),
            log=self.log,
        )
        return outcome.to_dict()
