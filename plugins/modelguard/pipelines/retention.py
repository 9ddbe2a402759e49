"""Retention of one model's monitoring history, without Airflow (``prune_history``).

The cutoff is ``monitoring.max_history_days`` before the run's interval end (data time, never
the wall clock), counted from no later than the newest interval the model has analysed (see
:func:`modelguard.storage.retention.history_reference`). Rows and report folders whose interval
ended before it are deleted in batches of ``monitoring.retention_batch_size`` rows per
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
    run_end: datetime
    reference_end: datetime | None
    cutoff: datetime | None
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    kept_decisions: list[str] = field(default_factory=list)
    folders_deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.cutoff is None:
            return f"{self.model_name}: nothing stored yet, nothing pruned"
        rows = sum(self.deleted.values())
        return (
            f"{self.model_name}: history before {self.cutoff.isoformat()} pruned: {rows} rows "
            f"in {self.batches} batches, {len(self.folders_deleted)} report folders"
            + (f"; {len(self.refused)} path(s) refused" if self.refused else "")
        )

    def to_xcom(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "run_end": self.run_end.isoformat(),
            "reference_end": None if self.reference_end is None else self.reference_end.isoformat(),
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
    run_end: datetime,
    log: Any = None,
) -> RetentionResult:
    """Prune the model's history older than ``max_history_days`` before ``run_end``."""
    from modelguard.core.window import to_naive_utc
    from modelguard.storage.retention import history_reference, prune_folders, prune_rows

    log = log or logger
    mon = config.monitoring
    run_end = to_naive_utc(run_end)
    reference = history_reference(registry_engine, config.model.name, dag_ids, run_end)
    if reference is None:
        result = RetentionResult(config.model.name, run_end, None, None)
        log.info("%s", result.summary)
        return result
    if reference < run_end:
        log.info(
            "The run's interval ends %s, after the newest analysed interval (%s): the cutoff "
            "counts back from %s",
            run_end.isoformat(),
            reference.isoformat(),
            reference.isoformat(),
        )
    cutoff = reference - timedelta(days=mon.max_history_days)
    rows = prune_rows(
        registry_engine,
        model_name=config.model.name,
        dag_ids=dag_ids,
        cutoff=cutoff,
        batch_size=mon.retention_batch_size,
    )
    folders = prune_folders(config.storage.report_root, dag_ids, cutoff)
    for refused in folders.refused:
        log.warning("Refused to delete %s", refused)
    result = RetentionResult(
        model_name=config.model.name,
        run_end=run_end,
        reference_end=reference,
        cutoff=cutoff,
        deleted=rows.deleted,
        batches=rows.batches,
        kept_decisions=rows.kept,
        folders_deleted=folders.deleted,
        refused=folders.refused,
    )
    log.info("%s", result.summary)
    return result
