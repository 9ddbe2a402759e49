"""Tests of modelguard.drift.report: JSON, PNG plots, HTML page and plain-text summary."""

from __future__ import annotations

import copy
import html
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelguard.drift.report import ReportPaths, summarize, write_drift_reports

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL_NAME = "<script>alert('x')</script>"

THRESHOLDS = {
    "psi_warning": 0.1,
    "psi_critical": 0.25,
    "ks_significance": 0.05,
    "min_ks_statistic": 0.1,
    "min_cramers_v": 0.1,
    "dataset_drift_share": 0.3,
}


def _numeric(psi, ks, p, p_adj, severity, drifted, reason, *, ref_missing=0.0, cur_missing=0.0):
    labels = ["(-inf, 3.2]", "(3.2, 7.5]", "(7.5, 12.0]", "(12.0, 20.0]", "(20.0, inf)", "missing"]
    reference = [0.2, 0.2, 0.2, 0.2, 0.2 - ref_missing, ref_missing]
    current = [0.1, 0.15, 0.25, 0.3, 0.2 - cur_missing, cur_missing]
    return {
        "type": "numeric",
        "tests": ["psi", "ks"],
        "psi": psi,
        "ks_statistic": ks,
        "ks_pvalue": p,
        "chi2_statistic": None,
        "chi2_pvalue": None,
        "pvalue_adjusted": p_adj,
        "effect_size": ks,
        "effect_measure": "ks_statistic",
        "severity": severity,
        "drifted": drifted,
        "reason": reason,
        "missing_share_reference": ref_missing,
        "missing_share_current": cur_missing,
        "new_categories": {},
        "n_reference": 5000,
        "n_current": 1200,
        "bins": {"labels": labels, "reference": reference, "current": current},
    }


def _categorical(
    labels, reference, current, psi, chi2, p, p_adj, v, severity, drifted, reason, new
):
    return {
        "type": "categorical",
        "tests": ["psi", "chi2"],
        "psi": psi,
        "ks_statistic": None,
        "ks_pvalue": None,
        "chi2_statistic": chi2,
        "chi2_pvalue": p,
        "pvalue_adjusted": p_adj,
        "effect_size": v,
        "effect_measure": "cramers_v",
        "severity": severity,
        "drifted": drifted,
        "reason": reason,
        "missing_share_reference": 0.0,
        "missing_share_current": 0.0,
        "new_categories": new,
        "n_reference": 5000,
        "n_current": 1200,
        "bins": {"labels": labels, "reference": reference, "current": current},
    }


def make_report(extra_features: int = 0) -> dict:
    features = {
        "company_size": _numeric(
            0.412, 0.31, 1.2e-40, 5.0e-39, "major", True, "PSI 0.412 >= 0.25 and KS p < 0.05"
        ),
        "tenure_days": _numeric(0.02, 0.03, 0.61, 0.9, "none", False, "no drift"),
        "monthly_spend": _numeric(
            0.13,
            0.12,
            2.0e-4,
            1.0e-3,
            "minor",
            True,
            "PSI 0.130 >= 0.1 and KS p < 0.05",
            ref_missing=0.01,
            cur_missing=0.09,
        ),
        "plan": _categorical(
            ["basic", "pro", "enterprise", "crypto", "missing"],
            [0.5, 0.3, 0.2, 0.0, 0.0],
            [0.4, 0.28, 0.2, 0.12, 0.0],
            0.28,
            310.5,
            3.3e-12,
            4.0e-11,
            0.21,
            "major",
            True,
            "PSI 0.280 >= 0.25; new categories: crypto",
            {"crypto": 0.12},
        ),
        "region": _categorical(
            ["emea", "amer", "apac", "missing"],
            [0.4, 0.4, 0.2, 0.0],
            [0.42, 0.38, 0.2, 0.0],
            0.001,
            1.1,
            0.58,
            0.9,
            0.02,
            "none",
            False,
            "no drift",
            {},
        ),
        EVIL_NAME: _numeric(0.11, 0.05, 0.2, 0.6, "minor", False, "PSI >= 0.1 but KS p >= 0.05"),
        "weird/name with spaces": _numeric(None, None, None, None, "none", False, "all missing"),
    }
    for i in range(extra_features):
        features[f"extra_{i:02d}"] = _numeric(0.01 * i, 0.01, 0.5, 0.9, "none", False, "no drift")
    return {
        "model_name": "churn",
        "model_version": 3,
        "window": {"start": "2026-09-01T00:00:00", "end": "2026-09-02T00:00:00"},
        "verdict": "major",
        "dataset_drift": True,
        "n_reference": 5000,
        "n_current": 1200,
        "thresholds": dict(THRESHOLDS),
        "drifted_features": ["company_size", "plan", "monthly_spend"],
        "features": features,
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[dict, Path, ReportPaths]:
    report = make_report()
    out = tmp_path_factory.mktemp("report") / "nested" / "run1"
    return report, out, write_drift_reports(report, out)


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


def test_pngs_are_valid(written):
    _, _, paths = written
    for path in paths.plot_paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), path
        assert len(data) > 2000, path


def test_plot_filenames_are_safe(written):
    _, _, paths = written
    for path in paths.plot_paths:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.png", path.name), path.name


def test_html_content(written):
    report, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for name in report["features"]:
        assert html.escape(name) in page
    assert "MAJOR" in page
    assert html.escape(summarize(report)) in page
    for key in THRESHOLDS:
        assert key in page
    assert "crypto" in page
    assert "2026-09-01 00:00 to 2026-09-02 00:00" in page
    assert "churn" in page


def test_html_escapes_strings(written):
    _, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_html_references_every_plot_and_only_existing_ones(written):
    _, out, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(srcs) == sorted(f"plots/{p.name}" for p in paths.plot_paths)
    for src in srcs:
        assert (out / src).is_file()
    # No absolute paths leak into the page: the folder can be moved, zipped or served.
    assert str(out) not in page


def test_html_table_sorted_drifted_first_then_psi(written):
    _, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    anchors = re.findall(r'<td><a href="#[^"]+">([^<]+)</a></td>', table)
    expected = [
        "company_size",  # drifted, PSI 0.412
        "plan",  # drifted, PSI 0.28
        "monthly_spend",  # drifted, PSI 0.13
        html.escape(EVIL_NAME),  # not drifted, PSI 0.11
        "tenure_days",
        "region",
        "weird/name with spaces",  # no PSI: last
    ]
    assert anchors == expected


def test_title_is_used_and_escaped(tmp_path):
    paths = write_drift_reports(make_report(), tmp_path, title="Churn & <friends>")
    page = paths.html_path.read_text(encoding="utf-8")
    assert "<title>Churn &amp; &lt;friends&gt;</title>" in page


def test_summary_reads_naturally():
    text = summarize(make_report())
    assert text.startswith("Model churn v3, window 2026-09-01 00:00 to 2026-09-02 00:00:")
    assert "verdict MAJOR" in text
    assert "3 of 7 features drifted" in text
    assert "Major drift in company_size (PSI 0.41) and plan (PSI 0.28)" in text
    assert "minor drift in monthly_spend (PSI 0.13)" in text
    assert "crypto 12%" in text
    assert "monthly_spend (1.0% to 9.0%)" in text
    assert "5,000 reference rows and 1,200 current rows" in text
    assert "\n" not in text


def test_summary_healthy_and_minimal():
    report = make_report()
    for feat in report["features"].values():
        feat.update(severity="none", drifted=False, new_categories={})
        feat.update(missing_share_reference=0.0, missing_share_current=0.0)
    report.update(verdict="healthy", dataset_drift=False, drifted_features=[])
    text = summarize(report)
    assert "verdict HEALTHY" in text
    assert "No drift detected: 0 of 7 features drifted." in text

    minimal = {"verdict": "healthy", "features": {}}
    assert summarize(minimal).startswith("Drift report: verdict HEALTHY.")


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


def test_names_colliding_after_sanitising_get_distinct_files(tmp_path):
    report = make_report()
    base = report["features"]["tenure_days"]
    report["features"] = {"a b": base, "a_b": copy.deepcopy(base), "A_B": copy.deepcopy(base)}
    paths = write_drift_reports(report, tmp_path)
    names = [p.name.lower() for p in paths.plot_paths]
    assert len(names) == len(set(names)) == 4


def test_input_is_not_mutated(tmp_path):
    report = make_report()
    snapshot = copy.deepcopy(report)
    write_drift_reports(report, tmp_path)
    assert report == snapshot


def test_import_does_not_load_matplotlib_and_rendering_avoids_pyplot(tmp_path):
    code = (
        "import sys, modelguard.drift.report as r; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module level'; "
        "r.write_drift_reports({'verdict': 'healthy', 'features': {}}, sys.argv[1]); "
        "assert 'matplotlib' in sys.modules; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot used'"
    )
    plugins = Path(__file__).parents[2] / "plugins"
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=plugins)


def test_summary_and_json_alone_do_not_load_matplotlib():
    # The drift check logs the summary and a consumer reads the JSON without drawing a plot:
    # neither may pay for (or depend on) matplotlib.
    code = (
        "import sys, json; "
        "from modelguard.drift.report.summary import summarize; "
        "from modelguard.drift.report.writer import _to_json; "
        "report = {'verdict': 'healthy', 'features': {}}; "
        "assert summarize(report).startswith('Drift report'); "
        "assert json.loads(_to_json(report)) == report; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported for the summary or JSON'"
    )
    plugins = Path(__file__).parents[2] / "plugins"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=plugins)
