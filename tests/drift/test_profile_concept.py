"""The feature->target summaries of a profile against independent computations: mutual
information against scikit-learn's ``mutual_info_score`` on the same bins, correlation against
``numpy.corrcoef``, the rate per bin by counting (the bincount that replaced np.add.at must not
change a stored number)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from modelguard.drift.detection import build_reference_profile, mutual_information


@settings(max_examples=80, derandomize=True, deadline=None, database=None)
@given(
    n_bins=st.integers(1, 14),
    n=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.0, 1.0),
)
def test_mutual_information_is_sklearns_and_rates_are_counts(n_bins, n, seed, rate):
    rng = np.random.default_rng(seed)
    bins = rng.integers(0, n_bins, n)
    y = (rng.random(n) < rate).astype(np.float64)
    mi, rates = mutual_information(bins, n_bins, y)
    assert mi == pytest.approx(mutual_info_score(bins, y), rel=1e-9, abs=1e-12)
    assert len(rates) == n_bins
    for b in range(n_bins):
        in_bin = y[bins == b]
        assert rates[b] == (None if in_bin.size == 0 else pytest.approx(in_bin.mean(), abs=0))


def test_profile_concept_numbers_match_independent_ones():
    rng = np.random.default_rng(7)
    n = 5_000
    size = rng.normal(10, 2, n)
    size[rng.random(n) < 0.05] = np.nan
    plan = rng.choice(["basic", "pro", "team"], n)
    engaged = (rng.random(n) < 1 / (1 + np.exp(-(np.nan_to_num(size, nan=10) - 10)))).astype(int)
    frame = pd.DataFrame({"size": size, "plan": plan, "engaged": engaged})
    profile = build_reference_profile(
        frame, {"size": "numeric", "plan": "categorical"}, target="engaged", bins=10
    )
    num = profile.features["size"]
    edges = num.edges
    idx = np.where(np.isnan(size), edges.size + 1, np.searchsorted(edges, size, side="left"))
    assert num.concept["mutual_information"] == pytest.approx(
        mutual_info_score(idx, engaged), rel=1e-9
    )
    ok = ~np.isnan(size)
    assert num.concept["correlation"] == pytest.approx(
        np.corrcoef(size[ok], engaged[ok])[0, 1], rel=1e-9
    )
    assert num.concept["correlation"] > 0.3  # the generator ties engagement to size
    cat = profile.features["plan"]
    codes = pd.Categorical(plan, categories=list(cat.categories)).codes
    assert cat.concept["mutual_information"] == pytest.approx(
        mutual_info_score(codes, engaged), rel=1e-9, abs=1e-12
    )
    for i, name in enumerate(cat.categories):
        assert cat.concept["target_rate_by_bin"][i] == pytest.approx(engaged[plan == name].mean())
