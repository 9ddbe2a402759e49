"""The artifact store: atomic writes, sha256 of the written bytes, verified loads, confinement."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import joblib
import pytest

from modelguard.exceptions import ArtifactIntegrityError, ArtifactPathError, InvalidArgumentError
from modelguard.storage.artifacts import (
    TMP_PREFIX,
    ArtifactRef,
    ArtifactStore,
    atomic_write_bytes,
    sha256_file,
)


@pytest.fixture
def store(tmp_path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "root")


def test_save_writes_atomically_and_hashes_the_written_bytes(store):
    ref = store.save({"a": 1}, "run/training.joblib")
    path = Path(ref.uri)
    assert path == store.root / "run" / "training.joblib"
    assert ref.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert store.load(ref, what="the training set") == {"a": 1}
    # Saving again replaces the file, and the new sha256 is that of the new bytes.
    again = store.save({"a": 2}, "run/training.joblib")
    assert again.uri == ref.uri and again.sha256 != ref.sha256
    assert store.load(again, what="the training set") == {"a": 2}


def test_save_model_never_overwrites_and_checks_the_name(store):
    first, second = store.save_model([1], "churn"), store.save_model([1], "churn")
    assert first.uri != second.uri
    assert Path(first.uri).parent == store.root / "churn"
    with pytest.raises(InvalidArgumentError, match="invalid model name '../x'"):
        store.save_model([1], "../x")


@pytest.mark.parametrize(
    "uri",
    ["../outside.joblib", "a/../../outside.joblib", "/etc/passwd", "file:///etc/passwd"],
)
def test_paths_that_climb_out_of_the_root_are_refused(store, uri):
    with pytest.raises(ArtifactPathError, match="outside the artifact root"):
        store.path_of(uri)
    with pytest.raises(ArtifactPathError, match="outside the artifact root"):
        store.save([1], uri)
    with pytest.raises(ArtifactPathError, match="outside the artifact root"):
        store.load(ArtifactRef(uri, "0" * 64), what="the model")
    assert "outside the artifact root" in store.problem(ArtifactRef(uri, "0" * 64), what="x")


def test_a_symlink_pointing_out_of_the_root_is_refused(store, tmp_path):
    outside = tmp_path / "elsewhere.joblib"
    joblib.dump([1], outside)
    store.root.mkdir(parents=True)
    os.symlink(outside, store.root / "link.joblib")
    with pytest.raises(ArtifactPathError, match="outside the artifact root"):
        store.load(ArtifactRef("link.joblib", sha256_file(outside)), what="the model")


@pytest.mark.parametrize(
    ("uri", "match"),
    [("s3://bucket/m.joblib", "unsupported scheme"), ("file://host/m.joblib", "names host")],
)
def test_other_schemes_and_hosts_are_refused(store, uri, match):
    with pytest.raises(ArtifactPathError, match=match):
        store.path_of(uri)


def test_a_changed_file_is_never_unpickled(store, tmp_path):
    ref = store.save([1], "model.joblib")
    marker = tmp_path / "unpickled.txt"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "loaded"))

    Path(ref.uri).write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ArtifactIntegrityError, match="has sha256 .* but the registry recorded"):
        store.load(ref, what="the model")
    assert not marker.exists()
    assert "has sha256" in store.problem(ref, what="the model")


def test_missing_file_and_bad_reference(store):
    ref = ArtifactRef(str(store.root / "gone.joblib"), "0" * 64)
    with pytest.raises(ArtifactIntegrityError, match="the model is missing: no file at"):
        store.load(ref, what="the model")
    assert store.problem(ref, what="the model").startswith("the model is missing")
    with pytest.raises(ArtifactIntegrityError, match="needs 'uri' and 'sha256'"):
        ArtifactRef.from_dict({"uri": "x"})
    assert ArtifactRef.from_dict(ref.to_dict()) == ref


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "report.json"
    atomic_write_bytes(path, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(path, object())  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]
