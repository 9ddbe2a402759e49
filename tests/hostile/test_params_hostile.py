"""Hostile run conf / DAG params, through the functions the operators call with the task's
context (no Airflow run): every case gives the value it should (checked independently) or a
modelguard error that names the param and what is allowed."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from modelguard.config import load_config
from modelguard.drift.detection import resolve_thresholds
from modelguard.exceptions import ConfigError, DataValidationError, ModelguardError
from modelguard.operators.common import (
    as_of_from_context,
    threshold_overrides,
    trailing_window_from_context,
    window_from_context,
)
from modelguard.operators.conf import bad_conf_values, refuse_unknown_conf, unknown_conf_keys
from modelguard.operators.report import period_from_context
from tests.world import EXAMPLE_CONFIG

CONFIG = load_config(EXAMPLE_CONFIG)
DD = CONFIG.drift_detection
INTERVAL = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC))


def _context(params=None, interval=INTERVAL, **extra):
    return {
        "params": params or {},
        "data_interval_start": interval[0] if interval else None,
        "data_interval_end": interval[1] if interval else None,
        **extra,
    }


def _thresholds(params):
    """What DriftDetectionOperator does with a run's params."""
    return resolve_thresholds(DD, **threshold_overrides(_context(params)))


# ------------------------------------------------------------------------ threshold params

THRESHOLD_RANGES = {
    "psi_warning": (0, math.inf, True, True),
    "psi_critical": (0, math.inf, True, True),
    "ks_significance": (0, 1, True, True),
    "min_rows": (1, 2**63 - 1, False, False),
}


def _expected_threshold(name, value):
    """The value a threshold param must give, or None when it must be refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if abs(value) > 1.7976931348623157e308:
        return None  # an integer beyond every float
    lo, hi, open_lo, open_hi = THRESHOLD_RANGES[name]
    if name == "min_rows":
        if value != int(value):
            return None
        value = int(value)
    if (value <= lo) if open_lo else (value < lo):
        return None
    if (value >= hi) if open_hi else (value > hi):
        return None
    if name == "psi_warning" and value >= DD.psi_critical:
        return None
    if name == "psi_critical" and DD.psi_warning >= value:
        return None
    return float(value) if name != "min_rows" else value


def _check_threshold(name, value):
    expected = _expected_threshold(name, value)
    try:
        got = getattr(_thresholds({name: value}), name)
    except ConfigError as exc:
        assert expected is None, (name, value, exc)
        assert f"drift_detection.{name}" in str(exc), str(exc)
        return
    assert expected is not None, (name, value, "accepted but must be refused")
    assert got == expected and type(got) is type(expected), (name, value, got)


HOSTILE = [
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
    0,
    0.0,
    1,
    0.5,
    0.2,
    0.3,
    1.0,
    1.5,
    -1,
    10**400,
    2**63,
    1e300,
    True,
    False,
    "0.3",
    "nan",
    "Infinity",
    "",
    [0.3],
    {"v": 0.3},
]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("name", list(THRESHOLD_RANGES))
def test_every_threshold_param_gives_its_value_or_names_itself(name, value):
    _check_threshold(name, value)


@given(
    name=st.sampled_from(list(THRESHOLD_RANGES)),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=0, max_value=2),
        st.integers(min_value=-5, max_value=10**6),
        st.booleans(),
        st.text(max_size=5),
    ),
)
def test_random_threshold_params(name, value):
    _check_threshold(name, value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"psi_warning": 0.3}, "psi_warning: 0.3 must be below drift_detection.psi_critical"),
        ({"psi_warning": 0.2, "psi_critical": 0.2}, "must be below"),
        ({"psi_warning": 0.5, "psi_critical": 0.4}, "must be below"),
        ({"psi_critical": 0.05}, "must be below drift_detection.psi_critical (0.05)"),
    ],
)
def test_overrides_that_break_a_cross_field_rule(params, message):
    with pytest.raises(ConfigError) as info:
        _thresholds(params)
    assert message in str(info.value)


def test_overrides_that_fit_together_load_together():
    th = _thresholds({"psi_warning": 0.3, "psi_critical": 0.5, "ks_significance": 0.01})
    assert (th.psi_warning, th.psi_critical, th.ks_significance) == (0.3, 0.5, 0.01)
    assert _thresholds({"psi_critical": None}).psi_critical == DD.psi_critical  # None = config


# ------------------------------------------------------------------------------ the window


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            "2026-09-01T00:00:00",
            "2026-09-02T00:00:00",
            (datetime(2026, 9, 1), datetime(2026, 9, 2)),
        ),
        (
            "2026-09-01T00:00:00Z",
            "2026-09-02T00:00:00Z",
            (datetime(2026, 9, 1), datetime(2026, 9, 2)),
        ),
        (
            "2026-09-01T02:00:00+02:00",
            "2026-09-01T20:00:00-04:00",
            (datetime(2026, 9, 1), datetime(2026, 9, 2)),
        ),
        ("2026-09-01", "2026-09-02", (datetime(2026, 9, 1), datetime(2026, 9, 2))),
        (
            " 2026-09-01T00:00 ",
            "2026-09-01T00:00:01",
            (datetime(2026, 9, 1), datetime(2026, 9, 1, 0, 0, 1)),
        ),
        (
            datetime(2026, 9, 1, 2, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 9, 2),
            (datetime(2026, 9, 1), datetime(2026, 9, 2)),
        ),
        (
            "2025-09-01T00:00:00",
            "2026-09-02T00:00:00",
            (datetime(2025, 9, 1), datetime(2026, 9, 2)),
        ),
    ],
    ids=repr,
)
def test_a_manual_window_is_naive_utc(start, end, expected):
    """No offset = UTC; an offset is converted; the window is exactly what was asked for."""
    window = window_from_context(_context({"window_start": start, "window_end": end}), 24)
    assert (window.start, window.end) == expected
    assert window.start.tzinfo is None and window.end.tzinfo is None


BAD_TIMES = [
    "2026-13-01",
    "2026-02-30T00:00",
    "2026-09-01T24:00",
    "2026-09-01T00:60",
    "yesterday",
    "2026/09/01",
    "0001-01-01T00:00:00",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:00:00-05:00",
    "1899-12-31T23:59:59",
    "3000-01-01",
    1788220800,
    1.5,
    True,
    ["2026-09-01"],
    {"t": "2026-09-01"},
]


@pytest.mark.parametrize("bad", BAD_TIMES, ids=repr)
@pytest.mark.parametrize("which", ["window_start", "window_end"])
def test_a_bad_window_time_names_the_param(which, bad):
    params = {"window_start": "2026-09-01T00:00:00", "window_end": "2026-09-02T00:00:00"}
    params[which] = bad
    with pytest.raises(DataValidationError) as info:
        window_from_context(_context(params), 24)
    assert f"param {which}" in str(info.value) and "2026-09-01" in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-09-02", "2026-09-01", "must be before window_end"),
        ("2026-09-01", "2026-09-01", "must be before window_end"),
        ("2026-09-01T02:00+02:00", "2026-09-01T00:00Z", "must be before window_end"),
        ("2026-09-01", None, "window_start is set but window_end is missing"),
        (None, "2026-09-01", "window_end is set but window_start is missing"),
        ("2026-09-01", "   ", "window_end is missing"),
        ("1990-01-01", "2026-09-01", "at most 366 days"),
        ("2025-09-01", "2026-09-03", "at most 366 days"),
    ],
    ids=repr,
)
def test_bad_window_shapes_name_the_params(start, end, message):
    with pytest.raises(DataValidationError, match=message.replace("(", r"\(")):
        window_from_context(_context({"window_start": start, "window_end": end}), 24)


@pytest.mark.parametrize("hours", [0, 1, 168, 24 * 366])
def test_the_label_window_of_the_earliest_manual_window_is_a_date(hours):
    """The trailing label window reaches back from the window's end: still a date."""
    params = {"window_start": "1900-01-01T00:00", "window_end": "1900-01-01T01:00"}
    window = trailing_window_from_context(_context(params), hours)
    assert window.end == datetime(1900, 1, 1, 1)
    assert window.end - window.start == (timedelta(hours=hours) if hours else timedelta(hours=1))


@given(
    start=st.datetimes(min_value=datetime(1, 1, 10), max_value=datetime(9997, 12, 31)),
    hours=st.integers(min_value=-100, max_value=24 * 800),
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
@example(start=datetime(2000, 1, 1), hours=24 * 366 + 1, offset=0)  # found by exploring
def test_random_windows(start, hours, offset):
    tz = timezone(timedelta(minutes=offset))
    end = start + timedelta(hours=hours)
    params = {
        "window_start": start.replace(tzinfo=tz).isoformat(),
        "window_end": end.replace(tzinfo=tz).isoformat(),
    }
    utc_start = start - timedelta(minutes=offset)
    utc_end = end - timedelta(minutes=offset)
    years = {utc_start.year, utc_end.year}
    ok = min(years) >= 1900 and max(years) <= 2999 and 0 < hours <= 366 * 24
    try:
        window = window_from_context(_context(params), 24)
    except DataValidationError as exc:
        assert not ok, (params, exc)
        assert re.search(r"\bparams? window_(start|end)\b", str(exc)), exc
        return
    assert ok, (params, "accepted but must be refused")
    assert (window.start, window.end) == (utc_start, utc_end)


# ------------------------------------------------------------------ as_of and report period


@pytest.mark.parametrize("bad", BAD_TIMES, ids=repr)
def test_a_bad_as_of_names_the_param(bad):
    with pytest.raises(DataValidationError, match="param as_of"):
        as_of_from_context(_context({"as_of": bad}))


def test_as_of_is_naive_utc_and_defaults_to_the_interval_end():
    assert as_of_from_context(_context({"as_of": "2026-10-15T02:00:00+02:00"})) == datetime(
        2026, 10, 15
    )
    assert as_of_from_context(_context({"as_of": None})) == datetime(2026, 9, 2)
    with pytest.raises(DataValidationError, match="give the as_of param"):
        as_of_from_context(_context({}, interval=None))


@pytest.mark.parametrize("bad", BAD_TIMES, ids=repr)
@pytest.mark.parametrize("which", ["period_start", "period_end"])
def test_a_bad_report_period_names_the_param(which, bad):
    params = {"period_start": "2026-09-01T00:00:00", "period_end": "2026-09-08T00:00:00"}
    params[which] = bad
    with pytest.raises(ModelguardError) as info:
        period_from_context(_context(params))
    assert which in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-09-08", "2026-09-01"), ("2026-09-01", "2026-09-01"), ("2026-09-01", None)],
)
def test_a_report_period_must_be_a_period(start, end):
    with pytest.raises(ModelguardError) as info:
        period_from_context(_context({"period_start": start, "period_end": end}))
    assert "period_start" in str(info.value) or "period_end" in str(info.value)


# ---------------------------------------------------------------------------- the conf keys


def _task_context(conf, params=("psi_critical", "window_start", "window_end")):
    dag = SimpleNamespace(dag_id="m_monitoring", params=dict.fromkeys(params))
    return {"dag": dag, "dag_run": SimpleNamespace(conf=conf)}


@pytest.mark.parametrize(
    "conf",
    [
        {"psi_critcal": 0.3},
        {"PSI_CRITICAL": 0.3},
        {"psi_critical ": 0.3},
        {" psi_critical": 0.3},
        {"psi_critical\n": 0.3},
        {"": 1},
        {"psi_critical": 0.3, "extra": None},
    ],
    ids=repr,
)
def test_unknown_conf_keys_fail_the_task_naming_them(conf):
    with pytest.raises(ConfigError) as info:
        refuse_unknown_conf(_task_context(conf))
    for key in conf:
        if key != "psi_critical":
            assert repr(key) in str(info.value)
    assert "psi_critical" in str(info.value)  # what is allowed


@pytest.mark.parametrize(
    ("conf", "key"),
    [
        ({"psi_critical": float("nan")}, "psi_critical"),
        ({"psi_critical": float("inf")}, "psi_critical"),
        ({"psi_critical": float("-inf")}, "psi_critical"),
        ({"window_start": [float("nan")]}, "window_start"),
        ({"window_start": {"a": float("inf")}}, "window_start"),
    ],
    ids=repr,
)
def test_a_non_finite_number_anywhere_in_the_conf_fails_the_task_naming_the_key(conf, key):
    """JSON from the REST API can carry NaN and Infinity (Python's json reads them); no
    modelguard param ever takes one."""
    assert bad_conf_values(conf) == [key]
    with pytest.raises(ConfigError) as info:
        refuse_unknown_conf(_task_context(conf))
    assert repr(key) in str(info.value) and "finite" in str(info.value)


@pytest.mark.parametrize("conf", [None, {}, {"psi_critical": 0.3}, {"window_start": None}])
def test_a_conf_of_known_keys_passes(conf):
    refuse_unknown_conf(_task_context(conf))


@pytest.mark.parametrize("conf", [[1, 2], "psi_critical=0.3", 5])
def test_a_conf_that_is_not_a_mapping_fails_the_task(conf):
    with pytest.raises(ConfigError, match="the run's conf is"):
        refuse_unknown_conf(_task_context(conf))


def test_unknown_conf_keys_sorts_any_key_type():
    assert unknown_conf_keys({"b": 1, 2: 1, "a": 1}, ["a"]) == ["2", "b"]
