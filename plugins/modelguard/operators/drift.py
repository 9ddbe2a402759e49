"""``DriftDetectionOperator``: a thin Airflow shell over ``modelguard.pipelines.drift_check``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from modelguard.operators.common import (
    judge_with_from_context,
    load_run_config,
    threshold_overrides,
    timed,
    window_from_context,
)


class DriftDetectionOperator(BaseOperator):
    """Compare the run's window of the source table with the champion's reference profile.

    Writes the JSON/HTML report under ``storage.report_root``, replaces the per-feature rows of
    this (DAG, window) in the results store, and returns only a small verdict (URIs, names,
    counts) for XCom. Which tests run per feature type comes from
    ``drift_detection.numeric_tests`` / ``categorical_tests``.
    """

    template_fields = ("config_path", "threshold_overrides")
    ui_color = "#f6d8a8"

    def __init__(
        self,
        *,
        config_path: str | None = None,
        window_hours: int | None = None,
        threshold_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path
        self.window_hours = window_hours
        self.threshold_overrides = threshold_overrides

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.drift.detection import resolve_thresholds
        from modelguard.pipelines.drift_check import run_drift_check

        config, source, registry = load_run_config(self.config_path)
        hours = config.monitoring.window_hours if self.window_hours is None else self.window_hours
        window = window_from_context(context, hours)
        overrides = threshold_overrides(context, self.threshold_overrides)
        thresholds = resolve_thresholds(config.drift_detection, **overrides)
        if overrides:
            self.log.info("Threshold overrides for this run: %s", overrides)
        result = run_drift_check(
            config=config,
            thresholds=thresholds,
            source_engine=source,
            registry_engine=registry,
            window=window,
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            judge_with=judge_with_from_context(context),
            log=self.log,
        )
        self.log.info("%s", result.summary)
        self.log.info("Report: %s", result.html_uri)
        return result.to_xcom()
