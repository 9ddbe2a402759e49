"""The gate's refusals, run on a real seeded source and registry: each a clear error, nothing
promoted, nothing lost."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from modelguard.exceptions import (
    ArtifactIntegrityError,
    InsufficientDataError,
    NoChampionError,
    RegistryError,
    SchemaMismatchError,
    StaleDecisionError,
)
from modelguard.pipelines.deployment import GateVerdict, deploy_challenger, evaluate_challenger
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.source import engine_for_url
from tests.world import (
    GATE_DEPLOY_AS_OF,
    POST_DRIFT_CHALLENGER,
    TWIN_CHALLENGER,
    build_gate_world,
    new_world,
    register_challenger,
)

MODEL = "email_engagement"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_gate_world(tmp_path_factory.mktemp("gate"))


@pytest.fixture(scope="module")
def registry(world):
    return ModelRegistry(engine_for_url(world.registry_url), world.config.storage.artifact_root)


def evaluate(world, **kw):
    args = dict(
        config=world.config,
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
        as_of=GATE_DEPLOY_AS_OF,
    )
    args.update(kw)
    verdict = evaluate_challenger(**args)
    assert GateVerdict.from_dict(verdict.to_dict()) == verdict
    assert GateVerdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict
    return verdict


def snapshot(registry):
    return [(v.id, v.status) for v in registry.list_versions(MODEL)], len(registry.events(MODEL))


def test_no_champion(tmp_path):
    world = new_world(tmp_path)
    with pytest.raises(NoChampionError, match=MODEL):
        evaluate(world)


def test_no_challenger(world, registry):
    before = snapshot(registry)
    with pytest.raises(RegistryError, match="no challenger registered"):
        evaluate(world)
    assert snapshot(registry) == before


def test_schema_mismatch_is_refused(world, registry):
    champion = registry.get_champion(MODEL)
    schema = dict(champion.feature_schema)
    del schema["industry"]
    schema["industry_v2"] = "categorical"
    odd = registry.register(
        MODEL,
        artifact_uri=champion.artifact_uri,
        artifact_sha256=champion.artifact_sha256,
        feature_schema=schema,
        reference_profile=champion.reference_profile,
    )
    before = snapshot(registry)
    with pytest.raises(SchemaMismatchError, match="missing 'industry'.*extra 'industry_v2'"):
        evaluate(world, challenger_id=odd.id)
    assert snapshot(registry) == before
    registry.reject(MODEL, odd.id, reason="test: wrong schema")


def test_too_few_labelled_rows(world, registry):
    challenger = register_challenger(world, POST_DRIFT_CHALLENGER)
    before = snapshot(registry)
    with pytest.raises(InsufficientDataError, match="min_validation_rows"):
        evaluate(world, challenger_id=challenger.id, as_of=datetime(2026, 6, 3))
    assert snapshot(registry) == before


def test_corrupted_artifact(world, registry):
    challenger = registry.latest_challenger(MODEL)
    path = Path(challenger.artifact_uri.removeprefix("file://"))
    original = path.read_bytes()
    path.write_bytes(original[:-10] + b"corrupted!")
    try:
        before = snapshot(registry)
        with pytest.raises(ArtifactIntegrityError, match="sha256"):
            evaluate(world, challenger_id=challenger.id)
        assert snapshot(registry) == before
    finally:
        path.write_bytes(original)


def test_stale_decision_is_refused(world, registry):
    first = registry.latest_challenger(MODEL)
    verdict = evaluate(world, challenger_id=first.id)
    assert verdict.decision == "deploy", verdict.reasons
    # another challenger wins in the meantime
    twin = register_challenger(world, TWIN_CHALLENGER)
    twin_verdict = evaluate(world, challenger_id=twin.id)
    assert twin_verdict.decision == "deploy", twin_verdict.reasons
    deploy_challenger(config=world.config, registry_engine=registry.engine, verdict=twin_verdict)
    champion = registry.get_champion(MODEL)
    promoted = [e for e in registry.events(MODEL) if e.event == "promoted"][-1]
    assert promoted.details["evaluation"] == twin_verdict.to_dict()  # stored as pushed
    with pytest.raises(StaleDecisionError, match="champion changed since the evaluation"):
        deploy_challenger(config=world.config, registry_engine=registry.engine, verdict=verdict)
    assert registry.get_champion(MODEL).id == champion.id == twin.id
    assert registry.get_version(first.id).status == "challenger"


def test_a_reject_verdict_cannot_be_deployed(world, registry):
    verdict = GateVerdict(
        decision="reject",
        reasons=("not significant",),
        challenger_id=1,
        challenger="email_engagement v1",
        champion_id=2,
        champion="email_engagement v2",
        test="mcnemar_exact",
        pvalue=0.5,
        b=3,
        c=4,
        n=500,
        primary_metric="accuracy",
        improvement=0.001,
        expected_metric=0.7,
        champion_metric=0.699,
        validation_window=("2026-05-01T00:00:00", "2026-05-15T00:00:00"),
        post_deployment_window=("2026-05-15T00:00:00", "2026-05-22T00:00:00"),
        as_of="2026-05-25T00:00:00",
    )
    with pytest.raises(RegistryError, match="decided 'reject'"):
        deploy_challenger(config=world.config, registry_engine=registry.engine, verdict=verdict)


def test_evaluation_is_logged_with_the_full_result(world, registry):
    evaluated = [e for e in registry.events(MODEL) if e.event == "evaluated"]
    assert evaluated, "the stale-decision test evaluated challengers"
    result = evaluated[-1].details["result"]
    for key in ("b", "c", "pvalue", "test", "improvement", "decision", "reasons"):
        assert key in result
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(
        result["champion"]
    )
