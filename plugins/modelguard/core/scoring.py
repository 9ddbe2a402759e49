"""One way to score a probabilistic classifier on labelled rows, and one set of input checks.

The gate (:mod:`modelguard.deployment.evaluation`), realised performance
(:mod:`modelguard.labels.performance`), concept drift (:mod:`modelguard.labels.concept`) and
the validation of a retrained model (:mod:`modelguard.retraining.validation`) all score with
this module, so a metric means the same thing, and bad labels or a model without a usable
``predict_proba`` fail with the same message, wherever they are met. It lives in ``core``
because those four capability packages all need it and none of them should import another.

Pure: numpy only, no scikit-learn import (a model only needs ``predict_proba``).
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from modelguard.config import PRIMARY_METRICS
from modelguard.core.records import fields_from_dict
from modelguard.core.stats import average_ranks
from modelguard.exceptions import (
    DataValidationError,
    InvalidArgumentError,
    ModelInterfaceError,
    SchemaMismatchError,
)

__all__ = [
    "ModelScores",
    "binary_labels",
    "check_threshold",
    "positive_probabilities",
    "require_predict_proba",
    "require_unique_columns",
    "score_model",
    "scores_from_probabilities",
]


@dataclass(frozen=True)
class ModelScores:
    """Metrics of one model on one labelled frame, predictions = ``proba >= threshold``.

    A metric whose denominator is zero is None, never NaN: ``roc_auc`` when only one class is
    present, ``precision`` without positive predictions, ``recall`` without positive labels,
    ``f1`` without either. ``positive_rate`` is the share predicted positive, ``engagement_rate``
    the share actually positive.
    """

    accuracy: float
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None
    log_loss: float
    n: int
    positive_rate: float
    engagement_rate: float

    def metric(self, name: str) -> float | None:
        """The value of one primary metric (accuracy, precision, recall, f1, roc_auc)."""
        if name not in PRIMARY_METRICS:
            raise InvalidArgumentError(
                f"{name!r} is not a primary metric; allowed: {', '.join(PRIMARY_METRICS)}"
            )
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelScores:
        values = fields_from_dict(cls, data)
        values["n"] = int(values["n"])
        for f in fields(cls):
            if f.name != "n" and values[f.name] is not None:
                values[f.name] = float(values[f.name])
        return cls(**values)


def score_model(
    model: Any, frame: Any, target: str, *, threshold: float = 0.5
) -> tuple[ModelScores, np.ndarray]:
    """Score ``model`` on the labelled ``frame``.

    The model gets ``frame`` without the ``target`` column (pipelines select their own
    columns); a row is predicted positive when ``predict_proba(X)[:, 1] >= threshold``.
    Returns the scores and the predicted labels (int8 0/1 array aligned with the frame's rows);
    ``predictions == frame[target]`` is the per-row correctness that McNemar pairs.

    Raises DataValidationError on an empty frame, a missing target column, or a target with
    missing labels or values other than 0/1; ModelInterfaceError when the model has no usable
    ``predict_proba``; SchemaMismatchError when the model cannot score the frame's columns.
    """
    threshold = check_threshold(threshold)
    y = binary_labels(frame, target, "frame")
    proba = positive_probabilities(model, frame.drop(columns=[target]), len(y), "model")
    return scores_from_probabilities(y, proba, threshold)


def scores_from_probabilities(
    y: np.ndarray, proba: np.ndarray, threshold: float
) -> tuple[ModelScores, np.ndarray]:
    """:class:`ModelScores` and predicted labels of checked labels ``y`` (from
    :func:`binary_labels`) and scores ``proba`` (from :func:`positive_probabilities`)."""
    n = int(y.size)
    pred = (proba >= threshold).astype(np.int8)
    positive = y == 1
    predicted = pred == 1
    tp = int(np.count_nonzero(positive & predicted))
    fp = int(np.count_nonzero(~positive & predicted))
    fn = int(np.count_nonzero(positive & ~predicted))
    tn = n - tp - fp - fn
    n_pos = tp + fn
    n_neg = n - n_pos
    clipped = np.clip(proba, np.finfo(np.float64).eps, 1 - np.finfo(np.float64).eps)
    log_loss = -float(np.mean(np.where(positive, np.log(clipped), np.log1p(-clipped))))
    scores = ModelScores(
        accuracy=(tp + tn) / n,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, n_pos),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        roc_auc=_roc_auc(positive, proba, n_pos, n_neg),
        log_loss=log_loss,
        n=n,
        positive_rate=(tp + fp) / n,
        engagement_rate=n_pos / n,
    )
    return scores, pred


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _roc_auc(positive: np.ndarray, proba: np.ndarray, n_pos: int, n_neg: int) -> float | None:
    """Mann-Whitney form of the ROC AUC: tied scores count one half (average ranks)."""
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = average_ranks(proba)
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# --------------------------------------------------------------------------- input checks


def check_threshold(threshold: Any) -> float:
    """The decision threshold as a float in (0, 1), or :class:`InvalidArgumentError`."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise InvalidArgumentError(f"threshold must be a number in (0, 1); got {threshold!r}")
    threshold = float(threshold)
    if not 0 < threshold < 1:
        raise InvalidArgumentError(f"threshold must be in (0, 1); got {threshold}")
    return threshold


def binary_labels(frame: Any, target: str, what: str) -> np.ndarray:
    """The ``target`` column of ``frame`` (called ``what`` in messages) as an int8 0/1 array;
    an empty frame, a missing column, missing labels or other values raise
    :class:`DataValidationError` with counts."""
    if not hasattr(frame, "columns") or not hasattr(frame, "drop"):
        raise DataValidationError(
            f"the {what} must be a pandas DataFrame; got {type(frame).__name__}"
        )
    if target not in frame.columns:
        columns = [str(c) for c in frame.columns]
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        raise DataValidationError(
            f"target column {target!r} is not in the {what}; its columns are: {shown or '(none)'}"
        )
    require_unique_columns(frame, what)
    n = len(frame)
    if n == 0:
        raise DataValidationError(f"the {what} is empty (0 rows); evaluation needs labelled rows")
    column = frame[target]
    missing = np.asarray(column.isna().to_numpy(), dtype=bool)
    n_missing = int(np.count_nonzero(missing))
    if n_missing:
        raise DataValidationError(
            f"target column {target!r} has {n_missing} missing label(s) among {n} rows of the "
            f"{what}; pass only rows whose outcome has matured"
        )
    values = column.to_numpy()
    if values.dtype.kind == "b":
        return values.astype(np.int8)
    if values.dtype.kind in "iuf":
        bad = ~np.isin(values, (0, 1))
    else:
        # object columns: Python/numpy numbers equal to 0 or 1, True/False; never strings
        bad = np.fromiter((not _is_binary_label(v) for v in values), dtype=bool, count=n)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        examples = sorted({repr(v) for v in values[bad].tolist()})[:5]
        raise DataValidationError(
            f"target column {target!r} must hold only 0/1 labels; {n_bad} of {n} rows hold other "
            f"values, e.g. {', '.join(examples)}"
        )
    return np.asarray(values, dtype=np.float64).astype(np.int8)


def require_unique_columns(frame: Any, what: str) -> None:
    """:class:`DataValidationError` naming the column names that occur more than once in
    ``frame`` (``what`` in the message): ``frame[name]`` would be a frame, not a column, and a
    model or a profile would silently see one of the copies."""
    columns = frame.columns
    if columns.is_unique:
        return
    duplicated = list(dict.fromkeys(str(c) for c in columns[columns.duplicated()]))
    shown = ", ".join(repr(c) for c in duplicated[:10]) + (", ..." if len(duplicated) > 10 else "")
    raise DataValidationError(
        f"the {what} has duplicated column name(s) {shown}; every column name must occur "
        "once (rename or drop the copies)"
    )


def _is_binary_label(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, numbers.Real) and value in (0, 1)


def require_predict_proba(model: Any, name: str) -> Any:
    """``model.predict_proba``, or :class:`ModelInterfaceError` naming the model (``name``)."""
    predict_proba = getattr(model, "predict_proba", None)
    if not callable(predict_proba):
        raise ModelInterfaceError(
            f"the {name} ({type(model).__name__}) has no predict_proba method; the gate needs "
            "probabilistic classifiers (e.g. a scikit-learn pipeline ending in a classifier)"
        )
    return predict_proba


def positive_probabilities(model: Any, X: Any, n: int, name: str) -> np.ndarray:
    """Column 1 of ``model.predict_proba(X)`` after checking it is an (n, 2) probability array
    whose second column is the class 1."""
    predict_proba = require_predict_proba(model, name)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        classes_list = np.asarray(classes).tolist()
        binary = len(classes_list) == 2 and all(_is_binary_label(c) for c in classes_list)
        if not binary or [bool(c) for c in classes_list] != [False, True]:
            raise ModelInterfaceError(
                f"the {name} was trained on classes {classes_list}; expected the two classes "
                "[0, 1] so that predict_proba(X)[:, 1] is the probability of 1"
            )
    try:
        proba = predict_proba(X)
    except (KeyError, ValueError) as exc:
        raise SchemaMismatchError(
            f"the {name} ({type(model).__name__}) cannot score the frame: {exc}"
        ) from exc
    try:
        proba = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelInterfaceError(
            f"the {name}'s predict_proba returned {type(proba).__name__}, not a numeric array"
        ) from None
    if proba.ndim != 2 or proba.shape != (n, 2):
        raise ModelInterfaceError(
            f"the {name}'s predict_proba returned shape {proba.shape}; expected ({n}, 2), one "
            "row per frame row and one column per class 0 and 1"
        )
    positive = proba[:, 1]
    bad = ~np.isfinite(positive) | (positive < 0) | (positive > 1)
    if bad.any():
        raise ModelInterfaceError(
            f"the {name}'s predict_proba returned {int(np.count_nonzero(bad))} value(s) in "
            "column 1 that are not probabilities in [0, 1] (NaN, inf or out of range)"
        )
    return positive
