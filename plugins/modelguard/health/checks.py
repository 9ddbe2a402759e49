"""The health checks of one monitoring run: measured facts in, typed verdicts out (pure).

The pipeline (:mod:`modelguard.pipelines.health_check`) measures the facts through storage; the
rules here decide. Every check has a fixed name and severity (:data:`SEVERITY`): what makes the
run's monitoring unusable is ``critical`` (no source, a stale source, a schema the champion
cannot read, a champion artifact that cannot be trusted, no registry), what only looks unusual
is ``warning`` (the row count, missing earlier runs). A check that could not be made because
what it needs is unreachable is *not ok* and says so: the pipeline cannot vouch for it.

The row count: the rows of the run's interval against the same interval shifted back by whole
seasons (a day, or a week so that weekends are compared with weekends), over
``row_count_history_days``. Earlier intervals without rows are no history points (the source
had not started, or was down): they neither lower the usual count nor count as evidence. The
usual count is the median of the points; the count is unhealthy when it is below
``low_ratio`` times that, or above ``high_ratio`` times it, *and* further from it than three
standard deviations of a Poisson count (``3·sqrt(usual)``), so a quiet night hour with 5 rows
instead of 8 is not an alarm. Fewer than ``min_points`` points: ok, and the message says the
count was not judged.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelguard.config import SEASON_DAYS
from modelguard.core.window import Window, to_naive_utc
from modelguard.exceptions import MalformedResultError

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

SOURCE_REACHABLE = "source_reachable"
SOURCE_FRESH = "source_fresh"
ROW_COUNT = "row_count"
SCHEMA = "schema"
CHAMPION_ARTIFACT = "champion_artifact"
REGISTRY = "registry"
RECENT_RUNS = "recent_runs"
SOURCE_TIMES_PARSEABLE = "source_times_parseable"
CHECK_NAMES = (
    SOURCE_REACHABLE,
    SOURCE_FRESH,
    ROW_COUNT,
    SCHEMA,
    CHAMPION_ARTIFACT,
    REGISTRY,
    RECENT_RUNS,
    SOURCE_TIMES_PARSEABLE,
)
SEVERITY = {
    SOURCE_REACHABLE: CRITICAL,
    SOURCE_FRESH: CRITICAL,
    ROW_COUNT: WARNING,
    SCHEMA: CRITICAL,
    CHAMPION_ARTIFACT: CRITICAL,
    REGISTRY: CRITICAL,
    RECENT_RUNS: WARNING,
    SOURCE_TIMES_PARSEABLE: WARNING,
}
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"

# Column kinds as storage.source.column_kinds reports them, and what each feature type accepts:
# what drift detection can read (a categorical float or boolean, a numeric decimal or text
# column is refused there).
NUMERIC_KINDS = ("integer", "float")
CATEGORICAL_KINDS = ("text", "integer")
UNKNOWN_KIND = "unknown"
POISSON_SIGMAS = 3.0


@dataclass(frozen=True)
class HealthCheck:
    """One verdict: ``value`` is the measured fact (small JSON), ``None`` when not measured."""

    name: str
    ok: bool
    severity: str
    message: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.name not in CHECK_NAMES:
            raise MalformedResultError(
                f"unknown health check {self.name!r}; allowed: {', '.join(CHECK_NAMES)}"
            )
        if self.severity not in SEVERITIES:
            raise MalformedResultError(
                f"health check {self.name}: severity {self.severity!r} is not one of "
                f"{', '.join(SEVERITIES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": bool(self.ok),
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: Any) -> HealthCheck:
        if not isinstance(data, Mapping) or not {"name", "ok", "severity", "message"} <= set(data):
            raise MalformedResultError(
                f"a health check needs name, ok, severity and message, got {data!r}"
            )
        return cls(
            name=str(data["name"]),
            ok=bool(data["ok"]),
            severity=str(data["severity"]),
            message=str(data["message"]),
            value=data.get("value"),
        )


@dataclass(frozen=True)
class HealthReport:
    """The health of one monitoring run: one record per (DAG, interval)."""

    dag_id: str
    model_name: str
    interval_start: datetime
    interval_end: datetime
    checks: tuple[HealthCheck, ...]
    model_version_id: int | None = None
    run_id: str | None = None
    created_at: datetime | None = None  # wall clock of the check (metadata, not data time)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval_start", to_naive_utc(self.interval_start))
        object.__setattr__(self, "interval_end", to_naive_utc(self.interval_end))
        object.__setattr__(self, "checks", tuple(self.checks))
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise MalformedResultError(f"a health report lists a check twice: {names}")

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def status(self) -> str:
        return HEALTHY if self.healthy else UNHEALTHY

    @property
    def failed(self) -> list[HealthCheck]:
        return [c for c in self.checks if not c.ok]

    def check(self, name: str) -> HealthCheck:
        for c in self.checks:
            if c.name == name:
                return c
        raise MalformedResultError(f"the health report has no check {name!r}")

    @property
    def summary(self) -> str:
        if self.healthy:
            return f"healthy: {len(self.checks)} checks ok"
        return "unhealthy: " + "; ".join(
            f"{c.name} ({c.severity}): {c.message}" for c in self.failed
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: what a spool file holds."""
        return {
            "dag_id": self.dag_id,
            "model_name": self.model_name,
            "interval_start": self.interval_start.isoformat(),
            "interval_end": self.interval_end.isoformat(),
            "status": self.status,
            "checks": [c.to_dict() for c in self.checks],
            "model_version_id": self.model_version_id,
            "run_id": self.run_id,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> HealthReport:
        try:
            created = data.get("created_at")
            return cls(
                dag_id=str(data["dag_id"]),
                model_name=str(data["model_name"]),
                interval_start=datetime.fromisoformat(data["interval_start"]),
                interval_end=datetime.fromisoformat(data["interval_end"]),
                checks=tuple(HealthCheck.from_dict(c) for c in data["checks"]),
                model_version_id=data.get("model_version_id"),
                run_id=data.get("run_id"),
                created_at=None if created is None else datetime.fromisoformat(created),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedResultError(f"not a health report ({exc!r}): {data!r:.300}") from exc

    def to_xcom(self, *, stored: bool, **extra: Any) -> dict[str, Any]:
        """The contract's XCom of ``check_health`` (the alert task reads it), plus ``extra``."""
        return {
            "status": self.status,
            "healthy": self.healthy,
            "interval_start": self.interval_start.isoformat(),
            "interval_end": self.interval_end.isoformat(),
            "checks": [c.to_dict() for c in self.checks],
            "stored": bool(stored),
            "dag_id": self.dag_id,
            "model_name": self.model_name,
            "model_version_id": self.model_version_id,
            **extra,
        }


def _check(name: str, ok: bool, message: str, value: Any = None) -> HealthCheck:
    return HealthCheck(name=name, ok=ok, severity=SEVERITY[name], message=message, value=value)


def not_checked(name: str, why: str) -> HealthCheck:
    """A check that could not be made: not ok, saying why."""
    return _check(name, False, f"not checked: {why}")


# ------------------------------------------------------------------ rules


def source_reachable(error: str | None, *, table: str) -> HealthCheck:
    if error:
        return _check(SOURCE_REACHABLE, False, error)
    return _check(SOURCE_REACHABLE, True, f"the source answers and holds table {table!r}")


def registry_reachable(error: str | None) -> HealthCheck:
    if error:
        return _check(REGISTRY, False, error)
    return _check(REGISTRY, True, "the registry and result store answer")


def source_fresh(
    newest: datetime | None,
    interval_end: datetime,
    *,
    max_staleness_hours: float,
    looked_back_days: float,
    time_column: str,
) -> HealthCheck:
    """The newest row before the interval end is at most ``max_staleness_hours`` older than the
    end (data time: a backfill of last month judges last month's source)."""
    end = to_naive_utc(interval_end)
    if newest is None:
        return _check(
            SOURCE_FRESH,
            False,
            f"no row with {time_column} in the {looked_back_days:g} days before the interval end "
            f"{end.isoformat()}: the source is stale (allowed: a row at most "
            f"{max_staleness_hours:g} h before it)",
            {"newest": None, "age_hours": None, "max_staleness_hours": max_staleness_hours},
        )
    age = (end - to_naive_utc(newest)).total_seconds() / 3600
    value = {
        "newest": to_naive_utc(newest).isoformat(),
        "age_hours": round(age, 3),
        "max_staleness_hours": max_staleness_hours,
    }
    if age > max_staleness_hours:
        return _check(
            SOURCE_FRESH,
            False,
            f"the newest row ({time_column} {to_naive_utc(newest).isoformat()}) is {age:.1f} h "
            f"older than the interval end {end.isoformat()}; allowed at most "
            f"{max_staleness_hours:g} h (monitoring.health.max_staleness_hours)",
            value,
        )
    return _check(
        SOURCE_FRESH,
        True,
        f"the newest row is {age:.1f} h before the interval end (allowed {max_staleness_hours:g} h)",
        value,
    )


def seasonal_intervals(interval: Window, *, history_days: int, season: str) -> list[Window]:
    """The run's interval shifted back by 1, 2, ... seasons (a day or a week) within
    ``history_days``: the intervals whose counts make the usual count, newest first."""
    step = timedelta(days=SEASON_DAYS[season])
    n = history_days // SEASON_DAYS[season]
    return [Window(interval.start - k * step, interval.end - k * step) for k in range(1, n + 1)]


def row_count(
    count: int,
    history: Sequence[int],
    *,
    low_ratio: float,
    high_ratio: float,
    min_points: int,
    season: str,
) -> HealthCheck:
    """The interval's rows against the median of the earlier intervals with rows (module doc)."""
    points = [int(n) for n in history if n and n > 0]
    value: dict[str, Any] = {
        "count": int(count),
        "history": [int(n) for n in history],
        "points": len(points),
        "usual": None,
        "low": None,
        "high": None,
    }
    if len(points) < min_points:
        return _check(
            ROW_COUNT,
            True,
            f"{count} rows; not judged: only {len(points)} earlier interval(s) of the same "
            f"{season} hold rows (needed {min_points}, monitoring.health.row_count_min_points)",
            value,
        )
    usual = float(statistics.median(points))
    noise = POISSON_SIGMAS * math.sqrt(usual)
    low = min(low_ratio * usual, usual - noise)
    high = max(high_ratio * usual, usual + noise)
    value.update(usual=usual, low=round(low, 3), high=round(high, 3))
    where = f"the usual {usual:g} (median of {len(points)} earlier intervals of the same {season})"
    if count < low:
        return _check(
            ROW_COUNT,
            False,
            f"{count} rows in the interval, below {low:.0f} ({low_ratio:g} x {where}, less "
            f"{POISSON_SIGMAS:g} sd of noise): rows are missing from the source",
            value,
        )
    if count > high:
        return _check(
            ROW_COUNT,
            False,
            f"{count} rows in the interval, above {high:.0f} ({high_ratio:g} x {where}): rows "
            "may be duplicated",
            value,
        )
    return _check(
        ROW_COUNT, True, f"{count} rows, within [{low:.0f}, {high:.0f}] around {where}", value
    )


def schema(
    kinds: Mapping[str, str],
    features: Mapping[str, str],
    *,
    table: str,
    whose: str,
) -> HealthCheck:
    """The source table still holds every feature of ``whose`` (the champion's schema, or the
    config's when the registry cannot be read) as a column drift detection can read."""
    missing = sorted(f for f in features if f not in kinds)
    wrong = []
    unknown = []
    for name, ftype in sorted(features.items()):
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind == UNKNOWN_KIND:
            unknown.append(name)
            continue
        allowed = NUMERIC_KINDS if ftype == "numeric" else CATEGORICAL_KINDS
        if kind not in allowed:
            wrong.append(
                f"{name} is {ftype} but its column is {kind} (allowed: {', '.join(allowed)})"
            )
    value = {"missing": missing, "wrong_kind": wrong, "unknown_kind": unknown, "whose": whose}
    if missing or wrong:
        problems = []
        if missing:
            problems.append(f"column(s) {', '.join(missing)} missing from table {table!r}")
        problems.extend(wrong)
        return _check(
            SCHEMA,
            False,
            f"the source no longer holds {whose} features: " + "; ".join(problems),
            value,
        )
    note = f" (kind of {', '.join(unknown)} not declared; not checked)" if unknown else ""
    return _check(
        SCHEMA, True, f"table {table!r} holds the {len(features)} features of {whose}{note}", value
    )


def champion_artifact(problem: str | None, *, label: str, uri: str) -> HealthCheck:
    value = {"champion": label, "uri": uri}
    if problem:
        return _check(CHAMPION_ARTIFACT, False, problem, value)
    return _check(
        CHAMPION_ARTIFACT, True, f"the artifact of {label} is present and its sha256 matches", value
    )


def previous_interval_ends(end: datetime, interval_seconds: int, count: int) -> list[datetime]:
    """The ends of the ``count`` intervals of the DAG before the one ending at ``end``."""
    step = timedelta(seconds=interval_seconds)
    end = to_naive_utc(end)
    return [end - k * step for k in range(1, count + 1)]


def recent_runs(
    expected_ends: Sequence[datetime],
    stored_ends: Iterable[datetime],
    first_stored_end: datetime | None,
    *,
    dag_id: str,
    backfill: bool = False,
) -> HealthCheck:
    """Each earlier interval of the DAG has a stored decision; intervals before the first stored
    decision do not count (the DAG was not running yet), nor does a backfill (its earlier
    intervals are its own runs, possibly still running)."""
    stored = {to_naive_utc(e) for e in stored_ends}
    if backfill:
        return _check(
            RECENT_RUNS, True, "not judged in a backfill: its earlier intervals may still run"
        )
    if not expected_ends:
        return _check(RECENT_RUNS, True, "not judged (monitoring.health.recent_runs is 0)")
    if first_stored_end is None:
        return _check(
            RECENT_RUNS,
            True,
            f"no decision of {dag_id} is stored yet: its first run",
            {"checked": 0, "missing": []},
        )
    first = to_naive_utc(first_stored_end)
    counted = [to_naive_utc(e) for e in expected_ends if to_naive_utc(e) >= first]
    missing = sorted(e for e in counted if e not in stored)
    value = {"checked": len(counted), "missing": [e.isoformat() for e in missing]}
    if missing:
        shown = ", ".join(e.isoformat() for e in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return _check(
            RECENT_RUNS,
            False,
            f"{len(missing)} of the {len(counted)} previous intervals of {dag_id} have no stored "
            f"decision (a failed or missing run): intervals ending {shown}{more}",
            value,
        )
    return _check(
        RECENT_RUNS,
        True,
        f"the {len(counted)} previous intervals of {dag_id} each have a decision",
        value,
    )


def source_times_parseable(
    count: int,
    example: str | None,
    *,
    table: str,
    column: str,
    label_count: int = 0,
    label_example: str | None = None,
    label_column: str | None = None,
) -> HealthCheck:
    """Rows whose send time (or, for a known label, label time) is no date-time: an epoch
    integer, garbage, NULL. They lie in no window (or never count as labelled), so every read
    leaves them out. Not ok when there is one; the value says how many and shows one."""
    value = {
        "count": int(count),
        "example": example,
        "column": column,
        "label_count": int(label_count),
        "label_example": label_example,
        "label_column": label_column,
    }
    if not count and not label_count:
        return _check(
            SOURCE_TIMES_PARSEABLE, True, f"every {column} of {table} is a date-time", value
        )
    found = []
    if count:
        found.append(
            f"{count} row(s) of {table} have a {column} that is no date-time (e.g. {example}): "
            "no window holds them, so drift, counts and labels leave them out"
        )
    if label_count:
        found.append(
            f"{label_count} row(s) with a known label have a {label_column} that is no "
            f"date-time (e.g. {label_example}): they never count as labelled"
        )
    return _check(
        SOURCE_TIMES_PARSEABLE,
        False,
        "; ".join(found) + "; fix the writer (ISO 8601 text or a timestamp)",
        value,
    )
