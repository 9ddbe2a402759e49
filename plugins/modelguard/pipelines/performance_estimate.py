"""The champion's performance on the newest window, estimated from its scores before the labels
mature (:mod:`modelguard.labels.estimation`), and the realised value beside earlier estimates.

One run of ``estimate_performance`` for the window W (the drift window: the same rows
``detect_drift`` reads):

1. the judged version (the champion at W's end by default) and its calibration: stored at
   registration from the version's holdout; for a version registered before this feature, fitted
   once, lazily and deterministically, from the labelled rows of the newest
   ``retraining.holdout_share`` of its training window read as of the end of that window plus
   ``source.label_delay_hours`` (the holdout it was scored on), then stored;
2. the champion scores W's rows (features only) and the estimate follows, with its interval
   (seeded from the version and W, so a rerun or backfill gives the same numbers);
3. the drop of the primary metric against the champion's baseline
   (:func:`modelguard.pipelines.label_checks.champion_baseline`, the same rule as the realised
   check); stored per (DAG, W, version), replacing a rerun's;
4. the realised value of earlier estimates of this DAG whose windows have matured by W's end
   (window end + ``label_delay_hours`` <= W's end), at most ``realise_batch`` per run, oldest
   first, each read "as of" its own window end + ``label_delay_hours``: the realised value does
   not depend on which run fills it in.

Nothing the data can do fails the run: no calibration, too few rows, a model without
``predict_proba``, identical scores, a one-class calibration set give status ``unavailable``
and the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.window import Window
from modelguard.exceptions import (
    ArtifactIntegrityError,
    DataValidationError,
    MalformedResultError,
    ModelInterfaceError,
    RegistryError,
    SchemaMismatchError,
)
from modelguard.labels.estimation import EstimateOutcome
from modelguard.pipelines.drift_check import CHAMPION_AT_INTERVAL_END

# What the data or a model can do to an estimate: recorded as "unavailable", never raised.
# (EstimationUnavailableError and InsufficientDataError are DataValidationErrors.)
UNAVAILABLE_ERRORS = (
    DataValidationError,
    MalformedResultError,
    ModelInterfaceError,
    SchemaMismatchError,
    ArtifactIntegrityError,
)
AT_REGISTRATION = "holdout_at_registration"
LAZY = "holdout_refit"


def store_calibration(
    config: ModelguardConfig, registry_engine, version, model, holdout, *, log=None
) -> bool:
    """Fit and store the calibration of a newly registered ``version`` on its labelled
    ``holdout`` (a frame with the features and the label). Never raises for the data: a
    holdout that cannot calibrate is logged, and the estimate says why later. True if stored."""
    from modelguard.storage.estimates import EstimateStore

    try:
        calibration = _fit(config, model, holdout, AT_REGISTRATION)
    except UNAVAILABLE_ERRORS as exc:
        (log or _log()).warning("No calibration stored for %s: %s", version.label, exc)
        return False
    store = EstimateStore(registry_engine)
    store.ensure_schema()
    store.save_calibration(_calibration_record(version, calibration))
    (log or _log()).info("Stored the calibration of %s (%s)", version.label, calibration.summary())
    return True


def calibrate_registered(config: ModelguardConfig, registry_engine, version, training, *, log=None):
    """:func:`store_calibration` of a version the retraining DAG just registered: its model
    read back from the registry (sha256 verified) and the holdout split off ``training`` (the
    :class:`~modelguard.retraining.training_sets.TrainingSet` it was trained on) as the
    validation split it."""
    from modelguard.retraining.training_sets import split_holdout
    from modelguard.storage.registry import ModelRegistry

    try:
        model = ModelRegistry(registry_engine, config.storage.artifact_root).load_model(version)
        _, holdout = split_holdout(training)
    except UNAVAILABLE_ERRORS as exc:
        (log or _log()).warning("No calibration stored for %s: %s", version.label, exc)
        return False
    return store_calibration(config, registry_engine, version, model, holdout, log=log)


def run_performance_estimate(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    window: Window,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> EstimateOutcome:
    """Estimate, store, and fill in matured realised values (module docstring)."""
    from modelguard.core.timing import phase
    from modelguard.pipelines.drift_check import judged_version
    from modelguard.storage.estimates import EstimateStore
    from modelguard.storage.registry import ModelRegistry

    log = log or _log()
    pe = config.performance_estimation
    metric = config.deployment.primary_metric
    window_text = (window.start.isoformat(), window.end.isoformat())
    if not pe.enabled:
        return EstimateOutcome(
            status="disabled",
            reason="performance_estimation.enabled is false",
            window=window_text,
            model_version_id=None,
            metric=metric,
        )
    with phase("registry"):
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)
        registry.ensure_schema()
        champion = judged_version(registry, config.model.name, window.end, judge_with)
        store = EstimateStore(registry_engine)
        store.ensure_schema()
    try:
        outcome, details = _estimate(config, source_engine, registry, store, champion, window)
    except UNAVAILABLE_ERRORS as exc:
        outcome = EstimateOutcome(
            status="unavailable",
            reason=f"performance of {champion.label} not estimated: {exc}",
            window=window_text,
            model_version_id=champion.id,
            metric=metric,
            threshold=config.retraining.performance_threshold,
        )
        details = {}
    with phase("write"):
        store.save_estimate(_estimate_record(config, dag_id, window, run_id, outcome, details))
    filled = realise_matured(
        config=config,
        source_engine=source_engine,
        registry=registry,
        store=store,
        dag_id=dag_id,
        as_of=window.end,
        run_id=run_id,
        log=log,
    )
    outcome = EstimateOutcome(**{**outcome.__dict__, "realised_filled": filled})
    (log.warning if outcome.degraded else log.info)(
        "Estimated performance of %s on %s: %s", champion.label, window, outcome.reason
    )
    return outcome


def _estimate(config, source_engine, registry, store, champion, window: Window):
    from modelguard.core.scoring import positive_probabilities
    from modelguard.core.timing import phase
    from modelguard.exceptions import EstimationUnavailableError
    from modelguard.labels.estimation import estimate_performance, estimated_degradation, seed_for
    from modelguard.pipelines.label_checks import champion_baseline
    from modelguard.storage.source import read_window

    pe = config.performance_estimation
    metric = config.deployment.primary_metric
    with phase("registry"):
        calibration = _calibration(config, source_engine, registry, store, champion)
    features = list(config.features)
    with phase("read"):
        frame = read_window(
            source_engine,
            config.source.table,
            config.source.time_column,
            window,
            [config.source.time_column, *features],
        )
    if len(frame) < pe.min_rows:
        raise EstimationUnavailableError(
            f"the window {window} holds {len(frame)} row(s); performance_estimation.min_rows "
            f"needs {pe.min_rows}"
        )
    with phase("model"):
        model = registry.load_model(champion)
    with phase("compute"):
        scores = positive_probabilities(model, frame[features], len(frame), "champion")
        estimate = estimate_performance(
            scores,
            calibration,
            threshold=config.deployment.decision_threshold,
            level=pe.interval_level,
            simulations=pe.simulations,
            seed=seed_for(champion.id, window.start.isoformat(), window.end.isoformat()),
        )
    threshold = config.retraining.performance_threshold
    with phase("registry"):
        baseline = champion_baseline(registry, champion)
    deg = estimated_degradation(estimate, baseline, metric=metric, threshold=threshold)
    m = estimate.metrics[metric]
    interval = (
        f" [{m.lower:.4g}, {m.upper:.4g}] ({pe.interval_level:.0%})" if m.lower is not None else ""
    )
    value = "undefined" if m.value is None else f"{m.value:.4g}"
    reason = f"estimated {metric} {value}{interval} on {estimate.n_rows} rows; {deg.reason}"
    if estimate.note:
        reason += f"; {estimate.note}"
    outcome = EstimateOutcome(
        status="estimated",
        reason=reason,
        window=(window.start.isoformat(), window.end.isoformat()),
        model_version_id=champion.id,
        metric=metric,
        estimate=m.value,
        lower=m.lower,
        upper=m.upper,
        baseline=deg.baseline,
        relative_drop=deg.relative_drop,
        degraded=deg.degraded,
        threshold=threshold,
        n_rows=estimate.n_rows,
    )
    return outcome, {"estimate": estimate.to_dict(), "degradation": deg.to_dict()}


def _calibration(config, source_engine, registry, store, champion):
    """The stored calibration of ``champion``, else fitted from its holdout and stored."""
    from modelguard.labels.estimation import Calibration

    stored = store.calibration(champion.id)
    if stored is not None:
        return Calibration.from_dict(stored.calibration)
    holdout = _recorded_holdout(config, source_engine, champion)
    calibration = _fit(config, registry.load_model(champion), holdout, LAZY)
    store.save_calibration(_calibration_record(champion, calibration))
    return calibration


def _recorded_holdout(config: ModelguardConfig, source_engine, version):
    """The labelled rows of the newest ``retraining.holdout_share`` of ``version``'s training
    window, read as of that window's end + ``label_delay_hours`` (deterministic: the same rows
    whenever it is read)."""
    from modelguard.exceptions import EstimationUnavailableError
    from modelguard.pipelines.deployment import read_labelled

    start, end = version.training_start, version.training_end
    if start is None or end is None or start >= end:
        raise EstimationUnavailableError(
            f"{version.label} has no calibration and no recorded training window to refit it "
            "from (register versions through bootstrap or retraining)"
        )
    share = config.retraining.holdout_share
    holdout = Window(end - (end - start) * share, end)
    as_of = end + timedelta(hours=config.source.label_delay_hours)
    return read_labelled(source_engine, config, holdout, as_of)


def _fit(config: ModelguardConfig, model, holdout, source: str):
    from modelguard.core.scoring import binary_labels, positive_probabilities
    from modelguard.exceptions import EstimationUnavailableError
    from modelguard.labels.estimation import fit_calibration

    pe = config.performance_estimation
    label = config.source.label_column
    if len(holdout) == 0:
        raise EstimationUnavailableError(
            "the calibration set (the version's holdout) holds no labelled rows"
        )
    y = binary_labels(holdout, label, "calibration set")
    scores = positive_probabilities(model, holdout[list(config.features)], len(y), "champion")
    return fit_calibration(
        scores,
        y,
        method=pe.calibration_method,
        bins=pe.calibration_bins,
        min_rows=pe.min_calibration_rows,
        source=source,
    )


def realise_matured(
    *,
    config: ModelguardConfig,
    source_engine,
    registry,
    store,
    dag_id: str,
    as_of: datetime,
    run_id: str | None,
    log=None,
) -> int:
    """Fill in the realised value of stored estimates of ``dag_id`` whose windows' labels have
    all matured by ``as_of``; at most ``realise_batch``. Returns how many were filled."""
    from modelguard.core.scoring import score_model
    from modelguard.core.timing import phase
    from modelguard.pipelines.deployment import read_labelled

    delay = timedelta(hours=config.source.label_delay_hours)
    with phase("registry"):
        pending = store.pending_realisation(
            dag_id,
            config.model.name,
            ended_by=as_of - delay,
            limit=config.performance_estimation.realise_batch,
        )
    models: dict[int, Any] = {}
    label = config.source.label_column
    for record in pending:
        matured_at = record.interval_end + delay
        window = Window(record.interval_start, record.interval_end)
        try:
            if record.model_version_id not in models:
                with phase("model"):
                    version = registry.get_version(record.model_version_id)
                    models[record.model_version_id] = registry.load_model(version)
            with phase("read"):
                frame = read_labelled(source_engine, config, window, matured_at)
            if frame.empty:
                raise DataValidationError(f"no labelled sends in {window} as of {matured_at}")
            with phase("compute"):
                scores, _ = score_model(
                    models[record.model_version_id],
                    frame,
                    label,
                    threshold=config.deployment.decision_threshold,
                )
        except (*UNAVAILABLE_ERRORS, RegistryError) as exc:  # e.g. a version since deleted
            store.save_realised(
                record,
                status="missing",
                realised=None,
                n_labelled=0,
                metrics=None,
                as_of=matured_at,
                run_id=run_id,
                reason=str(exc),
            )
            if log:
                log.info("No realised value for the estimate of %s: %s", window, exc)
            continue
        with phase("write"):
            store.save_realised(
                record,
                status="measured",
                realised=scores.metric(record.metric),
                n_labelled=scores.n,
                metrics=scores.to_dict(),
                as_of=matured_at,
                run_id=run_id,
            )
    if log and pending:
        log.info("Filled in the realised value of %d matured estimate(s)", len(pending))
    return len(pending)


def _estimate_record(config, dag_id, window, run_id, outcome: EstimateOutcome, details):
    from modelguard.storage.estimates import EstimateRecord

    return EstimateRecord(
        dag_id=dag_id,
        interval_start=window.start,
        interval_end=window.end,
        model_version_id=outcome.model_version_id,
        model_name=config.model.name,
        run_id=run_id,
        status=outcome.status,
        reason=outcome.reason,
        metric=outcome.metric,
        estimate=outcome.estimate,
        lower=outcome.lower,
        upper=outcome.upper,
        baseline=outcome.baseline,
        relative_drop=outcome.relative_drop,
        degraded=outcome.degraded,
        n_rows=outcome.n_rows,
        details=details,
    )


def _calibration_record(version, calibration):
    from modelguard.storage.estimates import CalibrationRecord

    return CalibrationRecord(
        model_version_id=version.id,
        model_name=version.model_name,
        method=calibration.method,
        source=calibration.source,
        n_rows=calibration.n_rows,
        n_positive=calibration.n_positive,
        calibration=calibration.to_dict(),
    )


def _log():
    import logging

    return logging.getLogger(__name__)
