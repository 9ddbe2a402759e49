"""The functions that replaced scipy.stats in the hot path give scipy.stats' numbers.

``modelguard.core.stats`` and ``modelguard.core.scoring`` import only ``scipy.special`` (import
cost: tests/test_import_cost.py); each replacement is checked here against the scipy.stats
function it stands for, on many inputs and every edge case, to 1e-12 relative (in practice
they are equal bit for bit: the same special functions, the same arithmetic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as sps

from modelguard.core import scoring, stats
from modelguard.labels import estimation

RTOL = 1e-12


def same(actual, expected) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert np.array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0.0, equal_nan=True)


KS_POINTS = np.concatenate(
    (
        [0.0, -0.0, -1.0, 1e-300, 1e-12, 1e-3, 0.04, 0.2, 0.5, 0.8275735551899077, 1.0],
        np.linspace(0.01, 8.0, 4001),
        [10.0, 30.0, 1e3, math.inf, -math.inf, math.nan],
    )
)


def test_kolmogorov_sf_is_kstwobign_sf():
    same([stats.kolmogorov_sf(x) for x in KS_POINTS], sps.kstwobign.sf(KS_POINTS))


@pytest.mark.parametrize("seed", range(5))
def test_ks_pvalue_is_the_kstwobign_limit_it_was(seed):
    rng = np.random.default_rng(seed)
    for _ in range(400):
        n, m = (int(v) for v in rng.integers(1, 2_000_000, 2))
        d = float(rng.choice([0.0, 1.0, rng.random(), rng.random() * 1e-3]))
        expected = min(1.0, max(0.0, float(sps.kstwobign.sf(d * math.sqrt(n * m / (n + m))))))
        same(stats.ks_pvalue(d, n, m), expected)


CHI2_X = np.concatenate(
    (
        [0.0, -0.0, -3.0, 1e-300, 1e-10, 0.5, 1.0, 3.841458820694124],
        np.geomspace(1e-6, 5e3, 600),
        [1e5, math.inf, -math.inf, math.nan],
    )
)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 9, 12, 20, 49, 99, 250, 1000, 0.5, 2.5])
def test_chi2_sf_is_scipy_chi2_sf(df):
    same([stats.chi2_sf(x, df) for x in CHI2_X], sps.chi2.sf(CHI2_X, df))


@pytest.mark.parametrize("df", [0, -1, math.nan])
def test_chi2_sf_of_a_bad_df_is_nan_like_scipy(df):
    assert math.isnan(stats.chi2_sf(2.0, df))
    assert math.isnan(float(sps.chi2.sf(2.0, df)))


@pytest.mark.parametrize("seed", range(20))
def test_chi2_from_counts_is_chi2_contingency(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 15))
    table = rng.integers(1, 400, (2, k)).astype(float)
    statistic, pvalue, dof = stats.chi2_from_counts(table[0], table[1])
    expected = sps.chi2_contingency(table)
    assert dof == expected.dof
    same(statistic, expected.statistic)
    same(pvalue, expected.pvalue)
    assert pvalue == float(sps.chi2.sf(statistic, dof))


@pytest.mark.parametrize("seed", range(10))
def test_psi_pvalue_asymptotic_path_is_scipy_chi2(seed):
    rng = np.random.default_rng(seed)
    ref = rng.integers(5_000, 20_000, 10).astype(float)
    cur = rng.integers(5_000, 20_000, 10).astype(float)
    n, m = ref.sum(), cur.sum()
    statistic = stats.psi_from_counts(ref, cur) * n * m / (n + m)
    expected = float(min(1.0, max(0.0, sps.chi2.sf(statistic, ref.size - 1))))
    assert stats.psi_pvalue(ref, cur) == expected


def test_mcnemar_asymptotic_is_scipy_chi2_and_exact_is_scipy_binom():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 3000)
    a = np.where(rng.random(3000) < 0.8, y, 1 - y)
    b = np.where(rng.random(3000) < 0.75, y, 1 - y)
    result = stats.mcnemar(y, a, b)
    assert result.method == "asymptotic"
    assert result.pvalue == float(sps.chi2.sf(result.statistic, 1))
    small = stats.mcnemar(y[:40], a[:40], b[:40], exact=True)
    k, n = min(small.b, small.c), small.b + small.c
    assert small.pvalue == min(1.0, 2.0 * float(sps.binom.cdf(k, n, 0.5)))


def bh_inputs():
    rng = np.random.default_rng(11)
    yield np.array([])
    yield np.array([0.3])
    yield np.array([0.0, 1.0])
    yield np.array([0.01, 0.01, 0.01])
    yield np.array([1.0, 1.0, 0.0, 0.0, 0.5])
    yield np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459])
    for size in (2, 3, 5, 13, 26, 100, 1000):
        for _ in range(20):
            p = rng.random(size)
            if rng.random() < 0.5:  # ties and exact 0 / 1
                p = np.round(p, 1)
            if rng.random() < 0.3:
                p = p**8
            yield p


def test_benjamini_hochberg_is_false_discovery_control():
    for p in bh_inputs():
        expected = sps.false_discovery_control(p, method="bh") if p.size else np.empty(0)
        same(stats.benjamini_hochberg(p), expected)


def rank_inputs():
    rng = np.random.default_rng(5)
    yield np.array([])
    yield np.array([0.7])
    yield np.array([0.5, 0.5, 0.5, 0.5])
    yield np.array([3, 2, 1, 2, 2, 2, 1])
    yield np.array([0.2, np.nan, 0.1])
    yield np.array([np.inf, -np.inf, 0.0, -0.0, 1.0])
    for size in (2, 3, 10, 101, 1440, 20_000):
        yield rng.random(size)
        yield np.round(rng.random(size), 2)  # many ties
        yield rng.integers(0, 5, size)
        yield np.round(rng.normal(size=size), 1).astype(np.float32)


def test_average_ranks_are_rankdata():
    for values in rank_inputs():
        same(stats.average_ranks(values), sps.rankdata(values))


@pytest.mark.parametrize("seed", range(10))
def test_roc_auc_is_the_mann_whitney_form_on_scipy_ranks(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    y = (rng.random(n) < 0.3).astype(int)
    proba = np.clip(np.round(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.2, n), 2), 0.0, 1.0)
    positive = y == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    ranks = sps.rankdata(proba)
    expected = (float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    assert scoring._roc_auc(positive, proba, n_pos, n_neg) == expected


@pytest.mark.parametrize("method", ["isotonic", "histogram"])
def test_the_estimate_is_the_same_with_scipys_rankdata(method, monkeypatch):
    rng = np.random.default_rng(8)
    y = (rng.random(3000) < 0.3).astype(int)
    proba = np.clip(np.round(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.2, 3000), 2), 0.0, 1.0)
    calibration = estimation.fit_calibration(proba[:1500], y[:1500], method=method)
    window = proba[1500:]
    ours = estimation.estimate_performance(window, calibration, threshold=0.5, seed=4)
    monkeypatch.setattr(estimation, "average_ranks", sps.rankdata)
    before = estimation.estimate_performance(window, calibration, threshold=0.5, seed=4)
    assert ours.to_dict() == before.to_dict()
