"""The outcomes of the two matured-window checks, as they cross from the check to the retraining
decision: typed here, a dict only as the check task's XCom (and its stored result row).

:meth:`to_dict` gives that dict exactly as the checks always pushed it; :meth:`from_dict` reads
it back (``modelguard.core.records.from_xcom`` names the task when it does not fit). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelguard.core.records import fields_from_dict, from_xcom
from modelguard.exceptions import MalformedResultError
from modelguard.labels.concept import ConceptDriftReport
from modelguard.labels.performance import Degradation, PerformanceReport

__all__ = [
    "CONCEPT_STATUSES",
    "PERFORMANCE_CHECK_STATUSES",
    "ConceptOutcome",
    "PerformanceOutcome",
]

PERFORMANCE_CHECK_STATUSES = ("measured", "degraded", "missing")
CONCEPT_STATUSES = ("stable", "drifted", "missing")


def _window(value: Any, cls: str) -> tuple[str, str]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise MalformedResultError(f"{cls}.from_dict: 'window' must be [start, end]; got {value!r}")
    return str(value[0]), str(value[1])


def _status(value: Any, allowed: tuple[str, ...], cls: str) -> str:
    if value not in allowed:
        raise MalformedResultError(
            f"{cls}.from_dict: status must be one of {', '.join(allowed)}; got {value!r}"
        )
    return value


@dataclass(frozen=True)
class PerformanceOutcome:
    """The champion's performance on one matured window (``run_performance_check``).

    ``status`` "measured" or "degraded" (the drop beyond ``retraining.performance_threshold``):
    ``metrics`` is the measurement and ``degradation`` its comparison with the champion's
    baseline; "missing": too few labels (``reason`` says how many), both None.
    """

    window: tuple[str, str]
    model_version_id: int
    sends: int
    labelled: int
    status: str
    reason: str
    metrics: PerformanceReport | None = None
    degradation: Degradation | None = None

    def to_dict(self) -> dict[str, Any]:
        """The XCom and stored result: builtin types only."""
        return {
            "window": list(self.window),
            "model_version_id": self.model_version_id,
            "sends": self.sends,
            "labelled": self.labelled,
            "status": self.status,
            "reason": self.reason,
            "metrics": None if self.metrics is None else self.metrics.to_dict(),
            "degradation": None if self.degradation is None else self.degradation.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceOutcome:
        """Inverse of :meth:`to_dict`."""
        values = fields_from_dict(cls, data)
        values["window"] = _window(values["window"], cls.__name__)
        values["status"] = _status(values["status"], PERFORMANCE_CHECK_STATUSES, cls.__name__)
        if values["metrics"] is not None:
            values["metrics"] = PerformanceReport.from_dict(values["metrics"])
        if values["degradation"] is not None:
            values["degradation"] = Degradation.from_dict(values["degradation"])
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value"):
        """What the check task pushed, read back (MalformedResultError naming the task)."""
        return from_xcom(cls, value, task_id, key)


@dataclass(frozen=True)
class ConceptOutcome:
    """The feature->engagement relation on one matured window (``run_concept_check``).

    ``status`` "drifted" / "stable": ``report`` is the comparison and ``score`` its overall
    score; "missing": too few labels, no report (and no ``score`` / ``report`` key in the dict).
    """

    window: tuple[str, str]
    model_version_id: int
    sends: int
    labelled: int
    status: str
    reason: str
    concept_drift: bool
    drifted_features: tuple[str, ...] = ()
    score: float | None = None
    report: ConceptDriftReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """The XCom and stored result: builtin types only, keys in the order always pushed."""
        head = {
            "window": list(self.window),
            "model_version_id": self.model_version_id,
            "sends": self.sends,
            "labelled": self.labelled,
            "status": self.status,
        }
        if self.status == "missing":
            return {
                **head,
                "reason": self.reason,
                "concept_drift": self.concept_drift,
                "drifted_features": list(self.drifted_features),
            }
        return {
            **head,
            "concept_drift": self.concept_drift,
            "drifted_features": list(self.drifted_features),
            "score": self.score,
            "report": None if self.report is None else self.report.to_dict(),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConceptOutcome:
        """Inverse of :meth:`to_dict` (``score`` / ``report`` absent for a missing window)."""
        if isinstance(data, dict) and data.get("status") == "missing":
            data = {"score": None, "report": None, **data}
        values = fields_from_dict(cls, data)
        values["window"] = _window(values["window"], cls.__name__)
        values["status"] = _status(values["status"], CONCEPT_STATUSES, cls.__name__)
        if not isinstance(values["concept_drift"], bool):
            raise MalformedResultError(
                f"{cls.__name__}.from_dict: 'concept_drift' must be a bool; got "
                f"{values['concept_drift']!r}"
            )
        values["drifted_features"] = tuple(str(f) for f in values["drifted_features"] or ())
        if values["report"] is not None:
            values["report"] = ConceptDriftReport.from_dict(values["report"])
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value"):
        """What the check task pushed, read back (MalformedResultError naming the task)."""
        return from_xcom(cls, value, task_id, key)
