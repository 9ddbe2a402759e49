"""Hostile input to the scale/tail rule: the Wasserstein distance, the reference spread, PSI's
p-value and detect_drift's new numbers give a correct value or a DataValidationError, never
NaN, infinity or a raw Python error."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import stats as sps

from modelguard.config import load_config
from modelguard.core import stats
from modelguard.drift.detection import build_reference_profile, detect_drift
from modelguard.exceptions import DataValidationError
from tests.world import EXAMPLE_CONFIG

DD = load_config(EXAMPLE_CONFIG).drift_detection

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
extreme = st.one_of(
    finite,
    st.sampled_from([np.inf, -np.inf, 1e308, -1e308, 5e-324, 0.0, -0.0]),
    st.floats(allow_nan=False),
)


@given(st.lists(finite, min_size=1, max_size=60), st.lists(finite, min_size=1, max_size=60))
def test_wasserstein_sorted_is_scipys_on_any_finite_samples(a, b):
    a, b = np.sort(a), np.sort(b)
    expected = sps.wasserstein_distance(a, b)
    assert stats.wasserstein_sorted(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(st.lists(extreme, min_size=1, max_size=40), st.lists(extreme, min_size=1, max_size=40))
# found by exploring: a standard deviation whose square overflows, a tiny IQR beside it
@example(ref=[0.0, 0.0, 0.0, -6.148740234731678e-77, -4.0969414781426397e232], cur=[0.0])
def test_wasserstein_normalised_is_finite_or_none_on_extreme_values(ref, cur):
    value = stats.wasserstein_normalised(np.sort(ref), np.sort(cur))
    assert value is None or (math.isfinite(value) and value >= 0)
    spread = stats.reference_spread(np.sort(ref))
    assert spread is None or (math.isfinite(spread) and spread > 0)


@given(st.lists(finite, min_size=2, max_size=40), st.lists(finite, min_size=1, max_size=40))
@example(ref=[0.0, 5e-324], cur=[0.0])  # found by exploring: a range of one subnormal step
def test_wasserstein_normalised_is_the_plain_distance_inside_the_reference_band(ref, cur):
    ref = np.sort(ref)
    lo, hi = ref[0], ref[-1]
    cur = np.sort(np.clip(cur, lo - (hi - lo), hi + (hi - lo)))
    value = stats.wasserstein_normalised(ref, cur)
    spread = stats.reference_spread(ref)
    if spread is None or hi == lo:
        assert value is None
    else:
        expected = sps.wasserstein_distance(ref, cur) / spread
        assert value == pytest.approx(expected, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize(
    "bad",
    [[np.nan], [2.0, 1.0], [1.0, np.inf], [[1.0, 2.0]], ["a", "b"], []],
    ids=["nan", "unsorted", "inf", "2d", "text", "empty"],
)
def test_wasserstein_sorted_refuses_bad_samples_by_name(bad):
    with pytest.raises(DataValidationError, match="a_sorted"):
        stats.wasserstein_sorted(bad, [1.0])


counts = st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12)


@given(counts, counts)
def test_psi_pvalue_is_a_probability_or_a_named_error(ref, cur):
    try:
        p = stats.psi_pvalue(ref, cur, n_simulations=300)
    except DataValidationError as exc:
        assert "ref_counts" in str(exc) or "sample is empty" in str(exc)
        assert len(ref) != len(cur) or sum(ref) == 0 or sum(cur) == 0
        return
    assert 0.0 <= p <= 1.0  # 0 where the chi-square tail underflows
    assert p == stats.psi_pvalue(ref, cur, n_simulations=300)  # deterministic


@pytest.mark.parametrize(
    "bad",
    [[-1, 2], [np.nan, 1], [np.inf, 1], [1.5, 2.5]],
    ids=["negative", "nan", "inf", "fractional"],
)
def test_psi_pvalue_refuses_bad_counts(bad):
    with pytest.raises(DataValidationError, match="counts"):
        stats.psi_pvalue(bad, [1, 1])


@pytest.fixture(scope="module")
def profile():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(0, 1, 5_000), "y": rng.lognormal(0, 1, 5_000)})
    return build_reference_profile(frame, {"x": "numeric", "y": "numeric"}, bins=DD.psi_bins)


@given(st.lists(extreme | st.just(np.nan), min_size=DD.min_rows, max_size=DD.min_rows + 50))
def test_detect_drift_numbers_stay_finite_with_hostile_current_values(profile, values):
    frame = pd.DataFrame({"x": values, "y": np.linspace(1.0, 3.0, len(values))})
    try:
        report = detect_drift(profile, frame, config=DD)
    except DataValidationError as exc:
        assert "'x'" in str(exc)  # only an all-missing column is refused, by name
        assert all(math.isnan(v) for v in values)
        return
    x = report.features["x"]
    for value in (x.psi, x.psi_pvalue, x.ks_statistic, x.pvalue_adjusted):
        assert value is not None and math.isfinite(value)
    assert x.wasserstein is None or (math.isfinite(x.wasserstein) and x.wasserstein >= 0)
    assert 0 < x.psi_pvalue <= 1
