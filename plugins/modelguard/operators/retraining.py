"""Retraining operators: thin shells over ``modelguard.pipelines.retraining``."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseBranchOperator, BaseOperator

from modelguard.operators.common import as_of_from_context, load_run_config, pull_dict

DEPLOY_MODES = ("auto", "never", "force_evaluation_only")


class BuildTrainingSetOperator(BaseOperator):
    """Build the training set of a strategy (``sliding_window``, ``weighted``, ``full_batch``)
    from sends matured by the run's ``as_of``, ending before the gate's validation window; write
    it to a file and push its URI and description."""

    template_fields = ("config_path", "strategy", "window_months")
    ui_color = "#fff2b3"

    def __init__(
        self,
        *,
        strategy: str | None = None,
        window_months: int | str | None = None,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.strategy = strategy
        self.window_months = window_months
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.retraining import build_training_set_step

        config, source, _registry = load_run_config(self.config_path)
        strategy = _blank_to_none(self.strategy) or config.retraining.default_strategy
        months = _blank_to_none(self.window_months)
        built = build_training_set_step(
            config=config,
            source_engine=source,
            as_of=as_of_from_context(context),
            strategy=str(strategy),
            window_months=int(months) if months is not None else None,
            run_id=context.get("run_id"),
            log=self.log,
        )
        return built.to_dict()


class RetrainModelOperator(BaseOperator):
    """Fit the estimator (``module:function``; default the config's ``model.estimator``) on the
    training set and validate the result; nothing is written to the registry when validation
    fails."""

    template_fields = ("config_path", "estimator")
    ui_color = "#ffe699"

    def __init__(
        self,
        *,
        training_set_task_id: str,
        estimator: str | None = None,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.training_set_task_id = training_set_task_id
        self.estimator = estimator
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.retraining import BuiltTrainingSet, train_and_validate_step

        config, _source, registry = load_run_config(self.config_path)
        built = BuiltTrainingSet.from_xcom(
            pull_dict(context, self.training_set_task_id, "training set"),
            self.training_set_task_id,
        )
        trained = train_and_validate_step(
            config=config,
            registry_engine=registry,
            built=built,
            estimator=self.estimator,
            run_id=context.get("run_id"),
            log=self.log,
        )
        return trained.to_dict()


class RegisterChallengerOperator(BaseOperator):
    """Register the validated model as a challenger, with its artifact and reference profile."""

    template_fields = ("config_path", "reason")
    ui_color = "#d9f2d9"

    def __init__(
        self,
        *,
        training_set_task_id: str,
        model_task_id: str,
        reason: str | None = None,
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.training_set_task_id = training_set_task_id
        self.model_task_id = model_task_id
        self.reason = reason
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from modelguard.pipelines.retraining import (
            BuiltTrainingSet,
            TrainedChallenger,
            register_step,
        )

        config, _source, registry = load_run_config(self.config_path)
        built = BuiltTrainingSet.from_xcom(
            pull_dict(context, self.training_set_task_id, "training set"),
            self.training_set_task_id,
        )
        trained = TrainedChallenger.from_xcom(
            pull_dict(context, self.model_task_id, "validated model"), self.model_task_id
        )
        return register_step(
            config=config,
            registry_engine=registry,
            built=built,
            trained=trained,
            reason=_blank_to_none(self.reason),
            run_id=context.get("run_id"),
            log=self.log,
        )


class DeployModeBranchOperator(BaseBranchOperator):
    """``never`` stops after registration; ``auto`` and ``force_evaluation_only`` go on to the
    gate (the evaluation branch then honours ``force_evaluation_only``)."""

    template_fields = ("mode",)

    def __init__(self, *, mode: str, gate_task_id: str, stop_task_id: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.mode = mode
        self.gate_task_id = gate_task_id
        self.stop_task_id = stop_task_id

    def choose_branch(self, context: Any) -> str:
        from modelguard.exceptions import DataValidationError

        if self.mode not in DEPLOY_MODES:
            raise DataValidationError(
                f"deploy={self.mode!r} is not allowed; allowed: {', '.join(DEPLOY_MODES)}"
            )
        return self.stop_task_id if self.mode == "never" else self.gate_task_id


def _blank_to_none(value: Any) -> Any:
    return None if value in (None, "", "None") else value
