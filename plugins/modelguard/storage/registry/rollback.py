"""Rollback: the champion replaced by an earlier version whose artifact still verifies, each
failed candidate logged, and a person told what to do when none is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from modelguard.exceptions import (
    CandidateUnusableError,
    RegistryError,
    RollbackFailedError,
    StaleDecisionError,
)
from modelguard.storage.db import utcnow
from modelguard.storage.registry.gate import stale_message, swap_champion
from modelguard.storage.registry.history import effective_after
from modelguard.storage.registry.rows import (
    EVENT_ROLLBACK_FAILED,
    EVENT_ROLLED_BACK,
    RESTORABLE_STATUSES,
    STATUS_CHAMPION,
    STATUS_REJECTED,
    STATUS_ROLLED_BACK,
    ModelVersion,
    append_event,
    check_id,
    check_model_name,
    check_reason,
    fetch_version,
    set_status,
)


@dataclass(frozen=True)
class RollbackResult:
    """Outcome of a successful :meth:`ModelRegistry.rollback`.

    ``restored`` is the new champion, ``rolled_back`` the former champion (now ``rolled_back``),
    ``failed_attempts`` the candidates skipped on the way, each ``{"version_id", "error"}``.
    """

    restored: ModelVersion
    rolled_back: ModelVersion
    failed_attempts: list[dict[str, Any]]


class Rollbacks:
    """Rollback: mixed into :class:`~modelguard.storage.registry.ModelRegistry`."""

    # and get_version(), get_champion(), champion_history(), _artifact_store(): ModelRegistry's
    engine: Engine

    def rollback(
        self,
        model_name: str,
        *,
        target_version_id: int | None = None,
        run_id: str | None = None,
        reason: str,
        max_attempts: int = 3,
        expected_champion_id: int | None = None,
        effective_at: datetime | None = None,
    ) -> RollbackResult:
        """Replace the champion with an earlier version whose artifact is intact.

        ``effective_at``: the data time from which the restored version judges monitoring
        intervals again (see :meth:`champion_at`); default: now.

        Candidates: ``target_version_id`` alone when given (a version of this model that is
        neither the champion nor rejected); otherwise the earlier champions, most recent first,
        skipping the current champion, ``rolled_back`` and ``rejected`` versions and duplicates.
        At most ``max_attempts`` candidates are tried. A candidate's artifact must exist and hash
        to the recorded sha256 (it is never unpickled); when it does not, a ``rollback_failed``
        event (``version_id`` = candidate, ``reason`` = what failed) is committed and the next
        candidate is tried.

        The switch itself is one transaction with the same compare-and-swap as :meth:`promote`:
        the champion must still be the one the rollback started from (and
        ``expected_champion_id`` when given), else :class:`StaleDecisionError`. The former
        champion becomes ``rolled_back``, the candidate ``champion``, and a ``rolled_back`` event
        is appended (``version_id`` = the version rolled back, details ``{"restored_version_id",
        "restored_version", "rolled_back_version", "reason", "failed_attempts"}``).

        When no candidate succeeds, a final ``rollback_failed`` event ("gave up after N
        attempt(s)") is appended and :class:`RollbackFailedError` is raised; the champion is
        unchanged. :class:`NoChampionError` when the model has no champion.
        """
        check_model_name(model_name)
        check_reason(reason)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise RegistryError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if target_version_id is not None:
            target_version_id = check_id("target_version_id", target_version_id)
        if expected_champion_id is not None:
            expected_champion_id = check_id("expected_champion_id", expected_champion_id)

        store = self._artifact_store()
        current = self.get_champion(model_name)
        if expected_champion_id is not None and current.id != expected_champion_id:
            with self.engine.connect() as conn:
                raise StaleDecisionError(
                    stale_message(
                        conn,
                        model_name,
                        expected_champion_id,
                        current.id,
                        context="since the rollback was decided",
                        advice="check the current champion before rolling back",
                    )
                )

        if target_version_id is not None:
            target = self.get_version(target_version_id)
            if target.model_name != model_name:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it belongs to model "
                    f"{target.model_name!r}"
                )
            if target.id == current.id:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it is the current champion"
                )
            if target.status == STATUS_REJECTED:
                raise RegistryError(
                    f"cannot roll {model_name!r} back to {target.label}: it has status "
                    f"{STATUS_REJECTED!r}"
                )
            candidates = [target]
        else:
            candidates = self._rollback_candidates(model_name, current.id)

        to_try, not_tried = candidates[:max_attempts], candidates[max_attempts:]
        failed: list[dict[str, Any]] = []
        for attempt, candidate in enumerate(to_try, start=1):
            # Re-read: the status or artifact fields are those of the registry, not a stale copy.
            candidate = self.get_version(candidate.id)
            error = None
            if candidate.status not in RESTORABLE_STATUSES:
                error = f"{candidate.label} has status {candidate.status!r} and cannot be restored"
            else:
                error = store.problem(candidate.artifact, what=f"artifact of {candidate.label}")
            if error is None:
                try:
                    return self._restore(
                        model_name,
                        current=current,
                        candidate=candidate,
                        run_id=run_id,
                        reason=reason,
                        failed=failed,
                        effective_at=effective_at,
                    )
                except CandidateUnusableError as exc:
                    error = str(exc)
            failed.append({"version_id": candidate.id, "error": error})
            with self.engine.begin() as conn:
                append_event(
                    conn,
                    model_name=model_name,
                    version_id=candidate.id,
                    event=EVENT_ROLLBACK_FAILED,
                    run_id=run_id,
                    reason=error,
                    details={
                        "attempt": attempt,
                        "version": candidate.version,
                        "current_champion_id": current.id,
                        "rollback_reason": reason,
                    },
                )

        message = self._rollback_failed_message(
            current, candidates, failed, not_tried, max_attempts, reason
        )
        with self.engine.begin() as conn:
            append_event(
                conn,
                model_name=model_name,
                version_id=current.id,
                event=EVENT_ROLLBACK_FAILED,
                run_id=run_id,
                reason=f"gave up after {len(failed)} attempt(s)",
                details={
                    "final": True,
                    "current_champion_id": current.id,
                    "failed_attempts": failed,
                    "not_tried": [v.id for v in not_tried],
                    "max_attempts": max_attempts,
                    "rollback_reason": reason,
                    "message": message,
                },
            )
        raise RollbackFailedError(message)

    def _rollback_candidates(self, model_name: str, current_id: int) -> list[ModelVersion]:
        """Earlier champions, most recent first, that a rollback may restore."""
        seen = {current_id}
        candidates = []
        for version in reversed(self.champion_history(model_name)):
            if version.id in seen:
                continue
            seen.add(version.id)
            if version.status in (STATUS_ROLLED_BACK, STATUS_REJECTED, STATUS_CHAMPION):
                continue
            candidates.append(version)
        return candidates

    def _restore(
        self,
        model_name: str,
        *,
        current: ModelVersion,
        candidate: ModelVersion,
        run_id: str | None,
        reason: str,
        failed: list[dict[str, Any]],
        effective_at: datetime | None = None,
    ) -> RollbackResult:
        with self.engine.begin() as conn:
            now = utcnow()
            swap_champion(
                conn,
                model_name,
                expected_id=current.id,
                new_id=candidate.id,
                at=now,
                context="while the rollback was running",
                advice="check the current champion before rolling back again",
            )
            set_status(
                conn,
                current.id,
                STATUS_ROLLED_BACK,
                from_statuses=(STATUS_CHAMPION,),
                model_name=model_name,
            )
            set_status(
                conn,
                candidate.id,
                STATUS_CHAMPION,
                from_statuses=RESTORABLE_STATUSES,
                model_name=model_name,
                error=CandidateUnusableError,
            )
            append_event(
                conn,
                model_name=model_name,
                version_id=current.id,
                event=EVENT_ROLLED_BACK,
                run_id=run_id,
                reason=reason,
                details={
                    "restored_version_id": candidate.id,
                    "restored_version": candidate.version,
                    "rolled_back_version": current.version,
                    "reason": reason,
                    "failed_attempts": list(failed),
                    "effective_at": effective_after(conn, model_name, effective_at, now),
                },
                at=now,
            )
            return RollbackResult(
                restored=fetch_version(conn, candidate.id),
                rolled_back=fetch_version(conn, current.id),
                failed_attempts=list(failed),
            )

    def _rollback_failed_message(
        self,
        current: ModelVersion,
        candidates: list[ModelVersion],
        failed: list[dict[str, Any]],
        not_tried: list[ModelVersion],
        max_attempts: int,
        reason: str,
    ) -> str:
        head = (
            f"ROLLBACK FAILED for model {current.model_name!r}: {current.label} stays champion "
            f"(rollback reason: {reason})."
        )
        if not candidates:
            history = ", ".join(v.label for v in self.champion_history(current.model_name))
            body = (
                " There is no earlier champion to restore (skipped: the current champion and "
                f"versions already rolled back or rejected; champion history: {history or 'none'})."
            )
        else:
            labels = {v.id: v.label for v in candidates}
            tried = "; ".join(
                f"{labels.get(f['version_id'], f['version_id'])}: {f['error']}" for f in failed
            )
            body = f" Tried {len(failed)} candidate(s): {tried}."
            if not_tried:
                body += (
                    f" Not tried (max_attempts={max_attempts}): "
                    + ", ".join(v.label for v in not_tried)
                    + "."
                )
        action = (
            " Action needed: restore the missing or changed artifact file(s) so they match the "
            "sha256 in the registry, or name a good version with rollback(target_version_id=...), "
            "or register, evaluate and promote a new version."
        )
        return head + body + action
