"""The engagement classifier: preprocessing + gradient boosting in one scikit-learn Pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from email_engagement.schema import LABEL_COLUMN
from synthetic_source import load_model, save_model, training_rows  # noqa: F401  (the example's API)

_KINDS = ("numeric", "categorical")


def _as_float(X: Any) -> np.ndarray:
    """Numeric block as float64; None, pd.NA and NaN all become NaN."""
    frame = pd.DataFrame(X)
    return frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _as_object(X: Any) -> np.ndarray:
    """Categorical block as object strings; every kind of missing value becomes NaN.

    ``SimpleImputer`` only recognises NaN in object arrays, not None, so None/pd.NA (from
    object columns or from a database) are normalised here. Non-missing values become str.
    """
    arr = np.asarray(pd.DataFrame(X).astype(object), dtype=object)
    missing = pd.isna(arr)
    out = arr.astype(str).astype(object)
    out[missing] = np.nan
    return out


def build_pipeline(features: Mapping[str, str], *, random_state: int = 0) -> Pipeline:
    """Unfitted pipeline: ``preprocess`` (ColumnTransformer) then ``classifier``.

    Numeric columns: median imputation + standard scaling. Categorical columns: constant
    "missing" imputation + one-hot encoding that ignores unseen categories.
    """
    if not features:
        raise ValueError("features is empty; expected a mapping of column -> numeric/categorical")
    bad = {col: kind for col, kind in features.items() if kind not in _KINDS}
    if bad:
        raise ValueError(f"unknown feature kind(s) {bad}; allowed: {', '.join(_KINDS)}")
    numeric = [col for col, kind in features.items() if kind == "numeric"]
    categorical = [col for col, kind in features.items() if kind == "categorical"]
    transformers = []
    if numeric:
        transformers.append(
            (
                "numeric",
                Pipeline(
                    [
                        (
                            "to_float",
                            FunctionTransformer(_as_float, feature_names_out="one-to-one"),
                        ),
                        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric,
            )
        )
    if categorical:
        transformers.append(
            (
                "categorical",
                Pipeline(
                    [
                        (
                            "to_object",
                            FunctionTransformer(_as_object, feature_names_out="one-to-one"),
                        ),
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                categorical,
            )
        )
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
    classifier = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=300,
        max_leaf_nodes=31,
        min_samples_leaf=100,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=15,
        random_state=random_state,
    )
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def train_model(
    frame: pd.DataFrame,
    features: Mapping[str, str],
    target: str = LABEL_COLUMN,
    *,
    sample_weight: Any = None,
    random_state: int = 0,
    n_threads: int | None = 1,
) -> Pipeline:
    """Fit :func:`build_pipeline` on the rows of ``frame`` whose ``target`` is known.

    ``sample_weight`` is aligned with ``frame`` (rows with a missing target are dropped from
    both). ``n_threads`` caps OpenMP threads while fitting (None = library default). The
    default of 1 is deliberate: gradient boosting's OpenMP threads busy-wait, and on a worker
    that runs several tasks at once that made fitting 4-7x slower than one thread.
    """
    X, y, weights = training_rows(frame, features, target, sample_weight)
    fit_params: dict[str, Any] = {} if weights is None else {"classifier__sample_weight": weights}
    model = build_pipeline(features, random_state=random_state)
    if n_threads is None:
        model.fit(X, y, **fit_params)
    else:
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            model.fit(X, y, **fit_params)
    return model
