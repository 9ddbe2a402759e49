"""Choosing a branch from a small verdict dict, strictly."""

from __future__ import annotations

from typing import Any

from modelguard.exceptions import DataValidationError


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
