"""Trigger that waits in the triggerer until a table has enough rows in a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelguard.triggers.base import WindowPollTrigger, window_from_iso


def _count_blocking(url: str, table: str, time_column: str, start: str, end: str) -> int:
    from modelguard.storage.source import count_rows, engine_for_url

    return count_rows(engine_for_url(url), table, time_column, window_from_iso(start, end))


class NewDataTrigger(WindowPollTrigger):
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
        super().__init__(
            conn_id=conn_id,
            table=table,
            window_start=window_start,
            window_end=window_end,
            poll_interval=poll_interval,
            deadline=deadline,
            **kwargs,
        )
        self.time_column = time_column
        self.min_rows = int(min_rows)

    def serialize_kwargs(self) -> dict[str, Any]:
        return {
            "conn_id": self.conn_id,
            "table": self.table,
            "time_column": self.time_column,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "min_rows": self.min_rows,
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
        }

    def event_fields(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "time_column": self.time_column,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "min_rows": self.min_rows,
        }

    def measure(self, url: str) -> dict[str, Any]:
        rows = _count_blocking(
            url, self.table, self.time_column, self.window_start, self.window_end
        )
        return {"rows": rows}

    def is_done(self, measured: dict[str, Any]) -> bool:
        return measured["rows"] >= self.min_rows

    def log_measurement(self, measured: dict[str, Any]) -> None:
        self.log.info(
            "%s: %d rows in [%s, %s), need %d",
            self.table,
            measured["rows"],
            self.window_start,
            self.window_end,
            self.min_rows,
        )
