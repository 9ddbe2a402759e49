"""The retraining DAG of one model (``<model>_retraining``): train a challenger and hand it to
the champion/challenger gate.

build_training_set (strategy) -> train_challenger (fit + validate) -> register_challenger ->
deploy_mode -> gate (McNemar -> deploy | reject -> post-deployment check -> rollback on failure).
With ``deployment.approval: human`` a person approves the gate's ``deploy`` first
(request_approval -> deploy | approval_rejected | approval_timed_out).

Started from the trigger form (typed params, validated before any task runs) or by
the model's monitoring DAG when drift, concept drift or lost performance says the champion is
stale; then the conf carries the reason, the drift report URI and ``as_of`` (the monitoring
interval's end), so the whole run is decided as of data time, never the wall clock.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from modelguard.config import STRATEGIES, ModelguardConfig
from modelguard.factory.common import approval_args, default_args, start_date, tags
from modelguard.factory.ids import ModelDagIds
from modelguard.operators.retraining import (
    DEPLOY_MODES,
    BuildTrainingSetOperator,
    DeployModeBranchOperator,
    RegisterChallengerOperator,
    RetrainModelOperator,
)
from modelguard.task_groups.gate import GateTaskGroup


def _params(config: ModelguardConfig, ids: ModelDagIds) -> dict[str, Param]:
    monitoring_section = f"Set by {ids.monitoring} (leave empty)"
    return {
        "strategy": Param(
            config.retraining.default_strategy,
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
            description=f"Filled in by {ids.monitoring} when it starts this run; leave empty "
            "when retraining by hand.",
            section=monitoring_section,
        ),
        "triggered_by": Param(
            None,
            type=["null", "string"],
            title="Started by (set by monitoring)",
            description="The monitoring run that started this retraining; leave empty when "
            "retraining by hand.",
            section=monitoring_section,
        ),
    }


def build_retraining_dag(config: ModelguardConfig, config_path: Path, ids: ModelDagIds) -> DAG:
    with DAG(
        dag_id=ids.retraining,
        description=f"{config.model.name}: retrain with a strategy, validate, register, and run "
        "the champion/challenger gate",
        schedule=None,
        start_date=start_date(config),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(config_path),
        tags=tags(config, "retraining"),
        params=_params(config, ids),
        doc_md=__doc__,
    ) as dag:
        build_training_set = BuildTrainingSetOperator(
            task_id="build_training_set",
            strategy="{{ params.strategy }}",
            window_months="{{ params.window_months }}",
        )
        train_challenger = RetrainModelOperator(
            task_id="train_challenger", training_set_task_id=build_training_set.task_id
        )
        register_challenger = RegisterChallengerOperator(
            task_id="register_challenger",
            training_set_task_id=build_training_set.task_id,
            model_task_id=train_challenger.task_id,
            reason="{{ params.reason }}",
        )
        registered = register_challenger.task_id
        gate = GateTaskGroup(
            challenger_version_id=(
                f"{{{{ ti.xcom_pull(task_ids='{registered}')['challenger_id'] }}}}"
            ),
            mode="{{ params.deploy }}",
            evaluation_only=True,
            config_path=str(config_path),
            **approval_args(config),
        )
        not_deployed = EmptyOperator(task_id="not_deployed")
        deploy_mode = DeployModeBranchOperator(
            task_id="deploy_mode",
            mode="{{ params.deploy }}",
            gate_task_id=gate.entry.task_id,
            stop_task_id=not_deployed.task_id,
        )
        done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")

        build_training_set >> train_challenger >> register_challenger >> deploy_mode
        deploy_mode >> [gate.entry, not_deployed]
        [not_deployed, *gate.exits] >> done
    return dag
