"""The "Estimated performance" section of the report and the Model health page: points of the
period with the realised value beside them, the estimate's error and coverage, and the page's
plot and table (in process; the real api-server and browser run in tests/stack)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from modelguard.pipelines.model_report import build_model_report
from modelguard.reporting import Period, assemble_report, report_json
from modelguard.storage.estimates import EstimateRecord, EstimateStore
from modelguard.storage.source import engine_for_url
from tests.reporting.history import DAG, MODEL, PERIOD_END, PERIOD_START
from tests.web.test_app import PAGE, bearer, client, token, world  # noqa: F401  (fixtures)

API = f"/modelguard/api/models/{MODEL}"


def estimate(k: int, *, realised: float | None = None, degraded=False, status="estimated"):
    """The estimate of the day ending PERIOD_START + k days."""
    end = PERIOD_START + timedelta(days=k)
    rec = EstimateRecord(
        dag_id=DAG,
        interval_start=end - timedelta(days=1),
        interval_end=end,
        model_version_id=1,
        model_name=MODEL,
        run_id=f"r{k}",
        status=status,
        reason=f"estimated accuracy on day {k}",
        metric="accuracy",
        estimate=None if status != "estimated" else 0.70 - 0.01 * k,
        lower=None if status != "estimated" else 0.66 - 0.01 * k,
        upper=None if status != "estimated" else 0.74 - 0.01 * k,
        baseline=0.72,
        relative_drop=(0.72 - (0.70 - 0.01 * k)) / 0.72,
        degraded=degraded,
        n_rows=700,
    )
    return rec, realised


def seed(store: EstimateStore, items) -> None:
    for rec, realised in items:
        saved = store.save_estimate(rec)
        if realised is not None:
            store.save_realised(
                saved,
                status="measured",
                realised=realised,
                n_labelled=690,
                metrics={"accuracy": realised},
                as_of=rec.interval_end + timedelta(hours=72),
                run_id="later",
            )


ITEMS = [
    estimate(0),  # ends on PERIOD_START: outside (start, end]
    estimate(1, realised=0.71),  # inside [0.65, 0.73]
    estimate(2, realised=0.60),  # outside [0.64, 0.72]
    estimate(3, realised=0.67),  # inside
    estimate(5, degraded=True),  # not matured yet
    estimate(6, status="unavailable"),
    estimate(9, realised=0.5),  # after the period
]


def test_assemble_keeps_the_periods_estimates_with_their_realised_values(tmp_path):
    store = EstimateStore(engine_for_url(f"sqlite:///{tmp_path / 'r.db'}"))
    store.ensure_schema()
    seed(store, ITEMS)
    report = assemble_report(
        model_name=MODEL,
        period=Period(PERIOD_START, PERIOD_END),
        label_delay_hours=72,
        primary_metric="accuracy",
        estimates=store.history(MODEL),
    )
    points = report.estimated_performance
    assert [p.window_end.day for p in points] == [2, 3, 4, 6, 7]
    assert [p.inside for p in points] == [True, False, True, None, None]
    assert points[1].error == pytest.approx(0.60 - 0.68)
    assert points[3].realised is None and points[3].degraded
    assert points[3].labels_mature_at == points[3].window_end + timedelta(hours=72)
    summary = report.estimate_summary
    assert summary == {
        "estimates": 4,
        "degraded": 1,
        "realised": 3,
        "inside": 2,
        "coverage": pytest.approx(2 / 3),
        "mean_absolute_error": pytest.approx((0.02 + 0.08 + 0.0) / 3),
    }
    data = json.loads(report_json(report))
    assert data["estimate_summary"]["realised"] == 3
    assert data["estimated_performance"][0]["window_end"] == "2026-07-02T00:00:00"


def test_a_report_without_estimates_has_an_empty_section():
    report = assemble_report(
        model_name=MODEL,
        period=Period(PERIOD_START, PERIOD_END),
        label_delay_hours=72,
        primary_metric="accuracy",
    )
    assert report.estimated_performance == ()
    assert report.estimate_summary["coverage"] is None


@pytest.fixture(scope="module")
def seeded(world):  # noqa: F811
    store = EstimateStore(engine_for_url(world.registry_url))
    store.ensure_schema()
    seed(store, ITEMS)
    return world


def test_the_stored_report_and_the_api_carry_the_section(client, seeded):  # noqa: F811
    report = build_model_report(
        seeded.config, engine_for_url(seeded.registry_url), Period(PERIOD_START, PERIOD_END)
    )
    assert len(report.estimated_performance) == 5
    response = client.get(
        f"{API}/report",
        params={"start": PERIOD_START.isoformat(), "end": PERIOD_END.isoformat()},
        headers=bearer(),
    )
    assert response.text == report_json(report)
    assert response.json()["estimate_summary"]["inside"] == 2


def test_the_page_shows_the_estimates_over_time_with_the_realised_values(client, seeded):  # noqa: F811
    client.cookies.set("_token", token("VIEWER"))
    try:
        page = client.get(
            PAGE, params={"start": PERIOD_START.isoformat(), "end": PERIOD_END.isoformat()}
        )
    finally:
        client.cookies.clear()
    assert page.status_code == 200
    html = page.text
    assert 'id="estimated-performance"' in html and "<h2>Estimated performance</h2>" in html
    assert 'class="perf-plot estimate-plot"' in html and 'class="interval"' in html
    assert html.count('class="realised"') == 2 and html.count('class="realised outside"') == 1
    assert "4 estimate(s), 1 with a drop beyond the threshold; 3 realised, 2 inside" in html
    assert "matures 2026-07-09 00:00" in html  # day 6: not matured yet
    assert "estimated accuracy on day 2" in html and ">no<" in html and ">yes<" in html
