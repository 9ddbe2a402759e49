"""Retention of one model's monitoring history, without Airflow (``prune_history``).

The cutoff is ``monitoring.max_history_days`` before the run's interval end (data time, never
the wall clock), and only a run that analysed its interval prunes
(:func:`modelguard.storage.retention.analysed`). Rows and report folders whose interval ended
before the cutoff are deleted in batches of ``monitoring.retention_batch_size`` rows per
transaction; a rerun deletes nothing more. What is kept and why: :mod:`modelguard.storage.retention`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from modelguard.config import ModelguardConfig

logger = logging.getLogger(__name__)
_LISTED = 20  # folders named in the XCom (the count is always complete)


@dataclass(frozen=True)
class RetentionResult:
    model_name: str
    dag_id: str
    run_end: datetime
    cutoff: datetime | None  # None: the run analysed nothing, nothing was pruned
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    kept_decisions: list[str] = field(default_factory=list)
    folders_deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.cutoff is None:
            return (
                f"{self.model_name}: {self.dag_id} analysed no interval ending "
                f"{self.run_end.isoformat()} (no drift run or decision stored): nothing pruned"
            )
        rows = sum(self.deleted.values())
        return (
            f"{self.model_name}: history before {self.cutoff.isoformat()} pruned: {rows} rows "
            f"in {self.batches} batches, {len(self.folders_deleted)} report folders"
            + (f"; {len(self.refused)} path(s) refused" if self.refused else "")
        )

    def to_xcom(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "dag_id": self.dag_id,
            "run_end": self.run_end.isoformat(),
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "deleted": dict(self.deleted),
            "rows_deleted": sum(self.deleted.values()),
            "batches": self.batches,
            "kept_decisions": list(self.kept_decisions),
            "folders_deleted": len(self.folders_deleted),
            "folders": self.folders_deleted[:_LISTED],
            "refused": list(self.refused),
        }


def run_retention(
    *,
    config: ModelguardConfig,
    registry_engine,
    dag_ids: Sequence[str],
    dag_id: str,
    run_end: datetime,
    log: Any = None,
) -> RetentionResult:
    """Prune the model's history older than ``max_history_days`` before ``run_end``, when
    ``dag_id`` analysed the interval ending there; ``dag_ids``: the model's monitoring DAGs."""
    from modelguard.core.window import to_naive_utc
    from modelguard.storage.retention import analysed, decided_ends, prune_folders, prune_rows

    log = log or logger
    mon = config.monitoring
    run_end = to_naive_utc(run_end)
    if not analysed(registry_engine, dag_id, run_end):
        result = RetentionResult(config.model.name, dag_id, run_end, None)
        log.info("%s", result.summary)
        return result
    cutoff = run_end - timedelta(days=mon.max_history_days)
    decided = decided_ends(registry_engine, dag_ids, cutoff)  # before decisions are pruned
    rows = prune_rows(
        registry_engine,
        model_name=config.model.name,
        dag_ids=dag_ids,
        cutoff=cutoff,
        batch_size=mon.retention_batch_size,
    )
    folders = prune_folders(config.storage.report_root, dag_ids, cutoff, decided)
    for refused in folders.refused:
        log.warning("Refused to delete %s", refused)
    result = RetentionResult(
        model_name=config.model.name,
        dag_id=dag_id,
        run_end=run_end,
        cutoff=cutoff,
        deleted=rows.deleted,
        batches=rows.batches,
        kept_decisions=rows.kept,
        folders_deleted=folders.deleted,
        refused=folders.refused,
    )
    log.info("%s", result.summary)
    return result
