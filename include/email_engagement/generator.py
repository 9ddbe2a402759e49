"""Deterministic synthetic cold-email sends, with optional drift scenarios.

Every clock hour is generated on its own from ``numpy.random.default_rng([seed, hour_index])``
(``hour_index`` = whole hours since 1970-01-01 UTC), so a range generated in one go equals the
same range generated in pieces. All random numbers of an hour are drawn up front, whatever the
scenario, so rows before ``drift_start`` are identical across scenarios and a drifted row is the
"same" send as its undrifted twin, only changed by the scenario.

Outcome model: ``engaged ~ Bernoulli(sigmoid(logit(x)))`` with a fixed, hand-written logit;
``model_score`` is the undrifted logit plus noise (a decent but imperfect production model that
knows nothing about categories it has never seen).

Command line::

    python -m email_engagement.generator --url sqlite:///sends.db \
        --start 2026-06-01 --end 2026-10-01 --scenario covariate_shift --drift-start 2026-09-01
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from email_engagement.schema import (
    CATEGORICAL_FEATURES,
    CATEGORIES,
    COLUMNS,
    FEATURES,
    ID_COLUMN,
    LABEL_COLUMN,
    LABEL_DELAY_HOURS,
    LABEL_TIME_COLUMN,
    NEVER_TOUCHED,
    SCORE_COLUMN,
    TABLE,
    TIME_COLUMN,
    sends_table,
)
from synthetic_source import replace_range, seed_by_day, to_naive_utc

SCENARIOS = (
    "none",
    "covariate_shift",
    "new_categories",
    "missing_surge",
    "concept_drift",
    "label_shift",
    "audience_shift",
)

#: ``drift_features`` used when the caller passes None.
DEFAULT_DRIFT_FEATURES: dict[str, tuple[str, ...]] = {
    "none": (),
    "covariate_shift": ("company_size", "subject_length", "past_opens"),
    "new_categories": ("industry", "template"),
    "missing_surge": ("company_size", "industry", "past_opens"),
    "concept_drift": (),
    "label_shift": (),
    "audience_shift": ("company_size", "subject_length", "past_opens"),
}

#: Categories that never occur before drift; ``new_categories`` injects them.
NEW_CATEGORIES: dict[str, tuple[str, ...]] = {
    "title_seniority": ("founder",),
    "industry": ("crypto", "web3"),
    "region": ("africa",),
    "template": ("t_ai_generated",),
}

_EPOCH = datetime(1970, 1, 1)
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}
_WRITE_CHUNK = 20_000

# ---------------------------------------------------------------------------------------------
# Random-number layout: per row, one block of uniforms and one of standard normals.
# ---------------------------------------------------------------------------------------------
_U = {
    name: i
    for i, name in enumerate(
        (
            "offset",
            "region",
            "seniority",
            "industry",
            "step",
            "template",
            "hour",
            "weekday",
            "touched",
            "opens_any",
            "opens_n",
            "replies_any",
            "replies_n",
            "engaged",
            "jitter",
            "missing_company_size",
            "missing_industry",
        )
    )
}
_N_BASE_U = len(_U)
_N_FEAT = len(FEATURES)
# Scenario uniforms: two per feature, after the base block.
_N_U = _N_BASE_U + 2 * _N_FEAT
_Z = {name: i for i, name in enumerate(("company_size", "subject", "personal", "days", "score"))}
_N_Z = len(_Z)

# ---------------------------------------------------------------------------------------------
# Input distributions (undrifted world).
# ---------------------------------------------------------------------------------------------
# Volume: busier mid-day UTC (Americas + EMEA overlap) and on weekdays; both average to 1.
_WEEKDAY_VOLUME = np.array([1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.5])
_PROBS: dict[str, np.ndarray] = {
    "title_seniority": np.array([0.08, 0.14, 0.22, 0.28, 0.28]),
    "industry": np.array([0.25, 0.12, 0.10, 0.12, 0.10, 0.09, 0.08, 0.14]),
    "region": np.array([0.45, 0.30, 0.15, 0.10]),
    "send_weekday": np.array([0.19, 0.22, 0.22, 0.20, 0.13, 0.02, 0.02]),
}
_STEP_PROBS = np.array([0.42, 0.25, 0.16, 0.10, 0.07])
# P(template | followup_step): intros open a sequence, break-up mails close it.
_TEMPLATE_BY_STEP = np.array(
    [
        [0.40, 0.20, 0.20, 0.00, 0.20],
        [0.05, 0.30, 0.30, 0.05, 0.30],
        [0.05, 0.30, 0.30, 0.05, 0.30],
        [0.00, 0.20, 0.20, 0.45, 0.15],
        [0.00, 0.20, 0.20, 0.45, 0.15],
    ]
)
_PROBS["template"] = _STEP_PROBS @ _TEMPLATE_BY_STEP
# Prospect-local send hour: business-hours heavy.
_HOUR_WEIGHTS = np.array(
    [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.6, 2.0, 5.0, 8.0, 9.0, 8.0]
    + [5.0, 6.0, 7.0, 6.0, 5.0, 3.0, 1.5, 1.0, 0.8, 0.6, 0.4, 0.3]
)
_HOUR_PROBS = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()
_LOG_SIZE_BY_INDUSTRY = np.log([60, 150, 400, 600, 300, 250, 200, 25])
_SUBJECT_BY_TEMPLATE = np.array([44.0, 50.0, 34.0, 30.0, 46.0, 58.0])  # + t_ai_generated

# ---------------------------------------------------------------------------------------------
# Outcome model (log-odds contributions).
# ---------------------------------------------------------------------------------------------
_INTERCEPT = -1.2  # base engagement (open, click or reply) ~32%
_CATEGORY_EFFECTS: dict[str, dict[str, float]] = {
    "title_seniority": {
        "c_level": -0.45,
        "vp": -0.20,
        "director": 0.10,
        "manager": 0.25,
        "individual_contributor": 0.05,
        "founder": 0.30,
    },
    "industry": {
        "saas": 0.25,
        "fintech": 0.00,
        "healthcare": -0.35,
        "manufacturing": -0.25,
        "retail": -0.10,
        "logistics": 0.00,
        "education": 0.15,
        "agency": 0.30,
        "crypto": -0.30,
        "web3": -0.50,
    },
    "region": {"north_america": 0.10, "emea": 0.00, "apac": -0.25, "latam": 0.05, "africa": -0.10},
    "template": {
        "t_intro": 0.00,
        "t_case_study": 0.25,
        "t_question": 0.35,
        "t_breakup": 0.20,
        "t_value_prop": 0.05,
        "t_ai_generated": -0.60,
    },
    "send_weekday": {
        "mon": 0.00,
        "tue": 0.10,
        "wed": 0.10,
        "thu": 0.05,
        "fri": -0.15,
        "sat": -0.35,
        "sun": -0.35,
    },
}
_ALL_CATEGORIES = {f: CATEGORIES[f] + NEW_CATEGORIES.get(f, ()) for f in CATEGORICAL_FEATURES}
_EFFECT_ARRAYS = {
    f: np.array([_CATEGORY_EFFECTS[f][c] for c in cats]) for f, cats in _ALL_CATEGORIES.items()
}
# The production model never saw the new categories: it scores them as neutral.
_KNOWN_EFFECT_ARRAYS = {
    f: np.where(np.arange(len(cats)) < len(CATEGORIES[f]), _EFFECT_ARRAYS[f], 0.0)
    for f, cats in _ALL_CATEGORIES.items()
}
_PERSONALIZATION_COEF = 2.5
_HOUR_EFFECT = np.array(
    [-0.5] * 6 + [0.1, 0.1] + [0.3] * 4 + [0.0, 0.0] + [0.15] * 3 + [-0.1, -0.1] + [-0.5] * 5
)
_HOUR_EFFECT = _HOUR_EFFECT - _HOUR_EFFECT @ _HOUR_PROBS  # centred: flipping keeps the base rate
_FOLLOWUP_COEF = -0.30
_FOLLOWUP_CENTER = float(np.arange(5) @ _STEP_PROBS)
_NOISE_SD = 0.7  # production-model error, on the log-odds scale


def _validate_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}")


def _resolve_drift_features(scenario: str, drift_features: Iterable[str] | None) -> tuple[str, ...]:
    if drift_features is None:
        return DEFAULT_DRIFT_FEATURES[scenario]
    if isinstance(drift_features, str):
        drift_features = (drift_features,)
    resolved = tuple(drift_features)
    for name in resolved:
        if name not in FEATURES:
            raise ValueError(f"unknown drift feature {name!r}; allowed: {', '.join(FEATURES)}")
    if scenario == "new_categories":
        for name in resolved:
            if name not in NEW_CATEGORIES:
                raise ValueError(
                    f"scenario 'new_categories' cannot add categories to {name!r}; "
                    f"allowed: {', '.join(NEW_CATEGORIES)}"
                )
    return resolved


def _hour_index(moment: datetime) -> int:
    return int((moment - _EPOCH) // timedelta(hours=1))


def _draw_hours(
    first_hour: int, last_hour: int, seed: int, sends_per_hour: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random numbers for hours [first_hour, last_hour): (hour index per row, U, Z)."""
    hours, us, zs = [], [], []
    for h in range(first_hour, last_hour):
        rng = np.random.default_rng([seed, h])
        weekday = (h // 24 + 3) % 7  # 1970-01-01 was a Thursday
        rate = sends_per_hour * _WEEKDAY_VOLUME[weekday]
        rate *= 1.0 + 0.5 * math.cos(2.0 * math.pi * ((h % 24) - 15) / 24.0)
        n = int(rng.poisson(rate))
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


def _geometric(u: np.ndarray, p: float) -> np.ndarray:
    """Failures before the first success, P(success)=p, by inverse CDF."""
    return np.floor(np.log1p(-u) / math.log1p(-p))


def _base_features(u: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
    """Undrifted inputs. Categoricals as integer codes into ``_ALL_CATEGORIES``."""
    f: dict[str, np.ndarray] = {}
    f["region"] = _choice(u[:, _U["region"]], _PROBS["region"])
    f["title_seniority"] = _choice(u[:, _U["seniority"]], _PROBS["title_seniority"])
    f["industry"] = _choice(u[:, _U["industry"]], _PROBS["industry"])
    step = _choice(u[:, _U["step"]], _STEP_PROBS)
    f["followup_step"] = step.astype(float)
    f["template"] = _choice_rows(u[:, _U["template"]], _TEMPLATE_BY_STEP[step])
    f["send_hour"] = _choice(u[:, _U["hour"]], _HOUR_PROBS).astype(float)
    f["send_weekday"] = _choice(u[:, _U["weekday"]], _PROBS["send_weekday"])

    log_size = _LOG_SIZE_BY_INDUSTRY[f["industry"]] + 1.3 * z[:, _Z["company_size"]]
    f["company_size"] = np.clip(np.round(np.exp(log_size)), 1.0, 500_000.0)
    subject = _SUBJECT_BY_TEMPLATE[f["template"]] + 11.0 * z[:, _Z["subject"]]
    f["subject_length"] = np.clip(np.round(subject), 15.0, 90.0)
    executive = f["title_seniority"] <= 1  # people research executives harder
    personal_logit = -0.45 + 0.35 * executive + 1.1 * z[:, _Z["personal"]]
    f["personalization_score"] = np.round(1.0 / (1.0 + np.exp(-personal_logit)), 4)

    # History: follow-ups always have one; first touches sometimes (earlier campaigns).
    touched = (step > 0) | (u[:, _U["touched"]] < 0.30)
    opened = touched & (u[:, _U["opens_any"]] >= 0.45)
    opens = np.where(opened, 1.0 + _geometric(u[:, _U["opens_n"]], 0.45), 0.0)
    replied = opened & (u[:, _U["replies_any"]] < 0.15)
    replies = np.where(replied, 1.0 + _geometric(u[:, _U["replies_n"]], 0.70), 0.0)
    f["past_opens"] = opens
    f["past_replies"] = np.minimum(replies, opens)
    gap_followup = 2.0 + np.round(np.exp(math.log(3.0) + 0.5 * z[:, _Z["days"]]))
    gap_old = np.clip(np.round(np.exp(math.log(90.0) + 0.8 * z[:, _Z["days"]])), 8.0, 730.0)
    days = np.where(step > 0, gap_followup, gap_old)
    f["days_since_last_touch"] = np.where(touched, days, NEVER_TOUCHED)
    return f


def _tilted(probs: np.ndarray, magnitude: float) -> np.ndarray:
    weights = probs * np.exp(1.2 * magnitude * np.linspace(1.0, -1.0, len(probs)))
    return weights / weights.sum()


def _apply_covariate_shift(
    f: dict[str, np.ndarray],
    u: np.ndarray,
    mask: np.ndarray,
    features: Sequence[str],
    magnitude: float,
) -> None:
    m = magnitude
    touched = f["days_since_last_touch"] != NEVER_TOUCHED
    for name in features:
        k = _N_BASE_U + _FEATURE_INDEX[name]
        ua = u[:, k]
        ub = u[:, k + _N_FEAT]
        old = f[name]
        if FEATURES[name] == "categorical":
            new = _choice(ua, _tilted(_PROBS[name], m))
        elif name == "company_size":
            new = np.clip(np.round(old * math.exp(1.0 * m)), 1.0, 500_000.0)
        elif name == "subject_length":
            new = np.clip(old + np.round(15.0 * m), 15.0, 90.0)
        elif name == "personalization_score":
            new = np.round(old ** (1.0 / (1.0 + m)), 4)
        elif name == "send_hour":
            new = (old + round(3.0 * m)) % 24.0
        elif name == "followup_step":
            new = np.minimum(old + (ua < min(1.0, 0.6 * m)), 4.0)
        elif name == "past_opens":
            new = np.where(touched, old + np.round(-np.log1p(-ua) * 2.0 * m), old)
        elif name == "past_replies":
            new = np.where(touched, old + (ub < min(1.0, 0.3 * m)), old)
        elif name == "days_since_last_touch":
            new = np.where(touched, np.round(old * (1.0 + m)), old)
        else:  # pragma: no cover - every feature is handled above
            raise AssertionError(name)
        f[name] = np.where(mask, new, old)


def _apply_new_categories(
    f: dict[str, np.ndarray],
    u: np.ndarray,
    mask: np.ndarray,
    features: Sequence[str],
    magnitude: float,
) -> None:
    share = min(0.9, 0.3 * magnitude)
    if share <= 0.0:
        return
    for name in features:
        ua = u[:, _N_BASE_U + _FEATURE_INDEX[name]]
        n_new = len(NEW_CATEGORIES[name])
        base = len(CATEGORIES[name])
        new_code = base + np.minimum((ua / share * n_new).astype(np.int64), n_new - 1)
        f[name] = np.where(mask & (ua < share), new_code, f[name])


def _log_odds(
    f: dict[str, np.ndarray],
    *,
    known_only: bool = False,
    intercept: float = _INTERCEPT,
    personalization_coef: float = _PERSONALIZATION_COEF,
    hour_multiplier: float = 1.0,
    followup_coef: float = _FOLLOWUP_COEF,
) -> np.ndarray:
    effects = _KNOWN_EFFECT_ARRAYS if known_only else _EFFECT_ARRAYS
    out = np.full(len(f["send_hour"]), intercept)
    for name in CATEGORICAL_FEATURES:
        out += effects[name][f[name]]
    out += -0.15 * (np.log(f["company_size"]) - math.log(150.0))
    out += -0.6 * ((f["subject_length"] - 40.0) / 20.0) ** 2
    out += personalization_coef * (f["personalization_score"] - 0.4)
    out += hour_multiplier * _HOUR_EFFECT[f["send_hour"].astype(np.int64)]
    out += followup_coef * (f["followup_step"] - _FOLLOWUP_CENTER)
    out += 0.30 * np.log1p(f["past_opens"])
    out += 0.70 * np.log1p(f["past_replies"])
    days = f["days_since_last_touch"]
    out += np.select(
        [days == NEVER_TOUCHED, days <= 3.0, days <= 14.0, days <= 90.0],
        [-0.10, -0.20, 0.15, 0.0],
        default=-0.10,
    )
    return out


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


def generate_sends(
    start: datetime,
    end: datetime,
    *,
    seed: int = 7,
    sends_per_hour: int = 100,
    scenario: str = "none",
    drift_start: datetime | None = None,
    drift_features: tuple[str, ...] | None = None,
    magnitude: float = 1.0,
    label_delay_hours: float = LABEL_DELAY_HOURS,
) -> pd.DataFrame:
    """Synthetic sends with ``start <= sent_at < end`` (naive UTC), sorted by ``sent_at``.

    ``scenario`` changes rows with ``sent_at >= drift_start`` (default: ``start``):

    - ``covariate_shift``: distributions of ``drift_features`` move (numerics: location/scale,
      categoricals: reweighted); the outcome stays the same function of the inputs.
    - ``new_categories``: unseen categories (``NEW_CATEGORIES``) take ~30% of ``drift_features``.
    - ``missing_surge``: ~30% of the values of ``drift_features`` go missing (NaN); outcomes
      still follow the true, unrecorded values.
    - ``concept_drift``: same inputs, new outcome function (personalization stops helping, the
      send-hour effect flips, follow-ups help instead of hurting).
    - ``label_shift``: same inputs, the engagement odds halve.
    - ``audience_shift``: a new audience: the covariate shift of ``drift_features`` and the
      concept drift together (what monitoring sees, and what makes a retrained model better).

    ``magnitude`` scales every effect (0 = no change). ``outcome_at`` is when the outcome became
    known: for an engagement a uniform time within ``label_delay_hours`` of ``sent_at``, for no
    engagement exactly ``label_delay_hours`` after it (only then is "no" final).
    """
    _validate_scenario(scenario)
    features = _resolve_drift_features(scenario, drift_features)
    if not (isinstance(magnitude, int | float) and math.isfinite(magnitude) and magnitude >= 0):
        raise ValueError(f"magnitude must be a finite number >= 0, got {magnitude!r}")
    if sends_per_hour < 0:
        raise ValueError(f"sends_per_hour must be >= 0, got {sends_per_hour!r}")
    start = to_naive_utc(start)
    end = to_naive_utc(end)
    if start < _EPOCH:
        raise ValueError(f"start must be on or after 1970-01-01, got {start.isoformat()}")
    drift_from = start if drift_start is None else to_naive_utc(drift_start)
    if end <= start:
        return _empty_frame()

    first_hour = _hour_index(start)
    last_hour = -(-(end - _EPOCH) // timedelta(hours=1))  # ceiling
    hour, u, z = _draw_hours(first_hour, last_hour, seed, sends_per_hour)

    seconds = hour * 3600 + np.floor(u[:, _U["offset"]] * 3600.0).astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    hour, u, z, seconds = hour[order], u[order], z[order], seconds[order]
    sent_at = seconds.astype("datetime64[s]").astype("datetime64[us]")
    keep = (sent_at >= np.datetime64(start, "us")) & (sent_at < np.datetime64(end, "us"))
    # Position of each row within its hour (before trimming: ids do not depend on the range).
    first_of_hour = np.searchsorted(hour, hour, side="left")
    position = np.arange(len(hour)) - first_of_hour
    hour, u, z, sent_at, position = hour[keep], u[keep], z[keep], sent_at[keep], position[keep]
    if len(hour) == 0:
        return _empty_frame()

    f = _base_features(u, z)
    drifted = sent_at >= np.datetime64(drift_from, "us")
    m = float(magnitude)
    if scenario in ("covariate_shift", "audience_shift"):
        _apply_covariate_shift(f, u, drifted, features, m)
    elif scenario == "new_categories":
        _apply_new_categories(f, u, drifted, features, m)

    # Production model: the undrifted outcome function, blind to unseen categories, plus noise.
    score_logit = _log_odds(f, known_only=True) + _NOISE_SD * z[:, _Z["score"]]
    score = np.clip(_sigmoid(score_logit), 1e-6, 1.0 - 1e-6)
    true_logit = _log_odds(f)
    if scenario in ("concept_drift", "audience_shift"):
        drifted_logit = _log_odds(
            f,
            personalization_coef=_PERSONALIZATION_COEF * (1.0 - m),
            hour_multiplier=1.0 - 2.0 * m,
            followup_coef=_FOLLOWUP_COEF * (1.0 - 2.0 * m),
        )
        true_logit = np.where(drifted, drifted_logit, true_logit)
    elif scenario == "label_shift":
        true_logit = np.where(drifted, true_logit + m * math.log(0.5), true_logit)
    engaged = (u[:, _U["engaged"]] < _sigmoid(true_logit)).astype(np.int64)

    # Missing values: a little at baseline (enrichment gaps), a lot under missing_surge.
    missing = {name: np.zeros(len(hour), dtype=bool) for name in FEATURES}
    missing["company_size"] |= u[:, _U["missing_company_size"]] < 0.02
    missing["industry"] |= u[:, _U["missing_industry"]] < 0.01
    if scenario == "missing_surge":
        share = min(0.95, 0.3 * m)
        for name in features:
            missing[name] |= drifted & (u[:, _N_BASE_U + _FEATURE_INDEX[name]] < share)

    # An engagement is known when it happens (within the delay); "did not engage" is only final
    # once the delay has passed. Early labels are therefore biased towards positives.
    delay_s = round(label_delay_hours * 3600)
    seen_after = np.floor(u[:, _U["jitter"]] * delay_s).astype(np.int64)
    outcome_at = sent_at + np.where(engaged == 1, seen_after, delay_s).astype("timedelta64[s]")
    stamps = pd.to_datetime(hour * 3600, unit="s").strftime("%Y%m%d%H").to_numpy(dtype=object)
    send_id = [f"{seed}-{s}-{p}" for s, p in zip(stamps, position.tolist(), strict=True)]

    data: dict[str, Any] = {
        ID_COLUMN: pd.Series(send_id, dtype="str"),
        TIME_COLUMN: pd.Series(sent_at, dtype="datetime64[us]"),
    }
    for name, kind in FEATURES.items():
        if kind == "numeric":
            data[name] = pd.Series(np.where(missing[name], np.nan, f[name]), dtype="float64")
        else:
            labels = np.array(_ALL_CATEGORIES[name], dtype=object)[f[name]]
            labels[missing[name]] = None
            data[name] = pd.Series(labels, dtype="str")
    data[SCORE_COLUMN] = pd.Series(score, dtype="float64")
    data[LABEL_COLUMN] = pd.Series(engaged, dtype="int64")
    data[LABEL_TIME_COLUMN] = pd.Series(outcome_at, dtype="datetime64[us]")
    return pd.DataFrame(data, columns=list(COLUMNS))


# ---------------------------------------------------------------------------------------------
# Writing to a database.
# ---------------------------------------------------------------------------------------------
def write_sends(
    engine: sa.Engine,
    frame: pd.DataFrame,
    *,
    start: datetime,
    end: datetime,
    table: str = TABLE,
) -> int:
    """Replace the sends with ``start <= sent_at < end`` by ``frame``, in one transaction
    (:func:`synthetic_source.replace_range`). Returns rows written."""
    return replace_range(
        engine,
        sends_table(sa.MetaData(), table),
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
    """Generate [start, end) day by day and write each day with :func:`write_sends`; reruns
    replace days rather than duplicate them."""
    return seed_by_day(
        start,
        end,
        lambda day, nxt: generate_sends(day, nxt, **generate_kwargs),
        lambda frame, day, nxt: write_sends(engine, frame, start=day, end=nxt, table=table),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m email_engagement.generator",
        description="Write synthetic cold-email sends for [start, end) into a database.",
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL, e.g. sqlite:///sends.db")
    parser.add_argument("--start", required=True, help="first send time (UTC), e.g. 2026-06-01")
    parser.add_argument("--end", required=True, help="end of the range (UTC, exclusive)")
    parser.add_argument("--scenario", default="none", choices=SCENARIOS)
    parser.add_argument("--drift-start", default=None, help="drift begins here (default: start)")
    parser.add_argument(
        "--drift-features", default=None, help="comma-separated features the scenario changes"
    )
    parser.add_argument("--magnitude", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sends-per-hour", type=int, default=100)
    parser.add_argument("--table", default=TABLE)
    args = parser.parse_args(argv)
    drift_features = (
        tuple(x.strip() for x in args.drift_features.split(",") if x.strip())
        if args.drift_features
        else None
    )
    engine = sa.create_engine(args.url)
    try:
        rows = seed_source(
            engine,
            to_naive_utc(args.start),
            to_naive_utc(args.end),
            table=args.table,
            seed=args.seed,
            sends_per_hour=args.sends_per_hour,
            scenario=args.scenario,
            drift_start=None if args.drift_start is None else to_naive_utc(args.drift_start),
            drift_features=drift_features,
            magnitude=args.magnitude,
        )
    finally:
        engine.dispose()
    print(f"wrote {rows} rows to table {args.table!r} ({args.scenario}, {args.start}..{args.end})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
