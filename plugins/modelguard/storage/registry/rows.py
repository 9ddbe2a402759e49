"""The registry's tables and rows: statuses, events, the three tables, their row types, the
checks of what is written, and the reads and writes of single rows every operation shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelguard.exceptions import RegistryError
from modelguard.storage import ids
from modelguard.storage.artifacts import ArtifactRef
from modelguard.storage.db import (
    JSONText,
    UTCDateTime,
    dumps_json,
    loads_json,
    metadata,
    to_bytes,
    utcnow,
)

STATUS_CHALLENGER = "challenger"
STATUS_CHAMPION = "champion"
STATUS_ARCHIVED = "archived"
STATUS_REJECTED = "rejected"
STATUS_ROLLED_BACK = "rolled_back"
STATUSES = (
    STATUS_CHALLENGER,
    STATUS_CHAMPION,
    STATUS_ARCHIVED,
    STATUS_REJECTED,
    STATUS_ROLLED_BACK,
)
FEATURE_TYPES = ("numeric", "categorical")

EVENT_REGISTERED = "registered"
EVENT_EVALUATED = "evaluated"
EVENT_PROMOTED = "promoted"
EVENT_REJECTED = "rejected"
EVENT_ROLLED_BACK = "rolled_back"
EVENT_ROLLBACK_FAILED = "rollback_failed"
EVENT_CHECKED = "post_deployment_check"
# A person was asked to approve a deployment and did not answer in time (the challenger stays).
EVENT_APPROVAL_TIMED_OUT = "approval_timed_out"
EVENTS = (
    EVENT_REGISTERED,
    EVENT_EVALUATED,
    EVENT_PROMOTED,
    EVENT_REJECTED,
    EVENT_ROLLED_BACK,
    EVENT_ROLLBACK_FAILED,
    EVENT_CHECKED,
    EVENT_APPROVAL_TIMED_OUT,
)
# Statuses a version may have when a rollback makes it champion again (never a rejected one).
RESTORABLE_STATUSES = (STATUS_ARCHIVED, STATUS_CHALLENGER, STATUS_ROLLED_BACK)


model_versions_table = sa.Table(
    "mg_model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("training_start", UTCDateTime, nullable=True),
    sa.Column("training_end", UTCDateTime, nullable=True),
    sa.Column("strategy", sa.String(100), nullable=True),
    sa.Column("metrics", JSONText, nullable=False),
    sa.Column("feature_schema", JSONText, nullable=False),
    sa.Column("artifact_uri", sa.Text, nullable=False),
    sa.Column("artifact_sha256", sa.String(64), nullable=False),
    sa.Column("reference_profile", JSONText, nullable=False),
    sa.Column("profile_arrays", sa.LargeBinary, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.UniqueConstraint("model_name", "version"),
    # Lets mg_champions reference (model_name, id), so a pointer can only name its own model.
    sa.UniqueConstraint("model_name", "id"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status_allowed"
    ),
)

champions_table = sa.Table(
    "mg_champions",
    metadata,
    sa.Column("model_name", sa.String(200), primary_key=True),
    sa.Column("version_id", sa.Integer, nullable=False, unique=True),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["model_name", "version_id"],
        ["mg_model_versions.model_name", "mg_model_versions.id"],
    ),
)

model_events_table = sa.Table(
    "mg_model_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_name", sa.String(200), nullable=False, index=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("mg_model_versions.id"), nullable=True),
    sa.Column("event", sa.String(50), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("details", JSONText, nullable=False),
)

TABLES = [model_versions_table, champions_table, model_events_table]


@dataclass(frozen=True)
class ModelVersion:
    """One row of ``mg_model_versions``; JSON columns parsed, ``profile_arrays`` as bytes."""

    id: int
    model_name: str
    version: int
    created_at: datetime
    training_start: datetime | None
    training_end: datetime | None
    strategy: str | None
    metrics: dict[str, Any]
    feature_schema: dict[str, str]
    artifact_uri: str
    artifact_sha256: str
    reference_profile: dict[str, Any]
    profile_arrays: bytes | None
    status: str
    run_id: str | None

    @property
    def artifact(self) -> ArtifactRef:
        """Where the artifact is and the sha256 recorded at registration."""
        return ArtifactRef(uri=self.artifact_uri, sha256=self.artifact_sha256)

    @property
    def label(self) -> str:
        """Human-readable name, e.g. ``"email_engagement v3 (id 7)"``."""
        return f"{self.model_name} v{self.version} (id {self.id})"


@dataclass(frozen=True)
class ModelEvent:
    """One row of ``mg_model_events``."""

    id: int
    model_name: str
    version_id: int | None
    event: str
    at: datetime
    run_id: str | None
    reason: str | None
    details: dict[str, Any]


# ------------------------------------------------------------------ checks of what is written


def check_model_name(model_name: Any) -> str:
    """The shared model-name rule (:func:`modelguard.storage.ids.check_model_name`)."""
    return ids.check_model_name(model_name)


def check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise RegistryError("reason must be a non-empty string saying why the decision was taken")
    return reason


def check_id(name: str, value: Any) -> int:
    """An integer version id >= 1 as ``int`` (:func:`modelguard.storage.ids.check_version_id`:
    never ``True``, ``'1'`` or ``1.0``); :class:`~modelguard.exceptions.InvalidIdError`."""
    return ids.check_version_id(value, name)


def check_json_dict(name: str, value: Any) -> dict[str, Any]:
    """A dict that can be stored as JSON, as it will be read back (NaN → None, numpy → lists)."""
    plain = check_mapping(name, value)
    try:
        return loads_json(dumps_json(plain))
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{name} cannot be stored as JSON: {exc}") from exc


def check_mapping(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RegistryError(f"{name} must be a dict, got {type(value).__name__}")
    return dict(value)


# ------------------------------------------------------------------ rows


def version_from_row(row: Any) -> ModelVersion:
    m = row._mapping
    return ModelVersion(
        id=m["id"],
        model_name=m["model_name"],
        version=m["version"],
        created_at=m["created_at"],
        training_start=m["training_start"],
        training_end=m["training_end"],
        strategy=m["strategy"],
        metrics=m["metrics"] or {},
        feature_schema=m["feature_schema"] or {},
        artifact_uri=m["artifact_uri"],
        artifact_sha256=m["artifact_sha256"],
        reference_profile=m["reference_profile"] or {},
        profile_arrays=to_bytes(m["profile_arrays"]),
        status=m["status"],
        run_id=m["run_id"],
    )


def event_from_row(row: Any) -> ModelEvent:
    m = row._mapping
    return ModelEvent(
        id=m["id"],
        model_name=m["model_name"],
        version_id=m["version_id"],
        event=m["event"],
        at=m["at"],
        run_id=m["run_id"],
        reason=m["reason"],
        details=m["details"] or {},
    )


def fetch_version(conn: Connection, version_id: int) -> ModelVersion:
    version_id = check_id("version_id", version_id)
    t = model_versions_table
    row = conn.execute(sa.select(t).where(t.c.id == version_id)).one_or_none()
    if row is None:
        raise RegistryError(f"unknown model version id {version_id!r}")
    return version_from_row(row)


def fetch_own_version(conn: Connection, model_name: str, version_id: int) -> ModelVersion:
    version = fetch_version(conn, version_id)
    if version.model_name != model_name:
        raise RegistryError(
            f"version id {version_id} belongs to model {version.model_name!r}, not {model_name!r}"
        )
    return version


def fetch_event(conn: Connection, event_id: int) -> ModelEvent:
    t = model_events_table
    return event_from_row(conn.execute(sa.select(t).where(t.c.id == event_id)).one())


def champion_row(conn: Connection, model_name: str) -> ModelVersion | None:
    v, c = model_versions_table, champions_table
    row = conn.execute(
        sa.select(v)
        .join(c, c.c.version_id == v.c.id)
        .where(c.c.model_name == model_name, v.c.model_name == model_name)
    ).one_or_none()
    return None if row is None else version_from_row(row)


def version_label(conn: Connection, version_id: int, *, short: bool = False) -> str:
    t = model_versions_table
    row = conn.execute(
        sa.select(t.c.model_name, t.c.version).where(t.c.id == version_id)
    ).one_or_none()
    if row is None:
        return f"unknown version (id {version_id})"
    if short:
        return f"v{row.version} (id {version_id})"
    return f"{row.model_name} v{row.version} (id {version_id})"


def set_status(
    conn: Connection,
    version_id: int,
    status: str,
    *,
    from_statuses: tuple[str, ...],
    model_name: str,
    error: type[RegistryError] = RegistryError,
) -> None:
    """Conditional status change; raises ``error`` when the version is not in ``from_statuses``."""
    v = model_versions_table
    changed = conn.execute(
        sa.update(v)
        .where(
            v.c.id == version_id,
            v.c.model_name == model_name,
            v.c.status.in_(from_statuses),
        )
        .values(status=status)
    ).rowcount
    if changed != 1:
        current = fetch_own_version(conn, model_name, version_id)
        raise error(
            f"cannot set {current.label} to {status!r}: it has status {current.status!r} "
            f"(expected {' or '.join(repr(s) for s in from_statuses)})"
        )


def append_event(
    conn: Connection,
    *,
    model_name: str,
    version_id: int | None,
    event: str,
    run_id: str | None,
    reason: str | None,
    details: Mapping[str, Any] | None,
    at: datetime | None = None,
) -> int:
    result = conn.execute(
        sa.insert(model_events_table).values(
            model_name=model_name,
            version_id=version_id,
            event=event,
            at=at or utcnow(),
            run_id=run_id,
            reason=reason,
            details=dict(details or {}),
        )
    )
    return result.inserted_primary_key[0]
