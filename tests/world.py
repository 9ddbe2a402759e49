"""A small but real monitoring world: a seeded SQLite source, a registry with a champion, and a
config file pointing at both. Shared by the monitoring unit tests and the DAG runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from modelguard.config import DEFAULT_CONFIG_PATH, ModelguardConfig, load_config

SEED_START = datetime(2026, 6, 1)
TRAIN_END = datetime(2026, 7, 1)
DRIFT_START = datetime(2026, 7, 10)
SEED_END = datetime(2026, 7, 20)
HEALTHY_RUN = datetime(2026, 7, 5)  # the 24 h before it are healthy
DRIFTED_RUN = datetime(2026, 7, 15)
SENDS_PER_HOUR = 30


@dataclass(frozen=True)
class World:
    root: Path
    config_path: Path
    config: ModelguardConfig
    source_url: str
    registry_url: str

    def env(self) -> dict[str, str]:
        """Environment that points Airflow and modelguard at this world."""
        return {
            "MODELGUARD_CONFIG": str(self.config_path),
            "AIRFLOW_CONN_MODELGUARD_SOURCE": json.dumps(
                {"conn_type": "sqlite", "host": str(self.root / "source.db")}
            ),
            "AIRFLOW_CONN_MODELGUARD_REGISTRY": json.dumps(
                {"conn_type": "sqlite", "host": str(self.root / "registry.db")}
            ),
        }


def write_config(root: Path, **section_overrides: dict) -> Path:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["storage"]["artifact_root"] = str(root / "artifacts")
    raw["storage"]["report_root"] = str(root / "reports")
    for section, values in section_overrides.items():
        raw[section].update(values)
    path = root / "main_config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def build_world(root: Path, *, with_champion: bool = True) -> World:
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.source import engine_for_url

    root.mkdir(parents=True, exist_ok=True)
    config_path = write_config(root)
    config = load_config(config_path)
    world = World(
        root=root,
        config_path=config_path,
        config=config,
        source_url=f"sqlite:///{root / 'source.db'}",
        registry_url=f"sqlite:///{root / 'registry.db'}",
    )
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        SEED_START,
        SEED_END,
        seed=11,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="covariate_shift",
        drift_start=DRIFT_START,
    )
    if with_champion:
        train_and_register(
            config, source, engine_for_url(world.registry_url), SEED_START, TRAIN_END
        )
    return world
