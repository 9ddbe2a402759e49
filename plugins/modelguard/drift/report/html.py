"""The HTML page: a self-contained file (inline CSS, no script) that links the plots relatively,
so that the report folder can be moved, zipped or served as it is. Every string from the report
is escaped: feature and category names come from the monitored data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from .format import (
    PLOTS_DIR,
    PSI_PLOT_NAME,
    UNKNOWN_COLOR,
    VERDICT_COLORS,
    category_with_share,
    features_of,
    fmt,
    is_number,
    new_categories,
    pct,
    severity_color,
    window_text,
)
from .summary import summarize

_THRESHOLD_LABELS = {
    "psi_warning": "PSI warning (minor drift) at",
    "psi_critical": "PSI critical (major drift) at",
    "ks_significance": "Significance level (adjusted p-value) below",
    "min_ks_statistic": "Minimum KS statistic (effect size, numeric)",
    "min_cramers_v": "Minimum Cramér's V (effect size, categorical)",
    "min_wasserstein": "Minimum Wasserstein-1 in reference spreads (effect size, numeric)",
    "dataset_drift_share": "Dataset drift when the share of drifted features reaches",
}

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
    return escape(str(value), quote=True)


def _badge(text: str, color: str, extra_class: str = "") -> str:
    cls = f"badge {extra_class}".strip()
    return f'<span class="{cls}" style="background:{color}">{_e(text)}</span>'


def render_html(
    report: Mapping[str, Any],
    order: Sequence[str],
    filenames: Mapping[str, str],
    title: str | None,
) -> str:
    """The page for ``report``: features in ``order``, plots under ``plots/`` by ``filenames``."""
    features = features_of(report)
    verdict = str(report.get("verdict") or "unknown")
    verdict_color = VERDICT_COLORS.get(verdict, UNKNOWN_COLOR)
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
    window = window_text(report)
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


def _fmt_p(value: Any) -> str:
    if not is_number(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.1e}"


def _count(value: Any) -> str:
    return f"{value:,}" if is_number(value) else "n/a"


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
        shown = f"{value:.0%}" if key == "dataset_drift_share" and is_number(value) else value
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
        if is_number(f.get("ks_pvalue")) or f.get("type") == "numeric":
            test_p, test = f.get("ks_pvalue"), "KS"
        else:
            test_p, test = f.get("chi2_pvalue"), "χ²"
        effect = f.get("effect_size")
        measure = {"ks_statistic": "KS D", "cramers_v": "Cramér's V"}.get(
            str(f.get("effect_measure")), f.get("effect_measure") or ""
        )
        effect_text = f"{fmt(effect)} ({measure})" if is_number(effect) and measure else fmt(effect)
        new = new_categories(f)
        new_html = (
            '<span class="new">'
            + _e(", ".join(category_with_share(c, s) for c, s in new))
            + "</span>"
            if new
            else '<span class="muted">none</span>'
        )
        severity = str(f.get("severity") or "unknown")
        drifted = bool(f.get("drifted"))
        cells = [
            f'<td><a href="#{_e(_anchor(filenames[name]))}">{_e(name)}</a></td>',
            f"<td>{_e(f.get('type') or 'n/a')}</td>",
            f"<td class=num>{_e(fmt(f.get('psi')))}</td>",
            f"<td class=num>{_e(_fmt_p(test_p))} <span class=muted>{_e(test)}</span></td>",
            f"<td class=num>{_e(_fmt_p(f.get('pvalue_adjusted')))}</td>",
            f"<td class=num>{_e(effect_text)}</td>",
            f"<td>{_badge(severity, severity_color(severity))}</td>",
            f"<td>{'<b>yes</b>' if drifted else 'no'}</td>",
            f"<td>{_e(f.get('reason') or '')}</td>",
            f"<td class=num>{_e(pct(f.get('missing_share_reference')))} → "
            f"{_e(pct(f.get('missing_share_current')))}</td>",
            f"<td>{new_html}</td>",
        ]
        rows.append(f'<tr class="{"drifted" if drifted else "ok"}">' + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
