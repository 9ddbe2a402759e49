"""The DAGs of every configured model, built from their config files.

A DAG file calls :func:`build_dags` and puts the result in its globals. Where the configs are is
the deployment's choice: ``MODELGUARD_CONFIG`` or Airflow's ``[modelguard] config_path`` (also
``AIRFLOW__MODELGUARD__CONFIG_PATH``), a model config file or a folder of them. Each model gets
its own five DAGs, with ids that start with its name (:class:`~modelguard.factory.ids.ModelDagIds`).

A model whose config cannot be loaded loses only its own DAGs: the other models' DAGs are built
and a placeholder DAG, whose timetable refuses to be put in a DAG bag, makes Airflow show every
failed file and its errors as the DAG file's import error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from modelguard.config import CONFIG_ENV_VAR, ModelguardConfig, load_config, model_config_files
from modelguard.exceptions import ConfigError, InvalidModelConfigError
from modelguard.factory.ids import ModelDagIds

if TYPE_CHECKING:
    from airflow.sdk import DAG

AIRFLOW_SECTION = "modelguard"
AIRFLOW_KEY = "config_path"
INVALID_CONFIGS_DAG_ID = "modelguard_invalid_model_configs"

__all__ = ["ModelDagIds", "build_dags", "config_location", "dependent_dag_ids", "model_dags"]


def config_location() -> Path:
    """``MODELGUARD_CONFIG``, else Airflow's ``[modelguard] config_path``."""
    named = os.environ.get(CONFIG_ENV_VAR)
    if not named:
        from airflow.sdk import conf

        named = conf.get(AIRFLOW_SECTION, AIRFLOW_KEY, fallback=None)
    if not named:
        raise ConfigError(
            f"no model config: set {CONFIG_ENV_VAR} or [{AIRFLOW_SECTION}] {AIRFLOW_KEY} "
            f"(AIRFLOW__{AIRFLOW_SECTION.upper()}__{AIRFLOW_KEY.upper()}) to a model config "
            "file or a folder of them"
        )
    return Path(named).expanduser()


def dependent_dag_ids(location: str | Path | None = None) -> list[str]:
    """The DAGs to unpause at setup, of every model: retraining (monitoring queues its runs),
    deployment and rollback (people trigger them). A triggered run of a paused DAG waits
    silently; the monitoring DAGs stay paused until a person unpauses them."""
    files = model_config_files(location if location is not None else config_location())
    names: list[str] = []
    for path in files:
        try:
            name = load_config(path).model.name
        except ConfigError:
            continue  # a broken model has no DAGs (build_dags names it in the import error)
        if name not in names:
            names.append(name)
    ids = [ModelDagIds(name) for name in names]
    return [dag_id for i in ids for dag_id in (i.retraining, i.deployment, i.rollback)]


def model_dags(config: ModelguardConfig, config_path: Path) -> list[DAG]:
    """The five DAGs of one model: monitoring (config cadence and daily), retraining,
    deployment and rollback."""
    from modelguard.factory.deployment import build_deployment_dag, build_rollback_dag
    from modelguard.factory.monitoring import build_monitoring_dag
    from modelguard.factory.retraining import build_retraining_dag

    ids = ModelDagIds(config.model.name)
    return [
        build_monitoring_dag(config, config_path, ids),
        build_monitoring_dag(config, config_path, ids, daily=True),
        build_retraining_dag(config, config_path, ids),
        build_deployment_dag(config, config_path, ids),
        build_rollback_dag(config, config_path, ids),
    ]


def build_dags(location: str | Path | None = None) -> dict[str, DAG]:
    """Every model's DAGs by id; see the module docstring for what a broken config does."""
    files = model_config_files(location if location is not None else config_location())
    dags: dict[str, DAG] = {}
    failures: list[str] = []
    owners: dict[str, Path] = {}
    for path in files:
        try:
            config = load_config(path)
            name = config.model.name
            if name in owners:
                raise ConfigError(
                    f"model.name: {name!r} is already the model of {owners[name]}; every "
                    "model config needs a name of its own"
                )
            owners[name] = path
            built = model_dags(config, path)
        except Exception as exc:  # any failure of one model stays that model's
            failures.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        dags.update((dag.dag_id, dag) for dag in built)
    if failures:
        placeholder = _invalid_configs_dag(failures)
        dags[placeholder.dag_id] = placeholder
    return dags


def _invalid_configs_dag(failures: list[str]) -> DAG:
    from airflow.sdk import DAG
    from airflow.sdk.bases.timetable import BaseTimetable

    message = (
        f"{len(failures)} model config(s) cannot be loaded; their DAGs are left out, the other "
        "models' DAGs are loaded:\n" + "\n".join(failures)
    )

    class _RefusedTimetable(BaseTimetable):
        """Raises where Airflow validates a DAG before bagging it: the message becomes the DAG
        file's import error."""

        def validate(self) -> None:
            raise InvalidModelConfigError(message)

    return DAG(dag_id=INVALID_CONFIGS_DAG_ID, schedule=_RefusedTimetable(), description=message)
