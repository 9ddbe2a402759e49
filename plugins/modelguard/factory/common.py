"""What every DAG of a model shares: its start, its tags, the conf check and its config file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.operators.conf import refuse_unknown_conf


def start_date(config: ModelguardConfig) -> datetime:
    return config.monitoring.start_date.replace(tzinfo=UTC)


def tags(config: ModelguardConfig, kind: str) -> list[str]:
    return ["modelguard", kind, f"model:{config.model.name}"]


def default_args(config_path: Path, **extra: Any) -> dict[str, Any]:
    """Every modelguard operator of the DAG reads this model's config file (``config_path`` is
    one of their arguments; the sensors, which take connection ids, ignore it)."""
    return {"pre_execute": refuse_unknown_conf, "config_path": str(config_path), **extra}


def approval_args(config: ModelguardConfig) -> dict[str, Any]:
    """How the model's gate deploys (``deployment.approval``): the same in every DAG that
    promotes, so no DAG deploys without the approval the config asks for."""
    dep = config.deployment
    return {
        "approval": dep.approval,
        "approval_timeout": timedelta(hours=dep.approval_timeout_hours),
    }
