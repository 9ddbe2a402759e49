"""Whether a retrained model may enter the gate: holdout size and classes, better than a
trivial baseline, the champion's feature schema, no overlap with the validation window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelguard.config import ModelguardConfig
from modelguard.core.records import fields_from_dict
from modelguard.exceptions import (
    ChallengerValidationError,
    MalformedResultError,
    ModelguardError,
)
from modelguard.retraining.training_sets import TrainingSet

MIN_HOLDOUT_ROWS = 200
"""Fewest holdout rows :func:`validate_challenger` accepts (override with ``min_holdout_rows``).
With 200 rows the standard error of an accuracy near 0.7 is about 0.03: enough to tell a model
from a coin, not to rank two good models (that is the gate's job, on more rows)."""

MIN_HOLDOUT_AUC = 0.55
"""ROC AUC the challenger must reach on the holdout (override with ``min_auc``). 0.5 is what a
model that learned nothing scores; the margin keeps chance fluctuations of a useless model (the
AUC of random scores on a few hundred rows has a standard deviation of about 0.02-0.04) from
passing."""


_TOLERANCE = 1e-12


# =============================================================================== validation


@dataclass(frozen=True)
class ValidationReport:
    """Pre-gate checks of a retrained model. ``checks`` = (name, passed, detail) in order run;
    ``metrics`` = holdout scores (``ModelScores.to_dict()``) plus the baseline numbers."""

    passed: bool
    checks: tuple[tuple[str, bool, str], ...]
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def failed_checks(self) -> tuple[tuple[str, bool, str], ...]:
        return tuple(c for c in self.checks if not c[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [{"name": n, "passed": p, "detail": d} for n, p, d in self.checks],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Inverse of :meth:`to_dict`."""
        values = fields_from_dict(cls, data)
        checks = values["checks"]
        if not isinstance(checks, list | tuple) or not all(
            isinstance(c, dict) and {"name", "passed", "detail"} <= set(c) for c in checks
        ):
            raise MalformedResultError(
                "ValidationReport.from_dict: 'checks' must be a list of {name, passed, detail}"
            )
        values["checks"] = tuple(
            (str(c["name"]), bool(c["passed"]), str(c["detail"])) for c in checks
        )
        values["metrics"] = dict(values["metrics"])
        return cls(**values)

    def raise_if_failed(self) -> None:
        failed = self.failed_checks
        if failed:
            lines = "; ".join(f"{name}: {detail}" for name, _, detail in failed)
            raise ChallengerValidationError(
                f"challenger failed {len(failed)} of {len(self.checks)} check(s): {lines}"
            )


def validate_challenger(
    model: Any,
    training_set: TrainingSet,
    holdout: Any,
    *,
    champion_schema: dict[str, str],
    config: ModelguardConfig,
    min_holdout_rows: int = MIN_HOLDOUT_ROWS,
    min_auc: float = MIN_HOLDOUT_AUC,
) -> ValidationReport:
    """Check a model trained on ``training_set`` (the train part of :func:`split_holdout`)
    before it may be registered as a challenger. Every check runs and is reported:

    * ``holdout_rows``: the holdout has at least ``min_holdout_rows`` rows;
    * ``holdout_classes``: both classes occur in it;
    * ``holdout_after_training``: every holdout send is later than every training send;
    * ``beats_trivial_baseline``: holdout log loss (via
      :func:`modelguard.core.scoring.score_model`) is below that of always predicting the training
      engagement rate (accuracy against the majority class is reported, not required: at a low
      engagement rate a useful model can lose to "always no" at a fixed threshold);
    * ``roc_auc``: holdout ROC AUC >= ``min_auc`` (:data:`MIN_HOLDOUT_AUC`), i.e. the scores
      rank engaged sends above the others clearly better than chance;
    * ``feature_schema``: ``config.features`` (the training set's features), the training
      set's feature columns and the model's ``feature_names_in_`` (when it has one) equal
      ``champion_schema`` (names and numeric/categorical types);
    * ``no_leakage``: training and holdout sends all precede the validation window of the gate
      at the training set's ``as_of``, and the training window ends no later than its start.
    """
    from modelguard.core.scoring import score_model
    from modelguard.deployment.evaluation import gate_windows

    checks: list[tuple[str, bool, str]] = []
    metrics: dict[str, Any] = {"n_train": training_set.n_rows}
    tcol, ycol = training_set.time_column, training_set.label_column
    features = list(training_set.features)
    n_hold = len(holdout)
    metrics["n_holdout"] = n_hold

    checks.append(
        (
            "holdout_rows",
            n_hold >= min_holdout_rows,
            f"{n_hold} holdout row(s), minimum {min_holdout_rows}",
        )
    )
    labels = np.asarray(holdout[ycol].to_numpy(), dtype=np.float64) if n_hold else np.empty(0)
    n_pos = int(np.count_nonzero(labels == 1))
    both = 0 < n_pos < n_hold
    checks.append(
        (
            "holdout_classes",
            both,
            f"{n_pos} positive and {n_hold - n_pos} negative holdout row(s)"
            + ("" if both else "; both classes are needed"),
        )
    )
    hold_times = holdout[tcol].to_numpy(dtype="datetime64[us]") if n_hold else None
    train_last = np.datetime64(training_set.last_sent_at, "us")
    if n_hold:
        hold_first = hold_times.min()
        ok = bool(hold_first > train_last)
        checks.append(
            (
                "holdout_after_training",
                ok,
                f"first holdout send {_iso(hold_first)} "
                f"{'after' if ok else 'NOT after'} last training send {_iso(train_last)}",
            )
        )
    else:
        checks.append(("holdout_after_training", False, "the holdout is empty"))

    majority = max(n_pos, n_hold - n_pos) / n_hold if n_hold else None
    metrics["majority_rate"] = majority
    scores = None
    if n_hold:
        try:
            scores, _ = score_model(
                model,
                holdout[[*features, ycol]],
                ycol,
                threshold=config.deployment.decision_threshold,
            )
        except ModelguardError as exc:
            checks.append(("holdout_scoring", False, f"the model cannot score the holdout: {exc}"))
    if scores is not None:
        metrics.update(scores.to_dict())
        # The trivial baseline predicts the training engagement rate for every send. Log loss is
        # the fair yardstick for a probabilistic model: at a low engagement rate a useful model
        # can still lose to "always no" in accuracy at a fixed threshold.
        prior = min(max(training_set.positive_rate, 1e-6), 1 - 1e-6)
        y_hold = holdout[ycol].to_numpy(dtype=float)
        trivial = float(-np.mean(y_hold * np.log(prior) + (1 - y_hold) * np.log(1 - prior)))
        metrics["trivial_log_loss"] = trivial
        beats = scores.log_loss is not None and scores.log_loss < trivial - _TOLERANCE
        checks.append(
            (
                "beats_trivial_baseline",
                beats,
                f"holdout log loss {scores.log_loss:.4f} "
                f"{'<' if beats else '>='} {trivial:.4f} of always predicting the training "
                f"engagement rate {prior:.3f} (accuracy {scores.accuracy:.4f}, majority-class "
                f"rate {majority:.4f})",
            )
        )
        auc = scores.roc_auc
        auc_ok = auc is not None and auc >= min_auc - _TOLERANCE
        checks.append(
            (
                "roc_auc",
                auc_ok,
                f"holdout ROC AUC {'undefined (one class)' if auc is None else f'{auc:.4f}'} "
                f"{'>=' if auc_ok else 'below'} minimum {min_auc:g} (chance = 0.5)",
            )
        )
    else:
        checks.append(("beats_trivial_baseline", False, "no holdout scores"))
        checks.append(("roc_auc", False, "no holdout scores"))

    checks.append(_schema_check(model, training_set, dict(config.features), dict(champion_schema)))

    validation, _ = gate_windows(
        training_set.as_of, config.deployment, config.source.label_delay_hours
    )
    newest = train_last if hold_times is None else max(train_last, hold_times.max())
    v_start = np.datetime64(validation.start, "us")
    leak_free = bool(newest < v_start) and training_set.window.end <= validation.start
    checks.append(
        (
            "no_leakage",
            leak_free,
            f"training window {training_set.window} and newest training/holdout send "
            f"{_iso(newest)} {'end before' if leak_free else 'REACH INTO'} the validation window "
            f"{validation} (as_of {training_set.as_of.isoformat()})",
        )
    )
    metrics["validation_window"] = {
        "start": validation.start.isoformat(),
        "end": validation.end.isoformat(),
    }
    return ValidationReport(
        passed=all(ok for _, ok, _ in checks), checks=tuple(checks), metrics=metrics
    )


def _schema_check(
    model: Any, training_set: TrainingSet, configured: dict[str, str], champion: dict[str, str]
) -> tuple[str, bool, str]:
    problems: list[str] = []
    if configured != champion:
        missing = sorted(set(champion) - set(configured))
        extra = sorted(set(configured) - set(champion))
        retyped = sorted(
            f"{f} ({configured[f]} vs champion {champion[f]})"
            for f in set(configured) & set(champion)
            if configured[f] != champion[f]
        )
        if missing:
            problems.append(f"champion features missing from config.features: {missing}")
        if extra:
            problems.append(f"features not in the champion's schema: {extra}")
        if retyped:
            problems.append(f"types differ: {', '.join(retyped)}")
    if training_set.features != configured:
        problems.append(
            f"the training set was built with features {sorted(training_set.features)}, "
            f"not config.features {sorted(configured)}"
        )
    absent = [f for f in champion if f not in training_set.frame.columns]
    if absent:
        problems.append(f"training frame lacks champion feature column(s) {absent}")
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        model_features = {str(n) for n in np.asarray(names).tolist()}
        if model_features != set(champion):
            problems.append(
                f"the model's input features {sorted(model_features)} differ from the champion's "
                f"{sorted(champion)}"
            )
    if problems:
        return "feature_schema", False, "; ".join(problems)
    return "feature_schema", True, f"{len(champion)} features, names and types equal the champion's"


def _iso(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="s"))
