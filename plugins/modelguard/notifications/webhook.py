"""A Slack-compatible JSON webhook: POST ``{"text", "blocks"}`` to an HTTP connection's URL.

The URL is built as Airflow's HTTP provider builds it: the connection's host (with its scheme,
e.g. ``https://hooks.slack.com``; without one, ``schema`` when it is http or https, else
http), its port, then the ``endpoint`` of its extra (e.g. ``/services/T000/B000/XXXX``). A
connection given as a URI (``AIRFLOW_CONN_X=http://host:8080/hook``) works too: Airflow keeps
the URI's path in ``schema``, which is then the path. ``headers`` in the extra are added to the
request. Standard library only (urllib).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from airflow.sdk import BaseNotifier

from modelguard.exceptions import NotificationError


def webhook_url(conn: Any) -> str:
    """The URL an HTTP connection points at (host, port, ``endpoint`` extra)."""
    host = (conn.host or "").rstrip("/")
    if not host:
        raise NotificationError(
            f"connection {conn.conn_id!r} has no host: set it to the webhook's base URL, e.g. "
            "https://hooks.slack.com, and the path as the extra's endpoint"
        )
    schema = conn.schema or ""
    if "://" not in host:
        host = f"{schema if schema in ('http', 'https') else 'http'}://{host}"
    if conn.port:
        host = f"{host}:{conn.port}"
    endpoint = str((conn.extra_dejson or {}).get("endpoint") or "")
    if not endpoint and schema not in ("", "http", "https"):
        endpoint = schema  # a URI's path
    return f"{host}/{endpoint.lstrip('/')}" if endpoint else host


class WebhookAlertNotifier(BaseNotifier):
    """POSTs a JSON payload to the URL of ``webhook_conn_id``; any answer but 2xx, or no
    answer within ``timeout`` seconds, raises :class:`~modelguard.exceptions.NotificationError`."""

    template_fields = ("webhook_conn_id",)

    def __init__(
        self,
        *,
        webhook_conn_id: str,
        payload: dict[str, Any],
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.webhook_conn_id = webhook_conn_id
        self.payload = payload
        self.timeout = timeout

    def notify(self, context: Any) -> None:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.webhook_conn_id)
        url = webhook_url(conn)
        headers = {"Content-Type": "application/json"}
        headers.update((conn.extra_dejson or {}).get("headers") or {})
        body = json.dumps(self.payload).encode()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise NotificationError(
                f"webhook {self.webhook_conn_id!r} ({url}) answered {exc.code} {exc.reason}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NotificationError(
                f"webhook {self.webhook_conn_id!r} ({url}) cannot be reached: {reason}"
            ) from exc
        if not 200 <= status < 300:
            raise NotificationError(f"webhook {self.webhook_conn_id!r} ({url}) answered {status}")
