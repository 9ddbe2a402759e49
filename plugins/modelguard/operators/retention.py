"""``PruneHistoryOperator``: a thin Airflow shell over ``modelguard.pipelines.retention``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from modelguard.operators.common import timed, window_from_context


class PruneHistoryOperator(BaseOperator):
    """Delete the model's monitoring history older than ``monitoring.max_history_days`` before
    the run's interval end: drift results, label checks, decisions, health records, cleared
    alerts and report folders, in batches; model versions, the champion and the event log are
    never touched. Only a run that analysed its interval prunes. Returns the counts per table
    and the folders deleted.

    :param dag_ids: the model's monitoring DAGs: their report folders are pruned (and their
        decisions stored before decisions named the model).
    """

    template_fields = ("config_path",)
    ui_color = "#eeeeee"

    def __init__(
        self,
        *,
        dag_ids: Sequence[str],
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path
        self.dag_ids = list(dag_ids)

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.config import load_config
        from modelguard.core.timing import switch_phase
        from modelguard.hooks.db import ModelguardDbHook
        from modelguard.pipelines.retention import run_retention

        switch_phase("config")
        config = load_config(self.config_path)
        switch_phase("connect")
        registry = ModelguardDbHook(config.storage.registry_conn_id).verify()
        switch_phase("write")
        result = run_retention(
            config=config,
            registry_engine=registry,
            dag_ids=self.dag_ids,
            dag_id=self.dag_id,
            run_end=window_from_context(context, 0).end,
            log=self.log,
        )
        return result.to_xcom()
