"""Sensor: wait until enough outcomes of the run's matured window are known."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelguard.exceptions import ConfigError
from modelguard.sensors.base import WindowSensor, event_window_label

if TYPE_CHECKING:
    from airflow.sdk import Context

    from modelguard.core.window import Window
    from modelguard.triggers.labels_matured import LabelsMaturedTrigger


def _pct(share: float) -> str:
    """0.9 -> '90%', 0.955 -> '95.5%'."""
    return f"{share * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _when(value: datetime | str | None) -> str:
    """'2026-09-20 00:00' (seconds only when non-zero); a string is parsed first."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return "(unknown)"
    if value.second or value.microsecond:
        return value.isoformat(sep=" ")
    return value.strftime("%Y-%m-%d %H:%M")


class LabelsMaturedSensor(WindowSensor):
    """Succeed once enough sends of the run's *matured window* have a known outcome; return (XCom)
    ``{"window_start", "window_end", "as_of", "sends", "labelled"}`` (the matured window, ISO).

    The run's window W = ``[start, end)`` is :func:`~modelguard.operators.common.window_from_context`
    (data interval, trailing ``window_hours``, or manual ``window_start``/``window_end`` params).
    Outcomes are final ``label_delay_hours`` after the send, so the run judges the matured window
    M = ``[start - delay, end - delay)``. A send counts as labelled when ``label_column`` is not
    null and ``label_time_column`` <= ``end`` (the run's window end, never now(), so a rerun
    decides the same). Done when labelled >= ``min_labelled_rows`` and labelled / sends >=
    ``min_label_share``.

    On timeout the message names the table, M, labelled vs sends and what was needed; with
    ``soft_fail=True`` the task ends SKIPPED with that message as the reason.

    :param conn_id: Airflow connection of the SQL store (sqlite or postgres).
    :param table: table of sends (``schema.table`` allowed). Templated.
    :param time_column: send time column. Templated.
    :param label_column: outcome column (0/1, null while unknown). Templated.
    :param label_time_column: when the outcome became known. Templated.
    :param label_delay_hours: hours after a send by which its outcome is final (>= 0).
    :param min_labelled_rows: labelled sends needed; templated, coerced to int at run time.
    :param min_label_share: share of the sends that must be labelled, in (0, 1].
    :param window_hours: 0 = the data interval; > 0 = the last ``window_hours`` before its end.
    :param deferrable: wait in the triggerer instead of a worker slot; ``None`` (default):
        Airflow's ``[operators] default_deferrable``.
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "table",
        "time_column",
        "label_column",
        "label_time_column",
        "min_labelled_rows",
    )
    ui_color = "#d9f2e1"

    def __init__(
        self,
        *,
        conn_id: str,
        table: str,
        time_column: str,
        label_column: str,
        label_time_column: str,
        label_delay_hours: float,
        min_labelled_rows: int | str,
        min_label_share: float,
        window_hours: int = 0,
        deferrable: bool | None = None,
        mode: str = "reschedule",
        **kwargs: Any,
    ) -> None:
        super().__init__(deferrable=deferrable, mode=mode, **kwargs)
        self.conn_id = conn_id
        self.table = table
        self.time_column = time_column
        self.label_column = label_column
        self.label_time_column = label_time_column
        self.label_delay_hours = self._number(
            "label_delay_hours", label_delay_hours, "a number >= 0", lambda x: x >= 0
        )
        self.min_labelled_rows = min_labelled_rows
        self.min_label_share = self._number(
            "min_label_share", min_label_share, "a number in (0, 1]", lambda x: 0 < x <= 1
        )
        self.window_hours = window_hours
        self._matured: Window | None = None
        self._as_of: datetime | None = None
        self._sends: int | None = None
        self._labelled: int | None = None

    # -- helpers --------------------------------------------------------------------------------

    def _number(self, name: str, value: Any, allowed: str, ok) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number) or not ok(number):
            raise ConfigError(f"{self.task_id}: {name} must be {allowed}, got {value!r}")
        return number

    def _min_labelled_rows(self) -> int:
        try:
            value = int(str(self.min_labelled_rows).strip())
        except ValueError:
            value = -1
        if value < 0:
            raise ConfigError(
                f"{self.task_id}: min_labelled_rows must be a non-negative integer, "
                f"got {self.min_labelled_rows!r}"
            )
        return value

    def _resolve(self, context: Context) -> tuple[Window, datetime]:
        """The matured window and the instant outcomes must be known by (the run's window end)."""
        from modelguard.operators.common import trailing_window_from_context
        from modelguard.storage.source import matured_window

        window = trailing_window_from_context(context, int(self.window_hours))
        self._matured = matured_window(window, self.label_delay_hours)
        self._as_of = window.end
        return self._matured, self._as_of

    def error_prefix(self, table: str, window_label: str) -> str:
        """What failed, the same on the poke and the trigger path."""
        return (
            f"LabelsMaturedSensor could not count labels of table {table!r} in matured window "
            f"{window_label}"
        )

    def timeout_message(
        self,
        window_label: str,
        as_of: datetime | str | None,
        sends: int | None,
        labelled: int | None,
        min_labelled_rows: int,
        min_label_share: float,
    ) -> str:
        where = (
            f"in the matured window {window_label} (column {self.time_column!r}, the run's window "
            f"moved back {self.label_delay_hours:g} h)"
        )
        known = (
            f"matured {self.label_column!r} by {_when(as_of)} (column {self.label_time_column!r})"
        )
        if sends is None or labelled is None:
            found = f"labels did not mature in time: an unknown number of the sends {where} have a"
        else:
            what = "labels never arrived" if labelled == 0 else "too few labels matured"
            share = f" ({labelled * 1000 // sends / 10:g}%)" if sends else ""
            found = f"{what}: {labelled:,} of {sends:,} sends{share} {where} have a"
        return (
            f"LabelsMaturedSensor timed out after {self.timeout:g}s on table {self.table!r}: "
            f"{found} {known}; needed {min_labelled_rows:,} and {_pct(min_label_share)}"
        )

    # -- sensor API -----------------------------------------------------------------------------

    def poke(self, context: Context) -> bool:
        from modelguard.core.timing import phase
        from modelguard.hooks.db import ModelguardDbHook, naming_connection
        from modelguard.storage.source import enough_labels, label_counts

        matured, as_of = self._resolve(context)
        needed = self._min_labelled_rows()
        # A missing connection/table or a refused login raises here (soft_fail does not skip
        # it): the task fails at once with the connection id and the table.
        with naming_connection(self.conn_id, self.error_prefix(self.table, matured.label)):
            with phase("connect"):
                engine = ModelguardDbHook(self.conn_id).get_engine()
            with phase("read"):
                sends, labelled = label_counts(
                    engine,
                    self.table,
                    self.time_column,
                    self.label_column,
                    self.label_time_column,
                    matured,
                    as_of,
                )
        self._sends, self._labelled = sends, labelled
        self.log.info(
            "%s: %d of %d sends in matured window %s have %s known by %s, need %d and %s",
            self.table,
            labelled,
            sends,
            matured.label,
            self.label_column,
            _when(as_of),
            needed,
            _pct(self.min_label_share),
        )
        return enough_labels(sends, labelled, needed, self.min_label_share)

    # -- WindowSensor hooks ---------------------------------------------------------------------

    def poke_result(self) -> dict[str, Any]:
        matured, as_of = self._matured, self._as_of
        assert matured is not None and as_of is not None  # set by poke
        return {
            "window_start": matured.start.isoformat(),
            "window_end": matured.end.isoformat(),
            "as_of": as_of.isoformat(),
            "sends": int(self._sends or 0),
            "labelled": int(self._labelled or 0),
        }

    def build_trigger(self, deadline: str) -> LabelsMaturedTrigger:
        from modelguard.triggers.labels_matured import LabelsMaturedTrigger

        result = self.poke_result()
        return LabelsMaturedTrigger(
            conn_id=self.conn_id,
            table=self.table,
            time_column=self.time_column,
            label_column=self.label_column,
            label_time_column=self.label_time_column,
            window_start=result["window_start"],
            window_end=result["window_end"],
            as_of=result["as_of"],
            min_labelled_rows=self._min_labelled_rows(),
            min_label_share=self.min_label_share,
            poll_interval=self.poke_interval,
            deadline=deadline,
        )

    def poke_timeout_text(self) -> str:
        label = self._matured.label if self._matured else "(unresolved)"
        return self.timeout_message(
            label,
            self._as_of,
            self._sends,
            self._labelled,
            self._min_labelled_rows(),
            self.min_label_share,
        )

    def event_result(self, event: dict[str, Any]) -> dict[str, Any]:
        self._sends, self._labelled = int(event["sends"]), int(event["labelled"])
        self.log.info(
            "%s: %d of %d sends in matured window %s are labelled, done",
            event.get("table", self.table),
            self._labelled,
            self._sends,
            event_window_label(event),
        )
        return {
            "window_start": event["window_start"],
            "window_end": event["window_end"],
            "as_of": event["as_of"],
            "sends": self._sends,
            "labelled": self._labelled,
        }

    def event_timeout_text(self, event: dict[str, Any]) -> str:
        return self.timeout_message(
            event_window_label(event),
            event.get("as_of"),
            event.get("sends"),
            event.get("labelled"),
            int(event.get("min_labelled_rows", self._min_labelled_rows())),
            float(event.get("min_label_share", self.min_label_share)),
        )

    def event_error_text(self, event: dict[str, Any], message: str) -> str:
        table = event.get("table", self.table)
        return f"{self.error_prefix(table, event_window_label(event))}: {message}"

    def deferral_timeout_text(self, context: Context) -> str:
        try:
            matured, as_of = self._resolve(context)
            label: str = matured.label
        except Exception:
            label, as_of = "(unresolved)", None
        return self.timeout_message(
            label, as_of, None, None, self._min_labelled_rows(), self.min_label_share
        )
