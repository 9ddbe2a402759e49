"""The champion/challenger gate in the registry: evaluations and post-deployment checks
logged, a challenger promoted (compare-and-swap of the champion pointer) or rejected.

:func:`swap_champion` is the one compare-and-swap every change of champion goes through (a
rollback too); it must be the first statement of its transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from modelguard.exceptions import NoChampionError, RegistryError, StaleDecisionError
from modelguard.storage.db import utcnow
from modelguard.storage.registry.history import effective_after
from modelguard.storage.registry.rows import (
    EVENT_APPROVAL_TIMED_OUT,
    EVENT_CHECKED,
    EVENT_EVALUATED,
    EVENT_PROMOTED,
    EVENT_REJECTED,
    STATUS_ARCHIVED,
    STATUS_CHALLENGER,
    STATUS_CHAMPION,
    STATUS_REJECTED,
    ModelEvent,
    ModelVersion,
    append_event,
    champions_table,
    check_id,
    check_json_dict,
    check_model_name,
    check_reason,
    fetch_event,
    fetch_own_version,
    fetch_version,
    model_events_table,
    model_versions_table,
    set_status,
    version_label,
)


class ChampionGate:
    """Evaluate, promote, reject: mixed into :class:`~modelguard.storage.registry.ModelRegistry`."""

    engine: Engine  # and get_version(): supplied by ModelRegistry

    def record_evaluation(
        self,
        model_name: str,
        challenger_id: int,
        champion_id: int | None,
        result: Mapping[str, Any],
        *,
        run_id: str | None = None,
        reason: str | None = None,
    ) -> ModelEvent:
        """Append an ``evaluated`` event for ``challenger_id``; no status changes.

        ``details`` are ``{"champion_id", "challenger_version", "champion_version", "result"}``
        with the full evaluation ``result``. Both versions must belong to ``model_name``
        (``champion_id`` may be ``None`` when there was no champion to compare with).
        """
        check_model_name(model_name)
        challenger_id = check_id("challenger_id", challenger_id)
        if champion_id is not None:
            champion_id = check_id("champion_id", champion_id)
        result_dict = check_json_dict("result", result)
        with self.engine.begin() as conn:
            challenger = fetch_own_version(conn, model_name, challenger_id)
            champion = (
                None if champion_id is None else fetch_own_version(conn, model_name, champion_id)
            )
            event_id = append_event(
                conn,
                model_name=model_name,
                version_id=challenger.id,
                event=EVENT_EVALUATED,
                run_id=run_id,
                reason=reason,
                details={
                    "champion_id": champion_id,
                    "challenger_version": challenger.version,
                    "champion_version": None if champion is None else champion.version,
                    "result": result_dict,
                },
            )
            return fetch_event(conn, event_id)

    def record_check(
        self,
        model_name: str,
        version_id: int,
        check: Mapping[str, Any],
        *,
        run_id: str | None = None,
        reason: str | None = None,
    ) -> ModelEvent:
        """Append a ``post_deployment_check`` event (details = the check); no status changes."""
        check_model_name(model_name)
        version_id = check_id("version_id", version_id)
        check_dict = check_json_dict("check", check)
        with self.engine.begin() as conn:
            version = fetch_own_version(conn, model_name, version_id)
            event_id = append_event(
                conn,
                model_name=model_name,
                version_id=version.id,
                event=EVENT_CHECKED,
                run_id=run_id,
                reason=reason,
                details=check_dict,
            )
            return fetch_event(conn, event_id)

    def promote(
        self,
        model_name: str,
        version_id: int,
        *,
        expected_champion_id: int,
        run_id: str | None = None,
        reason: str,
        evaluation: Mapping[str, Any] | None = None,
        effective_at: datetime | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Make the challenger ``version_id`` champion, if the champion is still the expected one.

        ``effective_at`` is the data time from which the new champion judges monitoring intervals
        (the gate's ``as_of``; see :meth:`champion_at`); default: now. ``approval``: the answer of
        the person who approved the deployment (``deployment.approval: human``), kept in the
        event's details under ``"approval"`` (absent for an automatic deployment).

        One transaction: compare-and-swap of the champion pointer from ``expected_champion_id``
        to ``version_id``, previous champion → ``archived``, challenger → ``champion`` and a
        ``promoted`` event (``version_id`` = new champion, details ``{"bootstrap": False,
        "previous_champion_id", "previous_champion_version", "version", "evaluation"}``).

        Raises :class:`StaleDecisionError` (nothing changed) when the champion is no longer
        ``expected_champion_id``, :class:`NoChampionError` when there is no champion yet and
        :class:`RegistryError` when the version is unknown, of another model or not a challenger.
        """
        check_model_name(model_name)
        version_id = check_id("version_id", version_id)
        expected_champion_id = check_id("expected_champion_id", expected_champion_id)
        check_reason(reason)
        evaluation_dict = None if evaluation is None else check_json_dict("evaluation", evaluation)
        approval_extra = _approval_details(approval)
        # The model a version belongs to never changes, so this check may run before the
        # transaction; the status is re-checked inside it by a conditional UPDATE.
        candidate = self.get_version(version_id)
        _check_promotable(model_name, candidate)
        with self.engine.begin() as conn:
            now = utcnow()
            # First statement of the transaction (SQLite: takes the writer lock before any read).
            previous = swap_champion(
                conn,
                model_name,
                expected_id=expected_champion_id,
                new_id=candidate.id,
                at=now,
                context="since the evaluation",
                advice="re-evaluate the challenger against the current champion",
            )
            set_status(
                conn,
                previous,
                STATUS_ARCHIVED,
                from_statuses=(STATUS_CHAMPION,),
                model_name=model_name,
            )
            set_status(
                conn,
                candidate.id,
                STATUS_CHAMPION,
                from_statuses=(STATUS_CHALLENGER,),
                model_name=model_name,
            )
            append_event(
                conn,
                model_name=model_name,
                version_id=candidate.id,
                event=EVENT_PROMOTED,
                run_id=run_id,
                reason=reason,
                details={
                    "bootstrap": False,
                    "previous_champion_id": previous,
                    "previous_champion_version": fetch_version(conn, previous).version,
                    "version": candidate.version,
                    "evaluation": evaluation_dict,
                    "effective_at": effective_after(conn, model_name, effective_at, now),
                    **approval_extra,
                },
                at=now,
            )
            return fetch_version(conn, candidate.id)

    def reject(
        self,
        model_name: str,
        version_id: int,
        *,
        run_id: str | None = None,
        reason: str,
        evaluation: Mapping[str, Any] | None = None,
        approval: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Mark the challenger ``version_id`` as ``rejected`` and append a ``rejected`` event.

        Event details: ``{"version", "previous_status", "evaluation"}``, and ``"approval"`` (the
        answer of the person who rejected it) when a person decided. Only a challenger can be
        rejected; anything else raises :class:`RegistryError` naming the version's status.
        """
        check_model_name(model_name)
        version_id = check_id("version_id", version_id)
        check_reason(reason)
        evaluation_dict = None if evaluation is None else check_json_dict("evaluation", evaluation)
        approval_extra = _approval_details(approval)
        v = model_versions_table
        with self.engine.begin() as conn:
            # Conditional UPDATE first, so a concurrent promotion of the same challenger cannot
            # interleave between the check and the write.
            changed = conn.execute(
                sa.update(v)
                .where(
                    v.c.id == version_id,
                    v.c.model_name == model_name,
                    v.c.status == STATUS_CHALLENGER,
                )
                .values(status=STATUS_REJECTED)
            ).rowcount
            if changed != 1:
                current = fetch_own_version(conn, model_name, version_id)
                raise RegistryError(
                    f"cannot reject {current.label}: it has status {current.status!r}; only a "
                    f"{STATUS_CHALLENGER!r} can be rejected"
                )
            rejected = fetch_version(conn, version_id)
            append_event(
                conn,
                model_name=model_name,
                version_id=version_id,
                event=EVENT_REJECTED,
                run_id=run_id,
                reason=reason,
                details={
                    "version": rejected.version,
                    "previous_status": STATUS_CHALLENGER,
                    "evaluation": evaluation_dict,
                    **approval_extra,
                },
            )
            return rejected

    def record_approval_timeout(
        self,
        model_name: str,
        version_id: int,
        *,
        run_id: str | None = None,
        reason: str,
        details: Mapping[str, Any] | None = None,
    ) -> ModelEvent:
        """Append an ``approval_timed_out`` event: nobody answered the approval of the challenger
        ``version_id`` in time. No status changes (it stays a challenger, not promoted).

        Idempotent per run: a rerun of the same run (same ``run_id``) returns the event already
        written instead of logging the timeout twice.
        """
        check_model_name(model_name)
        version_id = check_id("version_id", version_id)
        check_reason(reason)
        details_dict = check_json_dict("details", details or {})
        e = model_events_table
        with self.engine.begin() as conn:
            version = fetch_own_version(conn, model_name, version_id)
            if run_id is not None:
                existing = conn.execute(
                    sa.select(e.c.id)
                    .where(
                        e.c.model_name == model_name,
                        e.c.version_id == version.id,
                        e.c.event == EVENT_APPROVAL_TIMED_OUT,
                        e.c.run_id == run_id,
                    )
                    .order_by(e.c.id)
                    .limit(1)
                ).scalar_one_or_none()
                if existing is not None:
                    return fetch_event(conn, existing)
            event_id = append_event(
                conn,
                model_name=model_name,
                version_id=version.id,
                event=EVENT_APPROVAL_TIMED_OUT,
                run_id=run_id,
                reason=reason,
                details={"version": version.version, "status": version.status, **details_dict},
            )
            return fetch_event(conn, event_id)


def _approval_details(approval: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"approval": {...}}`` for a person's answer, ``{}`` without one (details unchanged)."""
    if approval is None:
        return {}
    return {"approval": check_json_dict("approval", approval)}


def _check_promotable(model_name: str, candidate: ModelVersion) -> None:
    if candidate.model_name != model_name:
        raise RegistryError(
            f"version id {candidate.id} belongs to model {candidate.model_name!r}, "
            f"not {model_name!r}"
        )
    if candidate.status != STATUS_CHALLENGER:
        raise RegistryError(
            f"cannot promote {candidate.label}: it has status {candidate.status!r}; only a "
            f"{STATUS_CHALLENGER!r} can be promoted"
        )


def stale_message(
    conn: Connection,
    model_name: str,
    expected_id: int,
    actual_id: int,
    *,
    context: str,
    advice: str,
) -> str:
    return (
        f"champion changed {context}: expected {version_label(conn, expected_id)}, "
        f"now {version_label(conn, actual_id, short=True)}; {advice}"
    )


def swap_champion(
    conn: Connection,
    model_name: str,
    *,
    expected_id: int,
    new_id: int,
    at: datetime,
    context: str,
    advice: str,
) -> int:
    """Compare-and-swap of the champion pointer; must be the transaction's first statement.

    Moves the pointer of ``model_name`` from ``expected_id`` to ``new_id`` and returns
    ``expected_id``. Raises :class:`StaleDecisionError` when the pointer holds another
    version and :class:`NoChampionError` when there is no pointer.
    """
    c = champions_table
    current_query = sa.select(c.c.version_id).where(c.c.model_name == model_name)
    if conn.dialect.name == "postgresql":
        # Row lock: a concurrent swap waits here until we commit, then sees the new pointer.
        locked = conn.execute(current_query.with_for_update()).scalar_one_or_none()
        if locked != expected_id:
            raise pointer_error(conn, model_name, expected_id, locked, context, advice)
    # The swap itself is conditional, so it can only succeed from the expected champion. On
    # SQLite this UPDATE opens the write transaction (writer lock) before anything is read.
    swapped = conn.execute(
        sa.update(c)
        .where(c.c.model_name == model_name, c.c.version_id == expected_id)
        .values(version_id=new_id, since=at)
    ).rowcount
    if swapped != 1:
        actual = conn.execute(current_query).scalar_one_or_none()
        raise pointer_error(conn, model_name, expected_id, actual, context, advice)
    return expected_id


def pointer_error(
    conn: Connection,
    model_name: str,
    expected_id: int,
    actual_id: int | None,
    context: str,
    advice: str,
) -> RegistryError:
    if actual_id is None:
        return NoChampionError(
            f"model {model_name!r} has no champion; bootstrap one with "
            "ModelRegistry.bootstrap_champion before promoting or rolling back"
        )
    return StaleDecisionError(
        stale_message(conn, model_name, expected_id, actual_id, context=context, advice=advice)
    )
