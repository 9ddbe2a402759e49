"""The default channel: the alert message in the task's log (no server needed)."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier


class LogAlertNotifier(BaseNotifier):
    """Writes an alert message to a logger (the alert task's own log by default), as a warning
    so that it stands out in the UI's log view."""

    template_fields = ("subject", "text")

    def __init__(self, *, text: str, subject: str = "", log: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.text = text
        self._target = log

    def notify(self, context: Any) -> None:
        target = self._target or logging.getLogger("modelguard.alerts")
        target.warning("%s\n%s", self.subject, self.text)
