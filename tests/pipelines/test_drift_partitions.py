"""summarise_partition + merge_and_decide on a real seeded SQLite source and registry (no
Airflow): the same verdict, stored rows and report as run_drift_check on the whole window; the
partition files live beside the report folder, are replaced on rerun, checked on merge and
pruned with the window."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from modelguard.core.window import Window, split_window
from modelguard.drift.detection import resolve_thresholds
from modelguard.exceptions import DataValidationError, SummaryMismatchError, UnsafePathError
from modelguard.pipelines.drift_check import (
    merge_and_decide,
    report_dir,
    run_drift_check,
    summarise_partition,
)
from modelguard.storage.partitions import partition_dir
from modelguard.storage.results import ResultStore
from modelguard.storage.retention import prune_folders
from modelguard.storage.source import engine_for_url
from tests.world import DRIFTED_RUN, HEALTHY_RUN, build_world

WHOLE, PARTS = "whole_monitoring", "parts_monitoring"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("world"))


def engines(world) -> dict:
    return dict(
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
    )


def day_before(run_at) -> Window:
    return Window(run_at - timedelta(hours=24), run_at)


def whole(world, window: Window, dag_id: str = WHOLE):
    return run_drift_check(
        config=world.config,
        thresholds=resolve_thresholds(world.config.drift_detection),
        window=window,
        dag_id=dag_id,
        run_id="r",
        **engines(world),
    )


def summarise_all(world, window: Window, n: int, dag_id: str = PARTS) -> list:
    return [
        summarise_partition(
            config=world.config,
            window=window,
            partition=i,
            n_partitions=n,
            dag_id=dag_id,
            **engines(world),
        )
        for i in range(n)
    ]


def merged(world, window: Window, n: int, dag_id: str = PARTS):
    return merge_and_decide(
        config=world.config,
        thresholds=resolve_thresholds(world.config.drift_detection),
        window=window,
        n_partitions=n,
        dag_id=dag_id,
        run_id="r",
        **engines(world),
    )


def stored(world, dag_id: str, window: Window) -> dict:
    """What a run leaves: its stored rows (without the DAG id) and its report JSON."""
    store = ResultStore(engine_for_url(world.registry_url))
    run = store.get_drift_run(dag_id, window.start, window.end)
    skip = {"dag_id", "created_at", "computed_at", "report_uri", "html_uri", "id"}
    features = [
        {k: v for k, v in vars(f).items() if k not in skip}
        for f in store.drift_features(dag_id, window.start, window.end)
    ]
    report = json.loads(
        (
            report_dir(world.config.storage.report_root, dag_id, window) / "drift_report.json"
        ).read_text()
    )
    return {
        "run": {k: v for k, v in vars(run).items() if k not in skip},
        "features": features,
        "report": report,
    }


@pytest.mark.parametrize("run_at", [HEALTHY_RUN, DRIFTED_RUN], ids=["healthy", "drifted"])
@pytest.mark.parametrize("n", [1, 8, 24])
def test_partitions_give_the_whole_windows_verdict_rows_and_report(world, run_at, n):
    window = day_before(run_at)
    one = whole(world, window)
    parts = summarise_all(world, window, n)
    assert [p.partition for p in parts] == list(range(n))
    assert sum(p.n_rows for p in parts) == one.n_rows
    assert [(p.window_start, p.window_end) for p in parts] == [
        (w.start.isoformat(), w.end.isoformat()) for w in split_window(window, n)
    ]
    result = merged(world, window, n)
    keep = {"report_uri", "html_uri"}
    assert {k: v for k, v in result.to_xcom().items() if k not in keep} == {
        k: v for k, v in one.to_xcom().items() if k not in keep
    }
    assert result.verdict == ("healthy" if run_at == HEALTHY_RUN else "major")
    assert stored(world, PARTS, window) == stored(world, WHOLE, window)


def test_partition_files_sit_beside_the_report_and_are_replaced_on_rerun(world):
    window = day_before(HEALTHY_RUN + timedelta(days=1))
    parts = summarise_all(world, window, 4)
    folder = partition_dir(world.config.storage.report_root, PARTS, window)
    assert folder.name == f"{window.label}.parts"
    assert folder.parent == report_dir(world.config.storage.report_root, PARTS, window).parent
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"part-{i:04d}-of-0004.npz" for i in range(4)]
    assert [Path(p.uri.removeprefix("file://")).name for p in parts] == files
    first = (folder / files[2]).read_bytes()
    (folder / files[2]).write_bytes(b"damaged")
    with pytest.raises(SummaryMismatchError, match="partition 2 of 4"):
        merged(world, window, 4)
    summarise_all(world, window, 4)  # the rerun replaces every file, nothing else is left
    assert (folder / files[2]).read_bytes() == first
    assert sorted(p.name for p in folder.iterdir()) == files
    merged(world, window, 4)


def test_a_missing_partition_is_named(world):
    window = day_before(HEALTHY_RUN - timedelta(days=1))
    summarise_all(world, window, 3)
    folder = partition_dir(world.config.storage.report_root, PARTS, window)
    (folder / "part-0001-of-0003.npz").unlink()
    with pytest.raises(SummaryMismatchError, match="partition 1 of 3 .* has no summary file"):
        merged(world, window, 3)
    # files of another partition count are never read as this run's
    summarise_all(world, window, 2)
    with pytest.raises(SummaryMismatchError, match="partition 1 of 3"):
        merged(world, window, 3)


def test_a_partition_of_another_window_is_refused(world):
    """A file copied from another run's folder (or written for another champion) says so."""
    window = day_before(HEALTHY_RUN - timedelta(days=2))
    other = day_before(HEALTHY_RUN - timedelta(days=3))
    summarise_all(world, window, 2)
    summarise_all(world, other, 2)
    root = world.config.storage.report_root
    src = partition_dir(root, PARTS, other) / "part-0000-of-0002.npz"
    dst = partition_dir(root, PARTS, window) / "part-0000-of-0002.npz"
    dst.write_bytes(src.read_bytes())
    with pytest.raises(SummaryMismatchError, match="not for this run's"):
        merged(world, window, 2)


def test_an_empty_window_fails_in_the_merge_not_in_a_partition(world):
    window = day_before(HEALTHY_RUN.replace(year=2025))
    parts = summarise_all(world, window, 3)
    assert [p.n_rows for p in parts] == [0, 0, 0]
    with pytest.raises(DataValidationError, match="no rows"):
        merged(world, window, 3)
    assert not report_dir(world.config.storage.report_root, PARTS, window).exists()


def test_partition_index_and_dag_id_are_checked(world):
    window = day_before(HEALTHY_RUN)
    for bad in (-1, 3, True):
        with pytest.raises(DataValidationError, match="is not one of 0..2"):
            summarise_partition(
                config=world.config,
                window=window,
                partition=bad,
                n_partitions=3,
                dag_id=PARTS,
                **engines(world),
            )
    with pytest.raises(UnsafePathError):
        summarise_all(world, window, 2, dag_id="..")


def test_retention_prunes_the_partition_files_with_the_window(world):
    window = day_before(HEALTHY_RUN - timedelta(days=4))
    summarise_all(world, window, 2)
    merged(world, window, 2)
    root = world.config.storage.report_root
    folder = partition_dir(root, PARTS, window)
    assert folder.is_dir()
    result = prune_folders(root, [PARTS], window.end + timedelta(seconds=1))
    assert str(folder) in result.deleted
    assert str(report_dir(root, PARTS, window)) in result.deleted
    assert not folder.exists()
