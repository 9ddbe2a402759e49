"""modelguard.core.stats against scipy and against straightforward independent implementations."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from scipy.stats.contingency import association

from modelguard.core import stats
from modelguard.exceptions import DataValidationError

SEEDS = [0, 1, 2, 3]


# --------------------------------------------------------------------------- reference helpers


def naive_psi_numeric(reference, current, bins):
    """PSI as the design notes describe it, written the obvious way with pandas.cut."""
    ref = pd.Series(reference, dtype="float64")
    cur = pd.Series(current, dtype="float64")
    ref_clean = ref.dropna().to_numpy()
    edges = np.unique(np.quantile(ref_clean, np.linspace(0, 1, bins + 1))[1:-1])
    cut_points = np.concatenate(([-np.inf], edges, [np.inf]))

    def proportions(s):
        binned = pd.cut(s.dropna(), cut_points, right=True)
        counts = binned.value_counts(sort=False).to_numpy().tolist()
        counts.append(int(s.isna().sum()))
        counts = np.array(counts, dtype=float)
        return np.maximum(counts / len(s), 1e-4)

    p_ref, p_cur = proportions(ref), proportions(cur)
    return float(sum((c - r) * math.log(c / r) for r, c in zip(p_ref, p_cur, strict=True)))


def naive_category_table(reference, current):
    """2 x k counts over the union of categories, missing (None/NaN) as one more category."""

    def key(v):
        return "<missing>" if v is None or (isinstance(v, float) and math.isnan(v)) else v

    ref = Counter(key(v) for v in reference)
    cur = Counter(key(v) for v in current)
    cats = sorted(set(ref) | set(cur), key=repr)
    return np.array([[ref[c] for c in cats], [cur[c] for c in cats]], dtype=float)


def naive_psi_from_table(table):
    p = np.maximum(table / table.sum(axis=1, keepdims=True), 1e-4)
    return float(np.sum((p[1] - p[0]) * np.log(p[1] / p[0])))


def scipy_statistic(a, b):
    """scipy's KS statistic without its exact-method rounding of d to h / lcm(n, m)."""
    with warnings.catch_warnings():
        # its asymptotic p-value (not used here) divides by zero for one-value samples
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(sps.ks_2samp(a, b, method="asymp").statistic)


def naive_bh(p):
    p = np.asarray(p, dtype=float)
    n = p.size
    order = np.argsort(p)
    adjusted = np.empty(n)
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * n / rank)
        adjusted[i] = running
    return adjusted


def mcnemar_rows(b, c, both_right=7, both_wrong=5, labels=(0, 1)):
    """y_true, champion, challenger with exactly b champion-only and c challenger-only hits."""
    right, wrong = labels
    y, champ, chall = [], [], []
    for n, ch, cl in ((b, right, wrong), (c, wrong, right), (both_right, right, right)):
        y += [right] * n
        champ += [ch] * n
        chall += [cl] * n
    y += [right] * both_wrong
    champ += [wrong] * both_wrong
    chall += [wrong] * both_wrong
    rng = np.random.default_rng(b * 1000 + c)
    order = rng.permutation(len(y))
    return np.array(y)[order], np.array(champ)[order], np.array(chall)[order]


# --------------------------------------------------------------------------- quantile edges


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 100, 1001, 20_000])
@pytest.mark.parametrize("bins", [1, 2, 5, 10, 20])
def test_quantile_edges_equal_numpy_quantile_sorted_or_not(seed, size, bins):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=size)
    values[rng.random(size) < 0.1] = np.nan
    if np.isnan(values).all():
        values[0] = 1.5
    clean = values[~np.isnan(values)]
    expected = np.unique(np.quantile(clean, np.linspace(0, 1, bins + 1))[1:-1])

    np.testing.assert_array_equal(stats.quantile_edges(values, bins), expected)
    # np.sort puts NaN last, which assume_sorted accepts
    np.testing.assert_array_equal(
        stats.quantile_edges(np.sort(values), bins, assume_sorted=True), expected
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_quantile_edges_sorted_path_with_ties_and_many_bins(seed):
    rng = np.random.default_rng(seed)
    for size in (5, 33, 1000, 123_457):
        values = np.sort(rng.integers(-3, 4, size).astype(float) * 0.1)
        for bins in (3, 10, 50, 1000):
            expected = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1))[1:-1])
            got = stats.quantile_edges(values, bins, assume_sorted=True)
            assert np.max(np.abs(got - expected), initial=0.0) <= 1e-12
            assert got.size == expected.size


def test_quantile_edges_constant_column_gives_one_edge():
    np.testing.assert_array_equal(stats.quantile_edges(np.full(50, 3.25), 10), [3.25])
    np.testing.assert_array_equal(
        stats.quantile_edges(np.full(50, 3.25), 10, assume_sorted=True), [3.25]
    )


def test_quantile_edges_rejects_unusable_input():
    with pytest.raises(DataValidationError, match="no non-missing"):
        stats.quantile_edges([np.nan, np.nan])
    with pytest.raises(DataValidationError, match="no non-missing"):
        stats.quantile_edges([])
    with pytest.raises(DataValidationError, match="no non-missing"):
        stats.quantile_edges([np.nan], assume_sorted=True)
    with pytest.raises(DataValidationError, match="not sorted"):
        stats.quantile_edges([3.0, 1.0, 2.0], assume_sorted=True)
    with pytest.raises(DataValidationError, match="not sorted"):
        stats.quantile_edges([1.0, np.nan, 2.0], assume_sorted=True)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(DataValidationError, match="bins"):
            stats.quantile_edges([1.0, 2.0], bad)


def test_low_point_mass_keeps_its_own_bin():
    rng = np.random.default_rng(7)
    reference = np.where(rng.random(10_000) < 0.35, -1.0, rng.gamma(2.0, size=10_000))
    edges = stats.quantile_edges(reference, 10)
    assert edges[0] == -1.0
    assert np.all(edges[1:] > -1.0)
    counts = stats.bin_counts(reference, edges)
    assert counts[0] == np.count_nonzero(reference == -1.0)
    # more sentinels in the current window show up in that bin only
    current = np.where(rng.random(10_000) < 0.6, -1.0, rng.gamma(2.0, size=10_000))
    cur_counts = stats.bin_counts(current, edges)
    assert cur_counts[0] == np.count_nonzero(current == -1.0)
    assert stats.psi(reference, current) == pytest.approx(
        naive_psi_numeric(reference, current, 10), rel=1e-12
    )
    assert stats.psi(reference, current) > 0.2


# --------------------------------------------------------------------------- bin counts


def test_bin_counts_right_closed_bins_with_open_outer_bins():
    values = [1.0, 2.0, 1.5, 3.0, 0.0, np.nan, -np.inf, np.inf, None]
    counts = stats.bin_counts(values, [1.0, 2.0])
    # (-inf, 1] holds 1.0, 0.0, -inf; (1, 2] holds 2.0, 1.5; (2, inf) holds 3.0, inf
    np.testing.assert_array_equal(counts, [3, 2, 2, 2])
    assert counts.size == 2 + 2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", [0, 1, 3, 500, 50_000])
def test_bin_counts_match_pandas_cut_and_sorted_variant(seed, size):
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=size), 1)  # many values exactly on an edge
    values[rng.random(size) < 0.05] = np.nan
    edges = np.array([-1.0, -0.3, 0.0, 0.2, 0.5, 3.5, 4.0])  # last bins stay empty
    cut = pd.cut(pd.Series(values).dropna(), np.r_[-np.inf, edges, np.inf], right=True)
    expected = cut.value_counts(sort=False).to_numpy().tolist() + [int(np.isnan(values).sum())]

    np.testing.assert_array_equal(stats.bin_counts(values, edges), expected)
    clean = np.sort(values[~np.isnan(values)])
    np.testing.assert_array_equal(
        stats.bin_counts_sorted(clean, edges, int(np.isnan(values).sum())), expected
    )


def test_bin_counts_with_no_edges_is_one_bin_plus_missing():
    np.testing.assert_array_equal(stats.bin_counts([1.0, 5.0, np.nan], []), [2, 1])
    np.testing.assert_array_equal(stats.bin_counts_sorted([1.0, 5.0], [], 1), [2, 1])


def test_bin_counts_reject_bad_edges_and_nan_in_sorted_values():
    with pytest.raises(DataValidationError, match="edges"):
        stats.bin_counts([1.0], [2.0, 1.0])
    with pytest.raises(DataValidationError, match="edges"):
        stats.bin_counts([1.0], [1.0, 1.0])
    with pytest.raises(DataValidationError, match="edges"):
        stats.bin_counts_sorted([1.0], [np.nan], 0)
    with pytest.raises(DataValidationError, match="NaN"):
        stats.bin_counts_sorted([1.0, np.nan], [0.5], 0)
    with pytest.raises(DataValidationError, match="n_missing"):
        stats.bin_counts_sorted([1.0], [0.5], -1)


# --------------------------------------------------------------------------- PSI


def test_psi_from_counts_formula_and_floor():
    ref, cur = np.array([50.0, 50.0]), np.array([90.0, 10.0])
    expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert stats.psi_from_counts(ref, cur) == pytest.approx(expected, rel=1e-12)

    # an empty bin is floored at 1e-4 without renormalising, so the result is finite
    got = stats.psi_from_counts([100, 0], [50, 50])
    expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert math.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12)
    assert stats.PROPORTION_FLOOR == 1e-4


def test_psi_from_counts_rejects_unusable_counts():
    with pytest.raises(DataValidationError, match="reference sample is empty"):
        stats.psi_from_counts([0, 0], [1, 2])
    with pytest.raises(DataValidationError, match="current sample is empty"):
        stats.psi_from_counts([1, 2], [0, 0])
    with pytest.raises(DataValidationError, match="same length"):
        stats.psi_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(DataValidationError, match="non-negative"):
        stats.psi_from_counts([1, -2], [1, 2])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("n_ref", "n_cur"), [(1, 1), (2, 3), (3, 2), (50, 80), (5_000, 3_000), (40_000, 60_000)]
)
@pytest.mark.parametrize("bins", [1, 4, 10])
def test_psi_numeric_matches_pandas_cut_implementation(seed, n_ref, n_cur, bins):
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=n_ref)
    current = rng.normal(0.3, 1.2, size=n_cur)
    reference[rng.random(n_ref) < 0.05] = np.nan
    current[rng.random(n_cur) < 0.1] = np.nan
    if np.isnan(reference).all():
        reference[0] = 0.1
    got = stats.psi(reference, current, bins=bins)
    assert got == pytest.approx(naive_psi_numeric(reference, current, bins), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_psi_numeric_discrete_and_constant_columns(seed):
    rng = np.random.default_rng(seed)
    reference = rng.poisson(1.0, 3_000).astype(float)  # heavy ties: few unique edges
    current = rng.poisson(1.6, 2_000).astype(float)
    assert stats.psi(reference, current) == pytest.approx(
        naive_psi_numeric(reference, current, 10), rel=1e-12
    )
    constant = np.full(100, 2.0)
    other = rng.choice([1.0, 2.0, 3.0], size=300)
    assert stats.psi(constant, other) == pytest.approx(
        naive_psi_numeric(constant, other, 10), rel=1e-12
    )
    assert stats.psi(constant, constant) == 0.0


def test_psi_of_a_sample_with_itself_is_zero_and_drift_is_positive():
    rng = np.random.default_rng(11)
    x = rng.normal(size=5_000)
    assert stats.psi(x, x) == 0.0
    assert stats.psi(x, x + 0.5) > 0.1


def test_psi_numeric_accepts_lists_with_none_and_pandas_series():
    reference = [1.0, 2.0, None, 4.0, 5.0, 6.0]
    current = pd.Series([1.0, None, None, 6.0, 7.0], dtype="Float64")
    expected = naive_psi_numeric(
        np.array(reference, dtype=float), np.array([1.0, np.nan, np.nan, 6.0, 7.0]), 3
    )
    assert stats.psi(reference, current, bins=3) == pytest.approx(expected, rel=1e-12)


def test_psi_numeric_current_all_missing_is_finite_and_reference_all_missing_fails():
    reference = np.arange(10.0)
    current = np.full(5, np.nan)
    got = stats.psi(reference, current, bins=2)
    assert math.isfinite(got)
    assert got == pytest.approx(naive_psi_numeric(reference, current, 2), rel=1e-12)
    with pytest.raises(DataValidationError, match="reference has no non-missing"):
        stats.psi(current, reference)
    with pytest.raises(DataValidationError, match="current sample is empty"):
        stats.psi(reference, [])


def test_psi_numeric_rejects_strings():
    with pytest.raises(DataValidationError, match="categorical=True"):
        stats.psi(["a", "b"], ["a"])


@pytest.mark.parametrize("seed", SEEDS)
def test_psi_categorical_matches_counter_implementation(seed):
    rng = np.random.default_rng(seed)
    cats_ref = np.array(["a", "b", "c", "d", None], dtype=object)
    cats_cur = np.array(["a", "b", "c", "e", None, np.nan], dtype=object)
    reference = rng.choice(cats_ref, size=2_000, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    current = rng.choice(cats_cur, size=1_500, p=[0.3, 0.3, 0.2, 0.1, 0.05, 0.05])
    expected = naive_psi_from_table(naive_category_table(reference, current))
    got = stats.psi(reference, current, categorical=True)
    assert math.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12)
    # the same data as pandas Series (object and string dtypes) gives the same answer
    as_series = stats.psi(pd.Series(reference), pd.Series(current), categorical=True)
    assert as_series == pytest.approx(expected, rel=1e-12)
    as_string = stats.psi(
        pd.Series(reference, dtype="string"), pd.Series(current, dtype="string"), categorical=True
    )
    assert as_string == pytest.approx(expected, rel=1e-12)


def test_psi_categorical_numeric_and_one_sided_categories():
    reference = np.array([1, 1, 2, 2, 2, 3])
    current = np.array([1.0, 4.0, 4.0, np.nan, 2.0])
    expected = naive_psi_from_table(
        naive_category_table(reference.tolist(), [1.0, 4.0, 4.0, float("nan"), 2.0])
    )
    got = stats.psi(reference, current, categorical=True)
    assert math.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12)
    assert stats.psi(["x"], ["y"], categorical=True) == pytest.approx(
        naive_psi_from_table(np.array([[1.0, 0.0], [0.0, 1.0]])), rel=1e-12
    )


# --------------------------------------------------------------------------- Kolmogorov-Smirnov


KS_CASES = [(1, 1), (1, 5), (3, 2), (2, 3), (10, 10), (97, 41), (1_000, 800), (30_000, 25_000)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "m"), KS_CASES)
@pytest.mark.parametrize("kind", ["continuous", "discrete", "point_mass", "rounded"])
def test_ks_statistic_sorted_equals_scipy(seed, n, m, kind):
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        a, b = rng.normal(size=n), rng.normal(0.02, 1.0, size=m)
    elif kind == "discrete":
        a, b = rng.integers(0, 6, n).astype(float), rng.integers(0, 7, m).astype(float)
    elif kind == "point_mass":
        a = np.where(rng.random(n) < 0.3, -1.0, rng.normal(size=n))
        b = np.where(rng.random(m) < 0.33, -1.0, rng.normal(size=m))
    else:
        a, b = np.round(rng.exponential(size=n), 2), np.round(rng.exponential(1.02, size=m), 2)
    a.sort()
    b.sort()
    assert stats.ks_statistic_sorted(a, b) == scipy_statistic(a, b)
    assert stats.ks_statistic_sorted(b, a) == scipy_statistic(b, a)


@pytest.mark.parametrize("seed", SEEDS)
def test_ks_statistic_sorted_large_samples_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    a = np.sort(rng.normal(size=200_000))
    for b in (
        np.sort(rng.normal(size=150_000)),  # no drift: many segments stay in play
        np.sort(rng.normal(0.05, 1.0, size=180_000)),  # drift: a sharp supremum
        np.sort(np.round(rng.normal(size=150_000), 1)),  # ties against continuous values
    ):
        assert stats.ks_statistic_sorted(a, b) == scipy_statistic(a, b)


def test_ks_statistic_sorted_adversarial_layouts():
    rng = np.random.default_rng(3)
    a = np.sort(rng.normal(size=60_000))
    near = a.copy()
    near[30_000] = np.nextafter(near[30_000], -np.inf)  # supremum 1/n: nothing can be pruned
    interleaved = np.sort(a + 1e-9)
    disjoint = a + 100.0
    shared = np.sort(np.concatenate((a[:30_000], rng.normal(size=20_000))))
    for b in (a, near, interleaved, disjoint, shared, a[:1], a[-1:]):
        assert stats.ks_statistic_sorted(a, b) == scipy_statistic(a, b)
        assert stats.ks_statistic_sorted(b, a) == scipy_statistic(b, a)
    assert stats.ks_statistic_sorted(a, disjoint) == 1.0
    assert stats.ks_statistic_sorted(a, a) == 0.0


def test_ks_statistic_sorted_constant_and_tiny_inputs():
    for a, b in (([1.0], [1.0]), ([1.0], [2.0]), ([2.0, 2.0, 2.0], [2.0]), ([1.0, 2.0], [2.0])):
        assert stats.ks_statistic_sorted(a, b) == scipy_statistic(a, b)


def test_ks_statistic_sorted_rejects_unsorted_nan_and_empty():
    with pytest.raises(DataValidationError, match="sorted"):
        stats.ks_statistic_sorted([2.0, 1.0], [1.0])
    with pytest.raises(DataValidationError, match="NaN"):
        stats.ks_statistic_sorted([1.0, np.nan], [1.0])
    with pytest.raises(DataValidationError, match="NaN"):
        stats.ks_statistic_sorted([1.0, np.nan, 0.5], [1.0])
    with pytest.raises(DataValidationError, match="empty"):
        stats.ks_statistic_sorted([], [1.0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("n", "m"), [(1, 1), (2, 3), (3, 1), (25, 40), (500, 500), (3_000, 2_000), (10_000, 10_000)]
)
def test_ks_2samp_up_to_exact_limit_is_scipy_default(seed, n, m):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(0.03, 1.0, size=m)
    expected = sps.ks_2samp(a, b)
    a_missing = np.concatenate((a, [np.nan] * 3))
    statistic, pvalue = stats.ks_2samp(a_missing, b)
    assert statistic == expected.statistic
    assert pvalue == expected.pvalue


def test_ks_2samp_at_the_exact_limit_with_ties():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 20, stats.KS_EXACT_MAX_N).astype(float)
    b = rng.integers(0, 21, stats.KS_EXACT_MAX_N - 1).astype(float)
    expected = sps.ks_2samp(a, b)
    assert stats.ks_2samp(a, b) == (expected.statistic, expected.pvalue)
    assert stats.KS_EXACT_MAX_N == 10_000


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "m"), [(10_001, 10_001), (25_000, 12_000), (60_000, 80_000)])
def test_ks_2samp_large_samples_use_the_kolmogorov_limit(seed, n, m):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(0.01, 1.0, size=m)
    b[:7] = np.nan
    b_clean = b[7:]
    statistic, pvalue = stats.ks_2samp(a, b)
    scipy_result = sps.ks_2samp(a, b_clean)  # 'asymp' here: n > 10,000
    assert statistic == scipy_result.statistic
    m_clean = b_clean.size
    expected_p = sps.kstwobign.sf(statistic * math.sqrt(n * m_clean / (n + m_clean)))
    assert pvalue == pytest.approx(expected_p, rel=1e-12)
    # the limit is close to scipy's finite-n distribution at these sizes
    assert pvalue == pytest.approx(scipy_result.pvalue, rel=0.02, abs=1e-4)


def test_ks_2samp_switches_on_the_larger_sample():
    rng = np.random.default_rng(9)
    a = rng.normal(size=10_001)
    b = rng.normal(size=40)
    statistic, pvalue = stats.ks_2samp(a, b)
    expected = sps.kstwobign.sf(statistic * math.sqrt(10_001 * 40 / 10_041))
    assert pvalue == pytest.approx(expected, rel=1e-12)
    assert statistic == sps.ks_2samp(a, b).statistic


def test_ks_2samp_rejects_samples_without_values():
    with pytest.raises(DataValidationError, match="reference sample has no non-missing"):
        stats.ks_2samp([np.nan, np.nan], [1.0])
    with pytest.raises(DataValidationError, match="current sample has no non-missing"):
        stats.ks_2samp([1.0], [])


@pytest.mark.parametrize(("d", "n", "m"), [(0.0, 10, 10), (0.01, 50_000, 40_000), (0.3, 20, 30)])
def test_ks_pvalue_is_kstwobign(d, n, m):
    assert stats.ks_pvalue(d, n, m) == pytest.approx(
        sps.kstwobign.sf(d * math.sqrt(n * m / (n + m))), rel=1e-14
    )


def test_ks_pvalue_rejects_bad_arguments():
    with pytest.raises(DataValidationError):
        stats.ks_pvalue(1.5, 10, 10)
    with pytest.raises(DataValidationError):
        stats.ks_pvalue(0.5, 0, 10)


# --------------------------------------------------------------------------- chi-square


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 5, 9])
def test_chi2_from_counts_equals_chi2_contingency(seed, k):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        table = rng.integers(1, 200, size=(2, k)).astype(float)
        expected = sps.chi2_contingency(table)
        statistic, pvalue, dof = stats.chi2_from_counts(table[0], table[1])
        assert dof == expected.dof == k - 1
        assert statistic == pytest.approx(expected.statistic, rel=1e-12, abs=1e-12)
        assert pvalue == pytest.approx(expected.pvalue, rel=1e-10, abs=1e-300)


def test_chi2_from_counts_yates_only_for_two_categories():
    # 2 x 2 (dof 1): corrected; 2 x 3: not corrected
    two = np.array([[30.0, 10.0], [20.0, 25.0]])
    assert stats.chi2_from_counts(*two)[0] == pytest.approx(
        sps.chi2_contingency(two, correction=True).statistic, rel=1e-12
    )
    assert stats.chi2_from_counts(*two)[0] < sps.chi2_contingency(two, correction=False).statistic
    three = np.array([[30.0, 10.0, 5.0], [20.0, 25.0, 9.0]])
    assert stats.chi2_from_counts(*three)[0] == pytest.approx(
        sps.chi2_contingency(three, correction=False).statistic, rel=1e-12
    )


def test_chi2_from_counts_drops_empty_and_keeps_one_sided_categories():
    ref = np.array([10.0, 0.0, 5.0, 0.0, 7.0])
    cur = np.array([3.0, 0.0, 0.0, 4.0, 9.0])  # column 1 empty; 2 and 3 one-sided
    statistic, pvalue, dof = stats.chi2_from_counts(ref, cur)
    expected = sps.chi2_contingency(np.array([[10.0, 5.0, 0.0, 7.0], [3.0, 0.0, 4.0, 9.0]]))
    assert math.isfinite(statistic) and math.isfinite(pvalue)
    assert dof == 3
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert pvalue == pytest.approx(expected.pvalue, rel=1e-10)


def test_chi2_from_counts_completely_disjoint_samples_are_finite():
    statistic, pvalue, dof = stats.chi2_from_counts([5, 0], [0, 7])
    expected = sps.chi2_contingency(np.array([[5.0, 0.0], [0.0, 7.0]]))
    assert math.isfinite(statistic) and 0.0 <= pvalue <= 1.0
    assert (statistic, dof) == (pytest.approx(expected.statistic, rel=1e-12), 1)


def test_chi2_from_counts_single_category():
    assert stats.chi2_from_counts([5], [9]) == (0.0, 1.0, 0)
    assert stats.chi2_from_counts([5, 0], [9, 0]) == (0.0, 1.0, 0)


def test_chi2_from_counts_rejects_empty_samples_and_bad_counts():
    with pytest.raises(DataValidationError, match="current sample is empty"):
        stats.chi2_from_counts([1, 2], [0, 0])
    with pytest.raises(DataValidationError, match="same length"):
        stats.chi2_from_counts([1, 2], [1])
    with pytest.raises(DataValidationError, match="non-negative"):
        stats.chi2_from_counts([1, np.inf], [1, 1])


@pytest.mark.parametrize("seed", SEEDS)
def test_chi2_test_on_raw_samples(seed):
    rng = np.random.default_rng(seed)
    reference = rng.choice(np.array(["a", "b", "c", None], dtype=object), size=800)
    current = rng.choice(np.array(["a", "b", "d", np.nan], dtype=object), size=600)
    table = naive_category_table(reference, current)
    expected = sps.chi2_contingency(table)
    statistic, pvalue, dof = stats.chi2_test(reference, current)
    assert dof == expected.dof == table.shape[1] - 1
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert pvalue == pytest.approx(expected.pvalue, rel=1e-10, abs=1e-300)


def test_chi2_test_tiny_and_constant_samples():
    assert stats.chi2_test(["a"], ["a", "a"]) == (0.0, 1.0, 0)
    statistic, pvalue, dof = stats.chi2_test(["a"], ["b"])
    assert (dof, math.isfinite(statistic)) == (1, True)
    assert statistic == pytest.approx(
        sps.chi2_contingency(np.array([[1.0, 0.0], [0.0, 1.0]])).statistic, rel=1e-12
    )
    with pytest.raises(DataValidationError, match="current sample is empty"):
        stats.chi2_test(["a"], [])


# --------------------------------------------------------------------------- Cramér's V


@pytest.mark.parametrize("seed", SEEDS)
def test_cramers_v_matches_scipy_association(seed):
    rng = np.random.default_rng(seed)
    for k in (3, 4, 7):
        table = rng.integers(1, 100, size=(2, k))
        statistic, _, dof = stats.chi2_from_counts(table[0], table[1])  # no Yates for k > 2
        got = stats.cramers_v(statistic, int(table.sum()), dof + 1)
        assert got == pytest.approx(association(table, method="cramer"), rel=1e-12)


def test_cramers_v_degenerate_cases_and_bounds():
    assert stats.cramers_v(3.0, 100, 1) == 0.0
    assert stats.cramers_v(3.0, 0, 4) == 0.0
    assert stats.cramers_v(25.0, 100, 2) == pytest.approx(0.5)
    statistic, _, dof = stats.chi2_from_counts([50, 0, 0], [0, 30, 20])  # perfect association
    assert stats.cramers_v(statistic, 100, dof + 1) == pytest.approx(1.0)
    assert stats.cramers_v(statistic, 100, dof + 1) <= 1.0
    with pytest.raises(DataValidationError):
        stats.cramers_v(-1.0, 10, 3)


# --------------------------------------------------------------------------- Benjamini-Hochberg


@pytest.mark.parametrize("seed", SEEDS)
def test_benjamini_hochberg_matches_scipy_and_a_direct_implementation(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate((rng.random(20), rng.random(5) * 1e-4, [1.0, 0.0, 0.5, 0.5]))
    got = stats.benjamini_hochberg(p)
    np.testing.assert_allclose(got, sps.false_discovery_control(p, method="bh"), rtol=1e-12)
    np.testing.assert_allclose(got, naive_bh(p), rtol=1e-12)
    assert np.all(got >= p)


def test_benjamini_hochberg_edge_inputs():
    empty = stats.benjamini_hochberg([])
    assert isinstance(empty, np.ndarray) and empty.size == 0
    np.testing.assert_allclose(stats.benjamini_hochberg([0.03]), [0.03])
    with pytest.raises(DataValidationError, match="NaN"):
        stats.benjamini_hochberg([0.1, np.nan])
    with pytest.raises(DataValidationError, match=r"\[0, 1\]"):
        stats.benjamini_hochberg([0.1, 1.5])


# --------------------------------------------------------------------------- McNemar


@pytest.mark.parametrize(
    ("b", "c"), [(1, 0), (0, 3), (5, 5), (3, 9), (12, 12), (20, 4), (1, 23), (0, 24)]
)
def test_mcnemar_exact_below_25_discordant_pairs(b, c):
    y, champion, challenger = mcnemar_rows(b, c)
    result = stats.mcnemar(y, champion, challenger)
    assert (result.b, result.c, result.method) == (b, c, "exact")
    assert result.statistic == min(b, c)
    assert result.pvalue == pytest.approx(
        sps.binomtest(min(b, c), b + c, 0.5).pvalue, rel=1e-10, abs=1e-15
    )


@pytest.mark.parametrize(("b", "c"), [(25, 0), (12, 13), (20, 5), (40, 22), (300, 250)])
def test_mcnemar_asymptotic_from_25_discordant_pairs(b, c):
    y, champion, challenger = mcnemar_rows(b, c)
    result = stats.mcnemar(y, champion, challenger)
    expected_statistic = (abs(b - c) - 1) ** 2 / (b + c)
    assert (result.b, result.c, result.method) == (b, c, "asymptotic")
    assert result.statistic == pytest.approx(expected_statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(sps.chi2.sf(expected_statistic, 1), rel=1e-12)


def test_mcnemar_boundary_24_25():
    assert stats.mcnemar(*mcnemar_rows(14, 10)).method == "exact"
    assert stats.mcnemar(*mcnemar_rows(15, 10)).method == "asymptotic"


def test_mcnemar_forced_method():
    forced_exact = stats.mcnemar(*mcnemar_rows(30, 12), exact=True)
    assert forced_exact.method == "exact"
    assert forced_exact.pvalue == pytest.approx(
        sps.binomtest(12, 42, 0.5).pvalue, rel=1e-10, abs=1e-15
    )
    forced_asymptotic = stats.mcnemar(*mcnemar_rows(6, 2), exact=False)
    assert forced_asymptotic.method == "asymptotic"
    assert forced_asymptotic.pvalue == pytest.approx(sps.chi2.sf(9 / 8, 1), rel=1e-12)


@pytest.mark.parametrize("exact", [None, True, False])
def test_mcnemar_no_discordant_pairs(exact):
    result = stats.mcnemar(*mcnemar_rows(0, 0, both_right=10, both_wrong=3), exact=exact)
    assert tuple(result) == (0.0, 1.0, 0, 0, "exact")


def test_mcnemar_result_unpacks_and_is_frozen():
    result = stats.mcnemar(*mcnemar_rows(8, 3))
    statistic, pvalue, b, c, method = result
    assert (statistic, pvalue, b, c, method) == (
        result.statistic,
        result.pvalue,
        result.b,
        result.c,
        result.method,
    )
    assert (b, c) == (8, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.b = 1  # type: ignore[misc]


def test_mcnemar_with_lists_and_series_and_refuses_string_labels():
    y, champion, challenger = mcnemar_rows(4, 9)
    result = stats.mcnemar(list(y), pd.Series(champion), challenger)
    assert (result.b, result.c) == (4, 9)
    assert result.pvalue == pytest.approx(sps.binomtest(4, 13, 0.5).pvalue, rel=1e-10)
    # issue 10: the gate compares class labels 0/1; strings ("1" never equals 1) are refused
    y, champion, challenger = mcnemar_rows(4, 9, labels=("churn", "stay"))
    with pytest.raises(DataValidationError, match="y_true must hold class labels 0/1"):
        stats.mcnemar(list(y), pd.Series(champion), challenger)


def test_mcnemar_rejects_length_mismatch_and_empty_input():
    with pytest.raises(DataValidationError, match="same length"):
        stats.mcnemar([1, 0, 1], [1, 0], [1, 0, 1])
    with pytest.raises(DataValidationError, match="no rows"):
        stats.mcnemar([], [], [])


# --------------------------------------------------------------------------- Wasserstein-1 and
# PSI significance (the scale/tail rule of issue 10)


@pytest.mark.parametrize(
    ("n", "m"),
    [(1, 1), (1, 9), (5, 7), (7, 5), (13, 91), (100, 1000), (999, 1000), (20_000, 300_000)],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_wasserstein_sorted_is_scipys_distance(n, m, seed):
    rng = np.random.default_rng([seed, n, m])
    a = np.sort(rng.normal(0.0, 1.0, n))
    b = np.sort(rng.standard_t(3, m) * 1.3 + 0.2)
    expected = sps.wasserstein_distance(a, b)
    assert stats.wasserstein_sorted(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert stats.wasserstein_sorted(b, a) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_wasserstein_sorted_with_ties_and_identical_samples(seed):
    rng = np.random.default_rng(seed)
    a = np.sort(rng.integers(0, 5, 1_000).astype(float))
    b = np.sort(rng.integers(0, 7, 3_001).astype(float))
    assert stats.wasserstein_sorted(a, b) == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9)
    assert stats.wasserstein_sorted(a, a.copy()) == 0.0
    # a whole-sample location shift moves W1 by exactly that much
    assert stats.wasserstein_sorted(a, a + 2.5) == pytest.approx(2.5, rel=1e-12)


def test_wasserstein_sorted_rejects_unsorted_nan_and_infinite_input():
    with pytest.raises(DataValidationError, match="sorted ascending"):
        stats.wasserstein_sorted([2.0, 1.0], [1.0])
    with pytest.raises(DataValidationError, match="sorted ascending"):
        stats.wasserstein_sorted([1.0, np.nan], [1.0])
    with pytest.raises(DataValidationError, match="infinite"):
        stats.wasserstein_sorted([1.0, np.inf], [1.0])
    with pytest.raises(DataValidationError, match="empty"):
        stats.wasserstein_sorted([], [1.0])


def test_reference_spread_is_the_larger_of_the_iqr_and_the_std():
    rng = np.random.default_rng(5)
    x = np.sort(rng.normal(0, 2.0, 50_001))
    q1, q3 = np.quantile(x, [0.25, 0.75])
    assert stats.reference_spread(x) == pytest.approx(max((q3 - q1) / 1.349, x.std()), rel=1e-12)
    assert stats.reference_spread(x) == pytest.approx(2.0, rel=0.02)
    zero_inflated = np.sort(np.r_[np.zeros(800), np.arange(1.0, 201.0)])
    assert stats.reference_spread(zero_inflated) == pytest.approx(zero_inflated.std(), rel=1e-12)
    # a small IQR beside a long tail: the standard deviation, not the IQR, is the unit
    tail = np.sort(np.r_[rng.normal(10, 1, 9_000), rng.exponential(200, 1_000)])
    q1, q3 = np.quantile(tail, [0.25, 0.75])
    assert tail.std() > 5 * (q3 - q1) / 1.349
    assert stats.reference_spread(tail) == pytest.approx(tail.std(), rel=1e-12)
    assert stats.reference_spread(np.ones(10)) is None
    with_inf = np.r_[-np.inf, np.linspace(0, 1, 1001), np.inf]
    spread = stats.reference_spread(with_inf)
    assert spread is not None and math.isfinite(spread)


@pytest.mark.parametrize(
    ("shift", "scale", "expected"),
    [(0.25, 1.0, 0.25), (0.5, 1.0, 0.5), (0.0, 1.5, 0.5 * math.sqrt(2 / math.pi))],
)
def test_wasserstein_normalised_reads_in_reference_spreads(shift, scale, expected):
    rng = np.random.default_rng(8)
    ref = np.sort(rng.normal(10.0, 3.0, 20_000))
    cur = np.sort(10.0 + 3.0 * (shift + scale * rng.normal(0, 1, 200_000)))
    value = stats.wasserstein_normalised(ref, cur)
    q1, q3 = np.quantile(ref, [0.25, 0.75])
    assert value == pytest.approx(sps.wasserstein_distance(ref, cur) / ((q3 - q1) / 1.349))
    assert value == pytest.approx(expected, abs=0.02)


def test_wasserstein_normalised_stays_finite_with_infinite_values():
    ref = np.sort(np.random.default_rng(1).normal(0, 1, 5_000))
    cur = np.r_[-np.inf, -np.inf, np.sort(np.random.default_rng(2).normal(0, 1, 996)), np.inf]
    value = stats.wasserstein_normalised(ref, cur)
    assert value is not None and math.isfinite(value)
    # the infinite values count at the band edge: reference range widened by its width
    lo, hi = ref[0], ref[-1]
    band = (lo - (hi - lo), hi + (hi - lo))
    clipped = np.clip(cur, *band)
    spread = stats.reference_spread(ref)
    assert value == pytest.approx(sps.wasserstein_distance(ref, clipped) / spread, rel=1e-9)
    assert stats.wasserstein_normalised(np.ones(5), cur) is None


def _h0_psi_pvalues(n_ref, m, bins, rng, *, missing=0.0, sims=500, **kwargs):
    """PSI p-values of same-distribution pairs binned as the profile bins them: quantile
    edges fitted on the reference itself, missing values as one more bin."""
    out = []
    for _ in range(sims):
        ref = rng.lognormal(0, 1, n_ref)
        cur = rng.lognormal(0, 1, m)
        if missing:
            ref[rng.random(n_ref) < missing] = np.nan
            cur[rng.random(m) < missing] = np.nan
        edges = stats.quantile_edges(ref, bins)
        out.append(
            stats.psi_pvalue(stats.bin_counts(ref, edges), stats.bin_counts(cur, edges), **kwargs)
        )
    return np.array(out)


@pytest.mark.parametrize(
    ("n_ref", "m", "missing"),
    [(20_000, 2_000, 0.0), (50_000, 5_000, 0.03), (5_000, 5_000, 0.0)],
)
def test_psi_pvalue_is_uniform_under_h0_where_the_chi_square_limit_holds(n_ref, m, missing):
    p = _h0_psi_pvalues(n_ref, m, 10, np.random.default_rng([n_ref, m]), missing=missing)
    assert sps.kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p < 0.05) < 0.08


def test_psi_pvalue_is_calibrated_at_small_n_by_simulation():
    """m = 200 with a 2% missing bin: the bin expects 4 values, so the chi-square limit is
    off (an empty missing bin meets the 1e-4 floor) and the p-value is simulated."""
    rng = np.random.default_rng(42)
    p = _h0_psi_pvalues(20_000, 200, 10, rng, missing=0.02, sims=500)
    # simulated (and sequential) p-values are valid, not uniform: P(p <= a) <= a
    for a, slack in ((0.5, 0.06), (0.2, 0.05), (0.05, 0.03), (0.01, 0.015)):
        assert np.mean(p <= a) <= a + slack, a
    # the asymptotic p-value on the same tables would not be: check it is the floor at work
    ref = np.r_[np.full(10, 1960), 400]
    cur = np.r_[np.full(10, 20), 0]  # no missing value in the window: floored to 1e-4
    psi = stats.psi_from_counts(ref, cur)
    limit = sps.chi2.sf(psi * 20_000 * 200 / 20_200, 10)
    assert stats.psi_pvalue(ref, cur) > 2 * limit


def test_psi_pvalue_limit_and_simulation_agree_where_both_hold():
    ref = np.array([3000, 2500, 2000, 1500, 1000])
    cur = np.array([660, 480, 380, 300, 180])
    psi = stats.psi_from_counts(ref, cur)
    n, m = ref.sum(), cur.sum()
    limit = stats.psi_pvalue(ref, cur)
    assert limit == pytest.approx(sps.chi2.sf(psi * n * m / (n + m), 4), rel=1e-12)
    # the same table through the simulation path (force it with a tiny extra cell)
    simulated = stats.psi_pvalue(np.r_[ref, 1], np.r_[cur, 0], n_simulations=4000)
    assert simulated == pytest.approx(limit, abs=0.03)


def test_psi_pvalue_is_deterministic_and_bounded():
    ref, cur = np.array([50, 30, 20, 1]), np.array([5, 3, 2, 0])
    first = stats.psi_pvalue(ref, cur)
    assert first == stats.psi_pvalue(ref, cur)
    assert 1 / (1 + stats.PSI_SIMULATIONS) <= first <= 1.0
    assert stats.psi_pvalue([10, 0], [5, 0]) == 1.0  # one cell in use: nothing to test
    assert stats.psi_pvalue([100, 0], [0, 100]) == 1 / (1 + stats.PSI_SIMULATIONS)
    assert stats.psi_pvalue([1000, 0], [0, 1000]) < 1e-100  # the chi-square limit
    with pytest.raises(DataValidationError, match="same length"):
        stats.psi_pvalue([1, 2], [1, 2, 3])
    with pytest.raises(DataValidationError, match="empty"):
        stats.psi_pvalue([0, 0], [1, 2])
    with pytest.raises(DataValidationError, match="n_simulations"):
        stats.psi_pvalue(ref, cur, n_simulations=0)
