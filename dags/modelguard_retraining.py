"""modelguard_retraining: train a challenger and hand it to the champion/challenger gate.

build_training_set (strategy) -> train_challenger (fit + validate) -> register_challenger ->
deploy_mode -> gate (McNemar -> deploy | reject -> post-deployment check -> rollback on failure).

Started from the trigger form (typed params, validated before any task runs) or by
``modelguard_monitoring`` when drift, concept drift or lost performance says the champion is
stale; then the conf carries the reason, the drift report URI and ``as_of`` (the monitoring
interval's end), so the whole run is decided as of data time, never the wall clock.
"""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from modelguard.config import STRATEGIES, load_config
from modelguard.operators.conf import refuse_unknown_conf
from modelguard.operators.deployment import add_gate_tasks
from modelguard.operators.retraining import (
    DEPLOY_MODES,
    BuildTrainingSetOperator,
    DeployModeBranchOperator,
    RegisterChallengerOperator,
    RetrainModelOperator,
)

# The estimator factory lives in include/, which plain Airflow does not put on sys.path.
INCLUDE = Path(__file__).resolve().parents[1] / "include"
if INCLUDE.is_dir() and str(INCLUDE) not in sys.path:
    sys.path.append(str(INCLUDE))

cfg = load_config()
MONITORING_SECTION = "Set by modelguard_monitoring (leave empty)"

with DAG(
    dag_id="modelguard_retraining",
    description="Retrain with a strategy, validate, register, and run the champion/challenger gate",
    schedule=None,
    start_date=cfg.monitoring.start_date.replace(tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"pre_execute": refuse_unknown_conf},
    tags=["modelguard", "retraining"],
    params={
        "strategy": Param(
            cfg.retraining.default_strategy,
            type="string",
            enum=list(STRATEGIES),
            title="Training strategy",
            description="sliding_window: the last window_months of matured data; weighted: all "
            "matured data with recency weights; full_batch: all matured data.",
        ),
        "window_months": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=60,
            title="Window (months of 30 days)",
            description="sliding_window only. Empty = retraining.sliding_window_months.",
        ),
        "deploy": Param(
            "auto",
            type="string",
            enum=list(DEPLOY_MODES),
            title="Deployment",
            description="auto: the gate decides; never: register the challenger only; "
            "force_evaluation_only: evaluate but never promote.",
        ),
        "reason": Param(
            "manual retraining",
            type="string",
            minLength=3,
            title="Reason",
            description="Why this retraining; recorded with the challenger.",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Decide as of",
            description="Train on and judge with labels matured by this instant, e.g. "
            "2026-10-15T00:00:00Z. Empty = the run's logical date; required for a run without "
            "one.",
        ),
        "drift_report_uri": Param(
            None,
            type=["null", "string"],
            title="Drift report (set by monitoring)",
            description="Filled in by modelguard_monitoring when it starts this run; leave empty "
            "when retraining by hand.",
            section=MONITORING_SECTION,
        ),
        "triggered_by": Param(
            None,
            type=["null", "string"],
            title="Started by (set by monitoring)",
            description="The monitoring run that started this retraining; leave empty when "
            "retraining by hand.",
            section=MONITORING_SECTION,
        ),
    },
    doc_md=__doc__,
) as dag:
    build_training_set = BuildTrainingSetOperator(
        task_id="build_training_set",
        strategy="{{ params.strategy }}",
        window_months="{{ params.window_months }}",
    )
    train_challenger = RetrainModelOperator(
        task_id="train_challenger", training_set_task_id="build_training_set"
    )
    register_challenger = RegisterChallengerOperator(
        task_id="register_challenger",
        training_set_task_id="build_training_set",
        model_task_id="train_challenger",
        reason="{{ params.reason }}",
    )
    deploy_mode = DeployModeBranchOperator(
        task_id="deploy_mode",
        mode="{{ params.deploy }}",
        gate_task_id="evaluate_challenger",
        stop_task_id="not_deployed",
    )
    not_deployed = EmptyOperator(task_id="not_deployed")
    evaluate_challenger, exits = add_gate_tasks(
        challenger_version_id="{{ ti.xcom_pull(task_ids='register_challenger')['challenger_id'] }}",
        mode="{{ params.deploy }}",
        evaluation_only=True,
    )
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

    build_training_set >> train_challenger >> register_challenger >> deploy_mode
    deploy_mode >> [evaluate_challenger, not_deployed]
    [not_deployed, *exits] >> done
