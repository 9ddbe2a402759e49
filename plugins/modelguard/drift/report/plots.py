"""The PNG plots: a PSI overview and one reference-vs-current bar chart per feature.

matplotlib is imported inside the functions, never at module level: this package is imported
when a DAG file is parsed and whenever only the summary or the JSON is wanted, and matplotlib
costs about a second to import. Figures are ``matplotlib.figure.Figure`` objects drawn through
the Agg canvas, never through ``pyplot``: no global figure registry, no backend switching, safe
to call from several threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelguard.storage.artifacts import atomic_write_bytes

from .format import (
    MISSING_TICK,
    SEVERITY_COLORS,
    bin_kinds,
    category_with_share,
    fmt,
    is_number,
    new_categories,
    pct,
    severity_color,
)

_REFERENCE_COLOR = "#4c78a8"
_CURRENT_COLOR = "#f58518"
_NEW_CATEGORY_COLOR = "#c62828"
_MISSING_COLOR = "#555555"
_KNOWN_SEV = ("none", "minor", "major")

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


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` as a PNG (atomically: a reader never sees half a file), then free it."""
    buf = io.BytesIO()
    try:
        # No "Software" metadata: identical input gives byte-identical files.
        fig.savefig(buf, format="png", metadata={"Software": None})
    finally:
        fig.clear()
    atomic_write_bytes(path, buf.getvalue())


def psi_figure(features: Mapping[str, Mapping[str, Any]], thresholds: Mapping[str, Any]) -> Any:
    """Horizontal bars of every feature's PSI, coloured by severity, with the PSI thresholds."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # Ascending so that the largest PSI ends up at the top of the horizontal bar chart; features
    # without a PSI sit at the bottom.
    names = sorted(
        features,
        key=lambda n: (
            is_number(features[n].get("psi")),
            features[n].get("psi") if is_number(features[n].get("psi")) else 0.0,
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
    psis = [v if is_number(v) else 0.0 for v in values]
    colors = [severity_color(features[m].get("severity")) for m in names]
    ypos = list(range(n))
    ax.barh(ypos, psis, color=colors, height=0.7)
    ax.set_yticks(ypos, labels, fontsize=fontsize)

    warning, critical = thresholds.get("psi_warning"), thresholds.get("psi_critical")
    xmax = max([*psis, *(t for t in (warning, critical) if is_number(t)), 0.01])
    ax.set_xlim(0, xmax * 1.18)
    for y, value, raw in zip(ypos, psis, values, strict=True):
        label = f"{raw:.3f}" if is_number(raw) else "n/a"
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
        if is_number(value):
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
    new = new_categories(feat)
    if new:
        shown = len(new)
        while True:
            cats = [category_with_share(_shorten(c, 24), s) for c, s in new[:shown]]
            more = f" (+{len(new) - shown} more)" if shown < len(new) else ""
            text = _plain("new categories: " + ", ".join(cats) + more)
            if shown <= 1 or _text_inches(fig, text, min_size)[0] <= avail:
                break
            shown -= 1
        parts.append(text)
    ref_missing = feat.get("missing_share_reference")
    cur_missing = feat.get("missing_share_current")
    if is_number(ref_missing) or is_number(cur_missing):
        parts.append(f"missing: {pct(ref_missing)} → {pct(cur_missing)}")
    n_ref, n_cur = feat.get("n_reference"), feat.get("n_current")
    if is_number(n_ref) and is_number(n_cur):
        parts.append(f"rows: {n_ref:,} reference, {n_cur:,} current")
    if not parts:
        return [], size
    one_line = "   ·   ".join(parts)
    if _text_inches(fig, one_line, size)[0] <= avail:
        return [one_line], size
    return parts, min(_fitting_size(fig, p, size, min_size, avail) for p in parts)


def feature_figure(name: str, feat: Mapping[str, Any]) -> Any:
    """Reference vs current share of rows per bin of one feature; new categories hatched."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    bins = feat.get("bins") or {}
    labels = [_plain(_shorten(str(x), 28)) for x in bins.get("labels") or []]
    ref = [float(v) if is_number(v) else 0.0 for v in bins.get("reference") or []]
    cur = [float(v) if is_number(v) else 0.0 for v in bins.get("current") or []]
    k = len(labels)
    kinds = bin_kinds(feat)
    is_new = [kind == "new" for kind in kinds]
    is_missing = [kind == "missing" for kind in kinds]
    # the missing bin is drawn as "(missing)" in italics: a category may be called "missing"
    labels = [
        MISSING_TICK if flag else label for label, flag in zip(labels, is_missing, strict=True)
    ]

    fig_width = min(max(7.0, 0.42 * k + 2.5), 22.0)
    fig = _new_figure(fig_width, 5.0)
    ax = fig.add_subplot()

    # Title (figure level) and small print (axes title, left aligned), fitted to the width.
    severity = str(feat.get("severity") or "unknown")
    title = _plain(
        f"{_shorten(name, 60)} ({feat.get('type') or 'unknown type'}): "
        f"PSI {fmt(feat.get('psi'))}, severity {severity}"
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
        color=severity_color(severity),
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
    for tick, flag, missing in zip(ax.get_xticklabels(), is_new, is_missing, strict=True):
        tick.set_fontsize(fontsize)
        if missing:
            tick.set_fontstyle("italic")
            tick.set_color(_MISSING_COLOR)
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


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
