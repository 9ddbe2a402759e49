"""What people read: one message per model and run, its alerts ordered by severity.

Pure: a :class:`Notice` per (episode, event), and :func:`compose` turning a model's notices into
one :class:`AlertMessage` with a subject, a plain text, an HTML body (email) and a
Slack-compatible payload (``text`` plus ``blocks``; other chat tools read ``text``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelguard.alerts.records import (
    CLEARED_NOTICE,
    CRITICAL,
    ESCALATED,
    OPENED,
    REMINDER,
    severity_rank,
)

__all__ = ["AlertMessage", "Notice", "compose"]

_EVENT_WORDS = {
    OPENED: "new",
    ESCALATED: "now critical",
    REMINDER: "still open",
    CLEARED_NOTICE: "cleared",
}
_EVENT_ORDER = (OPENED, ESCALATED, REMINDER, CLEARED_NOTICE)


@dataclass(frozen=True)
class Notice:
    """One thing to tell about one episode."""

    event: str
    kind: str
    key: str
    severity: str
    message: str
    model_name: str
    model_version: str | None  # a label such as "v3", or "id 7" when only the id is known
    dag_id: str
    interval_start: datetime
    interval_end: datetime
    report_url: str | None
    run_url: str | None
    alert_id: int | None = None  # None: the alert store could not record it
    since: datetime | None = None  # the episode's first interval end

    @property
    def order(self) -> tuple:
        return (
            severity_rank(self.severity),
            _EVENT_ORDER.index(self.event) if self.event in _EVENT_ORDER else 9,
            self.kind,
            self.key,
        )

    def headline(self) -> str:
        return (
            f"{self.severity.upper()} {self.kind} ({self.key}), "
            f"{_EVENT_WORDS.get(self.event, self.event)}"
        )

    def facts(self) -> list[tuple[str, str]]:
        out = [
            ("model", f"{self.model_name} {self.model_version or ''}".strip()),
            (
                "interval",
                f"{self.interval_start:%Y-%m-%d %H:%M} to {self.interval_end:%Y-%m-%d %H:%M} UTC",
            ),
        ]
        if self.since is not None and self.event != OPENED:
            out.append(("since", f"{self.since:%Y-%m-%d %H:%M} UTC"))
        if self.alert_id is not None:
            out.append(("alert", f"#{self.alert_id}"))
        return out


@dataclass(frozen=True)
class AlertMessage:
    """One message about one model (any channel renders it from here)."""

    model_name: str
    subject: str
    text: str
    html: str
    notices: tuple[Notice, ...]

    def slack_payload(self) -> dict[str, Any]:
        """``{"text", "blocks"}``: Slack's incoming-webhook format (``text`` is the fallback)."""
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": self.subject[:150]}}
        ]
        for n in self.notices:
            links = " | ".join(
                f"<{url}|{name}>"
                for name, url in (("report", n.report_url), ("run", n.run_url))
                if url
            )
            facts = "; ".join(f"{k}: {v}" for k, v in n.facts())
            body = f"*{n.headline()}*\n{n.message}\n{facts}" + (f"\n{links}" if links else "")
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
        return {"text": self.text, "blocks": blocks[:50]}

    def to_dict(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "subject": self.subject, "text": self.text}


def _subject(model_name: str, notices: Sequence[Notice]) -> str:
    active = [n for n in notices if n.event != CLEARED_NOTICE]
    cleared = len(notices) - len(active)
    parts = []
    critical = sum(1 for n in active if n.severity == CRITICAL)
    if critical:
        parts.append(f"{critical} critical")
    if len(active) - critical:
        parts.append(f"{len(active) - critical} warning")
    if cleared:
        parts.append(f"{cleared} cleared")
    return f"[modelguard] {model_name}: {', '.join(parts)} alert{'s' if len(notices) > 1 else ''}"


def compose(model_name: str, notices: Sequence[Notice], *, note: str | None = None) -> AlertMessage:
    """One message about ``model_name``'s notices, critical first; ``note`` (e.g. that the
    alert store could not record them) heads the text."""
    ordered = tuple(sorted(notices, key=lambda n: n.order))
    lines = [note] if note else []
    blocks = [f"<p><strong>{html.escape(note)}</strong></p>"] if note else []
    for n in ordered:
        lines.append(f"{n.headline()}: {n.message}")
        lines += [f"  {k}: {v}" for k, v in n.facts()]
        lines += [
            f"  {name}: {url}"
            for name, url in (("report", n.report_url), ("run", n.run_url))
            if url
        ]
        facts = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in n.facts())
        links = " | ".join(
            f'<a href="{html.escape(url, quote=True)}">{name}</a>'
            for name, url in (("report", n.report_url), ("run", n.run_url))
            if url
        )
        blocks.append(
            f"<h3>{html.escape(n.headline())}</h3><p>{html.escape(n.message)}</p>"
            f"<ul>{facts}</ul><p>{links}</p>"
        )
    return AlertMessage(
        model_name=model_name,
        subject=_subject(model_name, ordered),
        text="\n".join(lines),
        html="<html><body>" + "".join(blocks) + "</body></html>",
        notices=ordered,
    )
