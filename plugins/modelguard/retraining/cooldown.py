"""The retraining cool-down, resolved in data time over every interval that wants a retraining.

Pure: no I/O, no Airflow. The results store calls :func:`resolve_cooldown` inside one locked
transaction each time a decision is written, over all stored candidates of the model, so the
outcome does not depend on which run got there first:

* a *candidate* is an interval whose checks fired a trigger and that nothing but the cool-down
  blocks (too few new labels is not a candidate);
* walking the candidates in data time (interval end, then start, then DAG id), a candidate
  retrains when no retraining was decided less than ``cooldown_hours`` before it; otherwise it
  records ``cooldown``, naming the interval whose retraining blocks it;
* a candidate whose retraining was actually started (an *anchor*) stays ``retrain``; an earlier
  candidate within ``cooldown_hours`` before an anchor records ``cooldown`` instead, because a
  retraining for that episode already runs. This only happens when a later interval started its
  retraining before an earlier one of the same episode was decided (runs racing); either way one
  episode starts one retraining.

So the earliest interval of an episode decides ``retrain`` and the later ones within
``cooldown_hours`` record ``cooldown``, whatever order (or concurrency) the runs had.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RETRAIN = "retrain"
COOLDOWN = "cooldown"

# (dag_id, interval_start, interval_end): how the store names an interval.
IntervalKey = tuple[str, datetime, datetime]


@dataclass(frozen=True)
class Candidate:
    """An interval that wants a retraining."""

    dag_id: str
    start: datetime
    end: datetime
    started: bool = False  # its retraining was started: it stays the episode's retraining

    @property
    def key(self) -> IntervalKey:
        return (self.dag_id, self.start, self.end)

    @property
    def order(self) -> tuple[datetime, datetime, str]:
        return (self.end, self.start, self.dag_id)

    @property
    def label(self) -> str:
        return f"{self.dag_id} [{self.start.isoformat()}, {self.end.isoformat()})"


@dataclass(frozen=True)
class CooldownVerdict:
    """What the cool-down makes of one candidate."""

    decision: str  # RETRAIN or COOLDOWN
    blocked_by: Candidate | None = None  # the retraining that blocks it
    until: datetime | None = None  # no retraining before this instant (data time)
    started_elsewhere: bool = False  # blocked by a later interval whose retraining runs

    def reason(self, cooldown_hours: float, end: datetime) -> str:
        """One line for the stored reasons (empty for a retraining)."""
        if self.decision == RETRAIN or self.blocked_by is None:
            return ""
        if self.started_elsewhere:
            return (
                f"cool-down: the retraining of this episode was already started by "
                f"{self.blocked_by.label}, less than {cooldown_hours:g} h after "
                f"{end.isoformat()}"
            )
        return (
            f"cool-down: retraining decided for {self.blocked_by.label}, less than "
            f"{cooldown_hours:g} h before {end.isoformat()}; no retraining until "
            f"{self.until.isoformat() if self.until else '?'}"
        )


def resolve_cooldown(
    candidates: Iterable[Candidate],
    cooldown_hours: float,
    *,
    last_retraining: Candidate | None = None,
) -> dict[IntervalKey, CooldownVerdict]:
    """``retrain`` or ``cooldown`` for each candidate (see the module docstring).

    ``last_retraining`` is the newest retraining decided before the earliest candidate given,
    when the caller resolves only a tail of the history.
    """
    ordered = sorted(candidates, key=lambda c: c.order)
    window = timedelta(hours=cooldown_hours)
    anchors = [c for c in ordered if c.started]
    out: dict[IntervalKey, CooldownVerdict] = {}
    last = last_retraining
    for cand in ordered:
        if cand.started or window <= timedelta(0):
            out[cand.key] = CooldownVerdict(RETRAIN)
            last = cand
            continue
        if last is not None and cand.end - last.end < window:
            out[cand.key] = CooldownVerdict(COOLDOWN, blocked_by=last, until=last.end + window)
            continue
        ahead = _anchor_ahead(anchors, cand, window)
        if ahead is not None:
            out[cand.key] = CooldownVerdict(
                COOLDOWN, blocked_by=ahead, until=ahead.end + window, started_elsewhere=True
            )
            continue
        out[cand.key] = CooldownVerdict(RETRAIN)
        last = cand
    return out


def _anchor_ahead(
    anchors: Sequence[Candidate], cand: Candidate, window: timedelta
) -> Candidate | None:
    for anchor in anchors:
        if anchor.order > cand.order and anchor.end - cand.end < window:
            return anchor
    return None


def compose_reasons(
    base_reasons: Sequence[str], triggers: Sequence[str], verdict: CooldownVerdict, line: str
) -> list[str]:
    """The stored reasons of a candidate: the checks' reasons, the cool-down line when it
    blocks, and the conclusion (which always comes last)."""
    body = [r for r in base_reasons if not _is_conclusion(r)]
    which = ", ".join(triggers) or "(none)"
    if verdict.decision == RETRAIN:
        return [*body, f"retrain: triggered by {which}"]
    return [*body, line, f"no retraining: triggered by {which} but blocked by cooldown"]


def _is_conclusion(reason: str) -> bool:
    return reason.startswith(("retrain: triggered by", "no retraining:"))
