"""The champion/challenger gate as one TaskGroup: evaluate -> deploy | reject; deploy -> check ->
verified | rollback.

With ``approval="human"`` (``deployment.approval``) a person answers between the gate's decision
and ``deploy``: evaluate -> request_approval | reject; request_approval -> deploy |
approval_rejected | approval_timed_out. ``auto`` keeps the tasks and shape above exactly.

A DAG wires it through attributes (``gate.entry``, ``gate.exits``), never through task-id strings:
the branch operators inside get their targets from the tasks themselves. Task ids are not
prefixed with the group id, so runs, XComs and links keep the ids they always had.
"""

from __future__ import annotations

from datetime import timedelta
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
    ends on (reject, verified, rollback, and evaluation-only when asked for; with human approval
    also approval_rejected and approval_timed_out)."""

    ROLLBACK = "rollback"  # named before the task exists: the check branches to it
    APPROVAL = "request_approval"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"

    def __init__(
        self,
        *,
        group_id: str = "gate",
        challenger_version_id: Any = None,
        mode: str = "auto",
        evaluation_only: bool = False,
        config_path: str | None = None,
        approval: str = "auto",
        approval_timeout: timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        from modelguard.config import APPROVAL_MODES
        from modelguard.exceptions import InvalidArgumentError

        if approval not in APPROVAL_MODES:
            raise InvalidArgumentError(
                f"GateTaskGroup: approval {approval!r} is not one of {', '.join(APPROVAL_MODES)}"
            )
        if approval == "human" and (
            approval_timeout is None or approval_timeout.total_seconds() <= 0
        ):
            raise InvalidArgumentError(
                "GateTaskGroup: human approval needs a positive approval_timeout "
                f"(deployment.approval_timeout_hours); got {approval_timeout!r}"
            )
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
            human = approval == "human"
            self.deploy = DeployChallengerOperator(
                task_id="deploy",
                evaluation_task_id=evaluated,
                config_path=config_path,
                approval_task_id=self.APPROVAL if human else None,
            )
            self.reject = RejectChallengerOperator(
                task_id="reject", evaluation_task_id=evaluated, config_path=config_path
            )
            self.evaluation_only = (
                EmptyOperator(task_id="evaluation_only") if evaluation_only else None
            )
            self.approval = self.approval_rejected = self.approval_timed_out = None
            if human:
                self._add_approval(evaluated, approval_timeout, config_path)
            self.branch = EvaluationBranchOperator(
                task_id="branch_on_evaluation",
                evaluation_task_id=evaluated,
                deploy_task_id=(self.approval or self.deploy).task_id,
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
            if self.approval is None:
                self.evaluate >> self.branch >> [self.deploy, self.reject]
            else:
                self.evaluate >> self.branch >> [self.approval, self.reject]
                self.approval >> [self.deploy, self.approval_rejected, self.approval_timed_out]
            self.deploy >> self.check >> [self.verified, self.rollback]
            if self.evaluation_only is not None:
                self.branch >> self.evaluation_only

    def _add_approval(
        self, evaluated: str, timeout: timedelta | None, config_path: str | None
    ) -> None:
        """The person between the gate's ``deploy`` and the promotion (imported only here: the
        auto gate never loads the human-in-the-loop provider)."""
        from modelguard.operators.approval import (
            ApprovalRejectOperator,
            ApprovalTimedOutOperator,
            DeploymentApprovalOperator,
        )

        self.approval = DeploymentApprovalOperator(
            task_id=self.APPROVAL,
            evaluation_task_id=evaluated,
            deploy_task_id=self.deploy.task_id,
            reject_task_id=self.APPROVAL_REJECTED,
            timed_out_task_id=self.APPROVAL_TIMED_OUT,
            response_timeout=timeout,
            config_path=config_path,
        )
        self.approval_rejected = ApprovalRejectOperator(
            task_id=self.APPROVAL_REJECTED,
            evaluation_task_id=evaluated,
            approval_task_id=self.APPROVAL,
            config_path=config_path,
        )
        self.approval_timed_out = ApprovalTimedOutOperator(
            task_id=self.APPROVAL_TIMED_OUT,
            evaluation_task_id=evaluated,
            approval_task_id=self.APPROVAL,
            config_path=config_path,
        )

    @property
    def entry(self) -> McNemarEvaluationOperator:
        return self.evaluate

    @property
    def exits(self) -> list[Any]:
        ends = [self.reject, self.verified, self.rollback]
        if self.approval is not None:
            ends += [self.approval_rejected, self.approval_timed_out]
        return [*ends, self.evaluation_only] if self.evaluation_only is not None else ends
