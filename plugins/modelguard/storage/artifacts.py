"""The one artifact store: atomic writes, sha256, verified loads, every path inside one root.

Model files of the registry and the files the retraining steps hand each other (training set,
fitted model) all go through :class:`ArtifactStore`; reports use :func:`atomic_write_bytes`.

* **Atomic**: bytes go to a temporary file in the target folder, are fsynced, then renamed
  over the final name, so a crash leaves the old file or the new one, never half of one.
* **Verified load**: the file is read once into memory, those bytes are hashed and compared
  with the recorded sha256, and only those same bytes are unpickled. Hashing the file and then
  opening it again would let a file replaced in between be unpickled unchecked.
* **Confined**: every URI or path is resolved (symlinks followed) and must lie under
  ``storage.artifact_root``; a relative path is taken under the root. A path that climbs out
  (``..``, an absolute path elsewhere, a symlink pointing out) or another scheme or host is an
  :class:`~modelguard.exceptions.ArtifactPathError`, before anything is read or written.

URIs are plain absolute paths; ``file://`` URIs are accepted too. Pure: no Airflow import.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from modelguard.exceptions import ArtifactIntegrityError, ArtifactPathError
from modelguard.storage.ids import check_model_name

__all__ = [
    "TMP_PREFIX",
    "ArtifactRef",
    "ArtifactStore",
    "atomic_write_bytes",
    "atomic_write_text",
    "sha256_bytes",
    "sha256_file",
]

TMP_PREFIX = ".modelguard-tmp-"
"""Name prefix of the temporary files of :func:`atomic_write_bytes` (left only by a crash)."""

_CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (to check a file, never to load one)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file renamed into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact is and the sha256 of its bytes: what a registry row or an XCom
    holds instead of the object itself."""

    uri: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"uri": self.uri, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Any) -> ArtifactRef:
        if not isinstance(data, dict) or not {"uri", "sha256"} <= set(data):
            raise ArtifactIntegrityError(
                f"an artifact reference needs 'uri' and 'sha256', got {data!r}; pass what the "
                "step that wrote the artifact returned"
            )
        return cls(uri=str(data["uri"]), sha256=str(data["sha256"]))


class ArtifactStore:
    """Artifacts under one root folder (``storage.artifact_root``); the constructor does no I/O."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    # ------------------------------------------------------------------ paths

    def path_of(self, uri: str | os.PathLike[str]) -> Path:
        """The resolved file path of ``uri`` (absolute path, ``file://`` URI, or a path relative
        to the root); :class:`ArtifactPathError` unless it lies under the root."""
        if not isinstance(uri, (str, os.PathLike)):
            raise ArtifactPathError(
                f"an artifact URI must be a path or a file:// URI string, got {uri!r} "
                f"({type(uri).__name__})"
            )
        text = os.fspath(uri)
        if not isinstance(text, str) or not text:
            raise ArtifactPathError(f"an artifact URI must be a non-empty string, got {uri!r}")
        if "\x00" in text:
            raise ArtifactPathError(
                f"artifact URI {text!r} holds a NUL character; give a plain path under "
                "storage.artifact_root"
            )
        if text.startswith("file://"):
            parsed = urlparse(text)
            if parsed.netloc not in ("", "localhost"):
                raise ArtifactPathError(
                    f"artifact URI {text!r} names host {parsed.netloc!r}; only local files are "
                    "supported"
                )
            text = unquote(parsed.path)
        elif "://" in text:
            raise ArtifactPathError(
                f"artifact URI {text!r} has an unsupported scheme; use an absolute path or file://"
            )
        path = Path(text).expanduser()
        resolved = (path if path.is_absolute() else self.root / path).resolve()
        if resolved == self.root:
            raise ArtifactPathError(
                f"artifact path {os.fspath(uri)!r} is the artifact root {str(self.root)!r} "
                "itself; an artifact is a file under it"
            )
        if not resolved.is_relative_to(self.root):
            raise ArtifactPathError(
                f"artifact path {os.fspath(uri)!r} resolves to {str(resolved)!r}, outside the "
                f"artifact root {str(self.root)!r}; artifacts are read and written only under "
                "storage.artifact_root (move the file there or fix the URI)"
            )
        return resolved

    # ------------------------------------------------------------------ writes

    def save(self, obj: Any, relative_path: str | os.PathLike[str]) -> ArtifactRef:
        """Pickle ``obj`` with joblib to ``relative_path`` under the root (replacing a file
        there, atomically); the sha256 is that of the bytes written."""
        import joblib

        path = self.path_of(relative_path)
        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        data = buffer.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        return ArtifactRef(uri=str(path), sha256=sha256_bytes(data))

    def save_model(self, model: Any, model_name: str) -> ArtifactRef:
        """:meth:`save` to a new ``<model_name>/<UTC timestamp>-<uuid>.joblib``: two saves
        never overwrite each other."""
        check_model_name(model_name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self.save(model, Path(model_name) / f"{stamp}-{uuid.uuid4().hex[:12]}.joblib")

    # ------------------------------------------------------------------ reads

    def problem(
        self, ref: ArtifactRef, *, what: str, recorded_by: str = "the registry"
    ) -> str | None:
        """Why the artifact ``ref`` (called ``what``) cannot be trusted, or ``None`` when its
        sha256 matches. Only hashes the file, never unpickles it."""
        try:
            path = self.path_of(ref.uri)
        except ArtifactPathError as exc:
            return f"{what}: {exc}"
        if not path.is_file():
            return f"{what} is missing: no file at {str(path)!r}"
        try:
            actual = sha256_file(path)
        except OSError as exc:
            return f"{what} at {str(path)!r} cannot be read: {exc}"
        if actual != ref.sha256:
            return f"{what} at {str(path)!r} has sha256 {actual}, but {recorded_by} recorded {ref.sha256}"
        return None

    def read_verified(
        self, ref: ArtifactRef, *, what: str, recorded_by: str = "the registry"
    ) -> bytes:
        """The bytes of ``ref``, read once and checked against its sha256;
        :class:`ArtifactIntegrityError` when the file is outside the root, missing or changed."""
        try:
            path = self.path_of(ref.uri)
        except ArtifactPathError as exc:
            raise ArtifactPathError(f"{what}: {exc}") from None
        if not path.is_file():
            if path.exists():
                raise ArtifactIntegrityError(
                    f"{what} at {str(path)!r} is not a regular file (a folder or a device); "
                    "an artifact is one file written by the artifact store"
                )
            raise ArtifactIntegrityError(f"{what} is missing: no file at {str(path)!r}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArtifactIntegrityError(
                f"{what} at {str(path)!r} cannot be read: {exc.strerror or exc}"
            ) from exc
        actual = sha256_bytes(data)
        if actual != ref.sha256:
            raise ArtifactIntegrityError(
                f"{what} at {str(path)!r} has sha256 {actual}, but {recorded_by} recorded "
                f"{ref.sha256}; refusing to load it"
            )
        return data

    def load(self, ref: ArtifactRef, *, what: str, recorded_by: str = "the registry") -> Any:
        """Unpickle the verified bytes of :meth:`read_verified` (nothing else is unpickled)."""
        import joblib

        return joblib.load(io.BytesIO(self.read_verified(ref, what=what, recorded_by=recorded_by)))
