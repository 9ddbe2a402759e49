"""`make bench` cannot rot: its data generator, the scipy baseline, the fast-path equality
checks, the table and the whole orchestration run at a tiny size, with modelguard and the
scipy baseline only (no .venv-bench). The PostgreSQL read rows run on the test database.
Nothing here times anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest_db import engine_spec

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
N = 4000

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_compare
        import bench_data
        import bench_tools
    finally:
        sys.path.remove(str(BENCH))
    return SimpleNamespace(data=bench_data, tools=bench_tools, compare=bench_compare)


@pytest.fixture(scope="module")
def frames(bench, tmp_path_factory):
    folder = bench.data.write_data(tmp_path_factory.mktemp("bench") / f"data-{N}", N)
    return bench.data.load_frames(folder)


def test_generator_writes_the_documented_frames(bench, frames):
    ref, cur, features, target = frames
    assert len(ref) == len(cur) == N
    assert list(cur.columns) == list(features) == [*bench.data.NUMERIC, *bench.data.CATEGORICAL]
    assert list(ref.columns) == [*features, target]
    assert set(np.unique(ref[target])) == {0, 1}
    # the shifts of bench_data.SHIFTS are in the current frame, not in the reference
    assert cur["num_0"].mean() > ref["num_0"].mean() + 0.4
    assert cur["num_1"].std() > 1.4 * ref["num_1"].std()
    assert cur["num_2"].isna().mean() > 0.18 > ref["num_2"].isna().mean()
    assert "cat1_new" in set(cur["cat_1"]) and "cat1_new" not in set(ref["cat_1"])
    assert (cur["cat_0"] == "cat0_0").mean() > 0.2 > (ref["cat_0"] == "cat0_0").mean()
    assert ref["cat_4"].isna().any() and not ref["cat_3"].isna().any()


def test_scipy_baseline_flags_the_shifted_columns_and_not_a_copy(bench, frames):
    ref, cur, features, _target = frames
    shifted = bench.tools.scipy_baseline(ref, cur, features)
    flagged = {name for name, r in shifted.items() if r["flagged"]}
    assert set(bench.data.EXPECTED) <= flagged
    assert shifted["num_0"]["pvalue"] < 1e-10 and shifted["cat_1"]["psi"] > 0.1
    same = bench.tools.scipy_baseline(ref, ref[list(features)].copy(), features)
    assert not [name for name, r in same.items() if r["flagged"]]
    assert all(r["psi"] == 0.0 and r["pvalue"] == 1.0 for r in same.values())


def test_equality_checks_pass_on_every_feature(bench, frames):
    ref, cur, features, _target = frames
    checks = bench.tools.equality_checks(ref, cur, features)
    assert {c["check"] for c in checks} == set(bench.tools.CHECKS)
    assert [c["label"] for c in checks if not c["passed"]] == []
    counts = {c["check"]: c["features"] for c in checks}
    assert counts["ks_statistic_scipy"] == 20 and counts["chi2_pvalue_scipy"] == 5


def test_a_failed_check_is_printed_as_fail(bench):
    failing = {"check": "ks_statistic", "label": "KS D = stats.ks_2samp (exactly)"}
    record = {
        "n_rows": 1000,
        "checks": [
            {
                **failing,
                "passed": False,
                "features": 20,
                "failed": ["num_7"],
                "worst_feature": "num_7",
                "worst_difference": 1e-17,
            }
        ],
    }
    merged = bench.compare.merge_checks([record])
    assert not merged[0]["passed"]
    assert bench.compare.render_checks(merged).startswith("FAIL  KS D")
    assert "num_7 at 1,000" in bench.compare.render_checks(merged)


def test_flags_are_read_against_the_shifts(bench):
    describe = bench.compare.describe_flags
    assert describe(list(bench.data.EXPECTED)) == "5/5 shifts"
    text = describe(["num_0", "num_3", "num_9", "cat_1"])
    assert (
        text == "2/5 shifts (missed num_1, num_2, cat_0); + negligible num_3; + 1 unshifted (num_9)"
    )


def test_fitted_exponent(bench):
    sizes = [100_000, 1_000_000, 10_000_000]
    assert bench.data.fitted_exponent(sizes, [n * 1e-6 for n in sizes]) == pytest.approx(1.0)
    n_log_n = [n * np.log(n) for n in sizes]
    assert bench.data.fitted_exponent(sizes, n_log_n) == pytest.approx(1.07, abs=0.01)


def run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH / "bench_compare.py"), "--repeat", "1"]
        + ["--tools", "modelguard,scipy", "--data", str(tmp_path / "work")]
        + ["--results", str(tmp_path / "results"), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_bench_runs_end_to_end_at_a_tiny_size(tmp_path):
    done = run_bench(tmp_path, "--sizes", str(N), "--scaling", f"{N},{2 * N}", "--no-read")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "results" / "bench.json").read_text())
    assert (tmp_path / "results" / "bench.png").stat().st_size > 10_000
    assert {r["tool"] for r in result["records"]} == {"modelguard", "scipy"}
    assert all(c["passed"] for c in result["checks"]) and len(result["checks"]) == 10
    assert {"nproc", "ram_gib", "python"} <= set(result["machine"])
    assert result["versions"]["project"]["numpy"] == np.__version__
    for label in ("modelguard profile + detect", "modelguard profile with target", "floor: sort"):
        assert label in result["table"]
    scipy_row = next(ln for ln in result["table"].splitlines() if "scipy baseline" in ln)
    assert "5/5 shifts" in scipy_row and "x modelguard" in scipy_row
    curves = {c["series"]: c for c in result["scaling"]}
    assert set(curves["modelguard detect_drift"]["seconds"]) == {str(N), str(2 * N)}
    assert curves["scipy baseline"]["exponent"] is not None
    assert "PASS  KS D = scipy.stats.ks_2samp (exactly)" in done.stdout
    assert not list((tmp_path / "work").glob("data-*")), "the generated data is removed"


@pytest.mark.postgres
def test_read_rows_on_postgresql(bench, pg_engine, tmp_path):
    """The read rows: read_window and the COPY floor read the same window of the same rows,
    and the table the bench loaded is dropped afterwards."""
    url, schema = engine_spec(pg_engine)
    args = SimpleNamespace(dsn=url, schema=schema, data=tmp_path, repeat=1)
    (read,) = bench.compare.read_records(args, [1500])
    assert read["rows"] == {"read_window": 1500, "copy_floor": 1500}
    assert read["same_values_as_floor"] is True
    rows = bench.compare.table_rows([read], [1500])
    assert [r[1] for r in rows] == ["read_window (PostgreSQL)", "floor: COPY -> read_csv"]
    assert rows[0][3].endswith("x COPY") and [r[-1] for r in rows] == ["", ""]
    with pg_engine.connect() as conn:
        tables = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).scalar_one()
    assert tables == 0
