"""should_retrain with an estimate: an estimated drop beyond performance_threshold is a reason
and an alert, never a trigger; the alert condition's severity follows performance_conditions."""

from __future__ import annotations

from datetime import datetime

import pytest

from modelguard.alerts.conditions import assess, estimate_condition
from modelguard.config import load_config
from modelguard.exceptions import InvalidArgumentError
from modelguard.labels.estimation import EstimateOutcome
from modelguard.retraining.decision import should_retrain
from tests.world import write_config

AS_OF = datetime(2026, 8, 17)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return load_config(write_config(tmp_path_factory.mktemp("estimate_decision")))


def outcome(drop: float | None = 0.1, status: str = "estimated", **kw) -> EstimateOutcome:
    values = dict(
        status=status,
        reason="because",
        window=("2026-08-16T00:00:00", "2026-08-17T00:00:00"),
        model_version_id=1,
        metric="accuracy",
        estimate=None if drop is None else 0.7 * (1 - drop),
        lower=0.6,
        upper=0.66,
        baseline=0.7,
        relative_drop=drop,
        degraded=drop is not None and drop > 0.05,
        threshold=0.05,
        n_rows=700,
    )
    values.update(kw)
    return EstimateOutcome(**values)


@pytest.mark.parametrize(
    ("drop", "alert"), [(0.1, True), (0.0501, True), (0.05, False), (0.01, False), (-0.2, False)]
)
def test_an_estimated_drop_beyond_the_threshold_is_an_alert_never_a_trigger(config, drop, alert):
    d = should_retrain(None, None, config, as_of=AS_OF, estimate=outcome(drop))
    assert d.retrain is False and d.triggers == ()
    assert d.alerts == (("estimated_performance",) if alert else ())
    line = next(r for r in d.reasons if r.startswith("estimate:"))
    assert ("not a retraining" in line) is alert
    assert f"{drop:.1%}" in line
    assert d.details["estimate"]["relative_drop"] == drop
    assert d.to_dict()["alerts"] == list(d.alerts)


@pytest.mark.parametrize("status", ["unavailable", "disabled"])
def test_an_estimate_that_was_not_made_says_why(config, status):
    d = should_retrain(None, None, config, as_of=AS_OF, estimate=outcome(None, status=status))
    assert d.alerts == ()
    assert f"estimate: {status} (because)" in d.reasons


def test_no_estimate_changes_nothing(config):
    with_none = should_retrain(None, None, config, as_of=AS_OF)
    assert with_none.alerts == () and "estimate" not in with_none.details
    assert not any(r.startswith("estimate:") for r in with_none.reasons)


def test_an_estimate_without_a_baseline_never_alerts(config):
    d = should_retrain(None, None, config, as_of=AS_OF, estimate=outcome(None, baseline=None))
    assert d.alerts == () and any("no relative drop" in r for r in d.reasons)


def test_a_wrong_estimate_type_is_refused(config):
    with pytest.raises(InvalidArgumentError, match="estimate must be an EstimateOutcome"):
        should_retrain(None, None, config, as_of=AS_OF, estimate=outcome().to_dict())


@pytest.mark.parametrize(
    ("drop", "severity"), [(0.2, "critical"), (0.05, "critical"), (0.049, None), (0.0, None)]
)
def test_the_condition_is_critical_beyond_performance_degradation(drop, severity):
    data = outcome(drop).to_dict()
    cond, judged = estimate_condition(data, performance_degradation=0.05)
    assert judged == [("estimated_performance", "estimated_degradation")]
    assert (cond.severity if cond else None) == severity


def test_a_degraded_estimate_below_performance_degradation_is_a_warning():
    data = outcome(0.08, degraded=True).to_dict()
    cond, _ = estimate_condition(data, performance_degradation=0.1)
    assert cond.severity == "warning"
    assert "accuracy estimated 0.644 [0.600, 0.660]" in cond.message
    assert "labels have not matured yet" in cond.message
    assert cond.details["relative_drop"] == 0.08


@pytest.mark.parametrize("status", ["unavailable", "disabled"])
def test_an_estimate_not_made_judges_nothing(status):
    assert estimate_condition(outcome(None, status=status).to_dict(), 0.05) == (None, [])


def test_assess_carries_the_estimate_and_judges_it():
    a = assess(
        drift=None,
        performance=None,
        concept=None,
        health=None,
        failed_tasks=None,
        drift_critical=0.25,
        performance_degradation=0.05,
        estimate=outcome(0.1).to_dict(),
    )
    assert [c.kind for c in a.conditions] == ["estimated_performance"]
    assert a.judges("estimated_performance", "estimated_degradation")
    quiet = assess(
        drift=None,
        performance=None,
        concept=None,
        health=None,
        failed_tasks=None,
        drift_critical=0.25,
        performance_degradation=0.05,
        estimate=outcome(0.0).to_dict(),
    )
    assert quiet.conditions == () and quiet.judges("estimated_performance", "x") is False
