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
DRIFT_START = datetime(2026, 9, 1)  # covariate shift: inputs move, the relation stays
CONCEPT_START = datetime(2026, 10, 1)  # concept drift: inputs as before, the relation changes
SEED_END = datetime(2026, 11, 1)
TRAIN_END = datetime(2026, 8, 1)
HEALTHY_RUN = datetime(2026, 8, 20)  # monitors the 24 h before it
DRIFTED_RUN = datetime(2026, 9, 20)
SHIFT_CHALLENGER = (datetime(2026, 9, 1), datetime(2026, 9, 18))
SHIFT_GATE_AS_OF = datetime(2026, 10, 1)
CONCEPT_CHALLENGER = (datetime(2026, 10, 1), datetime(2026, 10, 20))
CONCEPT_GATE_AS_OF = datetime(2026, 11, 1)
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
    print(f"      covariate shift from {DRIFT_START:%Y-%m-%d}, concept drift from ", end="")
    print(f"{CONCEPT_START:%Y-%m-%d}, {args.sends_per_hour}/hour")
    t0 = time.perf_counter()
    common = dict(seed=7, sends_per_hour=args.sends_per_hour)
    rows = seed_source(
        source,
        SEED_START,
        CONCEPT_START,
        scenario="covariate_shift",
        drift_start=DRIFT_START,
        **common,
    )
    rows += seed_source(
        source,
        CONCEPT_START,
        SEED_END,
        scenario="concept_drift",
        drift_start=CONCEPT_START,
        **common,
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
        if not dags_test(args.var, DAG_ID, run_at):
            return 1
        window_start = run_at - timedelta(hours=config.monitoring.window_hours)
        run = store.get_drift_run(DAG_ID, window_start, run_at)
        decision = store.get_decision(DAG_ID, window_start, run_at)
        print(f"      window {window_start:%Y-%m-%d %H:%M} .. {run_at:%Y-%m-%d %H:%M} UTC")
        print(f"      verdict: {run.verdict.upper()} -> branch decision: {decision.decision}")
        print(f"      {run.summary.get('text')}")
        print(f"      report: {run.html_uri}")

    gate_story = (
        ("covariate-shift", SHIFT_CHALLENGER, SHIFT_GATE_AS_OF),
        ("concept-drift", CONCEPT_CHALLENGER, CONCEPT_GATE_AS_OF),
    )
    for label, (start, end), as_of in gate_story:
        print(f"== 4. A challenger trained on the {label} period {start:%m-%d}..{end:%m-%d}")
        challenger = train_and_register(
            config,
            source,
            registry_engine,
            start,
            end,
            make_champion=False,
            run_id="demo",
            as_of=end + timedelta(days=4),  # trained once the window's labels had matured
        )
        print(f"      registered {challenger.label} as challenger")
        print(f"      Airflow: dags test modelguard_deployment {as_of:%Y-%m-%dT%H:%M}")
        if not dags_test(args.var, "modelguard_deployment", as_of):
            return 1
        evaluated = [e for e in registry.events(config.model.name) if e.event == "evaluated"]
        result = evaluated[-1].details.get("result", {})
        status = registry.get_version(challenger.id).status
        print(
            f"      McNemar ({result.get('test')}): b={result.get('b')} c={result.get('c')} "
            f"p={result.get('pvalue'):.3g}; {result.get('primary_metric')} "
            f"{result['champion'][result['primary_metric']]:.3f} -> "
            f"{result['challenger'][result['primary_metric']]:.3f}"
        )
        print(f"      decision: {result.get('decision')}; challenger is now {status}")
        print(f"      reasons: {'; '.join(result.get('reasons', []))}")

    print("== 5. A person rolls back by hand: modelguard_rollback (reason from the form)")
    before = registry.get_champion(config.model.name)
    conf = json.dumps({"reason": "demo: revert to the previous champion"})
    if not dags_test(args.var, "modelguard_rollback", None, conf=conf):
        return 1
    after = registry.get_champion(config.model.name)
    print(f"      champion {before.label} -> {after.label}")
    print("      registry event log:")
    for e in registry.events(config.model.name):
        print(f"        {e.at:%H:%M:%S} {e.event:<16} version id {e.version_id}: {e.reason or ''}")
    return 0


def dags_test(var: Path, dag_id: str, run_at: datetime | None, conf: str | None = None) -> bool:
    """``airflow dags test`` in a subprocess, as a user would run it; the log goes to a file."""
    cmd = ["airflow", "dags", "test", dag_id]
    if run_at is not None:
        cmd.append(run_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    if conf:
        cmd += ["--conf", conf]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    stamp = f"{run_at:%Y%m%d}" if run_at else "manual"
    log = var / f"dags_test_{dag_id}_{stamp}.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or "state=failed" in proc.stdout + proc.stderr:
        print(f"      FAILED (exit {proc.returncode}); log: {log}")
        print("\n".join((proc.stdout + proc.stderr).splitlines()[-30:]))
        return False
    print(f"      finished in {time.perf_counter() - t0:.0f}s; Airflow log: {log}")
    return True


if __name__ == "__main__":
    sys.exit(main())
