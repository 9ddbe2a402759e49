"""Hostile input against the config loader: every case loads the value it was given (checked
against an independent reading of the field's declared range) or raises one ConfigError whose
message names the key (or the file) and what is allowed. Never a silently wrong value, never a
raw ValueError / OverflowError / UnicodeDecodeError / IsADirectoryError."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import typing
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from modelguard import config as config_module
from modelguard.config import ModelguardConfig, config_from_dict, load_config, model_config_files
from modelguard.exceptions import ConfigError
from tests.world import EXAMPLE_CONFIG

SHIPPED_TEXT = EXAMPLE_CONFIG.read_text()
SHIPPED = yaml.safe_load(SHIPPED_TEXT)
INT64_MAX = 2**63 - 1


def _numeric_fields() -> list[tuple[str, type, tuple]]:
    """(dotted key, int|float, (lo, hi, open_lo, open_hi)) of every numeric config field."""
    found = []

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            if dataclasses.is_dataclass(tp):
                walk(tp, f"{prefix}{f.name}.")
            elif tp in (int, float):
                found.append((f"{prefix}{f.name}", tp, f.metadata["range"]))

    walk(ModelguardConfig, "")
    return found


NUMERIC_FIELDS = _numeric_fields()
NUMERIC_IDS = [key for key, _, _ in NUMERIC_FIELDS]

# Keys a cross-field check reads: a value fine on its own may still be refused there, by a
# message that names the key.
CROSS_FIELD_KEYS = {
    "drift_detection.psi_warning",
    "drift_detection.psi_critical",
    "monitoring.monitoring_interval",
    "monitoring.max_history_days",
    "retraining.cooldown_hours",
    "monitoring.health.recent_runs",
    "monitoring.health.row_count_history_days",
    "monitoring.health.row_count_min_points",
}


def _with(raw: dict, key: str, value) -> dict:
    raw = copy.deepcopy(raw)
    *parents, last = key.split(".")
    node = raw
    for p in parents:
        node = node[p]
    node[last] = value
    return raw


def _get(cfg, key: str):
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _in_range(value: float, rng) -> bool:
    lo, hi, open_lo, open_hi = rng
    if lo is not None and (value <= lo if open_lo else value < lo):
        return False
    return not (hi is not None and (value >= hi if open_hi else value > hi))


def _expected(tp, value, rng):
    """The value the loader must produce, or None when it must refuse: the rule the README
    documents, computed here independently of the loader."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # booleans, strings, None, lists: never a number
    if isinstance(value, float) and not math.isfinite(value):
        return None  # nan, inf, -inf
    if tp is int:
        if isinstance(value, float):
            if value != int(value):
                return None
            value = int(value)
        if abs(value) > INT64_MAX:
            return None
        return value if _in_range(value, rng) else None
    if isinstance(value, int) and abs(value) > 1.7976931348623157e308:
        return None
    value = float(value)
    return value if _in_range(value, rng) else None


def _check(key: str, tp, rng, value) -> None:
    raw = _with(SHIPPED, key, value)
    expected = _expected(tp, value, rng)
    try:
        cfg = config_from_dict(raw, base_dir=Path("."))
    except ConfigError as exc:
        message = str(exc)
        assert key in message, (key, value, message)
        if expected is None:
            own = [e for e in exc.errors if e.startswith(f"{key}:")]
            assert own, (key, value, exc.errors)
            assert all("allowed" in e for e in own), (key, value, own)
        else:
            assert key in CROSS_FIELD_KEYS, (key, value, exc.errors)
            own = [e for e in exc.errors if e.startswith(f"{key}:")]
            assert not any(" is not " in e or "out of range" in e for e in own), own
        return
    assert expected is not None, (key, value, "loaded but must be refused")
    got = _get(cfg, key)
    assert type(got) is tp and got == expected, (key, value, got, expected)
    if tp is float:
        assert math.copysign(1, got) == 1 or got != 0, "negative zero kept"


HOSTILE_NUMBERS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
    0,
    1,
    0.5,
    10.0,
    10.5,
    -1,
    2**63,
    10**400,
    -(10**400),
    1e300,
    True,
    False,
    "0.1",
    "10",
    "nan",
    "",
    None,
    [1],
    {"v": 1},
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
@pytest.mark.parametrize(("key", "tp", "rng"), NUMERIC_FIELDS, ids=NUMERIC_IDS)
def test_every_numeric_key_takes_a_number_in_its_range_or_names_itself(key, tp, rng, value):
    _check(key, tp, rng, value)


@pytest.mark.parametrize(("key", "tp", "rng"), NUMERIC_FIELDS, ids=NUMERIC_IDS)
def test_the_bounds_of_every_numeric_key(key, tp, rng):
    """Each declared bound, and the values just inside and outside it."""
    lo, hi, _, _ = rng
    for bound in (lo, hi):
        if bound is None:
            continue
        step = 1 if tp is int else max(abs(bound) * 1e-9, 1e-9)
        for value in (bound - step, bound, bound + step):
            _check(key, tp, rng, tp(value) if tp is int else float(value))


_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-1000, max_value=100_000),
    st.floats(min_value=-10, max_value=1000),
    st.booleans(),
    st.text(max_size=6),
    st.none(),
)


@given(field=st.sampled_from(NUMERIC_FIELDS), value=_numbers)
def test_random_values_for_random_numeric_keys(field, value):
    key, tp, rng = field
    _check(key, tp, rng, value)


# ------------------------------------------------------------------------- strings and names

IDENTIFIER_KEYS = [
    "model.name",
    "source.table",
    "source.time_column",
    "source.label_column",
    "source.label_time_column",
]


@pytest.mark.parametrize(
    "value",
    [
        "sends\n",
        "sends\r\n",
        "\nsends",
        " sends",
        "sends ",
        "se nds",
        "sends\x00",
        "sends;drop",
        "1sends",
        "sénds",
        "sends\u200b",
        "ｓends",  # fullwidth s
        "a" * 64,
        "",
        "   ",
        5,
        None,
        True,
        ["sends"],
    ],
    ids=repr,
)
@pytest.mark.parametrize("key", IDENTIFIER_KEYS)
def test_identifier_keys_refuse_every_non_name(key, value):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(SHIPPED, key, value), base_dir=Path("."))
    assert any(e.startswith(f"{key}: {value!r}") for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("key", IDENTIFIER_KEYS)
def test_a_63_character_name_is_a_name(key):
    name = "a" * 63
    raw = _with(SHIPPED, key, name)
    if key.startswith("source.") and key != "source.table":
        return  # a column name changes the source's columns: covered by the shipped names
    assert _get(config_from_dict(raw, base_dir=Path(".")), key) == name


@pytest.mark.parametrize(
    "value",
    [
        "email_engagement.model:train_model\n",
        "email_engagement.model:train_model ",
        "email_engagement.model:train_model\n:x",
        "email_engagement.model\n:train_model",
    ],
    ids=repr,
)
def test_the_estimator_path_refuses_a_newline_or_blank(value):
    with pytest.raises(ConfigError, match="model.estimator: .* is not a factory path"):
        config_from_dict(_with(SHIPPED, "model.estimator", value), base_dir=Path("."))


@pytest.mark.parametrize(
    "value",
    [" modelguard_source", "modelguard_source\n", "modelguard\tsource", "", "  ", 3],
    ids=repr,
)
@pytest.mark.parametrize("key", ["source.conn_id", "storage.registry_conn_id"])
def test_connection_ids_refuse_blanks_and_control_characters(key, value):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(SHIPPED, key, value), base_dir=Path("."))
    assert any(e.startswith(f"{key}: {value!r}") for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    "address",
    ["a@example.com\n", "a@example.com ", "a@exa mple.com", "a@@example.com", "a@example", ""],
    ids=repr,
)
def test_email_addresses_refuse_a_trailing_newline_and_the_rest(address):
    raw = copy.deepcopy(SHIPPED)
    raw["alerts"]["channels"].append(
        {
            "name": "mail",
            "type": "email",
            "conn_id": "smtp_default",
            "to": [address],
            "min_severity": "critical",
        }
    )
    with pytest.raises(ConfigError, match=r"alerts.channels\[1\].to: .* is not an email address"):
        config_from_dict(raw, base_dir=Path("."))


@pytest.mark.parametrize(
    "value",
    ["critical\n", " critical", "Critical", "CRITICAL", "info", "", None, 1, ["critical"], True],
    ids=repr,
)
def test_min_severity_is_one_of_two_words(value):
    raw = copy.deepcopy(SHIPPED)
    raw["alerts"]["channels"][0]["min_severity"] = value
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    (error,) = info.value.errors
    assert error.startswith("alerts.channels[0].min_severity: ") and "critical" in error


@pytest.mark.parametrize(
    "channels",
    ["task_log", {"name": "task_log"}, None, 5, [], [None], [[]], True],
    ids=repr,
)
def test_channels_must_be_a_list_of_mappings(channels):
    raw = _with(SHIPPED, "alerts.channels", channels)
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert all(e.startswith("alerts.channels") for e in info.value.errors), info.value.errors
    assert any("mapping" in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    "value", ["psi", None, [], ["psi", "psi"], ["PSI"], ["psi\n"], [["psi"]], {"psi": 1}], ids=repr
)
def test_test_lists_refuse_every_non_list(value):
    raw = _with(SHIPPED, "drift_detection.numeric_tests", value)
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert all(e.startswith("drift_detection.numeric_tests: ") for e in info.value.errors)


@pytest.mark.parametrize("value", ["", "var/a\x00b", 5, None, True, ["x"]], ids=repr)
@pytest.mark.parametrize("key", ["storage.artifact_root", "storage.report_root"])
def test_path_keys_refuse_what_is_no_path(key, value):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(SHIPPED, key, value), base_dir=Path("."))
    assert any(e.startswith(f"{key}: ") for e in info.value.errors), info.value.errors


def test_a_home_relative_path_is_the_home_folder(tmp_path):
    raw = _with(SHIPPED, "storage.artifact_root", "~/mg_artifacts")
    cfg = config_from_dict(raw, base_dir=tmp_path)
    assert cfg.storage.artifact_root == Path.home() / "mg_artifacts"


def test_a_path_through_a_symlink_loop_names_the_key(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    raw = _with(SHIPPED, "storage.report_root", "loop/reports")
    with pytest.raises(ConfigError, match=r"storage.report_root: 'loop/reports' .*symlink loop"):
        config_from_dict(raw, base_dir=tmp_path)


# ------------------------------------------------------------------------------- features


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ({}, "features: {} is empty"),
        (None, "features: None is not a mapping"),
        ([], "features: [] is not a mapping"),
        (["industry"], "is not a mapping"),
        ("industry", "is not a mapping"),
        ({1: "numeric"}, "features: the key 1 (int) is not a column name"),
        ({True: "categorical"}, "features: the key True (bool) is not a column name"),
        ({None: "numeric"}, "features: the key None (NoneType) is not a column name"),
        ({1.5: "numeric"}, "features: the key 1.5 (float) is not a column name"),
        ({"industry\n": "categorical"}, "features: the key 'industry\\n' is not a column name"),
        ({"a b": "numeric"}, "features: the key 'a b' is not a column name"),
        ({"a" * 64: "numeric"}, "is not a column name"),
        ({"industry": "Categorical"}, "'Categorical' is not a feature type"),
        ({"industry": None}, "None is not a feature type"),
        ({"industry": ["numeric"]}, "['numeric'] is not a feature type"),
        ({"sent_at": "numeric"}, "features.sent_at: is also the source's time or label column"),
        ({"engaged": "numeric"}, "features.engaged: is also the source's time or label column"),
        ({"outcome_at": "numeric"}, "features.outcome_at: is also the source's"),
    ],
    ids=repr,
)
def test_hostile_feature_mappings(features, message):
    raw = _with(SHIPPED, "features", features)
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert any(message in e for e in info.value.errors), info.value.errors
    assert all(e.startswith("features") for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("source.label_column", "sent_at"),
        ("source.label_time_column", "sent_at"),
        ("source.label_time_column", "engaged"),
    ],
)
def test_the_source_columns_are_three_different_columns(key, value):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(SHIPPED, key, value), base_dir=Path("."))
    assert any(key in e and "different" in e for e in info.value.errors), info.value.errors


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"Industry": "categorical"},
            "features.Industry: differs from features.industry only in case",
        ),
        ({"INDUSTRY": "numeric"}, "features.INDUSTRY: differs from features.industry"),
        ({"Sent_At": "numeric"}, "features.Sent_At: differs from the source column sent_at"),
        ({"ENGAGED": "numeric"}, "features.ENGAGED: differs from the source column engaged"),
    ],
)
def test_columns_that_differ_only_in_case_are_one_column(extra, message):
    raw = copy.deepcopy(SHIPPED)
    raw["features"].update(extra)
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert any(e.startswith(message) for e in info.value.errors), info.value.errors


# ------------------------------------------------------------------------------ start_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-01", datetime(2026, 6, 1)),
        ("2026-06-01T06:30:00", datetime(2026, 6, 1, 6, 30)),
        ("2026-06-01T00:00:00Z", datetime(2026, 6, 1)),
        ("2026-06-01T00:00:00+00:00", datetime(2026, 6, 1)),
        ("2024-02-29", datetime(2024, 2, 29)),
    ],
)
def test_start_date_accepts_a_date_or_a_utc_date_time(value, expected):
    cfg = config_from_dict(_with(SHIPPED, "monitoring.start_date", value), base_dir=Path("."))
    assert cfg.monitoring.start_date == expected and cfg.monitoring.start_date.tzinfo is None


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-06-01T25:00",
        "2026-06-01T00:00:00+02:00",
        "2026-06-01T00:00:00-05:00",
        "0001-01-01",
        "9999-12-31",
        "june",
        "",
        20260601,
        1.5,
        True,
        None,
        ["2026-06-01"],
    ],
    ids=repr,
)
def test_start_date_refuses_impossible_dates_offsets_and_non_dates(value):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(SHIPPED, "monitoring.start_date", value), base_dir=Path("."))
    (error,) = info.value.errors
    assert error.startswith(f"monitoring.start_date: {value!r}") and "allowed" in error, error


# --------------------------------------------------------------------------- the YAML text


def _write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _replace(old: str, new: str, text: str = SHIPPED_TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line_of(text: str, prefix: str) -> int:
    """The number of the first line that starts with ``prefix``."""
    return next(i + 1 for i, line in enumerate(text.splitlines()) if line.startswith(prefix))


DUPLICATES = [
    # (where, the line to duplicate, its dotted key)
    ("top level", "alerts:                             # records", "alerts"),
    ("a section", "  psi_critical: 0.25", "drift_detection.psi_critical"),
    ("a nested section", "    recent_runs: 6", "monitoring.health.recent_runs"),
    ("features", "  industry: categorical", "features.industry"),
    ("a channel", "      min_severity: warning", "alerts.channels[0].min_severity"),
]


@pytest.mark.parametrize(("where", "line", "key"), DUPLICATES, ids=[d[0] for d in DUPLICATES])
def test_a_duplicate_key_names_the_key_both_lines_and_the_file(tmp_path, where, line, key):
    if where == "top level":
        text = SHIPPED_TEXT + "\nalerts: {}\n"
    else:
        text = _replace(line, f"{line}\n{line}")
    path = _write(tmp_path, text)
    first = _line_of(text, line)
    second = len(text.splitlines()) if where == "top level" else first + 1
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message, message
    assert f"{key}: given twice, at lines {first} and {second} of {path}" in message, message


def test_every_duplicate_is_listed_at_once(tmp_path):
    text = _replace("  psi_critical: 0.25", "  psi_critical: 0.25\n  psi_critical: .nan")
    text = _replace("  industry: categorical", "  industry: categorical\n  industry: numeric", text)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert [e.split(":")[0] for e in info.value.errors] == [
        "features.industry",
        "drift_detection.psi_critical",
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [("1", "1.0"), ("1", "true"), ("'a'", "a"), ("0x1", "1")],
)
def test_keys_that_load_equal_are_duplicates(tmp_path, first, second):
    text = _replace(
        "  industry: categorical",
        f"  industry: categorical\n  {first}: numeric\n  {second}: categorical",
    )
    with pytest.raises(ConfigError, match="given twice"):
        load_config(_write(tmp_path, text))


def test_a_feature_listed_twice_through_an_alias_is_a_duplicate(tmp_path):
    text = _replace(
        "  industry: categorical",
        "  &col industry: categorical\n  *col : numeric",
    )
    with pytest.raises(ConfigError, match="features.industry: given twice"):
        load_config(_write(tmp_path, text))


def test_the_merge_key_is_refused(tmp_path):
    text = _replace("drift_detection:\n", "drift_detection:\n  <<: {psi_bins: 20}\n")
    with pytest.raises(ConfigError, match=r"drift_detection: the merge key << .* is not allowed"):
        load_config(_write(tmp_path, text))


def test_aliases_without_merging_are_fine(tmp_path):
    text = _replace("  psi_critical: 0.25", "  psi_critical: &crit 0.25")
    text = _replace("    drift_critical: 0.25", "    drift_critical: *crit", text)
    assert load_config(_write(tmp_path, text)).monitoring.alert_thresholds.drift_critical == 0.25


def test_a_recursive_alias_is_refused_not_looped(tmp_path):
    text = _replace("  numeric_tests: [psi, ks]", "  numeric_tests: &t [psi, *t]")
    with pytest.raises(ConfigError, match="drift_detection.numeric_tests"):
        load_config(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("1e-3", 0.001),
        ("2.5e-2", 0.025),
        ("5E-2", 0.05),
        ("0.05", 0.05),
        ("!!float 0.05", 0.05),
        (".05", 0.05),
    ],
)
def test_numbers_in_every_usual_spelling(tmp_path, scalar, expected):
    text = _replace("  ks_significance: 0.05", f"  ks_significance: {scalar}")
    assert load_config(_write(tmp_path, text)).drift_detection.ks_significance == expected


@pytest.mark.parametrize(
    ("scalar", "message"),
    [
        (".nan", "drift_detection.psi_bins: nan"),
        (".inf", "drift_detection.psi_bins: inf"),
        ("-.inf", "drift_detection.psi_bins: -inf"),
        ("1.0e+400", "drift_detection.psi_bins: inf"),
        ("1e400", "drift_detection.psi_bins: inf is not a finite number"),
        (".NaN", "drift_detection.psi_bins: nan is not an integer"),
        (
            "10.5",
            "drift_detection.psi_bins: 10.5 is not an integer; allowed: an integer in [2, 100]",
        ),
        ("1e1", None),
        ("10.0", None),
        ("true", "drift_detection.psi_bins: True is not an integer (a boolean)"),
        ("010", "octal"),
        ("0o10", "drift_detection.psi_bins: '0o10'"),
        ("1:30", "base 60"),
        ("'10'", "drift_detection.psi_bins: '10' is not an integer (a string; write"),
        ("10 # bins", None),
        ("!!int ten", "!!int"),
        ("!!float ten", "!!float"),
        ("!!timestamp 2026-02-30", "timestamp"),
        ("!!python/object:os.system x", "python/object"),
        ("!!binary 'not base64!'", "base64"),
        ("", "drift_detection.psi_bins: None"),
        ("[10]", "drift_detection.psi_bins: [10]"),
    ],
)
def test_hostile_scalars_for_an_integer_key(tmp_path, scalar, message):
    text = _replace("  psi_bins: 10 ", f"  psi_bins: {scalar} ")
    path = _write(tmp_path, text)
    if message is None:
        bins = load_config(path).drift_detection.psi_bins
        assert bins == 10 and type(bins) is int
        return
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value), str(info.value)
    if "drift_detection" not in message:  # refused while reading the file: file and line
        assert str(path) in str(info.value) and "line" in str(info.value), str(info.value)


def test_an_unquoted_impossible_date_names_the_key(tmp_path):
    text = _replace('  start_date: "2026-06-01"', "  start_date: 2026-02-30")
    with pytest.raises(
        ConfigError, match=r"monitoring.start_date: '2026-02-30' is not an ISO date"
    ):
        load_config(_write(tmp_path, text))


def test_an_unquoted_date_loads(tmp_path):
    text = _replace('  start_date: "2026-06-01"', "  start_date: 2026-06-01")
    assert load_config(_write(tmp_path, text)).monitoring.start_date == datetime(2026, 6, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: [unclosed\n", r"is not valid YAML: .*line 1, column"),
        ("a: b\n  c: d\n", r"is not valid YAML: .*line 2"),
        ("a: 1\n---\nb: 2\n", r"is not valid YAML: .*single document"),
        ("\t- x\n", "is not valid YAML"),
        ("a: \x07\n", "is not valid YAML"),
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("---\n", "is empty"),
        ("null\n", "is empty"),
        ("- model\n- source\n", "its top level is a list"),
        ("42\n", "its top level is a number"),
        ("just text\n", "its top level is a string"),
        ("true\n", "its top level is a boolean"),
        ("? [a, b]\n: 1\n", "is not valid YAML: .*unhashable"),
    ],
    ids=repr,
)
def test_files_that_are_no_model_config_name_the_file(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and re.search(message, str(info.value), re.S), str(
        info.value
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + "model: x\n".encode("utf-16-le"),
        "model: caf\xe9\n".encode("latin-1"),
        b"model: \x80\n",
        SHIPPED_TEXT.encode() + b"\n# \xc3\n",
    ],
    ids=["utf-16", "latin-1", "lone continuation byte", "truncated sequence at the end"],
)
def test_a_file_that_is_not_utf8_names_the_file_and_the_line(tmp_path, data):
    path = tmp_path / "c.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=r"is not UTF-8 text .*line \d+"):
        load_config(path)


def test_a_utf8_bom_is_fine(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SHIPPED_TEXT.encode())
    assert load_config(path).model.name == "email_engagement"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; see the sysfs case")
def test_an_unreadable_file_names_the_file(tmp_path):
    path = _write(tmp_path, SHIPPED_TEXT)
    path.chmod(0)
    try:
        with pytest.raises(ConfigError, match=r"cannot be read: .*ermission"):
            load_config(path)
    finally:
        path.chmod(0o644)


def _write_only_sysfs_file() -> Path | None:
    for candidate in ("/sys/bus/pci/rescan", "/sys/kernel/mm/ksm/run", "/sys/power/state"):
        p = Path(candidate)
        try:
            p.read_bytes()
        except PermissionError:
            return p
        except OSError:
            continue
    return None


def test_a_file_whose_read_is_refused_even_to_root_names_the_file(tmp_path):
    """sysfs refuses reads of a write-only attribute to everyone, root included."""
    target = _write_only_sysfs_file()
    if target is None:
        pytest.skip("no write-only sysfs attribute on this machine")
    link = tmp_path / "c.yaml"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match=rf"config file {link} cannot be read: .*ermission"):
        load_config(link)


def test_a_folder_named_like_a_file_names_the_folder(tmp_path):
    (tmp_path / "c.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"c.yaml is a folder"):
        load_config(tmp_path / "c.yaml")


def test_an_empty_folder_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
def test_a_file_that_is_not_a_regular_file_is_refused_without_reading(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)  # reading it would block forever
    link = tmp_path / "c.yaml"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match=r"is not a regular file"):
        load_config(link)


def test_a_huge_file_is_refused_without_parsing(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(SHIPPED_TEXT + "#" * (2 * 1024 * 1024))
    with pytest.raises(ConfigError, match=r"larger than"):
        load_config(path)


def test_a_symlink_loop_names_the_path(tmp_path):
    loop = tmp_path / "c.yaml"
    loop.symlink_to(loop)
    with pytest.raises(ConfigError, match=r"symlink loop"):
        load_config(loop)
    with pytest.raises(ConfigError, match=r"symlink loop"):
        model_config_files(loop)


def test_a_broken_symlink_says_so(tmp_path):
    link = tmp_path / "c.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ConfigError, match=r"broken symbolic link"):
        load_config(link)


def test_a_broken_symlink_in_a_folder_is_listed_not_dropped(tmp_path):
    _write(tmp_path, SHIPPED_TEXT, "a.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "gone.yaml")
    files = model_config_files(tmp_path)
    assert [p.name for p in files] == ["a.yaml", "b.yaml"]
    with pytest.raises(ConfigError, match="broken symbolic link"):
        load_config(files[1])


@pytest.mark.parametrize("value", ["/no/such/config.yaml", "relative/missing.yaml"])
def test_the_environment_naming_a_missing_path(monkeypatch, value):
    monkeypatch.setenv("MODELGUARD_CONFIG", value)
    with pytest.raises(ConfigError, match=r"does not exist .*MODELGUARD_CONFIG"):
        load_config()


@pytest.mark.parametrize("value", ["a\x00b.yaml", "   ", ""])
def test_a_path_that_is_no_path(value):
    with pytest.raises(ConfigError) as info:
        load_config(value)
    assert repr(value) in str(info.value) or str(Path(value)) in str(info.value)
    with pytest.raises(ConfigError):
        model_config_files(value)


def test_a_blank_environment_variable_is_no_path(monkeypatch):
    monkeypatch.setenv("MODELGUARD_CONFIG", "   ")
    with pytest.raises(ConfigError, match="MODELGUARD_CONFIG"):
        load_config()


def test_two_files_of_one_folder_with_the_same_model_name(tmp_path):
    """The factory keeps the first and gives the second a config-error DAG naming both."""
    from modelguard.factory import build_dags

    raw = copy.deepcopy(SHIPPED)
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(raw))
    (tmp_path / "var").mkdir()
    dags = build_dags(tmp_path)
    assert "email_engagement_monitoring" in dags
    error_dag = dags["b_config_error"]
    assert "is already the model of" in error_dag.description
    assert str(tmp_path / "a.yaml") in error_dag.description


# ------------------------------------------------------------------------- every pattern


def test_no_pattern_of_the_package_is_anchored_with_a_dollar():
    """``re.match(r"^x$")`` also matches ``"x\\n"``: every pattern of the package that anchors
    its end uses ``\\Z`` (or is used with ``fullmatch``)."""
    package = Path(config_module.__file__).parent
    dollar = re.compile(r"""re\.(?:compile|match|search)\(\s*r?f?(["'])[^"']*\$\1""")
    offenders = [
        f"{path.relative_to(package)}:{n}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if dollar.search(line)
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("module", "name", "good"),
    [
        ("modelguard.config", "_IDENTIFIER", "sends"),
        ("modelguard.config", "_EMAIL", "a@example.com"),
        ("modelguard.config", "_FACTORY_PATH", "a.b:c"),
        ("modelguard.storage.registry.model_registry", "_SHA256_RE", "0" * 64),
    ],
)
def test_a_trailing_newline_never_matches(module, name, good):
    """The patterns matched with ``match``: anchored with ``\\Z``, never ``$``."""
    import importlib

    pattern = getattr(importlib.import_module(module), name)
    assert pattern.match(good)
    for bad in (good + "\n", good + "\r\n", "\n" + good):
        assert not pattern.match(bad), (name, bad)


@pytest.mark.parametrize("bad", ["email_engagement\n", "email_engagement\r\n", "\nemail"])
def test_a_model_name_with_a_newline_is_refused_by_the_storage_rule(bad):
    from modelguard.storage.ids import is_model_name

    assert is_model_name("email_engagement")
    assert not is_model_name(bad)
