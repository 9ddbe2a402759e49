"""Deterministic synthetic support tickets of a B2B SaaS desk, with optional drift scenarios.

Every clock hour is generated on its own from ``numpy.random.default_rng([seed, hour_index])``
(``hour_index`` = whole hours since 1970-01-01 UTC), so a range generated in one go equals the
same range generated in pieces. All random numbers of an hour are drawn up front, whatever the
scenario, so rows before ``drift_start`` are identical across scenarios and a drifted row is the
"same" ticket as its undrifted twin, only changed by the scenario.

Outcome model: ``escalated ~ Bernoulli(sigmoid(logit(x)))`` with a fixed, hand-written logit
(about 20% of tickets escalate); ``model_score`` is the undrifted logit plus noise (a decent but
imperfect production model that knows nothing about a product area it has never seen).

Command line::

    python -m support_escalation.generator --url sqlite:///tickets.db \
        --start 2026-06-01 --end 2026-10-01 --scenario product_launch --drift-start 2026-09-01
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from support_escalation.schema import (
    CATEGORIES,
    COLUMNS,
    FEATURES,
    ID_COLUMN,
    LABEL_COLUMN,
    LABEL_DELAY_HOURS,
    LABEL_TIME_COLUMN,
    SCORE_COLUMN,
    TABLE,
    TIME_COLUMN,
    tickets_table,
)
from synthetic_source import replace_range, seed_by_day, to_naive_utc

SCENARIOS = ("none", "product_launch", "concept_drift", "audience_shift")

#: The product area a ``product_launch`` adds; it never occurs before the drift starts.
NEW_AREA = "ai_assistant"

_EPOCH = datetime(1970, 1, 1)
_WRITE_CHUNK = 20_000
_AREAS = (*CATEGORIES["product_area"], NEW_AREA)

# ---------------------------------------------------------------------------------------------
# Random-number layout: per row, one block of uniforms and one of standard normals.
# ---------------------------------------------------------------------------------------------
_U = {
    name: i
    for i, name in enumerate(
        (
            "offset",
            "tier",
            "channel",
            "area",
            "priority",
            "attach_any",
            "attach_n",
            "prior",
            "responded",
            "launch",
            "escalated",
            "jitter",
        )
    )
}
_N_U = len(_U)
_Z = {name: i for i, name in enumerate(("length", "age", "response", "score"))}
_N_Z = len(_Z)

# ---------------------------------------------------------------------------------------------
# Input distributions (undrifted world).
# ---------------------------------------------------------------------------------------------
# Volume: weekdays busy, weekends quiet; within a day, business hours of the Americas + EMEA.
# Both factors average to 1, so ``tickets_per_hour`` is the long-run mean.
_WEEKDAY_VOLUME = np.array([1.25, 1.25, 1.25, 1.25, 1.25, 0.375, 0.375])
_TIER_PROBS = np.array([0.45, 0.38, 0.17])  # free, pro, enterprise
# P(channel | tier): enterprise customers phone, free ones chat.
_CHANNEL_BY_TIER = np.array(
    [
        [0.45, 0.35, 0.02, 0.18],
        [0.38, 0.30, 0.10, 0.22],
        [0.25, 0.20, 0.35, 0.20],
    ]
)
_AREA_PROBS = np.array([0.22, 0.24, 0.20, 0.16, 0.18])
# P(priority | tier): customers who pay more mark more tickets urgent.
_PRIORITY_BY_TIER = np.array(
    [
        [0.35, 0.45, 0.16, 0.04],
        [0.25, 0.45, 0.22, 0.08],
        [0.15, 0.40, 0.30, 0.15],
    ]
)
_MEDIAN_WORDS_BY_CHANNEL = np.array([110.0, 35.0, 60.0, 90.0])  # phone: the agent's summary
_ATTACH_BY_CHANNEL = np.array([0.40, 0.15, 0.05, 0.45])  # P(at least one attachment)
_PRIOR_MEAN_BY_TIER = np.array([0.8, 2.0, 5.0])
_MEDIAN_AGE_BY_TIER = np.array([150.0, 450.0, 900.0])
_MEDIAN_RESPONSE_BY_PRIORITY = np.array([90.0, 45.0, 20.0, 8.0])  # minutes
_RESPONSE_BY_CHANNEL = np.array([1.0, 0.35, 0.25, 1.1])
_UNANSWERED_SHARE = 0.15  # scored before an agent answered: first_response_minutes is NaN

# ---------------------------------------------------------------------------------------------
# Outcome model (log-odds contributions).
# ---------------------------------------------------------------------------------------------
_INTERCEPT = -1.45  # about 20% of tickets escalate
_PRIORITY_EFFECT = np.array([-0.9, -0.3, 0.5, 1.3])
# Concept drift scales the priority effect around its mean, which keeps the base rate.
_PRIORITY_CENTER = float(_TIER_PROBS @ _PRIORITY_BY_TIER @ _PRIORITY_EFFECT)
_TIER_EFFECT = np.array([-0.5, 0.0, 0.6])
_CHANNEL_EFFECT = np.array([0.0, -0.2, 0.4, -0.1])
# ai_assistant is new and immature: it escalates often, and the production model scores it as
# neutral (it never saw it).
_AREA_EFFECT = np.array([-0.4, 0.5, -0.1, 0.3, 0.1, 0.8])
_KNOWN_AREA_EFFECT = np.where(np.arange(len(_AREAS)) < len(_AREA_PROBS), _AREA_EFFECT, 0.0)
_LENGTH_COEF = 0.5  # per unit of log(words)
_LOG_WORDS_CENTER = math.log(80.0)
# Concept drift: a new tier-2 team and an urgent fast-track. Integrations and auth are solved
# without engineering, billing and reporting escalate instead; priority stops predicting (it
# even reverses a little); long detailed reports get solved, short vague ones escalate.
_DRIFTED_AREA_EFFECT = np.array([0.4, -0.5, 0.3, -0.2, 0.0, 0.8])
_PRIORITY_SCALE_DRIFT = -1.5  # priority effect * (1 + this * magnitude)
_LENGTH_COEF_DRIFT = -2.0  # length coefficient * (1 + this * magnitude)
_NOISE_SD = 0.7  # production-model error, on the log-odds scale


def _validate(scenario: str, magnitude: float, tickets_per_hour: float) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}")
    if not (isinstance(magnitude, int | float) and math.isfinite(magnitude) and magnitude >= 0):
        raise ValueError(f"magnitude must be a finite number >= 0, got {magnitude!r}")
    if not (isinstance(tickets_per_hour, int | float) and tickets_per_hour >= 0):
        raise ValueError(f"tickets_per_hour must be a number >= 0, got {tickets_per_hour!r}")


def _hour_index(moment: datetime) -> int:
    return int((moment - _EPOCH) // timedelta(hours=1))


def hourly_rate(hour_index: int, tickets_per_hour: float) -> float:
    """Expected tickets in one clock hour: weekday factor times a business-hours wave."""
    weekday = (hour_index // 24 + 3) % 7  # 1970-01-01 was a Thursday
    wave = 1.0 + 0.6 * math.cos(2.0 * math.pi * ((hour_index % 24) - 15) / 24.0)
    return tickets_per_hour * _WEEKDAY_VOLUME[weekday] * wave


def _draw_hours(
    first_hour: int, last_hour: int, seed: int, tickets_per_hour: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random numbers for hours [first_hour, last_hour): (hour index per row, U, Z)."""
    hours, us, zs = [], [], []
    for h in range(first_hour, last_hour):
        rng = np.random.default_rng([seed, h])
        n = int(rng.poisson(hourly_rate(h, tickets_per_hour)))
        hours.append(np.full(n, h, dtype=np.int64))
        us.append(rng.random((n, _N_U)))
        zs.append(rng.standard_normal((n, _N_Z)))
    if not hours:
        return np.empty(0, np.int64), np.empty((0, _N_U)), np.empty((0, _N_Z))
    return np.concatenate(hours), np.concatenate(us), np.concatenate(zs)


def _choice(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Inverse-CDF categorical draw: index into ``probs`` for each uniform in ``u``."""
    cum = np.cumsum(probs) / np.sum(probs)
    return np.minimum(np.searchsorted(cum, u, side="right"), len(probs) - 1)


def _choice_rows(u: np.ndarray, prob_rows: np.ndarray) -> np.ndarray:
    cum = np.cumsum(prob_rows, axis=1)
    cum /= cum[:, -1:]
    return np.minimum((u[:, None] >= cum).sum(axis=1), prob_rows.shape[1] - 1)


def _geometric(u: np.ndarray, mean: np.ndarray | float) -> np.ndarray:
    """Counts 0, 1, 2, ... with the given mean, by inverse CDF of a geometric distribution."""
    p = 1.0 / (1.0 + np.asarray(mean, dtype=float))
    return np.floor(np.log1p(-u) / np.log1p(-p))


def _base_features(u: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
    """Undrifted inputs. Categoricals as integer codes (product area into ``_AREAS``)."""
    f: dict[str, np.ndarray] = {}
    tier = _choice(u[:, _U["tier"]], _TIER_PROBS)
    f["customer_tier"] = tier
    f["channel"] = _choice_rows(u[:, _U["channel"]], _CHANNEL_BY_TIER[tier])
    f["product_area"] = _choice(u[:, _U["area"]], _AREA_PROBS)
    f["priority"] = _choice_rows(u[:, _U["priority"]], _PRIORITY_BY_TIER[tier])

    log_words = np.log(_MEDIAN_WORDS_BY_CHANNEL[f["channel"]]) + 0.7 * z[:, _Z["length"]]
    f["message_length"] = np.clip(np.round(np.exp(log_words)), 3.0, 3000.0)
    has_attachment = u[:, _U["attach_any"]] < _ATTACH_BY_CHANNEL[f["channel"]]
    f["attachments"] = np.where(has_attachment, 1.0 + _geometric(u[:, _U["attach_n"]], 0.6), 0.0)
    f["prior_tickets_90d"] = _geometric(u[:, _U["prior"]], _PRIOR_MEAN_BY_TIER[tier])
    log_age = np.log(_MEDIAN_AGE_BY_TIER[tier]) + 0.9 * z[:, _Z["age"]]
    f["account_age_days"] = np.clip(np.round(np.exp(log_age)), 1.0, 3650.0)
    median_response = (
        _MEDIAN_RESPONSE_BY_PRIORITY[f["priority"]] * _RESPONSE_BY_CHANNEL[f["channel"]]
    )
    log_response = np.log(median_response) + 0.8 * z[:, _Z["response"]]
    f["first_response_minutes"] = np.clip(np.round(np.exp(log_response), 1), 0.5, 2880.0)
    return f


def _apply_product_launch(
    f: dict[str, np.ndarray], u: np.ndarray, mask: np.ndarray, magnitude: float
) -> None:
    """The AI assistant ships: it takes a share of the tickets, and everyone writes longer
    tickets (pasted prompts and transcripts)."""
    share = min(0.9, 0.3 * magnitude)
    launched = mask & (u[:, _U["launch"]] < share)
    f["product_area"] = np.where(launched, _AREAS.index(NEW_AREA), f["product_area"])
    longer = np.clip(np.round(f["message_length"] * math.exp(0.7 * magnitude)), 3.0, 3000.0)
    f["message_length"] = np.where(mask, longer, f["message_length"])


def _log_odds(
    f: dict[str, np.ndarray],
    *,
    known_only: bool = False,
    area_effect: np.ndarray | None = None,
    priority_scale: float = 1.0,
    length_coef: float = _LENGTH_COEF,
) -> np.ndarray:
    if area_effect is None:
        area_effect = _KNOWN_AREA_EFFECT if known_only else _AREA_EFFECT
    out = np.full(len(f["priority"]), _INTERCEPT)
    out += _PRIORITY_CENTER + priority_scale * (_PRIORITY_EFFECT[f["priority"]] - _PRIORITY_CENTER)
    out += _TIER_EFFECT[f["customer_tier"]]
    out += _CHANNEL_EFFECT[f["channel"]]
    out += area_effect[f["product_area"]]
    out += length_coef * (np.log(f["message_length"]) - _LOG_WORDS_CENTER)
    out += 0.25 * np.log1p(f["attachments"])
    out += 0.25 * np.log1p(f["prior_tickets_90d"])
    out += -0.2 * (np.log(f["account_age_days"]) - math.log(400.0))
    out += 0.35 * (np.log(f["first_response_minutes"]) - math.log(40.0))
    return out


def _drifted_log_odds(f: dict[str, np.ndarray], magnitude: float) -> np.ndarray:
    m = magnitude
    return _log_odds(
        f,
        area_effect=(1.0 - m) * _AREA_EFFECT + m * _DRIFTED_AREA_EFFECT,
        priority_scale=1.0 + _PRIORITY_SCALE_DRIFT * m,
        length_coef=_LENGTH_COEF * (1.0 + _LENGTH_COEF_DRIFT * m),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _empty_frame() -> pd.DataFrame:
    data: dict[str, Any] = {
        ID_COLUMN: pd.Series([], dtype="str"),
        TIME_COLUMN: pd.Series([], dtype="datetime64[us]"),
    }
    for name, kind in FEATURES.items():
        data[name] = pd.Series([], dtype="float64" if kind == "numeric" else "str")
    data[SCORE_COLUMN] = pd.Series([], dtype="float64")
    data[LABEL_COLUMN] = pd.Series([], dtype="int64")
    data[LABEL_TIME_COLUMN] = pd.Series([], dtype="datetime64[us]")
    return pd.DataFrame(data, columns=list(COLUMNS))


_CATEGORY_LABELS = {
    "priority": np.array(CATEGORIES["priority"], dtype=object),
    "channel": np.array(CATEGORIES["channel"], dtype=object),
    "product_area": np.array(_AREAS, dtype=object),
    "customer_tier": np.array(CATEGORIES["customer_tier"], dtype=object),
}


def generate_tickets(
    start: datetime,
    end: datetime,
    *,
    seed: int = 7,
    tickets_per_hour: float = 40,
    scenario: str = "none",
    drift_start: datetime | None = None,
    magnitude: float = 1.0,
    label_delay_hours: float = LABEL_DELAY_HOURS,
) -> pd.DataFrame:
    """Synthetic tickets with ``start <= opened_at < end`` (naive UTC), sorted by ``opened_at``.

    ``scenario`` changes tickets with ``opened_at >= drift_start`` (default: ``start``):

    - ``product_launch``: covariate shift. ``ai_assistant``, a product area never seen before,
      takes ~30% of tickets and messages get twice as long; escalation stays the same function
      of the inputs (its rate rises: the new area escalates often, long tickets too).
    - ``concept_drift``: same inputs, a new escalation function (integrations and auth stop
      escalating, billing and reporting start; priority stops predicting; short vague tickets
      escalate, long detailed ones do not).
    - ``audience_shift``: both together: what monitoring sees, and what makes a retrained model
      better than the champion.

    ``magnitude`` scales every effect (0 = no change). ``resolved_at`` is when the outcome
    became known: for an escalation a uniform time within ``label_delay_hours`` of opening, for
    none exactly ``label_delay_hours`` after it (only then is "not escalated" final). Labels
    are never NULL: whether an outcome is known at a given moment is ``resolved_at <= moment``.
    """
    _validate(scenario, magnitude, tickets_per_hour)
    start = to_naive_utc(start)
    end = to_naive_utc(end)
    if start < _EPOCH:
        raise ValueError(f"start must be on or after 1970-01-01, got {start.isoformat()}")
    drift_from = start if drift_start is None else to_naive_utc(drift_start)
    if end <= start:
        return _empty_frame()

    first_hour = _hour_index(start)
    last_hour = -(-(end - _EPOCH) // timedelta(hours=1))  # ceiling
    hour, u, z = _draw_hours(first_hour, last_hour, seed, tickets_per_hour)

    seconds = hour * 3600 + np.floor(u[:, _U["offset"]] * 3600.0).astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    hour, u, z, seconds = hour[order], u[order], z[order], seconds[order]
    opened_at = seconds.astype("datetime64[s]").astype("datetime64[us]")
    keep = (opened_at >= np.datetime64(start, "us")) & (opened_at < np.datetime64(end, "us"))
    # Position of each row within its hour (before trimming: ids do not depend on the range).
    position = np.arange(len(hour)) - np.searchsorted(hour, hour, side="left")
    hour, u, z, opened_at, position = hour[keep], u[keep], z[keep], opened_at[keep], position[keep]
    if len(hour) == 0:
        return _empty_frame()

    f = _base_features(u, z)
    drifted = opened_at >= np.datetime64(drift_from, "us")
    m = float(magnitude)
    if scenario in ("product_launch", "audience_shift"):
        _apply_product_launch(f, u, drifted, m)

    # Production model: the undrifted function, blind to the new area, plus noise.
    score_logit = _log_odds(f, known_only=True) + _NOISE_SD * z[:, _Z["score"]]
    score = np.clip(_sigmoid(score_logit), 1e-6, 1.0 - 1e-6)
    true_logit = _log_odds(f)
    if scenario in ("concept_drift", "audience_shift"):
        true_logit = np.where(drifted, _drifted_log_odds(f, m), true_logit)
    escalated = (u[:, _U["escalated"]] < _sigmoid(true_logit)).astype(np.int64)

    # An escalation is known when it happens; "not escalated" only once the delay has passed.
    delay_s = round(label_delay_hours * 3600)
    seen_after = np.floor(u[:, _U["jitter"]] * delay_s).astype(np.int64)
    resolved_at = opened_at + np.where(escalated == 1, seen_after, delay_s).astype("timedelta64[s]")
    unanswered = u[:, _U["responded"]] < _UNANSWERED_SHARE
    stamps = pd.to_datetime(hour * 3600, unit="s").strftime("%Y%m%d%H").to_numpy(dtype=object)
    ticket_id = [f"T{seed}-{s}-{p}" for s, p in zip(stamps, position.tolist(), strict=True)]

    data: dict[str, Any] = {
        ID_COLUMN: pd.Series(ticket_id, dtype="str"),
        TIME_COLUMN: pd.Series(opened_at, dtype="datetime64[us]"),
    }
    for name, kind in FEATURES.items():
        if kind == "numeric":
            values = f[name]
            if name == "first_response_minutes":
                values = np.where(unanswered, np.nan, values)
            data[name] = pd.Series(values, dtype="float64")
        else:
            data[name] = pd.Series(_CATEGORY_LABELS[name][f[name]], dtype="str")
    data[SCORE_COLUMN] = pd.Series(score, dtype="float64")
    data[LABEL_COLUMN] = pd.Series(escalated, dtype="int64")
    data[LABEL_TIME_COLUMN] = pd.Series(resolved_at, dtype="datetime64[us]")
    return pd.DataFrame(data, columns=list(COLUMNS))


# ---------------------------------------------------------------------------------------------
# Writing to a database.
# ---------------------------------------------------------------------------------------------
def write_tickets(
    engine: sa.Engine,
    frame: pd.DataFrame,
    *,
    start: datetime,
    end: datetime,
    table: str = TABLE,
) -> int:
    """Replace the tickets with ``start <= opened_at < end`` by ``frame``, in one transaction
    (:func:`synthetic_source.replace_range`). Returns rows written."""
    return replace_range(
        engine,
        tickets_table(sa.MetaData(), table),
        frame,
        start=start,
        end=end,
        time_column=TIME_COLUMN,
        id_column=ID_COLUMN,
    )


def seed_source(
    engine: sa.Engine,
    start: datetime,
    end: datetime,
    *,
    table: str = TABLE,
    **generate_kwargs: Any,
) -> int:
    """Generate [start, end) day by day and write each day with :func:`write_tickets`; reruns
    replace days rather than duplicate them."""
    return seed_by_day(
        start,
        end,
        lambda day, nxt: generate_tickets(day, nxt, **generate_kwargs),
        lambda frame, day, nxt: write_tickets(engine, frame, start=day, end=nxt, table=table),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m support_escalation.generator",
        description="Write synthetic support tickets for [start, end) into a database.",
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL, e.g. sqlite:///tickets.db")
    parser.add_argument("--start", required=True, help="first opening time (UTC), e.g. 2026-06-01")
    parser.add_argument("--end", required=True, help="end of the range (UTC, exclusive)")
    parser.add_argument("--scenario", default="none", choices=SCENARIOS)
    parser.add_argument("--drift-start", default=None, help="drift begins here (default: start)")
    parser.add_argument("--magnitude", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tickets-per-hour", type=float, default=40)
    parser.add_argument("--table", default=TABLE)
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.url)
    try:
        rows = seed_source(
            engine,
            to_naive_utc(args.start),
            to_naive_utc(args.end),
            table=args.table,
            seed=args.seed,
            tickets_per_hour=args.tickets_per_hour,
            scenario=args.scenario,
            drift_start=None if args.drift_start is None else to_naive_utc(args.drift_start),
            magnitude=args.magnitude,
        )
    finally:
        engine.dispose()
    print(f"wrote {rows} rows to table {args.table!r} ({args.scenario}, {args.start}..{args.end})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
