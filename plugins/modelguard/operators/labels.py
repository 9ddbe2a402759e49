"""Label-dependent monitoring operators and the retraining decision (thin, over label_checks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import BaseBranchOperator, BaseOperator

from modelguard.operators.branch import branch_for_verdict
from modelguard.operators.common import (
    is_backfill,
    judge_with_from_context,
    load_run_config,
    pull_dict,
    timed,
    trailing_window_from_context,
    window_from_context,
)


class _MaturedWindowOperator(BaseOperator):
    """Runs a check on the run's matured window: the ``monitoring.label_window_hours`` ending
    ``source.label_delay_hours`` before the run's end, judged as of that end. Runs even when the labels sensor was skipped (soft-failed):
    the check then records the labels as missing."""

    template_fields = ("config_path",)
    check = None  # set by subclasses: a function of modelguard.pipelines.label_checks

    def __init__(
        self,
        *,
        config_path: str | None = None,
        window_hours: int | None = None,
        trigger_rule: str = "none_failed",
        **kwargs: Any,
    ) -> None:
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.config_path = config_path
        self.window_hours = window_hours

    @timed
    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines import label_checks

        config, source, registry = load_run_config(self.config_path)
        mon = config.monitoring
        hours = mon.label_window_hours if self.window_hours is None else self.window_hours
        window = trailing_window_from_context(context, hours)
        outcome = getattr(label_checks, self.check)(
            config=config,
            source_engine=source,
            registry_engine=registry,
            window=label_checks.matured_window(window, config.source.label_delay_hours),
            as_of=window.end,
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            judge_with=judge_with_from_context(context),
            log=self.log,
        )
        return outcome.to_dict()


class PerformanceOperator(_MaturedWindowOperator):
    """The champion's realised metrics (accuracy, precision, recall, F1, ROC AUC, log loss,
    engagement rate, calibration) on matured labels, and degradation against its evaluated
    baseline; stored per (model version, interval)."""

    check = "run_performance_check"
    ui_color = "#cfe8ff"


class ConceptDriftOperator(_MaturedWindowOperator):
    """The feature->engagement relation on matured labels against the reference profile."""

    check = "run_concept_check"
    ui_color = "#ffe0cc"


class RetrainDecisionOperator(BaseBranchOperator):
    """Combine drift, performance and concept drift (``should_retrain``), store the decision and
    follow ``retrain`` / ``alert`` / ``healthy``. With ``estimate_task_id``, the estimated
    performance too (absent or skipped: no estimate): an estimated drop makes an alert, never a
    retraining."""

    template_fields = ("config_path",)

    def __init__(
        self,
        *,
        drift_task_id: str,
        performance_task_id: str,
        concept_task_id: str,
        retrain_task_id: str,
        alert_task_id: str,
        healthy_task_id: str,
        config_path: str | None = None,
        window_hours: int | None = None,
        trigger_rule: str = "none_failed",
        estimate_task_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.estimate_task_id = estimate_task_id
        self.drift_task_id = drift_task_id
        self.performance_task_id = performance_task_id
        self.concept_task_id = concept_task_id
        self.config_path = config_path
        self.window_hours = window_hours
        self.branches = {
            "retrain": retrain_task_id,
            "cooldown": alert_task_id,
            "alert": alert_task_id,
            "healthy": healthy_task_id,
        }

    @timed
    def execute(self, context: Any) -> Any:
        return super().execute(context)

    def choose_branch(self, context: Any) -> str:
        from modelguard.labels.estimation import EstimateOutcome
        from modelguard.labels.outcomes import ConceptOutcome, PerformanceOutcome
        from modelguard.pipelines.drift_check import DriftCheckResult
        from modelguard.pipelines.retrain_decision import decide_retraining

        config, source, registry = load_run_config(self.config_path)
        hours = config.monitoring.window_hours if self.window_hours is None else self.window_hours
        ti = context["ti"]
        drift = DriftCheckResult.from_xcom(
            pull_dict(context, self.drift_task_id, "drift verdict"), self.drift_task_id
        )
        performance = ti.xcom_pull(task_ids=self.performance_task_id)
        concept = ti.xcom_pull(task_ids=self.concept_task_id)
        estimate = ti.xcom_pull(task_ids=self.estimate_task_id) if self.estimate_task_id else None
        decision = decide_retraining(
            config=config,
            source_engine=source,
            registry_engine=registry,
            drift=drift,
            performance=None
            if performance is None
            else PerformanceOutcome.from_xcom(performance, self.performance_task_id),
            concept=None
            if concept is None
            else ConceptOutcome.from_xcom(concept, self.concept_task_id),
            window=window_from_context(context, hours),
            dag_id=self.dag_id,
            run_id=context.get("run_id"),
            judge_with=judge_with_from_context(context),
            log=self.log,
            estimate=EstimateOutcome.from_xcom(estimate, self.estimate_task_id)
            if isinstance(estimate, dict)
            else None,
        )
        ti.xcom_push(key="decision", value=decision)
        return branch_for_verdict(decision, self.branches, self.task_id)


class TriggerRetrainingOperator(TriggerDagRunOperator):
    """Start the model's retraining DAG (``trigger_dag_id``) with the decision's reason, drift report and ``as_of``.

    One drift episode starts one retraining: before triggering, the interval claims the
    retraining in the results store (atomically, per model), which refuses when the stored
    decision is no longer ``retrain`` or another interval of the episode already started one;
    the trigger is then skipped with that reason. The triggered run id is derived from the
    monitored window, so a retry of this task starts nothing twice. A backfill records the
    decision but starts no retraining unless its ``retrain_on_backfill`` param is set. A paused
    retraining DAG is logged as a warning and recorded in the decision: the run it gets waits
    until the DAG is unpaused.
    """

    def __init__(
        self,
        *,
        decision_task_id: str,
        trigger_dag_id: str,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("logical_date", None)
        kwargs.setdefault("skip_when_already_exists", True)
        super().__init__(trigger_dag_id=trigger_dag_id, **kwargs)
        self.decision_task_id = decision_task_id
        self.config_path = config_path

    @timed
    def execute(self, context: Any):
        from airflow.sdk.exceptions import AirflowSkipException

        from modelguard.core.window import Window
        from modelguard.storage.results import ResultStore

        decision = pull_dict(context, self.decision_task_id, "retraining decision", key="decision")
        params = context.get("params") or {}
        if is_backfill(context.get("dag_run")) and not params.get("retrain_on_backfill"):
            raise AirflowSkipException(
                "backfill of a historical interval: the retraining decision is recorded but no "
                "retraining is started (set the retrain_on_backfill param to start it)"
            )
        # Reads and writes only the results store: the source may be down.
        config, _source, registry = load_run_config(self.config_path, verify_source=False)
        window = Window(*(datetime.fromisoformat(t) for t in decision["window"]))
        paused = self._target_paused(context)
        note: dict[str, Any] = {"dag_id": self.trigger_dag_id, "target_paused": paused}
        if paused:
            note["warning"] = (
                f"{self.trigger_dag_id} is paused: the retraining run is queued and waits until "
                f"the DAG is unpaused (airflow dags unpause {self.trigger_dag_id})"
            )
            self.log.warning("%s", note["warning"])
        claim = ResultStore(registry).claim_retraining(
            config.model.name,
            self.dag_id,
            window.start,
            window.end,
            trigger_run_id=decision["trigger_run_id"],
            cooldown_hours=config.retraining.cooldown_hours,
            note=note,
        )
        if not claim.granted:
            raise AirflowSkipException(f"no retraining started for {window}: {claim.reason}")
        self.conf = decision["trigger_conf"]
        self.trigger_run_id = decision["trigger_run_id"]
        self.log.info(
            "Starting %s (%s): %s", self.trigger_dag_id, claim.reason, self.conf["reason"]
        )
        return super().execute(context)

    def _target_paused(self, context: Any) -> bool | None:
        """Whether the DAG to trigger is paused (None when Airflow cannot tell this task)."""
        try:
            return bool(context["ti"].get_dag(self.trigger_dag_id).is_paused)
        except Exception as exc:  # an old API server, or a test harness without the endpoint
            self.log.info("Could not tell whether %s is paused: %s", self.trigger_dag_id, exc)
            return None
