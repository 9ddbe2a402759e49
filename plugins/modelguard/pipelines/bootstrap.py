"""The first champion of a model, without Airflow: train, score a holdout, register, promote.

The first champion cannot pass the champion/challenger gate (there is nothing to compare it
with), so it is made champion by this explicit step. It trains the estimator the config names
(``model.estimator``) on the sends of ``[start, end)`` whose outcome had matured by ``as_of``,
holds out the newest ``retraining.holdout_share`` of them, scores that holdout with the gate's
own scoring at ``deployment.decision_threshold`` (these metrics are the champion's baseline for
the performance check), and registers the model with the reference profile of the rows it was
trained on.

Refused before anything is read when the model already has a champion, unless ``replace``: then
the new version is promoted over the current champion (archived, never deleted; the event log
says why). A version that was registered but could not become champion is rejected with the
reason, so that the gate never picks it up as the newest challenger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.window import Window, to_naive_utc
from modelguard.exceptions import (
    ChampionExistsError,
    DataValidationError,
    EstimatorError,
    InsufficientDataError,
    NoChampionError,
    RegistryError,
)
from modelguard.pipelines.retraining import register_model, resolve_estimator

log = logging.getLogger(__name__)

METRIC_KEYS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "engagement_rate",
    "n_holdout",
    "n_train",
)
"""Keys every bootstrapped version's ``metrics`` holds (the performance check's baseline)."""


@dataclass(frozen=True)
class BootstrapResult:
    """What a bootstrap registered: ``version`` (champion unless ``make_champion=False``) and
    ``replaced``, the champion it was promoted over (``replace=True``), else None."""

    version: Any  # modelguard.storage.registry.ModelVersion
    replaced: Any | None
    made_champion: bool

    @property
    def metrics(self) -> dict[str, Any]:
        return self.version.metrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "version_id": self.version.id,
            "version": self.version.version,
            "label": self.version.label,
            "status": self.version.status,
            "made_champion": self.made_champion,
            "replaced": None if self.replaced is None else self.replaced.label,
            "metrics": self.version.metrics,
        }


def run_bootstrap(
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    start: datetime,
    end: datetime,
    *,
    as_of: datetime | None = None,
    replace: bool = False,
    make_champion: bool = True,
    strategy: str | None = None,
    run_id: str | None = None,
) -> BootstrapResult:
    """Train ``config.model.estimator`` on the matured sends of ``[start, end)`` and make it the
    champion of ``config.model.name`` (or leave it a challenger: ``make_champion=False``).

    Raises :class:`ChampionExistsError` (nothing read, nothing written) when the model has a
    champion and ``replace`` is False; :class:`InsufficientDataError` /
    :class:`DataValidationError` when the window cannot be trained on; :class:`EstimatorError`
    when the estimator cannot be imported or fails to fit.
    """
    from modelguard.storage.registry import ModelRegistry

    window = Window(to_naive_utc(start), to_naive_utc(end))
    as_of = window.end if as_of is None else to_naive_utc(as_of)
    if window.start >= window.end:
        raise DataValidationError(
            f"bootstrap window {window} is empty: start must be before end (windows are "
            "[start, end))"
        )
    final_by = window.end + timedelta(hours=config.source.label_delay_hours)
    if as_of < final_by:
        log.warning(
            "Outcomes of the sends of %s are all final only by %s (source.label_delay_hours "
            "after the end); as of %s the newest sends count only the outcomes that came "
            "early (engagements, for email), which biases the holdout the performance check "
            "uses as baseline: give as_of >= %s for an unbiased one",
            window,
            final_by.isoformat(),
            as_of.isoformat(),
            final_by.isoformat(),
        )
    name = config.model.name
    registry = ModelRegistry(registry_engine, config.storage.artifact_root)
    registry.ensure_schema()
    current = _current_champion(registry, name) if make_champion else None
    if current is not None and not replace:
        raise ChampionExistsError(_exists_message(current))
    estimator = config.model.estimator
    fit = resolve_estimator(estimator)

    train, holdout = _split(_read(source_engine, config, window, as_of), config, window, as_of)
    label = config.source.label_column
    try:
        model = fit(train, config.features, label)
    except Exception as exc:  # the estimator's own failure, named for the user
        raise EstimatorError(f"estimator {estimator!r} failed to fit: {exc}") from exc
    strategy = strategy or ("bootstrap" if make_champion else "manual")
    metrics = holdout_metrics(model, train, holdout, config)
    metrics["training"] = {
        "strategy": strategy,
        "estimator": estimator,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "as_of": as_of.isoformat(),
        "rows": len(train) + len(holdout),
        "positives": int(train[label].sum() + holdout[label].sum()),
        "holdout_share": config.retraining.holdout_share,
    }
    version = register_model(
        config,
        registry,
        model,
        train,
        metrics=metrics,
        training_start=window.start,
        training_end=window.end,
        strategy=strategy,
        run_id=run_id,
    )
    from modelguard.pipelines.performance_estimate import store_calibration

    store_calibration(config, registry_engine, version, model, holdout, log=log)
    log.info("Registered %s (holdout %s)", version.label, _summary(metrics))
    if not make_champion:
        return BootstrapResult(version, None, False)
    try:
        if current is None:
            champion = registry.bootstrap_champion(name, version.id, run_id=run_id)
        else:
            champion = registry.promote(
                name,
                version.id,
                expected_champion_id=current.id,
                run_id=run_id,
                reason=f"bootstrap with replace: a new first model replaces {current.label}",
                evaluation={"bootstrap_replace": True, "as_of": as_of.isoformat()},
                effective_at=as_of,
            )
    except RegistryError as exc:
        _reject(registry, version, run_id, exc)
        now = _current_champion(registry, name)
        if current is None and now is not None:  # another bootstrap won the race
            raise ChampionExistsError(
                f"{_exists_message(now)} ({version.label}, registered meanwhile, is rejected)"
            ) from exc
        raise
    log.info("%s is champion of %r", champion.label, name)
    return BootstrapResult(champion, current, True)


def holdout_metrics(model, train, holdout, config: ModelguardConfig) -> dict[str, Any]:
    """The holdout scores of ``model`` at ``deployment.decision_threshold``, scored as the gate
    scores (:func:`modelguard.core.scoring.score_model`), keyed as :data:`METRIC_KEYS`
    plus ``positive_rate`` and ``decision_threshold``."""
    from modelguard.core.scoring import score_model

    threshold = config.deployment.decision_threshold
    scores, _ = score_model(model, holdout, config.source.label_column, threshold=threshold)
    metrics = scores.to_dict()
    metrics["n_holdout"] = metrics.pop("n")
    metrics["n_train"] = len(train)
    metrics["decision_threshold"] = threshold
    return metrics


def _current_champion(registry, name: str):
    try:
        return registry.get_champion(name)
    except NoChampionError:
        return None


def _exists_message(current) -> str:
    return (
        f"model {current.model_name!r} already has a champion: {current.label}, trained on "
        f"{_day(current.training_start)}..{_day(current.training_end)}; bootstrap only sets the "
        "first champion. Ask for a replacement (modelguard bootstrap --replace) to train a new "
        "version and promote it over this one (it is archived, nothing is deleted), or let the "
        "retraining DAG and the gate replace it"
    )


def _day(value: datetime | None) -> str:
    return "?" if value is None else value.date().isoformat()


def _read(source_engine, config: ModelguardConfig, window: Window, as_of: datetime):
    """The labelled rows of ``window`` (outcome known by ``as_of``), oldest first."""
    from modelguard.pipelines.deployment import read_labelled

    frame = read_labelled(source_engine, config, window, as_of)
    if frame.empty:
        raise InsufficientDataError(
            f"no sends in {window} with a {config.source.label_column!r} outcome matured by "
            f"{as_of}; seed the source, pick an earlier window or a later as_of"
        )
    return frame


def _split(frame, config: ModelguardConfig, window: Window, as_of: datetime):
    """Oldest rows to train on, the newest ``retraining.holdout_share`` to score."""
    share = config.retraining.holdout_share
    label = config.source.label_column
    cut = int(len(frame) * (1 - share))
    if cut < 1 or cut >= len(frame):
        raise InsufficientDataError(
            f"{len(frame)} labelled send(s) in {window} (matured by {as_of}) cannot be split "
            f"into training rows and a holdout of {share:.0%}; use a longer window"
        )
    train, holdout = frame.iloc[:cut], frame.iloc[cut:].reset_index(drop=True)
    positives = int(train[label].sum())
    if positives in (0, len(train)):
        raise DataValidationError(
            f"the {len(train)} training rows of {window} hold a single class ({positives} "
            f"with {label}=1); a classifier needs both, use a longer window"
        )
    return train, holdout


def _reject(registry, version, run_id: str | None, cause: Exception) -> None:
    """Keep a version that could not become champion out of the gate's way (never deleted)."""
    try:
        registry.reject(
            version.model_name,
            version.id,
            run_id=run_id,
            reason=f"bootstrap could not make it champion: {cause}",
        )
    except RegistryError:  # pragma: no cover - it was a challenger a moment ago
        log.exception("Could not reject %s after a failed bootstrap", version.label)


def _summary(metrics: dict[str, Any]) -> str:
    shown = ("accuracy", "roc_auc", "n_holdout")
    return ", ".join(f"{k} {metrics[k]:.4g}" for k in shown if metrics.get(k) is not None)
