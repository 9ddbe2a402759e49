"""How tasks read their window, params and as_of from an Airflow context (plain dicts here)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from modelguard.exceptions import DataValidationError
from modelguard.operators.common import (
    as_of_from_context,
    threshold_overrides,
    trailing_window_from_context,
    window_from_context,
)

INTERVAL = {
    "data_interval_start": datetime(2026, 9, 1, 23, tzinfo=UTC),
    "data_interval_end": datetime(2026, 9, 2, tzinfo=UTC),
    "params": {},
}
MANUAL = {
    "data_interval_start": None,
    "data_interval_end": None,
    "params": {"window_start": "2026-09-10T00:00:00Z", "window_end": "2026-09-11T00:00:00Z"},
}


def test_drift_window_trails_the_interval_end_or_follows_params():
    w = window_from_context(INTERVAL, 24)
    assert (w.start, w.end) == (datetime(2026, 9, 1), datetime(2026, 9, 2))
    m = window_from_context(MANUAL, 24)
    assert (m.start, m.end) == (datetime(2026, 9, 10), datetime(2026, 9, 11))


def test_label_window_only_takes_its_end_from_params():
    w = trailing_window_from_context(MANUAL, 168)
    assert (w.start, w.end) == (datetime(2026, 9, 4), datetime(2026, 9, 11))
    assert trailing_window_from_context(INTERVAL, 0).start == datetime(2026, 9, 1, 23)


def test_as_of_and_thresholds():
    assert as_of_from_context(INTERVAL) == datetime(2026, 9, 2)
    assert as_of_from_context({"params": {"as_of": "2026-09-05T12:00:00+02:00"}}) == datetime(
        2026, 9, 5, 10
    )
    with pytest.raises(DataValidationError, match="as_of"):
        as_of_from_context({"params": {}, "data_interval_end": None})
    ctx = {"params": {"psi_warning": 0.2, "psi_critical": None, "window_start": "x"}}
    assert threshold_overrides(ctx, {"min_rows": 5, "psi_critical": None}) == {
        "psi_warning": 0.2,
        "min_rows": 5,
    }


class _TI:
    def xcom_pull(self, task_ids=None, key="return_value"):
        return {"trigger_conf": {"reason": "drift", "as_of": "2026-09-02T00:00:00"}}


def test_a_backfill_records_but_does_not_start_retraining():
    from airflow.sdk.exceptions import AirflowSkipException

    from modelguard.operators.labels import TriggerRetrainingOperator

    op = TriggerRetrainingOperator(task_id="trigger_retraining", decision_task_id="decide")
    from airflow.utils.types import DagRunType

    run = SimpleNamespace(run_type=DagRunType.BACKFILL_JOB)
    context = {"ti": _TI(), "dag_run": run, "params": {}, "run_id": "backfill__x"}
    with pytest.raises(AirflowSkipException, match="retrain_on_backfill"):
        op.execute(context)
    assert op.conf is None  # nothing was prepared for a trigger
