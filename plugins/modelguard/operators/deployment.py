"""Champion/challenger operators: thin Airflow shells over ``modelguard.pipelines.deployment``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseBranchOperator, BaseOperator

from modelguard.operators.branch import branch_for_verdict
from modelguard.operators.common import as_of_from_context, load_run_config, pull_dict


class McNemarEvaluationOperator(BaseOperator):
    """Evaluate the registered challenger against the champion on the run's validation window.

    The window is the last ``deployment.validation_window_days`` of sends whose labels matured by
    the run's ``as_of`` (param, else the data interval end), before the post-deployment window.
    The full result goes to the registry's event log; XCom gets a small verdict.
    """

    template_fields = ("config_path", "challenger_version_id")
    ui_color = "#e8d4f5"

    def __init__(
        self,
        *,
        challenger_version_id: int | str | None = None,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.challenger_version_id = challenger_version_id
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.deployment import evaluate_challenger

        config, source, registry = load_run_config(self.config_path)
        wanted = self.challenger_version_id
        if wanted in (None, "", "None"):
            wanted = (context.get("params") or {}).get("challenger_version_id")
        verdict = evaluate_challenger(
            config=config,
            source_engine=source,
            registry_engine=registry,
            as_of=as_of_from_context(context),
            challenger_id=int(wanted) if wanted not in (None, "", "None") else None,
            run_id=context.get("run_id"),
            log=self.log,
        )
        return verdict.to_dict()


class EvaluationBranchOperator(BaseBranchOperator):
    """Follow ``deploy`` or ``reject`` from the evaluation verdict; with
    ``mode="force_evaluation_only"`` always ``evaluation_only_task_id`` (nothing promoted)."""

    template_fields = ("mode",)

    def __init__(
        self,
        *,
        evaluation_task_id: str,
        deploy_task_id: str,
        reject_task_id: str,
        evaluation_only_task_id: str | None = None,
        mode: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluation_task_id = evaluation_task_id
        self.evaluation_only_task_id = evaluation_only_task_id
        self.mode = mode
        self.branches = {"deploy": deploy_task_id, "reject": reject_task_id}

    def choose_branch(self, context: Any) -> str:
        verdict = context["ti"].xcom_pull(task_ids=self.evaluation_task_id)
        chosen = branch_for_verdict(verdict, self.branches, self.evaluation_task_id, key="decision")
        if self.mode == "force_evaluation_only" and self.evaluation_only_task_id:
            self.log.info("Evaluation only: the gate decided %s; nothing is promoted", chosen)
            return self.evaluation_only_task_id
        return chosen


class DeployChallengerOperator(BaseOperator):
    """Promote the evaluated challenger atomically; a stale decision (champion changed since the
    evaluation) is refused and says so.

    ``approval_task_id``: with ``deployment.approval: human``, the approval task whose answer
    (XCom ``approval``) must approve this challenger; it is stored with the promotion."""

    template_fields = ("config_path",)
    ui_color = "#c9f0c9"

    def __init__(
        self,
        *,
        evaluation_task_id: str,
        config_path: str | None = None,
        approval_task_id: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.evaluation_task_id = evaluation_task_id
        self.config_path = config_path
        self.approval_task_id = approval_task_id

    action = "deploy_challenger"  # the modelguard.pipelines.deployment function this operator runs

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines import deployment as gate

        verdict = gate.GateVerdict.from_xcom(
            pull_dict(context, self.evaluation_task_id, "evaluation verdict"),
            self.evaluation_task_id,
        )
        extra = {}
        if self.approval_task_id:
            from modelguard.pipelines.approval import ApprovalAnswer

            extra["approval"] = ApprovalAnswer.from_xcom(
                pull_dict(context, self.approval_task_id, "approval answer", key="approval"),
                self.approval_task_id,
            )
        config, _source, registry = load_run_config(self.config_path)
        outcome = getattr(gate, self.action)(
            config=config,
            registry_engine=registry,
            verdict=verdict,
            run_id=context.get("run_id"),
            log=self.log,
            **extra,
        )
        if extra:
            from modelguard.operators.approval import clear_approval_alert

            clear_approval_alert(context, self.config_path, self.log)
        return outcome


class RejectChallengerOperator(DeployChallengerOperator):
    """Mark the evaluated challenger rejected, with the evaluation's reasons."""

    ui_color = "#f5c6c6"
    action = "reject_challenger"


class PostDeploymentCheckOperator(BaseBranchOperator):
    """Check the new champion on the freshest matured window against its evaluated metric.

    ``failed`` follows ``rollback_task_id``; ``passed``, ``inconclusive`` (too few fresh labels:
    no rollback on too little evidence) and ``skipped`` follow ``verified_task_id``. The check
    itself is pushed under the XCom key ``check``.
    """

    template_fields = ("config_path",)

    def __init__(
        self,
        *,
        evaluation_task_id: str,
        verified_task_id: str,
        rollback_task_id: str,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluation_task_id = evaluation_task_id
        self.config_path = config_path
        self.branches = {
            "passed": verified_task_id,
            "inconclusive": verified_task_id,
            "skipped": verified_task_id,
            "failed": rollback_task_id,
        }

    def choose_branch(self, context: Any) -> str:
        from modelguard.pipelines.deployment import GateVerdict, check_deployment

        verdict = GateVerdict.from_xcom(
            pull_dict(context, self.evaluation_task_id, "evaluation verdict"),
            self.evaluation_task_id,
        )
        config, source, registry = load_run_config(self.config_path)
        check = check_deployment(
            config=config,
            source_engine=source,
            registry_engine=registry,
            verdict=verdict,
            as_of=as_of_from_context(context),
            run_id=context.get("run_id"),
            log=self.log,
        )
        context["ti"].xcom_push(key="check", value=check)
        if check["status"] == "failed":
            self.log.warning("Post-deployment check failed: %s", check["reason"])
        return branch_for_verdict(check, self.branches, self.task_id, key="status")


class RollbackOperator(BaseOperator):
    """Restore the previous champion (or ``target_version_id``), verifying its artifact first.

    In the deployment DAG it rolls back the version that run deployed, with the failed check as
    the reason; in the rollback DAG the target and reason come from the trigger form.
    """

    template_fields = ("config_path", "target_version_id", "reason")
    ui_color = "#f7b0a0"

    def __init__(
        self,
        *,
        reason: str | None = None,
        target_version_id: int | str | None = None,
        check_task_id: str | None = None,
        evaluation_task_id: str | None = None,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.target_version_id = target_version_id
        self.check_task_id = check_task_id
        self.evaluation_task_id = evaluation_task_id
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.exceptions import DataValidationError
        from modelguard.pipelines.deployment import rollback_champion

        reason = self.reason
        expected = None
        if self.check_task_id:
            check = pull_dict(context, self.check_task_id, "post-deployment check", key="check")
            reason = f"post-deployment check failed: {check['reason']}"
            expected = check.get("champion_id")
        if not reason or not str(reason).strip() or str(reason) == "None":
            raise DataValidationError("a rollback needs a reason; give the reason param")
        target = self.target_version_id
        target = None if target in (None, "", "None") else int(target)
        # A rollback must work while the source database is down: it never reads it.
        config, _source, registry = load_run_config(self.config_path, verify_source=False)
        try:
            effective_at = as_of_from_context(context)
        except DataValidationError:
            effective_at = None  # a manual run without a date: effective from now
        return rollback_champion(
            config=config,
            registry_engine=registry,
            reason=str(reason),
            target_version_id=target,
            expected_champion_id=expected,
            effective_at=effective_at,
            run_id=context.get("run_id"),
            log=self.log,
        )
