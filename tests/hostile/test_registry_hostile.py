"""Hostile inputs against the registry, the artifact store and the stores' version ids.

Every case ends in a correct value (checked against an independent computation: hashlib, a
count of the rows) or a modelguard error naming the input and what is allowed; a refused write
stores nothing (no version row, no event). The swap tests prove that a file is read once and
only the bytes that were hashed are unpickled.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import joblib
import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelguard.alerts.conditions import Assessment
from modelguard.alerts.episodes import Observation
from modelguard.exceptions import (
    ArtifactIntegrityError,
    ArtifactPathError,
    InvalidArgumentError,
    InvalidIdError,
    ModelguardError,
    RegistryError,
)
from modelguard.health.checks import HealthReport
from modelguard.pipelines import retraining
from modelguard.storage import artifacts as artifacts_module
from modelguard.storage.alerts import AlertStore
from modelguard.storage.artifacts import ArtifactRef, ArtifactStore
from modelguard.storage.health import HealthStore
from modelguard.storage.ids import check_model_name, check_version_id
from modelguard.storage.registry import (
    ModelRegistry,
    model_events_table,
    model_versions_table,
)
from modelguard.storage.results import (
    DriftRunRecord,
    FeatureDriftRecord,
    MonitoringCheck,
    MonitoringDecision,
)

SCHEMA = {"age": "numeric"}
PROFILE = {"row_count": 1}
START, END = datetime(2026, 9, 1), datetime(2026, 9, 2)


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "artifacts"
    path.mkdir()
    return path


@pytest.fixture
def registry(engine, root) -> ModelRegistry:
    reg = ModelRegistry(engine, artifact_root=root)
    reg.ensure_schema()
    return reg


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _stored_nothing(engine) -> None:
    assert _count(engine, model_versions_table) == 0
    assert _count(engine, model_events_table) == 0


def _register(registry, uri, sha, name="churn"):
    return registry.register(
        name,
        artifact_uri=uri,
        artifact_sha256=sha,
        feature_schema=SCHEMA,
        reference_profile=PROFILE,
    )


def _real(registry, name="model.joblib", obj=None):
    ref = registry.artifacts.save(obj if obj is not None else {"w": [1, 2, 3]}, name)
    return ref.uri, ref.sha256


# --------------------------------------------------------------------------- register()


def test_register_accepts_a_real_artifact_and_stores_its_hash(registry, engine):
    uri, sha = _real(registry)
    version = _register(registry, uri, sha)
    assert version.artifact_sha256 == hashlib.sha256(Path(uri).read_bytes()).hexdigest()
    assert registry.load_model(version) == {"w": [1, 2, 3]}
    assert _count(engine, model_versions_table) == 1


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing", "missing: no file at"),
        ("relative_climb", "outside the artifact root"),
        ("absolute_outside", "outside the artifact root"),
        ("symlink_out", "outside the artifact root"),
        ("symlinked_folder_out", "outside the artifact root"),
        ("directory", "not a regular file"),
        ("root_itself", "the artifact root"),
        ("other_host", "names host"),
        ("other_scheme", "unsupported scheme"),
        ("nul", "NUL"),
    ],
)
def test_register_refuses_an_artifact_it_could_never_load(
    registry, engine, root, tmp_path, where, message
):
    outside = tmp_path / "outside"
    outside.mkdir()
    evil = outside / "x.joblib"
    joblib.dump({"evil": True}, evil)
    sha = hashlib.sha256(evil.read_bytes()).hexdigest()
    uri = {
        "missing": str(root / "nope.joblib"),
        "relative_climb": "../../etc/x.joblib",
        "absolute_outside": str(evil),
        "symlink_out": str(root / "link.joblib"),
        "symlinked_folder_out": str(root / "linked" / "x.joblib"),
        "directory": str(root / "folder"),
        "root_itself": str(root),
        "other_host": f"file://example.com{evil}",
        "other_scheme": f"s3://bucket{evil}",
        "nul": str(root / "a\x00b.joblib"),
    }[where]
    (root / "link.joblib").symlink_to(evil)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "folder").mkdir()
    with pytest.raises(ArtifactIntegrityError, match=message) as info:
        _register(registry, uri, sha)
    assert isinstance(info.value, RegistryError)
    if where in ("relative_climb", "absolute_outside"):
        assert isinstance(info.value, ArtifactPathError) and uri in str(info.value)
    _stored_nothing(engine)


def test_register_refuses_a_made_up_sha256_naming_both_hashes(registry, engine):
    uri, real = _real(registry)
    made_up = "ab" * 32
    with pytest.raises(ArtifactIntegrityError) as info:
        _register(registry, uri, made_up)
    text = str(info.value)
    assert real in text and made_up in text and uri in text
    _stored_nothing(engine)


def test_register_without_an_artifact_root_refuses(engine, root):
    rooted = ModelRegistry(engine, artifact_root=root)
    rooted.ensure_schema()
    uri, sha = _real(rooted)
    with pytest.raises(RegistryError, match="no artifact root"):
        _register(ModelRegistry(engine), uri, sha)
    _stored_nothing(engine)


@pytest.mark.parametrize(
    "sha",
    ["", "0" * 63, "0" * 65, "G" * 64, "AB" * 32, "ab" * 32 + "\n", None, 123, b"0" * 64],
)
def test_register_refuses_a_malformed_sha256(registry, engine, sha):
    uri, _ = _real(registry)
    with pytest.raises(RegistryError, match="64 lowercase hex"):
        _register(registry, uri, sha)
    _stored_nothing(engine)


@settings(max_examples=25)
@given(content=st.binary(min_size=0, max_size=256), claimed=st.binary(min_size=1, max_size=64))
def test_register_stores_only_the_hash_of_the_bytes(tmp_path_factory, content, claimed):
    root = tmp_path_factory.mktemp("hyp")
    engine = sa.create_engine(f"sqlite:///{root / 'reg.db'}")
    registry = ModelRegistry(engine, artifact_root=root)
    registry.ensure_schema()
    path = root / "blob.bin"
    path.write_bytes(content)
    real = hashlib.sha256(content).hexdigest()
    guess = hashlib.sha256(claimed).hexdigest()
    if guess == real:
        assert _register(registry, str(path), guess).artifact_sha256 == real
    else:
        with pytest.raises(ArtifactIntegrityError, match=real):
            _register(registry, str(path), guess)
        _stored_nothing(engine)
    engine.dispose()


# --------------------------------------------------------------------------- version ids

BAD_IDS = [
    True,
    False,
    np.bool_(True),
    "1",
    "one",
    1.0,
    1.5,
    0,
    -1,
    np.int64(0),
    b"1",
    [1],
    None,
    float("nan"),
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_check_version_id_refuses(bad):
    with pytest.raises(InvalidIdError) as info:
        check_version_id(bad, "target_version_id")
    assert "target_version_id" in str(info.value)
    assert isinstance(info.value, InvalidArgumentError) and isinstance(info.value, RegistryError)


@pytest.mark.parametrize("good", [1, 7, np.int64(3), np.int32(2), np.uint8(9), 10**12])
def test_check_version_id_accepts_real_integers(good):
    value = check_version_id(good)
    assert value == int(good) and type(value) is int


@given(st.integers(max_value=0))
def test_every_integer_below_one_is_refused(value):
    with pytest.raises(InvalidIdError, match=">= 1"):
        check_version_id(value)


@given(st.text(max_size=8) | st.floats(allow_nan=True) | st.booleans())
def test_no_text_float_or_bool_is_a_version_id(value):
    with pytest.raises(InvalidIdError, match="version_id"):
        check_version_id(value)


def _two_versions(registry):
    first = _register(registry, *_real(registry, "a.joblib"))
    registry.bootstrap_champion("churn", first.id)
    second = _register(registry, *_real(registry, "b.joblib"))
    return first, second


REGISTRY_CALLS = {
    "get_version": lambda r, bad, ok: r.get_version(bad),
    "load_model": lambda r, bad, ok: r.load_model(bad),
    "bootstrap_champion": lambda r, bad, ok: r.bootstrap_champion("churn", bad),
    "promote.version_id": lambda r, bad, ok: r.promote(
        "churn", bad, expected_champion_id=ok[0].id, reason="x"
    ),
    "promote.expected_champion_id": lambda r, bad, ok: r.promote(
        "churn", ok[1].id, expected_champion_id=bad, reason="x"
    ),
    "reject": lambda r, bad, ok: r.reject("churn", bad, reason="x"),
    "rollback.target_version_id": lambda r, bad, ok: r.rollback(
        "churn", reason="x", target_version_id=bad
    ),
    "record_evaluation": lambda r, bad, ok: r.record_evaluation(
        "churn", challenger_id=bad, champion_id=ok[0].id, result={}
    ),
    "record_check": lambda r, bad, ok: r.record_check("churn", bad, {"passed": True}),
    "record_approval_timeout": lambda r, bad, ok: r.record_approval_timeout(
        "churn", bad, reason="x"
    ),
}


@pytest.mark.parametrize("call", sorted(REGISTRY_CALLS))
@pytest.mark.parametrize("bad", [True, "1", 1.0, 0, -3], ids=repr)
def test_registry_calls_refuse_a_bad_version_id_and_change_nothing(registry, engine, call, bad):
    versions = _two_versions(registry)
    before = (_count(engine, model_versions_table), _count(engine, model_events_table))
    with pytest.raises(InvalidIdError) as info:
        REGISTRY_CALLS[call](registry, bad, versions)
    assert repr(bad) in str(info.value) or str(bad) in str(info.value)
    assert (_count(engine, model_versions_table), _count(engine, model_events_table)) == before
    assert registry.get_champion("churn").id == versions[0].id


def test_numpy_integer_ids_work_like_ints(registry):
    first, second = _two_versions(registry)
    assert registry.get_version(np.int64(first.id)).id == first.id
    assert registry.load_model(np.int32(first.id)) == {"w": [1, 2, 3]}
    promoted = registry.promote(
        "churn", np.int64(second.id), expected_champion_id=np.int64(first.id), reason="np ids"
    )
    assert promoted.id == second.id and type(promoted.id) is int


def _drift_run(version_id):
    return DriftRunRecord(
        dag_id="d",
        interval_start=START,
        interval_end=END,
        model_name="churn",
        model_version_id=version_id,
        run_id=None,
        verdict="healthy",
        dataset_drift=False,
        n_reference=1,
        n_current=1,
    )


STORE_RECORDS = {
    "DriftRunRecord": _drift_run,
    "FeatureDriftRecord": lambda v: FeatureDriftRecord(
        dag_id="d",
        interval_start=START,
        interval_end=END,
        feature="age",
        model_name="churn",
        model_version_id=v,
        run_id=None,
        feature_type="numeric",
    ),
    "MonitoringCheck": lambda v: MonitoringCheck(
        dag_id="d",
        interval_start=START,
        interval_end=END,
        check_name="performance",
        model_version_id=v,
        model_name="churn",
        status="ok",
        result={},
    ),
    "MonitoringDecision": lambda v: MonitoringDecision(
        dag_id="d",
        interval_start=START,
        interval_end=END,
        decision="none",
        reason=None,
        details={},
        run_id=None,
        decided_at=END,
        model_version_id=v,
    ),
}


@pytest.mark.parametrize("record", sorted(STORE_RECORDS))
@pytest.mark.parametrize("bad", [True, "1", 2.0, 0, np.bool_(False)], ids=repr)
def test_result_records_refuse_a_bad_version_id(record, bad):
    with pytest.raises(InvalidIdError, match="model_version_id"):
        STORE_RECORDS[record](bad)


@pytest.mark.parametrize("record", sorted(STORE_RECORDS))
def test_result_records_keep_a_numpy_id_as_int(record):
    value = STORE_RECORDS[record](np.int64(4)).model_version_id
    assert value == 4 and type(value) is int


@pytest.mark.parametrize("bad", [True, "1", 2.5, 0], ids=repr)
def test_health_store_refuses_a_bad_version_id(engine, bad):
    store = HealthStore(engine)
    store.ensure_schema()
    report = HealthReport(
        dag_id="d",
        model_name="churn",
        interval_start=START,
        interval_end=END,
        checks=(),
        model_version_id=bad,
    )
    with pytest.raises(InvalidIdError, match="model_version_id"):
        store.save(report)
    assert store.get("d", START, END) is None


@pytest.mark.parametrize("bad", [True, "1", 2.5, -1], ids=repr)
def test_alert_store_refuses_an_observation_with_a_bad_version_id(engine, bad):
    store = AlertStore(engine)
    store.ensure_schema()
    obs = Observation(
        dag_id="d",
        source="drift",
        interval_start=START,
        interval_end=END,
        assessment=Assessment((), (("drift", "dataset"),)),
        model_version_id=bad,
    )
    with pytest.raises(InvalidIdError, match="model_version_id"):
        store.record_observation("churn", obs, renotify_hours=1.0, channels={})


# --------------------------------------------------------------------------- model names

BAD_NAMES = [
    "churn\n",
    "",
    " churn",
    "../x",
    "a/b",
    "a\\b",
    "1abc",
    "a b",
    "a-b",
    "a.b",
    "é",
    "x" * 201,
    "churn\x00",
    None,
    5,
    b"churn",
]


@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
def test_model_names_follow_the_config_identifier_rule(registry, engine, bad):
    with pytest.raises(InvalidIdError, match="invalid model name") as info:
        check_model_name(bad)
    assert repr(bad) in str(info.value)
    uri, sha = _real(registry)
    for call in (
        lambda: _register(registry, uri, sha, name=bad),
        lambda: registry.get_champion(bad),
        lambda: registry.list_versions(bad),
        lambda: registry.events(bad),
        lambda: ModelRegistry.save_artifact({}, registry.artifacts.root, bad),
    ):
        with pytest.raises(InvalidIdError, match="invalid model name"):
            call()
    _stored_nothing(engine)


@given(st.text(max_size=12))
def test_a_model_name_is_valid_exactly_when_the_rule_says(name):
    import re

    valid = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,199}", name) is not None
    if valid:
        assert check_model_name(name) == name
    else:
        with pytest.raises(InvalidIdError):
            check_model_name(name)


# --------------------------------------------------------------------------- hash-then-load


class _Marker:
    """A pickle whose loading writes a marker file: it must never be unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "unpickled"))


def _config(root: Path):
    return SimpleNamespace(storage=SimpleNamespace(artifact_root=root))


def test_a_file_swapped_right_after_hashing_is_never_unpickled(root, tmp_path, monkeypatch):
    """The retraining steps' load (_load, used by train_and_validate_step and register_step):
    the file is swapped for a marker pickle the moment its bytes have been hashed. The bytes
    that were hashed are the bytes unpickled: the original object comes back."""
    store = ArtifactStore(root)
    ref = store.save({"model": "original"}, "_runs/r1/model.joblib")
    marker = tmp_path / "marker.txt"
    evil = pickle.dumps(_Marker(marker))
    real_hash = artifacts_module.sha256_bytes
    swaps = []

    def hash_then_swap(data: bytes) -> str:
        digest = real_hash(data)
        Path(ref.uri).write_bytes(evil)  # the swap, between the hash and any later read
        swaps.append(digest)
        return digest

    monkeypatch.setattr(artifacts_module, "sha256_bytes", hash_then_swap)
    loaded = retraining._load(_config(root), ref, what="the trained model")
    assert swaps, "the hash was never computed"
    assert loaded == {"model": "original"}
    assert not marker.exists()
    assert Path(ref.uri).read_bytes() == evil  # the swap did happen


def test_a_file_swapped_before_the_read_is_refused_and_never_unpickled(root, tmp_path):
    store = ArtifactStore(root)
    ref = store.save({"model": "original"}, "_runs/r1/model.joblib")
    marker = tmp_path / "marker.txt"
    Path(ref.uri).write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(ArtifactIntegrityError, match="refusing to load") as info:
        retraining._load(_config(root), ref, what="the trained model")
    assert ref.sha256 in str(info.value) and "the step that wrote it" in str(info.value)
    assert not marker.exists()


def test_the_registry_load_reads_once_even_when_the_file_is_swapped(
    registry, tmp_path, monkeypatch
):
    uri, sha = _real(registry, obj={"model": "champion"})
    version = _register(registry, uri, sha)
    marker = tmp_path / "marker.txt"
    evil = pickle.dumps(_Marker(marker))
    real_hash = artifacts_module.sha256_bytes

    def hash_then_swap(data: bytes) -> str:
        digest = real_hash(data)
        Path(uri).write_bytes(evil)
        return digest

    monkeypatch.setattr(artifacts_module, "sha256_bytes", hash_then_swap)
    assert registry.load_model(version) == {"model": "champion"}
    assert not marker.exists()
    monkeypatch.setattr(artifacts_module, "sha256_bytes", real_hash)
    with pytest.raises(ArtifactIntegrityError, match=sha):
        registry.load_model(version)  # the next load sees the swapped file and refuses it
    assert not marker.exists()


def test_register_refuses_a_file_swapped_after_it_was_saved(registry, engine, tmp_path):
    """register_model saves, then register() hashes the file itself: a swap in between is
    refused (the marker file is never unpickled: register only hashes)."""
    uri, sha = _real(registry)
    marker = tmp_path / "marker.txt"
    Path(uri).write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(ArtifactIntegrityError, match=sha):
        _register(registry, uri, sha)
    assert not marker.exists()
    _stored_nothing(engine)


@pytest.mark.parametrize("bad", [None, 3, {"uri": 1}, ["a"]], ids=repr)
def test_artifact_uris_that_are_no_path_are_refused(root, bad):
    store = ArtifactStore(root)
    with pytest.raises(ModelguardError):
        store.load(
            ArtifactRef.from_dict(bad) if isinstance(bad, dict) else ArtifactRef(bad, "0" * 64),
            what="x",
        )


def test_no_artifact_file_is_left_outside_the_root(root, tmp_path):
    store = ArtifactStore(root)
    for bad in ("../escape.joblib", str(tmp_path / "escape.joblib"), ".", ""):
        with pytest.raises(ArtifactPathError):
            store.save({"x": 1}, bad)
    assert not (tmp_path / "escape.joblib").exists()
    assert sorted(os.listdir(tmp_path)) == ["artifacts"]
