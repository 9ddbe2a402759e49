"""The files of a partitioned drift check: one window summary per partition of a run's window.

``<report_root>/<dag_id>/<window label>.parts/part-<i>-of-<n>.npz``, beside the window's report
folder (``<label>``, which a merge replaces whole), so the partitions survive a retried merge and
are pruned with the report by :mod:`modelguard.storage.retention` (the same window label, suffix
``.parts``). Each file is written to a temporary name and renamed over the old one, so a rerun of
a partition replaces its file and a reader never sees half a file. Paths go through
:func:`modelguard.storage.paths.inside`: nothing is written or read outside ``report_root``.

Pure: no Airflow. The summaries never travel through XCom, only through these files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelguard.core.window import Window
from modelguard.drift.summary import WindowSummary
from modelguard.exceptions import ReportWriteError, SummaryMismatchError
from modelguard.storage.artifacts import atomic_write_bytes
from modelguard.storage.paths import PARTS_SUFFIX, check_part, inside


def partition_dir(report_root: str | os.PathLike[str], dag_id: str, window: Window) -> Path:
    """The folder of one run window's partition files (not created)."""
    check_part(dag_id, what="DAG id")
    return inside(report_root, dag_id, window.label + PARTS_SUFFIX, root_name="storage.report_root")


def partition_path(folder: Path, index: int, n: int) -> Path:
    """``part-<index>-of-<n>.npz``: a file of another partition count is never read as one of
    this run's."""
    if not 0 <= index < n:
        raise SummaryMismatchError(f"partition index {index} is not in 0..{n - 1}")
    return folder / f"part-{index:04d}-of-{n:04d}.npz"


def write_partition(path: Path, summary: WindowSummary, meta: dict[str, Any]) -> Path:
    """Write (or replace) one partition's file atomically."""
    data = summary.to_bytes(meta)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ReportWriteError(
            f"partition summary {path} could not be written ({exc}); storage.report_root must "
            "be a writable folder shared by every worker that runs the drift partitions"
        ) from exc
    return path


def read_partition(path: Path, where: str) -> tuple[WindowSummary, dict[str, Any]]:
    """(summary, meta) of one partition's file; a missing file names the partition."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SummaryMismatchError(
            f"{where} has no summary file at {path}: its summarise_partition task has not run "
            "(or ran on a worker that does not share storage.report_root with this one); "
            "clear the run's drift partitions to run them again"
        ) from None
    except OSError as exc:
        raise SummaryMismatchError(f"{where}: {path} cannot be read ({exc})") from exc
    return WindowSummary.from_bytes(data, f"{where} ({path.name})")
