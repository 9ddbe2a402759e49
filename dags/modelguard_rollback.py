"""modelguard_rollback: put an earlier model version back in production, by hand.

Restores the previous champion, or the version given in the form, after verifying its artifact's
sha256; gives up after ``deployment.max_rollback_attempts`` candidates with an error that needs a
person. Every rollback is logged in the registry with the reason given here.
"""

from __future__ import annotations

from datetime import UTC

from airflow.sdk import DAG, Param

from modelguard.config import load_config
from modelguard.operators.conf import refuse_unknown_conf
from modelguard.operators.deployment import RollbackOperator

cfg = load_config()

with DAG(
    dag_id="modelguard_rollback",
    description="Manual rollback of the champion to an earlier version",
    schedule=None,
    start_date=cfg.monitoring.start_date.replace(tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"pre_execute": refuse_unknown_conf},
    tags=["modelguard", "deployment"],
    params={
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
    },
    doc_md=__doc__,
) as dag:
    RollbackOperator(
        task_id="rollback",
        target_version_id="{{ params.target_version_id }}",
        reason="{{ params.reason }}",
    )
