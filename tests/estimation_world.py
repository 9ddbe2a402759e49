"""A world for the estimated performance: no drift until ESTIMATE_SHIFT_START, then a covariate
shift that hurts the champion's accuracy (personalization and past opens move up, so more sends
score near the decision threshold, where the champion is least sure; the outcome stays the same
function of the inputs). Shared by the pipeline tests, the DAG run and the stack test."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from tests.world import SENDS_PER_HOUR, World, matured, new_world

ESTIMATE_SEED_START = datetime(2026, 6, 1)
ESTIMATE_CHAMPION = (datetime(2026, 6, 1), datetime(2026, 7, 1))
ESTIMATE_SHIFT_START = datetime(2026, 8, 15)
ESTIMATE_SEED_END = datetime(2026, 8, 20)
ESTIMATE_SHIFT_FEATURES = ("personalization_score", "past_opens")
# Daily windows [d - 1 day, d) with no drift: 2026-07-03 .. 2026-08-14 (43 windows).
QUIET_RUNS = [datetime(2026, 7, 3) + timedelta(days=k) for k in range(43)]
# The first run whose whole window is shifted; its labels mature only on 2026-08-20.
SHIFTED_RUN = datetime(2026, 8, 17)


def build_estimation_world(
    root: Path,
    *,
    source_url: str | None = None,
    registry_url: str | None = None,
    **section_overrides: dict,
) -> World:
    """The seeded source and a champion bootstrapped on June (its calibration stored then)."""
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    world = new_world(root, **section_overrides)
    world = dataclasses.replace(
        world,
        source_url=source_url or world.source_url,
        registry_url=registry_url or world.registry_url,
    )
    source = engine_for_url(world.source_url)
    seed_source(
        source,
        ESTIMATE_SEED_START,
        ESTIMATE_SEED_END,
        seed=41,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="covariate_shift",
        drift_start=ESTIMATE_SHIFT_START,
        drift_features=ESTIMATE_SHIFT_FEATURES,
    )
    train_and_register(
        world.config,
        source,
        engine_for_url(world.registry_url),
        *ESTIMATE_CHAMPION,
        as_of=matured(ESTIMATE_CHAMPION[1]),
    )
    return world
