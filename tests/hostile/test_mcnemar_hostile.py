"""Hostile inputs to the gate's McNemar test and its callers (issue 10, "The gate's inputs").

``stats.mcnemar`` used to compare with ``==``: a NaN or None label counted as wrong for both
models, probabilities passed as predictions counted as all wrong, and ``'1'`` never equalled
``1``. The rule now: all three arrays hold class labels 0/1 (bool, ints, floats 0.0/1.0);
missing values, probabilities, strings, mixed kinds and other numbers are refused with a
DataValidationError naming the array. Valid inputs are checked against a plain-Python count of
the discordant pairs and scipy's binomial / chi-square tests.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from hypothesis import given
from hypothesis import strategies as st

from modelguard.config import load_config
from modelguard.core import stats
from modelguard.deployment.evaluation import compare
from modelguard.exceptions import DataValidationError
from tests.world import EXAMPLE_CONFIG

DEPLOYMENT = load_config(EXAMPLE_CONFIG).deployment
NAMES = ("y_true", "champion_pred", "challenger_pred")


def naive(y, a, b) -> tuple[int, int, float]:
    """b, c and the p-value, one row at a time."""
    bb = sum(1 for t, x, z in zip(y, a, b, strict=True) if x == t and z != t)
    cc = sum(1 for t, x, z in zip(y, a, b, strict=True) if z == t and x != t)
    n = bb + cc
    if n == 0:
        return bb, cc, 1.0
    if n < 25:
        return bb, cc, float(sps.binomtest(min(bb, cc), n, 0.5).pvalue)
    return bb, cc, float(sps.chi2.sf((abs(bb - cc) - 1) ** 2 / n, 1))


REPRESENTATIONS = {
    "int list": lambda v: [int(x) for x in v],
    "bool list": lambda v: [bool(x) for x in v],
    "float list": lambda v: [float(x) for x in v],
    "int8 array": lambda v: np.asarray(v, dtype=np.int8),
    "uint8 array": lambda v: np.asarray(v, dtype=np.uint8),
    "bool array": lambda v: np.asarray(v, dtype=bool),
    "float32 array": lambda v: np.asarray(v, dtype=np.float32),
    "object numbers": lambda v: np.asarray(
        [int(x) if i % 2 else float(x) for i, x in enumerate(v)], dtype=object
    ),
    "object bools": lambda v: np.asarray([bool(x) for x in v], dtype=object),
    "Series": lambda v: pd.Series(v),
    "Int64": lambda v: pd.array(list(v), dtype="Int64"),
    "boolean": lambda v: pd.array([bool(x) for x in v], dtype="boolean"),
    "-0.0 for 0": lambda v: np.where(np.asarray(v) == 0, -0.0, 1.0),
}


@pytest.mark.parametrize("as_y", REPRESENTATIONS.values(), ids=REPRESENTATIONS.keys())
@pytest.mark.parametrize("as_pred", ["int list", "bool array", "Int64", "object numbers"])
def test_every_representation_of_0_1_labels_gives_the_same_result(as_y, as_pred):
    rng = np.random.default_rng(1)
    y, a, b = (rng.integers(0, 2, 300) for _ in range(3))
    expected = naive(y.tolist(), a.tolist(), b.tolist())
    to = REPRESENTATIONS[as_pred]
    result = stats.mcnemar(as_y(y), to(a), to(b))
    assert (result.b, result.c) == expected[:2]
    assert result.pvalue == pytest.approx(expected[2], rel=1e-9)


@given(
    rows=st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=80),
    kind=st.sampled_from(sorted(REPRESENTATIONS)),
)
def test_discordant_pairs_match_a_plain_count(rows, kind):
    y, a, b = ([int(r[i]) for r in rows] for i in range(3))
    to = REPRESENTATIONS[kind]
    result = stats.mcnemar(to(y), to(a), to(b))
    bb, cc, p = naive(y, a, b)
    assert (result.b, result.c) == (bb, cc)
    assert result.pvalue == pytest.approx(p, rel=1e-9)
    assert 0.0 <= result.pvalue <= 1.0


MISSING = {
    "NaN": math.nan,
    "None": None,
    "pandas NA": pd.NA,
    "NaT": pd.NaT,
}


@pytest.mark.parametrize("which", range(3), ids=NAMES)
@pytest.mark.parametrize("value", MISSING.values(), ids=MISSING.keys())
@pytest.mark.parametrize("count", [1, 5])
def test_missing_labels_or_predictions_are_refused_with_their_count(which, value, count):
    arrays = [np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1], dtype=object) for _ in range(3)]
    arrays[which][:count] = value
    with pytest.raises(DataValidationError, match=rf"{NAMES[which]} has {count} missing value"):
        stats.mcnemar(*arrays)


def test_nan_labels_used_to_count_as_wrong_for_both_models():
    """Issue 10: with ``==`` a NaN label is wrong for both, so it silently drops out."""
    y = np.array([1.0, 0.0, np.nan, np.nan])
    with pytest.raises(DataValidationError, match="y_true has 2 missing"):
        stats.mcnemar(y, [1, 0, 1, 1], [1, 0, 0, 0])
    with pytest.raises(DataValidationError, match="y_true has 1 missing"):
        stats.mcnemar(pd.array([1, 0, None], dtype="Int64"), [1, 0, 1], [1, 0, 1])


@pytest.mark.parametrize("which", [1, 2], ids=NAMES[1:])
@pytest.mark.parametrize("probabilities", [[0.2, 0.9, 0.51, 0.49], [0.999, 0.001, 1.0, 0.0]])
def test_probabilities_passed_as_predictions_are_refused(which, probabilities):
    arrays = [[1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0]]
    arrays[which] = probabilities
    with pytest.raises(DataValidationError, match="probabilities, not class labels") as info:
        stats.mcnemar(*arrays)
    assert NAMES[which] in str(info.value)
    assert "decision threshold" in str(info.value)


BAD_VALUES = {
    "text 1": ["1", "0", "1"],
    "text labels": ["yes", "no", "yes"],
    "numpy strings": np.array(["1", "0", "1"]),
    "string dtype": pd.array(["1", "0", "1"], dtype="string"),
    "1 and '1'": np.array([1, "1", 0], dtype=object),
    "True and '1'": np.array([True, "1", 0], dtype=object),
    "bytes": np.array([b"1", b"0", b"1"], dtype=object),
    "datetimes": pd.date_range("2026-01-01", periods=3).to_numpy(),
}


@pytest.mark.parametrize("which", range(3), ids=NAMES)
@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_strings_and_mixed_kinds_are_refused(which, bad):
    arrays = [[1, 0, 1], [1, 0, 1], [1, 1, 0]]
    arrays[which] = bad
    with pytest.raises(DataValidationError, match=rf"{NAMES[which]} must hold class labels"):
        stats.mcnemar(*arrays)


@pytest.mark.parametrize("which", range(3), ids=NAMES)
@pytest.mark.parametrize("other", [2, -1, 1.5e308, math.inf, -math.inf, 10])
def test_other_numbers_are_refused(which, other):
    arrays = [[1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    arrays[which] = [1.0, other, 0.0]
    with pytest.raises(DataValidationError, match=rf"{NAMES[which]} must hold only the class"):
        stats.mcnemar(*arrays)


@given(
    n=st.integers(1, 40),
    which=st.integers(0, 2),
    position=st.integers(0, 39),
    bad=st.one_of(
        st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
        st.floats(allow_nan=True).filter(lambda x: x not in (0.0, 1.0)),
        st.text(min_size=0, max_size=3),
        st.none(),
        st.integers().filter(lambda x: x not in (0, 1)),
    ),
)
def test_one_bad_value_anywhere_is_found(n, which, position, bad):
    arrays = [np.array([i % 2 for i in range(n)], dtype=object) for _ in range(3)]
    arrays[which][position % n] = bad
    with pytest.raises(DataValidationError) as info:
        stats.mcnemar(*arrays)
    assert NAMES[which] in str(info.value)


def test_shapes_are_checked():
    with pytest.raises(DataValidationError, match="same length"):
        stats.mcnemar([1, 0, 1], [1, 0], [1, 0, 1])
    with pytest.raises(DataValidationError, match="no rows"):
        stats.mcnemar([], [], [])
    with pytest.raises(DataValidationError, match="one-dimensional"):
        stats.mcnemar([[1, 0]], [[1, 0]], [[1, 0]])
    with pytest.raises(DataValidationError, match="one-dimensional"):
        stats.mcnemar(1, 1, 1)


# ----------------------------------------------------------------------------- the gate


class Scores:
    """A model whose P(1) per row is given."""

    classes_ = np.array([0, 1])

    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, X):
        return np.column_stack([1 - self.proba, self.proba])


def holdout(labels) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(len(labels)), "engaged": labels})


def test_the_gate_on_clean_labels_matches_the_plain_count():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 1_000)
    champion = np.where(rng.random(1_000) < 0.7, y, 1 - y)
    challenger = np.where(rng.random(1_000) < 0.8, y, 1 - y)
    result = compare(
        Scores(champion * 0.9 + 0.05),
        Scores(challenger * 0.9 + 0.05),
        holdout(y),
        "engaged",
        config=DEPLOYMENT,
    )
    bb, cc, p = naive(y.tolist(), champion.tolist(), challenger.tolist())
    assert (result.b, result.c) == (bb, cc)
    assert result.pvalue == pytest.approx(p, rel=1e-9)
    assert result.decision == "deploy"


BAD_HOLDOUTS = {
    "NaN labels": ([1.0, 0.0, math.nan] * 200, "200 missing label"),
    "None labels": (np.array([1, 0, None] * 200, dtype=object), "200 missing label"),
    "text labels": (np.array(["1", "0", "1"] * 200, dtype=object), "must hold only 0/1"),
    "probability labels": ([0.3, 0.7, 1.0] * 200, "must hold only 0/1"),
    "label 2": ([2, 0, 1] * 200, "200 of 600 rows"),
}


@pytest.mark.parametrize(("labels", "message"), BAD_HOLDOUTS.values(), ids=BAD_HOLDOUTS.keys())
def test_a_bad_holdout_is_a_clear_error_not_a_verdict(labels, message):
    models = Scores([0.9] * 600), Scores([0.1] * 600)
    with pytest.raises(DataValidationError, match=message):
        compare(*models, holdout(labels), "engaged", config=DEPLOYMENT)
