"""Health records of the monitoring runs, and the spool that keeps them when the store is down.

``mg_health_records``
    One row per (dag_id, interval_start, interval_end): the status and every check of the
    run's ``check_health`` task, the judged champion and the run id. A rerun of the interval
    replaces its row (delete, then insert, in one transaction).

The spool: when the registry (the result store) cannot be reached, the health task still ends
with its record, and :class:`HealthSpool` writes it as JSON to
``<storage.report_root>/<model>/health-spool/<dag_id>__<interval label>.json`` (one file per
interval, a rerun replaces it). The next run that reaches the store imports every spooled
record of the model (:meth:`HealthStore.import_spool`), unless a newer record of the same
interval is stored already, and removes the files.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from modelguard.core.window import Window
from modelguard.exceptions import MalformedResultError, StoreError, UnsafePathError
from modelguard.health.checks import HealthCheck, HealthReport
from modelguard.storage.artifacts import TMP_PREFIX, atomic_write_text
from modelguard.storage.db import JSONText, UTCDateTime, metadata, to_naive_utc, utcnow
from modelguard.storage.ids import check_optional_version_id
from modelguard.storage.paths import check_part, inside
from modelguard.storage.results import monitoring_decisions_table

__all__ = ["HealthSpool", "HealthStore", "SpoolWrite", "health_records_table"]

SPOOL_DIR = "health-spool"
_WRITE_ATTEMPTS = 3

health_records_table = sa.Table(
    "mg_health_records",
    metadata,
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("interval_start", UTCDateTime, primary_key=True),
    sa.Column("interval_end", UTCDateTime, primary_key=True),
    sa.Column("model_name", sa.String(200), nullable=False, index=True),
    sa.Column("model_version_id", sa.Integer, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("checks", JSONText, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


def _where(dag_id: str, start: datetime, end: datetime):
    t = health_records_table
    return sa.and_(
        t.c.dag_id == dag_id,
        t.c.interval_start == to_naive_utc(start),
        t.c.interval_end == to_naive_utc(end),
    )


def _report(row) -> HealthReport:
    m = row._mapping
    return HealthReport(
        dag_id=m["dag_id"],
        model_name=m["model_name"],
        interval_start=m["interval_start"],
        interval_end=m["interval_end"],
        checks=tuple(HealthCheck.from_dict(c) for c in (m["checks"] or [])),
        model_version_id=m["model_version_id"],
        run_id=m["run_id"],
        created_at=m["created_at"],
    )


class HealthStore:
    """Health records of every model. The constructor does no I/O; call :meth:`ensure_schema`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        """Create the health table if it does not exist (idempotent)."""
        metadata.create_all(self.engine, tables=[health_records_table], checkfirst=True)

    # ------------------------------------------------------------------ writes

    def save(self, report: HealthReport) -> HealthReport:
        """Store (or replace) the record of the report's (DAG, interval); returns it as stored
        (``created_at`` filled in when the report had none)."""
        if report.interval_start > report.interval_end:
            raise StoreError(
                f"health record of {report.dag_id!r}: the interval ends "
                f"({report.interval_end}) before it starts ({report.interval_start})"
            )
        version_id = check_optional_version_id(report.model_version_id)
        created = report.created_at or utcnow()
        values = {
            "dag_id": report.dag_id,
            "interval_start": report.interval_start,
            "interval_end": report.interval_end,
            "model_name": report.model_name,
            "model_version_id": version_id,
            "status": report.status,
            "checks": [c.to_dict() for c in report.checks],
            "run_id": report.run_id,
            "created_at": created,
        }
        where = _where(report.dag_id, report.interval_start, report.interval_end)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    conn.execute(sa.delete(health_records_table).where(where))
                    conn.execute(sa.insert(health_records_table).values(**values))
                break
            except IntegrityError:  # a concurrent run of the interval inserted first
                if attempt == _WRITE_ATTEMPTS:
                    raise
        return HealthReport(**{**report.__dict__, "created_at": to_naive_utc(created)})

    def import_spool(self, spool: HealthSpool) -> list[str]:
        """Store the spooled records of ``spool``'s model (a record already stored for the same
        interval with a later ``created_at`` wins) and remove their files. Returns the files
        imported; an unreadable file is left in place and named in the log by the caller."""
        done = []
        for path, report in spool.pending():
            with self.engine.begin() as conn:
                stored = conn.execute(
                    sa.select(health_records_table.c.created_at).where(
                        _where(report.dag_id, report.interval_start, report.interval_end)
                    )
                ).scalar_one_or_none()
            newer = (
                stored is not None
                and report.created_at is not None
                and stored > to_naive_utc(report.created_at)
            )
            if not newer:
                self.save(report)
            spool.remove(path)
            done.append(str(path))
        return done

    # ------------------------------------------------------------------ reads

    def get(self, dag_id: str, start: datetime, end: datetime) -> HealthReport | None:
        """The record of one (DAG, interval), or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(health_records_table).where(_where(dag_id, start, end))
            ).one_or_none()
        return None if row is None else _report(row)

    def health_history(
        self,
        model_name: str,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        dag_id: str | None = None,
    ) -> list[HealthReport]:
        """Records of ``model_name`` (of every DAG, or one) whose interval overlaps
        ``[since, until)``, oldest interval first (for the page and the report)."""
        t = health_records_table
        query = sa.select(t).where(t.c.model_name == model_name)
        if dag_id is not None:
            query = query.where(t.c.dag_id == dag_id)
        if since is not None:
            query = query.where(t.c.interval_end > to_naive_utc(since))
        if until is not None:
            query = query.where(t.c.interval_start < to_naive_utc(until))
        query = query.order_by(t.c.interval_end, t.c.interval_start, t.c.dag_id)
        with self.engine.connect() as conn:
            return [_report(r) for r in conn.execute(query)]


def decision_ends(
    engine: Engine, dag_id: str, ends: Iterable[datetime]
) -> tuple[set[datetime], datetime | None]:
    """Which of ``ends`` have a stored monitoring decision of ``dag_id`` (matched on the
    interval end: a decision is stored under the run's analysis window, whose start depends on
    ``window_hours``), and the end of the DAG's first stored decision (``None``: none yet).
    A store without the decisions table has none."""
    t = monitoring_decisions_table
    wanted = sorted({to_naive_utc(e) for e in ends})
    if not sa.inspect(engine).has_table(t.name):
        return set(), None
    with engine.connect() as conn:
        first = conn.execute(
            sa.select(sa.func.min(t.c.interval_end)).where(t.c.dag_id == dag_id)
        ).scalar_one_or_none()
        found = set()
        if wanted:
            found = {
                to_naive_utc(r[0])
                for r in conn.execute(
                    sa.select(t.c.interval_end)
                    .where(t.c.dag_id == dag_id, t.c.interval_end.in_(wanted))
                    .distinct()
                )
            }
    return found, None if first is None else to_naive_utc(first)


# --------------------------------------------------------------------------- the spool


@dataclass(frozen=True)
class SpoolWrite:
    """Where a record was spooled, or why it could not be (``written`` False)."""

    path: str
    written: bool
    error: str | None = None

    def to_dict(self) -> dict[str, str | bool | None]:
        return {"path": self.path, "written": self.written, "error": self.error}


class HealthSpool:
    """Health records of one model waiting for the store: JSON files under
    ``<report_root>/<model>/health-spool/``. The constructor does no I/O."""

    def __init__(self, report_root: str | os.PathLike[str], model_name: str) -> None:
        self.report_root = report_root
        self.model_name = model_name

    @property
    def folder(self) -> Path:
        """``<report_root>/<model>/health-spool``, confined to the root (UnsafePathError)."""
        check_part(self.model_name, what="model name")
        return inside(self.report_root, self.model_name, SPOOL_DIR, root_name="storage.report_root")

    def path_for(self, report: HealthReport) -> Path:
        window = Window(report.interval_start, report.interval_end)
        name = f"{report.dag_id}__{window.label}.json"
        return inside(self.folder, name, what="health spool file name (DAG id and window)")

    def write(self, report: HealthReport) -> SpoolWrite:
        """Write ``report`` (atomically); never raises: a folder that cannot be written, or a
        name that would put the file outside the root, is returned as ``written=False``."""
        try:
            path = self.path_for(report)
        except UnsafePathError as exc:
            unsafe = os.path.join(str(self.report_root), str(self.model_name), SPOOL_DIR)
            return SpoolWrite(unsafe, False, f"{type(exc).__name__}: {exc}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(report.to_dict(), indent=2, sort_keys=True))
        except OSError as exc:
            return SpoolWrite(str(path), False, f"{type(exc).__name__}: {exc}")
        return SpoolWrite(str(path), True)

    def pending(self) -> list[tuple[Path, HealthReport]]:
        """The spooled records, oldest file name first; files that are not health records are
        skipped (and left alone)."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            if path.name.startswith(TMP_PREFIX):
                continue
            try:
                out.append((path, HealthReport.from_dict(json.loads(path.read_text()))))
            except (OSError, ValueError, MalformedResultError):
                continue
        return out

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
