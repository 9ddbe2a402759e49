"""The :class:`ModelRegistry`: versions registered, the first champion bootstrapped, artifacts
saved and loaded through the artifact store, and the reads; the gate and rollbacks come from
:mod:`.gate` and :mod:`.rollback`."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from modelguard.exceptions import ArtifactIntegrityError, NoChampionError, RegistryError
from modelguard.storage.artifacts import ArtifactRef, ArtifactStore, sha256_file
from modelguard.storage.db import metadata, optional_naive_utc, to_naive_utc, utcnow
from modelguard.storage.registry.gate import ChampionGate
from modelguard.storage.registry.history import champion_changes
from modelguard.storage.registry.rollback import Rollbacks
from modelguard.storage.registry.rows import (
    EVENT_PROMOTED,
    EVENT_REGISTERED,
    FEATURE_TYPES,
    STATUS_CHALLENGER,
    STATUS_CHAMPION,
    STATUS_REJECTED,
    STATUS_ROLLED_BACK,
    STATUSES,
    TABLES,
    ModelEvent,
    ModelVersion,
    append_event,
    champion_row,
    champions_table,
    check_id,
    check_mapping,
    check_model_name,
    event_from_row,
    fetch_version,
    model_events_table,
    model_versions_table,
    version_from_row,
)

_SHA256_RE = re.compile(r"[0-9a-f]{64}\Z")
_REGISTER_ATTEMPTS = 10


class ModelRegistry(ChampionGate, Rollbacks):
    """Model versions, the single champion per model name and the event log.

    The constructor does no I/O; call :meth:`ensure_schema` once (idempotent) before use.
    ``artifact_root`` (``storage.artifact_root``) is where artifacts are loaded and verified
    from; a registry without one records and reads rows but never opens a file.
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
        metadata.create_all(self.engine, tables=TABLES, checkfirst=True)

    # ------------------------------------------------------------------ artifacts

    sha256_file = staticmethod(sha256_file)

    @staticmethod
    def save_artifact(
        model: Any, artifact_root: str | os.PathLike[str], model_name: str
    ) -> tuple[str, str]:
        """Dump ``model`` with joblib to ``<root>/<model_name>/<UTC timestamp>-<uuid>.joblib``
        through the artifact store (atomic: a crash never leaves a half-written file under the
        final name). Returns ``(uri, sha256)``, ``uri`` the plain absolute path of the file."""
        check_model_name(model_name)
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
        version_id = check_id("version", version_id)
        store = self._artifact_store()
        current = self.get_version(version_id)
        return store.load(current.artifact, what=f"artifact of {current.label}")

    def _check_artifact(self, model_name: str, uri: str, sha256: str) -> None:
        """Refuse to register an artifact that could never be loaded: outside the root
        (:class:`ArtifactPathError`), missing or not a regular file, or whose bytes do not hash
        to ``sha256`` (:class:`ArtifactIntegrityError` naming the path and both hashes)."""
        if self.artifacts is None:
            raise RegistryError(
                f"cannot register a version of {model_name!r}: this ModelRegistry has no "
                "artifact root, so it cannot check that the artifact exists and has the given "
                "sha256; create it as ModelRegistry(engine, "
                "artifact_root=config.storage.artifact_root)"
            )
        what = f"the artifact of the new version of {model_name!r}"
        path = self.artifacts.path_of(uri)
        if path.exists() and not path.is_file():
            raise ArtifactIntegrityError(
                f"{what} at {str(path)!r} is not a regular file; register a model file saved "
                "with ModelRegistry.save_artifact"
            )
        self.artifacts.read_verified(
            ArtifactRef(uri=uri, sha256=sha256), what=what, recorded_by="artifact_sha256"
        )

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

        Only an artifact that could be loaded is registered: ``artifact_uri`` must resolve
        (symlinks followed) to a regular file under the artifact root whose bytes hash to
        ``artifact_sha256``; otherwise :class:`ArtifactPathError` or
        :class:`ArtifactIntegrityError` (naming the path, and both hashes) and nothing is
        stored. A registry without an artifact root cannot register.
        """
        check_model_name(model_name)
        if status not in STATUSES:
            raise RegistryError(f"unknown status {status!r}; allowed: {', '.join(STATUSES)}")
        if status == STATUS_CHAMPION:
            raise RegistryError(
                f"cannot register a version of {model_name!r} directly as champion; register it "
                "as a challenger, then use bootstrap_champion (first champion) or a promotion"
            )
        if not isinstance(artifact_uri, str) or not artifact_uri:
            raise RegistryError("artifact_uri must be a non-empty string")
        if not isinstance(artifact_sha256, str) or not _SHA256_RE.fullmatch(artifact_sha256):
            raise RegistryError(
                f"artifact_sha256 must be 64 lowercase hex characters, got {artifact_sha256!r}"
            )
        schema = check_mapping("feature_schema", feature_schema)
        bad = {k: v for k, v in schema.items() if not isinstance(k, str) or v not in FEATURE_TYPES}
        if bad:
            raise RegistryError(
                f"feature_schema of {model_name!r} has invalid entries {bad!r}; keys are column "
                f"names and values one of {', '.join(FEATURE_TYPES)}"
            )
        profile = check_mapping("reference_profile", reference_profile)
        metrics_dict = {} if metrics is None else check_mapping("metrics", metrics)
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
        # Last check before anything is written: the artifact is a regular file under the
        # artifact root (resolved, symlinks followed) whose bytes hash to artifact_sha256.
        self._check_artifact(model_name, artifact_uri, artifact_sha256)

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
        created = fetch_version(conn, version_id)
        append_event(
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
        check_model_name(model_name)
        version_id = check_id("version_id", version_id)
        try:
            with self.engine.begin() as conn:
                current = champion_row(conn, model_name)
                if current is not None:
                    raise RegistryError(_already_has_champion(current))
                candidate = fetch_version(conn, version_id)
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
                append_event(
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
                return fetch_version(conn, candidate.id)
        except IntegrityError as exc:
            # Another transaction bootstrapped the same model between our check and our insert.
            with self.engine.connect() as conn:
                current = champion_row(conn, model_name)
            if current is None:
                raise RegistryError(
                    f"could not bootstrap champion of {model_name!r}: {exc}"
                ) from exc
            raise RegistryError(_already_has_champion(current)) from exc

    # ------------------------------------------------------------------ reads

    def get_champion(self, model_name: str) -> ModelVersion:
        """The current champion of ``model_name``; :class:`NoChampionError` if there is none."""
        check_model_name(model_name)
        with self.engine.connect() as conn:
            champion = champion_row(conn, model_name)
        if champion is None:
            raise NoChampionError(
                f"model {model_name!r} has no champion yet. Register a version and make it the "
                f"first champion with ModelRegistry.bootstrap_champion({model_name!r}, "
                "<version id>) (the retraining DAG can register one)."
            )
        return champion

    def get_version(self, version_id: int) -> ModelVersion:
        """The version with primary key ``version_id``; :class:`RegistryError` if unknown,
        :class:`~modelguard.exceptions.InvalidIdError` unless it is an integer >= 1."""
        version_id = check_id("version_id", version_id)
        with self.engine.connect() as conn:
            return fetch_version(conn, version_id)

    def list_versions(self, model_name: str) -> list[ModelVersion]:
        """All versions of ``model_name``, oldest first (empty list for an unknown model)."""
        check_model_name(model_name)
        t = model_versions_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.model_name == model_name).order_by(t.c.version)
            ).all()
        return [version_from_row(r) for r in rows]

    def events(self, model_name: str) -> list[ModelEvent]:
        """The event log of ``model_name`` in the order the events were appended."""
        check_model_name(model_name)
        t = model_events_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.model_name == model_name).order_by(t.c.id)
            ).all()
        return [event_from_row(r) for r in rows]

    def champion_history(self, model_name: str) -> list[ModelVersion]:
        """Versions in the order they became champion: bootstrap, promotions and the versions
        restored by rollbacks (a version restored twice appears twice). Current state of each."""
        with self.engine.connect() as conn:
            ids = [change.version_id for change in champion_changes(conn, model_name)]
            v = model_versions_table
            by_id = (
                {
                    row.id: version_from_row(row)
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
        check_model_name(model_name)
        at = to_naive_utc(at)
        with self.engine.connect() as conn:
            changes = champion_changes(conn, model_name)
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
        check_model_name(model_name)
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
        return version_from_row(row)


def _already_has_champion(current: ModelVersion) -> str:
    return (
        f"model {current.model_name!r} already has a champion: {current.label}; "
        "bootstrap only sets the first champion, replace it with a promotion instead"
    )
