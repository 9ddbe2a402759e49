"""Addresses of modelguard's pages and of Airflow's, for alerts, approvals and reports.

Pure: the caller passes the UI's base URL (Airflow's ``[api] base_url``; empty gives
root-relative links). The Model health page is served by the plugin's FastAPI app under
:data:`PAGE_PREFIX`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlencode

PAGE_PREFIX = "/modelguard"


def _base(base_url: str | None) -> str:
    return (base_url or "").rstrip("/")


def model_page_url(base_url: str | None, model_name: str) -> str:
    """The Model health page of one model."""
    return f"{_base(base_url)}{PAGE_PREFIX}/models/{quote(model_name, safe='')}"


def model_api_url(base_url: str | None, model_name: str) -> str:
    """The JSON API beside the page (same data)."""
    return f"{_base(base_url)}{PAGE_PREFIX}/api/models/{quote(model_name, safe='')}"


def interval_report_url(
    base_url: str | None, model_name: str, dag_id: str, start: datetime, end: datetime
) -> str:
    """The drift report (HTML) of one monitoring interval, served by the page."""
    query = urlencode({"dag_id": dag_id, "start": start.isoformat(), "end": end.isoformat()})
    return f"{model_page_url(base_url, model_name)}/report?{query}"


def run_url(base_url: str | None, dag_id: str, run_id: str) -> str:
    """A DAG run in Airflow's UI."""
    return f"{_base(base_url)}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
