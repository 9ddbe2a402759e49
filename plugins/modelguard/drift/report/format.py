"""What the summary, the HTML page and the plots share: the file layout, how a report is read
(feature order, new categories), how numbers and windows are written, and the severity colours.

One place, so that the text, the table and the figures can never disagree on a number's form or
a feature's position. Pure Python: no matplotlib.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

JSON_NAME = "drift_report.json"
HTML_NAME = "drift_report.html"
PLOTS_DIR = "plots"
PSI_PLOT_NAME = "psi_by_feature.png"
FEATURE_PLOT_PREFIX = "feature_"

SEVERITY_COLORS = {"none": "#2e7d32", "minor": "#e69f00", "major": "#c62828"}
VERDICT_COLORS = {"healthy": "#2e7d32", "minor": "#e69f00", "major": "#c62828"}
UNKNOWN_COLOR = "#757575"


def features_of(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(k): v for k, v in (report.get("features") or {}).items()}


def feature_order(features: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Drifted first, then by PSI descending (missing PSI last), then by name."""

    def key(name: str) -> tuple[int, float, str]:
        psi = features[name].get("psi")
        return (
            0 if features[name].get("drifted") else 1,
            -psi if is_number(psi) else math.inf,
            name,
        )

    return sorted(features, key=key)


def plot_filenames(features: Mapping[str, Any]) -> dict[str, str]:
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


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if is_number(value) else "n/a"


def pct(value: Any) -> str:
    if not is_number(value):
        return "n/a"
    return f"{value:.1%}" if 0 < abs(value) < 0.1 else f"{value:.0%}"


def new_categories(feat: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(category, current share) pairs, largest share first."""
    cats = feat.get("new_categories") or {}
    if not isinstance(cats, Mapping):  # tolerate a plain list of names
        return [(str(c), None) for c in cats]
    return sorted(
        ((str(c), s) for c, s in cats.items()),
        key=lambda cs: (-(cs[1] if is_number(cs[1]) else 0), cs[0]),
    )


MISSING_TICK = "(missing)"
"""How the plots label the missing-value bin (in italics), whatever its stored label."""


def bin_kinds(feat: Mapping[str, Any]) -> list[str]:
    """What each bin of ``feat["bins"]`` is: "bin", "category", "new" or "missing".

    Read from ``bins["kinds"]``; a report written before kinds were recorded had the same
    layout (the missing bin last, new categories named in ``new_categories``), so its kinds
    are inferred from that rather than from the label "missing", which a category may share.
    """
    bins = feat.get("bins") or {}
    labels = [str(x) for x in bins.get("labels") or []]
    kinds = bins.get("kinds")
    if isinstance(kinds, list) and len(kinds) == len(labels):
        return [str(k) for k in kinds]
    new = dict(new_categories(feat))
    numeric = feat.get("type") == "numeric"
    inferred = ["bin" if numeric else ("new" if x in new else "category") for x in labels]
    if inferred:
        inferred[-1] = "missing"
    return inferred


def category_with_share(category: str, share: Any) -> str:
    return f"{category} {pct(share)}" if is_number(share) else category


def fmt_timestamp(value: Any) -> str:
    text = str(value)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:00(\.0+)?)?", text)
    return f"{match.group(1)} {match.group(2)}" if match else text.replace("T", " ")


def window_text(report: Mapping[str, Any]) -> str | None:
    window = report.get("window")
    if not isinstance(window, Mapping):
        return None
    start, end = window.get("start"), window.get("end")
    if start is None and end is None:
        return None
    return f"{fmt_timestamp(start) if start else '…'} to {fmt_timestamp(end) if end else '…'}"


def severity_color(severity: Any) -> str:
    return SEVERITY_COLORS.get(str(severity), UNKNOWN_COLOR)
