"""modelguard_monitoring: drift on the newest window, performance and concept drift on the
matured one, and a decision: start retraining, alert, or healthy.

Parsed often by the scheduler: only the small YAML config is read here; pandas, scipy, SQLAlchemy
and matplotlib are imported inside the tasks.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from modelguard.config import load_config
from modelguard.operators.drift import DriftDetectionOperator
from modelguard.operators.labels import (
    ConceptDriftOperator,
    PerformanceOperator,
    RetrainDecisionOperator,
    TriggerRetrainingOperator,
)
from modelguard.sensors.labels_matured import LabelsMaturedSensor
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
    description="Drift, performance and concept-drift monitoring of the champion, per interval",
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
        "retrain_on_backfill": Param(
            False,
            type="boolean",
            title="Start retraining from a backfill",
            description="A backfill records decisions for historical intervals; only with this "
            "set does it also start modelguard_retraining.",
        ),
    },
    doc_md=__doc__,
) as dag:
    src = cfg.source
    wait_for_data = NewDataSensor(
        task_id="wait_for_data",
        conn_id=src.conn_id,
        table=src.table,
        time_column=src.time_column,
        min_rows=f"{{{{ params.min_rows or {dd.min_rows} }}}}",
        window_hours=cfg.monitoring.window_hours,
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )
    detect_drift = DriftDetectionOperator(task_id="detect_drift")
    # Labels that never arrive: the sensor soft-fails (skipped) and the checks record "missing".
    wait_for_labels = LabelsMaturedSensor(
        task_id="wait_for_labels",
        conn_id=src.conn_id,
        table=src.table,
        time_column=src.time_column,
        label_column=src.label_column,
        label_time_column=src.label_time_column,
        label_delay_hours=src.label_delay_hours,
        min_labelled_rows=cfg.monitoring.min_labelled_rows,
        min_label_share=cfg.monitoring.min_label_share,
        window_hours=cfg.monitoring.label_window_hours,
        mode="reschedule",
        poke_interval=900,
        timeout=12 * 3600,
        soft_fail=True,
    )
    measure_performance = PerformanceOperator(task_id="measure_performance")
    detect_concept_drift = ConceptDriftOperator(task_id="detect_concept_drift")
    decide = RetrainDecisionOperator(
        task_id="decide",
        drift_task_id="detect_drift",
        performance_task_id="measure_performance",
        concept_task_id="detect_concept_drift",
        retrain_task_id="trigger_retraining",
        alert_task_id="alert",
        healthy_task_id="healthy",
    )
    trigger_retraining = TriggerRetrainingOperator(
        task_id="trigger_retraining", decision_task_id="decide"
    )
    alert = EmptyOperator(task_id="alert")
    healthy = EmptyOperator(task_id="healthy")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

    wait_for_data >> detect_drift
    wait_for_labels >> [measure_performance, detect_concept_drift]
    [detect_drift, measure_performance, detect_concept_drift] >> decide
    decide >> [trigger_retraining, alert, healthy] >> done
