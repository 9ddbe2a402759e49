"""Real local servers the alert tests send to: an SMTP server (aiosmtpd) that keeps the mails
it receives, an HTTP server that keeps the JSON bodies POSTed to it, and a closed port (a
server that is down). Each test points an Airflow connection (``AIRFLOW_CONN_*``) at them."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMTP_CONN = "alerts_smtp"
WEBHOOK_CONN = "alerts_webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    return free_port()


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``messages`` are the parsed mails received."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        self.envelopes: list = []
        self.port = free_port()
        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):
                server.envelopes.append(envelope)
                server.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def connection(self, port: int | None = None) -> str:
        return smtp_connection(self.port if port is None else port)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def smtp_connection(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "modelguard@example.com",
                "retry_limit": 0,
                "timeout": 5,
            },
        }
    )


def body_text(message: Message) -> str:
    """The decoded text of every part of a mail."""
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(
        p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
        for p in parts
        if not p.is_multipart()
    )


class WebhookServer:
    """A threaded HTTP server on 127.0.0.1; ``received`` are the JSON bodies POSTed to it.
    ``status`` is what it answers."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[dict] = []
        self.paths: list[str] = []
        self.status = status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.paths.append(self.path)
                server.received.append(json.loads(body))
                self.send_response(server.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def connection(self, port: int | None = None) -> str:
        return webhook_connection(self.port if port is None else port)


def webhook_connection(port: int, endpoint: str = "/hooks/modelguard") -> str:
    return json.dumps(
        {"conn_type": "http", "host": "127.0.0.1", "port": port, "extra": {"endpoint": endpoint}}
    )
