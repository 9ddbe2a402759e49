"""The DAGs of every configured model, built from their config files.

A DAG file calls :func:`build_dags` and puts the result in its globals. Where the configs are is
the deployment's choice: ``MODELGUARD_CONFIG`` or Airflow's ``[modelguard] config_path`` (also
``AIRFLOW__MODELGUARD__CONFIG_PATH``), a model config file or a folder of them. Each model gets
its own DAGs (monitoring, daily monitoring, retraining, deployment, rollback, report), with ids that start with its name (:class:`~modelguard.factory.ids.ModelDagIds`).

A model whose config cannot be loaded loses only its own DAGs: the other models' DAGs are built,
and in place of its five a ``<file stem>_config_error`` DAG names the file and every error (its
description in the DAG list, its docs, and its one task, which fails with the error). It is not an
import error because Airflow 3 marks every DAG of a file stale when the file has one: the other
models would stop too. A DAG file that names one config file (``build_dags(path)``) is strict:
its error is that file's import error.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from modelguard.config import CONFIG_ENV_VAR, ModelguardConfig, load_config, model_config_files
from modelguard.core.timing import note_span
from modelguard.exceptions import ConfigError
from modelguard.factory.ids import ModelDagIds

if TYPE_CHECKING:
    from airflow.sdk import DAG

AIRFLOW_SECTION = "modelguard"
AIRFLOW_KEY = "config_path"
CONFIG_ERROR_SUFFIX = "config_error"

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


def model_dags(config: ModelguardConfig, config_path: Path, only: str | None = None) -> list[DAG]:
    """The DAGs of one model: monitoring (config cadence and daily), retraining, deployment,
    rollback and the weekly report; with ``only``, just the one of that id (none if the model
    has no such DAG), so a task process builds only the DAG it runs."""
    ids = ModelDagIds(config.model.name)
    builders: dict[str, Callable[[], DAG]] = {
        ids.monitoring: lambda: _monitoring(config, config_path, ids, daily=False),
        ids.monitoring_daily: lambda: _monitoring(config, config_path, ids, daily=True),
        ids.retraining: lambda: _retraining(config, config_path, ids),
        ids.deployment: lambda: _deployment(config, config_path, ids, rollback=False),
        ids.rollback: lambda: _deployment(config, config_path, ids, rollback=True),
        ids.report: lambda: _report(config, config_path, ids),
    }
    return [build() for dag_id, build in builders.items() if only in (None, dag_id)]


def _monitoring(config: ModelguardConfig, path: Path, ids: ModelDagIds, *, daily: bool) -> DAG:
    from modelguard.factory.monitoring import build_monitoring_dag

    return build_monitoring_dag(config, path, ids, daily=daily)


def _retraining(config: ModelguardConfig, path: Path, ids: ModelDagIds) -> DAG:
    from modelguard.factory.retraining import build_retraining_dag

    return build_retraining_dag(config, path, ids)


def _deployment(config: ModelguardConfig, path: Path, ids: ModelDagIds, *, rollback: bool) -> DAG:
    from modelguard.factory.deployment import build_deployment_dag, build_rollback_dag

    return (build_rollback_dag if rollback else build_deployment_dag)(config, path, ids)


def _report(config: ModelguardConfig, path: Path, ids: ModelDagIds) -> DAG:
    from modelguard.factory.report import build_report_dag

    return build_report_dag(config, path, ids)


def parsing_for_dag() -> str | None:
    """The DAG id a task process parses the DAG file for (Airflow's parsing context), None in
    the dag-processor and everywhere else: then every DAG is built."""
    from airflow.sdk import get_parsing_context

    return get_parsing_context().dag_id or None


def build_dags(location: str | Path | None = None) -> dict[str, DAG]:
    """Every model's DAGs by id; see the module docstring for what a broken config does.

    ``location`` (default :func:`config_location`) is a folder of model configs or one file. A
    folder never raises for one model's config: that model gets a config-error DAG instead of
    its five. One file is strict: its error raises, so the DAG file that names it gets the
    import error (one DAG file per model, if you want import errors per model).

    In a task process only the DAG the task belongs to is built (:func:`parsing_for_dag`):
    Airflow parses the DAG file again in every task process, and building every model's DAGs
    there cost more than half a second per task. Every config is still loaded (and checked).
    """
    started = time.perf_counter()
    try:
        return _build_dags(location, parsing_for_dag())
    finally:
        note_span("dag_file", started)


def _build_dags(location: str | Path | None, only: str | None) -> dict[str, DAG]:
    where = Path(location if location is not None else config_location())
    files = model_config_files(where)
    strict = not where.expanduser().is_dir()
    dags: dict[str, DAG] = {}
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
            built = model_dags(config, path, only)
        except Exception as exc:  # any failure of one model stays that model's
            if strict:
                raise
            wanted = only in (None, config_error_dag_id(path))
            built = [_config_error_dag(path, exc)] if wanted else []
        dags.update((dag.dag_id, dag) for dag in built)
    return dags


def config_error_dag_id(path: Path) -> str:
    """``<file stem>_config_error``, with characters a DAG id may not hold replaced by ``_``."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(path).stem) or "model"
    return f"{stem}_{CONFIG_ERROR_SUFFIX}"


def _config_error_dag(path: Path, exc: Exception) -> DAG:
    """Why Airflow does not get this model's DAGs, where a person looks: in the DAG list (its
    description), its docs, and the log of its one task, which fails with the error.

    Not an import error: Airflow 3 marks every DAG of a file stale when the file has one, which
    would stop the other models of the folder too."""
    from airflow.sdk import DAG

    from modelguard.operators.config_error import ConfigErrorOperator

    errors = list(getattr(exc, "errors", ()) or [str(exc)])
    message = f"{path}: {type(exc).__name__}: " + "; ".join(errors)
    with DAG(
        dag_id=config_error_dag_id(path),
        description=f"CONFIG ERROR: {message}"[:1000],
        schedule=None,
        tags=["modelguard", "config-error"],
        doc_md=(
            f"### The model config `{path}` cannot be loaded\n\nIts DAGs are left out; the "
            "other models run. Fix the file (`modelguard check-config` lists every error) and "
            "this DAG is replaced by the model's own.\n\n" + "\n".join(f"- `{e}`" for e in errors)
        ),
    ) as dag:
        ConfigErrorOperator(task_id="config_error", config_file=str(path), message=message)
    return dag
