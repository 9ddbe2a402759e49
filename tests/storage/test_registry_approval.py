"""The registry's side of human approval, on SQLite and PostgreSQL (the ``engine`` fixture): the
person's answer stored with a promotion or rejection, and the ``approval_timed_out`` event."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelguard.exceptions import RegistryError
from modelguard.storage.registry import ModelRegistry
from tests.storage.test_registry_lifecycle import (
    _snapshot,
    _versions,
    assert_log_explains_state,
    assert_one_champion,
)

MODEL = "churn"
ANSWER = {
    "decision": "approved",
    "challenger_id": None,
    "by_id": "alice",
    "by_name": "alice",
    "reason": "numbers look right",
    "responded_at": "2026-09-10T08:00:00+00:00",
    "timeout_hours": 24.0,
}


@pytest.fixture
def registry(engine, tmp_path) -> ModelRegistry:
    reg = ModelRegistry(engine, artifact_root=tmp_path)
    reg.ensure_schema()
    return reg


@pytest.fixture
def artifact_root(tmp_path) -> Path:
    return tmp_path / "artifacts"


def test_promote_and_reject_keep_the_answer_of_the_person(engine, registry, artifact_root):
    v1, v2, v3 = _versions(registry, artifact_root, MODEL, 3)
    registry.bootstrap_champion(MODEL, v1.id)
    approved = {**ANSWER, "challenger_id": v2.id}
    registry.promote(
        MODEL, v2.id, expected_champion_id=v1.id, reason="approved by alice", approval=approved
    )
    rejected = {**ANSWER, "decision": "rejected", "challenger_id": v3.id, "reason": "too early"}
    registry.reject(MODEL, v3.id, reason="rejected by alice: too early", approval=rejected)

    promoted_event, rejected_event = registry.events(MODEL)[-2:]
    assert promoted_event.event == "promoted" and promoted_event.details["approval"] == approved
    assert rejected_event.event == "rejected" and rejected_event.details["approval"] == rejected
    assert rejected_event.reason == "rejected by alice: too early"
    assert assert_one_champion(engine, MODEL) == v2.id
    assert_log_explains_state(registry, engine, MODEL)


def test_an_automatic_deployment_stores_no_approval(registry, artifact_root):
    v1, v2, v3 = _versions(registry, artifact_root, MODEL, 3)
    registry.bootstrap_champion(MODEL, v1.id)
    registry.promote(MODEL, v2.id, expected_champion_id=v1.id, reason="better")
    registry.reject(MODEL, v3.id, reason="worse")
    assert all("approval" not in e.details for e in registry.events(MODEL))


def test_a_timeout_is_logged_once_per_run_and_changes_no_status(engine, registry, artifact_root):
    v1, v2 = _versions(registry, artifact_root, MODEL, 2)
    registry.bootstrap_champion(MODEL, v1.id)
    before = _snapshot(registry, engine, MODEL)

    first = registry.record_approval_timeout(
        MODEL, v2.id, run_id="run-1", reason="no answer within 24 h", details={"hours": 24}
    )
    again = registry.record_approval_timeout(
        MODEL, v2.id, run_id="run-1", reason="no answer within 24 h", details={"hours": 24}
    )
    other_run = registry.record_approval_timeout(
        MODEL, v2.id, run_id="run-2", reason="no answer within 24 h"
    )

    assert again == first and other_run.id != first.id
    assert (first.event, first.version_id, first.run_id) == ("approval_timed_out", v2.id, "run-1")
    assert first.reason == "no answer within 24 h"
    assert first.details == {"version": 2, "status": "challenger", "hours": 24}
    versions, events, pointer = _snapshot(registry, engine, MODEL)
    assert (versions, pointer) == (before[0], before[2])  # no status, no champion changed
    assert len(events) == len(before[1]) + 2
    assert registry.get_version(v2.id).status == "challenger"
    assert_log_explains_state(registry, engine, MODEL)


def test_a_timeout_needs_a_version_of_the_model_and_a_reason(registry, artifact_root):
    (mine,) = _versions(registry, artifact_root, MODEL, 1)
    (theirs,) = _versions(registry, artifact_root, "other", 1)
    with pytest.raises(RegistryError, match="belongs to model 'other'"):
        registry.record_approval_timeout(MODEL, theirs.id, reason="no answer")
    with pytest.raises(RegistryError, match="reason"):
        registry.record_approval_timeout(MODEL, mine.id, reason="  ")
    with pytest.raises(RegistryError, match="unknown model version id 99999"):
        registry.record_approval_timeout(MODEL, 99999, reason="no answer")
    assert [e.event for e in registry.events(MODEL)] == ["registered"]
