"""The report DAG of one model, ``<model>_report``: once a week, the monitoring report of the
week that ended (its data interval) as JSON under ``storage.report_root``; a manual run reports
any period given as ``period_start`` / ``period_end``."""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from modelguard.config import ModelguardConfig
from modelguard.factory.common import default_args, start_date, tags
from modelguard.factory.ids import ModelDagIds
from modelguard.operators.report import MonitoringReportOperator

WEEKLY = "0 0 * * 1"  # Monday 00:00 UTC: the data interval is the week before


def _params() -> dict[str, Param]:
    return {
        "period_start": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Period start",
            description="Report this period instead of the run's data interval, e.g. "
            "2026-06-01T00:00:00Z; give the period end too. Needed for a manual run without "
            "a logical date.",
        ),
        "period_end": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Period end (exclusive)",
            description="End of the period to report, e.g. 2026-06-08T00:00:00Z.",
        ),
    }


def build_report_dag(config: ModelguardConfig, config_path: Path, ids: ModelDagIds) -> DAG:
    with DAG(
        dag_id=ids.report,
        description=f"{config.model.name}: the weekly monitoring report (JSON) of drift, "
        "performance, alerts, deployments and rollbacks",
        schedule=CronDataIntervalTimetable(WEEKLY, timezone="UTC"),
        start_date=start_date(config),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(config_path, retries=1),
        tags=tags(config, "report"),
        params=_params(),
        doc_md=__doc__,
    ) as dag:
        MonitoringReportOperator(task_id="write_report")
    return dag
