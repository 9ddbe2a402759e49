"""The plain-text summary of a drift report: one paragraph for a log line, an alert or the top of
the HTML page. Pure Python: importing it never loads matplotlib (the drift check logs the summary
even where no plot is drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .format import (
    category_with_share,
    feature_order,
    features_of,
    is_number,
    new_categories,
    pct,
    window_text,
)

__all__ = ["summarize"]

# A rise (or fall) of the missing-value share at least this large is called out in the summary.
MISSING_SHIFT_NOTE = 0.05
# How many names a summary list shows before "and N more".
_SUMMARY_LIST_MAX = 5


def summarize(report: Mapping[str, Any]) -> str:
    """One plain-text paragraph saying what drifted, how badly, and on how much data.

    Example: "Model churn v3, window 2026-09-01 00:00 to 2026-09-02 00:00: verdict MAJOR. 3 of 13
    features drifted (23%; dataset drift is declared at 30%). Major drift in company_size
    (PSI 0.41); minor drift in region (PSI 0.12) and plan (PSI 0.11). ..."
    """
    features = features_of(report)
    order = feature_order(features)
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
        at = f" (declared from {share:.0%} of features)" if is_number(share) else ""
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
        f"{n} ({', '.join(category_with_share(c, s) for c, s in new_categories(features[n]))})"
        for n in order
        if new_categories(features[n])
    ]
    if new_cats:
        sentences.append(f"New categories not seen in the reference: {_join(new_cats, sep='; ')}.")

    missing = []
    for n in order:
        ref = features[n].get("missing_share_reference")
        cur = features[n].get("missing_share_current")
        if is_number(ref) and is_number(cur) and abs(cur - ref) >= MISSING_SHIFT_NOTE:
            missing.append(f"{n} ({pct(ref)} to {pct(cur)})")
    if missing:
        sentences.append(f"Share of missing values changed in {_join(missing)}.")

    n_ref, n_cur = report.get("n_reference"), report.get("n_current")
    if is_number(n_ref) and is_number(n_cur):
        sentences.append(f"Based on {n_ref:,} reference rows and {n_cur:,} current rows.")
    return " ".join(sentences)


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
    return f"{name} (PSI {psi:.2f})" if is_number(psi) else name


def _model_text(report: Mapping[str, Any]) -> str | None:
    name, version = report.get("model_name"), report.get("model_version")
    if name is None and version is None:
        return None
    text = f"Model {name}" if name is not None else "Model"
    return f"{text} v{version}" if version is not None else text


def _subject(report: Mapping[str, Any]) -> str:
    model, window = _model_text(report), window_text(report)
    parts = [model or "Drift report"]
    if window:
        parts.append(f"window {window}")
    return ", ".join(parts)
