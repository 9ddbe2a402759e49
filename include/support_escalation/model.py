"""The escalation classifier: one-hot + log-scaled numerics + logistic regression, one Pipeline.

A deliberately different estimator from email_engagement's gradient boosting, so the two example
models show that modelguard only needs ``module:function`` returning something with
``predict_proba``. A linear model suits this desk: the counts and durations act on the log
scale, so numerics are log-transformed before scaling; a missing first response (the ticket was
scored before an agent answered) is imputed and flagged by an indicator column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from support_escalation.schema import LABEL_COLUMN
from synthetic_source import load_model, save_model, training_rows  # noqa: F401  (the example's API)

_KINDS = ("numeric", "categorical")


def _as_log_float(X: Any) -> np.ndarray:
    """Numeric block as ``sign(x) * log1p(|x|)``; None, pd.NA and NaN all become NaN."""
    frame = pd.DataFrame(X)
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.sign(values) * np.log1p(np.abs(values))


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


def build_pipeline(features: Mapping[str, str], *, C: float = 1.0) -> Pipeline:
    """Unfitted pipeline: ``preprocess`` (ColumnTransformer) then ``classifier``.

    Numeric columns: signed log1p, median imputation with a missing indicator, standard
    scaling. Categorical columns: constant "missing" imputation + one-hot encoding that ignores
    unseen categories (a new product area scores as the intercept, not as an error).
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
        numeric_steps = [
            ("to_log", FunctionTransformer(_as_log_float, feature_names_out="one-to-one")),
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
        ]
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        categorical_steps = [
            ("to_object", FunctionTransformer(_as_object, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
        transformers.append(("categorical", Pipeline(categorical_steps), categorical))
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
    classifier = LogisticRegression(C=C, solver="lbfgs", max_iter=2000)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def train_model(
    frame: pd.DataFrame,
    features: Mapping[str, str],
    target: str = LABEL_COLUMN,
    *,
    sample_weight: Any = None,
    C: float = 1.0,
) -> Pipeline:
    """Fit :func:`build_pipeline` on the rows of ``frame`` whose ``target`` is known.

    ``sample_weight`` is aligned with ``frame`` (rows with a missing target are dropped from
    both). lbfgs on a fixed design is deterministic: the same frame gives the same model.
    """
    X, y, weights = training_rows(frame, features, target, sample_weight)
    fit_params: dict[str, Any] = {} if weights is None else {"classifier__sample_weight": weights}
    model = build_pipeline(features, C=C)
    model.fit(X, y, **fit_params)
    return model
