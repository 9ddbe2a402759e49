"""One report folder written once for the tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelguard.drift.report import ReportPaths, write_drift_reports

from .reports import make_report


@pytest.fixture(scope="package")
def written(tmp_path_factory) -> tuple[dict, Path, ReportPaths]:
    report = make_report()
    out = tmp_path_factory.mktemp("report") / "nested" / "run1"
    return report, out, write_drift_reports(report, out)
