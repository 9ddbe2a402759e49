"""What the page draws, from a :class:`~modelguard.reporting.ModelReport`: the drift heatmap
(feature x interval, per monitoring DAG), the performance plot and the estimated-performance plot
(inline SVGs made here, so
the page needs no plotting library in the browser and fetches nothing).

Pure: strings and numbers in, strings out; every text placed in the SVG is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from modelguard.reporting import EstimatePoint, ModelReport, PerformancePoint
from modelguard.reporting.model_report import severity_rank

SEVERITY_COLORS = {"none": "#2e7d32", "minor": "#e69f00", "major": "#c62828"}
MISSING_COLOR = "#e0e0e0"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class HeatCell:
    severity: str  # none, minor, major; "" when the feature was not in that run
    title: str
    url: str | None


@dataclass(frozen=True)
class HeatColumn:
    start: datetime
    end: datetime
    verdict: str
    label: str
    url: str | None


@dataclass(frozen=True)
class HeatRow:
    feature: str
    feature_type: str
    worst_severity: str
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class Heatmap:
    """The heatmap of one monitoring DAG: rows are features (most severe first), columns the
    DAG's intervals (oldest first)."""

    dag_id: str
    columns: tuple[HeatColumn, ...]
    rows: tuple[HeatRow, ...]


def heatmaps(report: ModelReport) -> list[Heatmap]:
    """One heatmap per monitoring DAG that has drift runs in the period."""
    out = []
    for dag_id in sorted({i.dag_id for i in report.drift_intervals}):
        intervals = [i for i in report.drift_intervals if i.dag_id == dag_id]
        columns = tuple(
            HeatColumn(
                i.interval_start, i.interval_end, i.verdict, _when(i.interval_end), i.report_url
            )
            for i in intervals
        )
        rows = []
        for series in report.drift_features:
            points = {
                (p.interval_start, p.interval_end): p for p in series.points if p.dag_id == dag_id
            }
            if not points:
                continue
            cells = []
            for i in intervals:
                p = points.get((i.interval_start, i.interval_end))
                if p is None:
                    cells.append(HeatCell("", f"{series.feature}: not analysed", None))
                    continue
                title = (
                    f"{series.feature} | [{_when(i.interval_start)}, {_when(i.interval_end)}) | "
                    f"{p.severity}{' (drifted)' if p.drifted else ''} | PSI {_fmt(p.psi)}"
                    + (f" | {p.reason}" if p.reason else "")
                )
                cells.append(HeatCell(p.severity, title, i.report_url))
            rows.append(
                HeatRow(series.feature, series.feature_type, series.worst_severity, tuple(cells))
            )
        rows.sort(key=lambda r: (severity_rank(r.worst_severity), r.feature))
        out.append(Heatmap(dag_id, columns, tuple(rows)))
    return out


# ----------------------------------------------------------------------------- performance plot

_W, _H = 760, 260
_L, _R, _T, _B = 56, 16, 18, 46


def performance_svg(
    points: list[PerformancePoint],
    *,
    period_start: datetime,
    period_end: datetime,
    delay_hours: float,
) -> str:
    """An SVG of the primary metric over send time, one marker per check (at the end of the
    sends it covers); hollow grey markers on the axis are checks whose labels had not matured,
    the dashed line is the baseline and the shaded band the last ``delay_hours`` of sends,
    whose outcomes are not final by the end of the period."""
    delay = timedelta(hours=delay_hours)
    x0 = min([period_start - delay, *(p.sends_end for p in points)])
    x1 = period_end
    span = max((x1 - x0).total_seconds(), 1.0)
    values = [v for p in points for v in (p.value, p.baseline) if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = max((hi - lo) * 0.15, 0.02)
    lo, hi = max(lo - pad, 0.0), (min(hi + pad, 1.0) if hi <= 1.0 else hi + pad)
    if hi <= lo:
        hi = lo + 0.1

    def x(t: datetime) -> float:
        return _L + (t - x0).total_seconds() / span * (_W - _L - _R)

    def y(v: float) -> float:
        return _T + (hi - v) / (hi - lo) * (_H - _T - _B)

    metric = points[0].metric if points else "metric"
    parts = [
        f'<svg class="perf-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" '
        f'width="{_W}" height="{_H}" role="img" aria-label="{escape(metric)} over time">'
    ]
    band = x(max(period_end - delay, x0))
    parts.append(
        f'<rect class="label-delay" x="{band:.1f}" y="{_T}" width="{x(x1) - band:.1f}" '
        f'height="{_H - _T - _B}"><title>label delay {delay_hours:g} h: sends after '
        f"{escape(_when(period_end - delay))} have no final outcome by the end of the period"
        "</title></rect>"
    )
    parts.append(
        f'<text class="band-label" x="{band + 4:.1f}" y="{_T + 12}">'
        f"label delay {delay_hours:g} h</text>"
    )
    for i in range(5):  # y grid and ticks
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<line class="grid" x1="{_L}" x2="{_W - _R}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="tick" x="{_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>'
        )
    for i in range(5):  # x ticks
        t = x0 + (x1 - x0) * i / 4
        parts.append(
            f'<text class="tick" x="{x(t):.1f}" y="{_H - _B + 16}" text-anchor="middle">'
            f"{escape(t.strftime('%m-%d %H:%M'))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{_L}" x2="{_W - _R}" y1="{_H - _B}" y2="{_H - _B}"/>'
        f'<line class="axis" x1="{_L}" x2="{_L}" y1="{_T}" y2="{_H - _B}"/>'
        f'<text class="axis-label" x="{(_W + _L) / 2:.0f}" y="{_H - 8}" text-anchor="middle">'
        "send time (end of the sends each check covers)</text>"
        f'<text class="axis-label" x="14" y="{(_H - _B + _T) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(_H - _B + _T) / 2:.0f})">{escape(metric)}</text>'
    )
    baselines = [(x(p.sends_end), y(p.baseline)) for p in points if p.baseline is not None]
    if baselines:
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in baselines)
        parts.append(
            f'<polyline class="baseline" points="{path}"><title>baseline</title></polyline>'
        )
    measured = [(x(p.sends_end), y(p.value)) for p in points if p.matured and p.value is not None]
    if len(measured) > 1:
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in measured)
        parts.append(f'<polyline class="series" points="{path}"/>')
    for p in points:
        title = (
            f"sends [{_when(p.sends_start)}, {_when(p.sends_end)}) judged at "
            f"{_when(p.labels_mature_at)} | {p.status} | {p.metric} {_fmt(p.value)}"
            f" | {p.labelled if p.labelled is not None else '?'} of "
            f"{p.sends if p.sends is not None else '?'} labelled"
            + (f" | {p.reason}" if p.reason else "")
        )
        if not p.matured or p.value is None:
            parts.append(
                f'<circle class="point not-matured" cx="{x(p.sends_end):.1f}" cy="{_H - _B - 6}" '
                f'r="5"><title>labels not matured: {escape(title)}</title></circle>'
            )
        else:
            kind = "degraded" if p.degraded else "measured"
            parts.append(
                f'<circle class="point {kind}" cx="{x(p.sends_end):.1f}" cy="{y(p.value):.1f}" '
                f'r="4"><title>{escape(title)}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- estimate plot


def estimate_svg(
    points: list[EstimatePoint], *, period_start: datetime, period_end: datetime
) -> str:
    """An SVG of the estimated primary metric over window end: the line and markers are the
    estimates, the shaded band their interval, hollow rings the realised values once the
    labels matured (filled red: outside the interval), the dashed line the baseline."""
    made = [p for p in points if p.status == "estimated" and p.estimate is not None]
    x0, x1 = period_start, period_end
    span = max((x1 - x0).total_seconds(), 1.0)
    values = [
        v
        for p in made
        for v in (p.estimate, p.lower, p.upper, p.realised, p.baseline)
        if v is not None
    ]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = max((hi - lo) * 0.15, 0.02)
    lo, hi = max(lo - pad, 0.0), min(hi + pad, 1.0)
    if hi <= lo:
        hi = lo + 0.1

    def x(t: datetime) -> float:
        return _L + (t - x0).total_seconds() / span * (_W - _L - _R)

    def y(v: float) -> float:
        return _T + (hi - v) / (hi - lo) * (_H - _T - _B)

    metric = made[0].metric if made else "metric"
    parts = [
        f'<svg class="perf-plot estimate-plot" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="estimated {escape(metric)} over time">'
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<line class="grid" x1="{_L}" x2="{_W - _R}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="tick" x="{_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>'
        )
    for i in range(5):
        t = x0 + (x1 - x0) * i / 4
        parts.append(
            f'<text class="tick" x="{x(t):.1f}" y="{_H - _B + 16}" text-anchor="middle">'
            f"{escape(t.strftime('%m-%d %H:%M'))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{_L}" x2="{_W - _R}" y1="{_H - _B}" y2="{_H - _B}"/>'
        f'<line class="axis" x1="{_L}" x2="{_L}" y1="{_T}" y2="{_H - _B}"/>'
        f'<text class="axis-label" x="{(_W + _L) / 2:.0f}" y="{_H - 8}" text-anchor="middle">'
        "window end (the estimate is made then; the realised value follows once labels mature)"
        "</text>"
        f'<text class="axis-label" x="14" y="{(_H - _B + _T) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(_H - _B + _T) / 2:.0f})">{escape(metric)}</text>'
    )
    banded = [p for p in made if p.lower is not None and p.upper is not None]
    if banded:
        top = " ".join(f"{x(p.window_end):.1f},{y(p.upper):.1f}" for p in banded)
        bottom = " ".join(f"{x(p.window_end):.1f},{y(p.lower):.1f}" for p in reversed(banded))
        parts.append(
            f'<polygon class="interval" points="{top} {bottom}"><title>interval of the '
            "estimate</title></polygon>"
        )
    baselines = [(x(p.window_end), y(p.baseline)) for p in made if p.baseline is not None]
    if baselines:
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in baselines)
        parts.append(
            f'<polyline class="baseline" points="{path}"><title>baseline</title></polyline>'
        )
    if len(made) > 1:
        path = " ".join(f"{x(p.window_end):.1f},{y(p.estimate):.1f}" for p in made)
        parts.append(f'<polyline class="series estimate" points="{path}"/>')
    for p in made:
        title = (
            f"window [{_when(p.window_start)}, {_when(p.window_end)}) | estimated {p.metric} "
            f"{_fmt(p.estimate)} [{_fmt(p.lower)}, {_fmt(p.upper)}] | realised "
            f"{_fmt(p.realised) if p.realised is not None else 'not matured yet'}"
            + (f" | error {p.error:+.3f}" if p.error is not None else "")
            + (f" | {p.reason}" if p.reason else "")
        )
        kind = "degraded" if p.degraded else "measured"
        parts.append(
            f'<circle class="point {kind}" cx="{x(p.window_end):.1f}" cy="{y(p.estimate):.1f}" '
            f'r="3.5"><title>{escape(title)}</title></circle>'
        )
        if p.realised is not None:
            ring = "realised outside" if p.inside is False else "realised"
            parts.append(
                f'<circle class="{ring}" cx="{x(p.window_end):.1f}" cy="{y(p.realised):.1f}" '
                f'r="5"><title>{escape(title)}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)
