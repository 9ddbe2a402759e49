"""monitoring.health and retention keys: strict like the rest, and checked against each other."""

from __future__ import annotations

import pytest
import yaml

from modelguard.config import config_from_dict, load_config
from modelguard.exceptions import ConfigError
from tests.world import EXAMPLE_CONFIG, ROOT


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text())


def errors(raw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, base_dir=ROOT / "config")
    return list(info.value.errors)


@pytest.mark.parametrize("name", ["main_config.yaml", "support_escalation.yaml"])
def test_shipped_configs_have_the_health_section(name):
    cfg = load_config(ROOT / "config" / name)
    health = cfg.monitoring.health
    assert health.row_count_season == "week" and health.row_count_points == 4
    assert cfg.monitoring.retention_batch_size == 500


def test_every_health_key_is_required_and_unknown_ones_are_refused(raw):
    del raw["monitoring"]["health"]["recent_runs"]
    raw["monitoring"]["health"]["max_stalenes_hours"] = 3
    found = errors(raw)
    assert "monitoring.health.recent_runs: missing key (required)" in found
    assert any(e.startswith("monitoring.health.max_stalenes_hours: unknown key") for e in found)


def test_health_values_are_range_checked(raw):
    raw["monitoring"]["health"].update(
        max_staleness_hours=0, row_count_season="month", row_count_low_ratio=1.0
    )
    raw["monitoring"]["retention_batch_size"] = 0
    found = errors(raw)
    assert any(
        e.startswith("monitoring.health.max_staleness_hours: 0.0 is out of range") for e in found
    )
    assert "monitoring.health.row_count_season: 'month' is not allowed; allowed: day, week" in found
    assert any(
        e.startswith("monitoring.health.row_count_low_ratio: 1.0 is out of range") for e in found
    )
    assert any(e.startswith("monitoring.retention_batch_size: 0 is out of range") for e in found)


def test_retention_must_keep_what_the_cooldown_and_recent_runs_read(raw):
    raw["monitoring"]["max_history_days"] = 5  # 120 h < 2 x cooldown_hours (72)
    raw["monitoring"]["health"]["recent_runs"] = 6
    found = errors(raw)
    assert any(
        e.startswith("retraining.cooldown_hours: 72 h needs 144 h of stored decisions")
        and "at least 6" in e
        for e in found
    ), found
    assert any(e.startswith("monitoring.health.recent_runs: 6 intervals") for e in found)
    raw["monitoring"]["max_history_days"] = 6
    config_from_dict(raw, base_dir=ROOT / "config")


def test_the_row_count_history_must_hold_enough_points(raw):
    raw["monitoring"]["health"].update(row_count_history_days=14, row_count_min_points=3)
    (found,) = errors(raw)
    assert found.startswith("monitoring.health.row_count_history_days: 14 days hold 2 earlier")
    raw["monitoring"]["health"]["row_count_season"] = "day"
    assert config_from_dict(raw, base_dir=ROOT / "config").monitoring.health.row_count_points == 14
