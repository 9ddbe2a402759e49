"""`make bench-run`: what a monitoring run costs under the real scheduler, task by task.

On the demo's data (``scripts/demo.py``: 60 sends an hour from 2026-06-01 to 2026-10-20, a new
audience from 09-01, the first champion trained on 06-01..08-01) and the demo's config folder
(both example models; only ``email_engagement_monitoring_daily`` runs), this starts the stack of
``scripts/airflow_stack.py`` (scheduler, dag-processor, triggerer, api-server, LocalExecutor,
metadata on PostgreSQL, source and registry on SQLite like the demo), then:

1. triggers ``--runs`` single daily runs one after the other (one day, ~1,440 rows each) and
   reads, through the REST API, every task's duration and the breakdown its log line
   ``modelguard timing {...}`` gives (:mod:`modelguard.core.timing`): startup (process start to
   ``execute``, of which the DAG file), imports, config, connect, registry, profile, read,
   model, compute, plots, write, other; "after" is the task's duration minus startup and
   ``execute`` (Airflow's own work after it: XCom push, state);
2. a daily backfill of ``--backfill-days`` intervals (07-01 on, ``max_active_runs`` 4) through
   ``POST /api/v2/backfills``: its wall time, the sum of task time and the runs' states.

Writes ``bench/results/run_overhead.json`` under ``--label`` (before / after a change; other
labels in the file are kept) and prints the tables. Needs ``MODELGUARD_TEST_PG_DSN`` (a role
that may CREATE DATABASE) or ``--pg-admin-dsn``. Prints numbers; asserts nothing.

    .venv/bin/python bench/bench_run_overhead.py --label after
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from airflow_stack import AirflowStack  # noqa: E402

from tests.stack.client import StackClient, expect  # noqa: E402

DAG_ID = "email_engagement_monitoring_daily"
RESULTS = ROOT / "bench" / "results" / "run_overhead.json"

# The demo's world (scripts/demo.py)
SEED_START = datetime(2026, 6, 1)
AUDIENCE_START = datetime(2026, 9, 1)
SEED_END = datetime(2026, 10, 20)
TRAIN_END = datetime(2026, 8, 1)
SENDS_PER_HOUR = 60
SEED = 7

SINGLE_RUNS = (datetime(2026, 8, 18), datetime(2026, 8, 19), datetime(2026, 8, 20))
BACKFILL_FROM = datetime(2026, 7, 1)
PHASE_ORDER = (
    "startup",
    "dag_file",
    "imports",
    "config",
    "connect",
    "registry",
    "profile",
    "read",
    "model",
    "compute",
    "plots",
    "write",
    "other",
    "after",
)


# ------------------------------------------------------------------------------------ the world


def build_template(folder: Path) -> Path:
    """Seed the demo's sends and bootstrap its champion once; reused by later measurements."""
    done = folder / ".built"
    if done.exists():
        return folder
    from email_engagement.bootstrap import train_and_register
    from email_engagement.generator import seed_source
    from modelguard.storage.source import engine_for_url

    folder.mkdir(parents=True, exist_ok=True)
    config_dir = write_configs(folder / "config", folder / "artifacts", folder / "reports")
    from modelguard.config import load_config

    config = load_config(config_dir / "main_config.yaml")
    source = engine_for_url(f"sqlite:///{folder / 'email_sends.db'}")
    t0 = time.perf_counter()
    rows = seed_source(
        source,
        SEED_START,
        SEED_END,
        seed=SEED,
        sends_per_hour=SENDS_PER_HOUR,
        scenario="audience_shift",
        drift_start=AUDIENCE_START,
    )
    print(f"seeded {rows} sends in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    train_and_register(
        config,
        source,
        engine_for_url(f"sqlite:///{folder / 'modelguard.db'}"),
        SEED_START,
        TRAIN_END,
        run_id="demo_bootstrap",
        as_of=TRAIN_END + timedelta(hours=config.source.label_delay_hours),
    )
    done.touch()
    return folder


def write_configs(config_dir: Path, artifacts: Path, reports: Path) -> Path:
    """The repo's config folder (both example models) with its storage under the bench's
    folders; everything else as shipped."""
    import yaml

    config_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "config").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        raw["storage"]["artifact_root"] = str(artifacts)
        raw["storage"]["report_root"] = str(reports)
        (config_dir / path.name).write_text(yaml.safe_dump(raw, sort_keys=False))
    return config_dir


def fresh_copy(template: Path, folder: Path) -> tuple[Path, str, str]:
    """A measurement's own source, registry and report folder (artifacts shared, read only)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("email_sends.db", "modelguard.db"):
        shutil.copyfile(template / name, folder / name)
    config_dir = write_configs(folder / "config", template / "artifacts", folder / "reports")
    return (
        config_dir,
        f"sqlite:///{folder / 'email_sends.db'}",
        f"sqlite:///{folder / 'modelguard.db'}",
    )


# ------------------------------------------------------------------------------------ the API


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def timing_of(api: StackClient, dag_id: str, run_id: str, ti: dict) -> dict | None:
    """The ``modelguard timing`` line of a task instance's log (its last try), if any."""
    from modelguard.core.timing import TaskTiming

    tries = ti.get("try_number") or 1
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/logs/{tries}"
    response = api.request("GET", path, params={"full_content": True})
    if response.status_code != 200:
        return None
    found = None
    try:
        events = response.json().get("content") or []
        lines = [e.get("event", "") if isinstance(e, dict) else str(e) for e in events]
    except ValueError:
        lines = response.text.splitlines()
    for line in lines:
        timing = TaskTiming.from_log_line(str(line))
        if timing is not None:
            found = timing
    return None if found is None else found.to_dict()


def run_tasks(api: StackClient, dag_id: str, run_id: str, with_timing: bool) -> list[dict]:
    out = []
    for ti in api.task_instances(dag_id, run_id):
        if not ti.get("start_date") or ti.get("duration") is None:
            continue  # never ran in a worker (EmptyOperator, skipped)
        row = {
            "task": ti["task_id"],
            "state": ti["state"],
            "operator": ti.get("operator"),
            "duration": float(ti["duration"]),
            "try_number": ti.get("try_number"),
        }
        if with_timing:
            timing = timing_of(api, dag_id, run_id, ti)
            if timing is not None:
                row["timing"] = timing
        out.append(row)
    return out


def breakdown(task: dict) -> dict[str, float]:
    """The task's duration split into PHASE_ORDER (seconds)."""
    timing = task.get("timing")
    if not timing:
        return {"other": task["duration"]}
    parts: dict[str, float] = {}
    startup = timing.get("startup") or 0.0
    dag_file = min(timing.get("dag_file") or 0.0, startup)
    parts["startup"] = startup - dag_file
    parts["dag_file"] = dag_file
    for name, seconds in timing["phases"].items():
        parts[name] = parts.get(name, 0.0) + seconds
    parts["after"] = max(0.0, task["duration"] - startup - timing["seconds"])
    return parts


def single_runs(api: StackClient, dates: list[datetime]) -> list[dict]:
    runs = []
    for logical in dates:
        run_id = expect(api.trigger(DAG_ID, {}, logical_date=logical), 200)["dag_run_id"]
        state = api.wait_for_run(DAG_ID, run_id, timeout=900)
        run = api.dag_run(DAG_ID, run_id)
        tasks = run_tasks(api, DAG_ID, run_id, with_timing=True)
        total = sum(t["duration"] for t in tasks)
        wall = (parse_time(run["end_date"]) - parse_time(run["start_date"])).total_seconds()
        print(
            f"run {logical:%Y-%m-%d}: {state}, task time {total:.1f} s, wall {wall:.1f} s",
            file=sys.stderr,
        )
        runs.append(
            {
                "logical_date": logical.isoformat(),
                "run_id": run_id,
                "state": state,
                "task_seconds": round(total, 3),
                "wall_seconds": round(wall, 3),
                "tasks": tasks,
            }
        )
    return runs


def backfill(api: StackClient, days: int, max_active_runs: int) -> dict:
    to_date = BACKFILL_FROM + timedelta(days=days - 1)
    began = time.monotonic()
    created = expect(
        api.create_backfill(
            DAG_ID,
            BACKFILL_FROM.replace(tzinfo=UTC),
            to_date.replace(tzinfo=UTC),
            reprocess_behavior="completed",
            max_active_runs=max_active_runs,
        ),
        200,
    )
    info, runs = api.wait_for_backfill(created["id"], timeout=6 * 3600, poll=5.0)
    waited = time.monotonic() - began
    starts = [parse_time(r["start_date"]) for r in runs if r.get("start_date")]
    ends = [parse_time(r["end_date"]) for r in runs if r.get("end_date")]
    task_seconds = 0.0
    per_task: dict[str, float] = {}
    for r in runs:
        for t in run_tasks(api, DAG_ID, r["dag_run_id"], with_timing=False):
            task_seconds += t["duration"]
            per_task[t["task"]] = per_task.get(t["task"], 0.0) + t["duration"]
    states: dict[str, int] = {}
    for r in runs:
        states[r["state"]] = states.get(r["state"], 0) + 1
    return {
        "from": BACKFILL_FROM.date().isoformat(),
        "to": to_date.date().isoformat(),
        "intervals": len(runs),
        "max_active_runs": max_active_runs,
        "states": states,
        "wall_seconds": round((max(ends) - min(starts)).total_seconds(), 1) if starts else None,
        "seconds_from_request": round(waited, 1),
        "task_seconds": round(task_seconds, 1),
        "task_seconds_per_run": round(task_seconds / max(1, len(runs)), 2),
        "task_seconds_by_task": {k: round(v, 1) for k, v in sorted(per_task.items())},
    }


def stop_scheduled_runs(api: StackClient) -> None:
    """Unpausing creates a run for the latest interval (today: no data, it would wait for
    hours and take slots): fail it at once, so only the measured runs run."""
    for run in api.dag_runs(DAG_ID):
        if run["run_type"] == "scheduled" and run["state"] not in ("success", "failed"):
            path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"
            expect(api.patch(path, json={"state": "failed"}), 200)


# ------------------------------------------------------------------------------------ imports


def import_costs() -> dict[str, dict]:
    """Per module: the wall time of importing it in a fresh interpreter (after numpy, which
    every task has) and which heavy packages that import loads."""
    heavy = ("pandas", "scipy.stats", "scipy.optimize", "matplotlib", "sklearn", "sqlalchemy")
    modules = (
        "modelguard.core.stats",
        "modelguard.core.scoring",
        "modelguard.labels.estimation",
        "modelguard.drift.detection",
        "modelguard.pipelines.drift_check",
        "modelguard.pipelines.performance_estimate",
        "modelguard.pipelines.label_checks",
        "modelguard.pipelines.retrain_decision",
        "modelguard.pipelines.health_check",
        "modelguard.pipelines.alerting",
        "modelguard.pipelines.retention",
        "scipy.special",
        "scipy.stats",
        "pandas",
        "matplotlib.figure",
        "sklearn",
    )
    code = (
        "import sys, time, json, numpy\n"
        "t = time.perf_counter()\n"
        "import MODULE\n"
        "dt = time.perf_counter() - t\n"
        f"print(json.dumps({{'seconds': dt, 'loads': [h for h in {heavy!r} if h in sys.modules]}}))"
    )
    out = {}
    for module in modules:
        done = subprocess.run(
            [sys.executable, "-c", code.replace("MODULE", module)],
            capture_output=True,
            text=True,
            check=True,
        )
        out[module] = json.loads(done.stdout)
    return out


# ------------------------------------------------------------------------------------ report


def summarise(runs: list[dict]) -> dict[str, Any]:
    """Median over the single runs of each task's duration and phases."""
    per_task: dict[str, list[dict[str, float]]] = {}
    durations: dict[str, list[float]] = {}
    for run in runs:
        for task in run["tasks"]:
            per_task.setdefault(task["task"], []).append(breakdown(task))
            durations.setdefault(task["task"], []).append(task["duration"])
    table = {}
    for name, parts in per_task.items():
        keys = {k for p in parts for k in p}
        table[name] = {
            "duration": round(statistics.median(durations[name]), 3),
            **{k: round(statistics.median(p.get(k, 0.0) for p in parts), 3) for k in keys},
        }
    return {
        "task_seconds_median": round(statistics.median(r["task_seconds"] for r in runs), 2),
        "task_seconds": [r["task_seconds"] for r in runs],
        "per_task": table,
    }


def print_table(label: str, summary: dict) -> None:
    tasks = summary["per_task"]
    cols = [c for c in PHASE_ORDER if any(c in row for row in tasks.values())]
    print(f"\n{label}: task time of one daily run, median of {len(summary['task_seconds'])} runs")
    print(f"{'task':<22}{'total':>7}" + "".join(f"{c[:8]:>9}" for c in cols))
    total = {c: 0.0 for c in ["duration", *cols]}
    for name, row in sorted(tasks.items(), key=lambda kv: -kv[1]["duration"]):
        print(
            f"{name:<22}{row['duration']:>7.2f}" + "".join(f"{row.get(c, 0):>9.2f}" for c in cols)
        )
        for c in total:
            total[c] += row.get(c, 0.0)
    print(f"{'sum':<22}{total['duration']:>7.2f}" + "".join(f"{total[c]:>9.2f}" for c in cols))
    print(f"runs' task time: {summary['task_seconds']} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="after", help="key of this measurement in the JSON")
    parser.add_argument("--pg-admin-dsn", default=os.environ.get("MODELGUARD_TEST_PG_DSN", ""))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mg-bench-run")
    parser.add_argument("--runs", type=int, default=len(SINGLE_RUNS))
    parser.add_argument("--backfill-days", type=int, default=90, help="0: no backfill")
    parser.add_argument("--max-active-runs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not args.pg_admin_dsn:
        parser.error("give --pg-admin-dsn or set MODELGUARD_TEST_PG_DSN")

    template = build_template(args.work / "template")
    measured = args.work / f"run-{args.label}-{int(time.time())}"
    config_dir, source_url, registry_url = fresh_copy(template, measured)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "dag_id": DAG_ID,
        "load_before": os.getloadavg()[0],
        "imports": import_costs(),
    }
    with AirflowStack(
        pg_admin_dsn=args.pg_admin_dsn,
        source_url=source_url,
        registry_url=registry_url,
        config_path=config_dir,
        home=measured / "airflow-home",
    ) as stack:
        stack.unpause()
        stack.unpause([DAG_ID])
        with StackClient(stack.base_url, stack.username, stack.password) as api:
            api.wait_for_dags([DAG_ID])
            time.sleep(5)
            stop_scheduled_runs(api)
            time.sleep(10)
            runs = single_runs(api, list(SINGLE_RUNS[: args.runs]))
            result["single_runs"] = runs
            result["summary"] = summarise(runs)
            print_table(args.label, result["summary"])
            if args.backfill_days:
                result["backfill"] = backfill(api, args.backfill_days, args.max_active_runs)
                print(f"\nbackfill: {json.dumps(result['backfill'], indent=1)}")
    result["load_after"] = os.getloadavg()[0]

    stored = json.loads(args.out.read_text()) if args.out.exists() else {}
    stored[args.label] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    print(f"\nwrote {args.out} [{args.label}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
