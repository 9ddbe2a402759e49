"""modelguard_deployment: the champion/challenger gate for a registered challenger.

evaluate (McNemar on the validation window) -> deploy | reject; after a deployment, check the new
champion on the freshest matured window and roll back automatically if it falls short of what the
evaluation promised. Triggered by hand; decisions are made "as of" the run's logical date or the
``as_of`` param, never the wall clock.
"""

from __future__ import annotations

from datetime import UTC

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from modelguard.config import load_config
from modelguard.operators.conf import refuse_unknown_conf
from modelguard.operators.deployment import add_gate_tasks

cfg = load_config()

with DAG(
    dag_id="modelguard_deployment",
    description="McNemar gate, atomic promotion, post-deployment check and automatic rollback",
    schedule=None,
    start_date=cfg.monitoring.start_date.replace(tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"pre_execute": refuse_unknown_conf},
    tags=["modelguard", "deployment"],
    params={
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
    },
    doc_md=__doc__,
) as dag:
    _entry, exits = add_gate_tasks()
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
    exits >> done
