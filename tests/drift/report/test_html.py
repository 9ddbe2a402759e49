"""Tests of modelguard.drift.report.html: the page, its escaping and its links to the plots."""

from __future__ import annotations

import html
import re

from modelguard.drift.report import summarize, write_drift_reports

from .reports import EVIL_NAME, THRESHOLDS, make_report


def test_html_content(written):
    report, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for name in report["features"]:
        assert html.escape(name) in page
    assert "MAJOR" in page
    assert html.escape(summarize(report)) in page
    for key in THRESHOLDS:
        assert key in page
    assert "crypto" in page
    assert "2026-09-01 00:00 to 2026-09-02 00:00" in page
    assert "churn" in page


def test_html_escapes_strings(written):
    _, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_html_references_every_plot_and_only_existing_ones(written):
    _, out, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(srcs) == sorted(f"plots/{p.name}" for p in paths.plot_paths)
    for src in srcs:
        assert (out / src).is_file()
    # No absolute paths leak into the page: the folder can be moved, zipped or served.
    assert str(out) not in page


def test_html_table_sorted_drifted_first_then_psi(written):
    _, _, paths = written
    page = paths.html_path.read_text(encoding="utf-8")
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    anchors = re.findall(r'<td><a href="#[^"]+">([^<]+)</a></td>', table)
    expected = [
        "company_size",  # drifted, PSI 0.412
        "plan",  # drifted, PSI 0.28
        "monthly_spend",  # drifted, PSI 0.13
        html.escape(EVIL_NAME),  # not drifted, PSI 0.11
        "tenure_days",
        "region",
        "weird/name with spaces",  # no PSI: last
    ]
    assert anchors == expected


def test_title_is_used_and_escaped(tmp_path):
    paths = write_drift_reports(make_report(), tmp_path, title="Churn & <friends>")
    page = paths.html_path.read_text(encoding="utf-8")
    assert "<title>Churn &amp; &lt;friends&gt;</title>" in page
