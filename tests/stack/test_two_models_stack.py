"""Two models in one Airflow, on the real stack: the email-engagement model and the
support-escalation model share the scheduler, one source database, one registry and one results
store on PostgreSQL, and one artifact and report root. Their runs interleave (two daily
backfills and a monitoring run that retrains and deploys, all at once); drift, the retraining
and the deployment of one never touch the other's champion, versions, events, results or
reports.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.stack.client import StackClient, expect
from tests.stack.conftest import ROOT, AirflowStack
from tests.stack.world import DEGRADED_RUN, models_folder

pytestmark = pytest.mark.stack

EMAIL, SUPPORT = "email_engagement", "support_escalation"
# Quiet July days (before either model drifts): a backfill decides nothing that could put the
# email model's degraded run in cool-down.
BACKFILL = (datetime(2026, 7, 1), datetime(2026, 7, 8))  # logical dates: 8 daily intervals
SUPPORT_SEED = (datetime(2026, 6, 1), datetime(2026, 9, 20))
SUPPORT_CHAMPION = (datetime(2026, 6, 1), datetime(2026, 6, 20))


def rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


@pytest.fixture(scope="module")
def world(stores, tmp_path_factory) -> dict[str, Any]:
    """Both models seeded and bootstrapped; their configs in one folder, sharing the roots."""
    from modelguard.config import load_config
    from modelguard.pipelines.bootstrap import run_bootstrap
    from modelguard.storage.source import engine_for_url
    from support_escalation.generator import seed_source

    folder, email_raw = models_folder(
        tmp_path_factory.mktemp("two-models"), stores["source"], stores["registry"]
    )
    support_raw = yaml.safe_load((ROOT / "config" / f"{SUPPORT}.yaml").read_text())
    support_raw["storage"] = dict(email_raw["storage"])  # one artifact and report root
    support_raw["monitoring"].update(email_raw["monitoring"] | {"monitoring_interval": 7200})
    (folder / f"{SUPPORT}.yaml").write_text(yaml.safe_dump(support_raw))
    support = load_config(folder / f"{SUPPORT}.yaml")
    # A third model whose config is broken: it must cost only its own DAGs.
    broken = dict(support_raw, model={**support_raw["model"], "name": "broken_model"})
    broken["drift_detection"] = {**support_raw["drift_detection"], "psi_bins": 1}
    (folder / "broken_model.yaml").write_text(yaml.safe_dump(broken))
    source = engine_for_url(stores["source"])
    seed_source(source, *SUPPORT_SEED, seed=5, tickets_per_hour=40)  # the config's sizing
    run_bootstrap(
        support,
        source,
        engine_for_url(stores["registry"]),
        *SUPPORT_CHAMPION,
        run_id="stack_bootstrap",
        as_of=SUPPORT_CHAMPION[1] + timedelta(hours=support.source.label_delay_hours),
    )
    return {
        "folder": folder,
        "email": load_config(folder / f"{EMAIL}.yaml"),
        "support": support,
        **stores,
    }


@pytest.fixture(scope="module")
def stack(pg_admin_dsn, world, tmp_path_factory):
    with AirflowStack(
        pg_admin_dsn=pg_admin_dsn,
        source_url=world["source"],
        registry_url=world["registry"],
        config_path=world["folder"],
        home=tmp_path_factory.mktemp("stack-home"),
    ) as started:
        started.unpause()  # every model's retraining, deployment and rollback
        started.unpause(
            [f"{m}_{k}" for m in (EMAIL, SUPPORT) for k in ("monitoring", "monitoring_daily")]
        )
        yield started


@pytest.fixture(scope="module")
def api(stack) -> StackClient:
    with StackClient(stack.base_url, stack.username, stack.password) as client:
        client.wait_for_dags(
            [
                f"{m}_{k}"
                for m in (EMAIL, SUPPORT)
                for k in ("monitoring", "monitoring_daily", "retraining")
            ]
        )
        yield client


@pytest.fixture(scope="module")
def registry_engine(world):
    engine = sa.create_engine(world["registry"], poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def snapshot(engine, model: str) -> dict[str, Any]:
    """A model's registry state: champion pointer, versions and event log."""
    return {
        "champion": rows(
            engine, "SELECT version_id FROM mg_champions WHERE model_name = :m", m=model
        ),
        "versions": rows(
            engine,
            "SELECT id, status, artifact_uri, artifact_sha256 FROM mg_model_versions "
            "WHERE model_name = :m ORDER BY id",
            m=model,
        ),
        "events": rows(
            engine,
            "SELECT id, event, version_id FROM mg_model_events WHERE model_name = :m ORDER BY id",
            m=model,
        ),
    }


def test_a_broken_model_config_costs_only_its_dags(api):
    """The dag-processor parses the folder: no import error (Airflow would mark every DAG of the
    file stale), both good models' DAGs, and for the broken one a DAG that names its file and
    key; its one task fails with the error."""
    assert api.import_errors() == []
    dag_ids = {d["dag_id"] for d in api.get_all("/api/v2/dags", "dags")}
    assert {f"{m}_{k}" for m in (EMAIL, SUPPORT) for k in ("monitoring", "rollback")} <= dag_ids
    assert {d for d in dag_ids if d.startswith("broken_model")} == {"broken_model_config_error"}
    placeholder = expect(api.get("/api/v2/dags/broken_model_config_error/details"), 200)
    assert "broken_model.yaml" in placeholder["description"]
    assert "drift_detection.psi_bins: 1 is out of range" in placeholder["description"]
    api.unpause("broken_model_config_error")
    run_id = expect(api.trigger("broken_model_config_error", None), 200)["dag_run_id"]
    assert api.wait_for_run("broken_model_config_error", run_id, timeout=300) == "failed"
    path = (
        f"/api/v2/dags/broken_model_config_error/dagRuns/{run_id}/taskInstances/config_error/logs/1"
    )
    log = api.request("GET", path, params={"full_content": True}).text
    assert "InvalidModelConfigError" in log and "psi_bins" in log


def test_interleaved_runs_of_two_models_stay_apart(api, world, registry_engine):
    email_before = snapshot(registry_engine, EMAIL)
    support_before = snapshot(registry_engine, SUPPORT)
    assert email_before["champion"] and support_before["champion"]

    backfills = [
        expect(api.create_backfill(f"{m}_monitoring_daily", *BACKFILL, max_active_runs=4), 200)
        for m in (SUPPORT, EMAIL)
    ]
    degraded = expect(api.trigger(f"{EMAIL}_monitoring", None, logical_date=DEGRADED_RUN), 200)
    for backfill in backfills:
        _done, runs = api.wait_for_backfill(backfill["id"], timeout=1500)
        assert {r["state"] for r in runs} == {"success"}, runs
    monitoring_id = degraded["dag_run_id"]
    assert api.wait_for_run(f"{EMAIL}_monitoring", monitoring_id, timeout=600) == "success"
    retrainings = [
        r for r in api.dag_runs(f"{EMAIL}_retraining") if r["dag_run_id"].startswith("retrain__")
    ]
    assert len(retrainings) == 1, retrainings
    assert (
        api.wait_for_run(f"{EMAIL}_retraining", retrainings[0]["dag_run_id"], timeout=900)
        == "success"
    )

    # The email model drifted, retrained and deployed ...
    email_after = snapshot(registry_engine, EMAIL)
    assert email_after["champion"] != email_before["champion"]
    assert len(email_after["versions"]) == len(email_before["versions"]) + 1
    # ... and the support model's registry state is exactly what it was.
    assert snapshot(registry_engine, SUPPORT) == support_before
    assert api.dag_runs(f"{SUPPORT}_retraining") == []

    # Results: every row of a model's DAGs names that model, its champion and its features.
    support_champion = support_before["champion"][0]["version_id"]
    for model, config in ((EMAIL, world["email"]), (SUPPORT, world["support"])):
        dag_ids = {f"{model}_monitoring", f"{model}_monitoring_daily"}
        for table in ("mg_drift_runs", "mg_drift_features", "mg_monitoring_decisions"):
            stored = rows(
                registry_engine,
                f"SELECT dag_id, model_name, model_version_id FROM {table} WHERE dag_id LIKE :p",
                p=f"{model}_%",
            )
            assert stored, (model, table)
            assert {r["dag_id"] for r in stored} <= dag_ids
            assert {r["model_name"] for r in stored} == {model}, (model, table)
        features = rows(
            registry_engine,
            "SELECT DISTINCT feature FROM mg_drift_features WHERE model_name = :m",
            m=model,
        )
        assert {f["feature"] for f in features} == set(config.features)
    support_versions = rows(
        registry_engine,
        "SELECT DISTINCT model_version_id FROM mg_drift_runs WHERE model_name = :m",
        m=SUPPORT,
    )
    assert [v["model_version_id"] for v in support_versions] == [support_champion]
    daily = rows(
        registry_engine,
        "SELECT COUNT(*) AS n FROM mg_drift_runs WHERE dag_id = :d",
        d=f"{SUPPORT}_monitoring_daily",
    )
    assert daily[0]["n"] == (BACKFILL[1] - BACKFILL[0]).days + 1

    # Reports: one folder per DAG id under the shared root, each report of its own model.
    report_root = Path(world["support"].storage.report_root)
    for model, config in ((EMAIL, world["email"]), (SUPPORT, world["support"])):
        for report in (report_root / f"{model}_monitoring_daily").glob("*/drift_report.json"):
            body = json.loads(report.read_text())
            assert set(body["features"]) == set(config.features), report
    assert {p.name for p in report_root.iterdir()} <= {
        f"{m}_{k}" for m in (EMAIL, SUPPORT) for k in ("monitoring", "monitoring_daily")
    }
