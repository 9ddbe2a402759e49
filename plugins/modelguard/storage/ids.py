"""The checks of the ids and names every store takes: model version ids, model names, windows.

One rule each, shared by the registry, the result, alert and health stores and the command
line, so ``True``, ``'1'`` or ``1.0`` is never a version id anywhere (``bool`` is an ``int`` in
Python and ``int('1')`` would coerce silently), a model name with a trailing newline never
passes (``fullmatch``, not ``$``), and a window is ``start < end`` with both naive or both
aware. Pure: no Airflow, no I/O.
"""

from __future__ import annotations

import numbers
import re
from datetime import datetime
from typing import Any

from modelguard.exceptions import InvalidIdError, NotADatetimeError, StoreError

__all__ = [
    "MODEL_NAME_RULE",
    "check_model_name",
    "check_optional_version_id",
    "check_version_id",
    "check_window_bounds",
    "is_model_name",
]

# The config's identifier rule (model.name): letters, digits and '_', not starting with a
# digit; at most 200 characters (it is a folder name under the artifact and report roots).
_MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
MODEL_NAME_RULE = (
    "1-200 characters from letters, digits and '_', not starting with a digit (the rule of "
    "model.name in the config)"
)


def is_model_name(value: Any) -> bool:
    """Whether ``value`` is a valid model name (a ``str`` that fully matches the rule)."""
    return isinstance(value, str) and _MODEL_NAME.fullmatch(value) is not None


def check_model_name(value: Any, name: str = "model_name") -> str:
    """``value`` when it is a valid model name, else :class:`InvalidIdError` naming ``name``."""
    if not is_model_name(value):
        raise InvalidIdError(f"invalid model name {value!r} for {name}: use {MODEL_NAME_RULE}")
    return value


def check_version_id(value: Any, name: str = "version_id") -> int:
    """``value`` as an ``int`` when it is an integer >= 1 (a Python or numpy integer; never a
    bool, a float or a string), else :class:`InvalidIdError` naming ``name`` and the value."""
    # numbers.Integral: int and numpy's integers, not numpy's bool; bool is refused by name.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidIdError(
            f"{name} must be an integer model version id >= 1, got {value!r} "
            f"({type(value).__name__}); pass the id as an int (ModelVersion.id)"
        )
    number = int(value)
    if number < 1:
        raise InvalidIdError(
            f"{name} must be an integer model version id >= 1, got {number}; ids start at 1"
        )
    return number


def check_optional_version_id(value: Any, name: str = "model_version_id") -> int | None:
    """:func:`check_version_id`, or ``None`` for ``None``."""
    return None if value is None else check_version_id(value, name)


def check_window_bounds(
    start: Any, end: Any, *, what: str = "window", error: type[Exception] = StoreError
) -> None:
    """Both ``datetime``, both naive or both aware, and ``start < end``: otherwise ``error``
    (a :class:`NotADatetimeError` for a value that is no datetime) naming the bounds."""
    for label, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime):
            raise NotADatetimeError(
                f"{what} {label} must be a datetime, got {value!r} ({type(value).__name__})"
            )
    if (start.utcoffset() is None) != (end.utcoffset() is None):
        raise error(
            f"{what} [{start.isoformat()}, {end.isoformat()}) mixes a naive and an aware "
            "datetime; give both in UTC, both naive or both with a time zone"
        )
    if start >= end:
        raise error(
            f"{what} [{start.isoformat()}, {end.isoformat()}) is empty: its start must be "
            "before its end"
        )
