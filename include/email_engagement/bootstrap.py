"""Train the first engagement model on a window of matured sends and make it the champion.

The first champion cannot pass a champion/challenger gate (there is nothing to compare with), so
it is promoted by this explicit bootstrap. Its reference profile is built from the same rows it
was trained on, so monitoring compares production windows with what the model actually saw.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from email_engagement.model import train_model

HOLDOUT_SHARE = 0.2


def holdout_metrics(model, frame, features: dict[str, str], target: str) -> dict[str, float]:
    from sklearn import metrics

    y = frame[target].to_numpy()
    proba = model.predict_proba(frame[list(features)])[:, 1]
    pred = (proba >= 0.5).astype(int)
    return {
        "accuracy": float(metrics.accuracy_score(y, pred)),
        "precision": float(metrics.precision_score(y, pred, zero_division=0)),
        "recall": float(metrics.recall_score(y, pred, zero_division=0)),
        "f1": float(metrics.f1_score(y, pred, zero_division=0)),
        "roc_auc": float(metrics.roc_auc_score(y, proba)),
        "log_loss": float(metrics.log_loss(y, proba, labels=[0, 1])),
        "engagement_rate": float(y.mean()),
        "n_holdout": len(y),
    }


def train_and_register(
    config,
    source_engine,
    registry_engine,
    start: datetime,
    end: datetime,
    *,
    run_id: str | None = None,
    make_champion: bool = True,
    strategy: str | None = None,
    as_of: datetime | None = None,
):
    """Train on the sends of [start, end) whose outcome had matured by ``as_of`` (default: the
    window end) and register; bootstrap it as champion, or leave it a challenger for the gate
    (``make_champion=False``)."""
    import pandas as pd

    from modelguard.core.window import Window
    from modelguard.exceptions import DataValidationError
    from modelguard.pipelines.retraining import register_model
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.source import read_window

    src = config.source
    window = Window(start, end)
    columns = [src.time_column, src.label_column, src.label_time_column, *config.features]
    frame = read_window(source_engine, src.table, src.time_column, window, columns)
    matured_by = as_of or end
    matured_at = pd.to_datetime(frame[src.label_time_column])
    frame = frame[matured_at <= matured_by].dropna(subset=[src.label_column])
    if frame.empty:
        raise DataValidationError(
            f"no sends in {window} with a {src.label_column!r} outcome matured by {matured_by}; "
            "seed the source, pick an earlier window or a later as_of"
        )
    frame = frame.sort_values(src.time_column).reset_index(drop=True)
    frame[src.label_column] = frame[src.label_column].astype(int)
    cut = int(len(frame) * (1 - HOLDOUT_SHARE))
    train, holdout = frame.iloc[:cut], frame.iloc[cut:]
    model = train_model(train, config.features, target=src.label_column)
    metrics: dict[str, Any] = holdout_metrics(model, holdout, config.features, src.label_column)
    metrics["n_train"] = len(train)

    registry = ModelRegistry(registry_engine)
    version = register_model(
        config,
        registry,
        model,
        train,
        metrics=metrics,
        training_start=start,
        training_end=end,
        strategy=strategy or ("bootstrap" if make_champion else "manual"),
        run_id=run_id,
    )
    if make_champion:
        version = registry.bootstrap_champion(config.model.name, version.id, run_id=run_id)
    return version


def main(argv: list[str] | None = None) -> None:
    from modelguard.config import load_config
    from modelguard.storage.source import engine_for_url

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source-url", required=True, help="SQLAlchemy URL of the source")
    parser.add_argument("--registry-url", required=True, help="SQLAlchemy URL of the registry")
    parser.add_argument("--start", required=True, type=datetime.fromisoformat)
    parser.add_argument("--end", required=True, type=datetime.fromisoformat)
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    version = train_and_register(
        load_config(args.config),
        engine_for_url(args.source_url),
        engine_for_url(args.registry_url),
        args.start,
        args.end,
    )
    print(f"champion: {version.label}, holdout metrics {version.metrics}")


if __name__ == "__main__":
    main()
