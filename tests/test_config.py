"""The config loader: the shipped file is valid, and every kind of bad value is refused by name."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from modelguard.config import (
    config_from_dict,
    interval_to_cron,
    load_config,
    model_config_files,
    with_overrides,
)
from modelguard.exceptions import ConfigError
from tests.world import EXAMPLE_CONFIG

GUIDE_DEFAULTS = {
    "deployment": {
        "significance_level": 0.05,
        "min_improvement": 0.02,
        "validation_window_days": 7,
        "max_rollback_attempts": 3,
    },
    "drift_detection": {
        "psi_critical": 0.25,
        "psi_warning": 0.10,
        "ks_significance": 0.05,
        "concept_drift_threshold": 0.15,
    },
    "retraining": {
        "drift_threshold": 0.25,
        "performance_threshold": 0.05,
        "sliding_window_months": 6,
        "weighted_retraining": True,
    },
    "monitoring": {"monitoring_interval": 3600, "max_history_days": 30},
}


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text())


def test_shipped_config_has_the_guide_defaults():
    cfg = load_config(EXAMPLE_CONFIG)
    for section, values in GUIDE_DEFAULTS.items():
        for key, expected in values.items():
            assert getattr(getattr(cfg, section), key) == expected, f"{section}.{key}"
    assert cfg.monitoring.alert_thresholds.drift_critical == 0.25
    assert cfg.monitoring.alert_thresholds.performance_degradation == 0.05
    assert cfg.monitoring.schedule_cron == "0 * * * *"
    assert cfg.storage.report_root.is_absolute()
    assert set(cfg.numeric_features) | set(cfg.categorical_features) == set(cfg.features)


def test_config_path_comes_from_the_environment(tmp_path, monkeypatch, raw):
    raw["model"]["name"] = "other_model"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("MODELGUARD_CONFIG", str(path))
    cfg = load_config()
    assert cfg.model.name == "other_model"
    assert cfg.storage.artifact_root == (tmp_path / "../var/artifacts").resolve()


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("drift_detection", "ks_significance", 1.5, "drift_detection.ks_significance: 1.5"),
        ("drift_detection", "ks_significance", 0, "allowed (0, 1)"),
        ("deployment", "significance_level", -0.1, "deployment.significance_level"),
        ("drift_detection", "psi_warning", 0.3, "must be below drift_detection.psi_critical"),
        ("retraining", "sliding_window_months", -2, "retraining.sliding_window_months: -2"),
        ("monitoring", "window_hours", -1, "monitoring.window_hours"),
        ("drift_detection", "psi_bins", "ten", "is not an integer"),
        ("retraining", "weighted_retraining", "yes", "is not a boolean"),
        (
            "drift_detection",
            "numeric_tests",
            ["psi", "wasserstein"],
            "'wasserstein' is not allowed",
        ),
        ("monitoring", "monitoring_interval", 4000, "does not divide an hour"),
        ("source", "table", "sends; drop table x", "not a valid name"),
        ("monitoring", "start_date", "june", "not an ISO date"),
        ("monitoring", "sensor_mode", "poke", "allowed: airflow_default, reschedule, deferrable"),
        ("monitoring", "data_wait_minutes", 0, "monitoring.data_wait_minutes: 0"),
        ("monitoring", "label_wait_minutes", 1.5, "is not an integer"),
        ("monitoring", "drift_partitions", 0, "monitoring.drift_partitions: 0"),
        ("monitoring", "drift_partitions", 1025, "drift_partitions: 1025 is out of range"),
        ("monitoring", "drift_partitions", 2.5, "is not an integer"),
        ("monitoring", "drift_partitions", True, "monitoring.drift_partitions"),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(raw, section, key, value, message):
    raw[section][key] = value
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_dict(raw, base_dir=Path("."))


def test_deployment_approval_mode_and_timeout(raw):
    shipped = config_from_dict(copy.deepcopy(raw), base_dir=Path("."))
    assert (shipped.deployment.approval, shipped.deployment.approval_timeout_hours) == ("auto", 24)
    raw["deployment"].update(approval="human", approval_timeout_hours=0.02)  # 72 seconds
    human = config_from_dict(copy.deepcopy(raw), base_dir=Path(".")).deployment
    assert (human.approval, human.approval_timeout_hours) == ("human", 0.02)
    for key, value, message in [
        (
            "approval",
            "manual",
            "deployment.approval: 'manual' is not allowed; allowed: auto, human",
        ),
        (
            "approval_timeout_hours",
            0,
            r"approval_timeout_hours: 0.0 is out of range; allowed \(0, 720\]",
        ),
        ("approval_timeout_hours", 721, r"allowed \(0, 720\]"),
        ("approval_timeout_hours", "soon", "approval_timeout_hours: 'soon' is not a number"),
    ]:
        bad = copy.deepcopy(raw)
        bad["deployment"][key] = value
        with pytest.raises(ConfigError, match=message):
            config_from_dict(bad, base_dir=Path("."))
    del raw["deployment"]["approval"]
    with pytest.raises(ConfigError, match="deployment.approval: missing key"):
        config_from_dict(raw, base_dir=Path("."))


def test_missing_and_unknown_keys(raw):
    missing = copy.deepcopy(raw)
    del missing["deployment"]["min_improvement"]
    with pytest.raises(ConfigError, match=r"deployment.min_improvement: missing key"):
        config_from_dict(missing, base_dir=Path("."))
    unknown = copy.deepcopy(raw)
    unknown["drift_detection"]["psi_critcal"] = 0.3
    with pytest.raises(ConfigError, match=r"drift_detection.psi_critcal: unknown key"):
        config_from_dict(unknown, base_dir=Path("."))
    del unknown["drift_detection"]["psi_critcal"]
    unknown["alertz"] = {}
    with pytest.raises(ConfigError, match=r"alertz: unknown key"):
        config_from_dict(unknown, base_dir=Path("."))
    del unknown["alertz"]
    del unknown["alerts"]
    with pytest.raises(ConfigError, match=r"alerts: missing key \(required\)"):
        config_from_dict(unknown, base_dir=Path("."))


def test_feature_types_are_checked(raw):
    raw["features"]["industry"] = "text"
    with pytest.raises(ConfigError, match=r"features.industry: 'text' is not a feature type"):
        config_from_dict(raw, base_dir=Path("."))
    raw["features"]["industry"] = "categorical"
    raw["features"]["engaged"] = "numeric"
    with pytest.raises(ConfigError, match=r"features.engaged"):
        config_from_dict(raw, base_dir=Path("."))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_overrides_are_validated_like_the_file():
    cfg = load_config(EXAMPLE_CONFIG)
    assert (
        with_overrides(cfg, "drift_detection", psi_critical=0.4).drift_detection.psi_critical == 0.4
    )
    with pytest.raises(ConfigError, match="psi_warning"):
        with_overrides(cfg, "drift_detection", psi_warning=0.5)
    with pytest.raises(ConfigError, match="unknown key"):
        with_overrides(cfg, "drift_detection", psi=0.5)
    assert cfg.drift_detection.psi_critical == 0.25  # the original is untouched


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [(300, "*/5 * * * *"), (3600, "0 * * * *"), (21600, "0 */6 * * *"), (86400, "0 0 * * *")],
)
def test_interval_to_cron(seconds, cron):
    assert interval_to_cron(seconds) == cron


@pytest.mark.parametrize(
    ("mode", "deferrable"),
    [("airflow_default", None), ("reschedule", False), ("deferrable", True)],
)
def test_sensor_mode_decides_or_leaves_it_to_airflow(raw, mode, deferrable):
    raw["monitoring"]["sensor_mode"] = mode
    cfg = config_from_dict(raw, base_dir=Path("."))
    assert cfg.monitoring.deferrable_sensors is deferrable


def test_without_a_path_or_the_environment_loading_names_both(monkeypatch):
    monkeypatch.delenv("MODELGUARD_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="pass the model config's path or set MODELGUARD_CONFIG"):
        load_config()


def test_a_folder_lists_its_model_configs_in_name_order(tmp_path, raw):
    for name in ("b_model", "a_model"):
        raw["model"]["name"] = name
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / ".hidden.yaml").write_text("x: 1")
    (tmp_path / "notes.txt").write_text("not a config")
    files = model_config_files(tmp_path)
    assert [p.name for p in files] == ["a_model.yaml", "b_model.yaml"]
    assert model_config_files(files[1]) == [files[1]]
    with pytest.raises(
        ConfigError,
        match=r"is a folder of model configs; load one of its files \(a_model.yaml, b_model.yaml\)",
    ):
        load_config(tmp_path)


def test_an_empty_or_missing_config_location_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="holds no \\*.yaml model config"):
        model_config_files(tmp_path)
    with pytest.raises(ConfigError, match="does not exist; point MODELGUARD_CONFIG"):
        model_config_files(tmp_path / "nowhere")


@pytest.mark.parametrize("bad", ["email_engagement.model", "model:", ":train", "a b:c", "x:y:z"])
def test_the_estimator_must_be_a_factory_path(tmp_path, raw, bad):
    raw["model"]["estimator"] = bad
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="model.estimator: .* is not a factory path"):
        load_config(path)


def test_every_error_is_reported_at_once(tmp_path, raw):
    raw["drift_detection"]["psi_bins"] = 1
    raw["drift_detection"]["psi_warning"] = 0.5  # cross-field, its two keys valid
    del raw["deployment"]["min_improvement"]
    raw["retraining"]["cooldown"] = 3
    raw["monitoring"]["sensor_mode"] = "poke"
    raw["monitoring"]["alert_thresholds"]["drift_critical"] = "high"
    raw["monitoring"]["monitoring_interval"] = 4000
    raw["features"]["industry"] = "text"
    raw["features"]["engaged"] = "numeric"
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    errors = info.value.errors
    expected = [
        "drift_detection.psi_bins: 1 is out of range; allowed [2, 100]",
        "drift_detection.psi_warning: 0.5 must be below drift_detection.psi_critical (0.25)",
        "deployment.min_improvement: missing key (required)",
        "retraining.cooldown: unknown key",
        "monitoring.sensor_mode: 'poke' is not allowed",
        "monitoring.alert_thresholds.drift_critical: 'high' is not a number",
        "monitoring.monitoring_interval: 4000 does not divide an hour",
        "features.industry: 'text' is not a feature type",
        "features.engaged: is also the source's time or label column",
    ]
    assert len(errors) == len(expected), errors
    for line in expected:
        assert sum(e.startswith(line) for e in errors) == 1, (line, errors)
    message = str(info.value)
    assert message.splitlines()[0] == f"9 errors in config file {path}:"
    assert [line.strip() for line in message.splitlines()[1:]] == list(errors)


def test_a_single_error_reads_as_the_error_alone(raw):
    raw["drift_detection"]["psi_bins"] = 1
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert str(info.value) == "drift_detection.psi_bins: 1 is out of range; allowed [2, 100]"
    assert info.value.errors == (str(info.value),)


def test_a_bad_section_does_not_hide_the_others(raw):
    raw["source"] = "sends"
    raw["storage"] = {"report_root": 3}
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert info.value.errors == (
        "source: expected a mapping, got 'sends'",
        "storage.registry_conn_id: missing key (required)",
        "storage.artifact_root: missing key (required)",
        "storage.report_root: 3 is not a path string",
    )


def test_every_bad_list_entry_and_override_is_reported(raw):
    raw["drift_detection"]["numeric_tests"] = ["psi", "wasserstein", "energy"]
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert len(info.value.errors) == 2
    assert "'energy' is not allowed" in info.value.errors[1]
    cfg = load_config(EXAMPLE_CONFIG)
    with pytest.raises(ConfigError) as info:
        with_overrides(cfg, "drift_detection", psi=0.5, psi_bins=0, psi_warning=0.3)
    assert [e.split(":")[0] for e in info.value.errors] == [
        "drift_detection.psi",
        "drift_detection.psi_bins",
        "drift_detection.psi_warning",
    ]


def test_config_errors_survive_pickling(raw):
    """Airflow ships a task's exception across processes: the list must travel with it."""
    import pickle

    raw["drift_detection"]["psi_bins"] = 1
    raw["monitoring"]["catchup"] = "no"
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    copy_ = pickle.loads(pickle.dumps(info.value))
    assert copy_.errors == info.value.errors and len(copy_.errors) == 2
    assert str(copy_) == str(info.value)


def test_the_shipped_alerts_notify_the_task_log_only(raw):
    cfg = load_config(EXAMPLE_CONFIG)
    (channel,) = cfg.alerts.channels
    assert (channel.name, channel.type, channel.conn_id, channel.to) == (
        "task_log",
        "log",
        None,
        None,
    )
    assert cfg.alerts.renotify_hours == 24 and cfg.alerts.notify_backfills is False
    assert channel.accepts("warning") and channel.accepts("critical")


def test_alert_channels_are_checked_one_by_one_naming_their_index(raw):
    raw["alerts"]["channels"] = [
        {"name": "log", "type": "log", "min_severity": "warning", "conn_id": "x"},
        {"name": "mail", "type": "email", "min_severity": "critical", "to": ["nobody"]},
        {"name": "mail", "type": "webhook", "min_severity": "high"},
        {"name": "pager", "type": "pagerduty", "min_severity": "warning"},
        {"name": "hook", "type": "webhook", "conn_id": "h", "min_severity": "warning", "to": []},
        "just a string",
    ]
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=Path("."))
    assert list(info.value.errors) == [
        "alerts.channels[0].conn_id: not used by type log; only type email or webhook takes it",
        "alerts.channels[1].conn_id: missing key (required for type email)",
        "alerts.channels[1].to: 'nobody' is not an email address (name@domain)",
        "alerts.channels[2].conn_id: missing key (required for type webhook)",
        "alerts.channels[2].min_severity: 'high' is not allowed; allowed: critical, warning",
        "alerts.channels[3].type: 'pagerduty' is not allowed; allowed: log, email, webhook",
        "alerts.channels[4].to: not used by type webhook; only type email takes it",
        "alerts.channels[5]: expected a mapping, got 'just a string'",
        "alerts.channels: the name 'mail' is given to more than one entry",
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("channels", [], "alerts.channels: [] is not a non-empty list of mappings"),
        ("renotify_hours", 0, "alerts.renotify_hours: 0.0 is out of range; allowed (0, 876000]"),
        ("notification_retries", 11, "alerts.notification_retries: 11 is out of range"),
        ("notify_backfills", "no", "alerts.notify_backfills: 'no' is not a boolean"),
    ],
)
def test_bad_alert_settings(raw, key, value, message):
    raw["alerts"][key] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_from_dict(raw, base_dir=Path("."))


def test_an_email_channel_with_its_connection_and_addresses(raw):
    raw["alerts"]["channels"].append(
        {
            "name": "oncall",
            "type": "email",
            "conn_id": "smtp_default",
            "to": ["a@example.com", "b@example.org"],
            "min_severity": "critical",
        }
    )
    cfg = config_from_dict(raw, base_dir=Path("."))
    mail = cfg.alerts.channels[1]
    assert mail.to == ("a@example.com", "b@example.org") and mail.conn_id == "smtp_default"
    assert mail.accepts("critical") and not mail.accepts("warning")
