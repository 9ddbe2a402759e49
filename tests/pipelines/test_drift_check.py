"""run_drift_check on a real seeded SQLite source and registry (no Airflow)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelguard.core.window import Window
from modelguard.drift.detection import resolve_thresholds
from modelguard.exceptions import DataValidationError, NoChampionError, UnsafePathError
from modelguard.pipelines.drift_check import DriftCheckResult, report_dir, run_drift_check
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.world import DRIFTED_RUN, HEALTHY_RUN, build_world

DAG_ID = "unit_monitoring"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("world"))


def check(world, run_at, **kw):
    window = Window(run_at - timedelta(hours=24), run_at)
    args = dict(
        config=world.config,
        thresholds=resolve_thresholds(world.config.drift_detection),
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
        window=window,
        dag_id=DAG_ID,
        run_id="r1",
    )
    args.update(kw)
    return run_drift_check(**args), window


def test_healthy_then_drifted_window(world):
    healthy, _ = check(world, HEALTHY_RUN)
    assert healthy.verdict == "healthy", healthy.summary
    drifted, window = check(world, DRIFTED_RUN)
    assert drifted.verdict == "major", drifted.summary
    assert "company_size" in drifted.major_features
    store = ResultStore(engine_for_url(world.registry_url))
    rows = store.drift_features(DAG_ID, window.start, window.end)
    assert {r.feature for r in rows} == set(world.config.features)
    assert (
        report_dir(world.config.storage.report_root, DAG_ID, window)
        .joinpath("drift_report.html")
        .is_file()
    )


def test_rerun_of_a_window_replaces_its_rows(world):
    first, window = check(world, DRIFTED_RUN, run_id="first")
    second, _ = check(world, DRIFTED_RUN, run_id="second")
    store = ResultStore(engine_for_url(world.registry_url))
    rows = store.drift_features(DAG_ID, window.start, window.end)
    assert len(rows) == len(world.config.features)
    assert {r.run_id for r in rows} == {"second"}
    assert store.get_drift_run(DAG_ID, window.start, window.end).run_id == "second"
    assert first.report_uri == second.report_uri


def test_no_champion_fails_before_writing_anything(tmp_path):
    world = build_world(tmp_path / "empty", with_champion=False)
    with pytest.raises(NoChampionError, match="email_engagement"):
        check(world, HEALTHY_RUN)
    assert not world.config.storage.report_root.exists()


def test_bad_source_fails_before_writing_anything(world, tmp_path):
    src = engine_for_url(f"sqlite:///{tmp_path / 'bad.db'}")
    with src.begin() as conn:
        conn.execute(sa.text("CREATE TABLE email_sends (sent_at TIMESTAMP, industry TEXT)"))
    window = Window(HEALTHY_RUN - timedelta(hours=24), HEALTHY_RUN)
    store = ResultStore(engine_for_url(world.registry_url))
    before = store.get_drift_run("bad_source", window.start, window.end)
    with pytest.raises(DataValidationError, match="company_size"):
        check(world, HEALTHY_RUN, source_engine=src, dag_id="bad_source")
    assert store.get_drift_run("bad_source", window.start, window.end) == before is None
    assert not report_dir(world.config.storage.report_root, "bad_source", window).exists()


def test_empty_window_is_a_clear_error(world):
    with pytest.raises(DataValidationError, match="no rows"):
        check(world, HEALTHY_RUN.replace(year=2025))


@pytest.mark.parametrize("dag_id", ["..", "../x", "a/../../b", ".", "", "escape"])
def test_a_dag_id_that_climbs_out_of_the_report_root_writes_and_deletes_nothing(
    world, tmp_path, dag_id
):
    """Airflow accepts a DAG id of '..': the report folder would be outside report_root right
    before its recursive delete. Refused before anything is written, stored or deleted."""
    root = world.config.storage.report_root
    root.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    link = root / "escape"
    if not link.is_symlink():
        link.symlink_to(outside, target_is_directory=True)
    window = Window(HEALTHY_RUN - timedelta(hours=24), HEALTHY_RUN)
    # What a delete that climbed out would take: folders named like the window, outside.
    victims = [root.parent / window.label, outside / window.label, root.parent / "x" / window.label]
    for victim in victims:
        victim.mkdir(parents=True, exist_ok=True)
        (victim / "sentinel.txt").write_text("keep")
    before = sorted(str(p) for p in root.parent.rglob("*"))
    with pytest.raises(UnsafePathError):
        check(world, HEALTHY_RUN, dag_id=dag_id)
    assert sorted(str(p) for p in root.parent.rglob("*")) == before
    for victim in victims:
        assert (victim / "sentinel.txt").read_text() == "keep"
    store = ResultStore(engine_for_url(world.registry_url))
    assert store.get_drift_run(dag_id, window.start, window.end) is None


def test_send_times_that_are_no_date_time_are_counted_in_the_result(world, tmp_path):
    copy = tmp_path / "source.db"
    shutil.copy(Path(world.source_url.removeprefix("sqlite:///")), copy)
    with sqlite3.connect(copy) as conn:
        conn.executemany(
            "INSERT INTO email_sends (send_id, sent_at) VALUES (?, ?)",
            [("bad-1", 1788220800), ("bad-2", ""), ("bad-3", 2461284.9)],
        )
    result, window = check(
        world, HEALTHY_RUN, source_engine=engine_for_url(f"sqlite:///{copy}"), dag_id="times"
    )
    clean, _ = check(world, HEALTHY_RUN, dag_id="times_clean")
    assert result.n_rows == clean.n_rows  # the unusable rows lie in no window
    assert result.unparseable_times["count"] == 3
    assert result.unparseable_times["column"] == "sent_at"
    assert clean.unparseable_times["count"] == 0
    stored = ResultStore(engine_for_url(world.registry_url)).get_drift_run(
        "times", window.start, window.end
    )
    assert stored.summary["unparseable_times"]["count"] == 3
    assert DriftCheckResult.from_xcom(result.to_xcom(), "t") == result
    legacy = {k: v for k, v in result.to_xcom().items() if k != "unparseable_times"}
    assert DriftCheckResult.from_xcom(legacy, "t").unparseable_times is None
