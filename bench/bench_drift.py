"""`make bench`: drift speed on 1,000,000-row frames against the cost floor measured here.

The floor is what any exact approach must do: sort the 20 numeric columns of both frames and
factorize the 5 categorical columns of both frames. The issue's target is detect_drift and
build_reference_profile each at most 2x that floor. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import sys
import time

import bench_tools
import numpy as np
import pandas as pd

from modelguard.config import load_config
from modelguard.drift.detection import build_reference_profile, detect_drift

N_ROWS = 1_000_000
N_NUMERIC = 20
N_CATEGORICAL = 5


def make_frame(seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(N_NUMERIC):
        col = rng.normal(shift * (i % 3), 1.0 + 0.1 * i, N_ROWS)
        col[rng.random(N_ROWS) < 0.01] = np.nan
        data[f"num_{i}"] = col
    for j in range(N_CATEGORICAL):
        cats = np.array([f"cat{j}_{k}" for k in range(8 + 4 * j)])
        data[f"cat_{j}"] = cats[rng.integers(0, cats.size, N_ROWS)]
    return pd.DataFrame(data)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    features = {f"num_{i}": "numeric" for i in range(N_NUMERIC)}
    features |= {f"cat_{j}": "categorical" for j in range(N_CATEGORICAL)}
    ref, cur = make_frame(1, 0.0), make_frame(2, 0.2)
    dd = load_config().drift_detection

    t_floor = best_of(lambda: bench_tools.floor(ref, cur, features))
    profile = build_reference_profile(ref, features, bins=dd.psi_bins)
    t_build = best_of(lambda: build_reference_profile(ref, features, bins=dd.psi_bins))
    t_detect = best_of(lambda: detect_drift(profile, cur, config=dd))
    report = detect_drift(profile, cur, config=dd)
    print(f"frames: {N_ROWS:,} rows x ({N_NUMERIC} numeric + {N_CATEGORICAL} categorical)")
    print(f"floor (sort numeric + factorize categorical, both frames): {t_floor:.3f} s")
    print(f"build_reference_profile: {t_build:.3f} s  ratio {t_build / t_floor:.2f}x (target <= 2)")
    print(
        f"detect_drift:            {t_detect:.3f} s  ratio {t_detect / t_floor:.2f}x (target <= 2)"
    )
    print(f"verdict on the shifted frame: {report.verdict}, drifted: {report.drifted_features}")
    if "--baseline" in sys.argv:
        t_naive = best_of(lambda: naive_scipy(ref, cur, features), repeat=1)
        print(f"straightforward scipy:   {t_naive:.3f} s  ratio {t_naive / t_floor:.2f}x")


def naive_scipy(ref: pd.DataFrame, cur: pd.DataFrame, features: dict[str, str]) -> None:
    """What a first implementation does: scipy per column on the raw frames."""
    import scipy.stats

    for name, kind in features.items():
        if kind == "numeric":
            a, b = ref[name].dropna(), cur[name].dropna()
            scipy.stats.ks_2samp(a, b)
            edges = np.unique(np.quantile(a, np.linspace(0, 1, 11))[1:-1])
            bins = [-np.inf, *edges, np.inf]
            pd.cut(a, bins).value_counts(normalize=True)
            pd.cut(b, bins).value_counts(normalize=True)
        else:
            labels = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
            values = np.r_[ref[name].to_numpy(), cur[name].to_numpy()]
            scipy.stats.chi2_contingency(pd.crosstab(labels, values))


if __name__ == "__main__":
    main()
