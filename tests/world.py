"""A small but real monitoring world: a seeded SQLite source, a registry with a champion, and a
config file pointing at both. Shared by the monitoring unit tests and the DAG runs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from email_engagement.schema import LABEL_DELAY_HOURS
from modelguard.config import ModelguardConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config" / "main_config.yaml"
"""The example model's config (email_engagement): tests copy it and change what they test."""

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

        def conn(url: str) -> str:
            return json.dumps(
                {"conn_type": url.split(":", 1)[0].split("+")[0], "extra": {"sqlalchemy_url": url}}
            )

        return {
            "MODELGUARD_CONFIG": str(self.config_path),
            "AIRFLOW_CONN_MODELGUARD_SOURCE": conn(self.source_url),
            "AIRFLOW_CONN_MODELGUARD_REGISTRY": conn(self.registry_url),
        }


def write_config(root: Path, **section_overrides: dict) -> Path:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    raw["storage"]["artifact_root"] = str(root / "artifacts")
    raw["storage"]["report_root"] = str(root / "reports")
    for section, values in section_overrides.items():
        raw[section].update(values)
    path = root / "main_config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def new_world(root: Path, **section_overrides: dict) -> World:
    """An empty world: a config whose artifacts and reports live under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    config_path = write_config(root, **section_overrides)
    return World(
        root=root,
        config_path=config_path,
        config=load_config(config_path),
        source_url=f"sqlite:///{root / 'source.db'}",
        registry_url=f"sqlite:///{root / 'registry.db'}",
    )


def build_world(root: Path, *, with_champion: bool = True) -> World:
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    world = new_world(root)
    config = world.config
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


# A world for the champion/challenger gate: the feature->engagement relation changes on
# GATE_DRIFT_START (concept drift), so a model trained before it goes stale and one trained
# after it is truly better.
GATE_SEED_START = datetime(2026, 6, 1)
GATE_DRIFT_START = datetime(2026, 7, 1)
GATE_SEED_END = datetime(2026, 7, 30)
# v1, the champion: deliberately weak (half a day of data)
WEAK_CHAMPION = (datetime(2026, 6, 1), datetime(2026, 6, 1, 12))
# v2: a good pre-drift model. Evaluated as of GATE_ROLLBACK_AS_OF its validation window is
# pre-drift (it wins) and its post-deployment window post-drift (it fails the check).
PRE_DRIFT_CHALLENGER = (datetime(2026, 6, 2), datetime(2026, 6, 20))
GATE_ROLLBACK_AS_OF = datetime(2026, 7, 6)
# v3 and v4: post-drift models; as of GATE_DEPLOY_AS_OF everything the gate reads is post-drift.
POST_DRIFT_CHALLENGER = (datetime(2026, 7, 3), datetime(2026, 7, 15))
TWIN_CHALLENGER = (datetime(2026, 7, 4), datetime(2026, 7, 16))
GATE_DEPLOY_AS_OF = datetime(2026, 7, 29)


def build_gate_world(root: Path) -> World:
    """Seeded source with concept drift and the weak v1 champion bootstrapped."""
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    world = new_world(root)
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        GATE_SEED_START,
        GATE_SEED_END,
        seed=21,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="concept_drift",
        drift_start=GATE_DRIFT_START,
        magnitude=1.5,
    )
    train_and_register(
        world.config,
        source,
        engine_for_url(world.registry_url),
        *WEAK_CHAMPION,
        as_of=matured(WEAK_CHAMPION[1]),
    )
    return world


def register_challenger(world: World, window: tuple[datetime, datetime]):
    from email_engagement.bootstrap import train_and_register
    from modelguard.storage.source import engine_for_url

    return train_and_register(
        world.config,
        engine_for_url(world.source_url),
        engine_for_url(world.registry_url),
        *window,
        make_champion=False,
        as_of=matured(window[1]),
    )


def matured(end: datetime) -> datetime:
    """When every outcome of sends before ``end`` is known."""
    return end + timedelta(hours=LABEL_DELAY_HOURS)


# A world for the whole retraining path: a new audience arrives on AUDIENCE_START (inputs shift
# and the feature->engagement relation changes), so monitoring sees drift and a model retrained
# on the new regime beats the stale champion.
AUDIENCE_SEED_START = datetime(2026, 6, 1)
AUDIENCE_START = datetime(2026, 7, 1)
AUDIENCE_SEED_END = datetime(2026, 8, 12)
AUDIENCE_CHAMPION = (datetime(2026, 6, 1), datetime(2026, 6, 25))
AUDIENCE_QUIET_RUN = datetime(2026, 6, 28)  # everything it reads is before the new audience
AUDIENCE_DRIFT_RUN = datetime(2026, 8, 10)  # everything it reads is after it
AUDIENCE_RETRAINING = {"weighted_retraining": False, "sliding_window_months": 1}


def build_audience_world(
    root: Path, *, source_url: str | None = None, registry_url: str | None = None
) -> World:
    """Seeded source (audience shift) and a pre-shift champion; SQLite unless URLs are given."""
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    world = new_world(root, retraining=AUDIENCE_RETRAINING)
    world = dataclasses.replace(
        world,
        source_url=source_url or world.source_url,
        registry_url=registry_url or world.registry_url,
    )
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        AUDIENCE_SEED_START,
        AUDIENCE_SEED_END,
        seed=31,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="audience_shift",
        drift_start=AUDIENCE_START,
    )
    train_and_register(
        world.config,
        source,
        engine_for_url(world.registry_url),
        *AUDIENCE_CHAMPION,
        as_of=matured(AUDIENCE_CHAMPION[1]),
    )
    return world


def monitor(world: World, run_at: datetime, *, dag_id: str | None = None) -> dict:
    """One monitoring interval (the ``window_hours`` before ``run_at``) end to end without
    Airflow, as the tasks of the model's monitoring DAG (``dag_id``) run it: drift, performance
    and concept drift, then the decision. Returns the decision's verdict (its XCom)."""
    from modelguard.core.window import Window
    from modelguard.drift.detection import resolve_thresholds
    from modelguard.factory.ids import ModelDagIds
    from modelguard.pipelines.drift_check import run_drift_check
    from modelguard.pipelines.label_checks import (
        matured_window,
        run_concept_check,
        run_performance_check,
    )
    from modelguard.pipelines.retrain_decision import decide_retraining
    from modelguard.storage.source import engine_for_url

    config = world.config
    dag_id = dag_id or ModelDagIds(config.model.name).monitoring
    window = Window(run_at - timedelta(hours=config.monitoring.window_hours), run_at)
    engines = dict(
        source_engine=engine_for_url(world.source_url),
        registry_engine=engine_for_url(world.registry_url),
    )
    drift = run_drift_check(
        config=config,
        thresholds=resolve_thresholds(config.drift_detection),
        window=window,
        dag_id=dag_id,
        run_id=f"monitor_{window.label}",
        **engines,
    )
    labelled = matured_window(
        Window(run_at - timedelta(hours=config.monitoring.label_window_hours), run_at),
        config.source.label_delay_hours,
    )
    checks = dict(
        config=config, window=labelled, as_of=run_at, dag_id=dag_id, run_id="m", **engines
    )
    return decide_retraining(
        config=config,
        drift=drift,
        performance=run_performance_check(**checks),
        concept=run_concept_check(**checks),
        window=window,
        dag_id=dag_id,
        run_id=f"monitor_{window.label}",
        **engines,
    )
