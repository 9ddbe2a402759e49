"""Window summaries merge exactly: the summary of a window cut into 1..8 partitions (empty ones
included) and merged is byte for byte the summary of the whole window, and its report is the
report of detect_drift on the whole frame. Mismatched summaries are refused by name."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelguard.config import load_config
from modelguard.drift.detection import (
    build_reference_profile,
    detect_drift,
    detect_drift_from_summary,
)
from modelguard.drift.summary import SUMMARY_FORMAT, WindowSummary, merge, summarise
from modelguard.exceptions import DataValidationError, ModelguardError, SummaryMismatchError
from tests.world import EXAMPLE_CONFIG

DD = load_config(EXAMPLE_CONFIG).drift_detection
FEATURES = {"x": "numeric", "n": "numeric", "c": "categorical", "k": "categorical"}
EXPLORE = os.environ.get("MODELGUARD_HYPOTHESIS_PROFILE") == "explore"
SETTINGS = settings(
    derandomize=not EXPLORE,
    deadline=None,
    database=None,
    max_examples=1000 if EXPLORE else 80,
    suppress_health_check=[HealthCheck.too_slow],
)


def reference(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "n": rng.poisson(2, n).astype(float),  # ties and a point mass at 0
            "c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]).astype(object),
            "k": rng.choice([1, 2, 3, 4], n).astype(float),
        }
    )


PROFILES = {seed: build_reference_profile(reference(seed), FEATURES, bins=5) for seed in (1, 2)}

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e308, -1e-310]),
    st.floats(-3, 3),
)
CATEGORIES = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "new1", "new2", "missing", ""]))
CODES = st.one_of(st.none(), st.sampled_from([1, 2, 3, 4, 7, 99]))


@st.composite
def frames(draw, max_rows: int = 40, mixed: bool = False):
    n = draw(st.integers(0, max_rows))
    x = draw(st.lists(FLOATS, min_size=n, max_size=n))
    counts = draw(st.lists(st.integers(0, 5) | st.none(), min_size=n, max_size=n))
    cats = draw(st.lists(CATEGORIES, min_size=n, max_size=n))
    codes = draw(st.lists(CODES, min_size=n, max_size=n))
    if mixed:  # strings and integer codes in one column: refused whatever the partitioning
        cats = [c if i % 2 else draw(st.sampled_from([1, 2])) for i, c in enumerate(cats)]
    return pd.DataFrame(
        {
            "x": np.array(x, dtype=np.float64),
            "n": pd.array(counts, dtype="Int64"),
            "c": pd.Series(cats, dtype=object),
            "k": pd.Series([np.nan if v is None else float(v) for v in codes], dtype=np.float64),
        }
    )


@st.composite
def cuts(draw, n: int):
    """1..8 consecutive row slices covering 0..n, empty ones allowed."""
    inner = draw(st.lists(st.integers(0, n), min_size=0, max_size=7))
    bounds = [0, *sorted(inner), n]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def outcome(fn):
    """The report dict, or the modelguard error's type and message."""
    try:
        return fn().to_dict()
    except ModelguardError as exc:
        return type(exc).__name__, str(exc)


def check_partitioned(profile, frame, slices, th=DD) -> None:
    whole = summarise(profile, frame)
    parts = [summarise(profile, frame.iloc[a:b]) for a, b in slices]
    merged = merge(parts)
    assert merged.to_bytes() == whole.to_bytes()
    expected = outcome(lambda: detect_drift(profile, frame, config=th, min_rows=1))
    got = outcome(lambda: detect_drift_from_summary(profile, merged, config=th, min_rows=1))
    assert got == expected
    # and through the file format, as the merge task reads the partitions
    loaded = [WindowSummary.from_bytes(p.to_bytes({"i": i}))[0] for i, p in enumerate(parts)]
    assert merge(loaded).to_bytes() == whole.to_bytes()


@SETTINGS
@given(data=st.data(), seed=st.sampled_from(sorted(PROFILES)))
@example(data=None, seed=1)
def test_merged_partitions_are_the_whole_window(data, seed):
    profile = PROFILES[seed]
    if data is None:  # a pinned case: every value kind at once, 8 parts with empty ones
        frame = pd.DataFrame(
            {
                "x": [np.inf, -0.0, 0.0, np.nan, -np.inf, 2.5, -0.0, 1e308],
                "n": pd.array([0, None, 3, 3, 1, None, 0, 2], dtype="Int64"),
                "c": pd.Series(["a", "new2", None, "new1", "new2", "b", "missing", ""]),
                "k": [1.0, np.nan, 7.0, 2.0, 99.0, 7.0, 3.0, 1.0],
            }
        )
        slices = [(0, 0), (0, 1), (1, 1), (1, 3), (3, 4), (4, 4), (4, 7), (7, 8)]
    else:
        frame = data.draw(frames())
        slices = data.draw(cuts(len(frame)))
    check_partitioned(profile, frame, slices)


@SETTINGS
@given(data=st.data())
def test_numeric_only_windows_with_psi_alone_merge_too(data):
    """Other tests configured (PSI alone, KS alone): the same report either way."""
    profile = PROFILES[2]
    frame = data.draw(frames(max_rows=30))
    slices = data.draw(cuts(len(frame)))
    tests = data.draw(st.sampled_from([("psi",), ("ks",), ("psi", "ks")]))
    from modelguard.config import section_with

    th = section_with(DD, "drift_detection", numeric_tests=list(tests))
    check_partitioned(profile, frame, slices, th)


@SETTINGS
@given(data=st.data())
def test_a_column_mixing_strings_and_codes_is_refused_partitioned_or_not(data):
    profile = PROFILES[1]
    frame = data.draw(frames(mixed=True))
    slices = data.draw(cuts(len(frame)))
    merged = None
    with pytest.raises(DataValidationError):
        detect_drift(profile, frame, config=DD, min_rows=1)
    with pytest.raises(DataValidationError):
        merged = merge([summarise(profile, frame.iloc[a:b]) for a, b in slices])
        detect_drift_from_summary(profile, merged, config=DD, min_rows=1)


@pytest.mark.parametrize("n_parts", [1, 3, 8])
def test_large_windows_take_the_sorted_ks_path_and_merge_exactly(n_parts):
    """Above KS_EXACT_MAX_N values KS runs on the sorted arrays; 8 hourly-like slices of
    30,000 rows give the report of the whole frame, a shifted one included."""
    rng = np.random.default_rng(5)
    ref = reference(7, n=20_000)
    profile = build_reference_profile(ref, FEATURES, bins=10)
    n = 30_000
    frame = pd.DataFrame(
        {
            "x": np.round(rng.normal(0.2, 1.1, n), 2),  # ties across partitions
            "n": rng.poisson(2.3, n).astype(float),
            "c": rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05]).astype(object),
            "k": rng.choice([1, 2, 3, 4, 5], n).astype(float),
        }
    )
    bounds = np.linspace(0, n, n_parts + 1).astype(int)
    check_partitioned(profile, frame, list(zip(bounds[:-1], bounds[1:], strict=True)))
    report = detect_drift(profile, frame, config=DD)
    assert report.features["x"].ks_statistic is not None and report.verdict != "healthy"


# ----------------------------------------------------------------------------- refusals


def small_frame(n: int = 50, seed: int = 3) -> pd.DataFrame:
    return reference(seed, n)


def test_summaries_of_different_profiles_are_refused_by_merge():
    a = summarise(PROFILES[1], small_frame())
    b = summarise(PROFILES[2], small_frame())
    with pytest.raises(SummaryMismatchError, match="partition 1 was taken against profile"):
        merge([a, b])


def test_a_summary_is_judged_only_with_its_own_profile():
    summary = summarise(PROFILES[1], small_frame())
    with pytest.raises(SummaryMismatchError, match="feature 'x' was binned on edges"):
        detect_drift_from_summary(PROFILES[2], summary, config=DD)


def test_same_edges_but_another_profile_is_refused():
    """A profile rebuilt with other concept values but identical edges and categories."""
    import dataclasses

    other = dataclasses.replace(PROFILES[1], n_rows=PROFILES[1].n_rows, target_rate=0.5)
    summary = summarise(other, small_frame())
    with pytest.raises(SummaryMismatchError, match="not this one"):
        detect_drift_from_summary(PROFILES[1], summary, config=DD)


def test_other_features_are_refused():
    profile = build_reference_profile(reference(1), {"x": "numeric", "c": "categorical"}, bins=5)
    summary = summarise(profile, small_frame())
    with pytest.raises(SummaryMismatchError, match="holds features"):
        detect_drift_from_summary(PROFILES[1], summary, config=DD)
    with pytest.raises(SummaryMismatchError, match="with features"):
        merge([summarise(PROFILES[1], small_frame()), summary])
    with pytest.raises(SummaryMismatchError, match="at least one"):
        merge([])


def test_an_empty_partition_is_no_empty_window_but_an_empty_window_is_refused():
    empty = summarise(PROFILES[1], small_frame().iloc[:0])
    assert empty.n_rows == 0
    with pytest.raises(DataValidationError, match="no rows"):
        detect_drift_from_summary(PROFILES[1], merge([empty, empty]), config=DD)
    frame = small_frame()
    frame["x"] = np.nan
    with pytest.raises(DataValidationError, match="'x' has only missing values"):
        detect_drift_from_summary(
            PROFILES[1], merge([summarise(PROFILES[1], frame[:20]), empty]), config=DD, min_rows=1
        )


# ----------------------------------------------------------------------------- the file format


def stored(meta=None) -> bytes:
    frame = small_frame()
    frame.loc[0, "x"] = np.inf
    return summarise(PROFILES[1], frame).to_bytes(meta)


def test_the_file_round_trips_with_its_meta_and_is_deterministic():
    data = stored({"partition": 3, "window": ["a", "b"]})
    summary, meta = WindowSummary.from_bytes(data)
    assert meta == {"partition": 3, "window": ["a", "b"]}
    assert summary.to_bytes(meta) == data == stored(meta)
    assert summary.features["x"].n_pos_inf == 1


def rewrite(data: bytes, *, header=None, arrays=None) -> bytes:
    """The archive with its header changed by ``header(h)`` and arrays by ``arrays(a)``."""
    import io
    import json
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        h = json.loads(zf.read("header.json"))
        a = {
            n.removesuffix(".npy"): np.lib.format.read_array(io.BytesIO(zf.read(n)))
            for n in zf.namelist()
            if n != "header.json"
        }
    if header:
        header(h)
    if arrays:
        arrays(a)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("header.json", json.dumps(h))
        for k, v in a.items():
            out = io.BytesIO()
            np.lib.format.write_array(out, v)
            zf.writestr(f"{k}.npy", out.getvalue())
    return buf.getvalue()


def _set(key, value):
    return lambda h: h.__setitem__(key, value)


def _feature(i, key, value):
    return lambda h: h["features"][i].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(header=_set("format", SUMMARY_FORMAT + 1)), "format 2; this modelguard reads"),
        (dict(header=_set("format", True)), "format True"),
        (dict(header=_set("extra", 1)), "exactly the keys"),
        (dict(header=_set("n_rows", 49)), "holds 50 rows, the summary 49"),
        (dict(header=_set("n_rows", -1)), "'n_rows' must be an integer"),
        (dict(header=_set("profile_key", "abc")), "sha256"),
        (dict(header=_set("features", [])), "non-empty list"),
        (dict(header=_feature(0, "type", "text")), "type 'text'"),
        (dict(header=_feature(0, "edges", [1.0, 0.0])), "strictly increasing"),
        (dict(header=_feature(0, "edges", [0.0])), "do not match its sorted values"),
        (dict(header=_feature(0, "n_pos_inf", 0)), "do not match"),
        (dict(header=_feature(1, "name", "x")), "repeated"),
        (dict(header=_feature(2, "categories", ["a", "a", "b"])), "duplicates"),
        (dict(header=_feature(2, "value_kind", "bytes")), "'value_kind'"),
        (dict(arrays=lambda a: a.__setitem__("finite_0", a["finite_0"][::-1])), "ascending"),
        (dict(arrays=lambda a: a.__setitem__("finite_0", a["finite_0"] * -0.0)), "ascending|-0.0"),
        (dict(arrays=lambda a: a.__setitem__("counts_0", a["counts_0"] + 1)), "do not match"),
        (dict(arrays=lambda a: a.__setitem__("counts_2", a["counts_2"] * 0)), ">= 1"),
        (dict(arrays=lambda a: a.__setitem__("counts_2", a["counts_2"] * 1.0)), "int64"),
        (dict(arrays=lambda a: a.pop("finite_1")), "has no array finite_1"),
        (dict(arrays=lambda a: a.__setitem__("extra", np.zeros(1))), "unknown arrays extra"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused_by_name(change, match):
    with pytest.raises(SummaryMismatchError, match=match):
        WindowSummary.from_bytes(rewrite(stored(), **change), "partition 3 of 8")


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage", "text"])
def test_bytes_that_are_no_archive_are_refused(data):
    with pytest.raises(SummaryMismatchError, match="partition 0"):
        WindowSummary.from_bytes(data, "partition 0")
