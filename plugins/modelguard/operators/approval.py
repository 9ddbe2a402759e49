"""Human approval of a deployment: a human-in-the-loop branch and the two ends it can lead to
besides ``deploy``. Thin Airflow shells over :mod:`modelguard.pipelines.approval`.

``request_approval`` (:class:`DeploymentApprovalOperator`, Airflow's ``HITLBranchOperator``)
waits for a person (on Airflow 3.3 in the ``awaiting_input`` state; older versions defer to the
triggerer) and follows ``deploy`` on *Deploy*, ``approval_rejected`` on *Reject* and
``approval_timed_out`` when nobody answers within ``deployment.approval_timeout_hours``. The
answer (who, when, why) is pushed as the XCom ``approval`` for the task that acts on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import HITLBranchOperator, HITLOperator
from airflow.sdk import BaseOperator, Param

from modelguard.operators.common import load_run_config, pull_dict
from modelguard.pipelines.approval import (
    APPROVED,
    DEPLOY,
    MIN_REASON_LENGTH,
    OPTIONS,
    REASON_PARAM,
    REJECT,
    REJECTED,
    TIMED_OUT,
)


def _verdict(context: Any, task_id: str):
    from modelguard.pipelines.deployment import GateVerdict

    return GateVerdict.from_xcom(pull_dict(context, task_id, "evaluation verdict"), task_id)


def _answer(context: Any, task_id: str):
    from modelguard.pipelines.approval import ApprovalAnswer

    return ApprovalAnswer.from_xcom(
        pull_dict(context, task_id, "approval answer", key="approval"), task_id
    )


class DeploymentApprovalOperator(HITLBranchOperator):
    """Ask a person whether to deploy the challenger the gate accepted.

    The subject and markdown body are written when the task runs, from the evaluation's verdict
    (McNemar b, c, p; the improvement against ``min_improvement``; both versions; the reasons;
    a link to the Model health page under Airflow's ``[api] base_url``). The form has one
    required text field, ``decision_reason``. No defaults: a timeout is not a choice anybody
    made, so it gets its own branch instead of failing the task (which would hide the outcome).
    An answer without a reason fails the task (clear it to ask again); nothing is written.
    """

    template_fields = ("subject", "body", "config_path")
    ui_color = "#fde9b8"

    def __init__(
        self,
        *,
        evaluation_task_id: str,
        deploy_task_id: str,
        reject_task_id: str,
        timed_out_task_id: str,
        response_timeout: timedelta,
        config_path: str | None = None,
        params: Any = None,
        **kwargs: Any,
    ) -> None:
        # ``params`` here are the DAG's, merged in by Airflow; the base class merges them again
        # and keeps only the task's own (the form field below) for the form.
        del params
        super().__init__(
            subject="Deploy the challenger the gate accepted?",
            options=list(OPTIONS),
            options_mapping={DEPLOY: deploy_task_id, REJECT: reject_task_id},
            multiple=False,
            params={
                # Nullable here: Airflow validates a task's params when it starts, before anyone
                # has answered. The form gets the required version (serialized_params).
                REASON_PARAM: Param(
                    None,
                    type=["null", "string"],
                    maxLength=2000,
                    title="Reason for your decision",
                    description="Why you deploy or reject this challenger; recorded in the "
                    "registry's event log with your name.",
                )
            },
            response_timeout=response_timeout,
            **kwargs,
        )
        self.evaluation_task_id = evaluation_task_id
        self.timed_out_task_id = timed_out_task_id
        self.config_path = config_path
        self.branches = {
            APPROVED: deploy_task_id,
            REJECTED: reject_task_id,
            TIMED_OUT: timed_out_task_id,
        }

    @property
    def serialized_params(self) -> dict[str, dict[str, Any]]:
        """The form's fields as the request stores them: the reason is required (a string of at
        least ``MIN_REASON_LENGTH`` characters), so the UI asks for it before either option."""
        params = dict(super().serialized_params)
        field = params.get(REASON_PARAM)
        if isinstance(field, dict) and isinstance(field.get("schema"), dict):
            schema = {**field["schema"], "type": "string", "minLength": MIN_REASON_LENGTH}
            params[REASON_PARAM] = {**field, "schema": schema, "value": None}
        return params

    @property
    def timeout_hours(self) -> float:
        return self.response_timeout.total_seconds() / 3600

    def execute(self, context: Any) -> Any:
        from airflow.sdk import conf

        from modelguard.config import load_config
        from modelguard.links import model_page_url, run_url
        from modelguard.pipelines.approval import approval_request

        verdict = _verdict(context, self.evaluation_task_id)
        config = load_config(self.config_path)
        base_url = conf.get("api", "base_url", fallback="")
        ti = context["ti"]
        request = approval_request(
            verdict,
            config,
            page_url=model_page_url(base_url, config.model.name),
            run_url=run_url(base_url, ti.dag_id, ti.run_id),
        )
        self.subject, self.body = request.subject, request.body
        self.log.info(
            "Asking for approval of %s (answer within %g h): %s",
            verdict.challenger,
            self.timeout_hours,
            request.subject,
        )
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from modelguard.pipelines.approval import answer_from_response, timed_out_answer

        verdict = _verdict(context, self.evaluation_task_id)
        if "error" in event:
            if event.get("error_type") != "timeout":
                self.process_trigger_event_error(event)  # raises, naming the error
            answer = timed_out_answer(verdict.challenger_id, self.timeout_hours)
        else:
            # The provider's checks: a known option, params that fit their schema.
            response = HITLOperator.execute_complete(self, context=context, event=event)
            answer = answer_from_response(
                response, challenger_id=verdict.challenger_id, timeout_hours=self.timeout_hours
            )
        context["ti"].xcom_push(key="approval", value=answer.to_dict())
        branch = self.branches[answer.decision]
        if answer.decision == TIMED_OUT:
            self.log.warning("No answer within %g h: nothing is deployed", self.timeout_hours)
        else:
            self.log.info("%s %s: %s", answer.who, answer.decision, answer.reason)
        self.hitl_summary_extra["branches_to_execute"] = [branch]
        return self.do_branch(context=context, branches_to_execute=branch)


APPROVAL_ALERT_KEY = "approval"  # one approval_timeout episode per model


def approval_alert(
    context: Any,
    config_path: str | None,
    log: Any,
    message: str,
    *,
    clear: bool = False,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Raise (or, ``clear``, end) the model's one ``approval_timeout`` episode (a warning),
    stored and notified through the model's channels like a monitoring alert."""
    from modelguard.alerts.conditions import AlertCondition
    from modelguard.alerts.records import APPROVAL_TIMEOUT, WARNING
    from modelguard.config import load_config
    from modelguard.operators.alerts import raise_alert_from_context

    condition = AlertCondition(
        APPROVAL_TIMEOUT, APPROVAL_ALERT_KEY, WARNING, message, details=details or {}
    )
    return raise_alert_from_context(
        context, load_config(config_path), condition, log=log, clear=clear
    )


def clear_approval_alert(context: Any, config_path: str | None, log: Any) -> None:
    """A person answered: an open ``approval_timeout`` episode of the model ends (a clear
    notice goes out if one was open)."""
    approval_alert(context, config_path, log, "answered", clear=True)


class _AnswerOperator(BaseOperator):
    """Acts on the approval answer for the evaluated challenger (never reads the source)."""

    template_fields = ("config_path",)
    action = ""  # the modelguard.pipelines.approval function this operator runs

    def __init__(
        self,
        *,
        evaluation_task_id: str,
        approval_task_id: str,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluation_task_id = evaluation_task_id
        self.approval_task_id = approval_task_id
        self.config_path = config_path

    def run_action(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines import approval

        verdict = _verdict(context, self.evaluation_task_id)
        answer = _answer(context, self.approval_task_id)
        config, _source, registry = load_run_config(self.config_path, verify_source=False)
        return getattr(approval, self.action)(
            config=config,
            registry_engine=registry,
            verdict=verdict,
            answer=answer,
            run_id=context.get("run_id"),
            log=self.log,
        )

    def execute(self, context: Any) -> dict[str, Any]:
        return self.run_action(context)


class ApprovalRejectOperator(_AnswerOperator):
    """Reject the challenger a person refused, with their reason and name in the event log."""

    ui_color = "#f5c6c6"
    action = "reject_by_person"

    def execute(self, context: Any) -> dict[str, Any]:
        outcome = self.run_action(context)
        clear_approval_alert(context, self.config_path, self.log)
        return outcome


class ApprovalTimedOutOperator(_AnswerOperator):
    """Nobody answered in time: log it (event ``approval_timed_out``); nothing is deployed and
    the challenger stays registered. Its XCom is the outcome ``{"outcome":
    "approval_timed_out", "challenger_id", ...}``; the run itself succeeds, so the outcome
    is read here, not hidden behind a failed run."""

    ui_color = "#f7d9a0"
    action = "record_approval_timeout"

    def execute(self, context: Any) -> dict[str, Any]:
        outcome = self.run_action(context)
        self.raise_alert(context, outcome)
        return outcome

    def raise_alert(self, context: Any, outcome: dict[str, Any]) -> None:
        """An ``approval_timeout`` alert; it never fails this task (the outcome is recorded)."""
        details = {k: outcome.get(k) for k in ("challenger_id", "champion_id", "timeout_hours")}
        summary = approval_alert(
            context, self.config_path, self.log, outcome["message"], details=details
        )
        self.log.warning("approval_timeout alert: %s", summary)
