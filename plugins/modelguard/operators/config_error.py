"""The stand-in for a model whose config cannot be loaded (see ``modelguard.factory``)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator


class ConfigErrorOperator(BaseOperator):
    """The one task of a model whose config cannot be loaded: it fails with the config's errors,
    so the run's log says what to fix."""

    ui_color = "#f5c6c6"

    def __init__(self, *, config_file: str, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_file = config_file
        self.message = message

    def execute(self, context: Any) -> None:
        from modelguard.exceptions import InvalidModelConfigError

        raise InvalidModelConfigError(
            f"{self.message} (fix {self.config_file}; `modelguard check-config` lists every error)"
        )
