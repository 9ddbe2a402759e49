"""run_health_check on a real seeded SQLite source and registry: each check failing for real."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from email_engagement.generator import seed_source
from modelguard.core.window import Window
from modelguard.pipelines.health_check import run_health_check
from modelguard.storage.health import HealthSpool, HealthStore
from modelguard.storage.results import ResultStore
from modelguard.storage.source import engine_for_url
from tests.world import HEALTHY_RUN, SEED_END, build_world

HOURLY = "email_engagement_monitoring"
DAILY = "email_engagement_monitoring_daily"
UNREACHABLE = "postgresql+psycopg2://nobody:secret@127.0.0.1:1/nowhere"
TENTH_DAY = datetime(2026, 7, 8)  # a Wednesday; its sends are rewritten at a tenth


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("health_world"))
    seed_source(
        engine_for_url(world.source_url),
        TENTH_DAY,
        TENTH_DAY + timedelta(days=1),
        seed=11,
        sends_per_hour=3,
    )
    return world


def check(world, end, *, daily=False, dag_id=None, source=None, registry=None, config=None, **kw):
    length = timedelta(days=1) if daily else timedelta(hours=1)
    outcome = run_health_check(
        config=config or world.config,
        source_engine=source or engine_for_url(world.source_url),
        registry_engine=registry or engine_for_url(world.registry_url),
        interval=Window(end - length, end),
        interval_seconds=86400 if daily else 3600,
        dag_id=dag_id or (DAILY if daily else HOURLY),
        run_id="test_run",
        **kw,
    )
    return outcome, {c["name"]: c for c in outcome.to_xcom()["checks"]}


def failed(checks) -> set[str]:
    return {name for name, c in checks.items() if not c["ok"]}


def test_a_healthy_interval_is_recorded(world):
    outcome, checks = check(world, HEALTHY_RUN)
    xcom = outcome.to_xcom()
    assert xcom["status"] == "healthy" and xcom["healthy"] and xcom["stored"], checks
    assert list(checks) == [
        "source_reachable",
        "source_fresh",
        "row_count",
        "schema",
        "champion_artifact",
        "registry",
        "recent_runs",
        "source_times_parseable",
    ]
    assert checks["row_count"]["value"]["points"] == 4
    assert checks["source_times_parseable"]["ok"]
    assert checks["source_times_parseable"]["value"]["count"] == 0
    stored = HealthStore(engine_for_url(world.registry_url)).get(
        HOURLY, HEALTHY_RUN - timedelta(hours=1), HEALTHY_RUN
    )
    assert stored.status == "healthy" and stored.run_id == "test_run"
    assert stored.model_version_id == outcome.report.model_version_id is not None
    json.dumps(xcom)  # XCom-ready


def test_a_stale_source(world):
    end = SEED_END + timedelta(days=2)
    outcome, checks = check(world, end)
    assert outcome.to_xcom()["status"] == "unhealthy" and outcome.stored
    assert failed(checks) == {"source_fresh", "row_count"}
    assert checks["source_fresh"]["severity"] == "critical"
    assert "48.0 h older than the interval end" in checks["source_fresh"]["message"]
    assert checks["row_count"]["value"]["count"] == 0
    # data time: a backfill of an interval before the outage judges the source as it was then
    _, before = check(world, SEED_END)
    assert before["source_fresh"]["ok"]


def test_a_day_with_a_tenth_of_the_usual_rows(world):
    _, checks = check(world, TENTH_DAY + timedelta(days=1), daily=True)
    assert failed(checks) == {"row_count"}, checks
    value = checks["row_count"]["value"]
    assert value["points"] == 4 and value["count"] < value["usual"] / 5
    assert "rows are missing" in checks["row_count"]["message"]
    _, usual = check(world, TENTH_DAY, daily=True)
    assert usual["row_count"]["ok"]


@pytest.fixture
def source_copy(world, tmp_path):
    path = tmp_path / "source.db"
    shutil.copy(Path(world.source_url.removeprefix("sqlite:///")), path)
    return path


def test_a_dropped_column(world, source_copy):
    with sqlite3.connect(source_copy) as conn:
        conn.execute("ALTER TABLE email_sends DROP COLUMN company_size")
    _, checks = check(world, HEALTHY_RUN, source=engine_for_url(f"sqlite:///{source_copy}"))
    assert failed(checks) == {"schema"}
    assert checks["schema"]["value"]["missing"] == ["company_size"]
    assert "the champion email_engagement v1" in checks["schema"]["message"]


def test_a_retyped_column(world, source_copy):
    with sqlite3.connect(source_copy) as conn:
        conn.execute("ALTER TABLE email_sends RENAME COLUMN subject_length TO old_length")
        conn.execute("ALTER TABLE email_sends ADD COLUMN subject_length VARCHAR(20)")
    _, checks = check(world, HEALTHY_RUN, source=engine_for_url(f"sqlite:///{source_copy}"))
    assert failed(checks) == {"schema"}
    assert "subject_length is numeric but its column is text" in checks["schema"]["message"]


def test_a_tampered_artifact(world):
    from modelguard.storage.registry import ModelRegistry

    champion = ModelRegistry(engine_for_url(world.registry_url)).get_champion("email_engagement")
    path = Path(champion.artifact_uri)
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"tampered")
        _, checks = check(world, HEALTHY_RUN)
        assert failed(checks) == {"champion_artifact"}
        assert (
            f"but the registry recorded {champion.artifact_sha256}"
            in (checks["champion_artifact"]["message"])
        )
        path.unlink()
        _, checks = check(world, HEALTHY_RUN)
        assert "is missing" in checks["champion_artifact"]["message"]
    finally:
        path.write_bytes(original)


def test_an_unreachable_source(world, tmp_path):
    missing = engine_for_url(f"sqlite:///{tmp_path / 'absent.db'}")
    _, checks = check(world, HEALTHY_RUN, source=missing)
    assert failed(checks) == {
        "source_reachable",
        "source_fresh",
        "row_count",
        "schema",
        "source_times_parseable",
    }
    assert "does not exist" in checks["source_reachable"]["message"]
    assert checks["schema"]["message"] == "not checked: the source is unreachable"


def test_an_unreachable_registry_spools_the_record_for_the_next_run(world):
    end = HEALTHY_RUN + timedelta(hours=5)
    outcome, checks = check(world, end, registry=engine_for_url(UNREACHABLE))
    xcom = outcome.to_xcom()
    assert not xcom["stored"] and xcom["status"] == "unhealthy"
    assert failed(checks) == {"registry", "champion_artifact", "recent_runs"}
    assert "could not connect" in checks["registry"]["message"]
    assert "secret" not in json.dumps(xcom)  # the password is masked
    assert checks["schema"]["ok"] and "the config" in checks["schema"]["message"]
    spool = Path(xcom["spool"]["path"])
    assert xcom["spool"]["written"] and spool.is_file()
    assert spool.parent == world.config.storage.report_root / "email_engagement" / "health-spool"
    store = HealthStore(engine_for_url(world.registry_url))
    assert store.get(HOURLY, end - timedelta(hours=1), end) is None

    # the next run that reaches the store imports it
    later, _ = check(world, end + timedelta(hours=1))
    assert later.stored and later.to_xcom()["imported_from_spool"] == 1
    assert not spool.exists()
    imported = store.get(HOURLY, end - timedelta(hours=1), end)
    assert imported.status == "unhealthy" and imported.run_id == "test_run"
    assert not imported.check("registry").ok


def test_an_unreachable_registry_and_a_report_folder_that_cannot_be_written(world, tmp_path):
    blocked = tmp_path / "reports"
    blocked.write_text("a file where the report folder should be")
    config = dataclasses.replace(
        world.config, storage=dataclasses.replace(world.config.storage, report_root=blocked)
    )
    outcome, checks = check(world, HEALTHY_RUN, config=config, registry=engine_for_url(UNREACHABLE))
    xcom = outcome.to_xcom()
    assert not xcom["stored"] and not xcom["spool"]["written"]
    assert "NotADirectoryError" in xcom["spool"]["error"] or "FileExists" in xcom["spool"]["error"]
    assert not checks["registry"]["ok"]


def test_missing_recent_decisions(world):
    results = ResultStore(engine_for_url(world.registry_url))
    results.ensure_schema()
    end = datetime(2026, 7, 6, 12)
    decided = [end - timedelta(hours=k) for k in (1, 2, 4, 5, 7, 8)]  # 3 and 6 never ran
    dag = "unit_monitoring"  # its own DAG id: the other tests' intervals have no decisions
    for e in decided:
        results.record_decision(dag, e - timedelta(hours=24), e, "healthy", "", {}, "r")
    _, checks = check(world, end, dag_id=dag)
    assert failed(checks) == {"recent_runs"}
    assert checks["recent_runs"]["value"] == {
        "checked": 6,
        "missing": [(end - timedelta(hours=6)).isoformat(), (end - timedelta(hours=3)).isoformat()],
    }
    assert checks["recent_runs"]["severity"] == "warning"
    # a backfill's earlier intervals are its own runs, still running: not judged
    _, backfill = check(world, end, dag_id=dag, backfill=True)
    assert backfill["recent_runs"]["ok"]
    # the daily DAG has no decision stored yet: its first run
    _, daily = check(world, end.replace(hour=0), daily=True)
    assert daily["recent_runs"]["ok"] and "first run" in daily["recent_runs"]["message"]


def test_no_champion_yet(world, tmp_path):
    empty = engine_for_url(f"sqlite:///{tmp_path / 'registry.db'}")
    _, checks = check(world, HEALTHY_RUN, registry=empty)
    assert failed(checks) == {"champion_artifact"}
    assert "NoChampionError" in checks["champion_artifact"]["message"]
    assert "the config (the champion could not be read)" in checks["schema"]["message"]
    assert HealthStore(empty).get(HOURLY, HEALTHY_RUN - timedelta(hours=1), HEALTHY_RUN)
    assert HealthSpool(world.config.storage.report_root, "email_engagement").pending() == []


def test_send_times_that_are_no_date_time_are_a_failed_warning(world, source_copy):
    """Epoch integers, garbage and NULL send times lie in no window: the health record says
    how many there are (and shows one) instead of leaving them out without a word."""
    with sqlite3.connect(source_copy) as conn:
        # sent_at is NOT NULL there: an epoch integer, garbage and empty text.
        conn.executemany(
            "INSERT INTO email_sends (send_id, sent_at) VALUES (?, ?)",
            [("bad-1", 1788220800), ("bad-2", "garbage"), ("bad-3", "")],
        )
    outcome, checks = check(world, HEALTHY_RUN, source=engine_for_url(f"sqlite:///{source_copy}"))
    assert failed(checks) == {"source_times_parseable"}, checks
    found = checks["source_times_parseable"]
    assert found["severity"] == "warning"
    assert found["value"]["count"] == 3 and found["value"]["column"] == "sent_at"
    assert found["value"]["example"] in ("'garbage'", "1788220800", "''")
    assert "3 row(s) of email_sends" in found["message"]
    assert outcome.report.status == "unhealthy"


def test_label_times_that_are_no_date_time_are_counted_too(world, source_copy):
    with sqlite3.connect(source_copy) as conn:
        changed = conn.execute(
            "UPDATE email_sends SET outcome_at = 'soon' WHERE rowid IN "
            "(SELECT rowid FROM email_sends WHERE engaged IS NOT NULL LIMIT 4)"
        ).rowcount
    assert changed == 4
    _, checks = check(world, HEALTHY_RUN, source=engine_for_url(f"sqlite:///{source_copy}"))
    found = checks["source_times_parseable"]
    assert not found["ok"]
    assert found["value"]["count"] == 0
    assert (found["value"]["label_count"], found["value"]["label_example"]) == (4, "'soon'")
    assert "never count as labelled" in found["message"]
