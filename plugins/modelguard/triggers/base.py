"""Shared poll loop of modelguard's window triggers (NewDataTrigger, LabelsMaturedTrigger)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


def parse_iso(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def window_from_iso(start: datetime | str, end: datetime | str):
    """The naive-UTC :class:`~modelguard.core.window.Window` of two ISO strings (or datetimes)."""
    from modelguard.core.window import Window, to_naive_utc

    return Window(start=to_naive_utc(parse_iso(start)), end=to_naive_utc(parse_iso(end)))


class WindowPollTrigger(BaseTrigger):
    """Measure ``table`` over ``[window_start, window_end)`` every ``poll_interval`` s until the
    measurement is enough, or until ``deadline`` (an absolute UTC time, so that a triggerer
    restart does not extend the wait).

    The connection is looked up by ``conn_id`` in the triggerer (``BaseHook.aget_connection``),
    so no credentials are stored in the trigger's kwargs. The blocking query runs in a thread.

    Subclasses implement :meth:`serialize_kwargs`, :meth:`measure`, :meth:`is_done`,
    :meth:`log_measurement` and :meth:`event_fields`. Events are
    ``{"status": "success" | "timeout", **measurement, **event_fields}`` or
    ``{"status": "error", "message": ..., "error_type": ..., **event_fields}``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        table: str,
        window_start: datetime | str,
        window_end: datetime | str,
        poll_interval: float = 60.0,
        deadline: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.table = table
        self.window_start = iso(window_start)
        self.window_end = iso(window_end)
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else iso(deadline)

    # -- subclass hooks -------------------------------------------------------------------------

    def serialize_kwargs(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this trigger (JSON-friendly values only)."""
        raise NotImplementedError

    def measure(self, url: str) -> dict[str, Any]:
        """Blocking: query the table at ``url``; the result goes into the event payload."""
        raise NotImplementedError

    def is_done(self, measured: dict[str, Any]) -> bool:
        raise NotImplementedError

    def log_measurement(self, measured: dict[str, Any]) -> None:
        raise NotImplementedError

    def event_fields(self) -> dict[str, Any]:
        """What every event carries besides the status and the measurement."""
        raise NotImplementedError

    # -- BaseTrigger API ------------------------------------------------------------------------

    def serialize(self) -> tuple[str, dict[str, Any]]:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}", self.serialize_kwargs()

    def _payload(self, status: str, **extra: Any) -> dict[str, Any]:
        return {"status": status, **self.event_fields(), **extra}

    def _seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        deadline = parse_iso(self.deadline)
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=UTC)
        return (deadline - datetime.now(UTC)).total_seconds()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            from modelguard.hooks.db import ModelguardDbHook, naming_connection

            # Async lookup: the sync get_connection() would talk to the triggerer supervisor from
            # the event-loop thread (only works through the greenback portal).
            url = await ModelguardDbHook(self.conn_id).aget_sqlalchemy_url()
            while True:
                # A missing table or a refused login ends the wait with an "error" event whose
                # error_type (e.g. TableNotFoundError) the sensor re-raises, conn id included.
                with naming_connection(self.conn_id):
                    measured = await asyncio.to_thread(self.measure, url)
                self.log_measurement(measured)
                if self.is_done(measured):
                    yield TriggerEvent(self._payload("success", **measured))
                    return
                left = self._seconds_left()
                if left is not None and left <= 0:
                    yield TriggerEvent(self._payload("timeout", **measured))
                    return
                await asyncio.sleep(
                    self.poll_interval if left is None else min(self.poll_interval, left)
                )
        except Exception as exc:
            from modelguard.exceptions import ModelguardError

            if isinstance(exc, ModelguardError):  # says what to fix; a traceback adds nothing
                self.log.error("%s failed on %s: %s", type(self).__name__, self.table, exc)
            else:
                self.log.exception("%s failed on %s", type(self).__name__, self.table)
            yield TriggerEvent(
                self._payload("error", message=str(exc), error_type=type(exc).__name__)
            )
