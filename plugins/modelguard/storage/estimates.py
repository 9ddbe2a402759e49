"""Estimated performance and its realised value, stored with SQLAlchemy Core.

Tables:

``mg_estimation_calibrations``
    One row per model version: the calibration of its scores (method, the labelled scores it
    was fitted on, where they came from). Written once, at registration (the version's
    holdout) or lazily by the first estimate of a version registered before this feature;
    a rewrite replaces it.
``mg_performance_estimates``
    One row per (dag_id, interval, model version): the estimate of the primary metric with its
    interval, every metric's estimate (JSON), the drop against the champion's baseline, and,
    once the window's labels have matured, the realised metrics beside it: the realised
    primary metric, the estimate's error (realised - estimate) and whether the realised value
    lay inside the interval.

An estimate's write replaces the estimate's columns of its row and keeps a realised value
already filled in (it depends only on the window and the version, not on the run); the
realised columns are written by :meth:`EstimateStore.save_realised` only. Same statements on
SQLite and PostgreSQL; datetimes naive UTC; NaN and infinities stored as NULL.

No Airflow imports here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelguard.exceptions import StoreError
from modelguard.storage.db import (
    FiniteFloat,
    JSONText,
    UTCDateTime,
    finite_or_none,
    metadata,
    optional_naive_utc,
    to_naive_utc,
    utcnow,
)

__all__ = [
    "CalibrationRecord",
    "EstimateRecord",
    "EstimateStore",
    "calibrations_table",
    "estimates_table",
]

_WRITE_ATTEMPTS = 3
_T = TypeVar("_T")

calibrations_table = sa.Table(
    "mg_estimation_calibrations",
    metadata,
    sa.Column("model_version_id", sa.Integer, primary_key=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("method", sa.String(20), nullable=False),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("n_positive", sa.Integer, nullable=False),
    sa.Column("calibration", JSONText, nullable=False),  # Calibration.to_dict()
    sa.Column("created_at", UTCDateTime, nullable=False),
)

estimates_table = sa.Table(
    "mg_performance_estimates",
    metadata,
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("interval_start", UTCDateTime, primary_key=True),
    sa.Column("interval_end", UTCDateTime, primary_key=True),
    sa.Column("model_version_id", sa.Integer, primary_key=True),
    sa.Column("model_name", sa.String(200), nullable=False, index=True),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("metric", sa.String(20), nullable=False),
    sa.Column("estimate", FiniteFloat, nullable=True),
    sa.Column("lower", FiniteFloat, nullable=True),
    sa.Column("upper", FiniteFloat, nullable=True),
    sa.Column("baseline", FiniteFloat, nullable=True),
    sa.Column("relative_drop", FiniteFloat, nullable=True),
    sa.Column("degraded", sa.Boolean, nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("details", JSONText, nullable=False),  # PerformanceEstimate.to_dict() or {}
    sa.Column("created_at", UTCDateTime, nullable=False),
    # filled in when the window's labels have matured
    sa.Column("realised_status", sa.String(20), nullable=True),
    sa.Column("realised", FiniteFloat, nullable=True),
    sa.Column("error", FiniteFloat, nullable=True),
    sa.Column("inside", sa.Boolean, nullable=True),
    sa.Column("n_labelled", sa.Integer, nullable=True),
    sa.Column("realised_metrics", JSONText, nullable=True),
    sa.Column("realised_as_of", UTCDateTime, nullable=True),
    sa.Column("realised_run_id", sa.String(250), nullable=True),
)

_TABLES = [calibrations_table, estimates_table]
_FLOATS = ("estimate", "lower", "upper", "baseline", "relative_drop", "realised", "error")
_REALISED = (
    "realised_status",
    "realised",
    "error",
    "inside",
    "n_labelled",
    "realised_metrics",
    "realised_as_of",
    "realised_run_id",
)


@dataclass(frozen=True)
class CalibrationRecord:
    """One row of ``mg_estimation_calibrations``."""

    model_version_id: int
    model_name: str
    method: str
    source: str
    n_rows: int
    n_positive: int
    calibration: dict[str, Any]
    created_at: datetime | None = None


@dataclass(frozen=True)
class EstimateRecord:
    """One row of ``mg_performance_estimates`` (see the module docstring)."""

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    model_version_id: int
    model_name: str
    run_id: str | None
    status: str
    reason: str | None
    metric: str
    estimate: float | None
    lower: float | None
    upper: float | None
    baseline: float | None
    relative_drop: float | None
    degraded: bool
    n_rows: int
    details: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    realised_status: str | None = None
    realised: float | None = None
    error: float | None = None
    inside: bool | None = None
    n_labelled: int | None = None
    realised_metrics: dict[str, Any] | None = None
    realised_as_of: datetime | None = None
    realised_run_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("dag_id", "model_name", "status", "metric"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise StoreError(f"EstimateRecord.{name} must be a non-empty string, got {value!r}")
        if isinstance(self.model_version_id, bool) or not isinstance(self.model_version_id, int):
            raise StoreError(
                f"EstimateRecord.model_version_id must be an integer, got {self.model_version_id!r}"
            )
        start, end = to_naive_utc(self.interval_start), to_naive_utc(self.interval_end)
        if start > end:
            raise StoreError(
                f"estimate interval of {self.dag_id!r} ends ({end}) before it starts ({start})"
            )
        object.__setattr__(self, "interval_start", start)
        object.__setattr__(self, "interval_end", end)
        for name in ("created_at", "realised_as_of"):
            object.__setattr__(self, name, optional_naive_utc(getattr(self, name)))
        for name in _FLOATS:
            object.__setattr__(self, name, finite_or_none(getattr(self, name)))
        object.__setattr__(self, "degraded", bool(self.degraded))
        object.__setattr__(self, "details", dict(self.details or {}))

    @property
    def matured(self) -> bool:
        return self.realised_status is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (ISO times), for the report and the page."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _from_row(cls, row: Any):
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})


def _where_key(t: sa.Table, dag_id: str, start: datetime, end: datetime, version_id: int):
    return sa.and_(
        t.c.dag_id == dag_id,
        t.c.interval_start == to_naive_utc(start),
        t.c.interval_end == to_naive_utc(end),
        t.c.model_version_id == version_id,
    )


class EstimateStore:
    """Calibrations per model version and estimates per (dag_id, interval, model version).

    The constructor does no I/O; call :meth:`ensure_schema` once (idempotent) before use.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        metadata.create_all(self.engine, tables=_TABLES, checkfirst=True)

    def _write(self, work: Callable[[Connection], _T]) -> _T:
        """One transaction; retried when a concurrent writer inserted the same key first."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except IntegrityError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ calibrations

    def save_calibration(self, record: CalibrationRecord) -> CalibrationRecord:
        """Store (or replace) the calibration of one model version."""
        t = calibrations_table
        values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        values["created_at"] = optional_naive_utc(values["created_at"]) or utcnow()

        def work(conn: Connection) -> CalibrationRecord:
            conn.execute(sa.delete(t).where(t.c.model_version_id == record.model_version_id))
            conn.execute(sa.insert(t).values(**values))
            return CalibrationRecord(**values)

        return self._write(work)

    def calibration(self, model_version_id: int) -> CalibrationRecord | None:
        t = calibrations_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.model_version_id == model_version_id)).first()
        return None if row is None else _from_row(CalibrationRecord, row)

    # ------------------------------------------------------------------ estimates

    def save_estimate(self, record: EstimateRecord) -> EstimateRecord:
        """Store the estimate of one (dag_id, interval, model version): a rerun replaces the
        estimate's columns and keeps a realised value already filled in. Returns the row."""
        t = estimates_table
        key = _where_key(
            t, record.dag_id, record.interval_start, record.interval_end, record.model_version_id
        )
        values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        values["created_at"] = values["created_at"] or utcnow()
        estimate_values = {k: v for k, v in values.items() if k not in _REALISED}

        def work(conn: Connection) -> EstimateRecord:
            row = conn.execute(sa.select(t).where(key)).first()
            if row is None:
                conn.execute(sa.insert(t).values(**values))
            else:
                conn.execute(sa.update(t).where(key).values(**estimate_values))
            return _from_row(EstimateRecord, conn.execute(sa.select(t).where(key)).one())

        return self._write(work)

    def save_realised(
        self,
        record: EstimateRecord,
        *,
        status: str,
        realised: float | None,
        n_labelled: int,
        metrics: dict[str, Any] | None,
        as_of: datetime,
        run_id: str | None,
        reason: str | None = None,
    ) -> EstimateRecord:
        """Write the realised value beside a stored estimate: ``error`` = realised - estimate,
        ``inside`` whether it lies in [lower, upper] (both None when either side is unknown).
        ``status``: "measured", or "missing" (the matured window had no usable labels; then
        ``reason`` says why and nothing is compared)."""
        t = estimates_table
        realised = finite_or_none(realised)
        error = inside = None
        if realised is not None and record.estimate is not None:
            error = realised - record.estimate
        if realised is not None and record.lower is not None and record.upper is not None:
            inside = bool(record.lower - 1e-12 <= realised <= record.upper + 1e-12)
        key = _where_key(
            t, record.dag_id, record.interval_start, record.interval_end, record.model_version_id
        )
        stored_metrics = dict(metrics or {})
        if reason:
            stored_metrics["reason"] = reason
        values = dict(
            realised_status=status,
            realised=realised,
            error=error,
            inside=inside,
            n_labelled=int(n_labelled),
            realised_metrics=stored_metrics,
            realised_as_of=to_naive_utc(as_of),
            realised_run_id=run_id,
        )

        def work(conn: Connection) -> EstimateRecord:
            if conn.execute(sa.update(t).where(key).values(**values)).rowcount != 1:
                raise StoreError(
                    f"no stored estimate of {record.dag_id!r} [{record.interval_start}, "
                    f"{record.interval_end}) for version id {record.model_version_id} to write "
                    "its realised value beside"
                )
            return _from_row(EstimateRecord, conn.execute(sa.select(t).where(key)).one())

        return self._write(work)

    # ------------------------------------------------------------------ reads

    def estimate(
        self, dag_id: str, start: datetime, end: datetime, model_version_id: int
    ) -> EstimateRecord | None:
        t = estimates_table
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t).where(_where_key(t, dag_id, start, end, model_version_id))
            ).first()
        return None if row is None else _from_row(EstimateRecord, row)

    def pending_realisation(
        self, dag_id: str, model_name: str, *, ended_by: datetime, limit: int
    ) -> list[EstimateRecord]:
        """Estimates of ``dag_id`` (status "estimated") whose window ended by ``ended_by`` and
        have no realised value yet, oldest first, at most ``limit``."""
        t = estimates_table
        query = (
            sa.select(t)
            .where(
                t.c.dag_id == dag_id,
                t.c.model_name == model_name,
                t.c.status == "estimated",
                t.c.realised_status.is_(None),
                t.c.interval_end <= to_naive_utc(ended_by),
            )
            .order_by(t.c.interval_end, t.c.interval_start, t.c.model_version_id)
            .limit(int(limit))
        )
        with self.engine.connect() as conn:
            return [_from_row(EstimateRecord, r) for r in conn.execute(query)]

    def history(
        self,
        model_name: str,
        *,
        dag_ids: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[EstimateRecord]:
        """The model's estimates, oldest first (window end), optionally of some DAGs and in
        ``[since, until]`` by window end; at most the newest ``limit``."""
        t = estimates_table
        if not sa.inspect(self.engine).has_table(t.name):
            return []
        query = sa.select(t).where(t.c.model_name == model_name)
        if dag_ids:
            query = query.where(t.c.dag_id.in_(list(dag_ids)))
        if since is not None:
            query = query.where(t.c.interval_end >= to_naive_utc(since))
        if until is not None:
            query = query.where(t.c.interval_end <= to_naive_utc(until))
        query = query.order_by(
            t.c.interval_end.desc(), t.c.interval_start.desc(), t.c.dag_id, t.c.model_version_id
        ).limit(int(limit))
        with self.engine.connect() as conn:
            rows = [_from_row(EstimateRecord, r) for r in conn.execute(query)]
        return rows[::-1]
