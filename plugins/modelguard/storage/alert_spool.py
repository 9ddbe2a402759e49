"""Alert observations kept on disk while the alert store cannot be reached.

When the alert task cannot write to ``mg_alerts`` it still notifies, and writes what it
observed (and what it sent) to ``<storage.report_root>/<model>/alerts-spool/`` as one JSON file
per (DAG, judging task, interval): a rerun overwrites its file. The next alert task of the
model that reaches the store imports the files in data time, each as if its run had stored it,
with the notifications it sent recorded as sent (not sent again), then deletes them.

No Airflow imports here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelguard.alerts.episodes import Observation
from modelguard.storage.paths import check_part, inside

SPOOL_FOLDER = "alerts-spool"

__all__ = ["SPOOL_FOLDER", "Spooled", "read_spool", "spool_folder", "write_spool"]


@dataclass(frozen=True)
class Spooled:
    """One spooled observation, the outcome per channel of what was sent for it, its file."""

    path: Path
    observation: Observation
    outcomes: dict[str, tuple[str, str | None]]
    backfill: bool


def spool_folder(report_root: Path, model_name: str) -> Path:
    """``<report_root>/<model>/alerts-spool``, confined to the root (UnsafePathError)."""
    check_part(model_name, what="model name")
    return inside(report_root, model_name, SPOOL_FOLDER, root_name="storage.report_root")


def _name(obs: Observation) -> str:
    def part(value) -> str:
        return value.strftime("%Y-%m-%dT%H%M%S")

    return f"{obs.dag_id}__{obs.source}__{part(obs.interval_start)}_{part(obs.interval_end)}.json"


def write_spool(
    report_root: Path,
    model_name: str,
    observation: Observation,
    outcomes: dict[str, tuple[str, str | None]],
    *,
    backfill: bool,
    reason: str,
) -> Path:
    """Write (or replace) the spool file of ``observation``, atomically; returns its path.
    Raises OSError when the folder cannot be written."""
    folder = spool_folder(report_root, model_name)
    path = inside(folder, _name(observation), what="alert spool file name")
    folder.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "model_name": model_name,
        "observation": observation.to_dict(),
        "outcomes": {k: list(v) for k, v in outcomes.items()},
        "backfill": backfill,
        "reason": reason,
    }
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(payload, sort_keys=True, indent=1))
    os.replace(partial, path)
    return path


def read_spool(report_root: Path, model_name: str) -> list[Spooled]:
    """The spooled observations of a model, oldest interval first (none: an empty list).
    A file that cannot be read back is left in place and named in the error raised."""
    from modelguard.exceptions import MalformedResultError

    folder = spool_folder(report_root, model_name)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            outcomes = {k: (v[0], v[1]) for k, v in (data.get("outcomes") or {}).items()}
            out.append(
                Spooled(
                    path,
                    Observation.from_dict(data["observation"]),
                    outcomes,
                    bool(data.get("backfill")),
                )
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise MalformedResultError(
                f"alert spool file {path} cannot be read back ({exc}); move it away to go on"
            ) from exc
    return sorted(out, key=lambda s: s.observation.order)
