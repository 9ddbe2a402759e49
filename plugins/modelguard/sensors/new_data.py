"""Sensor: wait until the source table has enough rows in the run's window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from modelguard.exceptions import ConfigError, DataValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from modelguard.window import Window

# Extra time the triggerer gives the trigger beyond its own deadline, so that the trigger's
# "timeout" event (with the row count) normally arrives before Airflow's bare deferral timeout.
DEFER_TIMEOUT_GRACE = timedelta(minutes=5)


class NewDataSensor(BaseSensorOperator):
    """Succeed once ``table`` has at least ``min_rows`` rows whose ``time_column`` is in the run's
    window; return (XCom) the row count.

    The window comes from the run's data interval (trailing ``window_hours`` when > 0), or from the
    ``window_start``/``window_end`` params of a manual run (see :func:`modelguard.window.resolve_window`).

    :param conn_id: Airflow connection of the SQL store (sqlite or postgres).
    :param table: table to count (``schema.table`` allowed). Templated.
    :param time_column: timestamp column (naive UTC or timestamptz). Templated.
    :param min_rows: rows needed; templated, coerced to int at run time.
    :param window_hours: 0 = the data interval; > 0 = the last ``window_hours`` before its end.
    :param deferrable: wait in the triggerer instead of a worker slot.
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
        deferrable: bool = False,
        mode: str = "reschedule",
        **kwargs: Any,
    ) -> None:
        super().__init__(mode=mode, **kwargs)
        self.conn_id = conn_id
        self.table = table
        self.time_column = time_column
        self.min_rows = min_rows
        self.window_hours = window_hours
        self.deferrable = deferrable
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
        from modelguard.window import resolve_window

        params = context.get("params") or {}
        try:
            window_hours = int(self.window_hours or 0)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.task_id}: window_hours must be a non-negative integer, "
                f"got {self.window_hours!r}"
            ) from None
        window = resolve_window(
            context.get("data_interval_start"),
            context.get("data_interval_end"),
            window_start=params.get("window_start"),
            window_end=params.get("window_end"),
            window_hours=window_hours,
        )
        self._window = window
        return window

    def _count(self, window: Window) -> int:
        from modelguard.hooks.db import ModelguardDbHook
        from modelguard.source import count_rows

        engine = ModelguardDbHook(self.conn_id).get_engine()
        rows = count_rows(engine, self.table, self.time_column, window)
        self._last_count = rows
        return rows

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

    def execute(self, context: Context) -> int:
        if self.deferrable:
            return self._execute_deferrable(context)
        try:
            super().execute(context)
        except AirflowSensorTimeout as exc:
            label = self._window.label if self._window else "(unresolved)"
            raise AirflowSensorTimeout(
                self.timeout_message(label, self._last_count, self._min_rows())
            ) from exc
        return int(self._last_count or 0)

    def _execute_deferrable(self, context: Context) -> int:
        from airflow.sdk import timezone

        from modelguard.triggers.new_data import NewDataTrigger

        if self.poke(context):
            return int(self._last_count or 0)
        window = self._window
        assert window is not None  # set by poke
        deadline = timezone.utcnow() + timedelta(seconds=self.timeout)
        self.defer(
            trigger=NewDataTrigger(
                conn_id=self.conn_id,
                table=self.table,
                time_column=self.time_column,
                window_start=window.start.isoformat(),
                window_end=window.end.isoformat(),
                min_rows=self._min_rows(),
                poll_interval=self.poke_interval,
                deadline=deadline.isoformat(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFER_TIMEOUT_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> int:
        """Resume after the trigger fired: return the row count, or raise with table and window."""
        event = event or {}
        status = event.get("status")
        label = _event_window_label(event)
        table = event.get("table", self.table)
        if status == "success":
            rows = int(event["rows"])
            self.log.info("%s: %d rows in window %s, done", table, rows, label)
            self._last_count = rows
            return rows
        if status == "timeout":
            min_rows = int(event.get("min_rows", self._min_rows()))
            raise AirflowSensorTimeout(self.timeout_message(label, event.get("rows"), min_rows))
        message = event.get("message", f"unexpected trigger event {event!r}")
        text = f"NewDataSensor could not count rows of table {table!r} in window {label}: {message}"
        error_class = _NON_TRANSIENT_ERRORS.get(event.get("error_type", ""))
        if error_class is not None:
            raise error_class(text)
        raise AirflowException(text)

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context
    ) -> Any:
        from airflow.sdk.exceptions import TaskDeferralTimeout

        # If the triggerer itself times the deferral out (trigger stuck past deadline + grace),
        # the base class turns TaskDeferralTimeout into a bare AirflowSensorTimeout: give it the
        # table/window message.
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except AirflowSensorTimeout as exc:
            if not isinstance(exc.__cause__, TaskDeferralTimeout):
                raise
            try:
                label = self._resolve_window(context).label
            except Exception:
                label = "(unresolved)"
            raise AirflowSensorTimeout(self.timeout_message(label, None, self._min_rows())) from exc


_NON_TRANSIENT_ERRORS: dict[str, type[Exception]] = {
    "DataValidationError": DataValidationError,
    "ConfigError": ConfigError,
    "UnsupportedConnectionError": ConfigError,
}


def _event_window_label(event: dict[str, Any]) -> str:
    from datetime import datetime

    from modelguard.window import Window, to_naive_utc

    try:
        return Window(
            start=to_naive_utc(datetime.fromisoformat(event["window_start"])),
            end=to_naive_utc(datetime.fromisoformat(event["window_end"])),
        ).label
    except (KeyError, TypeError, ValueError):
        return "(unknown)"
