"""Train the first engagement model on a window of matured sends and make it the champion.

A thin wrapper over :func:`modelguard.pipelines.bootstrap.run_bootstrap` (what the
``modelguard bootstrap`` command runs), kept for the tests, the demo and
``python -m email_engagement.bootstrap``; the estimator is the config's ``model.estimator``
(this domain's :func:`email_engagement.model.train_model`).
"""

from __future__ import annotations

import sys
from datetime import datetime


def train_and_register(
    config,
    source_engine,
    registry_engine,
    start: datetime,
    end: datetime,
    *,
    run_id: str | None = None,
    make_champion: bool = True,
    strategy: str | None = None,
    as_of: datetime | None = None,
    replace: bool = False,
):
    """Train on the sends of [start, end) whose outcome had matured by ``as_of`` (default: the
    window end) and register; bootstrap it as champion, or leave it a challenger for the gate
    (``make_champion=False``). Returns the registered :class:`ModelVersion`."""
    from modelguard.pipelines.bootstrap import run_bootstrap

    return run_bootstrap(
        config,
        source_engine,
        registry_engine,
        start,
        end,
        as_of=as_of,
        replace=replace,
        make_champion=make_champion,
        strategy=strategy,
        run_id=run_id,
    ).version


def main(argv: list[str] | None = None) -> int:
    """``python -m email_engagement.bootstrap --source-url ... --registry-url ... --start ...
    --end ... [--config ...]``: the same as ``modelguard bootstrap`` with those options."""
    from modelguard.cli import main as modelguard_main

    return modelguard_main(["bootstrap", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
