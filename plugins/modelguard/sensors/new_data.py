"""Sensor: wait until the source table has enough rows in the run's window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelguard.exceptions import ConfigError
from modelguard.sensors.base import WindowSensor, event_window_label

if TYPE_CHECKING:
    from airflow.sdk import Context

    from modelguard.core.window import Window
    from modelguard.triggers.new_data import NewDataTrigger


class NewDataSensor(WindowSensor):
    """Succeed once ``table`` has at least ``min_rows`` rows whose ``time_column`` is in the run's
    window; return (XCom) the row count.

    The window comes from the run's data interval (trailing ``window_hours`` when > 0), or from the
    ``window_start``/``window_end`` params of a manual run (see :func:`modelguard.core.window.resolve_window`).

    :param conn_id: Airflow connection of the SQL store (sqlite or postgres).
    :param table: table to count (``schema.table`` allowed). Templated.
    :param time_column: timestamp column (naive UTC or timestamptz). Templated.
    :param min_rows: rows needed; templated, coerced to int at run time.
    :param window_hours: 0 = the data interval; > 0 = the last ``window_hours`` before its end.
    :param deferrable: wait in the triggerer instead of a worker slot; ``None`` (default):
        Airflow's ``[operators] default_deferrable``.
    """

    template_fields: Sequence[str] = ("conn_id", "table", "time_column", "min_rows")
    ui_color = "#d9ecf2"

    def __init__(
        self,
        *,
        conn_id: str,
        table: str,
        time_column: str,
        min_rows: int | str,
        window_hours: int = 0,
        deferrable: bool | None = None,
        mode: str = "reschedule",
        **kwargs: Any,
    ) -> None:
        super().__init__(deferrable=deferrable, mode=mode, **kwargs)
        self.conn_id = conn_id
        self.table = table
        self.time_column = time_column
        self.min_rows = min_rows
        self.window_hours = window_hours
        self._last_count: int | None = None
        self._window: Window | None = None

    # -- helpers --------------------------------------------------------------------------------

    def _min_rows(self) -> int:
        try:
            value = int(str(self.min_rows).strip())
        except ValueError:
            raise ConfigError(
                f"{self.task_id}: min_rows must be a non-negative integer, got {self.min_rows!r}"
            ) from None
        if value < 0:
            raise ConfigError(
                f"{self.task_id}: min_rows must be a non-negative integer, got {self.min_rows!r}"
            )
        return value

    def _resolve_window(self, context: Context) -> Window:
        from modelguard.operators.common import window_from_context

        try:
            window_hours = int(self.window_hours or 0)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.task_id}: window_hours must be a non-negative integer, "
                f"got {self.window_hours!r}"
            ) from None
        self._window = window_from_context(context, window_hours)
        return self._window

    def _count(self, window: Window) -> int:
        from modelguard.core.timing import phase
        from modelguard.hooks.db import ModelguardDbHook, naming_connection
        from modelguard.storage.source import count_rows

        # A missing connection/table or a refused login raises here: the task fails at once
        # with the connection id and the table, instead of rescheduling until the timeout.
        with naming_connection(self.conn_id, self.error_prefix(self.table, window.label)):
            with phase("connect"):
                engine = ModelguardDbHook(self.conn_id).get_engine()
            with phase("read"):
                rows = count_rows(engine, self.table, self.time_column, window)
        self._last_count = rows
        return rows

    def error_prefix(self, table: str, window_label: str) -> str:
        """What failed, the same on the poke and the trigger path."""
        return f"NewDataSensor could not count rows of table {table!r} in window {window_label}"

    def timeout_message(self, window_label: str, rows: int | None, min_rows: int) -> str:
        found = "an unknown number of" if rows is None else str(rows)
        return (
            f"NewDataSensor timed out after {self.timeout:g}s: table {self.table!r} has {found} "
            f"rows in window {window_label} (column {self.time_column!r}), "
            f"needed {min_rows}"
        )

    # -- sensor API -----------------------------------------------------------------------------

    def poke(self, context: Context) -> bool:
        window = self._resolve_window(context)
        min_rows = self._min_rows()
        rows = self._count(window)
        self.log.info(
            "%s: %d rows in window %s (column %s), need %d",
            self.table,
            rows,
            window.label,
            self.time_column,
            min_rows,
        )
        return rows >= min_rows

    # -- WindowSensor hooks ---------------------------------------------------------------------

    def poke_result(self) -> int:
        return int(self._last_count or 0)

    def build_trigger(self, deadline: str) -> NewDataTrigger:
        from modelguard.triggers.new_data import NewDataTrigger

        window = self._window
        assert window is not None  # set by poke
        return NewDataTrigger(
            conn_id=self.conn_id,
            table=self.table,
            time_column=self.time_column,
            window_start=window.start.isoformat(),
            window_end=window.end.isoformat(),
            min_rows=self._min_rows(),
            poll_interval=self.poke_interval,
            deadline=deadline,
        )

    def poke_timeout_text(self) -> str:
        label = self._window.label if self._window else "(unresolved)"
        return self.timeout_message(label, self._last_count, self._min_rows())

    def event_result(self, event: dict[str, Any]) -> int:
        rows = int(event["rows"])
        table = event.get("table", self.table)
        self.log.info("%s: %d rows in window %s, done", table, rows, event_window_label(event))
        self._last_count = rows
        return rows

    def event_timeout_text(self, event: dict[str, Any]) -> str:
        min_rows = int(event.get("min_rows", self._min_rows()))
        return self.timeout_message(event_window_label(event), event.get("rows"), min_rows)

    def event_error_text(self, event: dict[str, Any], message: str) -> str:
        table = event.get("table", self.table)
        return f"{self.error_prefix(table, event_window_label(event))}: {message}"

    def deferral_timeout_text(self, context: Context) -> str:
        try:
            label = self._resolve_window(context).label
        except Exception:
            label = "(unresolved)"
        return self.timeout_message(label, None, self._min_rows())
