"""Statistical tests behind drift detection and champion/challenger comparison.

Pure numpy/scipy: no Airflow, no pandas at import time. The conventions (bin edges, proportion
floor, p-value methods) are fixed by design-notes "Statistical conventions" so that a stored
reference profile and a later run always agree on what a number means.

Only ``scipy.special`` at import time: ``import scipy.stats`` costs seconds in every task process
that imports this module. The tails used here are its functions (``kolmogorov`` for the
limiting KS distribution, ``chdtrc`` for chi-square), with the edge cases scipy.stats' ``sf``
adds (tests/core/test_stats_special.py checks every one against scipy.stats on many inputs);
scipy.stats itself is imported only inside the two functions that still need it (the exact
small-sample KS p-value and the exact McNemar binomial).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special as _special

from modelguard.exceptions import DataValidationError

__all__ = [
    "KS_EXACT_MAX_N",
    "PROPORTION_FLOOR",
    "PSI_ASYMPTOTIC_MIN_EXPECTED",
    "PSI_SIMULATIONS",
    "McNemarResult",
    "average_ranks",
    "benjamini_hochberg",
    "bin_counts",
    "bin_counts_sorted",
    "category_codes",
    "chi2_from_counts",
    "chi2_sf",
    "chi2_test",
    "cramers_v",
    "cramers_v_balanced",
    "ks_2samp",
    "kolmogorov_sf",
    "ks_pvalue",
    "ks_statistic_sorted",
    "mcnemar",
    "psi",
    "psi_from_counts",
    "psi_pvalue",
    "quantile_edges",
    "reference_spread",
    "wasserstein_normalised",
    "wasserstein_sorted",
]

PROPORTION_FLOOR = 1e-4
"""Smallest proportion used in PSI, so an empty bin gives a large but finite term."""

KS_EXACT_MAX_N = 10_000
"""Up to this many values in both samples the KS p-value is scipy's exact one."""

_CATEGORY_RULE = (
    "categories are compared by their text, so a categorical column holds strings or integer "
    "codes (ints, or floats with integer values such as an int column with missing values), "
    "one kind per column"
)


# --------------------------------------------------------------------------- input helpers


def _one_d(values: Any, name: str) -> np.ndarray:
    """Any array-like (list, ndarray, pandas Series) as a 1-D numpy array."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataValidationError(
            f"{name} must be one-dimensional (a column of values); got shape {arr.shape}"
        )
    return arr


def _float_1d(values: Any, name: str) -> np.ndarray:
    """Numeric values as float64, None/NaN/pandas.NA becoming NaN; datetimes are refused
    (numpy would silently turn them into day or nanosecond counts)."""
    try:
        if not isinstance(values, np.ndarray) and not hasattr(values, "to_numpy"):
            values = np.asarray(values)  # lists: see their dtype before casting
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{name} must be a column of numbers ({exc})") from None
    if getattr(getattr(values, "dtype", None), "kind", None) in ("m", "M"):
        raise DataValidationError(
            f"{name} must be numeric; it holds {values.dtype} values: derive a number from them "
            "(e.g. an age in hours) first"
        )
    try:
        if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
            # pandas Series / extension arrays: Int64 or Float64 with pandas.NA included
            arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{name} must be numeric (missing values as None/NaN); it holds values that are "
            f"not numbers ({exc}). Use categorical=True for a categorical column."
        ) from None
    if arr.ndim != 1:
        raise DataValidationError(
            f"{name} must be one-dimensional (a column of values); got shape {arr.shape}"
        )
    return arr


def _drop_nan(arr: np.ndarray) -> np.ndarray:
    mask = np.isnan(arr)
    return arr[~mask] if mask.any() else arr


def _require_finite_reference(arr: np.ndarray, name: str) -> None:
    """Reference values must be finite: bin edges are their quantiles, and an infinite edge
    (or one interpolated between infinities) bins nothing and cannot be stored as JSON. In a
    current sample +-inf are legitimate extremes that fall in the open outer bins."""
    infinite = np.isinf(arr)
    n_infinite = int(np.count_nonzero(infinite))
    if n_infinite:
        n_pos = int(np.count_nonzero(arr[infinite] > 0))
        raise DataValidationError(
            f"{name} holds {n_infinite} infinite value(s) ({n_pos} +inf, "
            f"{n_infinite - n_pos} -inf); reference values must be finite (missing as NaN) "
            "because the bin edges are their quantiles: drop or cap them"
        )


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool):
        raise DataValidationError(f"bins must be an integer >= 1; got {bins!r}")
    try:
        bins = operator.index(bins)
    except TypeError:
        raise DataValidationError(f"bins must be an integer >= 1; got {bins!r}") from None
    if bins < 1:
        raise DataValidationError(f"bins must be an integer >= 1; got {bins}")
    return bins


def _sorted_sample(values: Any, name: str) -> np.ndarray:
    """A non-empty, ascending, NaN-free float64 array; checked in O(n) because a silently
    unsorted input would give a wrong statistic rather than an error."""
    arr = _float_1d(values, name)
    if arr.size == 0:
        raise DataValidationError(f"{name} is empty; the KS test needs at least one value")
    if np.isnan(arr[0]) or np.isnan(arr[-1]) or not np.all(arr[1:] >= arr[:-1]):
        raise DataValidationError(
            f"{name} must be sorted ascending and free of NaN (use numpy.sort and drop NaN)"
        )
    return arr


def _counts_1d(counts: Any, name: str) -> np.ndarray:
    arr = _float_1d(counts, name)
    if arr.size == 0:
        raise DataValidationError(f"{name} is empty; expected one count per bin or category")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataValidationError(f"{name} must hold finite, non-negative counts")
    return arr


def _category_kind(values: Any, label: str) -> str:
    """ "string", "integer" or "float" (integer codes held as floats) for a categorical column;
    any other content is a :class:`DataValidationError` naming ``label`` and what it holds.

    Categories are keyed by their text (a reference of int codes and a window of the same
    codes read back as strings agree), so a column whose values would collide as text or as
    hash keys (``True == 1 == 1.0``; ``1`` and ``"1"``) is refused instead of merged.
    """
    import pandas as pd
    from pandas.api import types as pdt

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _category_kind(dtype.categories, f"{label} (its categories)")
    if pdt.is_bool_dtype(dtype):
        raise DataValidationError(
            f"{label} is categorical but its column has dtype {dtype} (true/false); "
            f"{_CATEGORY_RULE}: cast it to str, or declare it numeric (0/1)"
        )
    if pdt.is_integer_dtype(dtype):
        return "integer"
    if pdt.is_float_dtype(dtype):
        floats = pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)
        return _integral_floats(floats[~np.isnan(floats)], label, dtype)
    if pdt.is_object_dtype(dtype):
        objects = np.asarray(values, dtype=object)
        inferred = pdt.infer_dtype(objects[~pd.isna(objects)], skipna=False)
        if inferred in ("string", "empty"):
            return "string"
        if inferred == "integer":
            return "integer"
        if inferred in ("floating", "mixed-integer-float"):
            present = [v for v in np.asarray(values, dtype=object).tolist() if not _is_missing(v)]
            return _integral_floats(np.asarray(present, dtype=np.float64), label, dtype)
        types = _type_names(values)
        raise DataValidationError(
            f"{label} is categorical but its values are of types {', '.join(types)}; "
            f"{_CATEGORY_RULE}: cast the column to str"
        )
    if pdt.is_string_dtype(dtype):
        return "string"
    raise DataValidationError(
        f"{label} is categorical but its column has dtype {dtype}; {_CATEGORY_RULE}: derive "
        "a string or an integer code from it"
    )


def _integral_floats(present: np.ndarray, label: str, dtype: Any) -> str:
    fractional = ~np.isfinite(present) | (present != np.floor(present))
    n_bad = int(np.count_nonzero(fractional))
    if n_bad:
        examples = ", ".join(repr(float(v)) for v in np.unique(present[fractional])[:3])
        raise DataValidationError(
            f"{label} is categorical but its column has dtype {dtype} with {n_bad} non-integer "
            f"value(s) (e.g. {examples}); {_CATEGORY_RULE}"
        )
    return "float"


def _type_names(values: Any) -> list[str]:
    """The distinct Python types of the non-missing values, for an error message."""
    seen = {
        type(v).__name__ for v in np.asarray(values, dtype=object).tolist() if not _is_missing(v)
    }
    return sorted(seen)


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas.NA (whose self-comparison is itself missing)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def category_codes(values: Any, label: str) -> tuple[np.ndarray, list[str]]:
    """Per-row category index (-1 = missing: None, NaN, NaT, pandas.NA) and the categories
    as unique strings, in order of first appearance.

    The one definition of a category, shared by :func:`psi` / :func:`chi2_test`, the drift
    profile and concept drift: a category is the text of a string or integer code (an
    integral float such as ``2.0`` is the code ``"2"``). Booleans, non-integer floats,
    datetimes, bytes and columns mixing strings with numbers are refused
    (:class:`DataValidationError` naming ``label``), since their values would merge or
    collide as keys. Accepts lists, numpy arrays, pandas Series and extension arrays.
    """
    import pandas as pd

    if not isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        values = _one_d(values, label)
    elif values.ndim != 1:
        raise DataValidationError(f"{label} must be one-dimensional (a column of values)")
    kind = _category_kind(values, label)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if kind == "float":
        labels = [str(int(u)) for u in np.asarray(uniques, dtype=np.float64)]
    else:
        labels = [str(u) for u in uniques]
    codes = np.asarray(codes, dtype=np.int64)
    if len(set(labels)) != len(labels):  # e.g. np.int64 and int of one value: merge by text
        first: dict[str, int] = {}
        remap = np.array([first.setdefault(t, len(first)) for t in labels], dtype=np.int64)
        codes = np.where(codes < 0, -1, remap[np.maximum(codes, 0)])
        labels = list(first)
    return codes, labels


def _category_counts(values: Any, name: str) -> tuple[dict[str, int], int]:
    """Counts per category (by :func:`category_codes`) and the number of missing values."""
    codes, labels = category_codes(values, name)
    counts = np.bincount(codes + 1, minlength=len(labels) + 1)
    return dict(zip(labels, counts[1:].tolist(), strict=True)), int(counts[0])


def _aligned_category_counts(reference: Any, current: Any) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both samples over the union of their categories, missing as the last one."""
    ref_counts, ref_missing = _category_counts(reference, "reference")
    cur_counts, cur_missing = _category_counts(current, "current")
    keys = list(ref_counts)
    keys.extend(k for k in cur_counts if k not in ref_counts)
    ref = np.array([ref_counts.get(k, 0) for k in keys] + [ref_missing], dtype=np.float64)
    cur = np.array([cur_counts.get(k, 0) for k in keys] + [cur_missing], dtype=np.float64)
    return ref, cur


# --------------------------------------------------------------------------- binning and PSI


def _sorted_linear_quantiles(sorted_values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """numpy's 'linear' quantile on an already sorted array, step for step as
    numpy.quantile computes it (same index arithmetic and lerp), so results are bit-identical."""
    n = sorted_values.size
    virtual = (n - 1) * probs
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    previous_idx = previous.astype(np.intp)
    following_idx = following.astype(np.intp)
    gamma = virtual - previous_idx
    lo = sorted_values[previous_idx]
    hi = sorted_values[following_idx]
    with np.errstate(invalid="ignore", over="ignore"):
        diff = hi - lo
        out = np.where(gamma >= 0.5, hi - diff * (1 - gamma), lo + diff * gamma)
    return _fix_overflow(out, lo, hi, gamma)


def _fix_overflow(out: np.ndarray, lo: np.ndarray, hi: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Interpolating between finite values beyond +-8.9e307 overflows ``hi - lo``; those
    quantiles are recomputed as ``lo * (1 - gamma) + hi * gamma``, which cannot overflow (the
    others keep numpy's arithmetic, bit for bit)."""
    bad = ~np.isfinite(out) & np.isfinite(lo) & np.isfinite(hi)
    if bad.any():
        g = gamma[bad]
        out = out.copy()
        out[bad] = np.clip(lo[bad] * (1 - g) + hi[bad] * g, lo[bad], hi[bad])
    return out


def quantile_edges(
    reference_values: Any, bins: int = 10, *, assume_sorted: bool = False
) -> np.ndarray:
    """Interior PSI bin edges: the unique interior reference quantiles (numpy 'linear').

    Missing values are ignored; infinite ones are a :class:`DataValidationError` (an infinite
    edge bins nothing and cannot be stored). With ``assume_sorted=True`` the input must be
    ascending (NaN, if any, at the end as numpy.sort puts it); the quantiles are then read off
    by index, which avoids numpy.quantile's O(n) partition of a copy.
    """
    bins = _check_bins(bins)
    arr = _float_1d(reference_values, "reference_values")
    probs = np.linspace(0.0, 1.0, bins + 1)
    if assume_sorted:
        n_valid = int(np.searchsorted(arr, np.nan, side="left")) if arr.size else 0
        valid = arr[:n_valid]
        if n_valid and not (np.all(valid[1:] >= valid[:-1]) and np.all(np.isnan(arr[n_valid:]))):
            raise DataValidationError(
                "reference_values passed with assume_sorted=True are not sorted ascending "
                "(NaN allowed only at the end)"
            )
    else:
        valid = _drop_nan(arr)
    if valid.size == 0:
        raise DataValidationError(
            "reference_values has no non-missing value; PSI bin edges need at least one"
        )
    _require_finite_reference(valid, "reference_values")
    if bins == 1:
        return np.empty(0, dtype=np.float64)
    if assume_sorted:
        quantiles = _sorted_linear_quantiles(valid, probs)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            quantiles = np.quantile(valid, probs)
        if not np.all(np.isfinite(quantiles)):  # overflow near the float limits
            quantiles = _sorted_linear_quantiles(np.sort(valid), probs)
    return np.unique(quantiles[1:-1])


def _check_edges(edges: Any) -> np.ndarray:
    arr = _float_1d(edges, "edges")
    if not np.all(np.isfinite(arr)) or not np.all(arr[1:] > arr[:-1]):
        raise DataValidationError("edges must be finite and strictly increasing")
    return arr


def bin_counts(values: Any, edges: Any) -> np.ndarray:
    """Counts per bin: ``len(edges) + 1`` right-closed bins with open outer bins, then the
    number of missing values. Right-closed bins keep a point mass at the low end of the
    reference (a sentinel such as -1) in its own bin."""
    edges = _check_edges(edges)
    arr = _float_1d(values, "values")
    missing = np.isnan(arr)
    n_missing = int(np.count_nonzero(missing))
    present = arr[~missing] if n_missing else arr
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=edges.size + 1)
    return np.append(counts, n_missing).astype(np.int64)


def bin_counts_sorted(sorted_values_without_nan: Any, edges: Any, n_missing: int) -> np.ndarray:
    """Same counts as :func:`bin_counts` for an ascending NaN-free array, in O(bins * log n):
    the edges are searched in the values instead of every value in the edges. Sortedness is
    not checked (that would be a pass over all values)."""
    edges = _check_edges(edges)
    arr = _float_1d(sorted_values_without_nan, "sorted_values_without_nan")
    if arr.size and np.isnan(arr[-1]):
        raise DataValidationError("sorted_values_without_nan contains NaN; drop missing values")
    n_missing = operator.index(n_missing)
    if n_missing < 0:
        raise DataValidationError(f"n_missing must be >= 0; got {n_missing}")
    # values <= edges[i] are exactly the values in bins 0..i
    cumulative = np.searchsorted(arr, edges, side="right")
    bounds = np.concatenate(([0], cumulative, [arr.size]))
    return np.append(np.diff(bounds), n_missing).astype(np.int64)


def psi_from_counts(ref_counts: Any, cur_counts: Any) -> float:
    """Population Stability Index of two aligned count vectors.

    Proportions are floored at PROPORTION_FLOOR (no renormalisation) so a bin empty in one
    sample gives a large finite term instead of infinity.
    """
    ref = _counts_1d(ref_counts, "ref_counts")
    cur = _counts_1d(cur_counts, "cur_counts")
    if ref.size != cur.size:
        raise DataValidationError(
            f"ref_counts and cur_counts must have the same length; got {ref.size} and {cur.size}"
        )
    ref_total = ref.sum()
    cur_total = cur.sum()
    if ref_total == 0 or cur_total == 0:
        which = "reference" if ref_total == 0 else "current"
        raise DataValidationError(f"the {which} sample is empty; PSI needs values in both")
    p_ref = np.maximum(ref / ref_total, PROPORTION_FLOOR)
    p_cur = np.maximum(cur / cur_total, PROPORTION_FLOOR)
    return float(np.sum((p_cur - p_ref) * np.log(p_cur / p_ref)))


def psi(reference: Any, current: Any, *, bins: int = 10, categorical: bool = False) -> float:
    """PSI of current against reference.

    Numeric: bins from the reference quantiles (:func:`quantile_edges`), missing values as one
    extra bin; the reference must be finite, a current +-inf falls in an outer bin.
    Categorical: one bin per category (:func:`category_codes`) of the union of both samples
    plus missing.
    """
    if categorical:
        ref_counts, cur_counts = _aligned_category_counts(reference, current)
        return psi_from_counts(ref_counts, cur_counts)
    bins = _check_bins(bins)
    ref = _float_1d(reference, "reference")
    cur = _float_1d(current, "current")
    ref_valid = _drop_nan(ref)
    if ref_valid.size == 0:
        raise DataValidationError(
            "reference has no non-missing value; numeric PSI needs reference values for its bins"
        )
    _require_finite_reference(ref_valid, "reference")
    edges = quantile_edges(ref_valid, bins)
    return psi_from_counts(bin_counts(ref, edges), bin_counts(cur, edges))


# --------------------------------------------------------------------------- Kolmogorov-Smirnov


def _run_ends(sorted_values: np.ndarray) -> np.ndarray | None:
    """Index of the last element of each run of equal values; None when there are no ties."""
    ends = np.flatnonzero(sorted_values[1:] != sorted_values[:-1])
    if ends.size == sorted_values.size - 1:
        return None
    return np.append(ends, sorted_values.size - 1)


def _ks_all_points(a: np.ndarray, b: np.ndarray) -> float:
    """KS statistic evaluating every distinct pooled value, with one sorted search.

    scipy searches all n + m pooled values in both samples. Here only ``a`` is searched in
    ``b``; the rest follows by counting:

    * at a value of ``a`` (last of its ties): F_a = its rank, F_b = #b <= value (the search);
    * at a value of ``b`` absent from ``a``: F_b = its rank, F_a = #a < value = #a <= value,
      where #a < b[j] = #{k : (#b <= a[k]) <= j}, a cumulative bincount of the search result.
    """
    n, m = a.size, b.size
    b_le_a = np.searchsorted(b, a, side="right")
    a_ends = _run_ends(a)
    if a_ends is None:
        diffs_a = np.arange(1, n + 1) / n - b_le_a / m
    else:
        diffs_a = (a_ends + 1) / n - b_le_a[a_ends] / m

    a_below_b = np.cumsum(np.bincount(b_le_a, minlength=m + 1)[:m])
    b_ends = _run_ends(b)
    if b_ends is None:
        b_ranks = np.arange(1, m + 1)
        b_vals = b
    else:
        a_below_b = a_below_b[b_ends]
        b_ranks = b_ends + 1
        b_vals = b[b_ends]
    # a value of b that also occurs in a is already evaluated above with right-closed counts
    not_in_a = (a_below_b >= n) | (a[np.minimum(a_below_b, n - 1)] != b_vals)
    diffs_b = a_below_b[not_in_a] / n - b_ranks[not_in_a] / m
    return _ks_from_diffs(diffs_a, diffs_b)


def _ks_from_diffs(*diffs: np.ndarray) -> float:
    """scipy's reduction: max(clip(-min, 0, 1), max) over the ECDF differences."""
    present = [d for d in diffs if d.size]
    max_diff = max(d.max() for d in present)
    min_diff = min(d.min() for d in present)
    return float(max(np.clip(-min_diff, 0, 1), max_diff))


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, without a Python loop."""
    lengths = stops - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(total)


_KS_PRUNE_MIN_N = 50_000
"""Below this many pooled values the all-points evaluation is already cheap."""
_KS_KNOT_STEP = 64
"""Every 64th value of each sample is a knot: ~3% of the values, and the ECDF difference
between consecutive knots moves by at most 64/n, which keeps few segments in play."""
_KS_MARGIN = 1e-12
"""Far above the ~1e-16 rounding of count / n, far below any real gap (>= 1/(n*m))."""


def ks_statistic_sorted(a_sorted: Any, b_sorted: Any) -> float:
    """Two-sample KS statistic of two ascending NaN-free samples, bit-identical to scipy's.

    For large samples the supremum of |F_a - F_b| is found by bounding before searching: the
    difference is evaluated exactly at knots (every 64th value of each sample); between two
    consecutive knots both ECDFs are monotone, so |F_a - F_b| there is at most
    max(F_a(hi) - F_b(lo), F_b(hi) - F_a(lo)). Only the segments whose bound reaches the best
    knot value are evaluated point by point. When most segments stay in play (nearly
    identical samples), every distinct pooled value is evaluated instead.
    """
    a = _sorted_sample(a_sorted, "a_sorted")
    b = _sorted_sample(b_sorted, "b_sorted")
    n, m = a.size, b.size
    if n == m and np.array_equal(a, b):
        return 0.0  # no segment can be pruned when the supremum is 0; scipy gives 0.0 too
    if n + m < _KS_PRUNE_MIN_N:
        return _ks_all_points(a, b)

    step = _KS_KNOT_STEP
    knots = np.unique(np.concatenate((a[step - 1 :: step], a[-1:], b[step - 1 :: step], b[-1:])))
    a_le = np.searchsorted(a, knots, side="right")
    b_le = np.searchsorted(b, knots, side="right")
    knot_diffs = a_le / n - b_le / m
    best = float(np.abs(knot_diffs).max())

    # segment i is (knots[i-1], knots[i]); the one before the first knot starts at F = 0
    a_lo = np.concatenate(([0], a_le[:-1]))
    b_lo = np.concatenate(([0], b_le[:-1]))
    bound = np.maximum(a_le / n - b_lo / m, b_le / m - a_lo / n)
    # a segment whose values all equal its right knot (ties, discrete data) holds no new point
    only_knot = ((a_lo == a_le) | (a[np.minimum(a_lo, n - 1)] == knots)) & (
        (b_lo == b_le) | (b[np.minimum(b_lo, m - 1)] == knots)
    )
    live = (bound + _KS_MARGIN >= best) & ~only_knot
    a_idx = _ranges(a_lo[live], a_le[live])
    b_idx = _ranges(b_lo[live], b_le[live])
    if a_idx.size + b_idx.size > (n + m) // 4:
        return _ks_all_points(a, b)

    values = np.concatenate((a[a_idx], b[b_idx]))
    values.sort()
    if values.size > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    point_diffs = (
        np.searchsorted(a, values, side="right") / n - np.searchsorted(b, values, side="right") / m
    )
    return _ks_from_diffs(knot_diffs, point_diffs)


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Large-sample KS p-value from the limiting Kolmogorov distribution.

    scipy's own large-sample path (kstwo.sf at the effective n) costs close to a second per
    column at n ~ 500,000 and differs from this limit by well under 1%.
    """
    n = operator.index(n)
    m = operator.index(m)
    if n < 1 or m < 1:
        raise DataValidationError(f"sample sizes must be >= 1; got n={n}, m={m}")
    statistic = float(statistic)
    if not 0.0 <= statistic <= 1.0:
        raise DataValidationError(f"a KS statistic lies in [0, 1]; got {statistic}")
    effective_n = float(n) * float(m) / (float(n) + float(m))
    pvalue = kolmogorov_sf(statistic * math.sqrt(effective_n))
    return min(1.0, max(0.0, pvalue))


def kolmogorov_sf(x: float) -> float:
    """Survival function of the limiting Kolmogorov distribution: ``scipy.stats.kstwobign.sf``
    without importing scipy.stats (the same ``scipy.special.kolmogorov`` and the same edge cases:
    1 at and below 0, 0 at infinity, NaN for NaN)."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return float(_special.kolmogorov(x))


def chi2_sf(x: float, df: float) -> float:
    """Chi-square survival function: ``scipy.stats.chi2.sf(x, df)`` without importing
    scipy.stats (the same ``scipy.special.chdtrc`` and the same edge cases: NaN for NaN or a
    ``df`` that is not > 0, 1 at and below 0, 0 at infinity)."""
    x, df = float(x), float(df)
    if math.isnan(x) or not df > 0:
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return float(_special.chdtrc(df, x))


def ks_2samp(reference: Any, current: Any) -> tuple[float, float]:
    """Two-sample KS test (statistic, p-value), missing values dropped.

    Up to KS_EXACT_MAX_N values in both samples this is scipy.stats.ks_2samp as is (its exact
    p-value); above, the same statistic computed on sorted data and :func:`ks_pvalue`.
    """
    ref = _drop_nan(_float_1d(reference, "reference"))
    cur = _drop_nan(_float_1d(current, "current"))
    for name, sample in (("reference", ref), ("current", cur)):
        if sample.size == 0:
            raise DataValidationError(
                f"the {name} sample has no non-missing value; the KS test needs at least one"
            )
    if max(ref.size, cur.size) <= KS_EXACT_MAX_N:
        from scipy import stats as _sps  # seconds to import: only where the exact path runs

        result = _sps.ks_2samp(ref, cur)
        return float(result.statistic), float(result.pvalue)
    statistic = ks_statistic_sorted(np.sort(ref), np.sort(cur))
    return statistic, ks_pvalue(statistic, ref.size, cur.size)


# --------------------------------------------------------------------------- chi-square


def chi2_from_counts(ref_counts: Any, cur_counts: Any) -> tuple[float, float, int]:
    """Chi-square test of homogeneity on the 2 x k table [ref_counts; cur_counts].

    Computed as scipy.stats.chi2_contingency (Yates' correction only when dof == 1), after
    dropping categories absent from both samples - they carry no information and would make
    an expected frequency zero. A category seen in one sample only has a positive expected
    frequency in both rows, so the result stays finite.
    """
    ref = _counts_1d(ref_counts, "ref_counts")
    cur = _counts_1d(cur_counts, "cur_counts")
    if ref.size != cur.size:
        raise DataValidationError(
            f"ref_counts and cur_counts must have the same length; got {ref.size} and {cur.size}"
        )
    if ref.sum() == 0 or cur.sum() == 0:
        which = "reference" if ref.sum() == 0 else "current"
        raise DataValidationError(
            f"the {which} sample is empty; the chi-square test needs values in both"
        )
    observed = np.vstack((ref, cur))
    observed = observed[:, observed.sum(axis=0) > 0]
    dof = observed.shape[1] - 1
    if dof == 0:
        return 0.0, 1.0, 0
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
    expected = expected / observed.sum()
    if dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, chi2_sf(statistic, dof), dof


def chi2_test(reference: Any, current: Any) -> tuple[float, float, int]:
    """Chi-square test of homogeneity of two categorical samples (statistic, p-value, dof);
    categories are the union of both samples, missing values one more category."""
    ref_counts, cur_counts = _aligned_category_counts(reference, current)
    return chi2_from_counts(ref_counts, cur_counts)


def cramers_v(statistic: float, n_total: int, n_categories: int) -> float:
    """Cramér's V of a 2 x k table: an effect size that, unlike the p-value, does not grow
    with n. Pass the number of categories actually in the table (dof + 1 from chi2_test)."""
    statistic = float(statistic)
    if not (math.isfinite(statistic) and statistic >= 0):
        raise DataValidationError(f"a chi-square statistic is finite and >= 0; got {statistic}")
    n_total = operator.index(n_total)
    n_categories = operator.index(n_categories)
    if n_total < 0 or n_categories < 0:
        raise DataValidationError(
            f"n_total and n_categories must be >= 0; got {n_total} and {n_categories}"
        )
    if n_categories < 2 or n_total == 0:
        return 0.0
    # rounding can push a perfect association a hair above 1
    return min(1.0, math.sqrt(statistic / (n_total * min(1, n_categories - 1))))


# --------------------------------------------------------------------------- multiple testing


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, in input order: controls the false discovery rate
    over the features tested in one drift run."""
    arr = _float_1d(pvalues, "pvalues")
    if arr.size == 0:
        return np.empty(0, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise DataValidationError("pvalues contains NaN; every tested feature needs a p-value")
    if np.any((arr < 0) | (arr > 1)):
        raise DataValidationError("pvalues must lie in [0, 1]")
    return np.asarray(_bh_adjust(arr), dtype=np.float64)


def _bh_adjust(ps: np.ndarray) -> np.ndarray:
    """``scipy.stats.false_discovery_control(ps, method="bh")`` for a 1-D array, step for step
    (sort, multiply by m / i, running minimum from the largest, back to input order, clip)."""
    m = ps.size
    if m <= 1:
        return ps
    order = np.argsort(ps, kind="stable")
    adjusted = ps[order]
    adjusted = adjusted * (m / np.arange(1, m + 1, dtype=adjusted.dtype))
    np.minimum.accumulate(adjusted[::-1], out=adjusted[::-1])
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------- ranks


def average_ranks(values: Any) -> np.ndarray:
    """Ranks 1..n of a 1-D array, tied values sharing the mean of their ranks:
    ``scipy.stats.rankdata(values)`` (method "average", NaN propagating to every rank) without
    importing scipy.stats. Each rank is the first ordinal rank of its tie group plus
    (count - 1) / 2, as scipy computes it, so the numbers are the same bit for bit."""
    x = np.ravel(np.asarray(values))
    n = x.size
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if x.dtype.kind in "fc" and np.isnan(x).any():
        return np.full(n, np.nan)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=n)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + 1).astype(np.float64) + (counts - 1) / 2, counts)
    return ranks


# --------------------------------------------------------------------------- McNemar


@dataclass(frozen=True)
class McNemarResult:
    """McNemar test of two classifiers on the same rows; unpacks as
    (statistic, pvalue, b, c, method)."""

    statistic: float
    pvalue: float
    b: int
    """Rows the champion gets right and the challenger wrong."""
    c: int
    """Rows the challenger gets right and the champion wrong."""
    method: Literal["exact", "asymptotic"]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.statistic, self.pvalue, self.b, self.c, self.method))


def _class_labels(values: Any, name: str) -> np.ndarray:
    """``values`` as a bool array of 0/1 class labels (bool, ints 0/1, floats 0.0/1.0).

    Anything else is a :class:`DataValidationError` naming ``name``, with counts and examples:
    missing values (a NaN label compared with ``==`` would count as wrong for both models),
    probabilities (values strictly between 0 and 1: apply the decision threshold first),
    strings (``"1" != 1``), columns mixing booleans or strings with numbers, other numbers.
    """
    import pandas as pd
    from pandas.api import types as pdt

    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        if values.ndim != 1:
            raise DataValidationError(f"{name} must be one-dimensional (a column of labels)")
        missing = np.asarray(pd.isna(values), dtype=bool)
        arr = np.asarray(values, dtype=object) if missing.any() else np.asarray(values)
    else:
        arr = _one_d(values, name)
        missing = None
    kind = arr.dtype.kind
    if kind == "O":
        if missing is None:
            missing = np.asarray(pd.isna(arr), dtype=bool)
        _refuse_missing_labels(missing, name)
        inferred = pdt.infer_dtype(arr, skipna=False)
        if inferred not in ("boolean", "integer", "floating", "mixed-integer-float", "empty"):
            raise DataValidationError(
                f"{name} must hold class labels 0/1 (bool, ints or floats, one kind); it holds "
                f"values of types {', '.join(_type_names(arr))} (strings such as '1' are not "
                "labels: convert them with astype(int))"
            )
        present = np.asarray(arr.tolist(), dtype=np.float64)
    elif kind in "biuf":
        if missing is None:
            missing = np.isnan(arr) if kind == "f" else np.zeros(arr.shape, dtype=bool)
        present = arr[~missing].astype(np.float64)
    else:
        raise DataValidationError(
            f"{name} must hold class labels 0/1 (bool, ints or floats); its dtype is "
            f"{arr.dtype} (e.g. {arr[0]!r})"
            if arr.size
            else f"{name} must hold class labels 0/1; its dtype is {arr.dtype}"
        )
    _refuse_missing_labels(missing, name)
    between = (present > 0) & (present < 1)
    other = ~between & (present != 0) & (present != 1)
    if between.any():
        examples = ", ".join(f"{v:g}" for v in np.unique(present[between])[:3])
        raise DataValidationError(
            f"{name} holds {int(np.count_nonzero(between))} value(s) strictly between 0 and 1 "
            f"(e.g. {examples}): these are probabilities, not class labels; apply the decision "
            "threshold first (proba >= threshold)"
        )
    if other.any():
        examples = ", ".join(repr(float(v)) for v in np.unique(present[other])[:3])
        raise DataValidationError(
            f"{name} must hold only the class labels 0 and 1; {int(np.count_nonzero(other))} "
            f"value(s) are other numbers (e.g. {examples})"
        )
    return present == 1


def _refuse_missing_labels(missing: np.ndarray, name: str) -> None:
    n_missing = int(np.count_nonzero(missing))
    if n_missing:
        raise DataValidationError(
            f"{name} has {n_missing} missing value(s) (None/NaN/NA) among {missing.size} rows; "
            "McNemar compares class labels row by row, so pass only rows with a label and two "
            "predictions"
        )


def mcnemar(
    y_true: Any, champion_pred: Any, challenger_pred: Any, *, exact: bool | None = None
) -> McNemarResult:
    """McNemar test on the discordant pairs of champion and challenger predictions.

    All three arrays must hold class labels 0/1 of one row each (bool, ints, or floats 0.0 /
    1.0; see :func:`_class_labels`): missing values, probabilities and strings are refused,
    never counted as a wrong prediction. Exact: two-sided binomial p =
    min(1, 2 * BinomCDF(min(b, c); b + c, 0.5)). Asymptotic: (|b - c| - 1)^2 / (b + c) against
    chi2(1). ``exact=None`` picks exact when b + c < 25, where the chi-square approximation is
    poor. b + c = 0 gives p = 1.
    """
    truth = _class_labels(y_true, "y_true")
    champion = _class_labels(champion_pred, "champion_pred")
    challenger = _class_labels(challenger_pred, "challenger_pred")
    if not truth.size == champion.size == challenger.size:
        raise DataValidationError(
            "y_true, champion_pred and challenger_pred must have the same length; got "
            f"{truth.size}, {champion.size} and {challenger.size}"
        )
    if truth.size == 0:
        raise DataValidationError("no rows to compare; McNemar needs at least one labelled row")
    champion_right = champion == truth
    challenger_right = challenger == truth
    b = int(np.count_nonzero(champion_right & ~challenger_right))
    c = int(np.count_nonzero(challenger_right & ~champion_right))
    n_discordant = b + c
    if n_discordant == 0:
        return McNemarResult(0.0, 1.0, b, c, "exact")
    use_exact = n_discordant < 25 if exact is None else bool(exact)
    if use_exact:
        k = min(b, c)
        from scipy import stats as _sps  # the deployment gate's exact path only

        pvalue = min(1.0, 2.0 * float(_sps.binom.cdf(k, n_discordant, 0.5)))
        return McNemarResult(float(k), pvalue, b, c, "exact")
    statistic = (abs(b - c) - 1) ** 2 / n_discordant
    return McNemarResult(float(statistic), chi2_sf(statistic, 1), b, c, "asymptotic")


# --------------------------------------------------------------------------- PSI significance

PSI_ASYMPTOTIC_MIN_EXPECTED = 100.0
"""Smallest expected count per cell (in the smaller sample) for the chi-square limit of PSI.
PSI's upper tail is heavier than chi-square's in small samples (its log terms; at worst an
empty cell meets the 1e-4 proportion floor): with 10 equal bins the limit's p < 0.002 happens
1.9x too often at 20 values a bin, 1.2x at 50, 1.08x at 100 (simulated). Below it the p-value
is simulated instead."""

PSI_SIMULATIONS = 2000
"""Simulated samples behind a small-sample PSI p-value (resolution 1/2001)."""


def psi_pvalue(
    ref_counts: Any, cur_counts: Any, *, n_simulations: int = PSI_SIMULATIONS, seed: int = 0
) -> float:
    """p-value of the PSI of two aligned count vectors under "same distribution".

    For two multinomial samples of sizes n and m from the same distribution, PSI * n*m/(n+m)
    tends to chi-square with (cells - 1) degrees of freedom (PSI is to second order the
    chi-square distance of the proportions); cells empty in both samples are dropped. That
    limit is used when every cell expects at least PSI_ASYMPTOTIC_MIN_EXPECTED values in the
    smaller sample. Otherwise (small windows, rare categories, a rare missing bin) the p-value
    is simulated: up to ``n_simulations`` pairs of multinomial samples from the pooled
    proportions, PSI computed exactly as :func:`psi_from_counts` (floor included), p = (1 +
    #{simulated >= observed}) / (1 + n_simulations), or, as soon as 10 simulated values reach
    the observed one, 10 / (pairs drawn) (Besag and Clifford's sequential p-value, valid as
    well, and 10x cheaper for the usual window where nothing changed). The seed is fixed, so a
    rerun gives the same p-value.
    Bins fitted on the reference itself (quantile edges) behave like fixed bins here: the
    edges' sampling error plays the part of the reference's multinomial error (checked by
    simulation in tests/core/test_stats.py).
    """
    observed = psi_from_counts(ref_counts, cur_counts)
    ref = _counts_1d(ref_counts, "ref_counts")
    cur = _counts_1d(cur_counts, "cur_counts")
    for name, arr in (("ref_counts", ref), ("cur_counts", cur)):
        if not np.all(arr == np.floor(arr)):
            raise DataValidationError(f"{name} must hold whole counts; got {arr.tolist()}")
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    if ref.size < 2:
        return 1.0
    n, m = float(ref.sum()), float(cur.sum())
    pooled = (ref + cur) / (n + m)
    if min(n, m) * pooled.min() >= PSI_ASYMPTOTIC_MIN_EXPECTED:
        statistic = observed * n * m / (n + m)
        return float(min(1.0, max(0.0, chi2_sf(statistic, ref.size - 1))))
    n_simulations = operator.index(n_simulations)
    if n_simulations < 1:
        raise DataValidationError(f"n_simulations must be >= 1; got {n_simulations}")
    rng = np.random.default_rng(seed)
    pooled = pooled / pooled.sum()

    def simulate(size: int) -> np.ndarray:
        p_ref = np.maximum(rng.multinomial(int(n), pooled, size=size) / n, PROPORTION_FLOOR)
        p_cur = np.maximum(rng.multinomial(int(m), pooled, size=size) / m, PROPORTION_FLOOR)
        simulated = np.sum((p_cur - p_ref) * np.log(p_cur / p_ref), axis=1)
        # a hair of tolerance: the observed PSI and an identical simulated table agree
        return simulated >= observed - 1e-12

    # Besag-Clifford sequential p-value: stop at the h-th simulated PSI >= the observed one
    # (p = h / draws so far); a same-distribution window usually stops within the first batch
    exceeds = simulate(min(n_simulations, _PSI_FIRST_BATCH))
    if np.count_nonzero(exceeds) < _PSI_STOP_AFTER and exceeds.size < n_simulations:
        exceeds = np.concatenate((exceeds, simulate(n_simulations - exceeds.size)))
    hits = np.flatnonzero(exceeds)
    if hits.size >= _PSI_STOP_AFTER:
        return _PSI_STOP_AFTER / float(hits[_PSI_STOP_AFTER - 1] + 1)
    return (1 + hits.size) / (1 + n_simulations)


_PSI_FIRST_BATCH = 200
_PSI_STOP_AFTER = 10


# --------------------------------------------------------------------------- Wasserstein-1


def wasserstein_sorted(a_sorted: Any, b_sorted: Any) -> float:
    """Wasserstein-1 distance of two ascending, finite samples (scipy's
    ``wasserstein_distance``): the area between their quantile functions.

    With n <= m values, each of the m quantile steps of the larger sample meets at most one
    step of the smaller one, so the integral is one pass over the larger sample (the smaller
    one's quantile function repeated onto its grid) plus a correction at the <= n steps that
    split an interval. Integer arithmetic keeps the interval weights exact.
    """
    a = _sorted_sample(a_sorted, "a_sorted")
    b = _sorted_sample(b_sorted, "b_sorted")
    for name, arr in (("a_sorted", a), ("b_sorted", b)):
        if not (math.isfinite(arr[0]) and math.isfinite(arr[-1])):
            raise DataValidationError(
                f"{name} holds infinite values; the Wasserstein distance needs finite ones "
                "(wasserstein_normalised clips them)"
            )
    if a.size > b.size:
        a, b = b, a
    n, m = a.size, b.size
    i = np.arange(n + 1, dtype=np.int64)
    # interval j (1-based) of b, ((j-1)/m, j/m], starts in a's step floor((j-1) n / m)
    starts = -((-i * m) // n)  # ceil(i m / n): first 0-based j - 1 in a's step i
    quantile_a = np.repeat(a, np.diff(starts))
    total = float(np.abs(quantile_a - b).sum()) * n
    # a's step boundary i/n strictly inside b's interval j = ceil(i m / n): split it
    k = np.arange(1, n, dtype=np.int64)
    inside = (k * m) % n != 0
    k = k[inside]
    j = (k * m) // n + 1
    right = n - (k * m - (j - 1) * n)  # width of the part after the boundary, in 1/(n m)
    bj = b[j - 1]
    total += float(np.sum((np.abs(a[k] - bj) - np.abs(a[k - 1] - bj)) * right))
    distance = total / (float(n) * float(m))
    if not math.isfinite(distance):
        raise DataValidationError(
            "the samples' values are too large for a finite Wasserstein distance (their "
            "differences overflow float64); rescale them"
        )
    return distance


def reference_spread(sorted_values: Any) -> float | None:
    """Spread a distance is measured in: the larger of the IQR / 1.349 (the standard deviation
    of a normal distribution) and the standard deviation of the finite values. Either alone
    misleads: the IQR is 0 for a point mass over half the values (zero-inflated counts), and a
    small IQR beside a long tail (days since the last touch) makes the tail's sampling noise in
    a small window look like many spreads of drift (6 of 720 hourly runs flagged under no drift
    with the IQR alone). For a normal column both are the same number. None for a constant
    sample."""
    arr = _sorted_sample(sorted_values, "sorted_values")
    with np.errstate(invalid="ignore"):  # inf - inf where a quartile is infinite: NaN
        q1, q3 = _sorted_linear_quantiles(arr, np.array([0.25, 0.75]))
        iqr = float(q3 - q1)
    robust = iqr / 1.349 if math.isfinite(iqr) and iqr > 0 else 0.0
    finite = arr[np.isfinite(arr)]
    std = 0.0
    if finite.size >= 2:
        with np.errstate(over="ignore", invalid="ignore"):
            std = float(finite.std())
            if not math.isfinite(std):  # squares beyond ~1e154 overflow: in units of the max
                scale = float(max(abs(finite[0]), abs(finite[-1])))
                std = float((finite / scale).std()) * scale
        if not math.isfinite(std):
            std = 0.0
    spread = max(robust, std)
    return spread if spread > 0 else None


def wasserstein_normalised(ref_sorted: Any, cur_sorted: Any) -> float | None:
    """Wasserstein-1 distance of current from reference in reference spreads
    (:func:`reference_spread`): a location shift of d spreads scores d, a scale change by a
    factor s of a normal distribution 0.80 * |s - 1|, and values moved into a tail count by
    how far they moved. Values (infinite ones included) beyond the reference's finite range
    by more than its width are counted at that limit, so the result is always finite. None
    when the reference has no spread (or a range too wide for float64 in spreads)."""
    ref = _sorted_sample(ref_sorted, "ref_sorted")
    cur = _sorted_sample(cur_sorted, "cur_sorted")
    spread = reference_spread(ref)
    if spread is None:
        return None
    finite = ref[np.isfinite(ref)]
    lo, hi = float(finite[0]), float(finite[-1])
    if hi == lo:
        return None
    half_width = hi / 2 - lo / 2  # halves: finite even where hi - lo overflows
    width = hi - lo
    band = (lo - width, hi + width)
    inside = math.isfinite(3 * width) and ref[0] >= band[0] and ref[-1] <= band[1]
    if inside and cur[0] >= band[0] and cur[-1] <= band[1]:  # the usual case: exact as is
        value = wasserstein_sorted(ref, cur) / spread
        return value if math.isfinite(value) else None
    if half_width == 0:  # a range of one subnormal step: nothing to rescale by
        return None
    # x -> (x - lo) / width, clipped to [-1, 2]: the reference range widened by its width,
    # where no difference can overflow and infinite values land on the band's edge
    with np.errstate(over="ignore", invalid="ignore"):
        ref = np.clip((ref / 2 - lo / 2) / half_width, -1.0, 2.0)
        cur = np.clip((cur / 2 - lo / 2) / half_width, -1.0, 2.0)
    value = wasserstein_sorted(ref, cur) * 2 * (half_width / spread)
    return value if math.isfinite(value) else None


def cramers_v_balanced(
    statistic: float, n_reference: int, n_current: int, n_categories: int
) -> float:
    """Cramér's V of a 2 x k table as if both samples had the same size.

    V = sqrt(chi2 / N) of a 2 x k table shrinks by sqrt(4 n m) / N when one sample is much
    larger than the other (a 1,000,000-row reference against a 100,000-row window: x 0.57), so
    the same change of category mix would count at one window size and not at another. Scaled
    by N / (2 sqrt(n m)) it reads the change itself: for n = m it is Cramér's V; in general it
    is sqrt(D / 4) with D the chi-square distance of the two distributions, whatever n and m.
    Capped at 1."""
    n_reference = operator.index(n_reference)
    n_current = operator.index(n_current)
    if n_reference < 0 or n_current < 0:
        raise DataValidationError(
            f"sample sizes must be >= 0; got n_reference={n_reference}, n_current={n_current}"
        )
    total = n_reference + n_current
    v = cramers_v(statistic, total, n_categories)
    if v == 0.0 or n_reference == 0 or n_current == 0:
        return v
    return min(1.0, v * total / (2.0 * math.sqrt(float(n_reference) * float(n_current))))
