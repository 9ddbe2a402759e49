"""Champion/challenger lifecycle of the ModelRegistry: evaluate, promote, reject, roll back.

Runs on SQLite and PostgreSQL (the ``engine`` fixture). The race tests start separate processes
(``spawn``), each with its own engine on the same database, and release them together with a
barrier.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from pathlib import Path
from typing import Any

import joblib
import pytest
import sqlalchemy as sa

from modelguard.exceptions import (
    NoChampionError,
    RegistryError,
    RollbackFailedError,
    StaleDecisionError,
)
from modelguard.storage.registry import (
    ModelRegistry,
    ModelVersion,
    RollbackResult,
    champions_table,
    model_events_table,
    model_versions_table,
)
from tests.conftest_db import child_engine, engine_spec

SCHEMA = {"age": "numeric", "channel": "categorical"}
PROFILE = {"row_count": 3, "numeric": {}, "categorical": {}}
ROUNDS = 5


@pytest.fixture
def registry(engine, tmp_path) -> ModelRegistry:
    reg = ModelRegistry(engine, artifact_root=tmp_path)
    reg.ensure_schema()
    return reg


@pytest.fixture
def artifact_root(tmp_path) -> Path:
    return tmp_path / "artifacts"


def _new_version(registry: ModelRegistry, root: Path, model_name: str) -> ModelVersion:
    """Register a version whose artifact is a real (small) joblib file."""
    number = len(registry.list_versions(model_name)) + 1
    uri, sha = registry.save_artifact({"model": model_name, "n": number}, root, model_name)
    return registry.register(
        model_name,
        artifact_uri=uri,
        artifact_sha256=sha,
        feature_schema=SCHEMA,
        reference_profile=PROFILE,
        run_id=f"train-{number}",
    )


def _versions(registry, root, model_name: str, count: int) -> list[ModelVersion]:
    return [_new_version(registry, root, model_name) for _ in range(count)]


def _with_history(registry, root, model_name: str, champions: int) -> list[ModelVersion]:
    """``champions`` versions that were champion in turn (v1 bootstrapped, then promotions)."""
    versions = _versions(registry, root, model_name, champions)
    registry.bootstrap_champion(model_name, versions[0].id)
    for previous, version in zip(versions, versions[1:], strict=False):
        registry.promote(model_name, version.id, expected_champion_id=previous.id, reason="better")
    return [registry.get_version(v.id) for v in versions]


def _corrupt(version: ModelVersion) -> None:
    path = Path(version.artifact_uri)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _remove(version: ModelVersion) -> None:
    Path(version.artifact_uri).unlink()


def _pointer(engine, model_name: str) -> int | None:
    c = champions_table
    with engine.connect() as conn:
        return conn.execute(
            sa.select(c.c.version_id).where(c.c.model_name == model_name)
        ).scalar_one_or_none()


def assert_one_champion(engine, model_name: str) -> int:
    """Exactly one version has status champion, one pointer row exists and they agree."""
    v, c = model_versions_table, champions_table
    with engine.connect() as conn:
        champions = (
            conn.execute(
                sa.select(v.c.id).where(v.c.model_name == model_name, v.c.status == "champion")
            )
            .scalars()
            .all()
        )
        pointers = (
            conn.execute(sa.select(c.c.version_id).where(c.c.model_name == model_name))
            .scalars()
            .all()
        )
    assert len(champions) == 1, f"{model_name}: champion rows {champions}"
    assert pointers == champions, f"{model_name}: pointer {pointers} != champion rows {champions}"
    return champions[0]


def assert_log_explains_state(registry: ModelRegistry, engine, model_name: str) -> list[str]:
    """Replaying the event log reproduces every status and the pointer (the log is complete)."""
    pointer: int | None = None
    statuses: dict[int, str] = {}
    for event in registry.events(model_name):
        if event.event == "registered":
            statuses[event.version_id] = event.details["status"]
        elif event.event == "promoted":
            assert event.details["previous_champion_id"] == pointer
            if pointer is not None:
                statuses[pointer] = "archived"
            pointer = event.version_id
            statuses[pointer] = "champion"
        elif event.event == "rolled_back":
            assert event.version_id == pointer
            statuses[pointer] = "rolled_back"
            pointer = event.details["restored_version_id"]
            statuses[pointer] = "champion"
        elif event.event == "rejected":
            statuses[event.version_id] = "rejected"
    assert pointer == _pointer(engine, model_name)
    assert statuses == {v.id: v.status for v in registry.list_versions(model_name)}
    return [e.event for e in registry.events(model_name)]


def _snapshot(registry: ModelRegistry, engine, model_name: str) -> tuple:
    return (
        registry.list_versions(model_name),
        registry.events(model_name),
        _pointer(engine, model_name),
    )


class _LoadSpy:
    calls = 0

    def __call__(self, *args, **kwargs):
        type(self).calls += 1
        raise AssertionError("a rollback must only hash artifacts, never unpickle them")


# --------------------------------------------------------------------------- evaluation


def test_record_evaluation_appends_the_full_result(engine, registry, artifact_root):
    champion, challenger = _versions(registry, artifact_root, "churn", 2)
    registry.bootstrap_champion("churn", champion.id)
    before = registry.list_versions("churn")
    result = {
        "decision": "promote",
        "metric": "roc_auc",
        "champion": {"roc_auc": 0.71, "n": 1200},
        "challenger": {"roc_auc": 0.78, "n": 1200},
        "delta": 0.07,
        "threshold": 0.01,
        "windows": ["2024-03-01", "2024-03-31"],
        "note": None,
    }

    event = registry.record_evaluation(
        "churn", challenger.id, champion.id, result, run_id="gate-1", reason="weekly gate"
    )

    assert event == registry.events("churn")[-1]
    assert event.event == "evaluated"
    assert event.version_id == challenger.id
    assert event.run_id == "gate-1" and event.reason == "weekly gate"
    assert event.details["champion_id"] == champion.id
    assert event.details["result"] == result
    assert registry.list_versions("churn") == before  # no status change
    assert_one_champion(engine, "churn")


def test_record_evaluation_refuses_versions_of_another_model(registry, artifact_root):
    mine = _new_version(registry, artifact_root, "churn")
    other = _new_version(registry, artifact_root, "other")
    with pytest.raises(RegistryError, match="belongs to model 'other'"):
        registry.record_evaluation("churn", other.id, mine.id, {"decision": "promote"})
    with pytest.raises(RegistryError, match="belongs to model 'other'"):
        registry.record_evaluation("churn", mine.id, other.id, {"decision": "promote"})
    with pytest.raises(RegistryError, match="result must be a dict"):
        registry.record_evaluation("churn", mine.id, None, ["promote"])
    assert [e.event for e in registry.events("churn")] == ["registered"]


# --------------------------------------------------------------------------- promote


def test_promote_happy_path(engine, registry, artifact_root):
    v1, v2 = _versions(registry, artifact_root, "email_engagement", 2)
    registry.bootstrap_champion("email_engagement", v1.id)
    evaluation = {"decision": "promote", "champion": 0.70, "challenger": 0.75}

    promoted = registry.promote(
        "email_engagement",
        v2.id,
        expected_champion_id=v1.id,
        run_id="gate-7",
        reason="challenger beats champion by 0.05 accuracy",
        evaluation=evaluation,
    )

    assert promoted.id == v2.id and promoted.status == "champion"
    assert registry.get_champion("email_engagement") == promoted
    assert registry.get_version(v1.id).status == "archived"
    assert assert_one_champion(engine, "email_engagement") == v2.id
    event = registry.events("email_engagement")[-1]
    assert event.event == "promoted"
    assert event.version_id == v2.id
    assert event.run_id == "gate-7"
    assert event.reason == "challenger beats champion by 0.05 accuracy"
    assert event.details["previous_champion_id"] == v1.id
    assert event.details["evaluation"] == evaluation
    assert event.details["bootstrap"] is False
    assert [v.id for v in registry.champion_history("email_engagement")] == [v1.id, v2.id]
    assert_log_explains_state(registry, engine, "email_engagement")


def test_stale_promote_is_refused_and_changes_nothing(engine, registry, artifact_root):
    v1, v2, v3 = _versions(registry, artifact_root, "email_engagement", 3)
    registry.bootstrap_champion("email_engagement", v1.id)
    registry.promote("email_engagement", v3.id, expected_champion_id=v1.id, reason="better")
    before = _snapshot(registry, engine, "email_engagement")

    with pytest.raises(StaleDecisionError) as info:
        registry.promote(
            "email_engagement", v2.id, expected_champion_id=v1.id, reason="evaluated against v1"
        )

    message = str(info.value)
    assert f"expected email_engagement v1 (id {v1.id})" in message
    assert f"now v3 (id {v3.id})" in message
    assert "re-evaluate the challenger" in message
    assert _snapshot(registry, engine, "email_engagement") == before
    assert registry.get_version(v2.id).status == "challenger"
    assert assert_one_champion(engine, "email_engagement") == v3.id


@pytest.mark.parametrize("what", ["archived", "rejected", "champion", "other_model", "unknown"])
def test_promote_of_a_non_challenger_is_refused(engine, registry, artifact_root, what):
    v1, v2, v3 = _versions(registry, artifact_root, "churn", 3)
    other = _new_version(registry, artifact_root, "other")
    registry.bootstrap_champion("churn", v1.id)
    registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="better")
    registry.reject("churn", v3.id, reason="worse")
    target, match = {
        "archived": (v1.id, "has status 'archived'"),
        "rejected": (v3.id, "has status 'rejected'"),
        "champion": (v2.id, "has status 'champion'"),
        "other_model": (other.id, "belongs to model 'other'"),
        "unknown": (99999, "unknown model version id 99999"),
    }[what]
    before = _snapshot(registry, engine, "churn")

    with pytest.raises(RegistryError, match=match):
        registry.promote("churn", target, expected_champion_id=v2.id, reason="try")

    assert _snapshot(registry, engine, "churn") == before
    assert assert_one_champion(engine, "churn") == v2.id


def test_promote_without_a_champion_raises_no_champion(engine, registry, artifact_root):
    v1, v2 = _versions(registry, artifact_root, "churn", 2)
    with pytest.raises(NoChampionError):
        registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="x")
    assert _pointer(engine, "churn") is None
    assert {v.status for v in registry.list_versions("churn")} == {"challenger"}


def test_promote_requires_a_reason(registry, artifact_root):
    v1, v2 = _versions(registry, artifact_root, "churn", 2)
    registry.bootstrap_champion("churn", v1.id)
    with pytest.raises(RegistryError, match="reason"):
        registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="  ")
    assert registry.get_champion("churn").id == v1.id


# --------------------------------------------------------------------------- reject


def test_reject_a_challenger(engine, registry, artifact_root):
    v1, v2 = _versions(registry, artifact_root, "churn", 2)
    registry.bootstrap_champion("churn", v1.id)
    evaluation = {"decision": "reject", "delta": -0.02}

    rejected = registry.reject(
        "churn", v2.id, run_id="gate-2", reason="worse than champion", evaluation=evaluation
    )

    assert rejected.status == "rejected" == registry.get_version(v2.id).status
    event = registry.events("churn")[-1]
    assert (event.event, event.version_id, event.run_id) == ("rejected", v2.id, "gate-2")
    assert event.reason == "worse than champion"
    assert event.details["evaluation"] == evaluation
    assert assert_one_champion(engine, "churn") == v1.id
    # A rejected version can be neither rejected again nor promoted.
    with pytest.raises(RegistryError, match="has status 'rejected'"):
        registry.reject("churn", v2.id, reason="again")
    with pytest.raises(RegistryError, match="has status 'rejected'"):
        registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="x")
    with pytest.raises(RegistryError, match="has status 'champion'"):
        registry.reject("churn", v1.id, reason="no")
    assert registry.get_version(v1.id).status == "champion"
    assert assert_log_explains_state(registry, engine, "churn").count("rejected") == 1


# --------------------------------------------------------------------------- reads


def test_latest_challenger(registry, artifact_root):
    with pytest.raises(RegistryError, match="no challenger registered for churn; train one first"):
        registry.latest_challenger("churn")
    v1, v2, v3 = _versions(registry, artifact_root, "churn", 3)
    registry.bootstrap_champion("churn", v1.id)
    assert registry.latest_challenger("churn").id == v3.id
    registry.reject("churn", v3.id, reason="worse")
    assert registry.latest_challenger("churn").id == v2.id
    registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="better")
    with pytest.raises(RegistryError, match="no challenger registered for churn"):
        registry.latest_challenger("churn")


def test_champion_history_includes_restorations(registry, artifact_root):
    v1, v2, v3 = _with_history(registry, artifact_root, "churn", 3)
    assert [v.id for v in registry.champion_history("churn")] == [v1.id, v2.id, v3.id]
    registry.rollback("churn", reason="bad")
    history = registry.champion_history("churn")
    assert [v.id for v in history] == [v1.id, v2.id, v3.id, v2.id]
    assert [v.status for v in history] == ["archived", "champion", "rolled_back", "champion"]
    assert registry.champion_history("unknown") == []


def test_champion_at_follows_data_time_not_wall_time(registry, artifact_root):
    from datetime import datetime

    from modelguard.exceptions import NoChampionError

    with pytest.raises(NoChampionError):
        registry.champion_at("churn", datetime(2026, 9, 1))
    v1, v2, v3 = _versions(registry, artifact_root, "churn", 3)
    registry.bootstrap_champion("churn", v1.id)
    # Promotions recorded now, in wall time, for data times in September and October.
    registry.promote(
        "churn", v2.id, expected_champion_id=v1.id, reason="r", effective_at=datetime(2026, 9, 10)
    )
    registry.promote(
        "churn", v3.id, expected_champion_id=v2.id, reason="r", effective_at=datetime(2026, 10, 1)
    )
    at = registry.champion_at
    assert at("churn", datetime(2026, 8, 1)).id == v1.id  # the bootstrap judges all before
    assert at("churn", datetime(2026, 9, 10)).id == v1.id  # an interval ending at it: before
    assert at("churn", datetime(2026, 9, 10, 1)).id == v2.id
    assert at("churn", datetime(2026, 12, 1)).id == v3.id
    # A rollback effective mid-October restores v2 from then on; September is unchanged.
    registry.rollback("churn", reason="bad", effective_at=datetime(2026, 10, 15))
    assert at("churn", datetime(2026, 10, 10)).id == v3.id
    assert at("churn", datetime(2026, 10, 20)).id == v2.id
    assert at("churn", datetime(2026, 9, 20)).id == v2.id
    assert registry.get_champion("churn").id == v2.id
    # A change asked for in the past (a retraining started by a backfill of August) takes
    # effect after the last change: history keeps its champions, today gets the new one.
    (v4,) = _versions(registry, artifact_root, "churn", 1)
    registry.promote(
        "churn", v4.id, expected_champion_id=v2.id, reason="r", effective_at=datetime(2026, 8, 1)
    )
    assert at("churn", datetime(2026, 8, 20)).id == v1.id
    assert at("churn", datetime(2026, 9, 20)).id == v2.id
    assert at("churn", datetime(2026, 10, 14)).id == v3.id
    assert at("churn", datetime(2026, 10, 16)).id == v4.id == registry.get_champion("churn").id


def test_champion_at_reads_older_events_by_their_evaluation_as_of(registry, artifact_root):
    from datetime import datetime

    v1, v2 = _versions(registry, artifact_root, "churn", 2)
    registry.bootstrap_champion("churn", v1.id)
    registry.promote(
        "churn",
        v2.id,
        expected_champion_id=v1.id,
        reason="r",
        evaluation={"as_of": "2026-09-05T00:00:00"},
    )
    # Events written before effective_at existed carry only the evaluation's as_of.
    with registry.engine.begin() as conn:
        e = model_events_table
        row = conn.execute(
            sa.select(e.c.id, e.c.details).where(e.c.version_id == v2.id, e.c.event == "promoted")
        ).one()
        details = {k: v for k, v in row.details.items() if k != "effective_at"}
        conn.execute(sa.update(e).where(e.c.id == row.id).values(details=details))
    assert registry.champion_at("churn", datetime(2026, 9, 4)).id == v1.id
    assert registry.champion_at("churn", datetime(2026, 9, 6)).id == v2.id


# --------------------------------------------------------------------------- rollback


def test_rollback_restores_the_previous_champion(engine, registry, artifact_root, monkeypatch):
    v1, v2, v3 = _with_history(registry, artifact_root, "churn", 3)
    spy = _LoadSpy()
    monkeypatch.setattr(joblib, "load", spy)

    result = registry.rollback("churn", run_id="monitor-9", reason="accuracy fell to 0.51")

    assert isinstance(result, RollbackResult)
    assert result.restored.id == v2.id and result.restored.status == "champion"
    assert result.rolled_back.id == v3.id and result.rolled_back.status == "rolled_back"
    assert result.failed_attempts == []
    assert assert_one_champion(engine, "churn") == v2.id
    assert registry.get_version(v1.id).status == "archived"
    event = registry.events("churn")[-1]
    assert (event.event, event.version_id, event.run_id) == ("rolled_back", v3.id, "monitor-9")
    assert event.reason == "accuracy fell to 0.51"
    assert event.details["restored_version_id"] == v2.id
    assert event.details["reason"] == "accuracy fell to 0.51"
    assert event.details["failed_attempts"] == []
    assert spy.calls == 0

    # A second rollback skips v3 (rolled back) and v2 (current) and restores v1.
    second = registry.rollback("churn", reason="still bad")
    assert (second.restored.id, second.rolled_back.id) == (v1.id, v2.id)
    assert assert_one_champion(engine, "churn") == v1.id
    assert [v.status for v in registry.list_versions("churn")] == [
        "champion",
        "rolled_back",
        "rolled_back",
    ]
    assert assert_log_explains_state(registry, engine, "churn").count("rolled_back") == 2


def test_rollback_to_a_named_version(engine, registry, artifact_root):
    v1, v2, v3 = _with_history(registry, artifact_root, "churn", 3)
    result = registry.rollback("churn", target_version_id=v1.id, reason="v1 was best")
    assert (result.restored.id, result.rolled_back.id) == (v1.id, v3.id)
    assert registry.get_version(v2.id).status == "archived"
    assert assert_one_champion(engine, "churn") == v1.id
    assert registry.events("churn")[-1].details["restored_version_id"] == v1.id
    assert_log_explains_state(registry, engine, "churn")


@pytest.mark.parametrize("what", ["current", "rejected", "other_model", "unknown"])
def test_rollback_to_an_invalid_named_version_is_refused(engine, registry, artifact_root, what):
    v1, v2 = _with_history(registry, artifact_root, "churn", 2)
    v3 = _new_version(registry, artifact_root, "churn")
    registry.reject("churn", v3.id, reason="worse")
    other = _new_version(registry, artifact_root, "other")
    target, match = {
        "current": (v2.id, "current champion"),
        "rejected": (v3.id, "status 'rejected'"),
        "other_model": (other.id, "belongs to model 'other'"),
        "unknown": (99999, "unknown model version id"),
    }[what]
    before = _snapshot(registry, engine, "churn")
    with pytest.raises(RegistryError, match=match):
        registry.rollback("churn", target_version_id=target, reason="x")
    assert _snapshot(registry, engine, "churn") == before


@pytest.mark.parametrize("damage", [_corrupt, _remove], ids=["corrupted", "missing"])
def test_rollback_skips_a_bad_artifact_and_restores_the_next(
    engine, registry, artifact_root, damage
):
    v1, v2, v3 = _with_history(registry, artifact_root, "churn", 3)
    damage(v2)

    result = registry.rollback("churn", run_id="r-1", reason="drift")

    assert result.restored.id == v1.id
    assert [a["version_id"] for a in result.failed_attempts] == [v2.id]
    expected = "has sha256" if damage is _corrupt else "missing"
    assert expected in result.failed_attempts[0]["error"]
    assert assert_one_champion(engine, "churn") == v1.id
    assert registry.get_version(v2.id).status == "archived"  # not restored, not changed
    failed, done = registry.events("churn")[-2:]
    assert (failed.event, failed.version_id, failed.run_id) == ("rollback_failed", v2.id, "r-1")
    assert failed.reason == result.failed_attempts[0]["error"]
    assert (done.event, done.version_id) == ("rolled_back", v3.id)
    assert done.details["failed_attempts"] == result.failed_attempts
    assert_log_explains_state(registry, engine, "churn")


def test_rollback_gives_up_when_every_candidate_is_bad(engine, registry, artifact_root):
    v1, v2, v3 = _with_history(registry, artifact_root, "email_engagement", 3)
    _corrupt(v2)
    _remove(v1)
    versions_before = registry.list_versions("email_engagement")
    events_before = registry.events("email_engagement")

    with pytest.raises(RollbackFailedError) as info:
        registry.rollback("email_engagement", run_id="r-2", reason="accuracy collapsed")

    message = str(info.value)
    assert "ROLLBACK FAILED for model 'email_engagement'" in message
    assert f"email_engagement v3 (id {v3.id}) stays champion" in message
    assert f"email_engagement v2 (id {v2.id}): artifact" in message and "has sha256" in message
    assert f"email_engagement v1 (id {v1.id}): artifact" in message and "missing" in message
    assert "Action needed" in message
    # Registry unchanged except for the appended failure events.
    assert registry.list_versions("email_engagement") == versions_before
    assert assert_one_champion(engine, "email_engagement") == v3.id
    new_events = registry.events("email_engagement")[len(events_before) :]
    assert [(e.event, e.version_id) for e in new_events] == [
        ("rollback_failed", v2.id),
        ("rollback_failed", v1.id),
        ("rollback_failed", v3.id),
    ]
    assert new_events[-1].reason == "gave up after 2 attempt(s)"
    assert [a["version_id"] for a in new_events[-1].details["failed_attempts"]] == [v2.id, v1.id]
    assert all(e.run_id == "r-2" for e in new_events)


def test_rollback_respects_max_attempts(engine, registry, artifact_root):
    v1, v2, v3, v4 = _with_history(registry, artifact_root, "churn", 4)
    _corrupt(v3)
    _corrupt(v2)

    with pytest.raises(RollbackFailedError, match=r"Not tried \(max_attempts=2\): churn v1"):
        registry.rollback("churn", reason="bad", max_attempts=2)
    failed = [e for e in registry.events("churn") if e.event == "rollback_failed"]
    assert [e.version_id for e in failed] == [v3.id, v2.id, v4.id]
    assert failed[-1].reason == "gave up after 2 attempt(s)"
    assert failed[-1].details["not_tried"] == [v1.id]
    assert assert_one_champion(engine, "churn") == v4.id

    result = registry.rollback("churn", reason="bad", max_attempts=3)
    assert result.restored.id == v1.id
    assert [a["version_id"] for a in result.failed_attempts] == [v3.id, v2.id]
    assert assert_one_champion(engine, "churn") == v1.id

    with pytest.raises(RegistryError, match="max_attempts"):
        registry.rollback("churn", reason="bad", max_attempts=0)


def test_rollback_with_no_previous_champion_fails(engine, registry, artifact_root):
    v1, _challenger = _versions(registry, artifact_root, "churn", 2)
    registry.bootstrap_champion("churn", v1.id)

    with pytest.raises(RollbackFailedError, match="no earlier champion") as info:
        registry.rollback("churn", reason="bad")

    assert "'churn'" in str(info.value)
    assert assert_one_champion(engine, "churn") == v1.id
    last = registry.events("churn")[-1]
    assert (last.event, last.version_id) == ("rollback_failed", v1.id)
    assert last.reason == "gave up after 0 attempt(s)"


def test_rollback_without_a_champion_raises_no_champion(registry, artifact_root):
    _versions(registry, artifact_root, "churn", 2)
    with pytest.raises(NoChampionError):
        registry.rollback("churn", reason="bad")
    assert [e.event for e in registry.events("churn")] == ["registered", "registered"]


def test_rollback_with_a_stale_expected_champion_changes_nothing(engine, registry, artifact_root):
    v1, v2, v3 = _with_history(registry, artifact_root, "churn", 3)
    before = _snapshot(registry, engine, "churn")
    with pytest.raises(StaleDecisionError, match=rf"expected churn v2 \(id {v2.id}\), now v3"):
        registry.rollback("churn", reason="bad", expected_champion_id=v2.id)
    assert _snapshot(registry, engine, "churn") == before


def test_rollback_refuses_when_the_champion_changes_while_it_runs(
    engine, registry, artifact_root, monkeypatch
):
    v1, v2 = _with_history(registry, artifact_root, "churn", 2)
    v3 = _new_version(registry, artifact_root, "churn")
    import modelguard.storage.artifacts as artifacts_module

    real_sha256 = artifacts_module.sha256_file

    def promote_meanwhile(path):
        # Another worker promotes v3 after the rollback chose v2 as the champion to replace.
        registry.promote("churn", v3.id, expected_champion_id=v2.id, reason="better")
        return real_sha256(path)

    monkeypatch.setattr(artifacts_module, "sha256_file", promote_meanwhile)
    with pytest.raises(StaleDecisionError, match=rf"expected churn v2 \(id {v2.id}\), now v3"):
        registry.rollback("churn", reason="bad")

    assert assert_one_champion(engine, "churn") == v3.id
    assert registry.get_version(v1.id).status == "archived"
    assert registry.get_version(v2.id).status == "archived"
    assert "rolled_back" not in assert_log_explains_state(registry, engine, "churn")


def test_exactly_one_champion_at_every_step(engine, registry, artifact_root):
    v1, v2, v3, v4 = _versions(registry, artifact_root, "churn", 4)
    registry.bootstrap_champion("churn", v1.id)
    steps = [
        lambda: registry.record_evaluation("churn", v2.id, v1.id, {"decision": "promote"}),
        lambda: registry.promote("churn", v2.id, expected_champion_id=v1.id, reason="better"),
        lambda: registry.reject("churn", v3.id, reason="worse"),
        lambda: registry.promote("churn", v4.id, expected_champion_id=v2.id, reason="better"),
        lambda: registry.rollback("churn", reason="bad"),
        lambda: registry.rollback("churn", reason="bad again"),
        lambda: registry.rollback("churn", target_version_id=v4.id, reason="v4 after all"),
    ]
    champions = [assert_one_champion(engine, "churn")]
    for step in steps:
        step()
        champions.append(assert_one_champion(engine, "churn"))
        assert_log_explains_state(registry, engine, "churn")
    assert champions == [v1.id, v1.id, v2.id, v2.id, v4.id, v2.id, v1.id, v4.id]
    with pytest.raises(RollbackFailedError):  # v2 and v1 rolled back, v3 rejected: nothing left
        registry.rollback("churn", reason="and again")
    assert assert_one_champion(engine, "churn") == v4.id


# --------------------------------------------------------------------------- races (processes)


def _race_worker(url, schema, root, index, commands, results, barrier) -> None:
    """Child process: for each command, wait at the barrier (then ``delay`` s), then act."""
    engine = child_engine(url, schema)
    registry = ModelRegistry(engine, artifact_root=root)
    try:
        while (command := commands.get()) is not None:
            operation, kwargs, delay = command
            with engine.connect():  # open a pooled connection before the barrier
                pass
            barrier.wait(timeout=60)
            if delay:
                time.sleep(delay)
            try:
                if operation == "promote":
                    outcome = ("won", registry.promote(**kwargs).id)
                else:
                    outcome = ("won", registry.rollback(**kwargs).restored.id)
            except StaleDecisionError as exc:
                outcome = ("stale", str(exc))
            except Exception as exc:  # reported to the parent, which fails the test
                outcome = ("error", f"{type(exc).__name__}: {exc}")
            results.put((index, operation, *outcome))
    finally:
        engine.dispose()


class _Racers:
    """``count`` spawned processes on the test's database, released together per round."""

    def __init__(self, engine, root, count: int) -> None:
        url, schema = engine_spec(engine)
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        # Kept on self: the semaphores must outlive the children's start-up (spawn unpickles them).
        self.barrier = context.Barrier(count)
        self.commands = [context.Queue() for _ in range(count)]
        self.processes = [
            context.Process(
                target=_race_worker,
                args=(url, schema, root, i, self.commands[i], self.results, self.barrier),
                daemon=True,
            )
            for i in range(count)
        ]
        for process in self.processes:
            process.start()

    def run(self, commands: list[tuple[str, dict[str, Any], float]]) -> dict[int, tuple]:
        for command_queue, command in zip(self.commands, commands, strict=True):
            command_queue.put(command)
        outcomes = {}
        for _ in commands:
            try:
                index, *outcome = self.results.get(timeout=90)
            except queue.Empty:
                pytest.fail("a race worker did not report back within 90 s")
            outcomes[index] = tuple(outcome)
        errors = [o for o in outcomes.values() if o[1] == "error"]
        assert not errors, errors
        return outcomes

    def close(self) -> None:
        for command_queue in self.commands:
            command_queue.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


@pytest.fixture
def racers(engine, registry):
    started: list[_Racers] = []

    def start(count: int) -> _Racers:
        started.append(_Racers(engine, registry.artifacts.root, count))
        return started[-1]

    yield start
    for group in started:
        group.close()


def test_racing_promotions_in_separate_processes(engine, registry, artifact_root, racers):
    group = racers(3)
    for round_ in range(ROUNDS):
        model = f"race_promote_{round_}"
        champion, *challengers = _versions(registry, artifact_root, model, 4)
        registry.bootstrap_champion(model, champion.id)

        outcomes = group.run(
            [
                (
                    "promote",
                    {
                        "model_name": model,
                        "version_id": c.id,
                        "expected_champion_id": champion.id,
                        "reason": f"racer {i}",
                    },
                    0.0,
                )
                for i, c in enumerate(challengers)
            ]
        )

        winners = [i for i, o in outcomes.items() if o[1] == "won"]
        losers = [i for i, o in outcomes.items() if o[1] == "stale"]
        assert len(winners) == 1 and len(losers) == 2, outcomes
        winner = challengers[winners[0]]
        assert outcomes[winners[0]][2] == winner.id
        for i in losers:
            assert (
                f"expected {model} v1 (id {champion.id}), now v{winner.version}" in (outcomes[i][2])
            )
            assert registry.get_version(challengers[i].id).status == "challenger"
        assert assert_one_champion(engine, model) == winner.id
        assert registry.get_version(champion.id).status == "archived"
        promotions = [e for e in registry.events(model) if e.event == "promoted"]
        assert [e.version_id for e in promotions] == [champion.id, winner.id]
        assert promotions[1].details["previous_champion_id"] == champion.id
        assert_log_explains_state(registry, engine, model)


def test_promotion_racing_a_rollback_in_separate_processes(engine, registry, artifact_root, racers):
    group = racers(2)
    seen = set()
    for round_ in range(2 * ROUNDS):
        model = f"race_rollback_{round_}"
        v1, v2 = _with_history(registry, artifact_root, model, 2)
        v3 = _new_version(registry, artifact_root, model)
        # Even rounds pin the rollback to v2; odd rounds let it roll back whatever is champion.
        pinned = round_ % 2 == 0
        # The rollback hashes artifacts before its swap; delaying the promotion by a few
        # milliseconds in some rounds lets either side reach the pointer first.
        promote_delay = (0.0, 0.0, 0.005, 0.005, 0.015, 0.015)[round_ % 6]
        rollback_kwargs = {"model_name": model, "reason": "monitor says bad"}
        if pinned:
            rollback_kwargs["expected_champion_id"] = v2.id

        outcomes = group.run(
            [
                (
                    "promote",
                    {
                        "model_name": model,
                        "version_id": v3.id,
                        "expected_champion_id": v2.id,
                        "reason": "better",
                    },
                    promote_delay,
                ),
                ("rollback", rollback_kwargs, 0.0),
            ]
        )

        promote, rollback = outcomes[0][1], outcomes[1][1]
        seen.add((promote, rollback))
        champion = assert_one_champion(engine, model)
        events = assert_log_explains_state(registry, engine, model)
        assert "rollback_failed" not in events
        if (promote, rollback) == ("won", "stale"):
            assert champion == v3.id
            assert events.count("rolled_back") == 0
        elif (promote, rollback) == ("stale", "won"):
            assert champion == v1.id and outcomes[1][2] == v1.id
            assert registry.get_version(v2.id).status == "rolled_back"
            assert registry.get_version(v3.id).status == "challenger"
            assert events.count("promoted") == 2  # bootstrap and v2 only
        else:
            # Only without a pinned champion may both succeed: v3 promoted, then rolled back.
            assert not pinned and (promote, rollback) == ("won", "won"), outcomes
            assert champion == v2.id and outcomes[1][2] == v2.id
            assert registry.get_version(v3.id).status == "rolled_back"
    print(f"promotion vs rollback outcomes ({engine.dialect.name}): {sorted(seen)}")
