"""The DAG ids of one model: every id starts with the model's name, so one Airflow can hold
several models side by side and a person sees at once which model a DAG watches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelDagIds:
    model_name: str

    @property
    def monitoring(self) -> str:
        return f"{self.model_name}_monitoring"

    @property
    def monitoring_daily(self) -> str:
        return f"{self.model_name}_monitoring_daily"

    @property
    def retraining(self) -> str:
        return f"{self.model_name}_retraining"

    @property
    def deployment(self) -> str:
        return f"{self.model_name}_deployment"

    @property
    def rollback(self) -> str:
        return f"{self.model_name}_rollback"

    @property
    def report(self) -> str:
        return f"{self.model_name}_report"

    @property
    def all(self) -> tuple[str, ...]:
        return (
            self.monitoring,
            self.monitoring_daily,
            self.retraining,
            self.deployment,
            self.rollback,
            self.report,
        )
