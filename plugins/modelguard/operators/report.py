"""``MonitoringReportOperator``: a thin Airflow shell over ``modelguard.pipelines.model_report``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator


def period_from_context(context: Any):
    """The run's report period: the ``period_start`` / ``period_end`` params when given (both),
    else the run's data interval (never ``now()``)."""
    from modelguard.core.window import parse_datetime_param
    from modelguard.exceptions import DataValidationError
    from modelguard.reporting import Period

    params = context.get("params") or {}
    start, end = params.get("period_start"), params.get("period_end")
    if start or end:
        if not (start and end):
            raise DataValidationError(
                "give both period_start and period_end (ISO date-times, e.g. "
                "2026-06-01T00:00:00Z and 2026-06-08T00:00:00Z), or neither to report the "
                "run's data interval"
            )
        first = parse_datetime_param("period_start", start)
        last = parse_datetime_param("period_end", end)
        if first >= last:
            raise DataValidationError(
                f"param period_start ({first.isoformat()}) must be before period_end "
                f"({last.isoformat()}); the period is half-open [period_start, period_end)"
            )
        return Period(first, last)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start == end:
        raise DataValidationError(
            "this run has no data interval to report (a manual run without a logical date): "
            "give the period_start and period_end params"
        )
    return Period(start, end)


class MonitoringReportOperator(BaseOperator):
    """Write the model's monitoring report for the run's period (the data interval, or the
    ``period_start`` / ``period_end`` params) to
    ``<storage.report_root>/<model>/reports/<start>_<end>.json``, replacing that period's file.

    Reads only the registry's database (versions, events, drift results, label checks, alerts);
    returns ``{uri, path, model_name, period_start, period_end, counts}`` for XCom.
    """

    template_fields = ("config_path",)
    ui_color = "#dbe8d4"

    def __init__(self, *, config_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk import conf

        from modelguard.config import load_config
        from modelguard.hooks.db import ModelguardDbHook
        from modelguard.pipelines.model_report import run_model_report

        period = period_from_context(context)
        config = load_config(self.config_path)
        registry = ModelguardDbHook(config.storage.registry_conn_id).verify()
        written = run_model_report(
            config=config,
            registry_engine=registry,
            period=period,
            base_url=conf.get("api", "base_url", fallback=""),
            log=self.log,
        )
        return written.to_xcom()
