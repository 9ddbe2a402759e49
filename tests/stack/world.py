"""The data the stack tests watch, on the private PostgreSQL server.

One timeline, measured once by running the same checks without Airflow (20 sends an hour):

* June: the first champion is trained on 06-01..06-25 and bootstrapped.
* July: quiet, but for a new-audience *episode* on 07-15 and 07-16 (covariate shift): the
  daily windows of those two days drift (major), so the 07-15 window decides ``retrain`` and
  the 07-16 one ``cooldown``; every other July day is healthy.
* From 08-10: the feature->engagement relation changes (concept drift): the run ending 09-10
  measures degraded performance (relative drop ~14 %) and concept drift and decides
  ``retrain``; a challenger trained on the last month then beats the champion (McNemar
  p ~ 1e-28, +8.5 accuracy points) and is deployed.
* Seeded until 09-20; the days after are left empty for the waiting-sensor tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.world import write_config

SEED_START = datetime(2026, 6, 1)
CHAMPION = (datetime(2026, 6, 1), datetime(2026, 6, 25))
EPISODE = (datetime(2026, 7, 15), datetime(2026, 7, 17))
CONCEPT_START = datetime(2026, 8, 10)
SEED_END = datetime(2026, 9, 20)
BACKFILL = (datetime(2026, 7, 1), datetime(2026, 7, 30))  # logical dates: 30 daily intervals
DEGRADED_RUN = datetime(2026, 9, 10)  # the run whose window ends here sees degraded performance
SENDS_PER_HOUR = 20
SEED = 41

# Small waits and pokes so that waiting paths finish within a test; the rest as shipped, but
# for the retraining strategy the measurement above used.
CONFIG_OVERRIDES = {
    "retraining": {"weighted_retraining": False, "sliding_window_months": 1},
    "monitoring": {
        "data_wait_minutes": 1,
        "label_wait_minutes": 2,
        "data_poke_seconds": 5,
        "label_poke_seconds": 5,
    },
}


@dataclass(frozen=True)
class StackWorld:
    root: Path
    config_path: Path
    source_url: str
    registry_url: str


def segments() -> list[tuple[datetime, datetime, dict]]:
    return [
        (SEED_START, EPISODE[0], {"scenario": "none"}),
        (*EPISODE, {"scenario": "covariate_shift", "drift_start": EPISODE[0]}),
        (EPISODE[1], CONCEPT_START, {"scenario": "none"}),
        (
            CONCEPT_START,
            SEED_END,
            {"scenario": "concept_drift", "drift_start": CONCEPT_START, "magnitude": 1.5},
        ),
    ]


def seed_days(source_url: str, start: datetime, end: datetime) -> int:
    """Write [start, end) as the concept-drift regime continues (for the waiting sensors)."""
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    return seed_source(
        engine_for_url(source_url),
        start,
        end,
        seed=SEED,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="concept_drift",
        drift_start=CONCEPT_START,
        magnitude=1.5,
    )


def build_stack_world(root: Path, source_url: str, registry_url: str) -> StackWorld:
    """Seed the timeline and bootstrap the first champion."""
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from email_engagement.schema import LABEL_DELAY_HOURS
    from modelguard.config import load_config
    from modelguard.storage.source import engine_for_url

    root.mkdir(parents=True, exist_ok=True)
    config_path = write_config(root, **CONFIG_OVERRIDES)
    config = load_config(config_path)
    source = engine_for_url(source_url)
    for start, end, kwargs in segments():
        seed_source(source, start, end, seed=SEED, sends_per_hour=SENDS_PER_HOUR, **kwargs)
    train_and_register(
        config,
        source,
        engine_for_url(registry_url),
        *CHAMPION,
        run_id="stack_bootstrap",
        as_of=CHAMPION[1] + timedelta(hours=LABEL_DELAY_HOURS),
    )
    return StackWorld(root, config_path, source_url, registry_url)


def models_folder(root: Path, source_url: str, registry_url: str) -> tuple[Path, dict]:
    """The stack world (seeded, first champion bootstrapped) with its model's config alone in a
    folder ``root/models``, for modules that put other models beside it: (folder, raw config)."""
    import yaml

    email = build_stack_world(root / "email", source_url, registry_url)
    folder = root / "models"
    folder.mkdir()
    raw = yaml.safe_load(email.config_path.read_text())
    (folder / "email_engagement.yaml").write_text(yaml.safe_dump(raw))
    return folder, raw
