"""Branching on a drift verdict, and recording what was decided."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseBranchOperator, BaseOperator

from modelguard.exceptions import DataValidationError
from modelguard.operators.common import load_run_config, pull_dict


class DriftBranchOperator(BaseBranchOperator):
    """Follow ``major`` / ``minor`` / ``healthy`` from the drift task's XCom verdict."""

    template_fields = ("drift_task_id",)

    def __init__(
        self,
        *,
        drift_task_id: str,
        major_task_id: str,
        minor_task_id: str,
        healthy_task_id: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.drift_task_id = drift_task_id
        self.branches = {"major": major_task_id, "minor": minor_task_id, "healthy": healthy_task_id}

    def choose_branch(self, context: Any) -> str:
        verdict = context["ti"].xcom_pull(task_ids=self.drift_task_id)
        return branch_for_verdict(verdict, self.branches, self.drift_task_id)


def branch_for_verdict(
    verdict: Any, branches: dict[str, str], source: str, key: str = "verdict"
) -> str:
    """The task to follow for ``verdict[key]``; anything unexpected is an error, not a guess."""
    if not isinstance(verdict, dict) or verdict.get(key) not in branches:
        raise DataValidationError(
            f"task {source!r} returned {verdict!r}; expected a dict whose {key!r} is one of "
            f"{', '.join(branches)}"
        )
    return branches[verdict[key]]


class RecordDecisionOperator(BaseOperator):
    """Store what monitoring decided for the window of a drift verdict (replaces on rerun)."""

    template_fields = ("config_path",)

    def __init__(
        self,
        *,
        decision: str,
        drift_task_id: str,
        config_path: str | None = None,
        alert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.decision = decision
        self.drift_task_id = drift_task_id
        self.config_path = config_path
        self.alert = alert

    def execute(self, context: Any) -> dict[str, Any]:
        from datetime import datetime

        from modelguard.store import ResultStore

        verdict = pull_dict(context, self.drift_task_id, "drift verdict")
        _config, _source, registry = load_run_config(self.config_path)
        store = ResultStore(registry)
        store.ensure_schema()
        reason = verdict.get("summary", "")
        details = {
            "report_uri": verdict.get("report_uri"),
            "html_uri": verdict.get("html_uri"),
            "drifted_features": verdict.get("drifted_features", []),
            "major_features": verdict.get("major_features", []),
            "model_version_id": verdict.get("model_version_id"),
        }
        store.record_decision(
            self.dag_id,
            datetime.fromisoformat(verdict["window_start"]),
            datetime.fromisoformat(verdict["window_end"]),
            self.decision,
            reason,
            details,
            context.get("run_id"),
        )
        log = self.log.warning if self.alert else self.log.info
        log(
            "Decision %s for %s..%s: %s",
            self.decision,
            verdict["window_start"],
            verdict["window_end"],
            reason,
        )
        return {"decision": self.decision, **details}
