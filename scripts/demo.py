"""`make demo`: the modelguard story, run through Airflow on the embedded SQLite default.

Seeds months of synthetic sends in which a new audience arrives (inputs shift and the
feature->engagement relation changes), bootstraps the first champion, then runs the DAGs with
``airflow dags test``: monitoring on a healthy and a drifted day, the retraining that monitoring
starts (strategy, window, McNemar gate, deployment), and a manual rollback. Run through the
Makefile, which sets AIRFLOW_HOME and the connections (modelguard and the example models are
editable installs in the venv, see `make install`). Rerunnable: seeding replaces
its time range and a registered champion is reused.
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
AUDIENCE_START = datetime(2026, 9, 1)  # inputs shift and the relation changes
SEED_END = datetime(2026, 10, 20)
TRAIN_END = datetime(2026, 8, 1)
HEALTHY_RUN = datetime(2026, 8, 20)  # monitors the 24 h before it
DRIFTED_RUN = datetime(2026, 10, 15)
MONITORING = "email_engagement_monitoring"
SUPPORT_MONITORING = "support_escalation_monitoring"
SUPPORT_LAUNCH = datetime(2026, 9, 15)  # a new product area opens and tickets grow longer
SUPPORT_QUIET_RUN = datetime(2026, 9, 10)  # monitors the 24 h before it
SUPPORT_LAUNCH_RUN = datetime(2026, 9, 20)


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
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.results import ResultStore
    from modelguard.storage.source import engine_for_url

    folder = Path(os.environ["MODELGUARD_CONFIG"])
    config = load_config(folder / "main_config.yaml")
    support_config = load_config(folder / "support_escalation.yaml")
    name = config.model.name
    source = engine_for_url(_url_from_conn_env("AIRFLOW_CONN_MODELGUARD_SOURCE"))
    registry_engine = engine_for_url(_url_from_conn_env("AIRFLOW_CONN_MODELGUARD_REGISTRY"))

    print(f"== 1. Seeding {SEED_START:%Y-%m-%d}..{SEED_END:%Y-%m-%d} of synthetic sends")
    print(f"      a new audience from {AUDIENCE_START:%Y-%m-%d}: company size, subject length and")
    print("      past opens shift, and personalization / send hour / follow-ups work differently")
    t0 = time.perf_counter()
    rows = seed_source(
        source,
        SEED_START,
        SEED_END,
        seed=7,
        sends_per_hour=args.sends_per_hour,
        scenario="audience_shift",
        drift_start=AUDIENCE_START,
    )
    print(f"      {rows} rows written in {time.perf_counter() - t0:.1f}s")

    registry = ModelRegistry(registry_engine)
    registry.ensure_schema()
    try:
        champion = registry.get_champion(name)
        print(f"== 2. Champion already registered: {champion.label}")
    except NoChampionError:
        print(f"== 2. Training the first model on {SEED_START:%Y-%m-%d}..{TRAIN_END:%Y-%m-%d}")
        champion = train_and_register(
            config,
            source,
            registry_engine,
            SEED_START,
            TRAIN_END,
            run_id="demo_bootstrap",
            as_of=TRAIN_END + timedelta(hours=config.source.label_delay_hours),
        )
        print(f"      champion: {champion.label} (bootstrapped: the gate needs a champion)")
    m = champion.metrics
    print(
        f"      holdout accuracy {m['accuracy']:.3f}, ROC AUC {m['roc_auc']:.3f}, "
        f"engagement rate {m['engagement_rate']:.3f}"
    )

    support_champion = bootstrap_support(support_config, source, registry_engine, registry, args)

    from modelguard.storage.alerts import AlertStore

    store = ResultStore(registry_engine)
    for label, run_at in (("healthy", HEALTHY_RUN), ("new-audience", DRIFTED_RUN)):
        print(f"== 3. Airflow: dags test {MONITORING} {run_at:%Y-%m-%dT%H:%M} ({label} period)")
        if not dags_test(args.var, MONITORING, run_at):
            return 1
        window_start = run_at - timedelta(hours=config.monitoring.window_hours)
        run = store.get_drift_run(MONITORING, window_start, run_at)
        decision = store.get_decision(MONITORING, window_start, run_at)
        print(f"      drift window {window_start:%Y-%m-%d %H:%M} .. {run_at:%Y-%m-%d %H:%M} UTC")
        print(f"      {run.summary.get('text')}")
        print(f"      report: {run.html_uri}")
        checks = store.checks(MONITORING, *_label_window(config, run_at))
        for check in checks:
            print(
                f"      {check.check_name} on matured labels: {check.status} "
                f"({check.result.get('reason')})"
            )
        print(f"      decision: {decision.decision.upper()}: {decision.reason}")
        alerts = [
            a
            for a in AlertStore(registry_engine).list_alerts(name)
            if a.last_interval_end == run_at
        ]
        for alert in alerts:
            print(
                f"      alert #{alert.alert_id} ({alert.status}, told the task log): "
                f"{alert.severity} {alert.kind}: {alert.message[:100]}"
            )
        if not alerts:
            print("      alerts: none in this interval")

    print("== 4. The retraining monitoring started (run with the conf it was given)")
    queued = _queued_conf(DRIFTED_RUN, config)
    if not retrain(args.var, registry, name, queued):
        return 1
    if registry.get_champion(name).id == champion.id:
        print("== 4b. A person retrains from the trigger form: sliding_window, the last month")
        manual = {
            "strategy": "sliding_window",
            "window_months": 1,
            "reason": "demo: retrain on the new audience only",
            "as_of": queued["as_of"],
        }
        if not retrain(args.var, registry, name, manual):
            return 1

    print("== 5. A person rolls back by hand: email_engagement_rollback (reason from the form)")
    before = registry.get_champion(name)
    conf = json.dumps({"reason": "demo: revert to the previous champion"})
    if not dags_test(args.var, "email_engagement_rollback", None, conf=conf):
        return 1
    after = registry.get_champion(name)
    print(f"      champion {before.label} -> {after.label}")
    print("      registry event log:")
    for e in registry.events(name):
        reason = (e.reason or "")[:110]
        print(f"        {e.at:%H:%M:%S} {e.event:<22} version id {e.version_id}: {reason}")

    print(f"== 6. The second model, side by side: {support_config.model.name}")
    for label, run_at in (("quiet", SUPPORT_QUIET_RUN), ("product-launch", SUPPORT_LAUNCH_RUN)):
        print(f"      dags test {SUPPORT_MONITORING} {run_at:%Y-%m-%dT%H:%M} ({label})")
        if not dags_test(args.var, SUPPORT_MONITORING, run_at):
            return 1
        window_start = run_at - timedelta(hours=support_config.monitoring.window_hours)
        run = store.get_drift_run(SUPPORT_MONITORING, window_start, run_at)
        decision = store.get_decision(SUPPORT_MONITORING, window_start, run_at)
        print(f"      {run.summary.get('text')}")
        print(f"      decision: {decision.decision.upper()}")
    still = registry.get_champion(support_config.model.name)
    events = [e.event for e in registry.events(support_config.model.name)]
    print(
        f"      its champion is still {still.label} (was {support_champion.label}); its event "
        f"log: {', '.join(events)}; the email model's retraining and rollback touched neither"
    )
    if still.id != support_champion.id:
        print("      FAILED: the support model's champion changed")
        return 1
    return 0


def bootstrap_support(config, source, registry_engine, registry, args):
    """Seed the support tickets (a product launch in September) and bootstrap its champion."""
    from email_engagement.bootstrap import train_and_register
    from modelguard.exceptions import NoChampionError
    from support_escalation.generator import seed_source

    print(f"== 2b. The second model, {config.model.name}: tickets with a product launch on")
    print(f"      {SUPPORT_LAUNCH:%Y-%m-%d} (a new product area, longer messages)")
    rows = seed_source(
        source,
        SEED_START,
        SEED_END,
        seed=11,
        tickets_per_hour=max(args.sends_per_hour // 2, 20),
        scenario="product_launch",
        drift_start=SUPPORT_LAUNCH,
    )
    print(f"      {rows} tickets written to table {config.source.table}")
    try:
        champion = registry.get_champion(config.model.name)
        print(f"      champion already registered: {champion.label}")
    except NoChampionError:
        champion = train_and_register(
            config,
            source,
            registry_engine,
            SEED_START,
            TRAIN_END,
            run_id="demo_bootstrap",
            as_of=TRAIN_END + timedelta(hours=config.source.label_delay_hours),
        )
        print(f"      champion: {champion.label}, its own estimator {config.model.estimator}")
    return champion


def retrain(var: Path, registry, name: str, conf: dict) -> bool:
    """Run email_engagement_retraining with ``conf`` and print what it trained and decided."""
    if not dags_test(var, "email_engagement_retraining", None, conf=json.dumps(conf)):
        return False
    newest = registry.list_versions(name)[-1]
    training = newest.metrics.get("training", {})
    window = training.get("window", {})
    weights = training.get("weights") or {}
    print(
        f"      trained {newest.label} with strategy {training.get('strategy')} on sends "
        f"{window.get('start', '')[:10]} .. {window.get('end', '')[:10]}: "
        f"{training.get('rows')} rows, {training.get('positives')} engaged"
        + (f", effective n {weights.get('effective_n'):.0f}" if weights else "")
    )
    evaluated = [e for e in registry.events(name) if e.event == "evaluated"]
    if evaluated and evaluated[-1].version_id == newest.id:
        result = evaluated[-1].details.get("result", {})
        metric = result.get("primary_metric")
        print(
            f"      McNemar ({result.get('test')}): b={result.get('b')} c={result.get('c')} "
            f"p={result.get('pvalue'):.3g}; {metric} {result['champion'][metric]:.3f} -> "
            f"{result['challenger'][metric]:.3f}"
        )
        print(f"      decision: {result.get('decision')}: {'; '.join(result.get('reasons', []))}")
    checks = [e for e in registry.events(name) if e.event == "post_deployment_check"]
    if checks and checks[-1].version_id == newest.id:
        print(f"      post-deployment check: {checks[-1].reason}")
    print(
        f"      {newest.label} is {registry.get_version(newest.id).status}; champion: "
        f"{registry.get_champion(name).label}"
    )
    return True


def _label_window(config, run_at: datetime) -> tuple[datetime, datetime]:
    end = run_at - timedelta(hours=config.source.label_delay_hours)
    return end - timedelta(hours=config.monitoring.label_window_hours), end


def _queued_conf(run_at: datetime, config) -> dict:
    """The conf monitoring queued for email_engagement_retraining (read back from Airflow's DB)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = (
            session.query(DagRun)
            .filter(
                DagRun.dag_id == "email_engagement_retraining", DagRun.run_id.like("retrain__%")
            )
            .order_by(DagRun.id.desc())
            .first()
        )
        if run is not None and run.conf:
            print(f"      queued by monitoring: {run.run_id}")
            print(f"      reason: {run.conf.get('reason')}")
            return dict(run.conf)
    print("      monitoring queued no retraining; running one by hand as of the drifted day")
    return {"reason": "demo: manual retraining", "as_of": run_at.isoformat() + "+00:00"}


def dags_test(var: Path, dag_id: str, run_at: datetime | None, conf: str | None = None) -> bool:
    """``airflow dags test`` in a subprocess, as a user would run it; the log goes to a file."""
    # The venv's airflow (next to this interpreter, not resolved), where modelguard is installed.
    venv_airflow = Path(sys.executable).with_name("airflow")
    cmd = [str(venv_airflow) if venv_airflow.exists() else "airflow", "dags", "test", dag_id]
    if run_at is not None:
        cmd.append(run_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    if conf:
        cmd += ["--conf", conf]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    stamp = f"{run_at:%Y%m%d}" if run_at else time.strftime("manual_%H%M%S")
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
