"""Human-readable drift reports: a plain-text summary, JSON, PNG plots and a self-contained HTML
page, for the plain-dict (JSON) form of a drift report (``DriftReport.to_dict()``).

Pure core: no Airflow imports, and no matplotlib until a plot is drawn (this package is imported
when a DAG file is parsed). One module per output: ``summary`` (the text), ``plots`` (the PNGs),
``html`` (the page), ``writer`` (the folder and the JSON); ``format`` holds what they share.

Output folder layout (written by :func:`write_drift_reports`)::

    out_dir/
        drift_report.json
        drift_report.html          # references plots/... relatively: zip or serve the folder
        plots/psi_by_feature.png
        plots/feature_<name>.png   # one per feature; <name> is made file-system safe
"""

from __future__ import annotations

from .format import FEATURE_PLOT_PREFIX, HTML_NAME, JSON_NAME, PLOTS_DIR, PSI_PLOT_NAME
from .summary import summarize
from .writer import ReportPaths, write_drift_reports

__all__ = [
    "FEATURE_PLOT_PREFIX",
    "HTML_NAME",
    "JSON_NAME",
    "PLOTS_DIR",
    "PSI_PLOT_NAME",
    "ReportPaths",
    "summarize",
    "write_drift_reports",
]
