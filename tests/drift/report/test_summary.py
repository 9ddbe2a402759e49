"""Tests of modelguard.drift.report.summary: the plain-text paragraph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modelguard.drift.report import summarize

from .reports import make_report


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
    plugins = Path(__file__).parents[3] / "plugins"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=plugins)
