"""Trigger that waits in the triggerer until enough outcomes of a window's sends are known."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelguard.triggers.base import WindowPollTrigger, iso, parse_iso, window_from_iso


def _label_counts_blocking(
    url: str,
    table: str,
    time_column: str,
    label_column: str,
    label_time_column: str,
    start: str,
    end: str,
    as_of: str,
) -> tuple[int, int]:
    from modelguard.core.window import to_naive_utc
    from modelguard.storage.source import engine_for_url, label_counts

    return label_counts(
        engine_for_url(url),
        table,
        time_column,
        label_column,
        label_time_column,
        window_from_iso(start, end),
        to_naive_utc(parse_iso(as_of)),
    )


class LabelsMaturedTrigger(WindowPollTrigger):
    """Poll ``table`` every ``poll_interval`` s until, among the sends in
    ``[window_start, window_end)`` (the matured window), at least ``min_labelled_rows`` and at
    least the share ``min_label_share`` have a ``label_column`` known by ``as_of`` (non-null, with
    ``label_time_column`` <= ``as_of``); or until ``deadline`` (absolute UTC).

    The connection is looked up by ``conn_id`` in the triggerer, so no credentials are stored in
    the trigger's kwargs.

    Events: ``{"status": "success" | "timeout", "sends": n, "labelled": k, ...}`` or
    ``{"status": "error", "message": ..., "error_type": ...}``; every event also carries
    ``table``, ``time_column``, ``label_column``, ``label_time_column``, ``window_start``,
    ``window_end``, ``as_of``, ``min_labelled_rows`` and ``min_label_share``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        table: str,
        time_column: str,
        label_column: str,
        label_time_column: str,
        window_start: datetime | str,
        window_end: datetime | str,
        as_of: datetime | str,
        min_labelled_rows: int,
        min_label_share: float,
        poll_interval: float = 60.0,
        deadline: datetime | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            table=table,
            window_start=window_start,
            window_end=window_end,
            poll_interval=poll_interval,
            deadline=deadline,
            **kwargs,
        )
        self.time_column = time_column
        self.label_column = label_column
        self.label_time_column = label_time_column
        self.as_of = iso(as_of)
        self.min_labelled_rows = int(min_labelled_rows)
        self.min_label_share = float(min_label_share)

    def event_fields(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "time_column": self.time_column,
            "label_column": self.label_column,
            "label_time_column": self.label_time_column,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "as_of": self.as_of,
            "min_labelled_rows": self.min_labelled_rows,
            "min_label_share": self.min_label_share,
        }

    def serialize_kwargs(self) -> dict[str, Any]:
        return {
            "conn_id": self.conn_id,
            **self.event_fields(),
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
        }

    def measure(self, url: str) -> dict[str, Any]:
        sends, labelled = _label_counts_blocking(
            url,
            self.table,
            self.time_column,
            self.label_column,
            self.label_time_column,
            self.window_start,
            self.window_end,
            self.as_of,
        )
        return {"sends": sends, "labelled": labelled}

    def is_done(self, measured: dict[str, Any]) -> bool:
        from modelguard.storage.source import enough_labels

        return enough_labels(
            measured["sends"], measured["labelled"], self.min_labelled_rows, self.min_label_share
        )

    def log_measurement(self, measured: dict[str, Any]) -> None:
        self.log.info(
            "%s: %d of %d sends in [%s, %s) have %s known by %s, need %d and %g%%",
            self.table,
            measured["labelled"],
            measured["sends"],
            self.window_start,
            self.window_end,
            self.label_column,
            self.as_of,
            self.min_labelled_rows,
            self.min_label_share * 100,
        )
