"""Human-readable drift reports: JSON, PNG plots and a self-contained HTML page.

Pure core: no Airflow imports. matplotlib is imported lazily inside the plotting functions (this
module may be imported when a DAG file is parsed) and drawn through the Agg canvas on
``matplotlib.figure.Figure`` objects, never through ``pyplot``: no global figure registry, no
backend switching, safe to call from several threads.

The input is the plain-dict (JSON) form of a drift report, as produced by ``DriftReport.to_dict()``.

Output folder layout (written by :func:`write_drift_reports`)::

    out_dir/
        drift_report.json
        drift_report.html          # references plots/... relatively: zip or serve the folder
        plots/psi_by_feature.png
        plots/feature_<name>.png   # one per feature; <name> is made file-system safe
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from modelguard.exceptions import MalformedResultError, NotJSONSerializableError
from modelguard.storage.artifacts import TMP_PREFIX, atomic_write_bytes, atomic_write_text

__all__ = ["ReportPaths", "summarize", "write_drift_reports"]

JSON_NAME = "drift_report.json"
HTML_NAME = "drift_report.html"
PLOTS_DIR = "plots"
PSI_PLOT_NAME = "psi_by_feature.png"
FEATURE_PLOT_PREFIX = "feature_"

# A rise (or fall) of the missing-value share at least this large is called out in the summary.
MISSING_SHIFT_NOTE = 0.05
# How many names a summary list shows before "and N more".
_SUMMARY_LIST_MAX = 5

SEVERITY_COLORS = {"none": "#2e7d32", "minor": "#e69f00", "major": "#c62828"}
VERDICT_COLORS = {"healthy": "#2e7d32", "minor": "#e69f00", "major": "#c62828"}
_UNKNOWN_COLOR = "#757575"
_REFERENCE_COLOR = "#4c78a8"
_CURRENT_COLOR = "#f58518"
_NEW_CATEGORY_COLOR = "#c62828"

_KNOWN_SEV = ("none", "minor", "major")

_THRESHOLD_LABELS = {
    "psi_warning": "PSI warning (minor drift) at",
    "psi_critical": "PSI critical (major drift) at",
    "ks_significance": "Significance level (adjusted p-value) below",
    "min_ks_statistic": "Minimum KS statistic (effect size, numeric)",
    "min_cramers_v": "Minimum Cramér's V (effect size, categorical)",
    "dataset_drift_share": "Dataset drift when the share of drifted features reaches",
}


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_drift_reports` put its files.

    ``plot_paths`` starts with the PSI overview, followed by one plot per feature in the order of
    the HTML features table (drifted first, then by PSI descending).
    """

    json_path: Path
    html_path: Path
    plot_paths: tuple[Path, ...]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def write_drift_reports(
    report: Mapping[str, Any], out_dir: str | Path, *, title: str | None = None
) -> ReportPaths:
    """Write ``drift_report.json``, ``drift_report.html`` and PNG plots for one drift report.

    The folder is created if needed. A rerun into the same folder replaces every file (each is
    written to a temporary file and renamed into place) and deletes ``plots/feature_*.png`` files
    left by a previous run for features that are no longer in the report; other files in the
    folder are left alone.

    Raises:
        MalformedResultError (a ValueError): the report contains NaN or infinity (the message names the key path), or is
            malformed (``features`` not a mapping, bin lists of different lengths, ...). Nothing
            is written in that case.
    """
    _validate(report)
    out = Path(out_dir)
    plots_dir = out / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)

    features = _features(report)
    order = _feature_order(features)
    filenames = _plot_filenames(features)
    thresholds = report.get("thresholds") or {}

    psi_path = plots_dir / PSI_PLOT_NAME
    _save_figure(_psi_figure(features, thresholds), psi_path)
    plot_paths = [psi_path]
    for name in order:
        path = plots_dir / filenames[name]
        _save_figure(_feature_figure(name, features[name]), path)
        plot_paths.append(path)
    _remove_stale_plots(plots_dir, keep={p.name for p in plot_paths})

    json_path = out / JSON_NAME
    atomic_write_text(json_path, _to_json(report))
    html_path = out / HTML_NAME
    atomic_write_text(html_path, _render_html(report, order, filenames, title))
    return ReportPaths(json_path=json_path, html_path=html_path, plot_paths=tuple(plot_paths))


def summarize(report: Mapping[str, Any]) -> str:
    """One plain-text paragraph saying what drifted, how badly, and on how much data.

    Example: "Model churn v3, window 2026-09-01 00:00 to 2026-09-02 00:00: verdict MAJOR. 3 of 13
    features drifted (23%; dataset drift is declared at 30%). Major drift in company_size
    (PSI 0.41); minor drift in region (PSI 0.12) and plan (PSI 0.11). ..."
    """
    features = _features(report)
    order = _feature_order(features)
    verdict = str(report.get("verdict") or "unknown")
    thresholds = report.get("thresholds") or {}

    sentences = [f"{_subject(report)}: verdict {verdict.upper()}."]

    drifted = [n for n in order if features[n].get("drifted")]
    drifted += [str(n) for n in report.get("drifted_features") or [] if str(n) not in features]
    n_total = len(features)
    share = thresholds.get("dataset_drift_share")
    if n_total == 0:
        sentences.append("The report contains no features.")
    elif not drifted:
        sentences.append(f"No drift detected: 0 of {n_total} features drifted.")
    else:
        noun = "feature" if n_total == 1 else "features"
        sentence = f"{len(drifted)} of {n_total} {noun} drifted ({len(drifted) / n_total:.0%})"
        at = f" (declared from {share:.0%} of features)" if _is_number(share) else ""
        if report.get("dataset_drift_reason"):
            at = f" ({report['dataset_drift_reason']})"
        if "dataset_drift" in report:
            state = "has drifted" if report.get("dataset_drift") else "has not drifted"
            sentence += f"; the dataset as a whole {state}{at}"
        sentences.append(sentence + ".")

        by_severity: dict[str, list[str]] = {"major": [], "minor": [], "other": []}
        for n in drifted:
            severity = features.get(n, {}).get("severity")
            by_severity[severity if severity in ("major", "minor") else "other"].append(n)
        groups = [
            f"{label} in {_join([_name_with_psi(n, features.get(n, {})) for n in names])}"
            for label, names in (
                ("major drift", by_severity["major"]),
                ("minor drift", by_severity["minor"]),
                ("drift", by_severity["other"]),
            )
            if names
        ]
        if groups:
            text = "; ".join(groups)
            sentences.append(text[0].upper() + text[1:] + ".")

    watch = [
        n
        for n in order
        if not features[n].get("drifted") and features[n].get("severity") in ("minor", "major")
    ]
    if watch:
        items = [_name_with_psi(n, features[n]) for n in watch]
        sentences.append(
            f"Worth watching (elevated PSI but not flagged as drifted): {_join(items)}."
        )

    new_cats = [
        f"{n} ({', '.join(_category_with_share(c, s) for c, s in _new_categories(features[n]))})"
        for n in order
        if _new_categories(features[n])
    ]
    if new_cats:
        sentences.append(f"New categories not seen in the reference: {_join(new_cats, sep='; ')}.")

    missing = []
    for n in order:
        ref = features[n].get("missing_share_reference")
        cur = features[n].get("missing_share_current")
        if _is_number(ref) and _is_number(cur) and abs(cur - ref) >= MISSING_SHIFT_NOTE:
            missing.append(f"{n} ({_pct(ref)} to {_pct(cur)})")
    if missing:
        sentences.append(f"Share of missing values changed in {_join(missing)}.")

    n_ref, n_cur = report.get("n_reference"), report.get("n_current")
    if _is_number(n_ref) and _is_number(n_cur):
        sentences.append(f"Based on {n_ref:,} reference rows and {n_cur:,} current rows.")
    return " ".join(sentences)


# --------------------------------------------------------------------------------------------------
# Validation and JSON
# --------------------------------------------------------------------------------------------------


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
        lengths = {key: len(bins.get(key) or ()) for key in ("labels", "reference", "current")}
        if len(set(lengths.values())) > 1:
            raise MalformedResultError(
                f"{where}['bins'] lists must have the same length, got "
                + ", ".join(f"{k}={v}" for k, v in lengths.items())
            )


def _check_finite(value: Any, path: str) -> None:
    """Raise MalformedResultError (a ValueError) naming the key path of the first NaN or infinite number."""
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


# --------------------------------------------------------------------------------------------------
# Helpers shared by the summary, the HTML and the plots
# --------------------------------------------------------------------------------------------------


def _features(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(k): v for k, v in (report.get("features") or {}).items()}


def _feature_order(features: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Drifted first, then by PSI descending (missing PSI last), then by name."""

    def key(name: str) -> tuple[int, float, str]:
        psi = features[name].get("psi")
        return (
            0 if features[name].get("drifted") else 1,
            -psi if _is_number(psi) else math.inf,
            name,
        )

    return sorted(features, key=key)


def _plot_filenames(features: Mapping[str, Any]) -> dict[str, str]:
    """Map feature name -> unique, file-system-safe PNG name (case-insensitively unique)."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(features):
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:80] or "feature"
        if stem != name:
            stem = f"{stem}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
        candidate, n = stem, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}-{hashlib.sha1(name.encode()).hexdigest()[:8]}-{n}"
        taken.add(candidate.lower())
        result[name] = f"{FEATURE_PLOT_PREFIX}{candidate}.png"
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if _is_number(value) else "n/a"


def _fmt_p(value: Any) -> str:
    if not _is_number(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.1e}"


def _pct(value: Any) -> str:
    if not _is_number(value):
        return "n/a"
    return f"{value:.1%}" if 0 < abs(value) < 0.1 else f"{value:.0%}"


def _join(items: Sequence[str], sep: str = ", ") -> str:
    items = list(items)
    if len(items) > _SUMMARY_LIST_MAX:
        rest = len(items) - _SUMMARY_LIST_MAX
        items = items[:_SUMMARY_LIST_MAX] + [f"{rest} more"]
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + " and " + items[-1]


def _name_with_psi(name: str, feat: Mapping[str, Any]) -> str:
    psi = feat.get("psi")
    return f"{name} (PSI {psi:.2f})" if _is_number(psi) else name


def _new_categories(feat: Mapping[str, Any]) -> list[tuple[str, Any]]:
    cats = feat.get("new_categories") or {}
    if not isinstance(cats, Mapping):  # tolerate a plain list of names
        return [(str(c), None) for c in cats]
    return sorted(
        ((str(c), s) for c, s in cats.items()),
        key=lambda cs: (-(cs[1] if _is_number(cs[1]) else 0), cs[0]),
    )


def _category_with_share(category: str, share: Any) -> str:
    return f"{category} {_pct(share)}" if _is_number(share) else category


def _fmt_timestamp(value: Any) -> str:
    text = str(value)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:00(\.0+)?)?", text)
    return f"{match.group(1)} {match.group(2)}" if match else text.replace("T", " ")


def _window_text(report: Mapping[str, Any]) -> str | None:
    window = report.get("window")
    if not isinstance(window, Mapping):
        return None
    start, end = window.get("start"), window.get("end")
    if start is None and end is None:
        return None
    return f"{_fmt_timestamp(start) if start else '…'} to {_fmt_timestamp(end) if end else '…'}"


def _model_text(report: Mapping[str, Any]) -> str | None:
    name, version = report.get("model_name"), report.get("model_version")
    if name is None and version is None:
        return None
    text = f"Model {name}" if name is not None else "Model"
    return f"{text} v{version}" if version is not None else text


def _subject(report: Mapping[str, Any]) -> str:
    model, window = _model_text(report), _window_text(report)
    parts = [model or "Drift report"]
    if window:
        parts.append(f"window {window}")
    return ", ".join(parts)


def _severity_color(severity: Any) -> str:
    return SEVERITY_COLORS.get(str(severity), _UNKNOWN_COLOR)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Plots (matplotlib imported lazily; Figure + Agg canvas, no pyplot)
# --------------------------------------------------------------------------------------------------


_DPI = 100
_SIN45 = math.sqrt(0.5)


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # No layout engine: margins are computed from measured text sizes (see _text_inches), so a
    # figure is drawn once when saved. constrained_layout would draw it about twice as often.
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _plain(text: str) -> str:
    """Keep user strings literal: an unescaped pair of '$' would switch matplotlib to mathtext."""
    return text.replace("$", r"\$")


def _text_inches(fig: Any, text: str, size: float, weight: str = "normal") -> tuple[float, float]:
    """Width and height in inches of one line of ``text`` as the Agg renderer will draw it."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()
    width, height, _ = renderer.get_text_width_height_descent(
        text, FontProperties(size=size, weight=weight), ismath=False
    )
    return width / fig.dpi, height / fig.dpi


def _place_axes(fig: Any, ax: Any, *, left: float, right: float, bottom: float, top: float) -> None:
    """Position ``ax`` with margins given in inches."""
    width, height = fig.get_size_inches()
    ax.set_position(
        [
            left / width,
            bottom / height,
            (width - left - right) / width,
            (height - bottom - top) / height,
        ]
    )


def _fitting_size(
    fig: Any, text: str, size: float, min_size: float, avail: float, **kw: Any
) -> float:
    """Largest font size <= ``size`` (and >= ``min_size``) at which ``text`` fits in ``avail`` in."""
    width, _ = _text_inches(fig, text, size, **kw)
    return size if width <= avail else max(min_size, size * avail / width)


def _save_figure(fig: Any, path: Path) -> None:
    import io

    buf = io.BytesIO()
    try:
        # No "Software" metadata: identical input gives byte-identical files.
        fig.savefig(buf, format="png", metadata={"Software": None})
    finally:
        fig.clear()
    atomic_write_bytes(path, buf.getvalue())


def _psi_figure(features: Mapping[str, Mapping[str, Any]], thresholds: Mapping[str, Any]) -> Any:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # Ascending so that the largest PSI ends up at the top of the horizontal bar chart; features
    # without a PSI sit at the bottom.
    names = sorted(
        features,
        key=lambda n: (
            _is_number(features[n].get("psi")),
            features[n].get("psi") if _is_number(features[n].get("psi")) else 0.0,
            n,
        ),
    )
    n = len(names)
    title = "Population Stability Index (PSI) by feature"
    fig_width, row = 8.5, (0.3 if n <= 40 else 0.2)
    top, bottom = 0.45, 1.05
    fig = _new_figure(fig_width, max(1.5, row * n) + top + bottom)
    ax = fig.add_subplot()
    ax.set_title(title)
    if not names:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "The report contains no features.", ha="center", va="center")
        return fig

    fontsize = 9 if n <= 40 else 7
    labels = [_plain(_shorten(m, 40)) for m in names]
    left = max(_text_inches(fig, label, fontsize)[0] for label in labels) + 0.25
    _place_axes(fig, ax, left=max(left, 0.8), right=0.3, bottom=bottom, top=top)

    values = [features[m].get("psi") for m in names]
    psis = [v if _is_number(v) else 0.0 for v in values]
    colors = [_severity_color(features[m].get("severity")) for m in names]
    ypos = list(range(n))
    ax.barh(ypos, psis, color=colors, height=0.7)
    ax.set_yticks(ypos, labels, fontsize=fontsize)

    warning, critical = thresholds.get("psi_warning"), thresholds.get("psi_critical")
    xmax = max([*psis, *(t for t in (warning, critical) if _is_number(t)), 0.01])
    ax.set_xlim(0, xmax * 1.18)
    for y, value, raw in zip(ypos, psis, values, strict=True):
        label = f"{raw:.3f}" if _is_number(raw) else "n/a"
        ax.text(value + xmax * 0.01, y, label, va="center", fontsize=8)

    handles = [
        Patch(color=SEVERITY_COLORS[s], label=f"severity: {s}")
        for s in _KNOWN_SEV
        if any(features[m].get("severity") == s for m in names)
    ]
    for value, label, color in (
        (warning, "warning", SEVERITY_COLORS["minor"]),
        (critical, "critical", SEVERITY_COLORS["major"]),
    ):
        if _is_number(value):
            ax.axvline(value, color=color, linestyle="--", linewidth=1.3)
            handles.append(
                Line2D([], [], color=color, linestyle="--", label=f"PSI {label} = {value:g}")
            )
    height = fig.get_size_inches()[1]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.05 / height),
        ncols=min(len(handles), 5),
        fontsize=8,
        frameon=False,
    )
    ax.set_xlabel("PSI (higher = distribution moved further from the reference)")
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def _feature_notes(fig: Any, feat: Mapping[str, Any], avail: float) -> tuple[list[str], float]:
    """Lines of small print above a feature plot (new categories, missing share, rows), font size."""
    size, min_size = 8.5, 6.5
    parts = []
    new = _new_categories(feat)
    if new:
        shown = len(new)
        while True:
            cats = [_category_with_share(_shorten(c, 24), s) for c, s in new[:shown]]
            more = f" (+{len(new) - shown} more)" if shown < len(new) else ""
            text = _plain("new categories: " + ", ".join(cats) + more)
            if shown <= 1 or _text_inches(fig, text, min_size)[0] <= avail:
                break
            shown -= 1
        parts.append(text)
    ref_missing = feat.get("missing_share_reference")
    cur_missing = feat.get("missing_share_current")
    if _is_number(ref_missing) or _is_number(cur_missing):
        parts.append(f"missing: {_pct(ref_missing)} → {_pct(cur_missing)}")
    n_ref, n_cur = feat.get("n_reference"), feat.get("n_current")
    if _is_number(n_ref) and _is_number(n_cur):
        parts.append(f"rows: {n_ref:,} reference, {n_cur:,} current")
    if not parts:
        return [], size
    one_line = "   ·   ".join(parts)
    if _text_inches(fig, one_line, size)[0] <= avail:
        return [one_line], size
    return parts, min(_fitting_size(fig, p, size, min_size, avail) for p in parts)


def _feature_figure(name: str, feat: Mapping[str, Any]) -> Any:
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    bins = feat.get("bins") or {}
    labels = [_plain(_shorten(str(x), 28)) for x in bins.get("labels") or []]
    raw_labels = [str(x) for x in bins.get("labels") or []]
    ref = [float(v) if _is_number(v) else 0.0 for v in bins.get("reference") or []]
    cur = [float(v) if _is_number(v) else 0.0 for v in bins.get("current") or []]
    k = len(labels)
    new = dict(_new_categories(feat))
    is_new = [label in new for label in raw_labels]

    fig_width = min(max(7.0, 0.42 * k + 2.5), 22.0)
    fig = _new_figure(fig_width, 5.0)
    ax = fig.add_subplot()

    # Title (figure level) and small print (axes title, left aligned), fitted to the width.
    severity = str(feat.get("severity") or "unknown")
    title = _plain(
        f"{_shorten(name, 60)} ({feat.get('type') or 'unknown type'}): "
        f"PSI {_fmt(feat.get('psi'))}, severity {severity}"
        + (", drifted" if feat.get("drifted") else "")
    )
    title_size = _fitting_size(fig, title, 11, 7, fig_width - 0.3, weight="bold")
    title_h = _text_inches(fig, "Ag", title_size, weight="bold")[1]
    notes, notes_size = _feature_notes(fig, feat, fig_width - 1.2)
    notes_h = len(notes) * _text_inches(fig, "Ag", notes_size)[1] * 1.25
    top = 0.12 + title_h + 0.12 + notes_h + (0.08 if notes else 0)

    # Tick labels: horizontal when each fits under its own pair of bars, else rotated by 45°.
    left, right = 0.85, 0.25
    fontsize = 9 if k <= 25 else 7 if k <= 60 else 5
    sizes = [
        _text_inches(fig, label, fontsize, "bold" if flag else "normal")
        for label, flag in zip(labels, is_new, strict=True)
    ]
    slot = (fig_width - left - right) / max(k + 0.2, 1)
    rotate = bool(sizes) and max(w for w, _ in sizes) > 0.92 * slot
    if rotate:
        tick_h = max(w * _SIN45 + h * _SIN45 for w, h in sizes)
        # The first label hangs left of its tick.
        left = max(left, sizes[0][0] * _SIN45 - 0.6 * slot + 0.15)
    else:
        tick_h = max((h for _, h in sizes), default=0.0)
    bottom = 0.12 + tick_h + 0.2 + 0.3  # tick marks + labels + gap + legend
    height = top + 3.2 + bottom
    fig.set_size_inches(fig_width, height)
    _place_axes(fig, ax, left=left, right=right, bottom=bottom, top=top)

    fig.suptitle(
        title,
        y=1 - 0.12 / height,
        va="top",
        color=_severity_color(severity),
        fontweight="bold",
        fontsize=title_size,
    )
    if notes:
        ax.set_title("\n".join(notes), fontsize=notes_size, loc="left", color="#333", pad=6)

    if k == 0:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No bin data in the report.", ha="center", va="center")
        return fig

    xs = list(range(k))
    width = 0.4
    ax.bar([x - width / 2 for x in xs], ref, width, color=_REFERENCE_COLOR, label="reference")
    cur_bars = ax.bar(
        [x + width / 2 for x in xs], cur, width, color=_CURRENT_COLOR, label="current"
    )
    for bar, flag in zip(cur_bars, is_new, strict=True):
        if flag:
            bar.set_edgecolor(_NEW_CATEGORY_COLOR)
            bar.set_linewidth(1.5)
            bar.set_hatch("//")

    ax.set_xticks(xs, labels)
    for tick, flag in zip(ax.get_xticklabels(), is_new, strict=True):
        tick.set_fontsize(fontsize)
        if rotate:
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
        if flag:
            tick.set_color(_NEW_CATEGORY_COLOR)
            tick.set_fontweight("bold")
    ax.set_xlim(-0.6, k - 0.4)
    ymax = max([*ref, *cur, 0.01]) * 1.12
    ax.set_ylim(0, ymax)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0 if ymax >= 0.08 else 1))
    ax.set_ylabel("share of rows")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)

    handles, _ = ax.get_legend_handles_labels()
    if any(is_new):
        handles.append(
            Patch(
                facecolor=_CURRENT_COLOR,
                edgecolor=_NEW_CATEGORY_COLOR,
                hatch="//",
                label="new category (absent in reference)",
            )
        )
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.05 / height),
        ncols=len(handles),
        fontsize=8,
        frameon=False,
    )
    return fig


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; padding: 1.5rem 2rem; color: #222; background: #fafafa; line-height: 1.45; }
h1 { margin: 0 0 .3rem 0; font-size: 1.6rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; font-size: 1.25rem; }
.meta { color: #555; margin: .2rem 0; }
.badge { display: inline-block; padding: .15rem .6rem; border-radius: .8rem; color: #fff;
         font-weight: 600; font-size: .85rem; letter-spacing: .03em; }
.verdict { font-size: 1.05rem; padding: .25rem .9rem; }
.summary { background: #fff; border-left: 5px solid var(--verdict); padding: .8rem 1rem;
           margin: 1rem 0; max-width: 75rem; }
table { border-collapse: collapse; background: #fff; font-size: .88rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.drifted td { background: #fff4f4; }
.thresholds td:first-child { color: #555; }
.plot { margin: 1rem 0 2rem 0; }
.plot img { max-width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
.new { color: #c62828; font-weight: 600; }
.muted { color: #888; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _badge(text: str, color: str, extra_class: str = "") -> str:
    cls = f"badge {extra_class}".strip()
    return f'<span class="{cls}" style="background:{color}">{_e(text)}</span>'


def _render_html(
    report: Mapping[str, Any],
    order: Sequence[str],
    filenames: Mapping[str, str],
    title: str | None,
) -> str:
    features = _features(report)
    verdict = str(report.get("verdict") or "unknown")
    verdict_color = VERDICT_COLORS.get(verdict, _UNKNOWN_COLOR)
    model_name, version = report.get("model_name"), report.get("model_version")
    page_title = title or " ".join(
        ["Drift report"]
        + ([f"— {model_name}"] if model_name is not None else [])
        + ([f"v{version}"] if version is not None else [])
    )

    meta = []
    meta.append(
        f"<b>Model:</b> {_e(model_name) if model_name is not None else '<span class=muted>n/a</span>'}"
        f" &nbsp; <b>Version:</b> "
        f"{_e(version) if version is not None else '<span class=muted>n/a</span>'}"
    )
    window = _window_text(report)
    meta.append(f"<b>Window:</b> {_e(window) if window else '<span class=muted>n/a</span>'}")
    meta.append(
        f"<b>Rows:</b> {_e(_count(report.get('n_reference')))} reference, "
        f"{_e(_count(report.get('n_current')))} current"
        f" &nbsp; <b>Dataset drift:</b> {'yes' if report.get('dataset_drift') else 'no'}"
    )

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(page_title)}</title>",
        f"<style>{_CSS}</style></head>",
        f'<body style="--verdict:{verdict_color}">',
        f"<h1>{_e(page_title)} {_badge(verdict.upper(), verdict_color, 'verdict')}</h1>",
        *(f'<p class="meta">{line}</p>' for line in meta),
        f'<p class="summary">{_e(summarize(report))}</p>',
        "<h2>Thresholds used</h2>",
        _thresholds_table(report.get("thresholds") or {}),
        "<h2>Features</h2>",
        _features_table(features, order, filenames),
        "<h2>Plots</h2>",
        _img(f"{PLOTS_DIR}/{PSI_PLOT_NAME}", "PSI by feature", anchor="psi-overview"),
    ]
    for name in order:
        parts.append(
            _img(
                f"{PLOTS_DIR}/{filenames[name]}",
                f"Reference vs current distribution of {name}",
                anchor=_anchor(filenames[name]),
                caption=name,
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _count(value: Any) -> str:
    return f"{value:,}" if _is_number(value) else "n/a"


def _anchor(filename: str) -> str:
    return filename.removesuffix(".png").replace(".", "-")


def _img(src: str, alt: str, *, anchor: str, caption: str | None = None) -> str:
    cap = f"<h3>{_e(caption)}</h3>" if caption is not None else ""
    return (
        f'<div class="plot" id="{_e(anchor)}">{cap}'
        f'<img src="{_e(quote(src))}" alt="{_e(alt)}" loading="lazy"></div>'
    )


def _thresholds_table(thresholds: Mapping[str, Any]) -> str:
    if not thresholds:
        return '<p class="muted">No thresholds recorded in the report.</p>'
    keys = [k for k in _THRESHOLD_LABELS if k in thresholds]
    keys += sorted(k for k in thresholds if k not in _THRESHOLD_LABELS)
    rows = []
    for key in keys:
        value = thresholds[key]
        shown = f"{value:.0%}" if key == "dataset_drift_share" and _is_number(value) else value
        label = _THRESHOLD_LABELS.get(key, key)
        rows.append(
            f"<tr><td>{_e(label)} <code>{_e(key)}</code></td><td class=num>{_e(shown)}</td></tr>"
        )
    return '<table class="thresholds">' + "".join(rows) + "</table>"


_FEATURE_COLUMNS = (
    "Feature",
    "Type",
    "PSI",
    "Test p-value (KS / χ²)",
    "Adjusted p",
    "Effect size",
    "Severity",
    "Drifted",
    "Reason",
    "Missing ref → cur",
    "New categories",
)


def _features_table(
    features: Mapping[str, Mapping[str, Any]], order: Sequence[str], filenames: Mapping[str, str]
) -> str:
    if not order:
        return '<p class="muted">The report contains no features.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in _FEATURE_COLUMNS)
    rows = []
    for name in order:
        f = features[name]
        if _is_number(f.get("ks_pvalue")) or f.get("type") == "numeric":
            test_p, test = f.get("ks_pvalue"), "KS"
        else:
            test_p, test = f.get("chi2_pvalue"), "χ²"
        effect = f.get("effect_size")
        measure = {"ks_statistic": "KS D", "cramers_v": "Cramér's V"}.get(
            str(f.get("effect_measure")), f.get("effect_measure") or ""
        )
        effect_text = (
            f"{_fmt(effect)} ({measure})" if _is_number(effect) and measure else _fmt(effect)
        )
        new = _new_categories(f)
        new_html = (
            '<span class="new">'
            + _e(", ".join(_category_with_share(c, s) for c, s in new))
            + "</span>"
            if new
            else '<span class="muted">none</span>'
        )
        severity = str(f.get("severity") or "unknown")
        drifted = bool(f.get("drifted"))
        cells = [
            f'<td><a href="#{_e(_anchor(filenames[name]))}">{_e(name)}</a></td>',
            f"<td>{_e(f.get('type') or 'n/a')}</td>",
            f"<td class=num>{_e(_fmt(f.get('psi')))}</td>",
            f"<td class=num>{_e(_fmt_p(test_p))} <span class=muted>{_e(test)}</span></td>",
            f"<td class=num>{_e(_fmt_p(f.get('pvalue_adjusted')))}</td>",
            f"<td class=num>{_e(effect_text)}</td>",
            f"<td>{_badge(severity, _severity_color(severity))}</td>",
            f"<td>{'<b>yes</b>' if drifted else 'no'}</td>",
            f"<td>{_e(f.get('reason') or '')}</td>",
            f"<td class=num>{_e(_pct(f.get('missing_share_reference')))} → "
            f"{_e(_pct(f.get('missing_share_current')))}</td>",
            f"<td>{new_html}</td>",
        ]
        rows.append(f'<tr class="{"drifted" if drifted else "ok"}">' + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
