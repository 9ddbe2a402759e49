"""Hostile names against every path modelguard writes or deletes.

DAG ids, model names and file names become path components: each case either resolves inside
its root or is an :class:`UnsafePathError` (an :class:`ArtifactPathError` in the artifact store)
naming the input, and sentinel files outside the root survive every case: nothing outside is
created or deleted.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelguard.alerts.conditions import Assessment
from modelguard.alerts.episodes import Observation
from modelguard.core.window import Window
from modelguard.drift.report.writer import write_drift_reports
from modelguard.exceptions import ArtifactPathError, UnsafePathError, UsageError
from modelguard.health.checks import HealthReport
from modelguard.pipelines.drift_check import report_dir
from modelguard.pipelines.model_report import report_file
from modelguard.reporting import Period
from modelguard.storage.alert_spool import spool_folder, write_spool
from modelguard.storage.artifacts import ArtifactStore
from modelguard.storage.health import HealthSpool
from modelguard.storage.paths import check_part, inside
from modelguard.storage.retention import prune_folders

W = Window(datetime(2026, 9, 1), datetime(2026, 9, 2))
BAD_PARTS = [
    "..",
    ".",
    "",
    "../x",
    "a/../../b",
    "a/b",
    "/etc",
    "/",
    "a\\b",
    "..\\x",
    "a\x00b",
    "\x00",
]


@pytest.fixture
def world(tmp_path):
    """A root with a symlink pointing out, and sentinel files outside it and beside it."""
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_text("keep")
    (tmp_path / "beside.txt").write_text("keep")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    # A folder named like a window, outside: a delete that climbs out would take it.
    (outside / W.label).mkdir()
    (outside / W.label / "drift_report.json").write_text("{}")
    return root, outside, tmp_path


def _untouched(world) -> None:
    root, outside, top = world
    assert (outside / "sentinel.txt").read_text() == "keep"
    assert (top / "beside.txt").read_text() == "keep"
    assert (outside / W.label / "drift_report.json").read_text() == "{}"
    assert sorted(p.name for p in outside.iterdir()) == sorted(["sentinel.txt", W.label])
    assert sorted(p.name for p in top.iterdir()) == sorted(["root", "outside", "beside.txt"])


# --------------------------------------------------------------------------- the helper


@pytest.mark.parametrize("bad", BAD_PARTS, ids=repr)
def test_check_part_refuses_naming_the_part(bad):
    with pytest.raises(UnsafePathError) as info:
        check_part(bad, what="DAG id")
    assert repr(bad) in str(info.value) and "DAG id" in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, b"a", Path("a")], ids=repr)
def test_check_part_refuses_what_is_no_string(bad):
    with pytest.raises(UnsafePathError, match="must be a string"):
        check_part(bad)


@pytest.mark.parametrize(
    "good",
    ["a", "dag_1", "..a", "a..", "a.b", "-x", " x ", "é", "2026-09-01T00:00_2026-09-02T00:00"],
)
def test_plain_names_resolve_inside(tmp_path, good):
    path = inside(tmp_path, good)
    assert path.parent == tmp_path.resolve() and path.name == good
    assert not path.exists()  # nothing is created


def test_a_symlink_pointing_out_is_refused(world):
    root, outside, _ = world
    with pytest.raises(UnsafePathError, match="outside that root"):
        inside(root, "escape", "x")
    (root / "inner").mkdir()
    (root / "inner_link").symlink_to(root / "inner", target_is_directory=True)
    assert inside(root, "inner_link", "x") == (root / "inner" / "x").resolve()


@given(st.text(max_size=20))
def test_any_text_is_a_path_inside_or_refused(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("root")
    try:
        path = inside(root, name)
    except UnsafePathError as exc:
        assert repr(name) in str(exc)
        assert name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name
    else:
        assert path.parent == root.resolve() and path.name == name
    assert list(root.iterdir()) == []


# --------------------------------------------------------------------------- drift reports


@pytest.mark.parametrize("dag_id", BAD_PARTS + ["escape"], ids=repr)
def test_report_dir_refuses_a_dag_id_that_climbs_out(world, dag_id):
    root, _, _ = world
    with pytest.raises(UnsafePathError) as info:
        report_dir(root, dag_id, W)
    assert repr(dag_id) in str(info.value) or "outside that root" in str(info.value)
    _untouched(world)


def test_report_dir_of_a_plain_dag_id_is_inside(world):
    root, _, _ = world
    assert report_dir(root, "my_dag", W) == (root / "my_dag" / W.label).resolve()


def _report() -> dict:
    return {
        "model_name": "m",
        "model_version": 1,
        "verdict": "healthy",
        "dataset_drift": False,
        "window": {"start": W.start.isoformat(), "end": W.end.isoformat()},
        "n_reference": 10,
        "n_current": 10,
        "drifted_features": [],
        "thresholds": {},
        "features": {},
    }


def test_the_writer_refuses_a_plots_folder_pointing_out(world):
    root, outside, _ = world
    out = root / "dag" / W.label
    out.mkdir(parents=True)
    (out / "plots").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside that root"):
        write_drift_reports(_report(), out)
    _untouched(world)


def test_the_writer_writes_inside_its_folder(world):
    root, _, _ = world
    paths = write_drift_reports(_report(), root / "dag" / W.label)
    for path in (paths.json_path, paths.html_path, *paths.plot_paths):
        assert Path(path).resolve().is_relative_to(root.resolve())
    _untouched(world)


# --------------------------------------------------------------------------- reports, spools


@pytest.mark.parametrize("model", BAD_PARTS + ["escape"], ids=repr)
def test_the_model_report_file_stays_inside(world, model):
    root, _, _ = world
    period = Period(W.start, W.end)
    with pytest.raises(UnsafePathError):
        report_file(root, model, period)
    _untouched(world)


def _observation(dag_id: str) -> Observation:
    return Observation(
        dag_id=dag_id,
        source="drift",
        interval_start=W.start,
        interval_end=W.end,
        assessment=Assessment((), (("drift", "dataset"),)),
    )


@pytest.mark.parametrize("model", BAD_PARTS + ["escape"], ids=repr)
def test_the_alert_spool_folder_stays_inside(world, model):
    root, _, _ = world
    with pytest.raises(UnsafePathError):
        spool_folder(root, model)
    with pytest.raises(UnsafePathError):
        write_spool(root, model, _observation("d"), {}, backfill=False, reason="x")
    _untouched(world)


@pytest.mark.parametrize("dag_id", ["../x", "a/../../b", "a/b", "a\x00b", "..\\..\\x"], ids=repr)
def test_an_alert_spool_file_name_with_a_separator_is_refused(world, dag_id):
    root, _, _ = world
    with pytest.raises(UnsafePathError, match="alert spool file name"):
        write_spool(root, "m", _observation(dag_id), {}, backfill=False, reason="x")
    _untouched(world)


def test_an_alert_spool_file_of_a_dotted_dag_id_stays_inside(world):
    root, _, _ = world
    path = write_spool(root, "m", _observation(".."), {}, backfill=False, reason="x")
    assert path.resolve().parent == (root / "m" / "alerts-spool").resolve()
    _untouched(world)


def _health(dag_id: str, model: str = "m") -> HealthReport:
    return HealthReport(
        dag_id=dag_id, model_name=model, interval_start=W.start, interval_end=W.end, checks=()
    )


@pytest.mark.parametrize("model", BAD_PARTS + ["escape"], ids=repr)
def test_the_health_spool_never_writes_outside_and_never_raises(world, model):
    root, _, _ = world
    written = HealthSpool(root, model).write(_health("d", model))
    assert not written.written and "UnsafePathError" in written.error
    _untouched(world)


@pytest.mark.parametrize("dag_id", ["../x", "a/../../b", "a/b", "a\x00b"], ids=repr)
def test_a_health_spool_file_name_with_a_separator_is_refused(world, dag_id):
    root, _, _ = world
    written = HealthSpool(root, "m").write(_health(dag_id))
    assert not written.written and "health spool file name" in written.error
    _untouched(world)


def test_the_health_spool_writes_a_plain_record_inside(world):
    root, _, _ = world
    written = HealthSpool(root, "m").write(_health("dag"))
    assert written.written
    assert Path(written.path).resolve().is_relative_to((root / "m").resolve())
    _untouched(world)


# --------------------------------------------------------------------------- retention


@pytest.mark.parametrize("dag_id", BAD_PARTS + ["escape"], ids=repr)
def test_retention_deletes_nothing_outside(world, dag_id):
    root, _, _ = world
    cutoff = W.end + timedelta(days=365)
    result = prune_folders(root, [dag_id], cutoff)
    assert result.deleted == []
    assert len(result.refused) == 1
    _untouched(world)


def test_retention_deletes_an_old_folder_inside(world):
    root, _, _ = world
    old = root / "dag" / W.label
    old.mkdir(parents=True)
    (old / "drift_report.json").write_text("{}")
    result = prune_folders(root, ["dag", "..", "escape"], W.end + timedelta(days=1))
    assert result.deleted == [str(old.resolve())]
    assert not old.exists()
    _untouched(world)


# --------------------------------------------------------------------------- artifacts, CLI


@pytest.mark.parametrize(
    "relative",
    ["../x.joblib", "a/../../x.joblib", "/etc/x.joblib", ".", "", "escape/x.joblib", "a\x00b"],
    ids=repr,
)
def test_the_artifact_store_writes_only_inside(world, relative):
    root, _, _ = world
    with pytest.raises(ArtifactPathError):
        ArtifactStore(root).save({"x": 1}, relative)
    _untouched(world)


@pytest.mark.parametrize("output", ["", "  ", "a\x00b.json", "folder/", "existing"], ids=repr)
def test_the_cli_refuses_an_output_that_is_no_file(tmp_path, monkeypatch, output):
    from modelguard.cli import _check_output

    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing").mkdir()
    with pytest.raises(UsageError, match="--output"):
        _check_output(output)
    assert sorted(os.listdir(tmp_path)) == ["existing"]
