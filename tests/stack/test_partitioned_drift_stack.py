"""The partitioned drift check under the real scheduler (LocalExecutor) on PostgreSQL.

Two models in one config folder, trained on the same sends and watching the same source table:
``email_engagement`` with ``monitoring.drift_partitions: 1`` (one ``detect_drift`` task) and its
twin ``email_parts`` with ``drift_partitions: 8`` (eight mapped ``summarise_partition`` tasks,
then ``merge_and_decide``). The same day windows, a quiet one and one of the drift episode, are
run in both DAGs through the REST API: the eight map indexes ran, and the verdicts, drift XComs
and stored per-feature results are the one-task DAG's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import sqlalchemy as sa
import yaml

from tests.stack.client import StackClient, expect
from tests.stack.conftest import AirflowStack
from tests.stack.world import CHAMPION, EPISODE, models_folder

pytestmark = pytest.mark.stack

ONE, PARTS = "email_engagement", "email_parts"
N_PARTS = 8
QUIET_DAY, DRIFT_DAY = datetime(2026, 7, 5), EPISODE[0]


@pytest.fixture(scope="module")
def world(stores, tmp_path_factory) -> dict[str, Any]:
    """The stack tests' timeline, and the twin model bootstrapped on the same sends."""
    from email_engagement.bootstrap import train_and_register
    from email_engagement.schema import LABEL_DELAY_HOURS
    from modelguard.config import load_config
    from modelguard.storage.source import engine_for_url

    folder, raw = models_folder(
        tmp_path_factory.mktemp("partitions"), stores["source"], stores["registry"]
    )
    twin = {**raw, "model": {**raw["model"], "name": PARTS}}
    twin["monitoring"] = {**raw["monitoring"], "drift_partitions": N_PARTS}
    (folder / f"{PARTS}.yaml").write_text(yaml.safe_dump(twin))
    train_and_register(
        load_config(folder / f"{PARTS}.yaml"),
        engine_for_url(stores["source"]),
        engine_for_url(stores["registry"]),
        *CHAMPION,
        run_id="stack_bootstrap",
        as_of=CHAMPION[1] + timedelta(hours=LABEL_DELAY_HOURS),
    )
    return {"folder": folder, **stores}


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world["source"],
        registry_url=world["registry"],
        config_path=world["folder"],
        home=tmp_path_factory.mktemp("stack-home"),
    ) as started:
        started.unpause([f"{m}_monitoring" for m in (ONE, PARTS)])
        yield started


@pytest.fixture(scope="module")
def api(stack) -> StackClient:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags([f"{m}_monitoring" for m in (ONE, PARTS)])
        yield client


@pytest.fixture(scope="module")
def registry_engine(world):
    engine = sa.create_engine(world["registry"], poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_day(api: StackClient, model: str, day: datetime) -> str:
    """A manual run of the model's monitoring DAG over one day (window params)."""
    conf = {"window_start": z(day), "window_end": z(day + timedelta(days=1))}
    body = expect(api.trigger(f"{model}_monitoring", conf, logical_date=None), 200)
    return body["dag_run_id"]


def stored_features(engine, model: str, day: datetime) -> list[dict]:
    """The day's per-feature drift rows of the model's monitoring DAG, without what names the
    DAG, the model, its version or the run."""
    drop = {"dag_id", "model_name", "model_version_id", "run_id", "created_at", "id"}
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT * FROM mg_drift_features WHERE dag_id = :d AND interval_start = :s "
                "ORDER BY feature"
            ),
            {"d": f"{model}_monitoring", "s": day},
        )
        return [{k: v for k, v in r._mapping.items() if k not in drop} for r in found]


def comparable(drift: dict) -> dict:
    """A drift XCom without what names the model, its version or its report folder (the
    summary text names the model: read as the one-task model's)."""
    keep_out = {"model_name", "model_version", "model_version_id", "report_uri", "html_uri"}
    out = {k: v for k, v in drift.items() if k not in keep_out}
    out["summary"] = out["summary"].replace(f"Model {PARTS} ", f"Model {ONE} ")
    return out


def test_both_models_judge_with_the_same_profile(registry_engine):
    with registry_engine.connect() as conn:
        profiles = conn.execute(
            sa.text(
                "SELECT v.model_name, v.reference_profile, v.profile_arrays FROM mg_model_versions v "
                "JOIN mg_champions c ON c.version_id = v.id ORDER BY v.model_name"
            )
        ).all()
    assert [p.model_name for p in profiles] == [ONE, PARTS]
    assert profiles[0].reference_profile == profiles[1].reference_profile
    assert bytes(profiles[0].profile_arrays) == bytes(profiles[1].profile_arrays)


@pytest.mark.parametrize(
    ("day", "verdict"), [(QUIET_DAY, "healthy"), (DRIFT_DAY, "major")], ids=["quiet", "episode"]
)
def test_eight_mapped_partitions_give_the_one_task_verdict(api, registry_engine, day, verdict):
    runs = {model: run_day(api, model, day) for model in (ONE, PARTS)}
    for model, run_id in runs.items():
        state = api.wait_for_run(f"{model}_monitoring", run_id, timeout=600)
        assert state == "success", api.task_instances(f"{model}_monitoring", run_id)

    tis = api.task_instances(f"{PARTS}_monitoring", runs[PARTS])
    mapped = [t for t in tis if t["task_id"] == "summarise_partition"]
    assert sorted(t["map_index"] for t in mapped) == list(range(N_PARTS))
    assert {t["state"] for t in mapped} == {"success"}
    assert {t["rendered_map_index"] for t in mapped} == {
        f"{i} of {N_PARTS}" for i in range(1, N_PARTS + 1)
    }
    merge = [t for t in tis if t["task_id"] == "merge_and_decide"]
    assert [t["state"] for t in merge] == ["success"]
    assert "detect_drift" not in {t["task_id"] for t in tis}
    pushed = [
        api.xcom(f"{PARTS}_monitoring", runs[PARTS], "summarise_partition", map_index=i)
        for i in range(N_PARTS)
    ]
    assert [p["partition"] for p in pushed] == list(range(N_PARTS))
    assert all(Path(unquote(urlparse(p["uri"]).path)).is_file() for p in pushed)

    one = api.xcom(f"{ONE}_monitoring", runs[ONE], "detect_drift")
    parts = api.xcom(f"{PARTS}_monitoring", runs[PARTS], "merge_and_decide")
    assert one["verdict"] == parts["verdict"] == verdict
    assert sum(p["n_rows"] for p in pushed) == parts["n_rows"] == one["n_rows"] > 0
    assert comparable(parts) == comparable(one)
    features = stored_features(registry_engine, PARTS, day)
    assert len(features) == 13
    assert features == stored_features(registry_engine, ONE, day)
    # downstream of the drift check nothing differs: the decision branch taken is the same
    branches = ("trigger_retraining", "alert", "healthy")
    taken = {
        model: sorted(
            t["task_id"]
            for t in api.task_instances(f"{model}_monitoring", run_id)
            if t["task_id"] in branches and t["state"] == "success"
        )
        for model, run_id in runs.items()
    }
    assert taken[PARTS] == taken[ONE]
    for model, run_id in runs.items():  # for the README's cost note (pytest -s shows it)
        seconds = {
            f"{t['task_id']}[{t['map_index']}]" if t["map_index"] >= 0 else t["task_id"]: round(
                t["duration"] or 0.0, 1
            )
            for t in api.task_instances(f"{model}_monitoring", run_id)
            if t["task_id"] in ("detect_drift", "summarise_partition", "merge_and_decide")
        }
        print(f"\n{model} {day:%Y-%m-%d} drift task seconds: {seconds}")
