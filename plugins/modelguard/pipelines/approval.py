"""Human approval of a deployment (``deployment.approval: human``), without Airflow.

After the gate decides ``deploy``, a person is asked first. This module holds what they read
(:func:`approval_request`: the McNemar result, the improvement against ``min_improvement``, the
versions, the reasons, a link to the Model health page), how their answer is read back
(:func:`answer_from_response`, :func:`timed_out_answer`) and what each answer does to the
registry: approve -> :func:`modelguard.pipelines.deployment.deploy_challenger` with the answer;
reject -> :func:`reject_by_person`; no answer in time -> :func:`record_approval_timeout`.

The answer travels as a small :class:`ApprovalAnswer` dict through XCom and is stored with the
promotion or rejection (the event's ``details["approval"]``), so the event log says who decided,
when, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelguard.alerts.records import APPROVAL_TIMEOUT
from modelguard.config import ModelguardConfig
from modelguard.exceptions import DataValidationError
from modelguard.pipelines.deployment import GateVerdict

DEPLOY = "Deploy"
REJECT = "Reject"
OPTIONS = (DEPLOY, REJECT)
# Not "reason": the retraining DAG already has a "reason" param (why it retrains).
REASON_PARAM = "decision_reason"
MIN_REASON_LENGTH = 3

APPROVED = "approved"
REJECTED = "rejected"
TIMED_OUT = "timed_out"
DECISIONS = (APPROVED, REJECTED, TIMED_OUT)
TIMED_OUT_OUTCOME = "approval_timed_out"


@dataclass(frozen=True)
class ApprovalRequest:
    """What the person sees: a one-line subject and a markdown body."""

    subject: str
    body: str


@dataclass(frozen=True)
class ApprovalAnswer:
    """A person's answer to one approval request, or the lack of one (``timed_out``)."""

    decision: str
    challenger_id: int
    by_id: str | None
    by_name: str | None
    reason: str | None
    responded_at: str | None
    timeout_hours: float

    def to_dict(self) -> dict[str, Any]:
        """The XCom, and the ``approval`` stored with the promotion or rejection."""
        return {
            "decision": self.decision,
            "challenger_id": self.challenger_id,
            "by_id": self.by_id,
            "by_name": self.by_name,
            "reason": self.reason,
            "responded_at": self.responded_at,
            "timeout_hours": self.timeout_hours,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalAnswer:
        from modelguard.core.records import fields_from_dict
        from modelguard.exceptions import MalformedResultError

        values = fields_from_dict(cls, data)
        if values["decision"] not in DECISIONS:
            raise MalformedResultError(
                f"ApprovalAnswer.from_dict: decision {values['decision']!r} is not one of "
                f"{', '.join(DECISIONS)}"
            )
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "approval") -> ApprovalAnswer:
        from modelguard.core.records import from_xcom

        return from_xcom(cls, value, task_id, key)

    @property
    def who(self) -> str:
        """The person, as the event log names them."""
        if self.by_name and self.by_id and self.by_id != self.by_name:
            return f"{self.by_name} (id {self.by_id})"
        return self.by_name or self.by_id or "an unknown user"


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def approval_request(
    verdict: GateVerdict,
    config: ModelguardConfig,
    *,
    page_url: str,
    run_url: str | None = None,
) -> ApprovalRequest:
    """The request text for the gate's ``deploy`` verdict (markdown, as the Airflow UI renders
    the body of a human-in-the-loop task)."""
    dep = config.deployment
    name = config.model.name
    metric = verdict.primary_metric
    subject = f"{name}: deploy {verdict.challenger} in place of {verdict.champion}?"
    start, end = verdict.validation_window
    reasons = "\n".join(f"- {r}" for r in verdict.reasons) or "- (none given)"
    links = f"[Model health page of {name}]({page_url})"
    if run_url:
        links += f" · [this run]({run_url})"
    body = f"""\
The champion/challenger gate decided **deploy** for the challenger **{verdict.challenger}**
against the champion **{verdict.champion}**. Deploy it?

| | |
| --- | --- |
| McNemar ({verdict.test}) | b = {verdict.b} (champion right, challenger wrong), \
c = {verdict.c} (challenger right, champion wrong), \
p = {_fmt(verdict.pvalue, ".3g")} (significance_level {dep.significance_level}) |
| {metric} | challenger {_fmt(verdict.expected_metric, ".4f")}, \
champion {_fmt(verdict.champion_metric, ".4f")} |
| improvement | {_fmt(verdict.improvement, "+.4f")} (min_improvement {dep.min_improvement}) |
| validation window | {start} to {end}: {verdict.n} labelled rows, as of {verdict.as_of} |

**The gate's reasons**

{reasons}

{links}

**{DEPLOY}** promotes the challenger now; the post-deployment check follows and rolls it back \
if it falls short. **{REJECT}** marks it rejected. Either way write a reason \
(`{REASON_PARAM}`): it is recorded in the registry's event log with your name. Without an \
answer within {dep.approval_timeout_hours:g} h nothing is deployed: the challenger stays \
registered and the run ends in `approval_timed_out`.
"""
    return ApprovalRequest(subject=subject, body=body)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def timed_out_answer(challenger_id: int, timeout_hours: float) -> ApprovalAnswer:
    return ApprovalAnswer(
        decision=TIMED_OUT,
        challenger_id=challenger_id,
        by_id=None,
        by_name=None,
        reason=f"no answer within {timeout_hours:g} h (deployment.approval_timeout_hours)",
        responded_at=None,
        timeout_hours=timeout_hours,
    )


def answer_from_response(
    response: Mapping[str, Any], *, challenger_id: int, timeout_hours: float
) -> ApprovalAnswer:
    """The answer in a human-in-the-loop response (``chosen_options``, ``params_input``,
    ``responded_by_user``, ``responded_at``, ``timedout``).

    A response without a person (defaults applied at the timeout) is a timeout. A person's
    answer must choose one of :data:`OPTIONS` and give a reason of at least
    :data:`MIN_REASON_LENGTH` characters: the event log keeps why, not only who.
    """
    user = response.get("responded_by_user") or None
    if response.get("timedout") or user is None:
        return timed_out_answer(challenger_id, timeout_hours)
    chosen = list(response.get("chosen_options") or [])
    if len(chosen) != 1 or chosen[0] not in OPTIONS:
        raise DataValidationError(
            f"the approval answer chose {chosen!r}; choose exactly one of {', '.join(OPTIONS)}"
        )
    params = response.get("params_input") or {}
    reason = params.get(REASON_PARAM) if isinstance(params, Mapping) else None
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) < MIN_REASON_LENGTH:
        raise DataValidationError(
            f"the approval answer ({chosen[0]}) has no {REASON_PARAM!r} (got "
            f"{params.get(REASON_PARAM) if isinstance(params, Mapping) else None!r}); a decision "
            f"needs a reason of at least {MIN_REASON_LENGTH} characters. Clear the approval task "
            f"to ask again and answer with params_input {{{REASON_PARAM!r}: '...'}}"
        )
    return ApprovalAnswer(
        decision=APPROVED if chosen[0] == DEPLOY else REJECTED,
        challenger_id=challenger_id,
        by_id=None if user.get("id") is None else str(user.get("id")),
        by_name=user.get("name"),
        reason=reason,
        responded_at=_iso(response.get("responded_at")),
        timeout_hours=timeout_hours,
    )


def check_answer(answer: ApprovalAnswer, verdict: GateVerdict, decision: str) -> None:
    """The answer is ``decision`` and about this verdict's challenger (else nothing is written)."""
    if answer.decision != decision:
        raise DataValidationError(
            f"the approval answer is {answer.decision!r}, not {decision!r}: nothing done to "
            f"{verdict.challenger}"
        )
    if answer.challenger_id != verdict.challenger_id:
        raise DataValidationError(
            f"the approval answer is about version id {answer.challenger_id}, but the gate "
            f"evaluated {verdict.challenger}; nothing done"
        )


def approval_note(answer: ApprovalAnswer) -> str:
    """The answer as the event's reason says it, e.g. ``approved by alice: looks right``."""
    return f"{answer.decision} by {answer.who}: {answer.reason}"


def reject_by_person(
    *,
    config: ModelguardConfig,
    registry_engine,
    verdict: GateVerdict,
    answer: ApprovalAnswer,
    run_id: str | None = None,
    log=None,
) -> dict[str, Any]:
    """Reject the challenger a person refused: the event's reason is theirs (with their name);
    the gate's reasons stay in its ``evaluation``, their answer in its ``approval``."""
    from modelguard.storage.registry import ModelRegistry

    check_answer(answer, verdict, REJECTED)
    rejected = ModelRegistry(registry_engine, config.storage.artifact_root).reject(
        config.model.name,
        verdict.challenger_id,
        run_id=run_id,
        reason=approval_note(answer),
        evaluation=verdict.to_dict(),
        approval=answer.to_dict(),
    )
    if log:
        log.info("Rejected %s: %s", rejected.label, approval_note(answer))
    return {
        "rejected_id": rejected.id,
        "rejected": rejected.label,
        "by": answer.who,
        "reason": answer.reason,
    }


def record_approval_timeout(
    *,
    config: ModelguardConfig,
    registry_engine,
    verdict: GateVerdict,
    answer: ApprovalAnswer,
    run_id: str | None = None,
    log=None,
) -> dict[str, Any]:
    """Log that nobody answered in time; nothing is deployed and the challenger stays a
    challenger (it can be evaluated again, e.g. by the deployment DAG). Returns the outcome
    the alert about it is built from."""
    from modelguard.storage.registry import ModelRegistry

    check_answer(answer, verdict, TIMED_OUT)
    event = ModelRegistry(registry_engine, config.storage.artifact_root).record_approval_timeout(
        config.model.name,
        verdict.challenger_id,
        run_id=run_id,
        reason=answer.reason or "no answer in time",
        details={"evaluation": verdict.to_dict(), "approval": answer.to_dict()},
    )
    if log:
        log.warning(
            "Nobody approved %s within %g h: nothing deployed, %s stays champion",
            verdict.challenger,
            answer.timeout_hours,
            verdict.champion,
        )
    return {
        "outcome": TIMED_OUT_OUTCOME,
        "kind": APPROVAL_TIMEOUT,  # the alert kind the integrator raises from this outcome
        "model": config.model.name,
        "run_id": run_id,
        "challenger_id": verdict.challenger_id,
        "challenger": verdict.challenger,
        "champion_id": verdict.champion_id,
        "champion": verdict.champion,
        "timeout_hours": answer.timeout_hours,
        "event_id": event.id,
        "message": f"{config.model.name}: nobody approved the deployment of "
        f"{verdict.challenger} within {answer.timeout_hours:g} h; nothing was deployed and "
        f"{verdict.champion} stays champion",
    }
