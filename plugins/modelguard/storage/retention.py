"""Pruning monitoring history older than ``monitoring.max_history_days``, in batches.

What goes, for one model, when its interval ended before the cutoff: drift runs and their
feature rows, label checks, monitoring decisions, health records, *cleared* alert episodes with
their notifications, and the report folders ``<report_root>/<dag_id>/<window label>/`` of the
model's monitoring DAGs, with their drift partition files (``<window label>.parts/``). Drift
results, health records and report folders go only once their interval's run has decided (a
stored decision for that DAG and window end): a backfill of old history running beside a run of
today keeps what its next task reads; the interval of a run that failed before deciding stays
until a rerun decides it. What stays, always: open alerts, model versions, the champion pointer
and the event log (nothing here names those tables), and the decisions a future verdict reads
whatever their age: the model's newest ``retrain`` decision and its newest decision that started
a retraining (the cool-down's anchor; ``retraining.cooldown_hours`` is checked against
``max_history_days`` by the config, so the rest of what the cool-down and ``recent_runs`` read is
younger than the cutoff).

Each batch is one transaction deleting at most ``batch_size`` rows of one table (decisions under
the model's decision lock, as the cool-down writes them); a table is done when a batch deletes
fewer. Deleting is by condition, so a rerun with the same cutoff deletes nothing more. A store
without one of the tables (never created) has nothing to prune there.

Report folders are deleted only when the path resolves inside ``report_root``, is not a symlink
and its name is a window label (``<start>_<end>``, see :class:`~modelguard.core.window.Window`);
anything else is refused and reported, never followed.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from modelguard.alerts.records import CLEARED
from modelguard.exceptions import UnsafePathError
from modelguard.storage.alerts import alert_notifications_table, alerts_table
from modelguard.storage.db import ensure_lock, lock, to_naive_utc
from modelguard.storage.estimates import estimates_table
from modelguard.storage.health import health_records_table
from modelguard.storage.paths import PARTS_SUFFIX, check_part
from modelguard.storage.results import (
    drift_features_table,
    drift_runs_table,
    monitoring_checks_table,
    monitoring_decisions_table,
)

__all__ = ["FolderPrune", "RowPrune", "analysed", "prune_folders", "prune_rows"]

PARTIAL_SUFFIX = ".partial"  # a drift report folder being written (pipelines.drift_check)


@dataclass(frozen=True)
class RowPrune:
    """Rows deleted per table, batches (transactions) used, and the decisions kept on purpose."""

    deleted: dict[str, int]
    batches: int
    kept: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


@dataclass(frozen=True)
class FolderPrune:
    """Report folders deleted, and paths refused (with why)."""

    deleted: list[str]
    refused: list[str]


def _model_decisions(t: sa.Table, model_name: str, dag_ids: Sequence[str]):
    """Decisions of the model; rows written before decisions carried ``model_name`` are matched
    by the model's DAG ids."""
    return sa.or_(
        t.c.model_name == model_name,
        sa.and_(t.c.model_name.is_(None), t.c.dag_id.in_(list(dag_ids))),
    )


def analysed(engine: Engine, dag_id: str, end: datetime) -> bool:
    """Whether ``dag_id`` analysed an interval ending at ``end`` (a stored drift run or
    decision): only such a run prunes, so a run that analysed nothing (no data yet, a window
    in the future by mistake, a run of today's interval while the source is down) deletes
    nothing, however far its interval end lies from the stored history."""
    inspector = sa.inspect(engine)
    end = to_naive_utc(end)
    with engine.connect() as conn:
        for t in (monitoring_decisions_table, drift_runs_table):
            if not inspector.has_table(t.name):
                continue
            found = conn.execute(
                sa.select(t.c.dag_id).where(t.c.dag_id == dag_id, t.c.interval_end == end).limit(1)
            ).first()
            if found is not None:
                return True
    return False


def _exempt_decisions(conn: Connection, model_name: str, dag_ids: Sequence[str]) -> list[tuple]:
    """Keys of the decisions kept whatever their age: the newest ``retrain`` and the newest one
    that started a retraining."""
    t = monitoring_decisions_table
    mine = _model_decisions(t, model_name, dag_ids)
    keys = []
    for condition in (t.c.decision == "retrain", t.c.retraining_started_at.is_not(None)):
        row = conn.execute(
            sa.select(t.c.dag_id, t.c.interval_start, t.c.interval_end)
            .where(mine, condition)
            .order_by(t.c.interval_end.desc(), t.c.interval_start.desc(), t.c.dag_id.desc())
            .limit(1)
        ).one_or_none()
        if row is not None and tuple(row) not in keys:
            keys.append(tuple(row))
    return keys


def _batched(
    engine: Engine,
    table: sa.Table,
    where,
    batch_size: int,
    *,
    lock_name: str | None = None,
    extra_where=None,
) -> tuple[int, int, list[tuple]]:
    """Delete the rows of ``table`` matching ``where``, ``batch_size`` per transaction.
    ``extra_where(conn)`` adds a condition computed inside each batch's transaction (and
    returns the keys it keeps). Returns (rows deleted, batches, keys kept)."""
    pk = list(table.primary_key.columns)
    deleted = batches = 0
    kept: list[tuple] = []
    if lock_name:
        ensure_lock(engine, lock_name)
    while True:
        with engine.begin() as conn:
            if lock_name:
                lock(conn, lock_name)
            condition = where
            if extra_where is not None:
                more, kept = extra_where(conn)
                condition = sa.and_(where, more)
            chosen = sa.select(*pk).where(condition).order_by(*pk).limit(batch_size)
            key = pk[0] if len(pk) == 1 else sa.tuple_(*pk)
            count = conn.execute(sa.delete(table).where(key.in_(chosen))).rowcount
        batches += 1
        deleted += count
        if count < batch_size:
            return deleted, batches, kept


def prune_rows(
    engine: Engine,
    *,
    model_name: str,
    dag_ids: Sequence[str],
    cutoff: datetime,
    batch_size: int,
) -> RowPrune:
    """Delete the model's history whose interval ended before ``cutoff`` (module docstring)."""
    cutoff = to_naive_utc(cutoff)
    present = set(sa.inspect(engine).get_table_names())
    deleted: dict[str, int] = {}
    batches = 0
    kept_labels: list[str] = []

    def run(table: sa.Table, where, **kwargs) -> None:
        nonlocal batches
        if table.name not in present:
            deleted[table.name] = 0
            return
        n, b, kept = _batched(engine, table, where, batch_size, **kwargs)
        deleted[table.name] = deleted.get(table.name, 0) + n
        batches += b
        kept_labels.extend(
            f"{k[0]} [{k[1].isoformat()}, {k[2].isoformat()})" for k in kept if k[2] < cutoff
        )

    d = monitoring_decisions_table

    def decided(table: sa.Table):
        """The interval's run has decided: a run still working on it (a backfill of old history
        beside a run of today) keeps its rows and its report until then."""
        if d.name not in present:
            return sa.false()
        return sa.exists(
            sa.select(d.c.dag_id).where(
                d.c.dag_id == table.c.dag_id, d.c.interval_end == table.c.interval_end
            )
        )

    for table in (drift_features_table, drift_runs_table, health_records_table, estimates_table):
        run(
            table,
            sa.and_(
                table.c.model_name == model_name, table.c.interval_end < cutoff, decided(table)
            ),
        )
    # Label checks are stored under their (older) sends window and read by nobody after they
    # are written: the cutoff alone decides.
    c = monitoring_checks_table
    run(c, sa.and_(c.c.model_name == model_name, c.c.interval_end < cutoff))

    def not_exempt(conn: Connection):
        keys = _exempt_decisions(conn, model_name, dag_ids)
        kept = [
            sa.and_(d.c.dag_id == k[0], d.c.interval_start == k[1], d.c.interval_end == k[2])
            for k in keys
        ]
        return (sa.not_(sa.or_(*kept)) if kept else sa.true()), keys

    run(
        d,
        sa.and_(_model_decisions(d, model_name, dag_ids), d.c.interval_end < cutoff),
        lock_name=f"decisions:{model_name}",
        extra_where=not_exempt,
    )

    # Cleared alert episodes (never open ones) and their notifications, in the same batches.
    a, n = alerts_table, alert_notifications_table
    if a.name in present:
        ended = sa.func.coalesce(a.c.cleared_interval_end, a.c.last_interval_end)
        cleared = sa.and_(a.c.model_name == model_name, a.c.status == CLEARED, ended < cutoff)
        alerts = notifications = 0
        while True:
            with engine.begin() as conn:
                ids = (
                    sa.select(a.c.alert_id).where(cleared).order_by(a.c.alert_id).limit(batch_size)
                )
                if n.name in present:
                    notifications += conn.execute(
                        sa.delete(n).where(n.c.alert_id.in_(ids))
                    ).rowcount
                count = conn.execute(sa.delete(a).where(a.c.alert_id.in_(ids))).rowcount
            batches += 1
            alerts += count
            if count < batch_size:
                break
        deleted[a.name] = alerts
        deleted[n.name] = notifications
    else:
        deleted[a.name] = deleted[n.name] = 0
    return RowPrune(deleted=deleted, batches=batches, kept=kept_labels)


def label_end(name: str) -> datetime | None:
    """The end of the window a report folder is named for (``<start>_<end>``, optionally
    ``.partial``, or ``.parts`` for a partitioned drift check's files), or ``None`` when the
    name is no window label."""
    for suffix in (PARTIAL_SUFFIX, PARTS_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    parts = name.split("_")
    if len(parts) != 2:
        return None
    try:
        start, end = (datetime.fromisoformat(p) for p in parts)
    except ValueError:
        return None
    if start.tzinfo is not None or end.tzinfo is not None or start > end:
        return None
    return end


def decided_ends(
    engine: Engine, dag_ids: Sequence[str], cutoff: datetime
) -> set[tuple[str, datetime]]:
    """(dag_id, window end) of the decisions before ``cutoff``: the report folders a prune may
    delete (read before the decisions themselves are pruned)."""
    d = monitoring_decisions_table
    if d.name not in set(sa.inspect(engine).get_table_names()):
        return set()
    query = sa.select(d.c.dag_id, d.c.interval_end).where(
        d.c.dag_id.in_(list(dag_ids)), d.c.interval_end < to_naive_utc(cutoff)
    )
    with engine.connect() as conn:
        return {(r.dag_id, to_naive_utc(r.interval_end)) for r in conn.execute(query)}


def prune_folders(
    report_root: str | Path,
    dag_ids: Sequence[str],
    cutoff: datetime,
    decided: set[tuple[str, datetime]] | None = None,
) -> FolderPrune:
    """Delete ``<report_root>/<dag_id>/<label>/`` folders whose window ended before ``cutoff``
    and, when ``decided`` is given, whose run has decided (a run still working on an old window
    keeps its report: its next task reads it).

    A DAG id that is not a plain folder name (``..``, ``a/b``, empty) or resolves outside the
    root, a symlinked folder, and a folder that resolves outside its DAG's folder are refused
    and listed; folders whose names are no window label are left alone."""
    cutoff = to_naive_utc(cutoff)
    root = Path(report_root).expanduser().resolve()
    deleted: list[str] = []
    refused: list[str] = []
    for dag_id in dag_ids:
        base = root / str(dag_id)
        try:
            check_part(dag_id, what="DAG id")
        except UnsafePathError as exc:
            refused.append(f"{base}: {exc} (under {root})")
            continue
        if base.is_symlink():
            refused.append(f"{base}: a symlink; report folders are never followed")
            continue
        resolved = base.resolve()
        if not resolved.is_relative_to(root) or resolved == root:
            refused.append(f"{base}: resolves to {resolved}, outside the report root {root}")
            continue
        if not resolved.is_dir():
            continue
        for child in sorted(resolved.iterdir()):
            end = label_end(child.name)
            if end is None or end >= cutoff:
                continue
            if decided is not None and (dag_id, end) not in decided:
                continue
            if child.is_symlink():
                refused.append(f"{child}: a symlink; report folders are never followed")
                continue
            target = child.resolve()
            if target == resolved or not target.is_relative_to(resolved) or not target.is_dir():
                refused.append(f"{child}: resolves to {target}, not a folder under {resolved}")
                continue
            shutil.rmtree(target)
            deleted.append(str(target))
    return FolderPrune(deleted=deleted, refused=refused)
