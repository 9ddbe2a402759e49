"""The bootstrap use case on a real seeded SQLite source and registry (no Airflow): the first
champion, its holdout metrics as the gate scores them, refusals, replacement, any estimator."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from modelguard.core.scoring import score_model
from modelguard.core.window import Window
from modelguard.exceptions import (
    ChampionExistsError,
    DataValidationError,
    EstimatorError,
    InsufficientDataError,
)
from modelguard.pipelines.bootstrap import METRIC_KEYS, run_bootstrap
from modelguard.pipelines.deployment import read_labelled
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.source import engine_for_url
from tests.world import SEED_START, build_world, matured, new_world

START, END = SEED_START, datetime(2026, 6, 15)
AS_OF = matured(END)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The seeded source, shared; each test brings its own registry and config."""
    return build_world(tmp_path_factory.mktemp("bootstrap_source"), with_champion=False)


def world_for(seeded, root, **overrides):
    world = new_world(root, **overrides)
    return world, engine_for_url(seeded.source_url), engine_for_url(world.registry_url)


def bootstrap(seeded, root, **kw):
    world, source, registry = world_for(seeded, root, **kw.pop("overrides", {}))
    kw.setdefault("as_of", AS_OF)
    result = run_bootstrap(world.config, source, registry, START, END, **kw)
    return world, source, registry, result


def holdout(world, source) -> tuple[int, object]:
    """The rows the bootstrap held out: the newest holdout_share of the labelled window."""
    frame = read_labelled(source, world.config, Window(START, END), AS_OF)
    cut = int(len(frame) * (1 - world.config.retraining.holdout_share))
    return cut, frame.iloc[cut:].reset_index(drop=True)


def test_first_champion_with_the_gates_scores_of_its_holdout(seeded, tmp_path):
    world, source, registry_engine, result = bootstrap(seeded, tmp_path, run_id="boot")
    registry = ModelRegistry(registry_engine, world.config.storage.artifact_root)
    champion = registry.get_champion("email_engagement")
    assert result.made_champion and result.replaced is None
    assert champion.id == result.version.id and champion.status == "champion"
    assert champion.strategy == "bootstrap" and champion.run_id == "boot"
    assert (champion.training_start, champion.training_end) == (START, END)
    assert set(METRIC_KEYS) <= set(champion.metrics)
    n_train, rows = holdout(world, source)
    assert champion.metrics["n_train"] == n_train and champion.metrics["n_holdout"] == len(rows)
    scores, _ = score_model(registry.load_model(champion), rows, "engaged", threshold=0.5)
    for key, value in scores.to_dict().items():
        stored = champion.metrics["n_holdout" if key == "n" else key]
        assert stored == pytest.approx(value), key
    assert champion.metrics["decision_threshold"] == 0.5
    assert champion.metrics["training"]["estimator"] == world.config.model.estimator
    assert [e.event for e in registry.events("email_engagement")] == ["registered", "promoted"]
    assert champion.reference_profile  # monitoring compares with what it was trained on


def test_the_decision_threshold_is_the_configured_one(seeded, tmp_path):
    low = bootstrap(seeded, tmp_path / "low", overrides={"deployment": {"decision_threshold": 0.3}})
    high = bootstrap(seeded, tmp_path / "high")
    m_low, m_high = low[3].metrics, high[3].metrics
    assert m_low["decision_threshold"] == 0.3
    # same data, same deterministic estimator: threshold-free scores agree ...
    for key in ("roc_auc", "log_loss", "engagement_rate", "n_holdout", "n_train"):
        assert m_low[key] == pytest.approx(m_high[key]), key
    # ... a lower threshold predicts more sends positive: recall can only rise
    assert m_low["positive_rate"] > m_high["positive_rate"]
    assert m_low["recall"] >= m_high["recall"]
    assert m_low["accuracy"] != pytest.approx(m_high["accuracy"])


def test_a_second_bootstrap_is_refused_before_reading_anything(seeded, tmp_path):
    world, _, registry_engine, first = bootstrap(seeded, tmp_path)
    nowhere = engine_for_url(f"sqlite:///{tmp_path / 'no_such_source.db'}")
    with pytest.raises(ChampionExistsError, match=r"already has a champion.*--replace") as info:
        run_bootstrap(world.config, nowhere, registry_engine, START, END)
    assert first.version.label in str(info.value)
    registry = ModelRegistry(registry_engine)
    assert [v.id for v in registry.list_versions("email_engagement")] == [first.version.id]
    assert not (tmp_path / "no_such_source.db").exists()


def test_replace_promotes_a_new_version_and_keeps_the_old(seeded, tmp_path):
    world, source, registry_engine, first = bootstrap(seeded, tmp_path)
    second = run_bootstrap(
        world.config, source, registry_engine, START, END, as_of=AS_OF, replace=True
    )
    registry = ModelRegistry(registry_engine)
    assert second.replaced.id == first.version.id and second.made_champion
    assert registry.get_champion("email_engagement").id == second.version.id
    assert [(v.version, v.status) for v in registry.list_versions("email_engagement")] == [
        (1, "archived"),
        (2, "champion"),
    ]
    promoted = [e for e in registry.events("email_engagement") if e.event == "promoted"]
    assert "replace" in promoted[-1].reason and promoted[-1].details["bootstrap"] is False
    assert promoted[-1].details["effective_at"] == AS_OF.isoformat()
    assert [v.id for v in registry.champion_history("email_engagement")] == [
        first.version.id,
        second.version.id,
    ]


def test_a_challenger_for_the_gate_is_registered_beside_the_champion(seeded, tmp_path):
    world, source, registry_engine, first = bootstrap(seeded, tmp_path)
    other = run_bootstrap(
        world.config, source, registry_engine, START, END, as_of=AS_OF, make_champion=False
    )
    assert not other.made_champion and other.version.status == "challenger"
    assert other.version.strategy == "manual"
    registry = ModelRegistry(registry_engine)
    assert registry.get_champion("email_engagement").id == first.version.id


def test_windows_without_usable_labels_register_nothing(seeded, tmp_path):
    world, source, registry_engine = world_for(seeded, tmp_path)
    with pytest.raises(InsufficientDataError, match="no sends in .* matured by"):
        run_bootstrap(
            world.config, source, registry_engine, datetime(2027, 1, 1), datetime(2027, 2, 1)
        )
    with pytest.raises(InsufficientDataError, match="matured by"):  # no outcome known yet
        run_bootstrap(world.config, source, registry_engine, START, END, as_of=START)
    with pytest.raises(DataValidationError, match="start must be before end"):
        run_bootstrap(world.config, source, registry_engine, END, START)
    assert ModelRegistry(registry_engine).list_versions("email_engagement") == []


def logistic_estimator(frame, features, target, *, sample_weight=None):
    """Any model will do: a logistic regression on the numeric features."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    numeric = [c for c, kind in features.items() if kind == "numeric"]
    model = make_pipeline(
        ColumnTransformer([("numeric", SimpleImputer(), numeric)]),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(frame[list(features)], frame[target])


def failing_estimator(frame, features, target, *, sample_weight=None):
    raise ValueError("this estimator always fails")


def test_the_configured_estimator_is_the_one_trained(seeded, tmp_path):
    estimator = "tests.pipelines.test_bootstrap:logistic_estimator"
    world, _, registry_engine, result = bootstrap(
        seeded, tmp_path, overrides={"model": {"estimator": estimator}}
    )
    model = ModelRegistry(registry_engine, world.config.storage.artifact_root).load_model(
        result.version
    )
    assert type(model[-1]).__name__ == "LogisticRegression"
    assert result.metrics["training"]["estimator"] == estimator


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        ("tests.pipelines.test_bootstrap:failing_estimator", "failed to fit: this estimator"),
        ("tests.pipelines.test_bootstrap:no_such_function", "cannot be imported"),
    ],
)
def test_an_estimator_that_cannot_train_registers_nothing(seeded, tmp_path, estimator, message):
    world, source, registry_engine = world_for(seeded, tmp_path, model={"estimator": estimator})
    with pytest.raises(EstimatorError, match=message):
        run_bootstrap(world.config, source, registry_engine, START, END, as_of=AS_OF)
    with registry_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM mg_model_versions")).scalar() == 0
