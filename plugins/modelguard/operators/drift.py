"""The drift tasks: thin Airflow shells over ``modelguard.pipelines.drift_check``.

``DriftDetectionOperator`` judges the whole window in one task. With
``monitoring.drift_partitions`` > 1 the monitoring DAG maps ``SummarisePartitionOperator``
over the partitions of the window (each reads only its part and writes a summary file) and
``MergeDriftPartitionsOperator`` merges them and decides; its XCom is the one
``DriftDetectionOperator`` pushes, so the tasks downstream cannot tell the two apart.
"""

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


def _run_window(context: Any, config, window_hours: int | None):
    hours = config.monitoring.window_hours if window_hours is None else window_hours
    return window_from_context(context, hours)


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

        config, source, registry = load_run_config(self.config_path)
        window = _run_window(context, config, self.window_hours)
        overrides = threshold_overrides(context, self.threshold_overrides)
        thresholds = resolve_thresholds(config.drift_detection, **overrides)
        if overrides:
            self.log.info("Threshold overrides for this run: %s", overrides)
        result = self.check(
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

    def check(self, **kwargs: Any):
        """The whole window in this task."""
        from modelguard.pipelines.drift_check import run_drift_check

        return run_drift_check(**kwargs)


class MergeDriftPartitionsOperator(DriftDetectionOperator):
    """Merge the ``n_partitions`` summaries the mapped ``SummarisePartitionOperator`` tasks
    wrote for this run's window and decide, exactly as ``DriftDetectionOperator`` does on the
    whole window: the same report, stored rows and XCom."""

    def __init__(self, *, n_partitions: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_partitions = n_partitions

    def check(self, **kwargs: Any):
        from modelguard.pipelines.drift_check import merge_and_decide

        return merge_and_decide(n_partitions=self.n_partitions, **kwargs)


class SummarisePartitionOperator(BaseOperator):
    """Summarise partition ``partition`` of ``n_partitions`` of the run's window (mapped with
    ``.expand(partition=...)``): read only that part of the source, write its summary file
    under ``storage.report_root`` and return where it is (never the data) for XCom."""

    template_fields = ("config_path",)
    ui_color = "#f6e4c4"

    def __init__(
        self,
        *,
        partition: int,
        n_partitions: int,
        config_path: str | None = None,
        window_hours: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.partition = partition
        self.n_partitions = n_partitions
        self.config_path = config_path
        self.window_hours = window_hours

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.drift_check import summarise_partition

        config, source, registry = load_run_config(self.config_path)
        result = summarise_partition(
            config=config,
            source_engine=source,
            registry_engine=registry,
            window=_run_window(context, config, self.window_hours),
            partition=self.partition,
            n_partitions=self.n_partitions,
            dag_id=self.dag_id,
            judge_with=judge_with_from_context(context),
            log=self.log,
        )
        self.log.info("Summary of %d rows: %s", result.n_rows, result.uri)
        return result.to_xcom()
