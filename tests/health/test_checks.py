"""The health rules: measured facts in, verdicts out (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from modelguard.core.window import Window
from modelguard.exceptions import MalformedResultError
from modelguard.health import checks as rules
from modelguard.health.checks import HealthCheck, HealthReport

END = datetime(2026, 7, 5)
HOUR = Window(END - timedelta(hours=1), END)


def test_every_check_has_a_contract_name_and_severity():
    assert set(rules.CHECK_NAMES) == {
        "source_reachable",
        "source_fresh",
        "row_count",
        "schema",
        "champion_artifact",
        "registry",
        "recent_runs",
        "source_times_parseable",
    }
    assert set(rules.SEVERITY) == set(rules.CHECK_NAMES)
    assert set(rules.SEVERITY.values()) == {"critical", "warning"}
    with pytest.raises(MalformedResultError, match="unknown health check"):
        HealthCheck("uptime", True, "critical", "")
    with pytest.raises(MalformedResultError, match="severity"):
        HealthCheck("schema", True, "info", "")


def test_source_fresh_by_data_time():
    ok = rules.source_fresh(
        END - timedelta(hours=2),
        END,
        max_staleness_hours=6,
        looked_back_days=28,
        time_column="sent_at",
    )
    assert ok.ok and ok.value["age_hours"] == 2.0
    stale = rules.source_fresh(
        END - timedelta(hours=30),
        END,
        max_staleness_hours=6,
        looked_back_days=28,
        time_column="sent_at",
    )
    assert not stale.ok and stale.severity == "critical"
    assert "30.0 h older" in stale.message and "max_staleness_hours" in stale.message
    empty = rules.source_fresh(
        None, END, max_staleness_hours=6, looked_back_days=28, time_column="sent_at"
    )
    assert not empty.ok and "no row with sent_at in the 28 days" in empty.message


def test_seasonal_intervals_step_back_by_days_or_weeks():
    weeks = rules.seasonal_intervals(HOUR, history_days=28, season="week")
    assert [w.end for w in weeks] == [END - timedelta(days=7 * k) for k in (1, 2, 3, 4)]
    assert all(w.end - w.start == timedelta(hours=1) for w in weeks)
    days = rules.seasonal_intervals(HOUR, history_days=3, season="day")
    assert [w.start for w in days] == [HOUR.start - timedelta(days=k) for k in (1, 2, 3)]


def count(n, history, **kw):
    args = dict(low_ratio=0.5, high_ratio=3.0, min_points=3, season="week")
    args.update(kw)
    return rules.row_count(n, history, **args)


def test_row_count_against_the_usual_range():
    usual = count(300, [310, 290, 305, 320])
    assert usual.ok and usual.value["usual"] == 307.5 and usual.value["points"] == 4
    tenth = count(31, [310, 290, 305, 320])
    assert not tenth.ok and tenth.severity == "warning" and "rows are missing" in tenth.message
    doubled = count(1000, [310, 290, 305, 320])
    assert not doubled.ok and "duplicated" in doubled.message
    assert count(154, [310, 290, 305, 320]).ok  # just above half of the usual


def test_row_count_tolerates_poisson_noise_of_small_counts():
    # a quiet hour: 2 rows where 8 are usual is within 3 sd of a Poisson count of 8
    assert count(2, [8, 7, 9, 8]).ok
    assert count(0, [40, 38, 42, 41]).ok is False


def test_row_count_needs_history_points_and_ignores_empty_intervals():
    few = count(0, [0, 0, 300, 0])
    assert few.ok and "not judged" in few.message and "only 1 earlier" in few.message
    assert few.value["points"] == 1
    # empty intervals (the source not started, an outage) do not lower the usual count
    assert count(300, [0, 310, 290, 305]).value["usual"] == 305


def test_schema_holds_the_champions_features():
    features = {"age": "numeric", "plan": "categorical", "visits": "numeric"}
    kinds = {"age": "float", "plan": "text", "visits": "integer", "extra": "text"}
    ok = rules.schema(kinds, features, table="t", whose="the champion")
    assert ok.ok and ok.value["missing"] == []
    dropped = rules.schema(
        {k: v for k, v in kinds.items() if k != "plan"}, features, table="t", whose="the champion"
    )
    assert not dropped.ok and dropped.value["missing"] == ["plan"]
    assert "plan missing from table 't'" in dropped.message
    retyped = rules.schema({**kinds, "age": "text"}, features, table="t", whose="the champion")
    assert not retyped.ok and "age is numeric but its column is text" in retyped.message
    categorical_float = rules.schema({**kinds, "plan": "float"}, features, table="t", whose="x")
    assert not categorical_float.ok
    untyped = rules.schema({**kinds, "age": "unknown"}, features, table="t", whose="x")
    assert untyped.ok and "not declared" in untyped.message


def test_recent_runs_counts_from_the_first_stored_decision():
    ends = rules.previous_interval_ends(END, 3600, 4)
    assert ends == [END - timedelta(hours=k) for k in (1, 2, 3, 4)]
    all_there = rules.recent_runs(ends, ends, ends[-1], dag_id="d")
    assert all_there.ok and all_there.value == {"checked": 4, "missing": []}
    gap = rules.recent_runs(ends, [ends[0], ends[3]], ends[-1], dag_id="d")
    assert not gap.ok and gap.value["missing"] == [ends[2].isoformat(), ends[1].isoformat()]
    assert "2 of the 4 previous intervals of d" in gap.message
    # the DAG started two intervals ago: earlier ones are not counted
    young = rules.recent_runs(ends, [ends[1]], ends[1], dag_id="d")
    assert not young.ok and young.value == {"checked": 2, "missing": [ends[0].isoformat()]}
    assert rules.recent_runs(ends, [], None, dag_id="d").ok  # first run
    assert rules.recent_runs(ends, [], ends[-1], dag_id="d", backfill=True).ok
    assert rules.recent_runs([], [], None, dag_id="d").ok


def test_report_status_xcom_and_round_trip():
    checks = [
        rules.registry_reachable(None),
        rules.source_reachable("ConnectionFailedError: could not connect", table="t"),
    ]
    report = HealthReport("d", "m", HOUR.start, HOUR.end, tuple(checks), model_version_id=3)
    assert report.status == "unhealthy" and not report.healthy
    assert [c.name for c in report.failed] == ["source_reachable"]
    xcom = report.to_xcom(stored=False, spool=None)
    assert {
        "status",
        "healthy",
        "interval_start",
        "interval_end",
        "checks",
        "stored",
    } <= set(xcom)
    assert xcom["status"] == "unhealthy" and xcom["stored"] is False
    assert xcom["checks"][1] == {
        "name": "source_reachable",
        "ok": False,
        "severity": "critical",
        "message": "ConnectionFailedError: could not connect",
        "value": None,
    }
    assert HealthReport.from_dict(report.to_dict()) == report
    with pytest.raises(MalformedResultError):
        HealthReport("d", "m", HOUR.start, HOUR.end, (checks[0], checks[0]))
    with pytest.raises(MalformedResultError, match="not a health report"):
        HealthReport.from_dict({"dag_id": "d"})
