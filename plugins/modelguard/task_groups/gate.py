"""The champion/challenger gate as one TaskGroup: evaluate -> deploy | reject; deploy -> check ->
verified | rollback.

A DAG wires it through attributes (``gate.entry``, ``gate.exits``), never through task-id strings:
the branch operators inside get their targets from the tasks themselves. Task ids are not
prefixed with the group id, so runs, XComs and links keep the ids they always had.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup

from modelguard.operators.deployment import (
    DeployChallengerOperator,
    EvaluationBranchOperator,
    McNemarEvaluationOperator,
    PostDeploymentCheckOperator,
    RejectChallengerOperator,
    RollbackOperator,
)


class GateTaskGroup(TaskGroup):
    """The gate's tasks. ``entry`` is the evaluation; ``exits`` are the tasks a run of the gate
    ends on (reject, verified, rollback, and evaluation-only when asked for)."""

    ROLLBACK = "rollback"  # named before the task exists: the check branches to it

    def __init__(
        self,
        *,
        group_id: str = "gate",
        challenger_version_id: Any = None,
        mode: str = "auto",
        evaluation_only: bool = False,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            group_id=group_id,
            prefix_group_id=False,
            tooltip="McNemar gate, promotion, post-deployment check, rollback",
            **kwargs,
        )
        with self:
            self.evaluate = McNemarEvaluationOperator(
                task_id="evaluate_challenger",
                challenger_version_id=challenger_version_id,
                config_path=config_path,
            )
            evaluated = self.evaluate.task_id
            self.deploy = DeployChallengerOperator(
                task_id="deploy", evaluation_task_id=evaluated, config_path=config_path
            )
            self.reject = RejectChallengerOperator(
                task_id="reject", evaluation_task_id=evaluated, config_path=config_path
            )
            self.evaluation_only = (
                EmptyOperator(task_id="evaluation_only") if evaluation_only else None
            )
            self.branch = EvaluationBranchOperator(
                task_id="branch_on_evaluation",
                evaluation_task_id=evaluated,
                deploy_task_id=self.deploy.task_id,
                reject_task_id=self.reject.task_id,
                evaluation_only_task_id=(
                    self.evaluation_only.task_id if self.evaluation_only else None
                ),
                mode=mode,
            )
            self.verified = EmptyOperator(task_id="deployment_verified")
            self.check = PostDeploymentCheckOperator(
                task_id="post_deployment_check",
                evaluation_task_id=evaluated,
                verified_task_id=self.verified.task_id,
                rollback_task_id=self.ROLLBACK,
                config_path=config_path,
            )
            self.rollback = RollbackOperator(
                task_id=self.ROLLBACK, check_task_id=self.check.task_id, config_path=config_path
            )
            self.evaluate >> self.branch >> [self.deploy, self.reject]
            self.deploy >> self.check >> [self.verified, self.rollback]
            if self.evaluation_only is not None:
                self.branch >> self.evaluation_only

    @property
    def entry(self) -> McNemarEvaluationOperator:
        return self.evaluate

    @property
    def exits(self) -> list[Any]:
        ends = [self.reject, self.verified, self.rollback]
        return [*ends, self.evaluation_only] if self.evaluation_only is not None else ends
