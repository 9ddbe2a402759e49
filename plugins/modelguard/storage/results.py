"""Monitoring results, stored idempotently per (dag_id, data interval) with SQLAlchemy Core.

Tables:

``mg_drift_runs``
    One row per (dag_id, interval_start, interval_end): the dataset-level drift verdict.
``mg_drift_features``
    One row per feature of such a run.
``mg_monitoring_decisions``
    One row per (dag_id, interval): what the monitoring DAG decided (retrain, cooldown, alert,
    healthy), the model version it judged, and whether a retraining was started for it.
    Decisions of one model are written under one lock and the cool-down is resolved over all
    of them in data time (:mod:`modelguard.retraining.cooldown`), so concurrent or out-of-order runs
    decide the same.

Every write *replaces* what is stored for its interval: delete, then insert, in one transaction.
A rerun or backfill of an interval therefore never duplicates rows, and a write that fails
part-way leaves the previous rows intact. The same statements work on SQLite and PostgreSQL.

Datetimes are naive UTC (tz-aware input is converted); NaN and infinite floats become NULL /
``None``. ``model_version_id`` is not a foreign key, so the store can be used without the
registry tables.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelguard.exceptions import StoreError
from modelguard.retraining.cooldown import (
    COOLDOWN,
    RETRAIN,
    Candidate,
    CooldownVerdict,
    compose_reasons,
    resolve_cooldown,
)
from modelguard.storage.db import (
    FiniteFloat,
    JSONText,
    UTCDateTime,
    add_missing_columns,
    ensure_lock,
    finite_or_none,
    lock,
    locks_table,
    metadata,
    optional_naive_utc,
    to_naive_utc,
    utcnow,
)
from modelguard.storage.ids import check_optional_version_id, check_version_id

__all__ = [
    "DriftRunRecord",
    "FeatureDriftRecord",
    "MonitoringDecision",
    "ResultStore",
    "RetrainingClaim",
    "StoreError",
    "drift_features_table",
    "drift_runs_table",
    "monitoring_decisions_table",
]

_WRITE_ATTEMPTS = 3
_T = TypeVar("_T")


def _interval_columns() -> list[sa.Column]:
    return [
        sa.Column("dag_id", sa.String(250), primary_key=True),
        sa.Column("interval_start", UTCDateTime, primary_key=True),
        sa.Column("interval_end", UTCDateTime, primary_key=True),
    ]


drift_runs_table = sa.Table(
    "mg_drift_runs",
    metadata,
    *_interval_columns(),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("verdict", sa.String(50), nullable=False),
    sa.Column("dataset_drift", sa.Boolean, nullable=False),
    sa.Column("n_reference", sa.Integer, nullable=False),
    sa.Column("n_current", sa.Integer, nullable=False),
    sa.Column("report_uri", sa.Text, nullable=True),
    sa.Column("html_uri", sa.Text, nullable=True),
    sa.Column("summary", JSONText, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

drift_features_table = sa.Table(
    "mg_drift_features",
    metadata,
    *_interval_columns(),
    sa.Column("feature", sa.String(250), primary_key=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("feature_type", sa.String(20), nullable=False),
    sa.Column("psi", FiniteFloat, nullable=True),
    sa.Column("ks_statistic", FiniteFloat, nullable=True),
    sa.Column("ks_pvalue", FiniteFloat, nullable=True),
    sa.Column("chi2_statistic", FiniteFloat, nullable=True),
    sa.Column("chi2_pvalue", FiniteFloat, nullable=True),
    sa.Column("pvalue_adjusted", FiniteFloat, nullable=True),
    sa.Column("effect_size", FiniteFloat, nullable=True),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("missing_share_reference", FiniteFloat, nullable=True),
    sa.Column("missing_share_current", FiniteFloat, nullable=True),
    sa.Column("new_categories", JSONText, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

monitoring_decisions_table = sa.Table(
    "mg_monitoring_decisions",
    metadata,
    *_interval_columns(),
    sa.Column("decision", sa.String(50), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("details", JSONText, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    # Added after the first release (nullable, so stores created earlier gain them in place).
    sa.Column("model_name", sa.String(200), nullable=True, index=True),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("retrain_candidate", sa.Boolean, nullable=True),
    sa.Column("retraining_started_at", UTCDateTime, nullable=True),
    sa.Column("retraining_run_id", sa.String(250), nullable=True),
)

# Label-dependent checks of one interval (performance, concept drift), one row per check and
# model version, so a rerun replaces and two champions' numbers on one interval coexist.
monitoring_checks_table = sa.Table(
    "mg_monitoring_checks",
    metadata,
    *_interval_columns(),
    sa.Column("check_name", sa.String(50), primary_key=True),
    sa.Column("model_version_id", sa.Integer, primary_key=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(50), nullable=False),
    sa.Column("result", JSONText, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

_TABLES = [
    drift_runs_table,
    drift_features_table,
    monitoring_decisions_table,
    monitoring_checks_table,
    locks_table,
]

_FLOAT_FIELDS = (
    "psi",
    "ks_statistic",
    "ks_pvalue",
    "chi2_statistic",
    "chi2_pvalue",
    "pvalue_adjusted",
    "effect_size",
    "missing_share_reference",
    "missing_share_current",
)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _require_text(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, str) or not value:
            raise StoreError(
                f"{type(obj).__name__}.{name} must be a non-empty string, got {value!r}"
            )


def _normalise_interval(obj: Any) -> None:
    _set(obj, "interval_start", to_naive_utc(obj.interval_start))
    _set(obj, "interval_end", to_naive_utc(obj.interval_end))
    _set(obj, "created_at", optional_naive_utc(obj.created_at))


@dataclass(frozen=True)
class DriftRunRecord:
    """One row of ``mg_drift_runs``.

    Datetimes are normalised to naive UTC on construction. ``created_at=None`` means "now" when
    saved; records read back always carry it.
    """

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    model_name: str
    model_version_id: int | None
    run_id: str | None
    verdict: str
    dataset_drift: bool
    n_reference: int
    n_current: int
    report_uri: str | None = None
    html_uri: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_text(self, "dag_id", "model_name", "verdict")
        _normalise_interval(self)
        _set(self, "summary", {} if self.summary is None else self.summary)
        _set(self, "dataset_drift", bool(self.dataset_drift))
        _set(self, "n_reference", int(self.n_reference))
        _set(self, "n_current", int(self.n_current))
        _set(self, "model_version_id", check_optional_version_id(self.model_version_id))


@dataclass(frozen=True)
class FeatureDriftRecord:
    """One row of ``mg_drift_features``.

    Datetimes are normalised to naive UTC and float fields to ``float`` or ``None`` (NaN and
    infinities become ``None``) on construction.
    """

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    feature: str
    model_name: str
    model_version_id: int | None
    run_id: str | None
    feature_type: str
    psi: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    chi2_statistic: float | None = None
    chi2_pvalue: float | None = None
    pvalue_adjusted: float | None = None
    effect_size: float | None = None
    severity: str = "none"
    drifted: bool = False
    reason: str | None = None
    missing_share_reference: float | None = None
    missing_share_current: float | None = None
    new_categories: list[Any] = field(default_factory=list)
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_text(self, "dag_id", "feature", "model_name", "feature_type", "severity")
        _normalise_interval(self)
        for name in _FLOAT_FIELDS:
            _set(self, name, finite_or_none(getattr(self, name)))
        _set(self, "drifted", bool(self.drifted))
        _set(self, "new_categories", list(self.new_categories or []))
        _set(self, "model_version_id", check_optional_version_id(self.model_version_id))


@dataclass(frozen=True)
class MonitoringDecision:
    """One row of ``mg_monitoring_decisions``.

    ``retrain_candidate``: the checks fired a trigger and only the cool-down could block it
    (then ``decision`` is ``retrain`` or ``cooldown``, settled by the store).
    """

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    decision: str
    reason: str | None
    details: dict[str, Any]
    run_id: str | None
    decided_at: datetime
    model_name: str | None = None
    model_version_id: int | None = None
    retrain_candidate: bool | None = None
    retraining_started_at: datetime | None = None
    retraining_run_id: str | None = None

    def __post_init__(self) -> None:
        _set(self, "model_version_id", check_optional_version_id(self.model_version_id))

    @property
    def candidate(self) -> Candidate:
        return Candidate(
            self.dag_id,
            self.interval_start,
            self.interval_end,
            started=self.retraining_started_at is not None,
        )


@dataclass(frozen=True)
class RetrainingClaim:
    """Whether the trigger of an interval may start its retraining, and why."""

    granted: bool
    reason: str
    decision: MonitoringDecision | None


@dataclass(frozen=True)
class MonitoringCheck:
    """One row of ``mg_monitoring_checks``: a label-dependent check of one interval."""

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    check_name: str
    model_version_id: int
    model_name: str
    status: str
    result: dict[str, Any]
    run_id: str | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _normalise_interval(self)
        _set(self, "model_version_id", check_version_id(self.model_version_id, "model_version_id"))


def _record_values(record: Any, created_at: datetime) -> dict[str, Any]:
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    if values["created_at"] is None:
        values["created_at"] = created_at
    return values


def _from_row(cls: type[_T], row: Any) -> _T:
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})


def _settled_details(
    row: MonitoringDecision, verdict: CooldownVerdict, cooldown_hours: float
) -> dict[str, Any]:
    """The row's details with the cool-down outcome written in: reasons, blockers, retrain."""
    details = dict(row.details or {})
    decision = dict(details.get("decision") or {})
    base = decision.get("reasons") or []
    triggers = decision.get("triggers") or []
    line = verdict.reason(cooldown_hours, row.interval_end)
    decision["final_reasons"] = compose_reasons(base, triggers, verdict, line)
    blocked = [b for b in decision.get("blocked_by") or [] if b != COOLDOWN]
    if verdict.decision == COOLDOWN:
        blocked.append(COOLDOWN)
    decision["blocked_by"] = blocked
    decision["retrain"] = verdict.decision == RETRAIN
    details["decision"] = decision
    details["cooldown"] = {
        "hours": cooldown_hours,
        "decision": verdict.decision,
        "blocked_by": verdict.blocked_by.label if verdict.blocked_by else None,
        "until": verdict.until.isoformat() if verdict.until else None,
    }
    return details


def _check_interval(dag_id: str, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if not isinstance(dag_id, str) or not dag_id:
        raise StoreError(f"dag_id must be a non-empty string, got {dag_id!r}")
    start, end = to_naive_utc(start), to_naive_utc(end)
    if start > end:
        raise StoreError(
            f"data interval of {dag_id!r} ends ({end}) before it starts ({start}); "
            "pass (interval_start, interval_end)"
        )
    return start, end


def _where_interval(table: sa.Table, dag_id: str, start: datetime, end: datetime) -> Any:
    return sa.and_(
        table.c.dag_id == dag_id,
        table.c.interval_start == start,
        table.c.interval_end == end,
    )


class ResultStore:
    """Drift results and monitoring decisions, replaced as a whole per (dag_id, interval).

    The constructor does no I/O; call :meth:`ensure_schema` once (idempotent) before use.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        """Create the result-store tables if they do not exist, and add the columns a store
        created by an earlier release lacks (idempotent; stored rows are kept)."""
        metadata.create_all(self.engine, tables=_TABLES, checkfirst=True)
        add_missing_columns(self.engine, monitoring_decisions_table)

    # ------------------------------------------------------------------ writes

    def _write(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` in one transaction, retrying if a concurrent writer of the same interval
        inserted first (the primary key rejects the second insert; a retry replaces its rows)."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except IntegrityError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_decisions(self, model_name: str, work: Callable[[Connection], _T]) -> _T:
        """:meth:`_write` under the lock of the model's decisions: a check of stored decisions
        and the write it leads to are one step, whatever runs at the same time."""
        name = f"decisions:{model_name}"
        ensure_lock(self.engine, name)

        def locked(conn: Connection) -> _T:
            lock(conn, name)
            return work(conn)

        return self._write(locked)

    def save_drift_run(
        self, run: DriftRunRecord, features: Sequence[FeatureDriftRecord]
    ) -> DriftRunRecord:
        """Replace the drift run and all feature rows of ``run``'s (dag_id, interval).

        Every feature must carry the run's dag_id, interval, model_name, model_version_id and
        run_id, and feature names must be unique; otherwise :class:`StoreError` and nothing is
        written. Returns the run as stored (with ``created_at`` filled in).
        """
        start, end = _check_interval(run.dag_id, run.interval_start, run.interval_end)
        key_fields = (
            "dag_id",
            "interval_start",
            "interval_end",
            "model_name",
            "model_version_id",
            "run_id",
        )
        seen: set[str] = set()
        for feat in features:
            if not isinstance(feat, FeatureDriftRecord):
                raise StoreError(f"features must be FeatureDriftRecord, got {type(feat).__name__}")
            mismatched = [k for k in key_fields if getattr(feat, k) != getattr(run, k)]
            if mismatched:
                details = ", ".join(
                    f"{k}={getattr(feat, k)!r} (run: {getattr(run, k)!r})" for k in mismatched
                )
                raise StoreError(
                    f"feature {feat.feature!r} does not belong to the drift run of "
                    f"{run.dag_id!r} {start}..{end}: {details}"
                )
            if feat.feature in seen:
                raise StoreError(
                    f"feature {feat.feature!r} appears twice in the drift run of "
                    f"{run.dag_id!r} {start}..{end}"
                )
            seen.add(feat.feature)

        def work(conn: Connection) -> DriftRunRecord:
            now = utcnow()
            run_values = _record_values(run, now)
            conn.execute(
                sa.delete(drift_features_table).where(
                    _where_interval(drift_features_table, run.dag_id, start, end)
                )
            )
            conn.execute(
                sa.delete(drift_runs_table).where(
                    _where_interval(drift_runs_table, run.dag_id, start, end)
                )
            )
            conn.execute(sa.insert(drift_runs_table).values(**run_values))
            if features:
                conn.execute(
                    sa.insert(drift_features_table),
                    [_record_values(f, run_values["created_at"]) for f in features],
                )
            return DriftRunRecord(**run_values)

        return self._write(work)

    def record_decision(
        self,
        dag_id: str,
        start: datetime,
        end: datetime,
        decision: str,
        reason: str | None,
        details: Mapping[str, Any] | None,
        run_id: str | None,
    ) -> MonitoringDecision:
        """Store (or replace) the monitoring decision of ``dag_id`` for the interval."""
        start, end = _check_interval(dag_id, start, end)
        if not isinstance(decision, str) or not decision:
            raise StoreError(f"decision must be a non-empty string, got {decision!r}")
        stored = MonitoringDecision(
            dag_id=dag_id,
            interval_start=start,
            interval_end=end,
            decision=decision,
            reason=reason,
            details=dict(details or {}),
            run_id=run_id,
            decided_at=utcnow(),
        )
        t = monitoring_decisions_table

        def work(conn: Connection) -> MonitoringDecision:
            conn.execute(sa.delete(t).where(_where_interval(t, dag_id, start, end)))
            conn.execute(sa.insert(t).values(**dataclasses.asdict(stored)))
            return stored

        return self._write(work)

    def decide(self, proposal: MonitoringDecision, *, cooldown_hours: float) -> MonitoringDecision:
        """Store the decision of one interval and settle the cool-down of its model, atomically.

        ``proposal`` carries ``model_name``; for a candidate (``retrain_candidate``) its
        ``details["decision"]`` holds the checks' ``reasons`` and ``triggers``, and the store
        decides ``retrain`` or ``cooldown``. Under the model's lock: the row is replaced
        (keeping a retraining already started for it), then every candidate of the model from
        ``cooldown_hours`` before this interval on is resolved again in data time and the rows
        whose outcome changed are rewritten. Returns the row as stored.
        """
        if not proposal.model_name:
            raise StoreError("a decision needs model_name: the cool-down is per model")
        start, end = _check_interval(
            proposal.dag_id, proposal.interval_start, proposal.interval_end
        )
        t = monitoring_decisions_table

        def work(conn: Connection) -> MonitoringDecision:
            where = _where_interval(t, proposal.dag_id, start, end)
            kept = conn.execute(
                sa.select(t.c.retraining_started_at, t.c.retraining_run_id).where(where)
            ).one_or_none()
            values = dataclasses.asdict(proposal)
            values.update(interval_start=start, interval_end=end, decided_at=utcnow())
            values["retrain_candidate"] = bool(proposal.retrain_candidate)
            values["retraining_started_at"] = kept[0] if kept else None
            values["retraining_run_id"] = kept[1] if kept else None
            conn.execute(sa.delete(t).where(where))
            conn.execute(sa.insert(t).values(**values))
            self._settle_cooldown(conn, proposal.model_name, end, cooldown_hours)
            return _from_row(MonitoringDecision, conn.execute(sa.select(t).where(where)).one())

        return self._write_decisions(proposal.model_name, work)

    def _settle_cooldown(
        self, conn: Connection, model_name: str, end: datetime, cooldown_hours: float
    ) -> None:
        t = monitoring_decisions_table
        since = end - timedelta(hours=max(cooldown_hours, 0))
        mine = t.c.model_name == model_name
        before = conn.execute(
            sa.select(t)
            .where(mine, t.c.decision == RETRAIN, t.c.interval_end < since)
            .order_by(t.c.interval_end.desc(), t.c.interval_start.desc(), t.c.dag_id.desc())
            .limit(1)
        ).one_or_none()
        rows = [
            _from_row(MonitoringDecision, r)
            for r in conn.execute(
                sa.select(t).where(mine, t.c.retrain_candidate.is_(True), t.c.interval_end >= since)
            ).all()
        ]
        last = _from_row(MonitoringDecision, before).candidate if before is not None else None
        verdicts = resolve_cooldown(
            [r.candidate for r in rows], cooldown_hours, last_retraining=last
        )
        for row in rows:
            verdict = verdicts[row.candidate.key]
            details = _settled_details(row, verdict, cooldown_hours)
            reasons = details["decision"]["final_reasons"]
            reason = "; ".join(reasons)
            if row.decision == verdict.decision and row.reason == reason:
                continue
            conn.execute(
                sa.update(t)
                .where(_where_interval(t, row.dag_id, row.interval_start, row.interval_end))
                .values(decision=verdict.decision, reason=reason, details=details)
            )

    def claim_retraining(
        self,
        model_name: str,
        dag_id: str,
        start: datetime,
        end: datetime,
        *,
        trigger_run_id: str,
        cooldown_hours: float,
        note: Mapping[str, Any] | None = None,
    ) -> RetrainingClaim:
        """May the interval start its retraining now? Granted once per episode, atomically.

        Refused when the interval's stored decision is no longer ``retrain`` (a run of an
        earlier interval of the same episode has since decided) or when another interval of the
        model within ``cooldown_hours`` already started one. Granted again, unchanged, to the
        interval that holds it (a retry of the trigger). ``note`` is kept in the decision's
        details under ``trigger`` (e.g. that the retraining DAG is paused).
        """
        start, end = _check_interval(dag_id, start, end)
        t = monitoring_decisions_table
        window = timedelta(hours=max(cooldown_hours, 0))

        def work(conn: Connection) -> RetrainingClaim:
            where = _where_interval(t, dag_id, start, end)
            row = conn.execute(sa.select(t).where(where)).one_or_none()
            if row is None:
                return RetrainingClaim(False, "no decision is stored for this interval", None)
            mine = _from_row(MonitoringDecision, row)
            if mine.decision != RETRAIN:
                return RetrainingClaim(
                    False, f"the decision is now {mine.decision!r}: {mine.reason}", mine
                )
            if mine.retraining_started_at is None:
                other = conn.execute(
                    sa.select(t)
                    .where(
                        t.c.model_name == model_name,
                        t.c.retraining_started_at.is_not(None),
                        t.c.interval_end > end - window,
                        t.c.interval_end < end + window,
                        sa.not_(where),
                    )
                    .order_by(t.c.interval_end)
                    .limit(1)
                ).one_or_none()
                if other is not None:
                    theirs = _from_row(MonitoringDecision, other)
                    return RetrainingClaim(
                        False,
                        f"a retraining of this episode was already started by "
                        f"{theirs.candidate.label} ({theirs.retraining_run_id})",
                        mine,
                    )
                details = {**mine.details, "trigger": dict(note or {})}
                conn.execute(
                    sa.update(t)
                    .where(where)
                    .values(
                        retraining_started_at=utcnow(),
                        retraining_run_id=trigger_run_id,
                        details=details,
                    )
                )
                mine = _from_row(MonitoringDecision, conn.execute(sa.select(t).where(where)).one())
                return RetrainingClaim(True, "first retraining of its episode", mine)
            return RetrainingClaim(
                True, f"already started as {mine.retraining_run_id} (a retry)", mine
            )

        return self._write_decisions(model_name, work)

    def save_check(self, check: MonitoringCheck) -> MonitoringCheck:
        """Store (or replace) one check of one interval and model version."""
        start, end = _check_interval(check.dag_id, check.interval_start, check.interval_end)
        t = monitoring_checks_table
        values = _record_values(check, utcnow())
        where = sa.and_(
            _where_interval(t, check.dag_id, start, end),
            t.c.check_name == check.check_name,
            t.c.model_version_id == check.model_version_id,
        )

        def work(conn: Connection) -> MonitoringCheck:
            conn.execute(sa.delete(t).where(where))
            conn.execute(sa.insert(t).values(**values))
            return MonitoringCheck(**values)

        return self._write(work)

    # ------------------------------------------------------------------ reads

    def checks(
        self, dag_id: str, start: datetime, end: datetime, check_name: str | None = None
    ) -> list[MonitoringCheck]:
        """The checks stored for the interval (optionally one kind), by check and version."""
        start, end = to_naive_utc(start), to_naive_utc(end)
        t = monitoring_checks_table
        query = sa.select(t).where(_where_interval(t, dag_id, start, end))
        if check_name is not None:
            query = query.where(t.c.check_name == check_name)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.check_name, t.c.model_version_id)).all()
        return [_from_row(MonitoringCheck, r) for r in rows]

    def get_drift_run(self, dag_id: str, start: datetime, end: datetime) -> DriftRunRecord | None:
        """The drift run stored for the interval, or ``None``."""
        start, end = to_naive_utc(start), to_naive_utc(end)
        t = drift_runs_table
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t).where(_where_interval(t, dag_id, start, end))
            ).one_or_none()
        return None if row is None else _from_row(DriftRunRecord, row)

    def drift_features(
        self, dag_id: str, start: datetime, end: datetime
    ) -> list[FeatureDriftRecord]:
        """The feature rows stored for the interval, ordered by feature name."""
        start, end = to_naive_utc(start), to_naive_utc(end)
        t = drift_features_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(_where_interval(t, dag_id, start, end)).order_by(t.c.feature)
            ).all()
        return [_from_row(FeatureDriftRecord, r) for r in rows]

    def get_decision(
        self, dag_id: str, start: datetime, end: datetime
    ) -> MonitoringDecision | None:
        """The decision stored for the interval, or ``None``."""
        start, end = to_naive_utc(start), to_naive_utc(end)
        t = monitoring_decisions_table
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t).where(_where_interval(t, dag_id, start, end))
            ).one_or_none()
        if row is None:
            return None
        decision = _from_row(MonitoringDecision, row)
        return dataclasses.replace(decision, details=decision.details or {})

    def drift_history(self, dag_id: str, since: datetime | None = None) -> list[DriftRunRecord]:
        """Drift runs of ``dag_id`` ordered by interval; only intervals starting at or after
        ``since`` when given."""
        t = drift_runs_table
        query = sa.select(t).where(t.c.dag_id == dag_id)
        if since is not None:
            query = query.where(t.c.interval_start >= to_naive_utc(since))
        query = query.order_by(t.c.interval_start, t.c.interval_end)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_from_row(DriftRunRecord, r) for r in rows]

    def decisions(
        self, model_name: str, *, decision: str | None = None, limit: int | None = None
    ) -> list[MonitoringDecision]:
        """Decisions of ``model_name`` over every DAG, newest interval first (only those of one
        kind, e.g. ``retrain``, when ``decision`` is given; at most ``limit``)."""
        t = monitoring_decisions_table
        query = sa.select(t).where(t.c.model_name == model_name)
        if decision is not None:
            query = query.where(t.c.decision == decision)
        query = query.order_by(t.c.interval_end.desc(), t.c.interval_start.desc(), t.c.dag_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_from_row(MonitoringDecision, r) for r in rows]
