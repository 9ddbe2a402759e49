"""The monitoring report assembled from a seeded week of real stores (SQLite and PostgreSQL),
its JSON (stable, sorted, strict) and its file (atomic, idempotent)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from modelguard.exceptions import DataValidationError, ReportWriteError
from modelguard.pipelines.model_report import (
    build_model_report,
    recent_period,
    report_file,
    write_model_report,
)
from modelguard.reporting import Period, assemble_report, report_json
from tests.reporting.history import (
    DAG,
    MAJOR_END,
    MODEL,
    PERIOD_END,
    PERIOD_START,
    seed_history,
)
from tests.world import new_world

PERIOD = Period(PERIOD_START, PERIOD_END)


@pytest.fixture
def seeded(engine, tmp_path):
    world = new_world(tmp_path / "world")
    seeded = seed_history(
        engine,
        report_root=world.config.storage.report_root,
        artifact_root=world.config.storage.artifact_root,
        outside=tmp_path / "outside",
    )
    return world, seeded


def test_the_champion_its_history_and_every_version_with_its_evaluations(engine, seeded):
    world, s = seeded
    report = build_model_report(world.config, engine, PERIOD)
    assert report.champion.version.id == s.v1 and report.champion.how == "rollback"
    assert report.champion.effective_at == datetime(2026, 7, 6)
    assert [(c.version_id, c.how) for c in report.champion_history] == [
        (s.v1, "bootstrap"),
        (s.v2, "promotion"),
        (s.v1, "rollback"),
    ]
    by_id = {v.id: v for v in report.versions}
    assert [v.status for v in report.versions] == ["champion", "rolled_back", "rejected"]
    assert "nested" not in by_id[s.v1].metrics and by_id[s.v1].metrics["n_holdout"] == 500
    (deployed,) = by_id[s.v2].evaluations
    assert (deployed.decision, deployed.b, deployed.c, deployed.pvalue) == ("deploy", 20, 45, 0.002)
    assert deployed.improvement == pytest.approx(0.03)
    assert deployed.champion_version == 1 and deployed.test == "mcnemar_asymptotic"
    assert deployed.challenger_metric == pytest.approx(0.82)
    (rejected,) = by_id[s.v3].evaluations
    assert (rejected.decision, rejected.b, rejected.c) == ("reject", 30, 28)
    assert rejected.reasons == (
        "challenger not better: b=30 > c=28",
        "not significant: McNemar p=0.89 >= 0.05",
    )
    assert by_id[s.v1].evaluations == ()


def test_drift_per_feature_over_the_period_with_links_to_the_interval_reports(engine, seeded):
    world, s = seeded
    report = build_model_report(world.config, engine, PERIOD, base_url="http://airflow:8080/")
    ends = [i.interval_end for i in report.drift_intervals]
    assert ends == [datetime(2026, 7, d) for d in range(2, 8)]  # not 06-30, not the other model
    assert [i.verdict for i in report.drift_intervals] == [
        "healthy",
        "healthy",
        "minor",
        "major",
        "minor",
        "healthy",
    ]
    major = report.drift_intervals[3]
    assert major.interval_end == MAJOR_END and major.dataset_drift
    assert major.drifted_features == ("company_size", "send_hour")
    assert major.report_url == (
        "http://airflow:8080/modelguard/models/email_engagement/report?dag_id="
        f"{DAG}&start=2026-07-04T00%3A00%3A00&end=2026-07-05T00%3A00%3A00"
    )
    names = [f.feature for f in report.drift_features]
    assert names == ["company_size", "industry", "send_hour"]
    company = report.drift_features[0]
    assert company.worst_severity == "major" and company.feature_type == "numeric"
    assert [p.severity for p in company.points] == [
        "none",
        "none",
        "minor",
        "major",
        "minor",
        "none",
    ]
    assert company.points[3].psi == pytest.approx(0.42)
    assert report.drift_features[1].worst_severity == "none"


def test_performance_is_placed_by_when_its_labels_matured(engine, seeded):
    world, _ = seeded
    report = build_model_report(world.config, engine, PERIOD)
    points = report.performance
    # judged at sends_end + 72 h: 07-02 .. 07-05 are in the period, 07-10 is not
    assert [p.labels_mature_at for p in points] == [datetime(2026, 7, d) for d in (2, 3, 4, 5)]
    assert all(p.labels_mature_at - p.sends_end == timedelta(hours=72) for p in points)
    assert all(p.sends_end - p.sends_start == timedelta(hours=168) for p in points)
    assert [p.status for p in points] == ["measured", "measured", "degraded", "missing"]
    assert [p.matured for p in points] == [True, True, True, False]
    assert points[2].degraded and points[2].value == pytest.approx(0.70)
    assert points[2].baseline == pytest.approx(0.80)
    assert points[3].value is None and points[3].label_share == pytest.approx(0.3)
    assert "labels missing" in points[3].reason
    (concept,) = report.concept_drift
    assert concept.concept_drift and concept.drifted_features == ("company_size",)
    assert report.label_delay_hours == 72


def test_alerts_and_deployments_of_the_period(engine, seeded):
    world, s = seeded
    report = build_model_report(world.config, engine, PERIOD)
    assert [(a.severity, a.kind) for a in report.alerts] == [
        ("critical", "drift"),
        ("warning", "performance"),
    ]
    assert [(d.kind, d.effective_at) for d in report.deployments] == [
        ("deployment", datetime(2026, 7, 2, 12)),
        ("rejection", datetime(2026, 7, 3)),
        ("post_deployment_check", datetime(2026, 7, 6)),  # its window's end + the label delay
        ("rollback", datetime(2026, 7, 6)),
    ]
    rollback = report.deployments[-1]
    assert (rollback.version_id, rollback.previous_version_id) == (s.v1, s.v2)
    assert report.deployments[2].status == "failed"
    counts = report.counts
    assert counts["drift_intervals"] == 6 and counts["drift_major_intervals"] == 1
    assert counts["performance_not_matured"] == 1 and counts["performance_degraded"] == 1
    assert (counts["alerts"], counts["alerts_open"], counts["alerts_critical"]) == (2, 1, 1)
    assert (counts["deployments"], counts["rejections"], counts["rollbacks"]) == (1, 1, 1)


def test_the_json_is_stable_sorted_and_strict(engine, seeded):
    world, _ = seeded
    text = report_json(build_model_report(world.config, engine, PERIOD))
    assert text == report_json(build_model_report(world.config, engine, PERIOD))
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, allow_nan=False) + "\n"
    assert data["schema_version"] == 1 and data["model_name"] == MODEL
    assert data["period"] == {
        "start": "2026-07-01T00:00:00",
        "end": "2026-07-08T00:00:00",
        "label": "2026-07-01T00:00_2026-07-08T00:00",
    }
    assert data["champion"]["version"]["label"].startswith("email_engagement v1")
    assert data["alerts"][0]["message"] == "major drift in company_size, send_hour"
    assert data["counts"]["drift_intervals"] == 6


def test_non_finite_numbers_become_null():
    nan = float("nan")
    check = SimpleNamespace(
        dag_id=DAG,
        interval_start=datetime(2026, 6, 25),
        interval_end=datetime(2026, 7, 2),
        check_name="performance",
        model_version_id=1,
        status="measured",
        result={"metrics": {"accuracy": nan, "log_loss": math.inf}, "sends": 10, "labelled": 10},
    )
    feature = SimpleNamespace(
        dag_id=DAG,
        interval_start=datetime(2026, 7, 1),
        interval_end=datetime(2026, 7, 2),
        feature="x",
        feature_type="numeric",
        severity="none",
        drifted=False,
        psi=nan,
        ks_statistic=math.inf,
        chi2_statistic=None,
        pvalue_adjusted=None,
        effect_size=None,
        reason=None,
    )
    run = SimpleNamespace(
        dag_id=DAG,
        interval_start=datetime(2026, 7, 1),
        interval_end=datetime(2026, 7, 2),
        verdict="healthy",
        dataset_drift=False,
        n_reference=1,
        n_current=1,
        model_version_id=1,
        run_id=None,
        summary={},
        html_uri=None,
    )
    report = assemble_report(
        model_name=MODEL,
        period=PERIOD,
        label_delay_hours=0,
        primary_metric="accuracy",
        drift_runs=[run],
        drift_features=[feature],
        checks=[check],
    )
    data = json.loads(report_json(report))
    assert data["performance"][0]["metrics"] == {"accuracy": None, "log_loss": None}
    point = data["drift_features"][0]["points"][0]
    assert point["psi"] is None and point["ks_statistic"] is None
    assert data["drift_intervals"][0]["report_url"] is None  # no HTML report stored


def test_a_period_must_run_forwards():
    with pytest.raises(DataValidationError, match="must be before end"):
        Period(PERIOD_END, PERIOD_START)


def test_a_store_never_written_reads_as_empty_and_stays_untouched(tmp_path):
    from modelguard.storage.source import engine_for_url

    world = new_world(tmp_path)
    (tmp_path / "empty.db").touch()  # a database without modelguard's tables
    engine = engine_for_url(f"sqlite:///{tmp_path / 'empty.db'}")
    report = build_model_report(world.config, engine, PERIOD)
    assert report.champion is None and report.versions == () and report.drift_intervals == ()
    assert report.counts["alerts"] == 0
    assert sa.inspect(engine).get_table_names() == []
    now = datetime(2026, 12, 2, 9, 30)
    assert recent_period(world.config, engine, now=now) == Period(
        datetime(2026, 11, 25, 10), datetime(2026, 12, 2, 10)
    )


def test_the_page_period_ends_with_the_newest_stored_interval(engine, seeded):
    world, _ = seeded
    period = recent_period(world.config, engine)
    assert period.end == datetime(2026, 7, 7) and period.start == datetime(2026, 6, 30)


def test_the_report_file_is_replaced_atomically_and_identically(engine, seeded, tmp_path):
    world, _ = seeded
    report = build_model_report(world.config, engine, PERIOD)
    root = tmp_path / "reports"
    first = write_model_report(report, root)
    path = report_file(root, MODEL, PERIOD)
    assert first.path == str(path.resolve())
    assert path == root / MODEL / "reports" / "2026-07-01T00:00_2026-07-08T00:00.json"
    written = path.read_bytes()
    again = write_model_report(build_model_report(world.config, engine, PERIOD), root)
    assert path.read_bytes() == written and again == first
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    assert first.counts["drift_intervals"] == 6 and first.uri.startswith("file://")
    assert json.loads(written)["counts"] == first.counts


def test_a_report_root_that_cannot_be_written(engine, seeded, tmp_path):
    world, _ = seeded
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the report folder should be")
    report = build_model_report(world.config, engine, PERIOD)
    with pytest.raises(ReportWriteError, match="cannot write the monitoring report"):
        write_model_report(report, blocker)
