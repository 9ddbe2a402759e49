"""The champion history, read from the event log: who became champion, and from when in data
time. ``champion_at``, ``champion_history`` and the effective time of a new change share it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelguard.storage.db import to_naive_utc
from modelguard.storage.registry.rows import EVENT_PROMOTED, EVENT_ROLLED_BACK, model_events_table


@dataclass(frozen=True)
class ChampionChange:
    """One change of champion in the event log: who became champion, and from when in data
    time (``None`` for the bootstrap, which judges everything before the first change)."""

    id: int
    version_id: int
    effective_at: datetime | None


def champion_changes(conn: Connection, model_name: str) -> list[ChampionChange]:
    """Bootstrap, promotions and restorations by rollbacks, in the order they were written."""
    e = model_events_table
    rows = conn.execute(
        sa.select(e.c.id, e.c.event, e.c.version_id, e.c.at, e.c.details)
        .where(e.c.model_name == model_name, e.c.event.in_((EVENT_PROMOTED, EVENT_ROLLED_BACK)))
        .order_by(e.c.id)
    ).all()
    changes: list[ChampionChange] = []
    for row in rows:
        details = row.details or {}
        promoted = row.event == EVENT_PROMOTED
        version_id = row.version_id if promoted else details.get("restored_version_id")
        if version_id is None:
            continue
        bootstrap = not changes and details.get("bootstrap", promoted)
        changes.append(ChampionChange(row.id, version_id, None if bootstrap else effective_of(row)))
    return changes


def effective_of(event_row: Any) -> datetime:
    """When a change of champion took effect in data time (see ``champion_at``)."""
    details = event_row.details or {}
    for text in (details.get("effective_at"), (details.get("evaluation") or {}).get("as_of")):
        if isinstance(text, str):
            try:
                return to_naive_utc(datetime.fromisoformat(text))
            except ValueError:
                continue
    return to_naive_utc(event_row.at)


def effective_after(
    conn: Connection, model_name: str, wanted: datetime | None, now: datetime
) -> str:
    """The effective data time of a new change of champion: ``wanted`` (default now), but
    never before the change it follows, so the champion history stays in order and its
    last entry is the current champion (a retraining started by a backfill of old data
    changes today's champion, not history)."""
    effective = now if wanted is None else to_naive_utc(wanted)
    for change in champion_changes(conn, model_name):
        if change.effective_at is not None:
            effective = max(effective, change.effective_at)
    return effective.isoformat()
