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

    op = TriggerRetrainingOperator(
        task_id="trigger_retraining",
        decision_task_id="decide",
        trigger_dag_id="email_engagement_retraining",
    )
    # At runtime the Task SDK's enum, whose str() is 'DagRunType.BACKFILL'.
    from airflow.sdk.api.datamodels._generated import DagRunType

    run = SimpleNamespace(run_type=DagRunType.BACKFILL)
    assert str(run.run_type) == "DagRunType.BACKFILL"
    context = {"ti": _TI(), "dag_run": run, "params": {}, "run_id": "backfill__x"}
    with pytest.raises(AirflowSkipException, match="retrain_on_backfill"):
        op.execute(context)
    assert op.conf is None  # nothing was prepared for a trigger


def test_backfill_is_told_by_the_run_types_value():
    from airflow.sdk.api.datamodels._generated import DagRunType as SdkRunType
    from airflow.utils.types import DagRunType as CoreRunType

    from modelguard.operators.common import is_backfill

    assert is_backfill(SimpleNamespace(run_type=SdkRunType.BACKFILL))
    assert is_backfill(SimpleNamespace(run_type=CoreRunType.BACKFILL_JOB))
    assert is_backfill(SimpleNamespace(run_type="backfill"))
    assert not is_backfill(SimpleNamespace(run_type=SdkRunType.SCHEDULED))
    assert not is_backfill(SimpleNamespace(run_type=SdkRunType.MANUAL))
    assert not is_backfill(None)


def test_an_unknown_conf_key_is_refused_naming_it_and_the_known_ones():
    from modelguard.exceptions import UnknownParamError
    from modelguard.operators.conf import refuse_unknown_conf

    dag = SimpleNamespace(dag_id="email_engagement_retraining", params={"strategy": 1, "deploy": 2})
    ok = {"dag": dag, "dag_run": SimpleNamespace(conf={"strategy": "full_batch"})}
    refuse_unknown_conf(ok)
    refuse_unknown_conf({"dag": dag, "dag_run": SimpleNamespace(conf=None)})
    bad = {"dag": dag, "dag_run": SimpleNamespace(conf={"strateg": "full_batch"})}
    with pytest.raises(UnknownParamError, match="'strateg'.*params are: deploy, strategy"):
        refuse_unknown_conf(bad)


def test_sensors_take_their_default_from_airflows_default_deferrable(monkeypatch):
    from modelguard.sensors.new_data import NewDataSensor

    def sensor(**kwargs):
        return NewDataSensor(
            task_id="s", conn_id="c", table="t", time_column="sent_at", min_rows=1, **kwargs
        )

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert sensor().deferrable is True
    assert sensor(deferrable=False).deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert sensor().deferrable is False
    assert sensor(deferrable=True).deferrable is True
