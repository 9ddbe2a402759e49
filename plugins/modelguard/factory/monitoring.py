"""The monitoring DAGs of one model: drift on the newest window, performance and concept drift
on the matured one, and a decision: start retraining, cool down, alert, or healthy.

Two DAGs share these tasks: ``<model>_monitoring`` runs at ``monitoring.monitoring_interval``
(hourly by default) and ``<model>_monitoring_daily`` once a day over the day, so history can be
backfilled at daily cadence with one command and no config edit.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from modelguard.config import DriftDetectionConfig, ModelguardConfig
from modelguard.factory.common import default_args, start_date, tags
from modelguard.factory.ids import ModelDagIds
from modelguard.operators.alerts import RaiseAlertsOperator
from modelguard.operators.drift import (
    DriftDetectionOperator,
    MergeDriftPartitionsOperator,
    SummarisePartitionOperator,
)
from modelguard.operators.estimation import EstimatePerformanceOperator
from modelguard.operators.health import HealthCheckOperator
from modelguard.operators.labels import (
    ConceptDriftOperator,
    PerformanceOperator,
    RetrainDecisionOperator,
    TriggerRetrainingOperator,
)
from modelguard.operators.retention import PruneHistoryOperator
from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END, JUDGE_WITH
from modelguard.sensors.labels_matured import LabelsMaturedSensor
from modelguard.sensors.new_data import NewDataSensor

DAILY = "0 0 * * *"
DAILY_SECONDS = 86400


# JSON Schema lets NaN through every bound (each comparison with NaN is false), and Airflow's
# execution API turns a NaN of the conf into null before a task sees it, so the run would
# silently use the config's value. NaN is the one number that is both <= 0 and > 0 here: "not"
# that refuses it at trigger time; the maximum refuses Infinity.
_FINITE = {"not": {"type": "number", "maximum": 0, "exclusiveMinimum": 0}, "maximum": 1e300}


def _number_param(
    dd: DriftDetectionConfig, title: str, key: str, description: str, **schema
) -> Param:
    return Param(
        None,
        type=["null", "number"],
        title=title,
        description=f"{description} Empty = the config's drift_detection.{key} ({getattr(dd, key)}).",
        **{**_FINITE, **schema},
    )


def _params(config: ModelguardConfig, ids: ModelDagIds) -> dict[str, Param]:
    dd = config.drift_detection
    return {
        "window_start": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window start",
            description="Analyse this window instead of the run's data interval, e.g. "
            "2026-09-01T00:00:00Z. Needed for a manual run without a logical date; give the "
            "window end too.",
        ),
        "window_end": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window end (exclusive)",
            description="End of the window to analyse, e.g. 2026-09-02T00:00:00Z.",
        ),
        "psi_warning": _number_param(
            dd,
            "PSI for minor drift",
            "psi_warning",
            "PSI from which a feature counts as minor drift.",
            exclusiveMinimum=0,
        ),
        "psi_critical": _number_param(
            dd,
            "PSI for major drift",
            "psi_critical",
            "PSI from which a feature counts as major drift.",
            exclusiveMinimum=0,
        ),
        "ks_significance": _number_param(
            dd,
            "Significance of KS / chi-square",
            "ks_significance",
            "Level of the KS and chi-square tests after Benjamini-Hochberg.",
            exclusiveMinimum=0,
            exclusiveMaximum=1,
        ),
        "min_rows": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Rows needed in the window",
            description="Rows the window must hold before it is analysed. Empty = the config's "
            f"drift_detection.min_rows ({dd.min_rows}).",
        ),
        "judge_with": Param(
            CHAMPION_AT_INTERVAL_END,
            type="string",
            enum=list(JUDGE_WITH),
            title="Model version to judge with",
            description="champion_at_interval_end: the champion of the interval's time, so a "
            "reprocess repeats its verdicts; current_champion: re-judge history with today's "
            "champion.",
        ),
        "retrain_on_backfill": Param(
            False,
            type="boolean",
            title="Start retraining from a backfill",
            description="A backfill records decisions for historical intervals; only with this "
            f"set does it also start {ids.retraining} (one per drift episode).",
        ),
    }


def build_monitoring_dag(
    config: ModelguardConfig,
    config_path: Path,
    ids: ModelDagIds,
    *,
    daily: bool = False,
) -> DAG:
    """The monitoring tasks on one cadence (the config's, or daily); every cadence stores under
    its own DAG id."""
    mon, src, dd = config.monitoring, config.source, config.drift_detection
    if daily:
        dag_id, cron = ids.monitoring_daily, DAILY
        description = (
            f"{config.model.name}: the same monitoring once a day over the day; backfill "
            "history at daily cadence"
        )
    else:
        dag_id, cron = ids.monitoring, mon.schedule_cron
        description = (
            f"{config.model.name}: drift, performance and concept-drift monitoring of the "
            "champion, per interval"
        )
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=start_date(config),
        catchup=mon.catchup,
        max_active_runs=4,
        # The retry delay is Airflow's [core] default_task_retry_delay.
        default_args=default_args(config_path, retries=1),
        tags=tags(config, "monitoring"),
        params=_params(config, ids),
        doc_md=__doc__,
    ) as dag:
        wait_for_data = NewDataSensor(
            task_id="wait_for_data",
            conn_id=src.conn_id,
            table=src.table,
            time_column=src.time_column,
            min_rows=f"{{{{ params.min_rows or {dd.min_rows} }}}}",
            window_hours=mon.window_hours,
            deferrable=mon.deferrable_sensors,
            poke_interval=mon.data_poke_seconds,
            timeout=mon.data_wait_minutes * 60,
        )
        drift_first, detect_drift = _drift_tasks(mon.drift_partitions)
        # The champion's performance estimated from its scores on the same window, before the
        # labels mature: an estimated drop is an alert (and a reason), never a retraining.
        estimate_performance = EstimatePerformanceOperator(task_id="estimate_performance")
        # Labels that never arrive: the sensor soft-fails (skipped) and the checks record
        # "missing". It waits only once the window has data, so a run for an interval with no
        # data ends after data_wait_minutes.
        wait_for_labels = LabelsMaturedSensor(
            task_id="wait_for_labels",
            conn_id=src.conn_id,
            table=src.table,
            time_column=src.time_column,
            label_column=src.label_column,
            label_time_column=src.label_time_column,
            label_delay_hours=src.label_delay_hours,
            min_labelled_rows=mon.min_labelled_rows,
            min_label_share=mon.min_label_share,
            window_hours=mon.label_window_hours,
            deferrable=mon.deferrable_sensors,
            poke_interval=mon.label_poke_seconds,
            timeout=mon.label_wait_minutes * 60,
            soft_fail=True,
        )
        measure_performance = PerformanceOperator(task_id="measure_performance")
        detect_concept_drift = ConceptDriftOperator(task_id="detect_concept_drift")
        decide = RetrainDecisionOperator(
            task_id="decide",
            drift_task_id=detect_drift.task_id,
            performance_task_id="measure_performance",
            concept_task_id="detect_concept_drift",
            estimate_task_id="estimate_performance",
            retrain_task_id="trigger_retraining",
            alert_task_id="alert",
            healthy_task_id="healthy",
        )
        trigger_retraining = TriggerRetrainingOperator(
            task_id="trigger_retraining",
            decision_task_id="decide",
            trigger_dag_id=ids.retraining,
        )
        alert = EmptyOperator(task_id="alert")
        healthy = EmptyOperator(task_id="healthy")
        done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

        # Independent of the sensors: a stale source is reported when the run starts, not
        # after data_wait_minutes; a failed check is its result, never a failed task.
        check_health = HealthCheckOperator(
            task_id="check_health",
            interval_seconds=DAILY_SECONDS if daily else mon.monitoring_interval,
        )
        # A teardown without setups: runs when everything upstream is done (all_done), and is
        # left out of the run's state, so a failed wait_for_data still fails the run.
        prune_history = PruneHistoryOperator(
            task_id="prune_history", dag_ids=[ids.monitoring, ids.monitoring_daily]
        ).as_teardown()

        wait_for_data >> [drift_first, estimate_performance, wait_for_labels]
        wait_for_labels >> [measure_performance, detect_concept_drift]
        [detect_drift, estimate_performance, measure_performance, detect_concept_drift] >> decide
        decide >> [trigger_retraining, alert, healthy] >> done
        # Both teardowns: the run's state stays that of done; alerts see check_health, and
        # history is pruned after the alerts have read it.
        _raise_alerts(done, check_health, detect_drift.task_id) >> prune_history
    return dag


def _drift_tasks(n_partitions: int):
    """(first, last) of the drift check: one ``detect_drift`` task, or with
    ``monitoring.drift_partitions`` N > 1, N mapped ``summarise_partition`` tasks over equal
    parts of the window, then ``merge_and_decide`` (which pushes detect_drift's XCom)."""
    if n_partitions == 1:
        task = DriftDetectionOperator(task_id="detect_drift")
        return task, task
    summarise = SummarisePartitionOperator.partial(
        task_id="summarise_partition",
        n_partitions=n_partitions,
        map_index_template=f"{{{{ task.partition + 1 }}}} of {n_partitions}",
    ).expand(partition=list(range(n_partitions)))
    merge = MergeDriftPartitionsOperator(task_id="merge_and_decide", n_partitions=n_partitions)
    summarise >> merge
    return summarise, merge


def _raise_alerts(done, check_health, drift_task_id: str) -> RaiseAlertsOperator:
    """``raise_alerts`` after ``done`` and ``check_health``, run whatever happened upstream. A
    teardown, so that its success does not hide a failed run: the run's state stays that of
    ``done`` (Airflow ignores teardowns when it decides a run's state)."""
    raise_alerts = RaiseAlertsOperator(task_id="raise_alerts", drift_task_id=drift_task_id)
    [done, check_health] >> raise_alerts
    raise_alerts.as_teardown()
    raise_alerts.trigger_rule = "all_done"  # no setup tasks: all_done is what it waits for
    return raise_alerts
