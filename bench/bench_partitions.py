"""What a partitioned drift check costs against the one-task check, on bench_drift's frames.

The 1,000,000-row current frame is cut into N consecutive partitions (as hours of a window);
each is summarised and written as its file, the files are read back, merged and judged. Prints
the one-task ``detect_drift`` time, the per-partition summarise time (max and sum: the max is
what N workers in parallel would wait for), the file sizes, the read + merge and the decide
times, and checks the merged report equals the whole frame's. Asserts nothing about time.

``python bench/bench_partitions.py [rows] [partitions...]`` (default 1,000,000 rows; 8 and 24).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_drift  # noqa: E402

from modelguard.config import load_config  # noqa: E402
from modelguard.drift.detection import (  # noqa: E402
    build_reference_profile,
    detect_drift,
    detect_drift_from_summary,
)
from modelguard.drift.summary import WindowSummary, merge, summarise  # noqa: E402


def best(fn, repeat: int = 3):
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    args = [int(a) for a in sys.argv[1:]]
    rows = args[0] if args else 1_000_000
    counts = args[1:] or [8, 24]
    bench_drift.N_ROWS = rows
    features = {f"num_{i}": "numeric" for i in range(bench_drift.N_NUMERIC)}
    features |= {f"cat_{j}": "categorical" for j in range(bench_drift.N_CATEGORICAL)}
    ref, cur = bench_drift.make_frame(1, 0.0), bench_drift.make_frame(2, 0.2)
    dd = load_config().drift_detection
    profile = build_reference_profile(ref, features, bins=dd.psi_bins)
    t_whole, report = best(lambda: detect_drift(profile, cur, config=dd))
    print(f"frames: {rows:,} rows x ({len(features)} features); one task: {t_whole:.3f} s")
    for n in counts:
        bounds = np.linspace(0, rows, n + 1).astype(int)
        slices = [cur.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        part_times, files = [], []
        for part in slices:
            t, data = best(lambda part=part: summarise(profile, part).to_bytes())
            part_times.append(t)
            files.append(data)
        t_merge, merged = best(
            lambda files=files: merge([WindowSummary.from_bytes(d)[0] for d in files])
        )
        t_decide, merged_report = best(
            lambda merged=merged: detect_drift_from_summary(profile, merged, config=dd)
        )
        same = merged_report.to_dict() == report.to_dict()
        size = sum(len(d) for d in files) / 1e6
        print(
            f"{n:3d} partitions: summarise+serialise max {max(part_times):.3f} s, sum "
            f"{sum(part_times):.3f} s; files {size:.1f} MB; read+merge {t_merge:.3f} s; "
            f"decide {t_decide:.3f} s; critical path {max(part_times) + t_merge + t_decide:.3f} "
            f"s; report identical: {same}"
        )


if __name__ == "__main__":
    main()
