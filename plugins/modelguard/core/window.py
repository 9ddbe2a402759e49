"""The time window a task works on, resolved from the run's data interval (never from now()).

Pure module: no Airflow import. Every datetime that leaves this module is naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelguard.exceptions import DataValidationError, NotADatetimeError

ISO_FORMAT_HINT = (
    "an ISO 8601 date-time such as '2026-09-01T00:00:00' (naive = UTC) "
    "or '2026-09-01T02:00:00+02:00'"
)
# The years a date-time param may fall in (in UTC): far enough from year 1 and 9999 that the
# windows computed back from it (label delay, label window, history) are dates too.
PARAM_YEARS = (1900, 2999)
# The longest manual window: the longest monitoring.window_hours (366 days). A longer one is a
# typo in a year, and would read a source's whole history into one drift check.
MAX_MANUAL_WINDOW = timedelta(days=366)


def to_naive_utc(value: datetime) -> datetime:
    """Return ``value`` as a plain naive UTC :class:`datetime`.

    A tz-aware value (stdlib, pendulum, pandas ``Timestamp``) is converted to UTC; a naive value is
    taken to be UTC already. The result is always a plain ``datetime.datetime`` (not a subclass),
    so it binds identically on every driver.
    """
    if not isinstance(value, datetime):
        raise NotADatetimeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None:
        value = value.astimezone(UTC)
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _label_part(value: datetime) -> str:
    if value.second or value.microsecond:
        return value.isoformat()
    return value.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Window:
    """Half-open time window ``[start, end)`` in naive UTC."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """E.g. ``2026-09-01T00:00_2026-09-02T00:00`` (seconds appear only when non-zero)."""
        return f"{_label_part(self.start)}_{_label_part(self.end)}"

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_datetime_param(name: str, value: datetime | str) -> datetime:
    """A date-time param as naive UTC; an error names the param, the value and the format.
    Refused: what is no ISO date-time, an impossible date, and a time outside the years
    :data:`PARAM_YEARS` (in UTC)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise DataValidationError(
                f"param {name}={value!r} is not a valid date-time: expected {ISO_FORMAT_HINT}"
            ) from None
    else:
        raise DataValidationError(
            f"param {name} has type {type(value).__name__} ({value!r}): expected {ISO_FORMAT_HINT}"
        )
    try:
        utc = to_naive_utc(parsed)
    except OverflowError:  # e.g. 0001-01-01T00:30+01:00 is before year 1 in UTC
        utc = None
    if utc is None or not PARAM_YEARS[0] <= utc.year <= PARAM_YEARS[1]:
        raise DataValidationError(
            f"param {name}={value!r} is outside the years {PARAM_YEARS[0]} to {PARAM_YEARS[1]} "
            f"(UTC): expected {ISO_FORMAT_HINT}"
        )
    return utc


def resolve_window(
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    *,
    window_start: datetime | str | None = None,
    window_end: datetime | str | None = None,
    window_hours: int = 0,
) -> Window:
    """Resolve the window a task must work on.

    * ``window_start``/``window_end`` (manual-run params) override everything; both are required.
    * otherwise the data interval is used: ``[start, end)`` when ``window_hours`` is 0, or the
      trailing ``[end - window_hours, end)`` when ``window_hours`` > 0.
    """
    if not _is_blank(window_start) or not _is_blank(window_end):
        if _is_blank(window_start):
            raise DataValidationError(
                f"param window_end is set but window_start is missing: give both window_start and "
                f"window_end, each as {ISO_FORMAT_HINT}"
            )
        if _is_blank(window_end):
            raise DataValidationError(
                f"param window_start is set but window_end is missing: give both window_start and "
                f"window_end, each as {ISO_FORMAT_HINT}"
            )
        start = parse_datetime_param("window_start", window_start)  # type: ignore[arg-type]
        end = parse_datetime_param("window_end", window_end)  # type: ignore[arg-type]
        if start >= end:
            raise DataValidationError(
                f"param window_start ({start.isoformat()}) must be before window_end "
                f"({end.isoformat()}); the window is half-open [window_start, window_end)"
            )
        if end - start > MAX_MANUAL_WINDOW:
            raise DataValidationError(
                f"params window_start ({start.isoformat()}) to window_end ({end.isoformat()}) "
                f"span {end - start}; allowed at most {MAX_MANUAL_WINDOW.days} days (analyse a "
                "longer history as a backfill of the daily monitoring DAG)"
            )
        return Window(start=start, end=end)

    if isinstance(window_hours, bool) or not isinstance(window_hours, int) or window_hours < 0:
        raise DataValidationError(
            f"window_hours must be a non-negative integer (0 = use the data interval), "
            f"got {window_hours!r}"
        )

    if data_interval_start is None or data_interval_end is None:
        raise DataValidationError(
            "this run has no data interval (manual run without a logical date): "
            "give window_start and window_end params"
        )
    start = to_naive_utc(data_interval_start)
    end = to_naive_utc(data_interval_end)

    if window_hours > 0:
        return Window(start=end - timedelta(hours=window_hours), end=end)

    if start == end:
        raise DataValidationError(
            f"the run's data interval is empty ({start.isoformat()} to {end.isoformat()}), as "
            "produced by CronTriggerTimetable and other trigger timetables: schedule the DAG with "
            "CronDataIntervalTimetable (e.g. schedule=CronDataIntervalTimetable('0 0 * * *', "
            "timezone='UTC')) or set window_hours > 0 to look back from the run time"
        )
    if start > end:
        raise DataValidationError(
            f"the run's data interval is inverted: start {start.isoformat()} is after "
            f"end {end.isoformat()}"
        )
    return Window(start=start, end=end)


def split_window(window: Window, n: int) -> list[Window]:
    """``window`` cut into ``n`` consecutive half-open parts of equal length (to the
    microsecond; boundaries rounded down), in time order: together they hold exactly the
    window's rows, each row in one part. A daily window in 8 parts is 8 windows of 3 hours."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DataValidationError(f"a window is split into n >= 1 parts (an integer); got {n!r}")
    span = window.end - window.start
    if span < timedelta(microseconds=n):
        raise DataValidationError(
            f"window {window} is too short for {n} parts (each part needs at least a "
            "microsecond); lower monitoring.drift_partitions"
        )
    bounds = [window.start + span * i // n for i in range(n)] + [window.end]
    return [Window(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
