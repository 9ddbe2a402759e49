"""monitoring.drift_partitions: the monitoring DAG maps summarise_partition over 8 parts of the
window and merges them in merge_and_decide; real Airflow runs (dag.test) on one SQLite world
give the verdicts, stored drift results, report and drift XCom of the one-task DAG."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
import yaml

from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.dags.conftest import forget_dag_runs, load_dag, task_states
from tests.world import DRIFTED_RUN, HEALTHY_RUN, build_world

pytestmark = pytest.mark.airflow_run
DAG_ID = "email_engagement_monitoring"
PARTS = 8


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    world = build_world(tmp_path_factory.mktemp("partsworld"))
    raw = yaml.safe_load(world.config_path.read_text())
    raw["monitoring"]["drift_partitions"] = PARTS
    parts_config = world.root / "parts_config.yaml"
    parts_config.write_text(yaml.safe_dump(raw))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in world.env().items():
            mp.setenv(key, value)
        yield world, {1: str(world.config_path), PARTS: str(parts_config)}


def dag_with(monkeypatch, configs, n: int):
    monkeypatch.setenv("MODELGUARD_CONFIG", configs[n])
    return load_dag(DAG_ID)


def xcom(dr, task_id: str, map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(
                dag_id=dr.dag_id,
                run_id=dr.run_id,
                task_id=task_id,
                map_index=map_index,
                key="return_value",
            )
            .one()
        )
        value = row.value
    return json.loads(value) if isinstance(value, str) else value


def stored_drift(world, start, end) -> dict:
    """The stored drift run and feature rows, without run ids and write times."""
    store = ResultStore(engine_for_url(world.registry_url))
    skip = {"run_id", "created_at"}
    run = store.get_drift_run(DAG_ID, start, end)
    rows = store.drift_features(DAG_ID, start, end)
    return {
        "run": {k: v for k, v in vars(run).items() if k not in skip},
        "features": [{k: v for k, v in vars(r).items() if k not in skip} for r in rows],
    }


def test_the_partitioned_dag_maps_the_drift_check_and_merges_it(world, monkeypatch):
    _, configs = world
    one = dag_with(monkeypatch, configs, 1)
    assert "detect_drift" in one.task_ids
    assert not {"summarise_partition", "merge_and_decide"} & set(one.task_ids)

    dag = dag_with(monkeypatch, configs, PARTS)
    assert "detect_drift" not in dag.task_ids
    mapped, merge = dag.get_task("summarise_partition"), dag.get_task("merge_and_decide")
    assert mapped.upstream_task_ids == {"wait_for_data"}
    assert merge.upstream_task_ids == {"summarise_partition"}
    assert merge.n_partitions == PARTS
    assert "decide" in merge.downstream_task_ids
    assert dag.get_task("decide").drift_task_id == "merge_and_decide"
    assert dag.get_task("raise_alerts").drift_task_id == "merge_and_decide"
    # every other task as in the one-task DAG
    assert set(dag.task_ids) - {"summarise_partition", "merge_and_decide"} == set(one.task_ids) - {
        "detect_drift"
    }


@pytest.mark.parametrize(
    ("run_at", "verdict"), [(HEALTHY_RUN, "healthy"), (DRIFTED_RUN, "major")], ids=str
)
def test_eight_partitions_give_the_one_task_verdict_and_stored_results(
    world, monkeypatch, run_at, verdict
):
    w, configs = world
    forget_dag_runs(DAG_ID)
    forget_dag_runs("email_engagement_retraining")
    start, end = run_at - timedelta(hours=24), run_at
    results = {}
    for n in (1, PARTS):
        dag = dag_with(monkeypatch, configs, n)
        dr = dag.test(logical_date=run_at.replace(tzinfo=UTC))
        states = task_states(dr)
        assert str(dr.state) == "success", states
        drift_task = "detect_drift" if n == 1 else "merge_and_decide"
        report_path = (
            w.config.storage.report_root / DAG_ID / f"{start:%Y-%m-%dT%H:%M}_{end:%Y-%m-%dT%H:%M}"
        )
        results[n] = {
            "xcom": xcom(dr, drift_task),
            "stored": stored_drift(w, start, end),
            "report": json.loads((report_path / "drift_report.json").read_text()),
        }
        if n == PARTS:
            tis = [ti for ti in dr.get_task_instances() if ti.task_id == "summarise_partition"]
            assert sorted(ti.map_index for ti in tis) == list(range(PARTS))
            assert {str(ti.state) for ti in tis} == {"success"}
            labels = {ti.map_index: ti.rendered_map_index for ti in tis}
            assert labels[0] == "1 of 8" and labels[7] == "8 of 8"
            pushed = [xcom(dr, "summarise_partition", i) for i in range(PARTS)]
            assert [p["partition"] for p in pushed] == list(range(PARTS))
            assert sum(p["n_rows"] for p in pushed) == results[n]["xcom"]["n_rows"]
            assert pushed[0]["window_start"] == start.isoformat()
            assert pushed[-1]["window_end"] == end.isoformat()
            parts_dir = report_path.with_name(report_path.name + ".parts")
            assert len(list(parts_dir.glob("part-*-of-0008.npz"))) == PARTS
    assert results[1]["xcom"]["verdict"] == verdict
    assert results[PARTS] == results[1]
