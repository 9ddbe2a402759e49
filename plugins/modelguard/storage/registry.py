"""Model registry: versions, the champion pointer and an append-only event log (SQLAlchemy Core).

Tables (all keyed by model name):

``mg_model_versions``
    One row per trained model version. ``version`` is a per-model sequence starting at 1.
``mg_champions``
    The champion pointer: one row per model name (primary key), so a model has at most one
    champion by construction. The pointed-at version also carries ``status = "champion"``; both
    are written in the same transaction.
``mg_model_events``
    Append-only log (registered, evaluated, promoted, rejected, rolled_back, rollback_failed).
    Nothing in this module deletes a version or an event.

Lifecycle (champion/challenger gate): a version is registered as ``challenger``; an evaluation
against the champion is logged (:meth:`ModelRegistry.record_evaluation`); the challenger is then
either promoted (:meth:`~ModelRegistry.promote`: old champion ``archived``, new one ``champion``)
or ``rejected`` (:meth:`~ModelRegistry.reject`). :meth:`~ModelRegistry.rollback` demotes the
champion to ``rolled_back`` and restores an earlier champion whose artifact still hashes to the
recorded sha256.

Every change of champion is a compare-and-swap on the pointer row, in one transaction with the
status changes and the event: the pointer is only moved ``WHERE version_id = <expected>`` and the
row count is checked, so a decision taken against a champion that has since changed raises
:class:`StaleDecisionError` and changes nothing. On PostgreSQL the pointer row is first locked with
``SELECT ... FOR UPDATE``. On SQLite the conditional ``UPDATE`` is the first statement of the
transaction, so SQLite's writer lock is taken before anything is read and the check and the write
are atomic. The champion history (bootstrap, promotions, restorations by a rollback) is derived
from the ``promoted`` and ``rolled_back`` events, which are written in those same transactions.

Artifacts are joblib files under a configurable root. ``artifact_uri`` is a plain absolute
filesystem path (``file://`` URIs are also accepted when loading). The sha256 recorded at
registration is checked against the exact bytes that are then unpickled, so a file that was
changed or replaced is never loaded.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelguard.exceptions import (
    CandidateUnusableError,
    NoChampionError,
    RegistryError,
    RollbackFailedError,
    StaleDecisionError,
)
from modelguard.storage.artifacts import ArtifactRef, ArtifactStore, sha256_file
from modelguard.storage.db import (
    JSONText,
    UTCDateTime,
    dumps_json,
    loads_json,
    metadata,
    optional_naive_utc,
    to_bytes,
    to_naive_utc,
    utcnow,
)

__all__ = [
    "EVENTS",
    "EVENT_CHECKED",
    "EVENT_EVALUATED",
    "EVENT_PROMOTED",
    "EVENT_REGISTERED",
    "EVENT_REJECTED",
    "EVENT_ROLLBACK_FAILED",
    "EVENT_ROLLED_BACK",
    "FEATURE_TYPES",
    "STATUSES",
    "STATUS_ARCHIVED",
    "STATUS_CHALLENGER",
    "STATUS_CHAMPION",
    "STATUS_REJECTED",
    "STATUS_ROLLED_BACK",
    "ModelEvent",
    "ModelRegistry",
    "ModelVersion",
    "RollbackResult",
    "champions_table",
    "model_events_table",
    "model_versions_table",
    "sha256_file",
]

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
EVENTS = (
    EVENT_REGISTERED,
    EVENT_EVALUATED,
    EVENT_PROMOTED,
    EVENT_REJECTED,
    EVENT_ROLLED_BACK,
    EVENT_ROLLBACK_FAILED,
    EVENT_CHECKED,
)
# Statuses a version may have when a rollback makes it champion again (never a rejected one).
_RESTORABLE_STATUSES = (STATUS_ARCHIVED, STATUS_CHALLENGER, STATUS_ROLLED_BACK)

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# A model name becomes a directory name under the artifact root.
_MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_REGISTER_ATTEMPTS = 10
_CHUNK = 1024 * 1024

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

_TABLES = [model_versions_table, champions_table, model_events_table]


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


@dataclass(frozen=True)
class RollbackResult:
    """Outcome of a successful :meth:`ModelRegistry.rollback`.

    ``restored`` is the new champion, ``rolled_back`` the former champion (now ``rolled_back``),
    ``failed_attempts`` the candidates skipped on the way, each ``{"version_id", "error"}``.
    """

    restored: ModelVersion
    rolled_back: ModelVersion
    failed_attempts: list[dict[str, Any]]


@dataclass(frozen=True)
class _ChampionChange:
    """One change of champion in the event log: who became champion, and from when in data
    time (``None`` for the bootstrap, which judges everything before the first change)."""

    id: int
    version_id: int
    effective_at: datetime | None


def _champion_changes(conn: Connection, model_name: str) -> list[_ChampionChange]:
    """Bootstrap, promotions and restorations by rollbacks, in the order they were written."""
    e = model_events_table
    rows = conn.execute(
        sa.select(e.c.id, e.c.event, e.c.version_id, e.c.at, e.c.details)
        .where(e.c.model_name == model_name, e.c.event.in_((EVENT_PROMOTED, EVENT_ROLLED_BACK)))
        .order_by(e.c.id)
    ).all()
    changes: list[_ChampionChange] = []
    for row in rows:
        details = row.details or {}
        promoted = row.event == EVENT_PROMOTED
        version_id = row.version_id if promoted else details.get("restored_version_id")
        if version_id is None:
            continue
        bootstrap = not changes and details.get("bootstrap", promoted)
        changes.append(
            _ChampionChange(row.id, version_id, None if bootstrap else _effective_of(row))
        )
    return changes


def _effective_of(event_row: Any) -> datetime:
    """When a change of champion took effect in data time (see ``champion_at``)."""
    details = event_row.details or {}
    for text in (details.get("effective_at"), (details.get("evaluation") or {}).get("as_of")):
        if isinstance(text, str):
            try:
                return to_naive_utc(datetime.fromisoformat(text))
            except ValueError:
                continue
    return to_naive_utc(event_row.at)


def _check_model_name(model_name: Any) -> str:
    if not isinstance(model_name, str) or not _MODEL_NAME_RE.match(model_name):
        raise RegistryError(
            f"invalid model name {model_name!r}: use 1-200 characters from letters, digits, "
            "'.', '_' and '-', starting with a letter or digit"
        )
    return model_name


def _check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise RegistryError("reason must be a non-empty string saying why the decision was taken")
    return reason


def _check_id(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RegistryError(f"{name} must be an integer version id, got {value!r}")
    return value


def _artifact_ref(version: ModelVersion) -> ArtifactRef:
    return ArtifactRef(uri=version.artifact_uri, sha256=version.artifact_sha256)


def _check_json_dict(name: str, value: Any) -> dict[str, Any]:
    """A dict that can be stored as JSON, as it will be read back (NaN → None, numpy → lists)."""
    plain = _check_mapping(name, value)
    try:
        return loads_json(dumps_json(plain))
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{name} cannot be stored as JSON: {exc}") from exc


def _check_mapping(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RegistryError(f"{name} must be a dict, got {type(value).__name__}")
    return dict(value)


def _row_to_version(row: Any) -> ModelVersion:
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


def _row_to_event(row: Any) -> ModelEvent:
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


class ModelRegistry:
    """Model versions, the single champion per model name and the event log.

    The constructor does no I/O; call :meth:`ensure_schema` once (idempotent) before use.
    """

    def __init__(
        self, engine: Engine, artifact_root: str | os.PathLike[str] | ArtifactStore | None = None
    ) -> None:
        self.engine = engine
        self.artifacts = (
            artifact_root
            if isinstance(artifact_root, ArtifactStore) or artifact_root is None
            else ArtifactStore(artifact_root)
        )

    def _artifact_store(self) -> ArtifactStore:
        """The store artifacts are loaded and verified from; a registry made without
        ``artifact_root`` can record and read rows, but never touches a file."""
        if self.artifacts is None:
            raise RegistryError(
                "this ModelRegistry has no artifact root, so it cannot load or verify model "
                "artifacts; create it as ModelRegistry(engine, "
                "artifact_root=config.storage.artifact_root)"
            )
        return self.artifacts

    # ------------------------------------------------------------------ schema

    def ensure_schema(self) -> None:
        """Create the registry tables if they do not exist (idempotent)."""
        metadata.create_all(self.engine, tables=_TABLES, checkfirst=True)

    # ------------------------------------------------------------------ artifacts

    sha256_file = staticmethod(sha256_file)

    @staticmethod
    def save_artifact(
        model: Any, artifact_root: str | os.PathLike[str], model_name: str
    ) -> tuple[str, str]:
        """Dump ``model`` with joblib to ``<root>/<model_name>/<UTC timestamp>-<uuid>.joblib``
        through the artifact store (atomic: a crash never leaves a half-written file under the
        final name). Returns ``(uri, sha256)``, ``uri`` the plain absolute path of the file."""
        _check_model_name(model_name)
        ref = ArtifactStore(artifact_root).save_model(model, model_name)
        return ref.uri, ref.sha256

    def load_model(self, version: ModelVersion | int) -> Any:
        """Load the artifact of ``version`` (a :class:`ModelVersion` or a version id).

        The artifact URI and sha256 are re-read from the registry. The file must lie under the
        artifact root; it is read once into memory, its sha256 is compared with the registry's
        and only those verified bytes are unpickled. A file outside the root, a missing file or
        a mismatch raises :class:`ArtifactIntegrityError` and nothing is unpickled.
        """
        version_id = version.id if isinstance(version, ModelVersion) else version
        store = self._artifact_store()
        current = self.get_version(version_id)
        return store.load(_artifact_ref(current), what=f"artifact of {current.label}")

    # ------------------------------------------------------------------ writes

    def register(
        self,
        model_name: str,
        *,
        artifact_uri: str,
        artifact_sha256: str,
        feature_schema: Mapping[str, str],
        reference_profile: Mapping[str, Any],
        profile_arrays: bytes | None = None,
        metrics: Mapping[str, Any] | None = None,
        training_start: datetime | None = None,
        training_end: datetime | None = None,
        strategy: str | None = None,
        run_id: str | None = None,
        status: str = STATUS_CHALLENGER,
    ) -> ModelVersion:
        """Register a new version of ``model_name`` with the next version number (1, 2, ...).

        The version number is assigned and the ``registered`` event appended in one transaction.
        A concurrent registration of the same model that takes the same number makes the
        unique constraint fail; the attempt is then retried with the next number.
        """
        _check_model_name(model_name)
        if status not in STATUSES:
            raise RegistryError(f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")
        if status == STATUS_CHAMPION:
            raise RegistryError(
                f"cannot register a version of {model_name!r} directly as champion; register it "
                "as a challenger, then use bootstrap_champion (first champion) or a promotion"
            )
        if not isinstance(artifact_uri, str) or not artifact_uri:
            raise RegistryError("artifact_uri must be a non-empty string")
        if not isinstance(artifact_sha256, str) or not _SHA256_RE.match(artifact_sha256):
            raise RegistryError(
                f"artifact_sha256 must be 64 lowercase hex characters, got {artifact_sha256!r}"
            )
        schema = _check_mapping("feature_schema", feature_schema)
        bad = {k: v for k, v in schema.items() if not isinstance(k, str) or v not in FEATURE_TYPES}
        if bad:
            raise RegistryError(
                f"feature_schema of {model_name!r} has invalid entries {bad!r}; keys are column "
                f"names and values one of {', '.join(FEATURE_TYPES)}"
            )
        profile = _check_mapping("reference_profile", reference_profile)
        metrics_dict = {} if metrics is None else _check_mapping("metrics", metrics)
        if profile_arrays is not None and not isinstance(
            profile_arrays, (bytes, bytearray, memoryview)
        ):
            raise RegistryError(
                f"profile_arrays must be bytes or None, got {type(profile_arrays).__name__}"
            )
        start = optional_naive_utc(training_start)
        end = optional_naive_utc(training_end)
        if start is not None and end is not None and start > end:
            raise RegistryError(
                f"training window of {model_name!r} ends ({end}) before it starts ({start})"
            )

        values = {
            "model_name": model_name,
            "training_start": start,
            "training_end": end,
            "strategy": strategy,
            "metrics": metrics_dict,
            "feature_schema": schema,
            "artifact_uri": artifact_uri,
            "artifact_sha256": artifact_sha256,
            "reference_profile": profile,
            "profile_arrays": None if profile_arrays is None else bytes(profile_arrays),
            "status": status,
            "run_id": run_id,
        }
        last_error: IntegrityError | None = None
        for _ in range(_REGISTER_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return self._insert_version(conn, values)
            except IntegrityError as exc:  # a concurrent register took the same number
                last_error = exc
                time.sleep(random.uniform(0.0, 0.05))
        raise RegistryError(
            f"could not assign a version number to {model_name!r} after "
            f"{_REGISTER_ATTEMPTS} attempts: {last_error}"
        ) from last_error

    def _insert_version(self, conn: Connection, values: dict[str, Any]) -> ModelVersion:
        t = model_versions_table
        if conn.dialect.name == "postgresql":
            # Serialise registrations of one model name until commit, so concurrent writers
            # do not race for the same number (the retry in register() covers other databases).
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"mg_model_versions:{values['model_name']}"},
            )
        current_max = conn.execute(
            sa.select(sa.func.max(t.c.version)).where(t.c.model_name == values["model_name"])
        ).scalar_one()
        now = utcnow()
        result = conn.execute(
            sa.insert(t).values(version=(current_max or 0) + 1, created_at=now, **values)
        )
        version_id = result.inserted_primary_key[0]
        created = self._fetch_version(conn, version_id)
        self._append_event(
            conn,
            model_name=created.model_name,
            version_id=created.id,
            event=EVENT_REGISTERED,
            run_id=created.run_id,
            reason=None,
            details={"version": created.version, "status": created.status},
            at=now,
        )
        return created

    def bootstrap_champion(
        self,
        model_name: str,
        version_id: int,
        *,
        run_id: str | None = None,
        reason: str = "bootstrap",
    ) -> ModelVersion:
        """Make ``version_id`` the first champion of ``model_name``.

        Refused with :class:`RegistryError` when the model already has a champion (use a
        promotion to replace one), when the version belongs to another model, or when it was
        rejected or rolled back. Status, pointer and ``promoted`` event are one transaction.
        """
        _check_model_name(model_name)
        try:
            with self.engine.begin() as conn:
                current = self._champion_row(conn, model_name)
                if current is not None:
                    raise RegistryError(self._already_has_champion(current))
                candidate = self._fetch_version(conn, version_id)
                if candidate.model_name != model_name:
                    raise RegistryError(
                        f"version id {version_id} belongs to model {candidate.model_name!r}, "
                        f"not {model_name!r}"
                    )
                if candidate.status in (STATUS_REJECTED, STATUS_ROLLED_BACK):
                    raise RegistryError(
                        f"{candidate.label} has status {candidate.status!r} and cannot become "
                        "champion; register a new version"
                    )
                now = utcnow()
                conn.execute(
                    sa.update(model_versions_table)
                    .where(model_versions_table.c.id == candidate.id)
                    .values(status=STATUS_CHAMPION)
                )
                conn.execute(
                    sa.insert(champions_table).values(
                        model_name=model_name, version_id=candidate.id, since=now
                    )
                )
                self._append_event(
                    conn,
                    model_name=model_name,
                    version_id=candidate.id,
                    event=EVENT_PROMOTED,
                    run_id=run_id,
                    reason=reason,
                    details={
                        "bootstrap": True,
                        "previous_champion_id": None,
                        "previous_status": candidate.status,
                        "version": candidate.version,
                    },
                    at=now,
                )
                return self._fetch_version(conn, candidate.id)
        except IntegrityError as exc:
            # Another transaction bootstrapped the same model between our check and our insert.
            with self.engine.connect() as conn:
                current = self._champion_row(conn, model_name)
            if current is None:
                raise RegistryError(
                    f"could not bootstrap champion of {model_name!r}: {exc}"
                ) from exc
            raise RegistryError(self._already_has_champion(current)) from exc

    # ------------------------------------------------------------------ champion/challenger gate

    def record_evaluation(
        self,
        model_name: str,
        challenger_id: int,
        champion_id: int | None,
        result: Mapping[str, Any],
        *,
        run_id: str | None = None,
        reason: str | None = None,
    ) -> ModelEvent:
        """Append an ``evaluated`` event for ``challenger_id``; no status changes.

        ``details`` are ``{"champion_id", "challenger_version", "champion_version", "result"}``
        with the full evaluation ``result``. Both versions must belong to ``model_name``
        (``champion_id`` may be ``None`` when there was no champion to compare with).
        """
        _check_model_name(model_name)
        _check_id("challenger_id", challenger_id)
        if champion_id is not None:
            _check_id("champion_id", champion_id)
        result_dict = _check_json_dict("result", result)
        with self.engine.begin() as conn:
            challenger = self._fetch_own_version(conn, model_name, challenger_id)
            champion = (
                None
                if champion_id is None
                else self._fetch_own_version(conn, model_name, champion_id)
            )
            event_id = self._append_event(
                conn,
                model_name=model_name,
                version_id=challenger.id,
                event=EVENT_EVALUATED,
                run_id=run_id,
                reason=reason,
                details={
                    "champion_id": champion_id,
                    "challenger_version": challenger.version,
                    "champion_version": None if champion is None else champion.version,
                    "result": result_dict,
                },
            )
            return self._fetch_event(conn, event_id)

    def record_check(
        self,
        model_name: str,
        version_id: int,
        check: Mapping[str, Any],
        *,
        run_id: str | None = None,
        reason: str | None = None,
    ) -> ModelEvent:
        """Append a ``post_deployment_check`` event (details = the check); no status changes."""
        _check_model_name(model_name)
        _check_id("version_id", version_id)
        check_dict = _check_json_dict("check", check)
        with self.engine.begin() as conn:
            version = self._fetch_own_version(conn, model_name, version_id)
            event_id = self._append_event(
                conn,
                model_name=model_name,
                version_id=version.id,
                event=EVENT_CHECKED,
                run_id=run_id,
                reason=reason,
                details=check_dict,
            )
            return self._fetch_event(conn, event_id)

    def promote(
        self,
        model_name: str,
        version_id: int,
        *,
        expected_champion_id: int,
        run_id: str | None = None,
        reason: str,
        evaluation: Mapping[str, Any] | None = None,
        effective_at: datetime | None = None,
    ) -> ModelVersion:
        """Make the challenger ``version_id`` champion, if the champion is still the expected one.

        ``effective_at`` is the data time from which the new champion judges monitoring intervals
        (the gate's ``as_of``; see :meth:`champion_at`); default: now.

        One transaction: compare-and-swap of the champion pointer from ``expected_champion_id``
        to ``version_id``, previous champion → ``archived``, challenger → ``champion`` and a
        ``promoted`` event (``version_id`` = new champion, details ``{"bootstrap": False,
        "previous_champion_id", "previous_champion_version", "version", "evaluation"}``).

        Raises :class:`StaleDecisionError` (nothing changed) when the champion is no longer
        ``expected_champion_id``, :class:`NoChampionError` when there is no champion yet and
        :class:`RegistryError` when the version is unknown, of another model or not a challenger.
        """
        _check_model_name(model_name)
        _check_id("version_id", version_id)
        _check_id("expected_champion_id", expected_champion_id)
        _check_reason(reason)
        evaluation_dict = None if evaluation is None else _check_json_dict("evaluation", evaluation)
        # The model a version belongs to never changes, so this check may run before the
        # transaction; the status is re-checked inside it by a conditional UPDATE.
        candidate = self.get_version(version_id)
        self._check_promotable(model_name, candidate)
        with self.engine.begin() as conn:
            now = utcnow()
            # First statement of the transaction (SQLite: takes the writer lock before any read).
            previous = self._swap_champion(
                conn,
                model_name,
                expected_id=expected_champion_id,
                new_id=candidate.id,
                at=now,
                context="since the evaluation",
                advice="re-evaluate the challenger against the current champion",
            )
            self._set_status(
                conn,
                previous,
                STATUS_ARCHIVED,
                from_statuses=(STATUS_CHAMPION,),
                model_name=model_name,
            )
            self._set_status(
                conn,
                candidate.id,
                STATUS_CHAMPION,
                from_statuses=(STATUS_CHALLENGER,),
                model_name=model_name,
            )
            self._append_event(
                conn,
                model_name=model_name,
                version_id=candidate.id,
                event=EVENT_PROMOTED,
                run_id=run_id,
                reason=reason,
                details={
                    "bootstrap": False,
                    "previous_champion_id": previous,
                    "previous_champion_version": self._fetch_version(conn, previous).version,
                    "version": candidate.version,
                    "evaluation": evaluation_dict,
                    "effective_at": self._effective_after(conn, model_name, effective_at, now),
                },
                at=now,
            )
            return self._fetch_version(conn, candidate.id)

    def reject(
        self,
        model_name: str,
        version_id: int,
        *,
        run_id: str | None = None,
        reason: str,
        evaluation: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Mark the challenger ``version_id`` as ``rejected`` and append a ``rejected`` event.

        Event details: ``{"version", "previous_status", "evaluation"}``. Only a challenger can be
        rejected; anything else raises :class:`RegistryError` naming the version's status.
        """
        _check_model_name(model_name)
        _check_id("version_id", version_id)
        _check_reason(reason)
        evaluation_dict = None if evaluation is None else _check_json_dict("evaluation", evaluation)
        v = model_versions_table
        with self.engine.begin() as conn:
            # Conditional UPDATE first, so a concurrent promotion of the same challenger cannot
            # interleave between the check and the write.
            changed = conn.execute(
                sa.update(v)
                .where(
                    v.c.id == version_id,
                    v.c.model_name == model_name,
                    v.c.status == STATUS_CHALLENGER,
                )
                .values(status=STATUS_REJECTED)
            ).rowcount
            if changed != 1:
                current = self._fetch_own_version(conn, model_name, version_id)
                raise RegistryError(
                    f"cannot reject {current.label}: it has status {current.status!r}; only a "
                    f"{STATUS_CHALLENGER!r} can be rejected"
                )
            rejected = self._fetch_version(conn, version_id)
            self._append_event(
                conn,
                model_name=model_name,
                version_id=version_id,
                event=EVENT_REJECTED,
                run_id=run_id,
                reason=reason,
                details={
                    "version": rejected.version,
                    "previous_status": STATUS_CHALLENGER,
                    "evaluation": evaluation_dict,
                },
            )
            return rejected

    def rollback(
        self,
        model_name: str,
        *,
        target_version_id: int | None = None,
        run_id: str | None = None,
        reason: str,
        max_attempts: int = 3,
        expected_champion_id: int | None = None,
        effective_at: datetime | None = None,
    ) -> RollbackResult:
        """Replace the champion with an earlier version whose artifact is intact.

        ``effective_at``: the data time from which the restored version judges monitoring
        intervals again (see :meth:`champion_at`); default: now.

        Candidates: ``target_version_id`` alone when given (a version of this model that is
        neither the champion nor rejected); otherwise the earlier champions, most recent first,
        skipping the current champion, ``rolled_back`` and ``rejected`` versions and duplicates.
        At most ``max_attempts`` candidates are tried. A candidate's artifact must exist and hash
        to the recorded sha256 (it is never unpickled); when it does not, a ``rollback_failed``
        event (``version_id`` = candidate, ``reason`` = what failed) is committed and the next
        candidate is tried.

        The switch itself is one transaction with the same compare-and-swap as :meth:`promote`:
        the champion must still be the one the rollback started from (and
        ``expected_champion_id`` when given), else :class:`StaleDecisionError`. The former
        champion becomes ``rolled_back``, the candidate ``champion``, and a ``rolled_back`` event
        is appended (``version_id`` = the version rolled back, details ``{"restored_version_id",
        "restored_version", "rolled_back_version", "reason", "failed_attempts"}``).

        When no candidate succeeds, a final ``rollback_failed`` event ("gave up after N
        attempt(s)") is appended and :class:`RollbackFailedError` is raised; the champion is
        unchanged. :class:`NoChampionError` when the model has no champion.
        """
        _check_model_name(model_name)
        _check_reason(reason)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise RegistryError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if target_version_id is not None:
            _check_id("target_version_id", target_version_id)
        if expected_champion_id is not None:
            _check_id("expected_champion_id", expected_champion_id)

        store = self._artifact_store()
        current = self.get_champion(model_name)
        if expected_champion_id is not None and current.id != expected_champion_id:
            with self.engine.connect() as conn:
                raise StaleDecisionError(
                    self._stale_message(
                        conn,
                        model_name,
                        expected_champion_id,
                        current.id,
                        context="since the rollback was decided",
                        advice="check the current champion before rolling back",
                    )
                )

        if target_version_id is not None:
            target = self.get_version(target_version_id)
            if target.model_name != model_name:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it belongs to model "
                    f"{target.model_name!r}"
                )
            if target.id == current.id:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it is the current champion"
                )
            if target.status == STATUS_REJECTED:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it has status "
                    f"{STATUS_REJECTED!r}"
                )
            candidates = [target]
        else:
            candidates = self._rollback_candidates(model_name, current.id)

        to_try, not_tried = candidates[:max_attempts], candidates[max_attempts:]
        failed: list[dict[str, Any]] = []
        for attempt, candidate in enumerate(to_try, start=1):
            # Re-read: the status or artifact fields are those of the registry, not a stale copy.
            candidate = self.get_version(candidate.id)
            error = None
            if candidate.status not in _RESTORABLE_STATUSES:
                error = f"{candidate.label} has status {candidate.status!r} and cannot be restored"
            else:
                error = store.problem(
                    _artifact_ref(candidate), what=f"artifact of {candidate.label}"
                )
            if error is None:
                try:
                    return self._restore(
                        model_name,
                        current=current,
                        candidate=candidate,
                        run_id=run_id,
                        reason=reason,
                        failed=failed,
                        effective_at=effective_at,
                    )
                except CandidateUnusableError as exc:
                    error = str(exc)
            failed.append({"version_id": candidate.id, "error": error})
            with self.engine.begin() as conn:
                self._append_event(
                    conn,
                    model_name=model_name,
                    version_id=candidate.id,
                    event=EVENT_ROLLBACK_FAILED,
                    run_id=run_id,
                    reason=error,
                    details={
                        "attempt": attempt,
                        "version": candidate.version,
                        "current_champion_id": current.id,
                        "rollback_reason": reason,
                    },
                )

        message = self._rollback_failed_message(
            current, candidates, failed, not_tried, max_attempts, reason
        )
        with self.engine.begin() as conn:
            self._append_event(
                conn,
                model_name=model_name,
                version_id=current.id,
                event=EVENT_ROLLBACK_FAILED,
                run_id=run_id,
                reason=f"gave up after {len(failed)} attempt(s)",
                details={
                    "final": True,
                    "current_champion_id": current.id,
                    "failed_attempts": failed,
                    "not_tried": [v.id for v in not_tried],
                    "max_attempts": max_attempts,
                    "rollback_reason": reason,
                    "message": message,
                },
            )
        raise RollbackFailedError(message)

    # ------------------------------------------------------------------ reads

    def get_champion(self, model_name: str) -> ModelVersion:
        """The current champion of ``model_name``; :class:`NoChampionError` if there is none."""
        with self.engine.connect() as conn:
            champion = self._champion_row(conn, model_name)
        if champion is None:
            raise NoChampionError(
                f"model {model_name!r} has no champion yet. Register a version and make it the "
                f"first champion with ModelRegistry.bootstrap_champion({model_name!r}, "
                "<version id>) (the retraining DAG can register one)."
            )
        return champion

    def get_version(self, version_id: int) -> ModelVersion:
        """The version with primary key ``version_id``; :class:`RegistryError` if unknown."""
        with self.engine.connect() as conn:
            return self._fetch_version(conn, version_id)

    def list_versions(self, model_name: str) -> list[ModelVersion]:
        """All versions of ``model_name``, oldest first (empty list for an unknown model)."""
        t = model_versions_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.model_name == model_name).order_by(t.c.version)
            ).all()
        return [_row_to_version(r) for r in rows]

    def events(self, model_name: str) -> list[ModelEvent]:
        """The event log of ``model_name`` in the order the events were appended."""
        t = model_events_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.model_name == model_name).order_by(t.c.id)
            ).all()
        return [_row_to_event(r) for r in rows]

    def champion_history(self, model_name: str) -> list[ModelVersion]:
        """Versions in the order they became champion: bootstrap, promotions and the versions
        restored by rollbacks (a version restored twice appears twice). Current state of each."""
        with self.engine.connect() as conn:
            ids = [change.version_id for change in _champion_changes(conn, model_name)]
            v = model_versions_table
            by_id = (
                {
                    row.id: _row_to_version(row)
                    for row in conn.execute(sa.select(v).where(v.c.id.in_(set(ids)))).all()
                }
                if ids
                else {}
            )
        return [by_id[i] for i in ids if i in by_id]

    def champion_at(self, model_name: str, at: datetime) -> ModelVersion:
        """The version that was champion of ``model_name`` at data time ``at``.

        Each change of champion takes effect at its ``effective_at`` (a promotion: the gate's
        ``as_of``; a rollback: its own), recorded in the event; events written before that was
        recorded fall back to a promotion's evaluation ``as_of``, else the event's wall time.
        The first champion (bootstrap) judges everything before the first change. A change
        effective exactly at ``at`` does not count yet: an interval ending at ``at`` was served
        before it. So monitoring judges each interval with the model of its time, and a
        reprocess of history gives the verdicts of its first pass.
        """
        at = to_naive_utc(at)
        with self.engine.connect() as conn:
            changes = _champion_changes(conn, model_name)
        if not changes:
            raise NoChampionError(
                f"no champion registered for model {model_name!r}; bootstrap one first"
            )
        chosen = changes[0].version_id
        for change in sorted(changes[1:], key=lambda c: (c.effective_at or datetime.min, c.id)):
            if change.effective_at is not None and change.effective_at < at:
                chosen = change.version_id
        return self.get_version(chosen)

    def latest_challenger(self, model_name: str) -> ModelVersion:
        """The newest version of ``model_name`` with status ``challenger``."""
        v = model_versions_table
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(v)
                .where(v.c.model_name == model_name, v.c.status == STATUS_CHALLENGER)
                .order_by(v.c.version.desc())
                .limit(1)
            ).one_or_none()
        if row is None:
            raise RegistryError(f"no challenger registered for {model_name}; train one first")
        return _row_to_version(row)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _effective_after(
        conn: Connection, model_name: str, wanted: datetime | None, now: datetime
    ) -> str:
        """The effective data time of a new change of champion: ``wanted`` (default now), but
        never before the change it follows, so the champion history stays in order and its
        last entry is the current champion (a retraining started by a backfill of old data
        changes today's champion, not history)."""
        effective = now if wanted is None else to_naive_utc(wanted)
        for change in _champion_changes(conn, model_name):
            if change.effective_at is not None:
                effective = max(effective, change.effective_at)
        return effective.isoformat()

    @staticmethod
    def _fetch_version(conn: Connection, version_id: int) -> ModelVersion:
        t = model_versions_table
        row = conn.execute(sa.select(t).where(t.c.id == version_id)).one_or_none()
        if row is None:
            raise RegistryError(f"unknown model version id {version_id!r}")
        return _row_to_version(row)

    @staticmethod
    def _champion_row(conn: Connection, model_name: str) -> ModelVersion | None:
        v, c = model_versions_table, champions_table
        row = conn.execute(
            sa.select(v)
            .join(c, c.c.version_id == v.c.id)
            .where(c.c.model_name == model_name, v.c.model_name == model_name)
        ).one_or_none()
        return None if row is None else _row_to_version(row)

    @staticmethod
    def _already_has_champion(current: ModelVersion) -> str:
        return (
            f"model {current.model_name!r} already has a champion: {current.label}; "
            "bootstrap only sets the first champion, replace it with a promotion instead"
        )

    @staticmethod
    def _fetch_event(conn: Connection, event_id: int) -> ModelEvent:
        t = model_events_table
        return _row_to_event(conn.execute(sa.select(t).where(t.c.id == event_id)).one())

    @classmethod
    def _fetch_own_version(cls, conn: Connection, model_name: str, version_id: int) -> ModelVersion:
        version = cls._fetch_version(conn, version_id)
        if version.model_name != model_name:
            raise RegistryError(
                f"version id {version_id} belongs to model {version.model_name!r}, "
                f"not {model_name!r}"
            )
        return version

    @staticmethod
    def _check_promotable(model_name: str, candidate: ModelVersion) -> None:
        if candidate.model_name != model_name:
            raise RegistryError(
                f"version id {candidate.id} belongs to model {candidate.model_name!r}, "
                f"not {model_name!r}"
            )
        if candidate.status != STATUS_CHALLENGER:
            raise RegistryError(
                f"cannot promote {candidate.label}: it has status {candidate.status!r}; only a "
                f"{STATUS_CHALLENGER!r} can be promoted"
            )

    @staticmethod
    def _version_label(conn: Connection, version_id: int, *, short: bool = False) -> str:
        t = model_versions_table
        row = conn.execute(
            sa.select(t.c.model_name, t.c.version).where(t.c.id == version_id)
        ).one_or_none()
        if row is None:
            return f"unknown version (id {version_id})"
        if short:
            return f"v{row.version} (id {version_id})"
        return f"{row.model_name} v{row.version} (id {version_id})"

    @classmethod
    def _stale_message(
        cls,
        conn: Connection,
        model_name: str,
        expected_id: int,
        actual_id: int,
        *,
        context: str,
        advice: str,
    ) -> str:
        return (
            f"champion changed {context}: expected {cls._version_label(conn, expected_id)}, "
            f"now {cls._version_label(conn, actual_id, short=True)}; {advice}"
        )

    @classmethod
    def _swap_champion(
        cls,
        conn: Connection,
        model_name: str,
        *,
        expected_id: int,
        new_id: int,
        at: datetime,
        context: str,
        advice: str,
    ) -> int:
        """Compare-and-swap of the champion pointer; must be the transaction's first statement.

        Moves the pointer of ``model_name`` from ``expected_id`` to ``new_id`` and returns
        ``expected_id``. Raises :class:`StaleDecisionError` when the pointer holds another
        version and :class:`NoChampionError` when there is no pointer.
        """
        c = champions_table
        current_query = sa.select(c.c.version_id).where(c.c.model_name == model_name)
        if conn.dialect.name == "postgresql":
            # Row lock: a concurrent swap waits here until we commit, then sees the new pointer.
            locked = conn.execute(current_query.with_for_update()).scalar_one_or_none()
            if locked != expected_id:
                raise cls._pointer_error(conn, model_name, expected_id, locked, context, advice)
        # The swap itself is conditional, so it can only succeed from the expected champion. On
        # SQLite this UPDATE opens the write transaction (writer lock) before anything is read.
        swapped = conn.execute(
            sa.update(c)
            .where(c.c.model_name == model_name, c.c.version_id == expected_id)
            .values(version_id=new_id, since=at)
        ).rowcount
        if swapped != 1:
            actual = conn.execute(current_query).scalar_one_or_none()
            raise cls._pointer_error(conn, model_name, expected_id, actual, context, advice)
        return expected_id

    @classmethod
    def _pointer_error(
        cls,
        conn: Connection,
        model_name: str,
        expected_id: int,
        actual_id: int | None,
        context: str,
        advice: str,
    ) -> RegistryError:
        if actual_id is None:
            return NoChampionError(
                f"model {model_name!r} has no champion; bootstrap one with "
                "ModelRegistry.bootstrap_champion before promoting or rolling back"
            )
        return StaleDecisionError(
            cls._stale_message(
                conn, model_name, expected_id, actual_id, context=context, advice=advice
            )
        )

    @classmethod
    def _set_status(
        cls,
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
            current = cls._fetch_own_version(conn, model_name, version_id)
            raise error(
                f"cannot set {current.label} to {status!r}: it has status {current.status!r} "
                f"(expected {' or '.join(repr(s) for s in from_statuses)})"
            )

    def _rollback_candidates(self, model_name: str, current_id: int) -> list[ModelVersion]:
        """Earlier champions, most recent first, that a rollback may restore."""
        seen = {current_id}
        candidates = []
        for version in reversed(self.champion_history(model_name)):
            if version.id in seen:
                continue
            seen.add(version.id)
            if version.status in (STATUS_ROLLED_BACK, STATUS_REJECTED, STATUS_CHAMPION):
                continue
            candidates.append(version)
        return candidates

    def _restore(
        self,
        model_name: str,
        *,
        current: ModelVersion,
        candidate: ModelVersion,
        run_id: str | None,
        reason: str,
        failed: list[dict[str, Any]],
        effective_at: datetime | None = None,
    ) -> RollbackResult:
        with self.engine.begin() as conn:
            now = utcnow()
            self._swap_champion(
                conn,
                model_name,
                expected_id=current.id,
                new_id=candidate.id,
                at=now,
                context="while the rollback was running",
                advice="check the current champion before rolling back again",
            )
            self._set_status(
                conn,
                current.id,
                STATUS_ROLLED_BACK,
                from_statuses=(STATUS_CHAMPION,),
                model_name=model_name,
            )
            self._set_status(
                conn,
                candidate.id,
                STATUS_CHAMPION,
                from_statuses=_RESTORABLE_STATUSES,
                model_name=model_name,
                error=CandidateUnusableError,
            )
            self._append_event(
                conn,
                model_name=model_name,
                version_id=current.id,
                event=EVENT_ROLLED_BACK,
                run_id=run_id,
                reason=reason,
                details={
                    "restored_version_id": candidate.id,
                    "restored_version": candidate.version,
                    "rolled_back_version": current.version,
                    "reason": reason,
                    "failed_attempts": list(failed),
                    "effective_at": self._effective_after(conn, model_name, effective_at, now),
                },
                at=now,
            )
            return RollbackResult(
                restored=self._fetch_version(conn, candidate.id),
                rolled_back=self._fetch_version(conn, current.id),
                failed_attempts=list(failed),
            )

    def _rollback_failed_message(
        self,
        current: ModelVersion,
        candidates: list[ModelVersion],
        failed: list[dict[str, Any]],
        not_tried: list[ModelVersion],
        max_attempts: int,
        reason: str,
    ) -> str:
        head = (
            f"ROLLBACK FAILED for model {current.model_name!r}: {current.label} stays champion "
            f"(rollback reason: {reason})."
        )
        if not candidates:
            history = ", ".join(v.label for v in self.champion_history(current.model_name))
            body = (
                " There is no earlier champion to restore (skipped: the current champion and "
                f"versions already rolled back or rejected; champion history: {history or 'none'})."
            )
        else:
            labels = {v.id: v.label for v in candidates}
            tried = "; ".join(
                f"{labels.get(f['version_id'], f['version_id'])}: {f['error']}" for f in failed
            )
            body = f" Tried {len(failed)} candidate(s): {tried}."
            if not_tried:
                body += (
                    f" Not tried (max_attempts={max_attempts}): "
                    + ", ".join(v.label for v in not_tried)
                    + "."
                )
        action = (
            " Action needed: restore the missing or changed artifact file(s) so they match the "
            "sha256 in the registry, or name a good version with rollback(target_version_id=...), "
            "or register, evaluate and promote a new version."
        )
        return head + body + action

    @staticmethod
    def _append_event(
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
