"""Hostile stored profiles (issue 10, "Stored state"): ``ReferenceProfile.from_stored`` used to
check only the format number, so a tampered or truncated profile gave KeyError, broadcast or
division errors later. It now validates the JSON and the npz arrays against the schema; every
case ends in a ProfileError naming the feature and the key, or in a profile identical to the
one stored (and usable: drift runs on it without a raw error).
"""

from __future__ import annotations

import copy
import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelguard.config import load_config
from modelguard.drift.detection import ReferenceProfile, build_reference_profile, detect_drift
from modelguard.exceptions import ModelguardError, ProfileError
from modelguard.labels.concept import detect_concept_drift
from tests.world import EXAMPLE_CONFIG

DD = load_config(EXAMPLE_CONFIG).drift_detection
FEATURES = {"size": "numeric", "opens": "numeric", "plan": "categorical"}


def frame_of(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.lognormal(3, 1, n),
            "opens": np.where(rng.random(n) < 0.5, 0.0, rng.poisson(3, n)),
            "plan": rng.choice(["basic", "pro", "team", None], n),
            "engaged": (rng.random(n) < 0.3).astype(int),
        }
    )
    frame.loc[rng.random(n) < 0.05, "size"] = np.nan
    return frame


@pytest.fixture(scope="module")
def stored() -> tuple[dict, bytes]:
    profile = build_reference_profile(frame_of(2_000, 1), FEATURES, target="engaged")
    return json.loads(json.dumps(profile.to_json(), allow_nan=False)), profile.arrays_bytes()


def same(a: ReferenceProfile, b: ReferenceProfile) -> bool:
    if a.to_json() != b.to_json():
        return False
    for name, f in a.features.items():
        if f.kind == "numeric" and not np.array_equal(
            f.sorted_sample, b.features[name].sorted_sample
        ):
            return False
    return True


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_the_stored_profile_loads_identically(stored):
    data, arrays = stored
    loaded = ReferenceProfile.from_stored(copy.deepcopy(data), arrays)
    assert loaded.to_json() == data
    again = ReferenceProfile.from_stored(loaded.to_json(), loaded.arrays_bytes())
    assert same(loaded, again)


# ----------------------------------------------------------------------------- JSON mutations


def _set(path, value):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(path):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


S = ("features", "size")
P = ("features", "plan")
C = ("features", "size", "concept")

MUTATIONS = {
    # top level
    "format missing": (_drop(("format",)), "format None"),
    "format 2": (_set(("format",), 2), "format 2"),
    "format True": (_set(("format",), True), "format True"),
    "format '1'": (_set(("format",), "1"), "format '1'"),
    "n_rows missing": (_drop(("n_rows",)), "lacks key\\(s\\) 'n_rows'"),
    "unknown key": (_set(("calibration",), {}), "unknown key\\(s\\) 'calibration'"),
    "n_rows 0": (_set(("n_rows",), 0), "'n_rows' must be an integer in \\[1,"),
    "n_rows float": (_set(("n_rows",), 2000.0), "'n_rows' must be an integer"),
    "n_rows other": (_set(("n_rows",), 1999), "but the profile has 1999 rows"),
    "bins -1": (_set(("bins",), -1), "'bins' must be an integer in \\[1,"),
    "bins 2": (_set(("bins",), 2), "at most bins - 1 = 1"),
    "bins text": (_set(("bins",), "10"), "'bins' must be an integer"),
    "target number": (_set(("target",), 3), "'target' must be a column name"),
    "target empty": (_set(("target",), ""), "'target' must be a column name"),
    "target_rate 1.98": (
        _set(("target_rate",), 1.98),
        r"'target_rate' must be a finite number in \[0, 1\]",
    ),
    "target_rate NaN": (_set(("target_rate",), math.nan), "'target_rate' must be a finite"),
    "target_rate None": (_set(("target_rate",), None), "'target_rate' must be a finite"),
    "target_rate text": (_set(("target_rate",), "0.3"), "'target_rate' must be a finite"),
    "target None with rate": (_set(("target",), None), "'target_rate' must be null"),
    "features empty": (_set(("features",), {}), "'features' must be a non-empty dict"),
    "features list": (_set(("features",), []), "'features' must be a non-empty dict"),
    # a feature
    "feature not a dict": (_set(S, [1, 2]), "feature 'size' must be a dict"),
    "type unknown": (_set((*S, "type"), "ordinal"), "feature 'size' key 'type'"),
    "type swapped": (_set((*S, "type"), "categorical"), "feature 'size' lacks key"),
    "counts missing": (_drop((*S, "counts")), "feature 'size' lacks key\\(s\\) 'counts'"),
    "extra feature key": (_set((*S, "median"), 1.0), "feature 'size' has unknown key"),
    "counts truncated": (lambda d: d["features"]["size"]["counts"].pop(), "'counts' has"),
    "counts negative": (_set((*S, "counts", 0), -5), "'counts' entry must be an integer in \\[0,"),
    "counts float": (_set((*S, "counts", 0), 1.5), "'counts' entry must be an integer"),
    "counts bool": (_set((*S, "counts", 0), True), "'counts' entry must be an integer"),
    "counts huge": (_set((*S, "counts", 0), 10**30), "'counts' entry must be an integer in"),
    "counts not a list": (_set((*S, "counts"), 5), "'counts' must be a list"),
    "counts off by one": (
        lambda d: d["features"]["size"]["counts"].__setitem__(
            1, d["features"]["size"]["counts"][1] + 1
        ),
        "'counts' sums to",
    ),
    "n_missing over": (_set((*S, "n_missing"), 2000), "'n_missing' is 2000 of 2000 rows"),
    "n_missing negative": (_set((*S, "n_missing"), -1), "'n_missing' must be an integer in \\[0,"),
    "n_missing mismatch": (_set((*S, "n_missing"), 0), "with n_missing 0"),
    "feature n_rows text": (_set((*S, "n_rows"), "2000"), "feature 'size' key 'n_rows'"),
    "edges unsorted": (lambda d: d["features"]["size"]["edges"].reverse(), "strictly increasing"),
    "edges duplicate": (
        lambda d: d["features"]["size"]["edges"].__setitem__(1, d["features"]["size"]["edges"][0]),
        "strictly increasing",
    ),
    "edges null": (_set((*S, "edges", 0), None), "'edges' entry must be a finite number"),
    "edges inf": (_set((*S, "edges", 2), math.inf), "'edges' entry must be a finite number"),
    "edges NaN": (_set((*S, "edges", 2), math.nan), "'edges' entry must be a finite number"),
    "edges text": (_set((*S, "edges", 2), "3.0"), "'edges' entry must be a finite number"),
    "edges truncated": (lambda d: d["features"]["size"]["edges"].pop(), "'counts' has"),
    "edges beyond sample": (_set((*S, "edges", -1), 1e300), "outside the sample"),
    "mean text": (_set((*S, "mean"), "x"), "feature 'size' key 'mean'"),
    "mean inf": (_set((*S, "mean"), math.inf), "feature 'size' key 'mean'"),
    "std negative": (_set((*S, "std"), -1.0), "feature 'size' key 'std'"),
    "sample_size 0": (_set((*S, "sample_size"), 0), "'sample_size' must be an integer in \\[1,"),
    "sample_size wrong": (_set((*S, "sample_size"), 5), "sample_size 5"),
    "sample_size over": (_set((*S, "sample_size"), 10**6), "more than its"),
    "categories duplicate": (_set((*P, "categories", 1), "basic"), "'categories' holds duplicates"),
    "categories number": (
        _set((*P, "categories", 0), 1),
        "'categories' must be a non-empty list of strings",
    ),
    "categories empty": (_set((*P, "categories"), []), "'categories' must be a non-empty"),
    "categories truncated": (lambda d: d["features"]["plan"]["categories"].pop(), "'counts' has"),
    "categories text": (_set((*P, "categories"), "basic"), "'categories' must be a list"),
    # the concept
    "concept missing": (_drop((*S, "concept")), "lacks key\\(s\\) 'concept'"),
    "concept list": (_set(C, []), "key 'concept' must be a dict"),
    "concept empty with target": (_set(C, {}), "key 'concept' lacks key"),
    "concept extra": (_set((*C, "lift"), 1.0), "unknown key\\(s\\) 'lift'"),
    "MI NaN": (_set((*C, "mutual_information"), math.nan), "'mutual_information'"),
    "MI negative": (_set((*C, "mutual_information"), -0.5), "'mutual_information'"),
    "correlation 2": (_set((*C, "correlation"), 2.0), "'correlation'"),
    "rates truncated": (
        lambda d: d["features"]["size"]["concept"]["target_rate_by_bin"].pop(),
        "'target_rate_by_bin' has",
    ),
    "rate 1.5": (_set((*C, "target_rate_by_bin", 0), 1.5), "'target_rate_by_bin' entry"),
    "rate text": (_set((*C, "target_rate_by_bin", 0), "0.2"), "'target_rate_by_bin' entry"),
    "rates not a list": (
        _set((*C, "target_rate_by_bin"), 0.2),
        "'target_rate_by_bin' must be a list",
    ),
}


@pytest.mark.parametrize(("mutate", "message"), MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_tampered_profile_is_a_profile_error_naming_the_key(stored, mutate, message):
    data, arrays = stored
    data = copy.deepcopy(data)
    mutate(data)
    with pytest.raises(ProfileError, match=message):
        ReferenceProfile.from_stored(data, arrays)


def test_a_profile_without_target_must_have_empty_concepts(stored):
    data, arrays = stored
    data = copy.deepcopy(data)
    data["target"] = data["target_rate"] = None
    with pytest.raises(ProfileError, match="key 'concept' must be empty"):
        ReferenceProfile.from_stored(data, arrays)
    for entry in data["features"].values():
        entry["concept"] = {}
    assert ReferenceProfile.from_stored(data, arrays).target is None


@pytest.mark.parametrize("data", [None, [], "profile", 1, b"{}"])
def test_a_stored_profile_that_is_not_a_dict(data):
    with pytest.raises(ProfileError, match="must be a dict"):
        ReferenceProfile.from_stored(data, b"")


# ----------------------------------------------------------------------------- npz mutations


def _arrays(stored, **changes) -> bytes:
    data, arrays = stored
    with np.load(io.BytesIO(arrays)) as z:
        current = {k: z[k] for k in z.files}
    for key, value in changes.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    return npz(**current)


def _sample(stored):
    data, arrays = stored
    with np.load(io.BytesIO(arrays)) as z:
        return z["sample__size"]


NPZ_CASES = {
    "no arrays at all": (lambda s: b"", "no stored sample for 'size'"),
    "None": (lambda s: None, "no stored sample for 'size'"),
    "random bytes": (lambda s: bytes(range(256)) * 4, "not a readable npz archive"),
    "truncated": (lambda s: s[1][: len(s[1]) // 2], "not a readable npz archive"),
    "one byte flipped": (
        lambda s: s[1][:200] + bytes([s[1][200] ^ 0xFF]) + s[1][201:],
        "not a readable npz archive|stored sample",
    ),
    "empty zip": (lambda s: _empty_zip(), "no stored sample"),
    "a sample dropped": (lambda s: _arrays(s, sample__size=None), "no stored sample for 'size'"),
    "an unknown array": (lambda s: _arrays(s, weights=np.ones(3)), "hold 'weights'"),
    "a sample for a categorical": (
        lambda s: _arrays(s, sample__plan=np.ones(3)),
        "which are not numeric features",
    ),
    "object array (pickle)": (
        lambda s: _arrays(s, sample__size=np.array([1.0, "x"], dtype=object)),
        "not a readable npz archive",
    ),
    "int sample": (
        lambda s: _arrays(s, sample__size=np.arange(_sample(s).size)),
        "1-D float64 array",
    ),
    "2-D sample": (
        lambda s: _arrays(s, sample__size=_sample(s).reshape(1, -1)),
        "1-D float64 array",
    ),
    "short sample": (lambda s: _arrays(s, sample__size=_sample(s)[:-1]), "sample_size"),
    "unsorted sample": (
        lambda s: _arrays(s, sample__size=_sample(s)[::-1].copy()),
        "finite and sorted",
    ),
    "NaN in sample": (
        lambda s: _arrays(s, sample__size=np.append(_sample(s)[:-1], np.nan)),
        "finite and sorted",
    ),
    "inf in sample": (
        lambda s: _arrays(s, sample__size=np.append(_sample(s)[:-1], np.inf)),
        "finite and sorted",
    ),
    "not bytes": (lambda s: "arrays", "must be bytes"),
}


def _empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w"):
        pass
    return buf.getvalue()


@pytest.mark.parametrize(("make", "message"), NPZ_CASES.values(), ids=NPZ_CASES.keys())
def test_corrupt_arrays_are_a_profile_error(stored, make, message):
    data, _ = stored
    with pytest.raises(ProfileError, match=message):
        ReferenceProfile.from_stored(copy.deepcopy(data), make(stored))


@settings(max_examples=200)
@given(position=st.integers(0, 10**6), value=st.integers(0, 255))
def test_any_byte_of_the_arrays_changed_is_an_error_or_the_same_profile(stored, position, value):
    data, arrays = stored
    position %= len(arrays)
    damaged = arrays[:position] + bytes([value]) + arrays[position + 1 :]
    try:
        loaded = ReferenceProfile.from_stored(copy.deepcopy(data), damaged)
    except ProfileError:
        return
    original = ReferenceProfile.from_stored(copy.deepcopy(data), arrays)
    assert same(loaded, original)


# ----------------------------------------------------------------------------- random mutations

HOSTILE_VALUES = [
    None,
    -1,
    0,
    1,
    True,
    "x",
    "",
    [],
    {},
    [1, 2],
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -0.0,
    0.5,
    10**20,
    [None],
    {"a": 1},
]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@settings(max_examples=300)
@given(data=st.data())
def test_random_mutations_end_in_a_profile_error_or_a_usable_profile(stored, data):
    original, arrays = stored
    mutated = copy.deepcopy(original)
    paths = [p for p in _paths(mutated) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = mutated
        try:
            for key in path[:-1]:
                target = target[key]
            action = data.draw(st.sampled_from(["set", "drop", "truncate", "negate"]))
            if action == "set":
                target[path[-1]] = data.draw(st.sampled_from(HOSTILE_VALUES))
            elif action == "drop":
                del target[path[-1]]
            elif action == "truncate" and isinstance(target[path[-1]], list):
                target[path[-1]] = target[path[-1]][: data.draw(st.integers(0, 3))]
            elif action == "negate" and isinstance(target[path[-1]], int | float):
                target[path[-1]] = -target[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    try:
        profile = ReferenceProfile.from_stored(mutated, arrays)
    except ProfileError:
        return
    # it loaded: every invariant the checks need holds, so drift runs (or refuses cleanly)
    frame = frame_of(500, 2)
    try:
        report = detect_drift(profile, frame, config=DD)
        json.dumps(report.to_dict(), allow_nan=False)
        if profile.target is not None:
            detect_concept_drift(profile, frame, "engaged", config=DD)
    except ModelguardError:
        pass


# ----------------------------------------------------------------------------- round trip


@st.composite
def frames(draw):
    n = draw(st.integers(1, 60))
    number = st.one_of(
        st.floats(allow_nan=True, allow_infinity=False, width=64),
        st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 1.0]),
    )
    size = draw(st.lists(number, min_size=n, max_size=n))
    if all(math.isnan(v) for v in size):
        size[0] = 0.0
    texts = draw(
        st.lists(
            st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["missing", "new"])),
            min_size=n,
            max_size=n,
        )
    )
    if all(t is None for t in texts):
        texts[0] = "a"
    codes = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    target = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "size": size,
            "text": pd.Series(texts, dtype=object),
            "code": codes,
            "engaged": target,
        }
    )


@given(
    frame=frames(), with_target=st.booleans(), bins=st.integers(1, 12), sample=st.integers(1, 80)
)
def test_round_trip_through_json_and_npz_is_identical(frame, with_target, bins, sample):
    features = {"size": "numeric", "text": "categorical", "code": "categorical"}
    profile = build_reference_profile(
        frame, features, target="engaged" if with_target else None, bins=bins, sample_size=sample
    )
    data = json.loads(json.dumps(profile.to_json(), allow_nan=False))
    loaded = ReferenceProfile.from_stored(data, profile.arrays_bytes())
    assert same(loaded, profile)
    assert ReferenceProfile.from_stored(profile.to_json(), profile.arrays_bytes()).to_json() == (
        profile.to_json()
    )


@pytest.mark.parametrize("sample", [1, 2, 3])
@pytest.mark.parametrize("bins", [1, 2, 10])
def test_round_trip_with_tiny_samples(sample, bins):
    """A sample of one value keeps only the minimum (found by Hypothesis: the edge check must
    not demand the maximum then)."""
    frame = pd.DataFrame(
        {
            "size": [0.0, 0.0, 0.0, -1.0, 5.0],
            "text": ["a", None, None, "b", "a"],
            "code": [0, 0, 0, 1, 2],
            "engaged": [0, 1, 0, 1, 0],
        }
    )
    features = {"size": "numeric", "text": "categorical", "code": "categorical"}
    profile = build_reference_profile(frame, features, bins=bins, sample_size=sample)
    loaded = ReferenceProfile.from_stored(profile.to_json(), profile.arrays_bytes())
    assert same(loaded, profile)
