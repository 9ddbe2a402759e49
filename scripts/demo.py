"""`make demo`: seed months of synthetic sends, bootstrap a champion, run monitoring in Airflow.

Run through the Makefile, which sets AIRFLOW_HOME, the connections and PYTHONPATH. Rerunnable:
seeding replaces its time range and a registered champion is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

SEED_START = datetime(2026, 6, 1)
SEED_END = datetime(2026, 10, 1)
DRIFT_START = datetime(2026, 9, 1)
TRAIN_END = datetime(2026, 8, 1)
HEALTHY_RUN = datetime(2026, 8, 20)  # monitors the 24 h before it
DRIFTED_RUN = datetime(2026, 9, 20)
DAG_ID = "modelguard_monitoring"


def _url_from_conn_env(name: str) -> str:
    conn = json.loads(os.environ[name])
    return f"sqlite:///{conn['host']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", type=Path, required=True, help="folder for the demo databases")
    parser.add_argument("--sends-per-hour", type=int, default=60)
    args = parser.parse_args()
    args.var.mkdir(parents=True, exist_ok=True)

    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.config import load_config
    from modelguard.exceptions import NoChampionError
    from modelguard.registry import ModelRegistry
    from modelguard.source import engine_for_url
    from modelguard.store import ResultStore

    config = load_config()
    source = engine_for_url(_url_from_conn_env("AIRFLOW_CONN_MODELGUARD_SOURCE"))
    registry_engine = engine_for_url(_url_from_conn_env("AIRFLOW_CONN_MODELGUARD_REGISTRY"))

    print(f"== 1. Seeding {SEED_START:%Y-%m-%d}..{SEED_END:%Y-%m-%d} of synthetic sends")
    print(f"      covariate shift from {DRIFT_START:%Y-%m-%d}, {args.sends_per_hour}/hour")
    t0 = time.perf_counter()
    rows = seed_source(
        source,
        SEED_START,
        SEED_END,
        seed=7,
        sends_per_hour=args.sends_per_hour,
        scenario="covariate_shift",
        drift_start=DRIFT_START,
    )
    print(f"      {rows} rows written in {time.perf_counter() - t0:.1f}s")

    registry = ModelRegistry(registry_engine)
    registry.ensure_schema()
    try:
        champion = registry.get_champion(config.model.name)
        print(f"== 2. Champion already registered: {champion.label}")
    except NoChampionError:
        print(f"== 2. Training the first model on {SEED_START:%Y-%m-%d}..{TRAIN_END:%Y-%m-%d}")
        champion = train_and_register(
            config, source, registry_engine, SEED_START, TRAIN_END, run_id="demo_bootstrap"
        )
        print(f"      champion: {champion.label}")
    m = champion.metrics
    print(
        f"      holdout accuracy {m['accuracy']:.3f}, ROC AUC {m['roc_auc']:.3f}, "
        f"engagement rate {m['engagement_rate']:.3f}"
    )

    store = ResultStore(registry_engine)
    for label, run_at in (("healthy", HEALTHY_RUN), ("drifted", DRIFTED_RUN)):
        print(f"== 3. Airflow: dags test {DAG_ID} {run_at:%Y-%m-%dT%H:%M} ({label} period)")
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["airflow", "dags", "test", DAG_ID, run_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")],
            capture_output=True,
            text=True,
        )
        log = args.var / f"dags_test_{run_at:%Y%m%d}.log"
        log.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            print(f"      FAILED (exit {proc.returncode}); log: {log}")
            print("\n".join((proc.stdout + proc.stderr).splitlines()[-30:]))
            return 1
        window_start = run_at - timedelta(hours=config.monitoring.window_hours)
        run = store.get_drift_run(DAG_ID, window_start, run_at)
        decision = store.get_decision(DAG_ID, window_start, run_at)
        print(f"      finished in {time.perf_counter() - t0:.0f}s; Airflow log: {log}")
        print(f"      window {window_start:%Y-%m-%d %H:%M} .. {run_at:%Y-%m-%d %H:%M} UTC")
        print(f"      verdict: {run.verdict.upper()} -> branch decision: {decision.decision}")
        print(f"      {run.summary.get('text')}")
        print(f"      report: {run.html_uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
