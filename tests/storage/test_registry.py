"""ModelRegistry on SQLite and PostgreSQL (the ``engine`` fixture comes from tests/conftest_db.py)."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import joblib
import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression

from modelguard.exceptions import (
    ArtifactIntegrityError,
    ArtifactPathError,
    NoChampionError,
    RegistryError,
)
from modelguard.storage.registry import (
    ModelRegistry,
    ModelVersion,
    champions_table,
    model_events_table,
    model_versions_table,
    sha256_file,
)
from modelguard.storage.results import ResultStore

SCHEMA = {"age": "numeric", "channel": "categorical"}
PROFILE = {
    "row_count": 3,
    "numeric": {"age": {"edges": [1.5, 2.5], "proportions": [0.25, 0.5, 0.25]}},
    "categorical": {"channel": {"email": 0.75, "sms": 0.25}},
}
FAKE_SHA = "0" * 64


@pytest.fixture
def registry(engine, tmp_path) -> ModelRegistry:
    reg = ModelRegistry(engine, artifact_root=tmp_path)
    reg.ensure_schema()
    return reg


def _artifact(registry: ModelRegistry, model_name: str = "churn") -> tuple[str, str]:
    """A real (tiny) artifact under the registry's root: register() checks file and hash."""
    ref = registry.artifacts.save({"model": model_name}, f"{uuid4().hex}.joblib")
    return ref.uri, ref.sha256


def _register(registry: ModelRegistry, model_name: str = "churn", **kwargs) -> ModelVersion:
    if "artifact_uri" not in kwargs:
        uri, sha = _artifact(registry, model_name)
        kwargs["artifact_uri"] = uri
        kwargs.setdefault("artifact_sha256", sha)
    kwargs.setdefault("feature_schema", SCHEMA)
    kwargs.setdefault("reference_profile", PROFILE)
    return registry.register(model_name, **kwargs)


def _count(engine, table, **where) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


@pytest.fixture
def small_model() -> LogisticRegression:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return LogisticRegression().fit(x, y)


class _LoadSpy:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise AssertionError("joblib.load must not be called for an unverified artifact")


def test_constructor_does_no_io(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'never.sqlite'}")
    ModelRegistry(engine)
    assert not (tmp_path / "never.sqlite").exists()
    engine.dispose()


def test_ensure_schema_is_idempotent(engine, registry):
    registry.ensure_schema()
    ResultStore(engine).ensure_schema()
    registry.ensure_schema()
    ResultStore(engine).ensure_schema()
    names = set(sa.inspect(engine).get_table_names())
    assert {"mg_model_versions", "mg_champions", "mg_model_events"} <= names
    assert {"mg_drift_runs", "mg_drift_features", "mg_monitoring_decisions"} <= names


def test_register_numbers_versions_per_model_independently(registry):
    a1 = _register(registry, "model_a")
    a2 = _register(registry, "model_a")
    b1 = _register(registry, "model_b")
    a3 = _register(registry, "model_a")
    b2 = _register(registry, "model_b")

    assert [a1.version, a2.version, a3.version] == [1, 2, 3]
    assert [b1.version, b2.version] == [1, 2]
    assert len({a1.id, a2.id, a3.id, b1.id, b2.id}) == 5
    assert [v.version for v in registry.list_versions("model_a")] == [1, 2, 3]
    assert [v.id for v in registry.list_versions("model_b")] == [b1.id, b2.id]
    assert registry.list_versions("unknown") == []
    assert all(v.status == "challenger" for v in registry.list_versions("model_a"))


def test_concurrent_registrations_get_distinct_consecutive_versions(registry):
    barrier = threading.Barrier(4)

    def worker(_: int) -> list[int]:
        barrier.wait()
        return [_register(registry, "churn").version for _ in range(5)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = [n for batch in pool.map(worker, range(4)) for n in batch]
    assert sorted(numbers) == list(range(1, 21))
    assert len(registry.events("churn")) == 20


def test_concurrent_bootstraps_leave_exactly_one_champion(engine, registry):
    versions = [_register(registry, "churn") for _ in range(4)]
    barrier = threading.Barrier(len(versions))

    def worker(version: ModelVersion) -> str:
        barrier.wait()
        try:
            registry.bootstrap_champion("churn", version.id)
        except RegistryError as exc:
            assert "already has a champion" in str(exc)
            return "refused"
        return "won"

    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        outcomes = list(pool.map(worker, versions))
    assert sorted(outcomes) == ["refused"] * 3 + ["won"]
    assert _count(engine, champions_table) == 1
    assert _count(engine, model_versions_table, status="champion") == 1
    assert [e.event for e in registry.events("churn")].count("promoted") == 1


def test_register_roundtrips_json_profile_bytes_and_datetimes(registry):
    arrays = bytes(range(256)) * 10 + b"\x00\xff"
    tz = timezone(timedelta(hours=2))
    version = _register(
        registry,
        "email_engagement",
        profile_arrays=arrays,
        metrics={"roc_auc": 0.81, "log_loss": float("nan"), "n": np.int64(1200)},
        training_start=datetime(2024, 3, 1, 12, 0, tzinfo=tz),
        training_end=datetime(2024, 3, 31, 23, 59, 59, 123456),
        strategy="sliding_window",
        run_id="manual__2024-04-01",
    )
    fetched = registry.get_version(version.id)

    assert fetched == version
    assert fetched.model_name == "email_engagement"
    assert fetched.feature_schema == SCHEMA
    assert fetched.reference_profile == PROFILE
    assert fetched.profile_arrays == arrays
    assert isinstance(fetched.profile_arrays, bytes)
    assert fetched.metrics == {"roc_auc": 0.81, "log_loss": None, "n": 1200}
    assert fetched.training_start == datetime(2024, 3, 1, 10, 0)  # converted to naive UTC
    assert fetched.training_start.tzinfo is None
    assert fetched.training_end == datetime(2024, 3, 31, 23, 59, 59, 123456)
    assert fetched.strategy == "sliding_window"
    assert fetched.run_id == "manual__2024-04-01"
    assert fetched.artifact_sha256 == sha256_file(fetched.artifact_uri)
    assert fetched.created_at.tzinfo is None
    assert abs(fetched.created_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)


def test_register_without_optional_fields(registry):
    version = _register(registry)
    assert version.profile_arrays is None
    assert version.metrics == {}
    assert version.training_start is None and version.training_end is None
    assert version.strategy is None and version.run_id is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "champion"}, "bootstrap_champion"),
        ({"status": "live"}, "unknown status"),
        ({"artifact_sha256": "xyz"}, "64 lowercase hex"),
        ({"feature_schema": {"age": "float"}}, "numeric, categorical"),
        ({"reference_profile": [1, 2]}, "reference_profile must be a dict"),
        (
            {"training_start": datetime(2024, 2, 1), "training_end": datetime(2024, 1, 1)},
            "before it starts",
        ),
    ],
)
def test_register_rejects_bad_input(engine, registry, kwargs, message):
    with pytest.raises(RegistryError, match=message):
        _register(registry, **kwargs)
    assert _count(engine, model_versions_table) == 0
    assert _count(engine, model_events_table) == 0


def test_register_rejects_unsafe_model_name(registry):
    with pytest.raises(RegistryError, match="invalid model name"):
        _register(registry, "../etc")


def test_get_champion_before_bootstrap_raises(registry):
    _register(registry, "churn")
    with pytest.raises(NoChampionError, match=r"'churn'.*bootstrap_champion"):
        registry.get_champion("churn")


def test_bootstrap_sets_champion_and_second_bootstrap_is_refused(engine, registry):
    v1 = _register(registry, "churn")
    v2 = _register(registry, "churn")

    champion = registry.bootstrap_champion("churn", v1.id, run_id="run-1")
    assert champion.id == v1.id
    assert champion.status == "champion"
    assert registry.get_champion("churn") == champion

    versions_before = registry.list_versions("churn")
    events_before = registry.events("churn")
    with pytest.raises(RegistryError, match=r"already has a champion: churn v1 \(id"):
        registry.bootstrap_champion("churn", v2.id)

    assert registry.get_champion("churn").id == v1.id
    assert registry.list_versions("churn") == versions_before
    assert registry.events("churn") == events_before
    assert registry.get_version(v2.id).status == "challenger"
    assert _count(engine, champions_table) == 1


def test_exactly_one_champion_per_model(engine, registry):
    a = [_register(registry, "model_a") for _ in range(3)]
    b = [_register(registry, "model_b") for _ in range(2)]
    registry.bootstrap_champion("model_a", a[1].id)
    registry.bootstrap_champion("model_b", b[0].id)
    for other in (a[0], a[2]):
        with pytest.raises(RegistryError):
            registry.bootstrap_champion("model_a", other.id)

    assert _count(engine, champions_table, model_name="model_a") == 1
    assert _count(engine, champions_table, model_name="model_b") == 1
    assert _count(engine, model_versions_table, model_name="model_a", status="champion") == 1
    assert _count(engine, model_versions_table, model_name="model_b", status="champion") == 1
    assert registry.get_champion("model_a").id == a[1].id
    assert registry.get_champion("model_b").id == b[0].id


def test_champion_pointer_primary_key_enforces_one_per_model(engine, registry):
    v1 = _register(registry, "churn")
    v2 = _register(registry, "churn")
    registry.bootstrap_champion("churn", v1.id)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(champions_table).values(
                model_name="churn", version_id=v2.id, since=datetime(2024, 1, 1)
            )
        )
    assert _count(engine, champions_table) == 1


def test_bootstrap_refuses_version_of_another_model_or_unknown_id(engine, registry):
    other = _register(registry, "other")
    _register(registry, "churn")
    with pytest.raises(RegistryError, match="belongs to model 'other'"):
        registry.bootstrap_champion("churn", other.id)
    with pytest.raises(RegistryError, match="unknown model version id 9999"):
        registry.bootstrap_champion("churn", 9999)
    assert _count(engine, champions_table) == 0
    with pytest.raises(NoChampionError):
        registry.get_champion("churn")


def test_bootstrap_refuses_rejected_version(engine, registry):
    rejected = _register(registry, "churn", status="rejected")
    with pytest.raises(RegistryError, match="'rejected'"):
        registry.bootstrap_champion("churn", rejected.id)
    assert _count(engine, champions_table) == 0


def test_events_are_appended(registry):
    v1 = _register(registry, "churn", run_id="train-1")
    v2 = _register(registry, "churn", run_id="train-2")
    _register(registry, "other")
    registry.bootstrap_champion("churn", v1.id, run_id="boot-1", reason="first deploy")

    events = registry.events("churn")
    assert [(e.event, e.version_id) for e in events] == [
        ("registered", v1.id),
        ("registered", v2.id),
        ("promoted", v1.id),
    ]
    assert [e.run_id for e in events] == ["train-1", "train-2", "boot-1"]
    assert events[0].details == {"status": "challenger", "version": 1}
    assert events[2].reason == "first deploy"
    assert events[2].details["bootstrap"] is True
    assert events[2].details["previous_champion_id"] is None
    assert all(e.model_name == "churn" and e.at.tzinfo is None for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.event for e in registry.events("other")] == ["registered"]


def test_registry_has_no_delete_methods():
    public = [name for name in dir(ModelRegistry) if not name.startswith("_")]
    assert not [name for name in public if "delete" in name or "remove" in name]


def test_save_artifact_and_load_model_roundtrip(registry, small_model, tmp_path):
    uri, sha = registry.save_artifact(small_model, tmp_path / "artifacts", "churn")

    path = Path(uri)
    assert path.is_absolute() and path.is_file()
    assert path.parent == (tmp_path / "artifacts" / "churn").resolve()
    assert path.suffix == ".joblib"
    assert sha == sha256_file(path) == ModelRegistry.sha256_file(path)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]

    version = _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    loaded = registry.load_model(version)
    x = np.random.default_rng(1).normal(size=(20, 3))
    assert type(loaded) is LogisticRegression
    np.testing.assert_array_equal(loaded.predict_proba(x), small_model.predict_proba(x))
    # A version id works too, and a file:// URI is accepted.
    assert type(registry.load_model(version.id)) is LogisticRegression
    file_version = _register(registry, "churn", artifact_uri=path.as_uri(), artifact_sha256=sha)
    assert type(registry.load_model(file_version)) is LogisticRegression


def test_two_artifacts_never_overwrite_each_other(registry, small_model, tmp_path):
    uri_a, _ = registry.save_artifact(small_model, tmp_path, "churn")
    uri_b, _ = registry.save_artifact(small_model, tmp_path, "churn")
    assert uri_a != uri_b


def test_corrupted_artifact_is_refused_without_loading(
    registry, small_model, tmp_path, monkeypatch
):
    uri, sha = registry.save_artifact(small_model, tmp_path, "churn")
    version = _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    data = bytearray(Path(uri).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(uri).write_bytes(bytes(data))

    spy = _LoadSpy()
    monkeypatch.setattr(joblib, "load", spy)
    with pytest.raises(ArtifactIntegrityError, match=r"sha256 .* registry recorded") as info:
        registry.load_model(version)
    assert uri in str(info.value)
    assert "churn v1" in str(info.value)
    assert spy.calls == 0


def test_replaced_artifact_is_never_unpickled(registry, small_model, tmp_path):
    uri, sha = registry.save_artifact(small_model, tmp_path, "churn")
    version = _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    marker = tmp_path / "unpickled.txt"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "loaded"))

    Path(uri).write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ArtifactIntegrityError):
        registry.load_model(version)
    assert not marker.exists()


def test_missing_artifact_is_refused_without_loading(registry, small_model, tmp_path, monkeypatch):
    uri, sha = registry.save_artifact(small_model, tmp_path, "churn")
    version = _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    Path(uri).unlink()

    spy = _LoadSpy()
    monkeypatch.setattr(joblib, "load", spy)
    with pytest.raises(ArtifactIntegrityError, match="missing") as info:
        registry.load_model(version)
    assert uri in str(info.value)
    assert spy.calls == 0


def test_load_model_checks_the_registry_hash_not_the_callers_copy(registry, small_model, tmp_path):
    uri, sha = registry.save_artifact(small_model, tmp_path, "churn")
    version = _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    tampered_uri = str(tmp_path / "evil.joblib")
    joblib.dump({"not": "the model"}, tampered_uri)
    forged = ModelVersion(
        **{
            **version.__dict__,
            "artifact_uri": tampered_uri,
            "artifact_sha256": sha256_file(tampered_uri),
        }
    )
    assert type(registry.load_model(forged)) is LogisticRegression


def test_load_model_refuses_an_artifact_outside_the_root(engine, small_model, tmp_path):
    # Registered under a wider root; the registry of the narrower root never opens the file.
    wide = ModelRegistry(engine, artifact_root=tmp_path)
    wide.ensure_schema()
    inside = ModelRegistry(engine, artifact_root=tmp_path / "root")
    uri, sha = inside.save_artifact(small_model, tmp_path / "other", "churn")
    version = _register(wide, "churn", artifact_uri=uri, artifact_sha256=sha)
    with pytest.raises(ArtifactPathError, match="outside the artifact root") as info:
        inside.load_model(version)
    assert "churn v1" in str(info.value)


def test_a_registry_without_an_artifact_root_never_loads(engine, small_model, tmp_path):
    rooted = ModelRegistry(engine, artifact_root=tmp_path)
    rooted.ensure_schema()
    registry = ModelRegistry(engine)
    uri, sha = registry.save_artifact(small_model, tmp_path, "churn")
    version = _register(rooted, "churn", artifact_uri=uri, artifact_sha256=sha)
    with pytest.raises(RegistryError, match="no artifact root"):
        registry.load_model(version)
    # ... and never registers: it could not check the artifact.
    with pytest.raises(RegistryError, match="no artifact root"):
        _register(registry, "churn", artifact_uri=uri, artifact_sha256=sha)
    assert _count(engine, model_versions_table) == 1


def test_get_version_unknown_id(registry):
    with pytest.raises(RegistryError, match="unknown model version id 42"):
        registry.get_version(42)
