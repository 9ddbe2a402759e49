"""One tool of the benchmark in its own process: ``python bench/bench_tools.py TOOL DATA OUT``.

bench_compare.py starts this file once per tool and size, with the project's .venv for
``modelguard``, ``scipy``, ``check`` and ``read`` and with .venv-bench for ``nannyml`` and
``evidently`` (they need pandas < 3), so no tool shares memory, imports or caches with
another. Loading the frames is not timed; each timed phase runs ``--repeat`` times and its peak
memory is read from the kernel (VmHWM, reset before each run), next to what the frames already
held. The result is JSON in OUT.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import bench_data
import numpy as np

ALPHA = 0.05
"""The scipy baseline flags a column at p < ALPHA (KS or chi-square) ..."""
PSI_MAJOR = 0.25
"""... or PSI > PSI_MAJOR (the usual "significant shift" reading of PSI)."""
PROPORTION_FLOOR = 1e-4
"""The baseline floors proportions as modelguard does, so an empty bin gives a finite PSI."""
NANNYML_CHUNKS = 10
"""NannyML derives its alert thresholds from the spread of the drift statistic over the
reference's chunks, so both frames are cut into this many chunks; a column counts as flagged
when a majority of the current frame's chunks raise an alert (by any method)."""
PG_TABLE = "bench_window"
PG_SCHEMA = "modelguard_bench"
TIME_COLUMN = "sent_at"
T0 = datetime(2026, 1, 1)
"""Row i of the read table is sent at T0 + i seconds: a window of n seconds holds n rows."""


# ----------------------------------------------------------------------------- measuring


def _status_mib(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return math.nan


def _reset_peak() -> None:
    """Reset VmHWM (the process's peak RSS) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _trim() -> None:
    """Hand freed heap memory back to the kernel (glibc), so a run's peak above its start is
    not hidden by pages an earlier run freed but the process kept."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, Any], Any]:
    """Wall times of ``repeat`` runs of ``fn`` and what each run added to the RSS it started
    from (MiB, its peak minus its start); returns them with the last run's result."""
    times, added = [], []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        _trim()
        _reset_peak()
        base = _status_mib("VmRSS")
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        added.append(_status_mib("VmHWM") - base)
    return summarise({"times": times, "added_mib": added}), result


def summarise(phase: dict[str, Any]) -> dict[str, Any]:
    """The median time, and the most memory a run added over the runs after the first when
    there are several (the first also pays lazy imports and caches)."""
    added = phase["added_mib"]
    return {
        **phase,
        "median": float(np.median(phase["times"])),
        "peak_above_start_mib": max(added[1:] or added),
    }


def versions(*names: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


# ----------------------------------------------------------------------------- the tools


def floor(ref, cur, features: dict[str, str]) -> None:
    """What any exact approach must do (bench_drift.py's floor): sort the numeric columns and
    factorize the categorical columns of both frames."""
    import pandas as pd

    for frame in (ref, cur):
        for name, kind in features.items():
            if kind == "numeric":
                np.sort(frame[name].to_numpy())
            else:
                pd.factorize(frame[name])


def _psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p_ref = np.maximum(ref_counts / ref_counts.sum(), PROPORTION_FLOOR)
    p_cur = np.maximum(cur_counts / cur_counts.sum(), PROPORTION_FLOOR)
    return float(np.sum((p_cur - p_ref) * np.log(p_cur / p_ref)))


def scipy_baseline(ref, cur, features: dict[str, str], bins: int = 10) -> dict[str, dict]:
    """A straightforward drift check, column by column: numpy.quantile bin edges (the same
    right-closed bins and missing bin as modelguard) and PSI, scipy.stats.ks_2samp on the
    numeric values, chi2_contingency on the category counts (missing as a category)."""
    import pandas as pd
    import scipy.stats as sps

    out: dict[str, dict] = {}
    for name, kind in features.items():
        if kind == "numeric":
            r = ref[name].to_numpy(dtype=np.float64)
            c = cur[name].to_numpy(dtype=np.float64)
            r_ok, c_ok = r[~np.isnan(r)], c[~np.isnan(c)]
            edges = np.unique(np.quantile(r_ok, np.linspace(0.0, 1.0, bins + 1))[1:-1])
            ref_counts, cur_counts = (
                np.append(
                    np.bincount(np.searchsorted(edges, ok), minlength=edges.size + 1),
                    x.size - ok.size,
                )
                for x, ok in ((r, r_ok), (c, c_ok))
            )
            test = sps.ks_2samp(r_ok, c_ok)
        else:
            table = pd.concat(
                [ref[name].value_counts(dropna=False), cur[name].value_counts(dropna=False)],
                axis=1,
            ).fillna(0)
            ref_counts, cur_counts = (table.iloc[:, i].to_numpy(dtype=np.float64) for i in (0, 1))
            test = sps.chi2_contingency(np.vstack((ref_counts, cur_counts)))
        psi = _psi(ref_counts, cur_counts)
        p = float(test.pvalue)
        out[name] = {
            "psi": psi,
            "statistic": float(test.statistic),
            "pvalue": p,
            "flagged": bool(p < ALPHA or psi > PSI_MAJOR),
        }
    return out


def nannyml_drift(ref, cur, features: dict[str, str]) -> dict[str, int]:
    """NannyML's univariate drift (KS and Jensen-Shannon on numeric columns, chi-square and
    Jensen-Shannon on categorical ones): per column, how many current chunks raised an alert."""
    import nannyml as nml

    names = list(features)
    calc = nml.UnivariateDriftCalculator(
        column_names=names,
        treat_as_categorical=[n for n, k in features.items() if k == "categorical"],
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon"],
        categorical_methods=["chi2", "jensen_shannon"],
        chunk_number=NANNYML_CHUNKS,
    )
    calc.fit(ref[names])
    table = calc.calculate(cur[names]).filter(period="analysis").to_df()
    alerts = {name: np.zeros(len(table), dtype=bool) for name in names}
    for column in table.columns:
        if column[0] in alerts and column[-1] == "alert":
            alerts[column[0]] |= table[column].to_numpy(dtype=bool)
    return {name: int(a.sum()) for name, a in alerts.items()}


def evidently_drift(ref, cur, features: dict[str, str]) -> list[str]:
    """Evidently's DataDriftPreset with its defaults (above 1,000 rows: normed Wasserstein for
    numeric, Jensen-Shannon for categorical columns, threshold 0.1); the columns whose
    "Value Drift" test failed."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    names = list(features)
    definition = DataDefinition(
        numerical_columns=[n for n, k in features.items() if k == "numeric"],
        categorical_columns=[n for n, k in features.items() if k == "categorical"],
    )
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        current_data=Dataset.from_pandas(cur[names], data_definition=definition),
        reference_data=Dataset.from_pandas(ref[names], data_definition=definition),
    )
    failed = []
    for test in snapshot.dict()["tests"]:
        params = test["metric_config"]["params"]
        if "ValueDrift" in params.get("type", "") and str(test["status"]).endswith("FAIL"):
            failed.append(params["column"])
    return failed


def _drift_config():
    from modelguard.config import load_config

    return load_config(bench_data.ROOT / "config" / "main_config.yaml").drift_detection


def run_modelguard(ref, cur, features, target, repeat: int) -> dict[str, Any]:
    """The floor, build_reference_profile without and with the target, and detect_drift, all
    with the shipped config (bins, reference sample size), measured in this one process."""
    from modelguard.drift.detection import build_reference_profile, detect_drift

    dd = _drift_config()

    def profile(with_target: bool = False):
        return build_reference_profile(
            ref,
            features,
            target if with_target else None,
            bins=dd.psi_bins,
            sample_size=dd.reference_sample_size,
        )

    phases: dict[str, Any] = {}
    phases["floor"], _ = measure(lambda: floor(ref, cur, features), repeat)
    phases["profile"], built = measure(profile, repeat)
    phases["profile_target"], _ = measure(lambda: profile(True), repeat)
    phases["detect"], report = measure(lambda: detect_drift(built, cur, config=dd), repeat)
    return {"phases": phases, "flagged": report.drifted_features, "verdict": report.verdict}


def run_scipy(ref, cur, features, target, repeat: int) -> dict[str, Any]:
    bins = _drift_config().psi_bins
    timing, result = measure(lambda: scipy_baseline(ref, cur, features, bins), repeat)
    flagged = [n for n, r in result.items() if r["flagged"]]
    return {"phases": {"drift": timing}, "flagged": flagged, "columns": result}


def run_nannyml(ref, cur, features, target, repeat: int) -> dict[str, Any]:
    timing, chunks = measure(lambda: nannyml_drift(ref, cur, features), repeat)
    flagged = [n for n, k in chunks.items() if 2 * k > NANNYML_CHUNKS]
    return {"phases": {"drift": timing}, "flagged": flagged, "alert_chunks": chunks}


def run_evidently(ref, cur, features, target, repeat: int) -> dict[str, Any]:
    timing, flagged = measure(lambda: evidently_drift(ref, cur, features), repeat)
    return {"phases": {"drift": timing}, "flagged": flagged}


# ----------------------------------------------------------------------------- equality


def _close(tolerance: float) -> Callable[[float, float], tuple[bool, float]]:
    def check(value: float, expected: float) -> tuple[bool, float]:
        diff = abs(value - expected)
        return diff <= tolerance, diff

    return check


def _exact(value: float, expected: float) -> tuple[bool, float]:
    return value == expected, abs(value - expected)


def _relative(tolerance: float) -> Callable[[float, float], tuple[bool, float]]:
    def check(value: float, expected: float) -> tuple[bool, float]:
        diff = abs(value - expected) / max(abs(expected), 1e-300)
        return diff <= tolerance, diff

    return check


CHECKS: dict[str, tuple[str, Callable[[float, float], tuple[bool, float]]]] = {
    "psi_numeric": ("numeric PSI = stats.psi (1e-9)", _close(1e-9)),
    "psi_numeric_baseline": ("numeric PSI = numpy.quantile baseline (1e-9)", _close(1e-9)),
    "ks_statistic": ("KS D = stats.ks_2samp (exactly)", _exact),
    "ks_statistic_scipy": ("KS D = scipy.stats.ks_2samp (exactly)", _exact),
    "ks_pvalue": ("KS p = stats.ks_2samp (1e-9)", _close(1e-9)),
    "wasserstein_scipy": ("W1 = scipy wasserstein_distance / spread (1e-9 rel.)", _relative(1e-9)),
    "psi_categorical": ("categorical PSI = stats.psi (1e-9)", _close(1e-9)),
    "psi_categorical_baseline": ("categorical PSI = value_counts baseline (1e-9)", _close(1e-9)),
    "chi2_pvalue": ("chi-square p = stats.chi2_test (1e-9)", _close(1e-9)),
    "chi2_pvalue_scipy": ("chi-square p = scipy chi2_contingency (1e-9)", _close(1e-9)),
}
"""What the fast paths of detect_drift are checked against, and how closely."""


def equality_checks(ref, cur, features: dict[str, str]) -> list[dict[str, Any]]:
    """detect_drift's per-feature numbers against modelguard.core.stats computed from the
    full columns (and against scipy and the baseline, which share no code with it). The
    profile keeps every reference value (sample_size = rows), so KS sees the whole reference
    as stats.ks_2samp does; the shipped 20,000-value sample changes KS, not PSI."""
    import scipy.stats as sps

    from modelguard.core import stats
    from modelguard.drift.detection import build_reference_profile, detect_drift

    dd = _drift_config()
    profile = build_reference_profile(ref, features, bins=dd.psi_bins, sample_size=len(ref))
    report = detect_drift(profile, cur, config=dd)
    base = scipy_baseline(ref, cur, features, dd.psi_bins)
    pairs: dict[str, list[tuple[str, float, float]]] = {key: [] for key in CHECKS}
    for name, kind in features.items():
        f, b = report.features[name], base[name]
        if kind == "numeric":
            r, c = ref[name].to_numpy(np.float64), cur[name].to_numpy(np.float64)
            r_ok, c_ok = r[~np.isnan(r)], c[~np.isnan(c)]
            d, p = stats.ks_2samp(r, c)
            spread = stats.reference_spread(np.sort(r_ok))
            w1 = float(sps.wasserstein_distance(r_ok, c_ok)) / spread
            pairs["psi_numeric"].append((name, f.psi, stats.psi(r, c, bins=dd.psi_bins)))
            pairs["psi_numeric_baseline"].append((name, f.psi, b["psi"]))
            pairs["ks_statistic"].append((name, f.ks_statistic, d))
            pairs["ks_statistic_scipy"].append((name, f.ks_statistic, b["statistic"]))
            pairs["ks_pvalue"].append((name, f.ks_pvalue, p))
            pairs["wasserstein_scipy"].append((name, f.wasserstein, w1))
        else:
            psi = stats.psi(ref[name], cur[name], categorical=True)
            _stat, p, _dof = stats.chi2_test(ref[name], cur[name])
            pairs["psi_categorical"].append((name, f.psi, psi))
            pairs["psi_categorical_baseline"].append((name, f.psi, b["psi"]))
            pairs["chi2_pvalue"].append((name, f.chi2_pvalue, p))
            pairs["chi2_pvalue_scipy"].append((name, f.chi2_pvalue, b["pvalue"]))
    results = []
    for key, (label, check) in CHECKS.items():
        outcomes = [(name, *check(v, e)) for name, v, e in pairs[key]]
        worst = max(outcomes, key=lambda o: o[2])
        results.append(
            {
                "check": key,
                "label": label,
                "passed": all(o[1] for o in outcomes),
                "features": len(outcomes),
                "failed": [o[0] for o in outcomes if not o[1]],
                "worst_feature": worst[0],
                "worst_difference": worst[2],
            }
        )
    return results


# ----------------------------------------------------------------------------- the read


def _pg_engine(dsn: str):
    from modelguard.storage.source import engine_for_url

    return engine_for_url(dsn)


def load_read_table(
    dsn: str, schema: str, n: int, seed: int, chunk: int = 500_000
) -> dict[str, Any]:
    """(Re)create the read table: the generator's current frame of ``n`` rows plus a time
    column (row i at T0 + i seconds), loaded with COPY in chunks and indexed on the time."""
    import io

    import pandas as pd
    import sqlalchemy as sa

    engine = _pg_engine(dsn)
    started = time.perf_counter()
    cols = bench_data.make_columns(n, seed, current=True)
    numeric = [f"{c} double precision" for c in bench_data.NUMERIC]
    text = [f"{c} text" for c in bench_data.CATEGORICAL]
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {schema}.{PG_TABLE}"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {schema}.{PG_TABLE} ({TIME_COLUMN} timestamp NOT NULL, "
                + ", ".join(numeric + text)
                + ")"
            )
        )
    tables = {
        c: np.array([*bench_data.labels(c), None], dtype=object) for c in bench_data.CATEGORICAL
    }
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            part = {TIME_COLUMN: pd.Timestamp(T0) + pd.to_timedelta(np.arange(lo, hi), unit="s")}
            for name, arr in cols.items():
                if name in tables:
                    codes = arr[lo:hi]
                    part[name] = tables[name][np.where(codes < 0, len(tables[name]) - 1, codes)]
                elif name != bench_data.TARGET:
                    part[name] = arr[lo:hi]
            buf = io.StringIO()
            pd.DataFrame(part).to_csv(buf, header=False, index=False, na_rep="")
            buf.seek(0)
            cursor.copy_expert(
                f"COPY {schema}.{PG_TABLE} FROM STDIN WITH (FORMAT csv)", buf, size=1 << 20
            )
        cursor.execute(f"CREATE INDEX ON {schema}.{PG_TABLE} ({TIME_COLUMN})")
        cursor.execute(f"ANALYZE {schema}.{PG_TABLE}")
        raw.commit()
    finally:
        raw.close()
    return {"rows": n, "seconds": time.perf_counter() - started}


def drop_read_table(dsn: str, schema: str) -> None:
    import sqlalchemy as sa

    with _pg_engine(dsn).begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {schema}.{PG_TABLE}"))


def copy_floor(dsn: str, schema: str, columns: list[str], start: datetime, end: datetime):
    """The floor of a read: the same window through COPY ... TO STDOUT (CSV) into
    pandas.read_csv (floats round-trip), with the time column parsed."""
    import io

    import pandas as pd

    raw = _pg_engine(dsn).raw_connection()
    try:
        cursor = raw.cursor()
        query = cursor.mogrify(
            f"SELECT {', '.join(columns)} FROM {schema}.{PG_TABLE} "
            f"WHERE {TIME_COLUMN} >= %s AND {TIME_COLUMN} < %s ORDER BY {TIME_COLUMN}",
            (start, end),
        ).decode()
        buf = io.BytesIO()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
        raw.rollback()
    finally:
        raw.close()
    buf.seek(0)
    frame = pd.read_csv(buf, float_precision="round_trip")
    frame[TIME_COLUMN] = pd.to_datetime(frame[TIME_COLUMN])
    return frame


def run_read(dsn: str, schema: str, n: int, repeat: int) -> dict[str, Any]:
    """read_window of the window holding the first ``n`` rows (the time column and the 25
    features, as the drift check asks) and the COPY floor, alternately, in this process."""
    from modelguard.core.window import Window
    from modelguard.storage.source import read_window

    engine = _pg_engine(dsn)
    columns = [TIME_COLUMN, *bench_data.FEATURES]
    start, end = T0, T0 + timedelta(seconds=n)
    window = Window(start, end)

    def read():
        return read_window(engine, f"{schema}.{PG_TABLE}", TIME_COLUMN, window, columns)

    runs: dict[str, dict[str, list[float]]] = {
        key: {"times": [], "added_mib": []} for key in ("read_window", "copy_floor")
    }
    rows = {}
    for _ in range(repeat):  # alternate, so a slow moment of the machine hits both
        for key, fn in (
            ("read_window", read),
            ("copy_floor", lambda: copy_floor(dsn, schema, columns, start, end)),
        ):
            timing, frame = measure(fn, 1)
            runs[key]["times"] += timing["times"]
            runs[key]["added_mib"] += timing["added_mib"]
            rows[key] = len(frame)
            del frame
    phases = {key: summarise(run) for key, run in runs.items()}
    same = _same_values(read(), copy_floor(dsn, schema, columns, start, end))
    return {"phases": phases, "rows": rows, "same_values_as_floor": same}


def _same_values(a, b) -> bool:
    """Whether the two frames hold the same values (dtypes aside: the floor reads NULL text
    as NaN where read_window gives None)."""
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(
            a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False, check_exact=True
        )
    except AssertionError:
        return False
    return True


# ----------------------------------------------------------------------------- main

TOOLS = {
    "modelguard": run_modelguard,
    "scipy": run_scipy,
    "nannyml": run_nannyml,
    "evidently": run_evidently,
}
PACKAGES = ("numpy", "pandas", "scipy", "modelguard", "nannyml", "evidently", "psycopg2-binary")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tool", choices=[*TOOLS, "check", "read", "load-read", "drop-read"])
    parser.add_argument("data", help="data folder (bench_data.write_data), or rows for read")
    parser.add_argument("out", type=Path, help="JSON result file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", default="")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--schema", default=PG_SCHEMA, help="PostgreSQL schema of the read table")
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"tool": args.tool, "versions": versions(*PACKAGES)}
    if args.tool in ("read", "load-read", "drop-read"):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.schema):
            parser.error(f"--schema must be a plain lower-case identifier; got {args.schema!r}")
        n = int(args.data)
        if args.tool == "read":
            result |= run_read(args.dsn, args.schema, n, args.repeat)
        elif args.tool == "load-read":
            result |= load_read_table(args.dsn, args.schema, n, args.seed)
        else:
            drop_read_table(args.dsn, args.schema)
        result["n_rows"] = n
    else:
        folder = Path(args.data)
        ref, cur, features, target = bench_data.load_frames(folder)
        result["n_rows"] = len(cur)
        result["rss_after_load_mib"] = _status_mib("VmRSS")
        if args.tool == "check":
            result["checks"] = equality_checks(ref, cur, features)
        else:
            result |= TOOLS[args.tool](ref, cur, features, target, args.repeat)
    args.out.write_text(json.dumps(result, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
