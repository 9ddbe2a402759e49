"""Human approval without Airflow, on a real seeded source and registry (the gate world): what the
person reads, how their answer is read, and what approve, reject and no answer write.

One world, in order: each test registers a challenger the gate decides to deploy (trained after
the concept drift, against the weak v1 champion); only the last one is approved and promoted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelguard.exceptions import DataValidationError, StaleDecisionError
from modelguard.links import model_page_url
from modelguard.pipelines.approval import (
    REASON_PARAM,
    ApprovalAnswer,
    answer_from_response,
    approval_request,
    record_approval_timeout,
    reject_by_person,
    timed_out_answer,
)
from modelguard.pipelines.deployment import GateVerdict, deploy_challenger, evaluate_challenger
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.source import engine_for_url
from tests.world import (
    GATE_DEPLOY_AS_OF,
    POST_DRIFT_CHALLENGER,
    build_gate_world,
    register_challenger,
)

MODEL = "email_engagement"
ALICE = {"id": "alice", "name": "alice"}
AT = datetime(2026, 9, 10, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_gate_world(tmp_path_factory.mktemp("approval"))


@pytest.fixture(scope="module")
def registry(world):
    return ModelRegistry(engine_for_url(world.registry_url))


def accepted(world) -> GateVerdict:
    """A new challenger, evaluated: the gate decides deploy."""
    challenger = register_challenger(world, POST_DRIFT_CHALLENGER)
    verdict = evaluate_challenger(
        config=world.config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
        as_of=GATE_DEPLOY_AS_OF,
        challenger_id=challenger.id,
        run_id="gate-run",
    )
    assert verdict.decision == "deploy", verdict.reasons
    return verdict


def response(option: str, reason: str | None = "looks right", user=ALICE, **extra) -> dict:
    params = {} if reason is None else {REASON_PARAM: reason}
    return {
        "chosen_options": [option],
        "params_input": params,
        "responded_by_user": user,
        "responded_at": AT,
        "timedout": False,
        **extra,
    }


def engines(world) -> dict:
    return dict(config=world.config, registry_engine=engine_for_url(world.registry_url))


def snapshot(registry):
    return [(v.id, v.status) for v in registry.list_versions(MODEL)], len(registry.events(MODEL))


# ------------------------------------------------------------------------------ the request


def test_the_request_shows_the_test_the_improvement_the_versions_and_the_page(world):
    verdict = accepted(world)
    page = model_page_url("http://airflow.example:8080/", MODEL)
    request = approval_request(verdict, world.config, page_url=page, run_url="http://r/run")

    assert (
        request.subject == f"{MODEL}: deploy {verdict.challenger} in place of {verdict.champion}?"
    )
    body = request.body
    assert f"b = {verdict.b} (champion right, challenger wrong)" in body
    assert f"c = {verdict.c} (challenger right, champion wrong)" in body
    assert f"p = {verdict.pvalue:.3g} (significance_level 0.05)" in body
    assert f"improvement | {verdict.improvement:+.4f} (min_improvement 0.02)" in body
    assert f"challenger {verdict.expected_metric:.4f}" in body
    assert f"champion {verdict.champion_metric:.4f}" in body
    assert f"McNemar ({verdict.test})" in body
    for reason in verdict.reasons:
        assert f"- {reason}" in body
    assert f"[Model health page of {MODEL}]({page})" in body
    assert page == f"http://airflow.example:8080/modelguard/models/{MODEL}"
    assert "[this run](http://r/run)" in body
    assert "within 24 h nothing is deployed" in body and "`approval_timed_out`" in body
    assert f"`{REASON_PARAM}`" in body


# ------------------------------------------------------------------------------ the answer


def test_answers_are_read_strictly():
    deploy = answer_from_response(response("Deploy"), challenger_id=7, timeout_hours=24.0)
    assert deploy == ApprovalAnswer(
        decision="approved",
        challenger_id=7,
        by_id="alice",
        by_name="alice",
        reason="looks right",
        responded_at=AT.isoformat(),
        timeout_hours=24.0,
    )
    assert ApprovalAnswer.from_dict(deploy.to_dict()) == deploy
    reject = answer_from_response(
        response("Reject", "  too early  ", user={"id": "7", "name": "Bob"}),
        challenger_id=7,
        timeout_hours=1.0,
    )
    assert (reject.decision, reject.reason, reject.who) == ("rejected", "too early", "Bob (id 7)")
    # Defaults applied by the scheduler at the timeout: nobody answered.
    for nobody in (response("Reject", user=None), response("Reject", timedout=True)):
        answer = answer_from_response(nobody, challenger_id=7, timeout_hours=0.5)
        assert answer == timed_out_answer(7, 0.5) and answer.decision == "timed_out"
        assert answer.reason == "no answer within 0.5 h (deployment.approval_timeout_hours)"

    for bad, message in [
        (response("Maybe"), r"chose \['Maybe'\]; choose exactly one of Deploy, Reject"),
        (response("Reject", None), f"no '{REASON_PARAM}'"),
        (response("Reject", " "), "a reason of at least 3 characters"),
        (response("Deploy", "ok"), "a reason of at least 3 characters"),
        ({**response("Deploy"), "chosen_options": ["Deploy", "Reject"]}, "exactly one"),
    ]:
        with pytest.raises(DataValidationError, match=message):
            answer_from_response(bad, challenger_id=7, timeout_hours=24.0)


# ------------------------------------------------------------------------------ what it writes


def test_a_rejection_records_the_persons_reason_and_name(world, registry):
    verdict = accepted(world)
    champion = registry.get_champion(MODEL).id
    answer = answer_from_response(
        response("Reject", "the holdout is too old"),
        challenger_id=verdict.challenger_id,
        timeout_hours=24.0,
    )

    out = reject_by_person(**engines(world), verdict=verdict, answer=answer, run_id="run-r")

    assert out == {
        "rejected_id": verdict.challenger_id,
        "rejected": verdict.challenger,
        "by": "alice",
        "reason": "the holdout is too old",
    }
    assert registry.get_version(verdict.challenger_id).status == "rejected"
    event = registry.events(MODEL)[-1]
    assert (event.event, event.version_id, event.run_id) == (
        "rejected",
        verdict.challenger_id,
        "run-r",
    )
    assert event.reason == "rejected by alice: the holdout is too old"
    assert event.details["approval"] == answer.to_dict()
    assert event.details["evaluation"] == verdict.to_dict()
    assert registry.get_champion(MODEL).id == champion


def test_an_answer_is_only_acted_on_for_its_own_challenger_and_decision(world, registry):
    verdict = accepted(world)
    before = snapshot(registry)
    approve = answer_from_response(
        response("Deploy"), challenger_id=verdict.challenger_id, timeout_hours=24.0
    )
    other = ApprovalAnswer.from_dict({**approve.to_dict(), "challenger_id": 1})
    with pytest.raises(DataValidationError, match="'approved', not 'rejected'"):
        reject_by_person(**engines(world), verdict=verdict, answer=approve)
    with pytest.raises(DataValidationError, match="is about version id 1"):
        deploy_challenger(**engines(world), verdict=verdict, approval=other)
    timeout = timed_out_answer(verdict.challenger_id, 24.0)
    with pytest.raises(DataValidationError, match="'timed_out', not 'approved'"):
        deploy_challenger(**engines(world), verdict=verdict, approval=timeout)
    assert snapshot(registry) == before


def test_no_answer_in_time_logs_it_once_and_deploys_nothing(world, registry):
    verdict = accepted(world)
    champion = registry.get_champion(MODEL).id
    answer = timed_out_answer(verdict.challenger_id, 24.0)

    out = record_approval_timeout(**engines(world), verdict=verdict, answer=answer, run_id="run-t")
    again = record_approval_timeout(
        **engines(world), verdict=verdict, answer=answer, run_id="run-t"
    )

    assert out == again
    assert out["outcome"] == "approval_timed_out" and out["kind"] == "approval_timeout"
    assert (out["challenger_id"], out["champion_id"]) == (verdict.challenger_id, champion)
    assert out["run_id"] == "run-t" and out["timeout_hours"] == 24.0
    assert "nothing was deployed" in out["message"]
    timeouts = [e for e in registry.events(MODEL) if e.event == "approval_timed_out"]
    assert [(e.id, e.version_id, e.run_id) for e in timeouts] == [
        (out["event_id"], verdict.challenger_id, "run-t")
    ]
    assert timeouts[0].details["approval"] == answer.to_dict()
    assert registry.get_version(verdict.challenger_id).status == "challenger"
    assert registry.get_champion(MODEL).id == champion


def test_an_approved_deployment_names_the_person_in_the_promotion(world, registry):
    verdict = accepted(world)
    answer = answer_from_response(
        response("Deploy", "c >> b, worth it"),
        challenger_id=verdict.challenger_id,
        timeout_hours=24.0,
    )

    out = deploy_challenger(**engines(world), verdict=verdict, approval=answer, run_id="run-a")

    assert out["champion_id"] == verdict.challenger_id == registry.get_champion(MODEL).id
    event = registry.events(MODEL)[-1]
    assert event.event == "promoted" and event.run_id == "run-a"
    assert event.reason.startswith("approved by alice: c >> b, worth it; ")
    assert event.details["approval"] == answer.to_dict()
    # An approval does not make a stale decision fresh: the champion changed meanwhile.
    newer = register_challenger(world, POST_DRIFT_CHALLENGER)
    stale = GateVerdict.from_dict({**verdict.to_dict(), "challenger_id": newer.id})
    stale_answer = ApprovalAnswer.from_dict(
        {**answer.to_dict(), "challenger_id": stale.challenger_id}
    )
    with pytest.raises(StaleDecisionError):
        deploy_challenger(**engines(world), verdict=stale, approval=stale_answer)
