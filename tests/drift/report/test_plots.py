"""Tests of modelguard.drift.report.plots: valid, safely named PNGs, drawn without pyplot."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

from modelguard.drift.report import write_drift_reports

from .reports import PNG_SIGNATURE, make_report


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


def test_names_colliding_after_sanitising_get_distinct_files(tmp_path):
    report = make_report()
    base = report["features"]["tenure_days"]
    report["features"] = {"a b": base, "a_b": copy.deepcopy(base), "A_B": copy.deepcopy(base)}
    paths = write_drift_reports(report, tmp_path)
    names = [p.name.lower() for p in paths.plot_paths]
    assert len(names) == len(set(names)) == 4


def test_import_does_not_load_matplotlib_and_rendering_avoids_pyplot(tmp_path):
    code = (
        "import sys, modelguard.drift.report as r; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module level'; "
        "r.write_drift_reports({'verdict': 'healthy', 'features': {}}, sys.argv[1]); "
        "assert 'matplotlib' in sys.modules; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot used'"
    )
    plugins = Path(__file__).parents[3] / "plugins"
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=plugins)
