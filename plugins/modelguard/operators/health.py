"""``HealthCheckOperator``: a thin Airflow shell over ``modelguard.pipelines.health_check``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from modelguard.operators.common import (
    is_backfill,
    judge_with_from_context,
    timed,
    window_from_context,
)


class HealthCheckOperator(BaseOperator):
    """Check that the monitoring of the run's interval can be trusted, and record it.

    Source reachable and fresh, the row count usual for the interval, the champion's features
    still in the source, the champion's artifact intact, the registry reachable, earlier
    intervals decided: one health record per (DAG, interval) in ``mg_health_records``. A failed
    check never fails the task: it is the result, in the XCom (``status``, ``checks``,
    ``stored``) for the alert task. A registry that cannot be reached leaves the record in the
    spool under ``storage.report_root`` for the next run. Only a config that cannot be loaded
    (or a run without an interval) fails it.

    :param interval_seconds: the DAG's cadence; earlier intervals are counted in it.
    """

    template_fields = ("config_path",)
    ui_color = "#d8f0d8"

    def __init__(
        self, *, interval_seconds: int, config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.interval_seconds = interval_seconds
        self.config_path = config_path

    def _engine(self, conn_id: str, table: str | None = None):
        """The verified engine of a connection, or why there is none (never raises)."""
        from modelguard.hooks.db import ModelguardDbHook

        try:
            return ModelguardDbHook(conn_id).verify(table=table), None
        except Exception as exc:  # an unusable store is this task's finding, not its failure
            return None, f"{type(exc).__name__}: {exc}"

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.config import load_config
        from modelguard.core.timing import switch_phase
        from modelguard.pipelines.health_check import run_health_check

        switch_phase("config")
        config = load_config(self.config_path)
        window = window_from_context(context, 0)
        switch_phase("connect")
        source, source_error = self._engine(config.source.conn_id, config.source.table)
        registry, registry_error = self._engine(config.storage.registry_conn_id)
        outcome = run_health_check(
            config=config,
            source_engine=source,
            registry_engine=registry,
            interval=window,
            interval_seconds=self.interval_seconds,
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            judge_with=judge_with_from_context(context),
            backfill=is_backfill(context.get("dag_run")),
            source_error=source_error,
            registry_error=registry_error,
            log=self.log,
        )
        report = outcome.report
        for check in report.failed:
            self.log.warning(
                "Health check %s (%s) failed: %s", check.name, check.severity, check.message
            )
        self.log.info("Health of %s %s: %s", self.dag_id, window, report.summary)
        return outcome.to_xcom()
