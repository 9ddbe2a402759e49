"""From the checks' XComs to alert conditions: kinds, keys, severities and what was judged."""

from __future__ import annotations

import pytest

from modelguard.alerts.conditions import ANY_KEY, AlertCondition, Assessment, assess
from modelguard.exceptions import MalformedResultError

THRESHOLDS = {"drift_critical": 0.25, "performance_degradation": 0.05}


def drift(verdict="healthy", drifted=(), major=()):
    return {
        "verdict": verdict,
        "dataset_drift": verdict == "major",
        "drifted_features": list(drifted),
        "major_features": list(major),
        "report_uri": "file:///r/drift_report.json",
        "n_rows": 720,
    }


def performance(status="measured", drop=0.01, metric="accuracy"):
    if status == "missing":
        return {
            "window": ["a", "b"],
            "status": "missing",
            "reason": "labels missing: 3 of 700 sends",
            "sends": 700,
            "labelled": 3,
            "degradation": None,
        }
    return {
        "window": ["a", "b"],
        "status": status,
        "reason": "x",
        "sends": 5000,
        "labelled": 5000,
        "degradation": {
            "metric": metric,
            "observed": 0.8 * (1 - drop),
            "baseline": 0.8,
            "relative_drop": drop,
            "degraded": status == "degraded",
            "threshold": 0.03,
        },
    }


def concept(status="stable", features=()):
    return {
        "window": ["a", "b"],
        "status": status,
        "concept_drift": status == "drifted",
        "drifted_features": list(features),
        "score": 0.3 if status == "drifted" else 0.02,
        "reason": "r",
    }


def health(*failed):
    checks = [
        {"name": "source_reachable", "ok": True, "severity": "critical", "message": "ok"},
        *(
            {"name": n, "ok": False, "severity": s, "message": f"{n} is bad", "value": 1}
            for n, s in failed
        ),
    ]
    return {"status": "unhealthy" if failed else "healthy", "checks": checks}


def run(**inputs) -> Assessment:
    base = dict(drift=None, performance=None, concept=None, health=None, failed_tasks=None)
    base.update(inputs)
    return assess(**base, **THRESHOLDS)


def test_a_healthy_interval_has_no_condition_and_judges_every_check():
    a = run(
        drift=drift(),
        performance=performance(),
        concept=concept(),
        health=health(),
        failed_tasks={},
        feature_psi={"x": 0.01},
    )
    assert a.conditions == ()
    for scope in [
        ("drift", "dataset"),
        ("performance", "degradation"),
        ("performance", "labels_missing"),
        ("concept_drift", "relation"),
        ("health", "health:schema"),
        ("health", "health:monitoring_tasks"),
    ]:
        assert a.judges(*scope), scope


@pytest.mark.parametrize(
    ("verdict", "psi", "severity"),
    [
        ("major", {"a": 0.12}, "critical"),  # dataset drift
        ("minor", {"a": 0.30}, "critical"),  # a PSI over drift_critical
        ("minor", {"a": 0.12}, "warning"),
        ("healthy", {"a": 0.26}, "critical"),  # PSI alone, stricter than the drift verdict
    ],
)
def test_drift_severity_follows_the_alert_thresholds(verdict, psi, severity):
    (c,) = run(drift=drift(verdict, drifted=psi), feature_psi=psi).conditions
    assert (c.kind, c.key, c.severity) == ("drift", "dataset", severity)
    assert "a (PSI" in c.message
    assert c.details["max_psi"] == max(psi.values())


def test_no_drift_below_every_threshold():
    assert run(drift=drift(), feature_psi={"a": 0.249}).conditions == ()


def test_performance_critical_from_the_alert_threshold_warning_below_it():
    (c,) = run(performance=performance("degraded", drop=0.08)).conditions
    assert (c.key, c.severity) == ("degradation", "critical")
    assert "accuracy" in c.message and "8.0% lower" in c.message
    (c,) = run(performance=performance("degraded", drop=0.04)).conditions
    assert c.severity == "warning"
    # a drop over the alert threshold is critical even where retraining's is higher
    (c,) = run(performance=performance("measured", drop=0.06)).conditions
    assert c.severity == "critical"
    assert run(performance=performance("measured", drop=0.049)).conditions == ()


def test_missing_labels_are_a_warning_and_leave_degradation_unjudged():
    a = run(performance=performance("missing"), concept=concept("missing"))
    (c,) = a.conditions
    assert (c.kind, c.key, c.severity) == ("performance", "labels_missing", "warning")
    assert "3 of 700" in c.message
    assert a.judges("performance", "labels_missing")
    assert not a.judges("performance", "degradation")
    assert not a.judges("concept_drift", "relation")


def test_concept_drift_is_critical_when_performance_degraded_on_the_same_window():
    a = run(concept=concept("drifted", ["template"]), performance=performance("measured"))
    (c,) = a.conditions
    assert (c.kind, c.severity) == ("concept_drift", "warning") and "template" in c.message
    a = run(concept=concept("drifted", ["template"]), performance=performance("degraded", 0.1))
    assert [(c.kind, c.severity) for c in a.conditions] == [
        ("concept_drift", "critical"),
        ("performance", "critical"),
    ]


def test_failed_health_checks_keep_their_severity_and_name():
    a = run(health=health(("source_fresh", "warning"), ("registry", "critical")))
    assert [(c.key, c.severity) for c in a.conditions] == [
        ("health:registry", "critical"),
        ("health:source_fresh", "warning"),
    ]
    assert ("health", ANY_KEY) in a.judged
    with pytest.raises(MalformedResultError, match="no list of checks"):
        run(health={"status": "healthy"})


def test_failed_tasks_and_absent_inputs():
    a = run(failed_tasks={"detect_drift": "failed"})
    (c,) = a.conditions
    assert (c.key, c.severity) == ("health:monitoring_tasks", "critical")
    assert "detect_drift (failed)" in c.message
    assert not a.judges("drift", "dataset")  # the drift check did not run: not judged
    assert a.judges("health", "health:monitoring_tasks")
    assert not a.judges("health", "health:schema")  # no check_health XCom


def test_the_decision_is_added_and_an_assessment_round_trips():
    a = run(
        drift=drift("major", ["a"]),
        feature_psi={"a": 0.5},
        decision={"verdict": "retrain", "reason": "drift"},
    )
    assert a.conditions[0].details["decision"] == {"verdict": "retrain", "reason": "drift"}
    assert Assessment.from_dict(a.to_dict()) == a


def test_a_condition_refuses_an_unknown_kind_or_severity():
    with pytest.raises(MalformedResultError, match="kind 'weather'"):
        AlertCondition("weather", "k", "warning", "m")
    with pytest.raises(MalformedResultError, match="severity 'high'"):
        AlertCondition("drift", "k", "high", "m")
