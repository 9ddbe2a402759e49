"""Trigger that waits in the triggerer until a table has enough rows in a window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


def _parse_iso(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _count_blocking(url: str, table: str, time_column: str, start: str, end: str) -> int:
    from modelguard.source import count_rows, engine_for_url
    from modelguard.window import Window, to_naive_utc

    window = Window(start=to_naive_utc(_parse_iso(start)), end=to_naive_utc(_parse_iso(end)))
    return count_rows(engine_for_url(url), table, time_column, window)


class NewDataTrigger(BaseTrigger):
    """Poll ``table`` every ``poll_interval`` s until ``[window_start, window_end)`` has
    ``min_rows`` rows, or until ``deadline`` (an absolute UTC time, so that a triggerer restart
    does not extend the wait).

    The connection is looked up by ``conn_id`` in the triggerer (``BaseHook.aget_connection``), so
    no credentials are stored in the trigger's kwargs.

    Events: ``{"status": "success", "rows": n, ...}``, ``{"status": "timeout", "rows": n, ...}``
    or ``{"status": "error", "message": ..., "error_type": ...}``; every event also carries
    ``table``, ``time_column``, ``window_start``, ``window_end`` and ``min_rows``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        table: str,
        time_column: str,
        window_start: datetime | str,
        window_end: datetime | str,
        min_rows: int,
        poll_interval: float = 60.0,
        deadline: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.table = table
        self.time_column = time_column
        self.window_start = _iso(window_start)
        self.window_end = _iso(window_end)
        self.min_rows = int(min_rows)
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else _iso(deadline)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "modelguard.triggers.new_data.NewDataTrigger",
            {
                "conn_id": self.conn_id,
                "table": self.table,
                "time_column": self.time_column,
                "window_start": self.window_start,
                "window_end": self.window_end,
                "min_rows": self.min_rows,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    def _payload(self, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "status": status,
            "table": self.table,
            "time_column": self.time_column,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "min_rows": self.min_rows,
            **extra,
        }

    def _seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        deadline = _parse_iso(self.deadline)
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=UTC)
        return (deadline - datetime.now(UTC)).total_seconds()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            from modelguard.hooks.db import ModelguardDbHook

            # Async lookup: the sync get_connection() would talk to the triggerer supervisor from
            # the event-loop thread (only works through the greenback portal).
            url = await ModelguardDbHook(self.conn_id).aget_sqlalchemy_url()
            while True:
                rows = await asyncio.to_thread(
                    _count_blocking,
                    url,
                    self.table,
                    self.time_column,
                    self.window_start,
                    self.window_end,
                )
                self.log.info(
                    "%s: %d rows in [%s, %s), need %d",
                    self.table,
                    rows,
                    self.window_start,
                    self.window_end,
                    self.min_rows,
                )
                if rows >= self.min_rows:
                    yield TriggerEvent(self._payload("success", rows=rows))
                    return
                left = self._seconds_left()
                if left is not None and left <= 0:
                    yield TriggerEvent(self._payload("timeout", rows=rows))
                    return
                await asyncio.sleep(
                    self.poll_interval if left is None else min(self.poll_interval, left)
                )
        except Exception as exc:
            self.log.exception("NewDataTrigger failed on %s", self.table)
            yield TriggerEvent(
                self._payload("error", message=str(exc), error_type=type(exc).__name__)
            )


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
