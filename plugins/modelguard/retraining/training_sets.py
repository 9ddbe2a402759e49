"""Which rows a challenger trains on: the :data:`STRATEGIES` (``sliding_window``, ``weighted``,
``full_batch``) over sends whose outcome had matured by ``as_of`` and that were sent before the
gate's validation window, so the gate and the post-deployment check run on rows the challenger
never saw. A "month" is 30 days; time is naive UTC."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from modelguard.config import STRATEGIES, ModelguardConfig
from modelguard.core.window import Window, to_naive_utc
from modelguard.exceptions import (
    DataValidationError,
    InsufficientDataError,
    InvalidArgumentError,
    UnknownStrategyError,
)
from modelguard.retraining.decision import is_number

DAYS_PER_MONTH = 30
"""A "month" of ``sliding_window_months`` is 30 days: windows stay the same length whatever the
calendar month, so two runs with the same settings train on equally long periods."""


_EARLIEST = datetime(1900, 1, 1)  # lower bound of "everything before the end"


# =============================================================================== training data


@dataclass(frozen=True, eq=False)  # holds a frame and an array: identity equality
class TrainingSet:
    """Labelled rows to train a challenger on, and how they were chosen.

    ``frame`` holds the send-time column, the feature columns (``config.features``, in order) and
    the label column as int64 0/1, sorted by send time with a fresh 0..n-1 index. ``weights`` is
    aligned with ``frame`` (mean 1) for the weighted strategy, else None. ``window`` is the
    requested ``[start, end)`` of send times (``start`` = the first send used when the strategy
    has no lower bound); ``first_sent_at`` / ``last_sent_at`` are the actual extremes.
    ``holdout_share`` is what :func:`split_holdout` uses by default.
    """

    frame: Any
    weights: np.ndarray | None
    strategy: str
    window: Window
    as_of: datetime
    n_rows: int
    n_positive: int
    weights_summary: dict[str, float] | None
    first_sent_at: datetime
    last_sent_at: datetime
    time_column: str
    label_column: str
    features: dict[str, str]
    holdout_share: float
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def positive_rate(self) -> float:
        return self.n_positive / self.n_rows if self.n_rows else 0.0

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary for the registry and logs (no rows)."""
        return {
            "strategy": self.strategy,
            "parameters": dict(self.parameters),
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
            "first_sent_at": self.first_sent_at.isoformat(),
            "last_sent_at": self.last_sent_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "rows": self.n_rows,
            "positives": self.n_positive,
            "positive_rate": self.positive_rate,
            "weights": dict(self.weights_summary) if self.weights_summary else None,
        }


def training_end(config: ModelguardConfig, as_of: datetime) -> datetime:
    """The end (exclusive) of training send times: the start of the gate's validation window."""
    from modelguard.deployment.evaluation import gate_windows

    validation, _ = gate_windows(as_of, config.deployment, config.source.label_delay_hours)
    return validation.start


def _read_matured(
    engine: Any, config: ModelguardConfig, window: Window, as_of: datetime, *, what: str
):
    """Rows of ``window`` whose outcome is known and was known by ``as_of``, checked."""
    from modelguard.storage.source import label_counts, read_matured

    src = config.source
    names = (src.table, src.time_column, src.label_column, src.label_time_column)
    columns = [src.time_column, *config.features, src.label_column]
    frame = read_matured(engine, *names, window, as_of, columns)
    n = len(frame)

    def sends() -> int:  # only for the message of a window that cannot be trained on
        return label_counts(engine, *names, window, as_of)[0]

    rc = config.retraining
    span = f"before {window.end.isoformat()}" if window.start == _EARLIEST else str(window)
    where = f"{what} {span} (outcomes matured by {as_of.isoformat()})"
    if n == 0:
        raise InsufficientDataError(
            f"no matured labels in the training window {where}: {sends()} send(s) in the window, "
            f"none with a {src.label_column!r} outcome known by as_of"
        )
    labels = frame[src.label_column].to_numpy()
    try:
        numeric = np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):
        numeric = None
    if numeric is None or not np.isin(numeric, (0.0, 1.0)).all():
        examples = sorted({repr(v) for v in labels.tolist()} - {"0", "1", "0.0", "1.0"})[:5]
        raise DataValidationError(
            f"label column {src.label_column!r} must hold 0/1 in the training window {where}; "
            f"found e.g. {', '.join(examples)}"
        )
    frame[src.label_column] = numeric.astype(np.int64)
    n_pos = int(frame[src.label_column].sum())
    if n < rc.min_training_rows:
        raise InsufficientDataError(
            f"only {n} matured labelled row(s) in the training window {where} "
            f"({sends()} sends); retraining.min_training_rows is {rc.min_training_rows}"
        )
    if n_pos in (0, n):
        raise DataValidationError(
            f"the training window {where} holds a single class: all {n} matured labels are "
            f"{int(n_pos == n)} ({n_pos} positive, {n - n_pos} negative); a classifier needs both"
        )
    if n_pos < rc.min_positive_rows:
        raise InsufficientDataError(
            f"only {n_pos} positive ({src.label_column}=1) row(s) among {n} in the training "
            f"window {where}; retraining.min_positive_rows is {rc.min_positive_rows}"
        )
    return frame


def _training_set(
    frame,
    config: ModelguardConfig,
    *,
    strategy: str,
    window: Window,
    as_of: datetime,
    weights: np.ndarray | None,
    parameters: dict[str, Any],
) -> TrainingSet:
    src = config.source
    times = frame[src.time_column]
    return TrainingSet(
        frame=frame,
        weights=weights,
        strategy=strategy,
        window=window,
        as_of=as_of,
        n_rows=len(frame),
        n_positive=int(frame[src.label_column].sum()),
        weights_summary=_weights_summary(weights),
        first_sent_at=times.iloc[0].to_pydatetime(),
        last_sent_at=times.iloc[-1].to_pydatetime(),
        time_column=src.time_column,
        label_column=src.label_column,
        features=dict(config.features),
        holdout_share=config.retraining.holdout_share,
        parameters=parameters,
    )


def _weights_summary(weights: np.ndarray | None) -> dict[str, float] | None:
    """min, max, mean and the effective sample size (sum w)^2 / sum w^2 (Kish)."""
    if weights is None:
        return None
    return {
        "min": float(weights.min()),
        "max": float(weights.max()),
        "mean": float(weights.mean()),
        "effective_n": float(weights.sum() ** 2 / np.square(weights).sum()),
    }


def _positive_number(name: str, value: Any, *, integer: bool = False) -> Any:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidArgumentError(
            f"{name} must be {'an integer' if integer else 'a number'}; got {value!r}"
        )
    if not (math.isfinite(value) and value > 0):
        raise InvalidArgumentError(f"{name} must be > 0; got {value!r}")
    return int(value) if integer else float(value)


def sliding_window(
    engine: Any, config: ModelguardConfig, as_of: datetime, *, window_months: int | None = None
) -> TrainingSet:
    """The most recent ``window_months`` (default ``retraining.sliding_window_months``) of
    matured sends before the validation window: send times in ``[end - 30 * window_months
    days, end)`` with ``end`` = :func:`training_end`. Unweighted. Forgets old behaviour
    completely, which suits abrupt changes (a new product, a new market)."""
    as_of = to_naive_utc(as_of)
    months = _positive_number(
        "window_months",
        config.retraining.sliding_window_months if window_months is None else window_months,
        integer=True,
    )
    end = training_end(config, as_of)
    window = Window(end - timedelta(days=DAYS_PER_MONTH * months), end)
    frame = _read_matured(engine, config, window, as_of, what="sliding_window")
    return _training_set(
        frame,
        config,
        strategy="sliding_window",
        window=window,
        as_of=as_of,
        weights=None,
        parameters={"window_months": months, "days_per_month": DAYS_PER_MONTH},
    )


def full_batch(engine: Any, config: ModelguardConfig, as_of: datetime) -> TrainingSet:
    """Every matured send before the validation window (:func:`training_end`), unweighted.
    The most data, but old behaviour counts as much as new: suits a stable world.
    ``window.start`` is the first send used."""
    as_of = to_naive_utc(as_of)
    end = training_end(config, as_of)
    frame = _read_matured(engine, config, Window(_EARLIEST, end), as_of, what="full_batch")
    first = frame[config.source.time_column].iloc[0].to_pydatetime()
    return _training_set(
        frame,
        config,
        strategy="full_batch",
        window=Window(first, end),
        as_of=as_of,
        weights=None,
        parameters={},
    )


def weighted(
    engine: Any, config: ModelguardConfig, as_of: datetime, *, half_life_days: float | None = None
) -> TrainingSet:
    """Every matured send before the validation window, weighted by recency.

    A send ``age`` days before the training end (:func:`training_end`) weighs
    ``0.5 ** (age / half_life_days)`` (default ``retraining.weight_half_life_days``), so a send
    one half-life older than another weighs half as much; the weights are then scaled to mean 1
    (ratios unchanged) so the effective learning rate and regularisation of the classifier stay
    comparable with unweighted training. ``window.start`` is the first send used."""
    as_of = to_naive_utc(as_of)
    half_life = _positive_number(
        "half_life_days",
        config.retraining.weight_half_life_days if half_life_days is None else half_life_days,
    )
    end = training_end(config, as_of)
    frame = _read_matured(engine, config, Window(_EARLIEST, end), as_of, what="weighted")
    times = frame[config.source.time_column]
    age_days = (np.datetime64(end, "us") - times.to_numpy(dtype="datetime64[us]")) / np.timedelta64(
        1, "D"
    )
    # Compute in log space relative to the newest row so that very old rows underflow to a
    # tiny weight instead of making every weight 0 before normalisation.
    log2_w = -(age_days - age_days.min()) / half_life
    raw = np.exp2(log2_w)
    weights = raw / raw.mean()
    first = times.iloc[0].to_pydatetime()
    return _training_set(
        frame,
        config,
        strategy="weighted",
        window=Window(first, end),
        as_of=as_of,
        weights=weights,
        parameters={"half_life_days": half_life},
    )


_BUILDERS: dict[str, Callable[..., TrainingSet]] = {
    "sliding_window": sliding_window,
    "weighted": weighted,
    "full_batch": full_batch,
}


def build_training_set(
    strategy: str,
    *,
    engine: Any,
    config: ModelguardConfig,
    as_of: datetime,
    window_months: int | None = None,
    half_life_days: float | None = None,
) -> TrainingSet:
    """Build the training set of ``strategy`` (one of :data:`STRATEGIES`; the configured
    default is ``config.retraining.default_strategy``).

    ``window_months`` applies only to ``sliding_window`` and ``half_life_days`` only to
    ``weighted``; giving one to another strategy is an :class:`InvalidArgumentError` (a
    ``ValueError``) rather than silently ignored. Raises :class:`UnknownStrategyError` for an unknown name,
    :class:`~modelguard.exceptions.InsufficientDataError` (no matured labels, fewer than
    ``min_training_rows`` rows or ``min_positive_rows`` positives) and
    :class:`~modelguard.exceptions.DataValidationError` (a single class, non-0/1 labels,
    missing table or columns).
    """
    if strategy not in _BUILDERS:
        raise UnknownStrategyError(
            f"unknown retraining strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}"
        )
    if window_months is not None and strategy != "sliding_window":
        raise InvalidArgumentError(
            f"window_months applies to 'sliding_window' only, not {strategy!r}"
        )
    if half_life_days is not None and strategy != "weighted":
        raise InvalidArgumentError(f"half_life_days applies to 'weighted' only, not {strategy!r}")
    if strategy == "sliding_window":
        return sliding_window(engine, config, as_of, window_months=window_months)
    if strategy == "weighted":
        return weighted(engine, config, as_of, half_life_days=half_life_days)
    return full_batch(engine, config, as_of)


def count_new_labelled_rows(
    engine: Any, config: ModelguardConfig, *, since: datetime, as_of: datetime
) -> int:
    """Sends in ``[since, as_of)`` whose outcome had matured by ``as_of``: the new evidence a
    retraining would add since ``since`` (typically the champion's training end). Counted by
    :func:`modelguard.storage.source.label_counts`, the one count of matured labels."""
    from modelguard.storage.source import label_counts

    since, as_of = to_naive_utc(since), to_naive_utc(as_of)
    if since >= as_of:
        return 0
    src = config.source
    _sends, labelled = label_counts(
        engine,
        src.table,
        src.time_column,
        src.label_column,
        src.label_time_column,
        Window(since, as_of),
        as_of,
    )
    return labelled


def split_holdout(training_set: TrainingSet, *, holdout_share: float | None = None):
    """Split off the newest ``holdout_share`` (default the training set's, i.e.
    ``retraining.holdout_share``) of the rows by send time.

    Returns ``(train, holdout)``: ``train`` a :class:`TrainingSet` of the older rows (window
    ``[start, cut)``, weights re-scaled to mean 1, counts recomputed) to fit on, ``holdout`` a
    frame of the rows sent at or after ``cut`` to validate on. Rows sharing the cut's send time
    all go to the holdout, so no send time is on both sides. Raises DataValidationError when
    either side would be empty or the train part holds a single class.
    """
    share = training_set.holdout_share if holdout_share is None else holdout_share
    if not (is_number(share) and 0 < share < 1):
        raise InvalidArgumentError(f"holdout_share must be in (0, 1); got {share!r}")
    frame = training_set.frame
    tcol, ycol = training_set.time_column, training_set.label_column
    n = len(frame)
    n_holdout = math.ceil(n * share)
    times = frame[tcol].to_numpy(dtype="datetime64[us]")
    cut_time = times[n - n_holdout] if 0 < n_holdout < n else None
    cut = int(np.searchsorted(times, cut_time, side="left")) if cut_time is not None else 0
    if cut_time is None or cut == 0:
        raise DataValidationError(
            f"cannot hold out {share:.0%} of {n} training rows by send time: one side would be "
            "empty"
        )
    train_frame = frame.iloc[:cut].reset_index(drop=True)
    holdout = frame.iloc[cut:].reset_index(drop=True)
    n_pos = int(train_frame[ycol].sum())
    if n_pos in (0, cut):
        raise DataValidationError(
            f"after holding out the newest {n - cut} rows, the {cut} training rows hold a "
            "single class; use a longer training window"
        )
    weights = None
    if training_set.weights is not None:
        weights = training_set.weights[:cut]
        weights = weights / weights.mean()
    cut_dt = cut_time.astype("datetime64[us]").astype(datetime)
    train = replace(
        training_set,
        frame=train_frame,
        weights=weights,
        window=Window(training_set.window.start, cut_dt),
        n_rows=cut,
        n_positive=n_pos,
        weights_summary=_weights_summary(weights),
        last_sent_at=train_frame[tcol].iloc[-1].to_pydatetime(),
        parameters={**training_set.parameters, "holdout_share": float(share)},
    )
    return train, holdout
