"""Every task process imports its modules again: the heavy packages stay out of the modules a
task imports before it needs them (issue 11, "Per-run overhead").

``import scipy.stats`` alone took 2.5-3.2 s per task process on this machine, matplotlib
0.9-1.8 s, scikit-learn (which imports scipy.stats) ~2.6 s. Each check runs in a fresh
interpreter and looks at ``sys.modules``; none asserts a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("scipy.stats", "matplotlib", "sklearn")

OPERATOR_MODULES = [
    f"modelguard.{kind}.{path.stem}"
    for kind in ("operators", "sensors", "triggers")
    for path in sorted((ROOT / "plugins" / "modelguard" / kind).glob("*.py"))
    if path.stem != "__init__"
]

CORE_MODULES = [
    "modelguard.core.stats",
    "modelguard.core.scoring",
    "modelguard.labels.estimation",
    "modelguard.labels.performance",
    "modelguard.labels.concept",
    "modelguard.drift.detection",
    "modelguard.drift.report",
    "modelguard.retraining.decision",
    "modelguard.pipelines.drift_check",
    "modelguard.pipelines.performance_estimate",
    "modelguard.pipelines.label_checks",
    "modelguard.pipelines.retrain_decision",
    "modelguard.pipelines.health_check",
    "modelguard.pipelines.alerting",
    "modelguard.pipelines.retention",
]


def loaded_after(code: str, watch=HEAVY, env: dict[str, str] | None = None) -> list[str]:
    """The packages of ``watch`` in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {list(watch)!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_probe_sees_a_heavy_import():
    assert loaded_after("import scipy.stats") == ["scipy.stats"]


def test_importing_the_modules_a_task_imports_loads_no_heavy_package():
    """One interpreter imports them in turn; a heavy package is named with the module whose
    import loaded it first."""
    modules = OPERATOR_MODULES + CORE_MODULES
    code = f"""
import importlib, sys
culprits = {{}}
for module in {modules!r}:
    importlib.import_module(module)
    for heavy in {list(HEAVY)!r}:
        if heavy in sys.modules and heavy not in culprits:
            culprits[heavy] = module
print(culprits)
"""
    assert len(OPERATOR_MODULES) >= 15
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "{}", f"heavy package -> module that imported it: {done.stdout}"


def test_parsing_the_dag_file_loads_none_of_them_nor_pandas():
    """What the dag-processor, and every task process before its task, runs."""
    code = "import runpy\nrunpy.run_path('dags/modelguard_dags.py')"
    env = {"MODELGUARD_CONFIG": str(ROOT / "config")}
    assert loaded_after(code, watch=(*HEAVY, "pandas"), env=env) == []


def test_a_drift_check_and_reading_its_report_back_load_neither_scipy_stats_nor_sklearn():
    """``detect_drift`` on a one-day window against a profile with more than KS_EXACT_MAX_N
    reference values (the limiting KS p-value, as on the demo's daily runs), and the decision
    task's read of the report: scipy.special only."""
    code = """
import numpy as np
import pandas as pd
from modelguard.drift.detection import DriftReport, build_reference_profile, detect_drift

rng = np.random.default_rng(0)
def frame(n, shift):
    return pd.DataFrame({
        "x": rng.normal(shift, 1, n), "y": rng.exponential(1 + shift, n),
        "c": rng.choice(["a", "b", "c"], n), "t": (rng.random(n) < 0.3).astype(int),
    })
features = {"x": "numeric", "y": "numeric", "c": "categorical"}
profile = build_reference_profile(frame(30_000, 0.0), features, target="t")
report = detect_drift(profile, frame(1_400, 0.3))
assert report.features["x"].ks_pvalue is not None
DriftReport.from_dict(report.to_dict())
"""
    assert loaded_after(code) == []
