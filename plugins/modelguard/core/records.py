"""Reading a result dataclass back from the dict it was sent through XCom or JSON as."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from modelguard.exceptions import MalformedResultError


def fields_from_dict(cls: type, data: Any) -> dict[str, Any]:
    """The values of ``cls``'s fields in ``data``; extra keys (derived ones such as
    ``deploy``) are ignored, a missing one is a :class:`MalformedResultError` naming it."""
    if not isinstance(data, dict):
        raise MalformedResultError(
            f"{cls.__name__}.from_dict needs a dict; got {type(data).__name__}"
        )
    names = [f.name for f in fields(cls)]
    missing = [name for name in names if name not in data]
    if missing:
        raise MalformedResultError(
            f"{cls.__name__}.from_dict: missing key(s) {', '.join(missing)}; pass what "
            f"{cls.__name__}.to_dict() returned"
        )
    return {name: data[name] for name in names}


def from_xcom(cls: type, value: Any, task_id: str, key: str = "return_value"):
    """``cls.from_dict(value)`` for the XCom ``key`` of task ``task_id``; a value that is not
    what ``cls.to_dict()`` pushed is a :class:`MalformedResultError` naming the task and key."""
    try:
        return cls.from_dict(value)
    except (MalformedResultError, KeyError, TypeError, ValueError) as exc:
        detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise MalformedResultError(
            f"task {task_id!r} XCom {key!r} is not a {cls.__name__}: {detail}"
        ) from exc
