"""``RaiseAlertsOperator``: a thin Airflow shell over ``modelguard.pipelines.alerting``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from modelguard.operators.common import is_backfill, timed, window_from_context

# The monitoring tasks whose failure is itself an alert (health:monitoring_tasks).
WATCHED_TASKS = (
    "wait_for_data",
    "detect_drift",
    "summarise_partition",  # with monitoring.drift_partitions > 1, instead of detect_drift
    "merge_and_decide",
    "estimate_performance",
    "wait_for_labels",
    "measure_performance",
    "detect_concept_drift",
    "decide",
    "trigger_retraining",
    "check_health",
)


class RaiseAlertsOperator(BaseOperator):
    """Turn the run's verdicts into alert episodes and notify the configured channels.

    Reads the XComs of the drift, estimate, performance, concept-drift, decision and health tasks (a
    missing one, from a task that failed, was skipped or does not exist, is "not judged"),
    the interval's PSI per feature from the results store and which watched tasks failed.
    Runs whatever happened upstream (``trigger_rule="all_done"``) and does not fail because a
    notification or the alert store failed: its XCom says what was stored and sent.
    """

    template_fields = ("config_path",)
    ui_color = "#ffd6d6"

    def __init__(
        self,
        *,
        config_path: str | None = None,
        drift_task_id: str = "detect_drift",
        performance_task_id: str = "measure_performance",
        concept_task_id: str = "detect_concept_drift",
        decision_task_id: str = "decide",
        health_task_id: str = "check_health",
        estimate_task_id: str = "estimate_performance",
        watched_task_ids: tuple[str, ...] = WATCHED_TASKS,
        trigger_rule: str = "all_done",
        **kwargs: Any,
    ) -> None:
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.config_path = config_path
        self.drift_task_id = drift_task_id
        self.performance_task_id = performance_task_id
        self.concept_task_id = concept_task_id
        self.decision_task_id = decision_task_id
        self.health_task_id = health_task_id
        self.estimate_task_id = estimate_task_id
        self.watched_task_ids = tuple(watched_task_ids)

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.alerts.conditions import assess
        from modelguard.config import load_config
        from modelguard.core.timing import switch_phase
        from modelguard.pipelines.alerting import AlertRun, raise_alerts

        switch_phase("config")
        config = load_config(self.config_path)
        switch_phase("read")
        window = window_from_context(context, config.monitoring.window_hours)
        ti = context["ti"]

        def pull(task_id: str, key: str = "return_value"):
            value = ti.xcom_pull(task_ids=task_id, key=key)
            return value if isinstance(value, dict) else None

        drift = pull(self.drift_task_id)
        switch_phase("connect")
        registry, store_error = alert_store_engine(config, self.log)
        switch_phase("read")
        thresholds = config.monitoring.alert_thresholds
        assessment = assess(
            drift=drift,
            feature_psi=self._feature_psi(registry, window) if drift else None,
            performance=pull(self.performance_task_id),
            concept=pull(self.concept_task_id),
            health=pull(self.health_task_id),
            failed_tasks=self._failed_tasks(context),
            drift_critical=thresholds.drift_critical,
            performance_degradation=thresholds.performance_degradation,
            decision=pull(self.decision_task_id, key="decision"),
            estimate=pull(self.estimate_task_id),
        )
        run = AlertRun(
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            interval=window,
            backfill=is_backfill(context.get("dag_run")),
            base_url=_base_url(),
            source=self.task_id,
            model_version_id=drift.get("model_version_id") if drift else None,
            model_version=f"v{drift['model_version']}"
            if drift and drift.get("model_version")
            else None,
        )
        switch_phase("write")
        result = raise_alerts(
            config=config,
            registry_engine=registry,
            assessment=assessment,
            run=run,
            context=context,
            log=self.log,
            store_error=store_error,
        )
        if not result.stored:
            self.log.error(
                "ALERTS NOT STORED: %s; notified anyway, kept in %s",
                result.store_error,
                result.spooled or f"no spool ({result.spool_error})",
            )
        return result.to_xcom()

    def _feature_psi(self, registry, window) -> dict[str, float | None]:
        if registry is None:
            return {}
        from modelguard.storage.results import ResultStore

        try:
            rows = ResultStore(registry).drift_features(self.dag_id, window.start, window.end)
        except Exception as exc:  # the drift rows are a refinement of the verdict, not required
            self.log.warning("PSI per feature not read (%s); judged by the verdict alone", exc)
            return {}
        return {r.feature: r.psi for r in rows}

    def _failed_tasks(self, context: Any) -> dict[str, str] | None:
        """Watched tasks of this run that failed (task id -> state); None when Airflow cannot
        tell this task."""
        run_id = context.get("run_id")
        watched = [t for t in self.watched_task_ids if self.dag and self.dag.has_task(t)]
        try:
            states = context["ti"].get_task_states(
                dag_id=self.dag_id, run_ids=[run_id], task_ids=watched
            )
        except Exception as exc:  # an API server without the endpoint, a test harness
            self.log.info("Could not read this run's task states: %s", exc)
            return None
        per_task = states.get(run_id, states) if isinstance(states, dict) else {}
        return {t: str(s) for t, s in per_task.items() if str(s) == "failed"}


def raise_alert_from_context(
    context: Any, config, condition, *, log: Any = None, clear: bool = False
) -> dict[str, Any]:
    """A one-off alert from a running task (e.g. an approval that timed out): stored and
    notified like the monitoring run's, as that task's observation of the run's data interval
    (an instant at ``as_of``/the logical date when the run has none). ``clear=True`` ends
    the episode of ``condition``'s (kind, key) instead. Returns the alert XCom summary."""
    from datetime import datetime

    from modelguard.core.window import Window, to_naive_utc
    from modelguard.operators.common import as_of_from_context
    from modelguard.pipelines.alerting import AlertRun, clear_alert, raise_alert

    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if end is None:
        end = as_of_from_context(context)
    end = to_naive_utc(end)
    start = to_naive_utc(start) if isinstance(start, datetime) and start <= end else end
    task = context.get("task")
    run = AlertRun(
        dag_id=context["dag"].dag_id if context.get("dag") else getattr(task, "dag_id", "?"),
        run_id=context.get("run_id"),
        interval=Window(start, end),
        backfill=is_backfill(context.get("dag_run")),
        base_url=_base_url(),
        source=getattr(task, "task_id", None) or "raise_alert",
    )
    engine, store_error = alert_store_engine(config, log)
    common = dict(registry_engine=engine, context=context, log=log, store_error=store_error)
    if clear:
        result = clear_alert(config, condition.kind, condition.key, run, **common)
    else:
        result = raise_alert(config, condition, run, **common)
    return result.to_xcom()


def alert_store_engine(config, log: Any = None):
    """(engine, None) for the alert store (the registry connection), or (None, why) when it
    cannot be opened: the alerts are then sent and spooled, never lost with the task."""
    from modelguard.exceptions import StoreUnavailableError
    from modelguard.hooks.db import ModelguardDbHook

    try:
        return ModelguardDbHook(config.storage.registry_conn_id).verify(), None
    except StoreUnavailableError as exc:
        if log is not None:
            log.error("The registry (alert store) cannot be opened: %s", exc)
        return None, f"{type(exc).__name__}: {exc}"


def _base_url() -> str:
    from airflow.sdk import conf

    return conf.get("api", "base_url", fallback="") or ""
