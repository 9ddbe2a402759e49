"""The deployment and rollback DAGs of one model.

``<model>_deployment``: the champion/challenger gate for a registered challenger: evaluate
(McNemar on the validation window) -> deploy | reject; after a deployment, check the new
champion on the freshest matured window and roll back automatically if it falls short of what
the evaluation promised. Triggered by hand; decisions are made "as of" the run's logical date or
the ``as_of`` param, never the wall clock. With ``deployment.approval: human`` a person approves
the gate's ``deploy`` first, as in the retraining DAG: a run of this DAG promotes a model too.

``<model>_rollback``: put an earlier model version back in production, by hand: the previous
champion, or the version given in the form, after verifying its artifact's sha256; it gives up
after ``deployment.max_rollback_attempts`` candidates with an error that needs a person. Every
rollback is logged in the registry with the reason given in the form.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from modelguard.config import ModelguardConfig
from modelguard.factory.common import approval_args, default_args, start_date, tags
from modelguard.factory.ids import ModelDagIds
from modelguard.operators.deployment import RollbackOperator
from modelguard.task_groups.gate import GateTaskGroup


def _deployment_params() -> dict[str, Param]:
    return {
        "challenger_version_id": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Challenger version id",
            description="Registry id of the challenger to evaluate. Empty = the newest challenger.",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Decide as of",
            description="Labels matured by this instant are used, e.g. 2026-10-15T00:00:00Z. Empty = the run's logical date; "
            "required for a run without a logical date.",
        ),
    }


def _rollback_params() -> dict[str, Param]:
    return {
        "target_version_id": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Target version id",
            description="Registry id of the version to restore. Empty = the previous champion.",
        ),
        "reason": Param(
            type="string",
            minLength=5,
            title="Reason",
            description="Why this rollback is needed; recorded in the registry's event log.",
        ),
    }


def build_deployment_dag(config: ModelguardConfig, config_path: Path, ids: ModelDagIds) -> DAG:
    with DAG(
        dag_id=ids.deployment,
        description=f"{config.model.name}: McNemar gate, atomic promotion, post-deployment "
        "check and automatic rollback",
        schedule=None,
        start_date=start_date(config),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(config_path),
        tags=tags(config, "deployment"),
        params=_deployment_params(),
        doc_md=__doc__,
    ) as dag:
        gate = GateTaskGroup(config_path=str(config_path), **approval_args(config))
        done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
        gate.exits >> done
    return dag


def build_rollback_dag(config: ModelguardConfig, config_path: Path, ids: ModelDagIds) -> DAG:
    with DAG(
        dag_id=ids.rollback,
        description=f"{config.model.name}: manual rollback of the champion to an earlier version",
        schedule=None,
        start_date=start_date(config),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(config_path),
        tags=tags(config, "deployment"),
        params=_rollback_params(),
        doc_md=__doc__,
    ) as dag:
        RollbackOperator(
            task_id="rollback",
            target_version_id="{{ params.target_version_id }}",
            reason="{{ params.reason }}",
        )
    return dag
