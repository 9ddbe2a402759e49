"""The benchmark's data: a reference and a current frame of 25 columns, written once per size.

Both venvs read it (the project's .venv for modelguard and the scipy baseline, .venv-bench for
NannyML and Evidently), so it is stored as one ``.npy`` per column and a JSON header: numpy
only, no parquet or pickle. Loading (building the pandas frames) is never timed.

The frames follow bench_drift.py: 20 numeric columns ``num_i`` ~ Normal(0, 1 + 0.1 i) with 1%
missing, 5 categorical columns ``cat_j`` with 8 + 4 j equally likely categories (``cat_4`` 1%
missing). The reference also has a 0/1 ``target`` (for the profile with a target). In the
current frame a few columns are shifted (:data:`SHIFTS`), so "which columns each tool flagged"
can be read against what was done; every other column has the reference's distribution.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
N_NUMERIC = 20
N_CATEGORICAL = 5
NUMERIC = [f"num_{i}" for i in range(N_NUMERIC)]
CATEGORICAL = [f"cat_{j}" for j in range(N_CATEGORICAL)]
FEATURES: dict[str, str] = {c: "numeric" for c in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
TARGET = "target"
MISSING_SHARE = 0.01
CATEGORICAL_WITH_MISSING = "cat_4"

SHIFTS: dict[str, str] = {
    "num_0": "location +0.5 sd",
    "num_1": "scale x1.5 (same mean)",
    "num_2": "missing share 1% -> 21%",
    "num_3": "location +0.02 sd (negligible: flagging it is flagging noise)",
    "cat_0": "category mix: 20% of rows moved to the first category",
    "cat_1": "new category: 5% of rows a category the reference never saw",
}
"""What was done to each shifted column of the current frame."""
NEGLIGIBLE = ("num_3",)
"""Shifted columns too small to matter: a tool should not flag them."""
EXPECTED = tuple(c for c in SHIFTS if c not in NEGLIGIBLE)
"""The columns a drift check should flag."""


def _sd(i: int) -> float:
    return 1.0 + 0.1 * i


def _categories(j: int) -> list[str]:
    return [f"cat{j}_{k}" for k in range(8 + 4 * j)]


def make_columns(n: int, seed: int, current: bool) -> dict[str, np.ndarray]:
    """One frame as arrays: float64 numerics (NaN missing), int32 category codes (-1 missing)
    and, for the reference, the int8 target. The current frame carries :data:`SHIFTS`."""
    rng = np.random.default_rng([seed, int(current)])
    cols: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        col = rng.normal(0.0, _sd(i), n)
        if current and name == "num_0":
            col += 0.5 * _sd(i)
        if current and name == "num_1":
            col *= 1.5
        if current and name == "num_3":
            col += 0.02 * _sd(i)
        share = 0.21 if current and name == "num_2" else MISSING_SHARE
        col[rng.random(n) < share] = np.nan
        cols[name] = col
    for j, name in enumerate(CATEGORICAL):
        k = len(_categories(j))
        codes = rng.integers(0, k, n, dtype=np.int32)
        if current and name == "cat_0":
            codes[rng.random(n) < 0.20] = 0
        if current and name == "cat_1":
            codes[rng.random(n) < 0.05] = k  # the label after the reference's last
        if name == CATEGORICAL_WITH_MISSING:
            codes[rng.random(n) < MISSING_SHARE] = -1
        cols[name] = codes
    if not current:
        x4 = np.nan_to_num(cols["num_4"] / _sd(4))
        x5 = np.nan_to_num(cols["num_5"] / _sd(5))
        logit = 0.8 * x4 - 0.5 * x5 + 0.3 * (cols["cat_2"] % 2) - 1.0
        cols[TARGET] = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    return cols


def labels(name: str) -> list[str]:
    """Category labels of ``name``: the reference's, then the current frame's new one."""
    j = CATEGORICAL.index(name)
    return [*_categories(j), f"cat{j}_new"]


def write_data(folder: Path, n: int, seed: int = 11) -> Path:
    """Generate both frames of ``n`` rows into ``folder`` (replaced if present)."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame in ("reference", "current"):
        for name, arr in make_columns(n, seed, frame == "current").items():
            np.save(folder / f"{frame}__{name}.npy", arr, allow_pickle=False)
    header = {
        "n_rows": n,
        "seed": seed,
        "features": FEATURES,
        "target": TARGET,
        "labels": {c: labels(c) for c in CATEGORICAL},
        "shifts": SHIFTS,
    }
    (folder / "header.json").write_text(json.dumps(header, indent=1))
    return folder


def load_columns(folder: Path, frame: str) -> dict[str, Any]:
    """One frame's columns as numpy arrays, categoricals as object arrays of ``str`` (None =
    missing) that share one object per label, as a database read gives."""
    header = json.loads((folder / "header.json").read_text())
    names = [*header["features"], *([header["target"]] if frame == "reference" else [])]
    out: dict[str, Any] = {}
    for name in names:
        arr = np.load(folder / f"{frame}__{name}.npy", allow_pickle=False)
        if name in header["labels"]:
            table = np.array([*header["labels"][name], None], dtype=object)
            arr = table[np.where(arr < 0, len(table) - 1, arr)]
        elif name == header["target"]:
            arr = arr.astype(np.int64)
        out[name] = arr
    return out


def load_frames(folder: Path):
    """(reference, current) pandas frames, the feature types and the target column name."""
    import pandas as pd

    header = json.loads((folder / "header.json").read_text())
    ref = pd.DataFrame(load_columns(folder, "reference"))
    cur = pd.DataFrame(load_columns(folder, "current"))
    return ref, cur, dict(header["features"]), header["target"]


def frame_bytes(n: int) -> int:
    """Bytes of one frame's feature data as numpy holds it (8 per numeric value, one 8-byte
    pointer per categorical value): the "frames" that peak memory is read against."""
    return n * 8 * (N_NUMERIC + N_CATEGORICAL)


def fitted_exponent(sizes: list[int], seconds: list[float]) -> float | None:
    """Slope of log(time) against log(rows): 1 is linear; n log n over 100k..10M reads 1.07."""
    points = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds, strict=True) if t > 0]
    if len(points) < 2:
        return None
    xs, ys = zip(*points, strict=True)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None
