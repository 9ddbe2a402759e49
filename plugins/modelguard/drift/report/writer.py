"""Writing one report folder: validation first (nothing is written for a malformed report), then
the plots, the JSON and the page, each file replaced atomically so that a rerun into the same
folder never leaves a reader half a file."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelguard.core.timing import phase
from modelguard.exceptions import MalformedResultError, NotJSONSerializableError
from modelguard.storage.artifacts import TMP_PREFIX, atomic_write_text
from modelguard.storage.paths import inside

from .format import (
    FEATURE_PLOT_PREFIX,
    HTML_NAME,
    JSON_NAME,
    PLOTS_DIR,
    PSI_PLOT_NAME,
    feature_order,
    features_of,
    plot_filenames,
)
from .html import render_html
from .plots import feature_figure, psi_figure, save_figure

__all__ = ["ReportPaths", "write_drift_reports"]


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_drift_reports` put its files.

    ``plot_paths`` starts with the PSI overview, followed by one plot per feature in the order of
    the HTML features table (drifted first, then by PSI descending).
    """

    json_path: Path
    html_path: Path
    plot_paths: tuple[Path, ...]


def write_drift_reports(
    report: Mapping[str, Any], out_dir: str | Path, *, title: str | None = None
) -> ReportPaths:
    """Write ``drift_report.json``, ``drift_report.html`` and PNG plots for one drift report.

    The folder is created if needed. A rerun into the same folder replaces every file (each is
    written to a temporary file and renamed into place) and deletes ``plots/feature_*.png`` files
    left by a previous run for features that are no longer in the report; other files in the
    folder are left alone.

    Raises:
        MalformedResultError (a ValueError): the report contains NaN or infinity (the message
            names the key path), or is malformed (``features`` not a mapping, bin lists of
            different lengths, ...). Nothing is written in that case.
    """
    _validate(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A plots folder that is a symlink pointing out of the report folder is refused.
    plots_dir = inside(out, PLOTS_DIR, root_name="the report folder")
    plots_dir.mkdir(parents=True, exist_ok=True)

    features = features_of(report)
    order = feature_order(features)
    filenames = plot_filenames(features)
    thresholds = report.get("thresholds") or {}

    psi_path = plots_dir / PSI_PLOT_NAME
    with phase("plots"):
        save_figure(psi_figure(features, thresholds), psi_path)
        plot_paths = [psi_path]
        for name in order:
            path = plots_dir / filenames[name]
            save_figure(feature_figure(name, features[name]), path)
            plot_paths.append(path)
    _remove_stale_plots(plots_dir, keep={p.name for p in plot_paths})

    json_path = inside(out, JSON_NAME, root_name="the report folder")
    atomic_write_text(json_path, _to_json(report))
    html_path = inside(out, HTML_NAME, root_name="the report folder")
    atomic_write_text(html_path, render_html(report, order, filenames, title))
    return ReportPaths(json_path=json_path, html_path=html_path, plot_paths=tuple(plot_paths))


def _validate(report: Mapping[str, Any]) -> None:
    if not isinstance(report, Mapping):
        raise MalformedResultError(
            f"drift report must be a mapping (dict), got {type(report).__name__}"
        )
    _check_finite(report, "report")
    features = report.get("features")
    if features is not None and not isinstance(features, Mapping):
        raise MalformedResultError(
            f"report['features'] must be a mapping of feature name to result, "
            f"got {type(features).__name__}"
        )
    for name, feat in (features or {}).items():
        where = f"report['features'][{name!r}]"
        if not isinstance(feat, Mapping):
            raise MalformedResultError(f"{where} must be a mapping, got {type(feat).__name__}")
        bins = feat.get("bins")
        if bins is None:
            continue
        if not isinstance(bins, Mapping):
            raise MalformedResultError(
                f"{where}['bins'] must be a mapping, got {type(bins).__name__}"
            )
        keys = ("labels", "reference", "current") + (("kinds",) if "kinds" in bins else ())
        lengths = {key: len(bins.get(key) or ()) for key in keys}
        if len(set(lengths.values())) > 1:
            raise MalformedResultError(
                f"{where}['bins'] lists must have the same length, got "
                + ", ".join(f"{k}={v}" for k, v in lengths.items())
            )


def _check_finite(value: Any, path: str) -> None:
    """Raise MalformedResultError naming the key path of the first NaN or infinite number."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedResultError(
                f"{path} is {value!r}; a drift report may contain only finite numbers "
                f"(use null for a value that could not be computed)"
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_finite(item, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_finite(item, f"{path}[{i}]")
    elif hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalar
        _check_finite(value.item(), path)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    raise NotJSONSerializableError(
        f"drift report value of type {type(value).__name__} is not JSON serialisable"
    )


def _to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, allow_nan=False, default=_json_default)


def _remove_stale_plots(plots_dir: Path, keep: Iterable[str]) -> None:
    keep = set(keep)
    for path in plots_dir.iterdir():
        if path.name in keep or not path.is_file():
            continue
        if (path.name.startswith(FEATURE_PLOT_PREFIX) and path.suffix == ".png") or (
            path.name.startswith(TMP_PREFIX)
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
