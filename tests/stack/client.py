"""A small REST API v2 client for tests over the real stack (``scripts/airflow_stack.py``).

Authenticates like any external client of Airflow 3's SimpleAuthManager: ``POST /auth/token``
with username and password, then ``Authorization: Bearer <token>`` on ``/api/v2/...``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
PAGE = 100  # Airflow's default [api] maximum_page_limit


class StackApiError(AssertionError):
    """An API call answered something else than expected (the message has the body)."""


def iso(value: datetime | str | None) -> str | None:
    """An ISO timestamp the API accepts; naive datetimes are taken as UTC (it wants aware ones)."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def expect(response: httpx.Response, *codes: int) -> Any:
    """The JSON body of ``response`` if its status is one of ``codes`` (default: any 2xx)."""
    ok = response.status_code in codes if codes else response.is_success
    if not ok:
        raise StackApiError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:2000]}"
        )
    return response.json() if response.content else None


class StackClient:
    """Token-authenticated calls to one Airflow api-server."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- auth and verbs

    def fetch_token(self) -> str:
        """A fresh JWT from ``POST /auth/token`` (201 with ``access_token``)."""
        response = self.http.post(
            "/auth/token", json={"username": self.username, "password": self.password}
        )
        return expect(response, 201)["access_token"]

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.fetch_token()
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One authenticated call; a 401 (expired token) is retried once with a new token."""
        extra_headers = kwargs.pop("headers", {})
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token}", **extra_headers}
            response = self.http.request(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or attempt:
                return response
            self._token = None
        return response

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.request("POST", path, json=json)

    def patch(self, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json, params=params or None)

    def get_all(self, path: str, key: str, **params: Any) -> list[dict]:
        """Every item of a paginated collection (``limit``/``offset``, items under ``key``)."""
        items: list[dict] = []
        while True:
            body = expect(self.get(path, limit=PAGE, offset=len(items), **params), 200)
            page = list(body[key])
            items.extend(page)
            if len(page) < PAGE or len(items) >= (body.get("total_entries") or 0):
                return items

    # ---- DAGs and runs

    def dag(self, dag_id: str) -> httpx.Response:
        return self.get(f"/api/v2/dags/{dag_id}")

    def unpause(self, dag_id: str) -> dict:
        """Unpause a DAG (the stack creates DAGs paused, like production)."""
        return expect(self.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}), 200)

    def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        logical_date: datetime | str | None = None,
        run_id: str | None = None,
    ) -> httpx.Response:
        """``POST /api/v2/dags/{dag_id}/dagRuns``; the raw response (200 or e.g. 400 on bad params)."""
        body: dict[str, Any] = {"logical_date": iso(logical_date), "conf": dict(conf or {})}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return self.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body)

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return expect(self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"), 200)

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 300.0, poll: float = 2.0
    ) -> str:
        """Wait until the run is ``success`` or ``failed``; return that state."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in TERMINAL_RUN_STATES:
                return run["state"]
            if time.monotonic() >= deadline:
                tis = {t["task_id"]: t["state"] for t in self.task_instances(dag_id, run_id)}
                raise TimeoutError(
                    f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f} s; "
                    f"task states {tis}"
                )
            time.sleep(poll)

    def dag_runs(self, dag_id: str, **params: Any) -> list[dict]:
        """Every run of a DAG (``params`` are the endpoint's filters, e.g. ``run_type``)."""
        return self.get_all(f"/api/v2/dags/{dag_id}/dagRuns", "dag_runs", **params)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get_all(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances"
        )

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """A task's XCom value (of one map index of a mapped task), deserialized."""
        import json

        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        body = expect(self.get(path, map_index=map_index, deserialize=True), 200)
        value = body["value"]
        return json.loads(value) if isinstance(value, str) else value

    # ---- backfills

    def create_backfill(
        self,
        dag_id: str,
        from_date: datetime | str,
        to_date: datetime | str,
        reprocess_behavior: str = "none",
        max_active_runs: int = 10,
        conf: Mapping[str, Any] | None = None,
        run_backwards: bool = False,
    ) -> httpx.Response:
        """``POST /api/v2/backfills``; the raw response (200 with the backfill, or 409/422...).

        ``reprocess_behavior``: ``none``, ``failed`` or ``completed`` (runs already there).
        """
        body: dict[str, Any] = {
            "dag_id": dag_id,
            "from_date": iso(from_date),
            "to_date": iso(to_date),
            "reprocess_behavior": reprocess_behavior,
            "max_active_runs": max_active_runs,
            "run_backwards": run_backwards,
        }
        if conf is not None:
            body["dag_run_conf"] = dict(conf)
        return self.post("/api/v2/backfills", json=body)

    def backfill(self, backfill_id: int) -> dict:
        return expect(self.get(f"/api/v2/backfills/{backfill_id}"), 200)

    def backfill_runs(self, backfill: Mapping[str, Any]) -> list[dict]:
        """Backfill runs of the backfill's DAG in its logical-date range.

        The API does not expose a run's backfill id: an earlier backfill over the same dates
        would be counted too.
        """
        return self.dag_runs(
            backfill["dag_id"],
            run_type=["backfill"],
            logical_date_gte=backfill["from_date"],
            logical_date_lte=backfill["to_date"],
        )

    def wait_for_backfill(
        self, backfill_id: int, timeout: float = 600.0, poll: float = 3.0
    ) -> tuple[dict, list[dict]]:
        """Wait until the scheduler marks the backfill completed and all its runs are terminal.

        Returns ``(backfill, runs)``.
        """
        deadline = time.monotonic() + timeout
        while True:
            backfill = self.backfill(backfill_id)
            runs = self.backfill_runs(backfill)
            if backfill["completed_at"] and all(r["state"] in TERMINAL_RUN_STATES for r in runs):
                return backfill, runs
            if time.monotonic() >= deadline:
                states = {r["dag_run_id"]: r["state"] for r in runs}
                raise TimeoutError(
                    f"backfill {backfill_id} not complete after {timeout:.0f} s "
                    f"(completed_at={backfill['completed_at']}); runs {states}"
                )
            time.sleep(poll)

    # ---- parsing

    def import_errors(self) -> list[dict]:
        return self.get_all("/api/v2/importErrors", "import_errors")

    def wait_for_dags(
        self, dag_ids: Iterable[str], timeout: float = 120.0, poll: float = 2.0
    ) -> dict[str, dict]:
        """Wait until every DAG is parsed and serialized; fail at once on any import error."""
        wanted = list(dag_ids)
        deadline = time.monotonic() + timeout
        while True:
            errors = self.import_errors()
            if errors:
                details = "\n".join(f"{e['filename']}:\n{e['stack_trace']}" for e in errors)
                raise StackApiError(f"DAG import errors:\n{details}")
            found = {d: self.dag(d) for d in wanted}
            missing = [d for d, r in found.items() if r.status_code != 200]
            if not missing:
                return {d: r.json() for d, r in found.items()}
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"DAGs {missing} not parsed after {timeout:.0f} s (no import errors); "
                    "read the dag-processor log"
                )
            time.sleep(poll)
