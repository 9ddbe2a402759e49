"""Every written or deleted path stays inside its root: :func:`inside`.

Report folders are named after the DAG id and the window (``<report_root>/<dag_id>/<label>``),
spools and reports after the model name; Airflow accepts a DAG id of ``..``, so a name joined
as it is can put a folder outside the root, right before a recursive delete. :func:`inside`
takes the root and the names, refuses a name that is not one plain path component (empty,
``.``, ``..``, absolute, holding ``/``, ``\\`` or NUL), resolves the result (symlinks followed)
and refuses it unless it lies strictly under the resolved root: a symlinked folder pointing
out is refused too. Pure: no Airflow; the only I/O is resolving the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelguard.exceptions import UnsafePathError

__all__ = ["PARTS_SUFFIX", "check_part", "inside"]

_SEPARATORS = ("/", "\\")
PARTS_SUFFIX = ".parts"
"""``<report_root>/<dag_id>/<window label>.parts``: a window's drift partition files
(:mod:`modelguard.storage.partitions`), pruned with its report folder."""


def check_part(part: Any, *, what: str = "a path component") -> str:
    """``part`` when it is one plain file or folder name, else :class:`UnsafePathError`."""
    if not isinstance(part, str):
        raise UnsafePathError(f"{what} must be a string, got {part!r} ({type(part).__name__})")
    problem = None
    if not part:
        problem = "is empty"
    elif part in (".", ".."):
        problem = "is '.' or '..'"
    elif "\x00" in part:
        problem = "holds a NUL character"
    elif any(sep in part for sep in _SEPARATORS):
        problem = "holds a path separator ('/' or '\\')"
    elif os.path.isabs(part) or Path(part).name != part:
        problem = "is not a plain file name"
    if problem:
        raise UnsafePathError(
            f"{what} {part!r} is not a plain file or folder name (it {problem}); it becomes a "
            "file or folder name, so it must be one name without '/', '\\' or NUL, and not "
            "'.', '..' or empty"
        )
    return part


def inside(
    root: str | os.PathLike[str],
    *parts: str,
    what: str = "a path component",
    root_name: str = "the root",
) -> Path:
    """``root/part/...`` resolved (symlinks followed), checked to lie strictly under the
    resolved ``root``; :class:`UnsafePathError` naming the offending part or the resolved
    path otherwise. Nothing is created."""
    base = Path(root).expanduser().resolve()
    for part in parts:
        check_part(part, what=what)
    resolved = base.joinpath(*parts).resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise UnsafePathError(
            f"{'/'.join(map(repr, parts))} under {root_name} {str(base)!r} resolves to "
            f"{str(resolved)!r}, outside that root (a symlink pointing out?); files are "
            "written and deleted only under it"
        )
    return resolved
