"""`make bench-detection`: false-alarm and detection rates of the drift verdict.

Runs the real pipeline (build_reference_profile + detect_drift with the shipped
config/main_config.yaml) on synthetic 25-column frames and on the email_engagement generator's
stream, and prints tables; writes bench/results/detection_rates.json. Not a test: it asserts
nothing. Every random number comes from a fixed seed, so the published numbers reproduce.

Sections (``--sections``, default all):

- ``false_alarms``: same-distribution windows at n = 200 .. 1M; share of windows in which
  detect_drift flags anything (a drifted feature or dataset drift), with a 95% Clopper-Pearson
  interval;
- ``grid``: detection rate of one shifted column per window, on a grid of shifts, at each n;
- ``seven``: the issue's seven documented shifts at 100k and 1M rows, all in one frame (each
  in its own column): which columns each rule flags, the rule before this change and now;
- ``hourly``: no drift, 720 hourly runs over a 31-day stream, each on the 24 hours ending at
  its hour (the monitoring DAG's overlapping windows), at the demo's volume and 10x.

"The rule before" is recomputed from the same report's numbers (PSI, KS / chi-square p-values,
KS D / Cramér's V, unchanged by this change): major PSI, or BH over the KS / chi-square p-values
below ks_significance with the effect size at its floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from modelguard.config import load_config
from modelguard.core import stats
from modelguard.drift.detection import DriftReport, build_reference_profile, detect_drift

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "main_config.yaml"
RESULTS = ROOT / "bench" / "results" / "detection_rates.json"

N_REFERENCE = 1_000_000
SIZES = (200, 1_000, 10_000, 100_000, 1_000_000)
FA_REPEATS = {200: 1000, 1_000: 1000, 10_000: 500, 100_000: 50, 1_000_000: 10}
GRID_REPEATS = {200: 100, 1_000: 100, 10_000: 50, 100_000: 10, 1_000_000: 2}
QUICK_REPEATS = {200: 20, 1_000: 20, 10_000: 5, 100_000: 2, 1_000_000: 1}

# ----------------------------------------------------------------------------- the frame
# 20 numeric columns of varied shapes (normal, lognormal, zero-inflated counts, integers,
# bounded uniform, heavy-tailed t(3), t(30)); 5 categorical columns with 3..50 categories.
NUMERIC_SHAPES = {
    "normal_0": "normal",
    "normal_1": "normal",  # 2% missing
    "normal_2": "normal",
    "normal_3": "normal",
    "lognormal_0": "lognormal",
    "lognormal_1": "lognormal",  # 2% missing
    "lognormal_2": "lognormal",
    "zero_counts_0": "zero_inflated",
    "zero_counts_1": "zero_inflated",  # 2% missing
    "zero_counts_2": "zero_inflated",
    "integer_0": "integer",
    "integer_1": "integer",  # 2% missing
    "integer_2": "integer",
    "uniform_0": "uniform",
    "uniform_1": "uniform",  # 2% missing
    "uniform_2": "uniform",
    "t3_0": "t3",
    "t3_1": "t3",  # 2% missing
    "t3_2": "t3",
    "t30_0": "t30",
}
WITH_MISSING = ("normal_1", "lognormal_1", "zero_counts_1", "integer_1", "uniform_1", "t3_1")
CATEGORY_COUNTS = {"cat_3": 3, "cat_5": 5, "cat_10": 10, "cat_20": 20, "cat_50": 50}
FEATURES = {name: "numeric" for name in NUMERIC_SHAPES} | {
    c: "categorical" for c in CATEGORY_COUNTS
}


def _category_probs(k: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, k + 1)  # Zipf: a few common categories, a tail of rare ones
    return weights / weights.sum()


def _numeric(shape: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if shape == "normal":
        return rng.normal(50.0, 10.0, n)
    if shape == "lognormal":
        return rng.lognormal(3.0, 0.8, n)
    if shape == "zero_inflated":
        return np.where(rng.random(n) < 0.6, 0.0, rng.poisson(3.0, n) + 1.0)
    if shape == "integer":
        return np.round(rng.normal(20.0, 4.0, n))
    if shape == "uniform":
        return rng.uniform(0.0, 1.0, n)
    if shape == "t3":
        return rng.standard_t(3, n)
    if shape == "t30":
        return rng.standard_t(30, n)
    raise ValueError(shape)


def make_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, shape in NUMERIC_SHAPES.items():
        col = _numeric(shape, n, rng)
        if name in WITH_MISSING:
            col[rng.random(n) < 0.02] = np.nan
        data[name] = col
    for name, k in CATEGORY_COUNTS.items():
        labels = np.array([f"{name}_{i}" for i in range(k)], dtype=object)
        data[name] = labels[rng.choice(k, n, p=_category_probs(k))]
    return pd.DataFrame(data)


# ----------------------------------------------------------------------------- the shifts
# Each shift changes one column of a current frame in place, in units of the reference
# distribution (sd = the shape's population standard deviation).
REF_SD = {"normal_0": 10.0, "normal_2": 10.0, "normal_3": 10.0, "integer_0": 4.0}
REF_MEAN = {"normal_0": 50.0, "normal_2": 50.0, "normal_3": 50.0, "integer_0": 20.0}
Q99_NORMAL = 50.0 + 10.0 * float(sps.norm.ppf(0.99))


def _location(col: str, d: float):
    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        frame[col] = frame[col] + d * REF_SD[col]

    return apply


def _scale(col: str, s: float, d: float = 0.0):
    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        mean = REF_MEAN[col]
        frame[col] = mean + s * (frame[col] - mean) + d * REF_SD[col]

    return apply


def _tail(col: str, share: float):
    """``share`` of the values moved beyond the 99th percentile: q99 + Exponential(2 sd)."""

    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        values = frame[col].to_numpy(copy=True)
        moved = rng.random(values.size) < share
        values[moved] = Q99_NORMAL + rng.exponential(2.0 * REF_SD[col], int(moved.sum()))
        frame[col] = values

    return apply


def _heavier_tails(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """t(30) -> t(3) rescaled to t(30)'s variance (30/28): same mean and spread, heavier tails."""
    frame["t30_0"] = rng.standard_t(3, len(frame)) * np.sqrt((30 / 28) / 3)


def _category_mix(col: str, share: float):
    """``share`` of the rows moved to the column's most common category."""

    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        values = frame[col].to_numpy(copy=True)
        values[rng.random(values.size) < share] = f"{col}_0"
        frame[col] = values

    return apply


def _new_category(col: str, share: float):
    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        values = frame[col].to_numpy(copy=True)
        values[rng.random(values.size) < share] = f"{col}_new"
        frame[col] = values

    return apply


def _missing(col: str, share: float):
    """``share`` more of the rows missing (on top of the column's 2%)."""

    def apply(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        values = frame[col].to_numpy(copy=True)
        present = ~np.isnan(values)
        values[present & (rng.random(values.size) < share / 0.98)] = np.nan
        frame[col] = values

    return apply


GRID: dict[str, tuple[str, Any]] = {
    "location +0.05 sd": ("normal_0", _location("normal_0", 0.05)),
    "location +0.1 sd": ("normal_0", _location("normal_0", 0.1)),
    "location +0.2 sd": ("normal_0", _location("normal_0", 0.2)),
    "location +0.5 sd": ("normal_0", _location("normal_0", 0.5)),
    "scale x1.1": ("normal_0", _scale("normal_0", 1.1)),
    "scale x1.25": ("normal_0", _scale("normal_0", 1.25)),
    "scale x1.5": ("normal_0", _scale("normal_0", 1.5)),
    "scale x2": ("normal_0", _scale("normal_0", 2.0)),
    "tail 1% beyond p99": ("normal_0", _tail("normal_0", 0.01)),
    "tail 5% beyond p99": ("normal_0", _tail("normal_0", 0.05)),
    "tail t(30) -> t(3), same variance": ("t30_0", _heavier_tails),
    "category mix 5%": ("cat_5", _category_mix("cat_5", 0.05)),
    "category mix 20%": ("cat_5", _category_mix("cat_5", 0.20)),
    "new category 1%": ("cat_10", _new_category("cat_10", 0.01)),
    "new category 5%": ("cat_10", _new_category("cat_10", 0.05)),
    "missing +1%": ("normal_1", _missing("normal_1", 0.01)),
    "missing +5%": ("normal_1", _missing("normal_1", 0.05)),
    "missing +20%": ("normal_1", _missing("normal_1", 0.20)),
}

SEVEN: dict[str, tuple[str, Any]] = {
    "1 location +0.5 sd": ("normal_0", _location("normal_0", 0.5)),
    "2 scale only, sd x1.5": ("normal_2", _scale("normal_2", 1.5)),
    "3 tail, 5% beyond p99": ("normal_3", _tail("normal_3", 0.05)),
    "4 category mix, 20% to the top category": ("cat_5", _category_mix("cat_5", 0.20)),
    "5 new category, 5%": ("cat_10", _new_category("cat_10", 0.05)),
    "6 missing share +20%": ("lognormal_1", _missing("lognormal_1", 0.20)),
    "7 combined, +0.3 sd and sd x1.3": ("integer_0", _scale("integer_0", 1.3, 0.3)),
}


# ----------------------------------------------------------------------------- the rules


def old_rule_flags(report: DriftReport) -> list[str]:
    """The verdict before the scale/tail rule, from the same report's unchanged numbers."""
    th = report.thresholds
    tested = [
        (name, f.ks_pvalue if f.type == "numeric" else f.chi2_pvalue)
        for name, f in report.features.items()
    ]
    tested = [(name, p) for name, p in tested if p is not None]
    adjusted = dict(
        zip(
            [n for n, _ in tested],
            stats.benjamini_hochberg([p for _, p in tested]),
            strict=True,
        )
    )
    flagged = []
    for name, f in report.features.items():
        floor = th["min_ks_statistic"] if f.type == "numeric" else th["min_cramers_v"]
        significant = name in adjusted and adjusted[name] < th["ks_significance"]
        if f.severity == "major" or (significant and _old_effect(f) >= floor):
            flagged.append(name)
    return flagged


def _old_effect(f) -> float:
    """The effect size of the rule before: KS D, or Cramér's V of the 2 x k table as it was
    (shrinking with the size ratio of reference and window; now the balanced V)."""
    if f.type == "numeric":
        return f.effect_size
    present = sum(
        1 for r, c in zip(f.bins["reference"], f.bins["current"], strict=True) if r > 0 or c > 0
    )
    return stats.cramers_v(f.chi2_statistic, f.n_reference + f.n_current, present)


def flags(report: DriftReport) -> dict[str, Any]:
    old = old_rule_flags(report)
    return {
        "new": report.drifted_features,
        "new_any": bool(report.drifted_features) or report.dataset_drift,
        "old": old,
        "old_any": bool(old),
    }


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    lo = 0.0 if k == 0 else float(sps.beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(sps.beta.ppf(0.975, k + 1, n - k))
    return lo, hi


# ----------------------------------------------------------------------------- sections


def run_false_alarms(profile, dd, repeats: dict[int, int]) -> list[dict[str, Any]]:
    rows = []
    for n in SIZES:
        rng = np.random.default_rng([2026, n])
        counts = {"new": 0, "old": 0}
        per_feature: dict[str, int] = {}
        t0 = time.perf_counter()
        for _ in range(repeats[n]):
            f = flags(detect_drift(profile, make_frame(n, rng), config=dd))
            counts["new"] += f["new_any"]
            counts["old"] += f["old_any"]
            for name in f["new"]:
                per_feature[name] = per_feature.get(name, 0) + 1
        reps = repeats[n]
        row = {
            "n": n,
            "windows": reps,
            "flagged_now": counts["new"],
            "rate_now": counts["new"] / reps,
            "ci95_now": clopper_pearson(counts["new"], reps),
            "flagged_before": counts["old"],
            "rate_before": counts["old"] / reps,
            "ci95_before": clopper_pearson(counts["old"], reps),
            "features_flagged_now": per_feature,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        print(
            f"  n={n:>9,}  windows {reps:>5}  flagged now {counts['new']:>4} "
            f"({row['rate_now']:.3f}, 95% CI {row['ci95_now'][0]:.3f}-{row['ci95_now'][1]:.3f})"
            f"  before {counts['old']:>4} ({row['rate_before']:.3f})  [{row['seconds']} s]",
            flush=True,
        )
    return rows


def run_grid(profile, dd, repeats: dict[int, int]) -> list[dict[str, Any]]:
    rows = []
    for label, (col, shift) in GRID.items():
        row: dict[str, Any] = {"shift": label, "column": col, "rates": {}}
        for n in SIZES:
            rng = np.random.default_rng([7, n, sum(map(ord, label))])
            hit_new = hit_old = 0
            stat: dict[str, list[float]] = {"psi": [], "ks_statistic": [], "wasserstein": []}
            for _ in range(repeats[n]):
                frame = make_frame(n, rng)
                shift(frame, rng)
                report = detect_drift(profile, frame, config=dd)
                f = flags(report)
                hit_new += col in f["new"]
                hit_old += col in f["old"]
                feat = report.features[col]
                for key in stat:
                    value = getattr(feat, key)
                    if value is not None:
                        stat[key].append(value)
            reps = repeats[n]
            row["rates"][n] = {
                "now": hit_new / reps,
                "before": hit_old / reps,
                "repeats": reps,
                **{f"mean_{k}": float(np.mean(v)) if v else None for k, v in stat.items()},
            }
        rows.append(row)
        cells = "  ".join(
            f"{row['rates'][n]['before']:.2f}->{row['rates'][n]['now']:.2f}" for n in SIZES
        )
        print(f"  {label:<36} {cells}", flush=True)
    return rows


def run_seven(profile, dd) -> list[dict[str, Any]]:
    rows = []
    for n in (100_000, 1_000_000):
        rng = np.random.default_rng([10, n])
        frame = make_frame(n, rng)
        for _label, (_col, shift) in SEVEN.items():
            shift(frame, rng)
        report = detect_drift(profile, frame, config=dd)
        f = flags(report)
        shifted = {col: label for label, (col, _) in SEVEN.items()}
        entry = {"n": n, "shifts": [], "false_flags_now": [], "false_flags_before": []}
        for col, label in shifted.items():
            feat = report.features[col]
            entry["shifts"].append(
                {
                    "shift": label,
                    "column": col,
                    "before": col in f["old"],
                    "now": col in f["new"],
                    "psi": feat.psi,
                    "ks_statistic": feat.ks_statistic,
                    "cramers_v": feat.effect_size if feat.type == "categorical" else None,
                    "wasserstein": feat.wasserstein,
                    "reason": feat.reason,
                }
            )
        entry["false_flags_now"] = [c for c in f["new"] if c not in shifted]
        entry["false_flags_before"] = [c for c in f["old"] if c not in shifted]
        entry["flagged_before"] = sum(s["before"] for s in entry["shifts"])
        entry["flagged_now"] = sum(s["now"] for s in entry["shifts"])
        rows.append(entry)
        print(
            f"  n={n:,}: flagged before {entry['flagged_before']}/7, now {entry['flagged_now']}/7"
        )
        for s in entry["shifts"]:
            w1 = "-" if s["wasserstein"] is None else f"{s['wasserstein']:.3f}"
            print(
                f"    {s['shift']:<42} {s['column']:<12} before {s['before']!s:<5} "
                f"now {s['now']!s:<5} PSI {s['psi']:.3f} W1 {w1}"
            )
        print(
            f"    unshifted columns flagged: before {entry['false_flags_before']}, "
            f"now {entry['false_flags_now']}"
        )
    return rows


def run_hourly(dd, features: dict[str, str], target: str, quick: bool) -> list[dict[str, Any]]:
    from email_engagement.generator import generate_sends

    stream_start = datetime(2026, 6, 1)
    days = 31
    ref_days = 30
    rows = []
    for volume in (60, 600):  # the demo's sends per hour (scripts/demo.py), and 10x
        reference = generate_sends(
            stream_start - timedelta(days=ref_days), stream_start, seed=7, sends_per_hour=volume
        )
        profile = build_reference_profile(
            reference,
            features,
            target=target,
            bins=dd.psi_bins,
            sample_size=dd.reference_sample_size,
        )
        stream = generate_sends(
            stream_start, stream_start + timedelta(days=days), seed=8, sends_per_hour=volume
        )
        sent = stream["sent_at"].to_numpy()
        runs = 24 * (days - 1) if not quick else 48
        flagged_new, flagged_old = [], []
        per_feature: dict[str, int] = {}
        window_rows = []
        t0 = time.perf_counter()
        for k in range(runs):
            end = stream_start + timedelta(days=1, hours=k + 1)
            lo, hi = np.searchsorted(sent, [np.datetime64(end - timedelta(days=1)), end])
            report = detect_drift(profile, stream.iloc[lo:hi], config=dd)
            f = flags(report)
            flagged_new.append(f["new_any"])
            flagged_old.append(f["old_any"])
            window_rows.append(int(hi - lo))
            for name in f["new"]:
                per_feature[name] = per_feature.get(name, 0) + 1
        row = {
            "sends_per_hour": volume,
            "reference_rows": len(reference),
            "runs": runs,
            "rows_per_window_median": int(np.median(window_rows)),
            "flagged_now": int(sum(flagged_new)),
            "episodes_now": _episodes(flagged_new),
            "flagged_before": int(sum(flagged_old)),
            "episodes_before": _episodes(flagged_old),
            "features_flagged_now": per_feature,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        print(
            f"  {volume} sends/h ({row['rows_per_window_median']:,} rows a window): "
            f"{runs} runs, flagged now {row['flagged_now']} in {row['episodes_now']} episode(s), "
            f"before {row['flagged_before']} in {row['episodes_before']}  [{row['seconds']} s]",
            flush=True,
        )
    return rows


def _episodes(flagged: list[bool]) -> int:
    return sum(1 for i, f in enumerate(flagged) if f and (i == 0 or not flagged[i - 1]))


def render_markdown(results: dict[str, Any]) -> str:
    """The README tables of a results file (``--render``)."""
    meta = results["meta"]
    out = [f"Measured {meta['date']} on {meta['machine']} (`make bench-detection`).", ""]
    if "false_alarms" in results:
        out += [
            "| n | windows | flagged now | rate now (95% CI) | flagged before | rate before |",
            "| ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        for r in results["false_alarms"]:
            lo, hi = r["ci95_now"]
            out.append(
                f"| {r['n']:,} | {r['windows']} | {r['flagged_now']} | {r['rate_now']:.3f} "
                f"({lo:.3f}-{hi:.3f}) | {r['flagged_before']} | {r['rate_before']:.3f} |"
            )
        out.append("")
    if "grid" in results:
        sizes = list(results["grid"][0]["rates"])
        out += [
            "| shift (column) | " + " | ".join(f"n={int(n):,}" for n in sizes) + " |",
            "| --- |" + " ---: |" * len(sizes),
        ]
        for r in results["grid"]:
            cells = [
                f"{r['rates'][n]['before']:.2f} → **{r['rates'][n]['now']:.2f}**" for n in sizes
            ]
            out.append(f"| {r['shift']} ({r['column']}) | " + " | ".join(cells) + " |")
        reps = ", ".join(f"{r['repeats']}" for r in results["grid"][0]["rates"].values())
        out += ["", f"Detection rate before → **now**; windows per cell: {reps}.", ""]
    if "seven" in results:
        for entry in results["seven"]:
            out += [
                f"n = {entry['n']:,}: before {entry['flagged_before']}/7, "
                f"now {entry['flagged_now']}/7; unshifted columns flagged before "
                f"{entry['false_flags_before'] or 'none'}, now {entry['false_flags_now'] or 'none'}.",
                "",
                "| shift | column | before | now | PSI | KS D | Cramér's V | W1 (spreads) |",
                "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
            ]
            for sh in entry["shifts"]:
                out.append(
                    f"| {sh['shift']} | {sh['column']} | {'yes' if sh['before'] else 'no'} | "
                    f"{'yes' if sh['now'] else 'no'} | {_fmt(sh['psi'])} | "
                    f"{_fmt(sh['ks_statistic'])} | {_fmt(sh['cramers_v'])} | "
                    f"{_fmt(sh['wasserstein'])} |"
                )
            out.append("")
    if "hourly" in results:
        out += [
            "| sends/hour | rows a window | runs | flagged now (episodes) | flagged before (episodes) |",
            "| ---: | ---: | ---: | --- | --- |",
        ]
        for r in results["hourly"]:
            out.append(
                f"| {r['sends_per_hour']} | {r['rows_per_window_median']:,} | {r['runs']} | "
                f"{r['flagged_now']} ({r['episodes_now']}) | "
                f"{r['flagged_before']} ({r['episodes_before']}) |"
            )
        out.append("")
    return "\n".join(out)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", default="false_alarms,grid,seven,hourly", help="comma-separated"
    )
    parser.add_argument("--quick", action="store_true", help="few repeats (development)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", type=Path, help="print the markdown tables of a results file")
    args = parser.parse_args(argv)
    if args.render:
        print(render_markdown(json.loads(args.render.read_text())))
        return 0
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    config = load_config(CONFIG)
    dd = config.drift_detection
    started = datetime.now(UTC)
    meta = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "command": "python bench/bench_detection.py " + " ".join(argv or sys.argv[1:]),
        "quick": args.quick,
        "thresholds": {k: getattr(dd, k) for k in dd.__dataclass_fields__},
        "reference_rows": N_REFERENCE,
    }
    print(f"{meta['date']}  {meta['machine']}  python {meta['python']}  numpy {meta['numpy']}")
    results: dict[str, Any] = {"meta": meta}
    if {"false_alarms", "grid", "seven"} & set(sections):
        ref = make_frame(N_REFERENCE, np.random.default_rng(1))
        profile = build_reference_profile(
            ref, FEATURES, bins=dd.psi_bins, sample_size=dd.reference_sample_size
        )
        del ref
    fa_reps = QUICK_REPEATS if args.quick else FA_REPEATS
    grid_reps = QUICK_REPEATS if args.quick else GRID_REPEATS
    if "false_alarms" in sections:
        print("false alarms (same distribution; a window counts when anything is flagged):")
        results["false_alarms"] = run_false_alarms(profile, dd, fa_reps)
    if "grid" in sections:
        print(
            "detection rate of the shifted column, before->now, at n = "
            + ", ".join(map(str, SIZES))
        )
        results["grid"] = run_grid(profile, dd, grid_reps)
    if "seven" in sections:
        print("the seven documented shifts, one frame, each in its own column:")
        results["seven"] = run_seven(profile, dd)
    if "hourly" in sections:
        print("hourly runs under no drift, 24-hour windows (email_engagement generator):")
        results["hourly"] = run_hourly(dd, config.features, config.source.label_column, args.quick)
    meta["seconds"] = round((datetime.now(UTC) - started).total_seconds())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    print(f"wrote {args.out} ({meta['seconds']} s)")
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    raise SystemExit(main())
