"""Tests of modelguard.drift.report.writer: the folder, the JSON, reruns and validation."""

from __future__ import annotations

import copy
import json
import math

import pytest

from modelguard.drift.report import write_drift_reports

from .reports import EVIL_NAME, PNG_SIGNATURE, make_report


def test_files_exist_where_reported(written):
    report, out, paths = written
    assert paths.json_path == out / "drift_report.json"
    assert paths.html_path == out / "drift_report.html"
    assert paths.json_path.is_file() and paths.html_path.is_file()
    assert paths.plot_paths[0] == out / "plots" / "psi_by_feature.png"
    assert len(paths.plot_paths) == 1 + len(report["features"])
    assert all(p.parent == out / "plots" and p.is_file() for p in paths.plot_paths)
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(
        p.name for p in paths.plot_paths
    )
    assert "feature_company_size.png" in {p.name for p in paths.plot_paths}


def test_json_round_trips(written):
    report, _, paths = written
    text = paths.json_path.read_text(encoding="utf-8")
    assert json.loads(text) == report
    assert text == json.dumps(report, indent=2, sort_keys=True, allow_nan=False)


def test_rerun_replaces_files_and_removes_stale_plots(tmp_path):
    first = write_drift_reports(make_report(), tmp_path)
    (tmp_path / "plots" / "notes.txt").write_text("keep me")

    smaller = make_report()
    for name in ["plan", EVIL_NAME, "weird/name with spaces"]:
        del smaller["features"][name]
    smaller["drifted_features"] = ["company_size", "monthly_spend"]
    second = write_drift_reports(smaller, tmp_path)

    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert pngs == sorted(p.name for p in second.plot_paths)
    assert len(second.plot_paths) == 1 + len(smaller["features"])
    assert len(first.plot_paths) > len(second.plot_paths)
    assert (tmp_path / "plots" / "notes.txt").read_text() == "keep me"
    assert json.loads(second.json_path.read_text()) == smaller
    assert "plan" not in second.html_path.read_text()
    assert not list(tmp_path.rglob(".modelguard-tmp-*"))


def test_rerun_is_idempotent(tmp_path):
    a = write_drift_reports(make_report(), tmp_path)
    before = {p: p.read_bytes() for p in (a.json_path, a.html_path, *a.plot_paths)}
    b = write_drift_reports(make_report(), tmp_path)
    assert a == b
    assert {p: p.read_bytes() for p in (b.json_path, b.html_path, *b.plot_paths)} == before


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_raise_naming_the_key(tmp_path, bad):
    report = make_report()
    report["features"]["plan"]["bins"]["current"][2] = bad
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"\['features'\]\['plan'\]\['bins'\]\['current'\]\[2\]"):
        write_drift_reports(report, out)
    assert not out.exists()  # validated before anything is written


def test_nan_at_top_level_raises(tmp_path):
    report = make_report()
    report["features"]["company_size"]["psi"] = float("nan")
    with pytest.raises(ValueError, match=r"\['company_size'\]\['psi'\]"):
        write_drift_reports(report, tmp_path)


def test_mismatched_bins_raise(tmp_path):
    report = make_report()
    report["features"]["region"]["bins"]["current"].pop()
    with pytest.raises(ValueError, match="region"):
        write_drift_reports(report, tmp_path / "out")


def test_features_without_bins_and_empty_report(tmp_path):
    report = make_report()
    del report["features"]["region"]["bins"]
    paths = write_drift_reports(report, tmp_path / "a")
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in paths.plot_paths)

    empty = {"verdict": "healthy", "features": {}}
    paths = write_drift_reports(empty, tmp_path / "b")
    assert [p.name for p in paths.plot_paths] == ["psi_by_feature.png"]
    assert "no features" in paths.html_path.read_text()


def test_input_is_not_mutated(tmp_path):
    report = make_report()
    snapshot = copy.deepcopy(report)
    write_drift_reports(report, tmp_path)
    assert report == snapshot
