"""One retraining run in three steps that hand each other files, not data.

build the training set (strategy over the source) -> train and validate (nothing is registered
when validation fails) -> register the challenger with its artifact and reference profile. Each
step writes through the artifact store (:mod:`modelguard.storage.artifacts`, under
``storage.artifact_root``) and returns a small typed result (:class:`BuiltTrainingSet`,
:class:`TrainedChallenger`) whose ``to_dict()`` is its XCom; a file is loaded again only from
bytes that match the sha256 its step returned.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.records import fields_from_dict, from_xcom
from modelguard.exceptions import EstimatorError, MalformedResultError
from modelguard.retraining.validation import ValidationReport
from modelguard.storage.artifacts import ArtifactRef, ArtifactStore


def _ref(value: Any, cls: str, key: str) -> ArtifactRef:
    if not isinstance(value, dict):
        raise MalformedResultError(f"{cls}.from_dict: {key!r} must be an artifact reference dict")
    return ArtifactRef.from_dict(value)


def _described(value: Any, cls: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResultError(f"{cls}.from_dict: 'training' must be a dict")
    return dict(value)


@dataclass(frozen=True)
class BuiltTrainingSet:
    """The training set a run built: the file it was written to, and its description
    (``TrainingSet.describe()``, shown in the logs and stored with the challenger)."""

    training_set: ArtifactRef
    training: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"training_set": self.training_set.to_dict(), "training": self.training}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuiltTrainingSet:
        values = fields_from_dict(cls, data)
        return cls(
            training_set=_ref(values["training_set"], cls.__name__, "training_set"),
            training=_described(values["training"], cls.__name__),
        )

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value") -> BuiltTrainingSet:
        return from_xcom(cls, value, task_id, key)


@dataclass(frozen=True)
class TrainedChallenger:
    """A fitted model that passed validation: its file, its validation and what it was
    trained on."""

    model: ArtifactRef
    validation: ValidationReport
    training: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.to_dict(),
            "validation": self.validation.to_dict(),
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainedChallenger:
        values = fields_from_dict(cls, data)
        return cls(
            model=_ref(values["model"], cls.__name__, "model"),
            validation=ValidationReport.from_dict(values["validation"]),
            training=_described(values["training"], cls.__name__),
        )

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value") -> TrainedChallenger:
        return from_xcom(cls, value, task_id, key)


def _safe(run_id: str | None) -> str:
    """A run id as one folder name: never '.', '..' or empty (leading dots become '_')."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id or "manual")[:150]
    return re.sub(r"^\.+", lambda m: "_" * len(m.group()), safe) or "manual"


def _dump(config: ModelguardConfig, obj: Any, run_id: str | None, name: str) -> ArtifactRef:
    """Save what a step of run ``run_id`` leaves for the next, under ``<root>/_runs/<run>/``."""
    store = ArtifactStore(config.storage.artifact_root)
    return store.save(obj, Path("_runs") / _safe(run_id) / name)


def _load(config: ModelguardConfig, ref: ArtifactRef, *, what: str) -> Any:
    """The object a previous step wrote, from bytes checked against the sha256 it returned."""
    return ArtifactStore(config.storage.artifact_root).load(
        ref,
        what=what,
        recorded_by="the step that wrote it",
    )


def resolve_estimator(path: str):
    """``module:function`` -> the function that fits a model: ``fn(frame, features, target, *,
    sample_weight=None)``."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise EstimatorError(
            f"estimator {path!r} cannot be imported ({exc}); give 'module:function' importable "
            "from the workers (model.estimator of the model config: a package installed where "
            "Airflow runs; the repo's example models: pip install ./include)"
        ) from exc


def build_training_set_step(
    *,
    config: ModelguardConfig,
    source_engine,
    as_of: datetime,
    strategy: str,
    window_months: int | None,
    run_id: str | None,
    log=None,
) -> BuiltTrainingSet:
    from modelguard.retraining.training_sets import build_training_set

    training = build_training_set(
        strategy, engine=source_engine, config=config, as_of=as_of, window_months=window_months
    )
    ref = _dump(config, training, run_id, "training.joblib")
    if log:
        log.info("Training set: %s", training.describe())
    return BuiltTrainingSet(training_set=ref, training=training.describe())


def train_and_validate_step(
    *,
    config: ModelguardConfig,
    registry_engine,
    built: BuiltTrainingSet,
    estimator: str | None = None,
    run_id: str | None,
    log=None,
) -> TrainedChallenger:
    """Fit ``estimator`` (default: the config's ``model.estimator``) and validate the result."""
    from modelguard.retraining.training_sets import split_holdout
    from modelguard.retraining.validation import validate_challenger
    from modelguard.storage.registry import ModelRegistry

    training = _load(config, built.training_set, what="the training set")
    registry = ModelRegistry(registry_engine, config.storage.artifact_root)
    champion = registry.get_champion(config.model.name)
    train, holdout = split_holdout(training)
    estimator = estimator or config.model.estimator
    fit = resolve_estimator(estimator)
    try:
        model = fit(
            train.frame, config.features, config.source.label_column, sample_weight=train.weights
        )
    except Exception as exc:  # an estimator's own failure, named for the user
        raise EstimatorError(f"estimator {estimator!r} failed to fit: {exc}") from exc
    report = validate_challenger(
        model, train, holdout, champion_schema=champion.feature_schema, config=config
    )
    if log:
        log.info("Validation: %s", report.to_dict())
    report.raise_if_failed()
    ref = _dump(config, model, run_id, "model.joblib")
    return TrainedChallenger(model=ref, validation=report, training=built.training)


def register_step(
    *,
    config: ModelguardConfig,
    registry_engine,
    built: BuiltTrainingSet,
    trained: TrainedChallenger,
    reason: str | None,
    run_id: str | None,
    log=None,
) -> dict[str, Any]:
    """Register the validated model as a challenger, with the profile of its training data."""
    from modelguard.storage.registry import ModelRegistry

    training = _load(config, built.training_set, what="the training set")
    described = trained.training
    validation = trained.validation.to_dict()  # stored with the version, as JSON
    metrics = {
        **validation["metrics"],
        "training": described,
        "validation_checks": validation["checks"],
        "reason": reason,
    }
    version = register_model(
        config,
        ModelRegistry(registry_engine, config.storage.artifact_root),
        _load(config, trained.model, what="the trained model"),
        training.frame,
        metrics=metrics,
        training_start=training.window.start,
        training_end=training.window.end,
        strategy=training.strategy,
        run_id=run_id,
    )
    from modelguard.pipelines.performance_estimate import calibrate_registered

    calibrate_registered(config, registry_engine, version, training, log=log)
    if log:
        log.info("Registered %s as challenger (%s)", version.label, described)
    return {"challenger_id": version.id, "challenger": version.label, "training": described}


def register_model(
    config: ModelguardConfig,
    registry,
    model: Any,
    training_frame,
    *,
    metrics: dict[str, Any],
    training_start: datetime | None,
    training_end: datetime | None,
    strategy: str,
    run_id: str | None,
):
    """Save the artifact and register a challenger with the reference profile of the frame it
    was trained on: monitoring later compares production with what the model actually saw."""
    from modelguard.drift.detection import build_reference_profile

    dd = config.drift_detection
    profile = build_reference_profile(
        training_frame,
        config.features,
        target=config.source.label_column,
        bins=dd.psi_bins,
        sample_size=dd.reference_sample_size,
    )
    registry.ensure_schema()
    ref = ArtifactStore(config.storage.artifact_root).save_model(model, config.model.name)
    return registry.register(
        config.model.name,
        artifact_uri=ref.uri,
        artifact_sha256=ref.sha256,
        feature_schema=config.features,
        reference_profile=profile.to_json(),
        profile_arrays=profile.arrays_bytes(),
        metrics=metrics,
        training_start=training_start,
        training_end=training_end,
        strategy=strategy,
        run_id=run_id,
    )
