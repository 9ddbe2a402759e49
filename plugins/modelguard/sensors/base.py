"""Shared mechanics of modelguard's window sensors (NewDataSensor, LabelsMaturedSensor).

* ``deferrable`` defaults to Airflow's ``[operators] default_deferrable``, as the standard
  provider's sensors do; ``deferrable=True`` pokes once, then waits in the triggerer; otherwise
  reschedule mode;
* every timeout carries a message naming what was measured and what was needed, whichever path
  timed out: poke/reschedule mode, the trigger's own deadline, or the triggerer's deferral
  timeout;
* with ``soft_fail`` (or ``never_fail``) a timeout ends the task SKIPPED, and the skip reason is
  that same message (BaseSensorOperator would log only a generic "Skipping due to soft_fail").
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout, AirflowSkipException

from modelguard.exceptions import (
    ConfigError,
    ConnectionFailedError,
    ConnectionNotDefinedError,
    DataValidationError,
    StoreUnavailableError,
    TableNotFoundError,
)
from modelguard.operators.common import timed

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

# Extra time the triggerer gives the trigger beyond its own deadline, so that the trigger's
# "timeout" event (with the counts) normally arrives before Airflow's bare deferral timeout.
DEFER_TIMEOUT_GRACE = timedelta(minutes=5)

# Trigger "error" events re-raised as these (by the event's error_type): not worth a retry.
NON_TRANSIENT_ERRORS: dict[str, type[Exception]] = {
    "DataValidationError": DataValidationError,
    "ConfigError": ConfigError,
    "UnsupportedConnectionError": ConfigError,
    "StoreUnavailableError": StoreUnavailableError,
    "ConnectionNotDefinedError": ConnectionNotDefinedError,
    "TableNotFoundError": TableNotFoundError,
    # May be transient (server down): re-raised as itself so the task fails with what happened;
    # whether it runs again is the task's ``retries``.
    "ConnectionFailedError": ConnectionFailedError,
}


def event_window_label(event: dict[str, Any]) -> str:
    """The label of a trigger event's ``[window_start, window_end)``, or ``(unknown)``."""
    from modelguard.triggers.base import window_from_iso

    try:
        return window_from_iso(event["window_start"], event["window_end"]).label
    except (KeyError, TypeError, ValueError):
        return "(unknown)"


class WindowSensor(BaseSensorOperator):
    """Base of the modelguard sensors that measure a window of a SQL table.

    Subclasses implement :meth:`poke` (which keeps what it measured, for the messages) and the
    hooks below; this class supplies ``execute``, the deferral, ``execute_complete`` and
    ``resume_execution``.

    :param deferrable: wait in the triggerer instead of a worker slot; ``None`` (default):
        Airflow's ``[operators] default_deferrable``.
    :param mode: ``reschedule`` (default) or ``poke``.
    """

    def __init__(self, *, deferrable: bool | None = None, mode: str = "reschedule", **kwargs: Any):
        super().__init__(mode=mode, **kwargs)
        if deferrable is None:
            from airflow.sdk import conf

            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.deferrable = bool(deferrable)

    # -- subclass hooks -------------------------------------------------------------------------

    def poke_result(self) -> Any:
        """What ``execute`` returns (XCom) once :meth:`poke` was true."""
        raise NotImplementedError

    def build_trigger(self, deadline: str) -> BaseTrigger:
        """The trigger to defer to after a false :meth:`poke` (``deadline``: ISO, UTC)."""
        raise NotImplementedError

    def poke_timeout_text(self) -> str:
        """Timeout message in poke/reschedule mode, from what the last poke measured."""
        raise NotImplementedError

    def event_result(self, event: dict[str, Any]) -> Any:
        """What ``execute_complete`` returns for a ``success`` trigger event."""
        raise NotImplementedError

    def event_timeout_text(self, event: dict[str, Any]) -> str:
        """Timeout message for a ``timeout`` trigger event."""
        raise NotImplementedError

    def event_error_text(self, event: dict[str, Any], message: str) -> str:
        """Error message for an ``error`` (or unexpected) trigger event."""
        raise NotImplementedError

    def deferral_timeout_text(self, context: Context) -> str:
        """Timeout message when the triggerer timed the deferral out (no counts known)."""
        raise NotImplementedError

    # -- sensor API -----------------------------------------------------------------------------

    def skip_text(self, text: str) -> str:
        flag = "soft_fail" if self.soft_fail else "never_fail"
        return f"{text}; skipped because {flag}=True"

    @timed
    def execute(self, context: Context) -> Any:
        from modelguard.operators.common import is_backfill

        if is_backfill(context.get("dag_run")):
            return self._execute_once(context)
        if self.deferrable:
            return self._execute_deferrable(context)
        try:
            super().execute(context)
        except AirflowSensorTimeout as exc:
            raise AirflowSensorTimeout(self.poke_timeout_text()) from exc
        except AirflowSkipException as exc:
            # soft_fail/never_fail: BaseSensorOperator.execute turns a timeout into a bare skip
            # ("Sensor has timed out; ...") or one caused by AirflowSensorTimeout. Our pokes never
            # skip themselves, so any other cause (e.g. never_fail on an error) passes unchanged.
            if exc.__cause__ is not None and not isinstance(exc.__cause__, AirflowSensorTimeout):
                raise
            raise AirflowSkipException(self.skip_text(self.poke_timeout_text())) from exc
        return self.poke_result()

    def _execute_once(self, context: Context) -> Any:
        """A backfill looks once: the rows and outcomes of a past interval are all it will get,
        and waiting hours per run for them would stall a backfill of months."""
        if self.poke(context):
            return self.poke_result()
        text = f"{self.poke_timeout_text()} (a backfill run looks once and does not wait)"
        if self.soft_fail or self.never_fail:
            raise AirflowSkipException(self.skip_text(text))
        raise AirflowSensorTimeout(text)

    def _execute_deferrable(self, context: Context) -> Any:
        from airflow.sdk import timezone

        if self.poke(context):
            return self.poke_result()
        deadline = timezone.utcnow() + timedelta(seconds=self.timeout)
        self.defer(
            trigger=self.build_trigger(deadline.isoformat()),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFER_TIMEOUT_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the result, or raise with what was measured."""
        event = event or {}
        status = event.get("status")
        if status == "success":
            return self.event_result(event)
        if status == "timeout":
            text = self.event_timeout_text(event)
            if self.soft_fail or self.never_fail:
                raise AirflowSkipException(self.skip_text(text))
            raise AirflowSensorTimeout(text)
        message = event.get("message", f"unexpected trigger event {event!r}")
        text = self.event_error_text(event, message)
        error_class = NON_TRANSIENT_ERRORS.get(event.get("error_type", ""))
        if error_class is not None:
            raise error_class(text)
        raise AirflowException(text)

    @timed
    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context
    ) -> Any:
        from airflow.sdk.exceptions import TaskDeferralTimeout

        # BaseSensorOperator.resume_execution turns the triggerer's own deferral timeout
        # (TaskDeferralTimeout) into a bare AirflowSensorTimeout, and with soft_fail/never_fail
        # any AirflowException (our skip or timeout included) into a generic "Skipping due to
        # soft_fail is set to True.": put our message back.
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except AirflowSkipException as exc:
            cause = exc.__cause__
            if isinstance(cause, AirflowSkipException):  # from execute_complete: keep its reason
                raise AirflowSkipException(*cause.args) from cause
            if not isinstance(cause, AirflowSensorTimeout):
                raise
            if isinstance(cause.__cause__, TaskDeferralTimeout):
                text = self._safe_deferral_timeout_text(context)
            else:
                text = str(cause)
            raise AirflowSkipException(self.skip_text(text)) from cause
        except AirflowSensorTimeout as exc:
            if not isinstance(exc.__cause__, TaskDeferralTimeout):
                raise
            raise AirflowSensorTimeout(self._safe_deferral_timeout_text(context)) from exc

    def _safe_deferral_timeout_text(self, context: Context) -> str:
        try:
            return self.deferral_timeout_text(context)
        except Exception:
            self.log.exception("could not describe the deferral timeout")
            return f"{type(self).__name__} timed out after {self.timeout:g}s (deferral timeout)"
