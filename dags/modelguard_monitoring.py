"""modelguard_monitoring: wait for a window of scored sends, check it for drift, branch.

Parsed often by the scheduler: only the small YAML config is read here; pandas, scipy, SQLAlchemy
and matplotlib are imported inside the tasks.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from modelguard.config import load_config
from modelguard.operators.branch import DriftBranchOperator, RecordDecisionOperator
from modelguard.operators.drift import DriftDetectionOperator
from modelguard.sensors.new_data import NewDataSensor

DAG_ID = "modelguard_monitoring"
cfg = load_config()
dd = cfg.drift_detection


def _number_param(default_from: str, description: str, **schema) -> Param:
    return Param(
        None,
        type=["null", "number"],
        title=default_from,
        description=f"{description} Empty = the config's {default_from}.",
        **schema,
    )


with DAG(
    dag_id=DAG_ID,
    description="Drift monitoring of the champion's inputs, one data interval at a time",
    schedule=CronDataIntervalTimetable(cfg.monitoring.schedule_cron, timezone="UTC"),
    start_date=cfg.monitoring.start_date.replace(tzinfo=UTC),
    catchup=cfg.monitoring.catchup,
    max_active_runs=4,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
    tags=["modelguard", "monitoring"],
    params={
        "window_start": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window start (UTC)",
            description="Analyse this window instead of the run's data interval. "
            "Needed for a manual run without a logical date; give window_end too.",
        ),
        "window_end": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window end (UTC, exclusive)",
        ),
        "psi_warning": _number_param(
            "drift_detection.psi_warning",
            "PSI from which a feature counts as minor drift.",
            exclusiveMinimum=0,
        ),
        "psi_critical": _number_param(
            "drift_detection.psi_critical",
            "PSI from which a feature counts as major drift.",
            exclusiveMinimum=0,
        ),
        "ks_significance": _number_param(
            "drift_detection.ks_significance",
            "Significance of KS / chi-square after Benjamini-Hochberg.",
            exclusiveMinimum=0,
            exclusiveMaximum=1,
        ),
        "min_rows": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="drift_detection.min_rows",
            description="Rows the window must hold before it is analysed. "
            "Empty = the config's drift_detection.min_rows.",
        ),
    },
    doc_md=__doc__,
) as dag:
    wait_for_data = NewDataSensor(
        task_id="wait_for_data",
        conn_id=cfg.source.conn_id,
        table=cfg.source.table,
        time_column=cfg.source.time_column,
        min_rows=f"{{{{ params.min_rows or {dd.min_rows} }}}}",
        window_hours=cfg.monitoring.window_hours,
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )
    detect_drift = DriftDetectionOperator(task_id="detect_drift")
    branch_on_drift = DriftBranchOperator(
        task_id="branch_on_drift",
        drift_task_id="detect_drift",
        major_task_id="major_drift",
        minor_task_id="minor_drift",
        healthy_task_id="healthy",
    )
    major_drift = RecordDecisionOperator(
        task_id="major_drift",
        drift_task_id="detect_drift",
        decision="retraining_recommended",
        alert=True,
    )
    minor_drift = RecordDecisionOperator(
        task_id="minor_drift", drift_task_id="detect_drift", decision="alert", alert=True
    )
    healthy = RecordDecisionOperator(
        task_id="healthy", drift_task_id="detect_drift", decision="healthy"
    )
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

    wait_for_data >> detect_drift >> branch_on_drift >> [major_drift, minor_drift, healthy] >> done
