"""Champion/challenger evaluation: the deployment gate and the post-deployment check.

Both models score the same labelled validation rows; the decision is a paired McNemar test on
the rows where exactly one of them is right, plus a minimum improvement in the configured
primary metric and a minimum number of labelled rows. Pure core: numpy/scipy only, no Airflow,
no scikit-learn import (models only need ``predict_proba``).

Why accuracy pairs with McNemar: McNemar looks only at the discordant pairs, ``b`` rows the
champion gets right and the challenger wrong and ``c`` rows the reverse, and the difference in
accuracy between the two models on the same rows is exactly ``(c - b) / n``. With accuracy as
the primary metric the significance test and the improvement measure the same quantity: a
significant result says the accuracy gain is not chance, and ``min_improvement`` says it is
large enough to be worth a deployment. Other primary metrics (precision, recall, F1, ROC AUC) are
allowed, but then the two criteria part ways: significance is still about paired correctness
at the decision threshold, while the improvement is measured in a different metric (ROC AUC
does not even depend on the threshold), so a challenger can pass one criterion on evidence the
other does not see.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from modelguard.config import DeploymentConfig, section_with
from modelguard.core import stats
from modelguard.core.records import fields_from_dict
from modelguard.core.scoring import (
    ModelScores,
    binary_labels,
    check_threshold,
    positive_probabilities,
    require_predict_proba,
    score_model,
    scores_from_probabilities,
)
from modelguard.core.window import Window, to_naive_utc
from modelguard.exceptions import DataValidationError, InvalidArgumentError, MalformedResultError

__all__ = [
    "DECISIONS",
    "POST_DEPLOYMENT_STATUSES",
    "EvaluationResult",
    "PostDeploymentCheck",
    "compare",
    "gate_windows",
    "post_deployment_check",
    "resolve_deployment_config",
]

DECISIONS = ("deploy", "reject")
POST_DEPLOYMENT_STATUSES = ("passed", "failed", "inconclusive")

_TOLERANCE = 1e-12
"""Slack in ``>=`` comparisons of metrics with configured bounds, so that a difference of two
floats that is mathematically equal to the bound (0.92 - 0.05 vs 0.87) counts as reaching it."""

_UNDEFINED_BECAUSE = {
    "precision": "no positive predictions",
    "recall": "no positive labels",
    "f1": "no positive labels and no positive predictions",
    "roc_auc": "only one class among the labels",
}


def resolve_deployment_config(
    config: DeploymentConfig | None = None, **overrides: Any
) -> DeploymentConfig:
    """The ``deployment`` section (None = the repo's config via ``load_config``) with some keys
    replaced and validated like the file is; an override of None keeps the configured value."""
    if config is None:
        from modelguard.config import load_config

        config = load_config().deployment
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return section_with(config, "deployment", **overrides) if overrides else config


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class EvaluationResult:
    """Outcome of one champion/challenger comparison on one validation frame.

    ``b`` = rows the champion gets right and the challenger wrong, ``c`` the reverse;
    ``test`` / ``statistic`` / ``pvalue`` are the McNemar test on them (exact below 25
    discordant pairs). ``accuracy_chi2_*`` is the unpaired chi-square test of the two
    accuracies (table [correct, incorrect] x [champion, challenger], as
    scipy.stats.chi2_contingency with Yates' correction): informational only, since it ignores
    that both models scored the same rows. ``improvement`` = challenger - champion in
    ``primary_metric`` (None when that metric is undefined for either model). ``reasons`` holds
    every reason for a reject, or one summary for a deploy.
    """

    champion: ModelScores
    challenger: ModelScores
    n: int
    b: int
    c: int
    test: Literal["mcnemar_exact", "mcnemar_asymptotic"]
    statistic: float
    pvalue: float
    accuracy_chi2_statistic: float
    accuracy_chi2_pvalue: float
    primary_metric: str
    improvement: float | None
    decision: Literal["deploy", "reject"]
    reasons: tuple[str, ...]
    significance_level: float
    min_improvement: float
    threshold: float
    min_validation_rows: int

    @property
    def deploy(self) -> bool:
        return self.decision == "deploy"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (no NaN/inf, only builtin types); ``deploy`` is included for readers."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["champion"] = self.champion.to_dict()
        data["challenger"] = self.challenger.to_dict()
        data["reasons"] = list(self.reasons)
        data["deploy"] = self.deploy
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """Inverse of :meth:`to_dict` (the derived ``deploy`` key is ignored)."""
        values = fields_from_dict(cls, data)
        values["champion"] = ModelScores.from_dict(values["champion"])
        values["challenger"] = ModelScores.from_dict(values["challenger"])
        values["reasons"] = tuple(str(r) for r in values["reasons"])
        for key in ("n", "b", "c", "min_validation_rows"):
            values[key] = int(values[key])
        for key in (
            "statistic",
            "pvalue",
            "accuracy_chi2_statistic",
            "accuracy_chi2_pvalue",
            "significance_level",
            "min_improvement",
            "threshold",
        ):
            values[key] = float(values[key])
        if values["improvement"] is not None:
            values["improvement"] = float(values["improvement"])
        if values["decision"] not in DECISIONS:
            raise MalformedResultError(f"decision {values['decision']!r} is not one of {DECISIONS}")
        return cls(**values)


def compare(
    champion: Any,
    challenger: Any,
    validation_frame: Any,
    target: str,
    *,
    config: DeploymentConfig | None = None,
    **overrides: Any,
) -> EvaluationResult:
    """Decide whether ``challenger`` replaces ``champion``, both scored on the same rows.

    Deploy only when all hold: the challenger is right on more discordant rows (c > b), the
    McNemar p-value is below ``significance_level``, the improvement in ``primary_metric`` is
    at least ``min_improvement``, and the frame has at least ``min_validation_rows`` labelled
    rows. Otherwise reject, listing every condition that failed. A too-small (non-empty)
    frame is a reject, not an error: the caller decides whether that fails its task.

    ``config`` None reads the repo's config; ``overrides`` replace deployment keys (e.g.
    ``primary_metric="f1"``) and are validated like the config file.
    """
    cfg = resolve_deployment_config(config, **overrides)
    threshold = check_threshold(cfg.decision_threshold)
    y = binary_labels(validation_frame, target, "validation frame")
    X = validation_frame.drop(columns=[target])
    champion_scores, champion_pred = scores_from_probabilities(
        y, positive_probabilities(champion, X, y.size, "champion"), threshold
    )
    challenger_scores, challenger_pred = scores_from_probabilities(
        y, positive_probabilities(challenger, X, y.size, "challenger"), threshold
    )
    n = int(y.size)
    mc = stats.mcnemar(y, champion_pred, challenger_pred)
    b, c = mc.b, mc.c
    champion_correct = champion_pred == y
    challenger_correct = challenger_pred == y
    n_champion_right = int(np.count_nonzero(champion_correct))
    n_challenger_right = int(np.count_nonzero(challenger_correct))
    chi2_statistic, chi2_pvalue, _ = stats.chi2_from_counts(
        [n_champion_right, n - n_champion_right], [n_challenger_right, n - n_challenger_right]
    )

    metric = cfg.primary_metric
    if metric == "accuracy":
        # one division of exact counts: equals the difference of the two accuracies, without
        # the rounding of subtracting two floats
        improvement: float | None = (c - b) / n
    else:
        before, after = champion_scores.metric(metric), challenger_scores.metric(metric)
        improvement = None if before is None or after is None else after - before

    reasons = _reject_reasons(
        n=n,
        b=b,
        c=c,
        pvalue=mc.pvalue,
        metric=metric,
        improvement=improvement,
        champion=champion_scores,
        challenger=challenger_scores,
        cfg=cfg,
    )
    test = f"mcnemar_{mc.method}"
    if reasons:
        decision = "reject"
    else:
        decision = "deploy"
        p_s, alpha_s = _pair(mc.pvalue, cfg.significance_level)
        imp_s, min_s = _pair(improvement, cfg.min_improvement)
        reasons = [
            f"challenger better: c={c} > b={b}, McNemar p={p_s} < {alpha_s} ({test}), "
            f"improvement in {metric} {imp_s} >= min_improvement {min_s}, "
            f"on {n} labelled rows >= min_validation_rows {cfg.min_validation_rows}"
        ]
    return EvaluationResult(
        champion=champion_scores,
        challenger=challenger_scores,
        n=n,
        b=b,
        c=c,
        test=test,  # type: ignore[arg-type]
        statistic=_finite(mc.statistic, "McNemar statistic"),
        pvalue=_finite(mc.pvalue, "McNemar p-value"),
        accuracy_chi2_statistic=_finite(chi2_statistic, "accuracy chi-square statistic"),
        accuracy_chi2_pvalue=_finite(chi2_pvalue, "accuracy chi-square p-value"),
        primary_metric=metric,
        improvement=None if improvement is None else _finite(improvement, "improvement"),
        decision=decision,  # type: ignore[arg-type]
        reasons=tuple(reasons),
        significance_level=float(cfg.significance_level),
        min_improvement=float(cfg.min_improvement),
        threshold=threshold,
        min_validation_rows=int(cfg.min_validation_rows),
    )


def _reject_reasons(
    *,
    n: int,
    b: int,
    c: int,
    pvalue: float,
    metric: str,
    improvement: float | None,
    champion: ModelScores,
    challenger: ModelScores,
    cfg: DeploymentConfig,
) -> list[str]:
    reasons = []
    if n < cfg.min_validation_rows:
        reasons.append(
            f"validation window too small: {n} labelled rows < min_validation_rows "
            f"{cfg.min_validation_rows}"
        )
    if b > c:
        reasons.append(f"challenger worse: b={b} > c={c}")
    elif b == c:
        reasons.append(f"challenger not better: b={b} = c={c}")
    if not pvalue < cfg.significance_level:
        p_s, alpha_s = _pair(pvalue, cfg.significance_level)
        reasons.append(f"not significant: McNemar p={p_s} >= {alpha_s}")
    if improvement is None:
        undefined = [
            name
            for name, s in (("champion", champion), ("challenger", challenger))
            if s.metric(metric) is None
        ]
        reasons.append(
            f"improvement in {metric} undefined: {metric} is undefined for the "
            f"{' and the '.join(undefined)} ({_UNDEFINED_BECAUSE[metric]})"
        )
    elif improvement < cfg.min_improvement - _TOLERANCE:
        imp_s, min_s = _pair(improvement, cfg.min_improvement)
        reasons.append(f"improvement in {metric} {imp_s} below min_improvement {min_s}")
    return reasons


# --------------------------------------------------------------------------- windows


def gate_windows(
    as_of: datetime, config: DeploymentConfig, label_delay_hours: float
) -> tuple[Window, Window]:
    """The (validation, post_deployment) windows of send times whose labels are mature at
    ``as_of``.

    With M = ``as_of - label_delay_hours`` (the newest send whose outcome is known):
    post_deployment = [M - post_deployment_window_days, M) and validation =
    [M - post_deployment_window_days - validation_window_days, M - post_deployment_window_days).

    The post-deployment check runs on the freshest matured data, which the gate never saw: the
    gate evaluates the challenger on the older window, so a model that merely fits the
    validation window, or that the latest weeks have already overtaken, is caught on rows that
    played no part in the decision. (For that to hold, training data must end before the
    validation window starts.) Both windows are half-open and naive UTC.
    """
    if isinstance(label_delay_hours, bool) or not isinstance(label_delay_hours, numbers.Real):
        raise InvalidArgumentError(
            f"label_delay_hours must be a number >= 0; got {label_delay_hours!r}"
        )
    if not (math.isfinite(label_delay_hours) and label_delay_hours >= 0):
        raise InvalidArgumentError(
            f"label_delay_hours must be finite and >= 0; got {label_delay_hours}"
        )
    matured = to_naive_utc(as_of) - timedelta(hours=float(label_delay_hours))
    split = matured - timedelta(days=config.post_deployment_window_days)
    validation = Window(start=split - timedelta(days=config.validation_window_days), end=split)
    return validation, Window(start=split, end=matured)


# --------------------------------------------------------------------------- after deployment


@dataclass(frozen=True)
class PostDeploymentCheck:
    """The deployed model's primary metric on fresh matured rows against what the gate saw.

    ``status`` "failed" (observed < expected - max_drop) is the rollback signal; too few
    labelled rows or an undefined metric is "inconclusive": no rollback on too little evidence.
    """

    status: Literal["passed", "failed", "inconclusive"]
    metric: str
    observed: float | None
    expected: float
    max_drop: float
    n: int
    reason: str

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostDeploymentCheck:
        values = fields_from_dict(cls, data)
        if values["status"] not in POST_DEPLOYMENT_STATUSES:
            raise MalformedResultError(
                f"status {values['status']!r} is not one of {POST_DEPLOYMENT_STATUSES}"
            )
        values["n"] = int(values["n"])
        values["expected"] = float(values["expected"])
        values["max_drop"] = float(values["max_drop"])
        if values["observed"] is not None:
            values["observed"] = float(values["observed"])
        return cls(**values)


def post_deployment_check(
    model: Any,
    frame: Any,
    target: str,
    *,
    expected: float,
    config: DeploymentConfig | None = None,
    **overrides: Any,
) -> PostDeploymentCheck:
    """Check the deployed ``model`` on the post-deployment window (see :func:`gate_windows`).

    ``expected`` is the model's primary metric as the gate measured it (the challenger's
    score in its EvaluationResult); pass the same ``primary_metric`` and threshold the gate
    used. Passed when the observed metric >= ``expected - post_deployment_max_drop``.
    Fewer than ``min_validation_rows`` rows (an empty frame included) or an undefined metric
    give "inconclusive". Malformed input (missing target column, labels other than 0/1 or
    missing, a model without predict_proba) raises as in :func:`score_model`.
    """
    cfg = resolve_deployment_config(config, **overrides)
    if isinstance(expected, bool) or not isinstance(expected, numbers.Real):
        raise InvalidArgumentError(f"expected must be a number in [0, 1]; got {expected!r}")
    expected = float(expected)
    if not (math.isfinite(expected) and 0 <= expected <= 1):
        raise InvalidArgumentError(f"expected must be a metric value in [0, 1]; got {expected}")
    metric = cfg.primary_metric
    max_drop = float(cfg.post_deployment_max_drop)

    def result(status: str, observed: float | None, n: int, reason: str) -> PostDeploymentCheck:
        return PostDeploymentCheck(
            status=status,  # type: ignore[arg-type]
            metric=metric,
            observed=observed,
            expected=expected,
            max_drop=max_drop,
            n=n,
            reason=reason,
        )

    require_predict_proba(model, "model")
    if hasattr(frame, "columns") and target in frame.columns and len(frame) == 0:
        return result(
            "inconclusive",
            None,
            0,
            f"inconclusive: 0 labelled rows < min_validation_rows {cfg.min_validation_rows}; "
            "too little evidence to roll back",
        )
    scores, _ = score_model(model, frame, target, threshold=cfg.decision_threshold)
    observed = scores.metric(metric)
    n = scores.n
    if n < cfg.min_validation_rows:
        return result(
            "inconclusive",
            observed,
            n,
            f"inconclusive: {n} labelled rows < min_validation_rows {cfg.min_validation_rows}; "
            "too little evidence to roll back",
        )
    if observed is None:
        return result(
            "inconclusive",
            None,
            n,
            f"inconclusive: {metric} is undefined on the post-deployment window "
            f"({_UNDEFINED_BECAUSE[metric]}; {n} labelled rows)",
        )
    floor = expected - max_drop
    obs_s, floor_s = _pair(observed, floor)
    bound = f"expected {_fmt(expected)} - max_drop {_fmt(max_drop)} = {floor_s}"
    if observed >= floor - _TOLERANCE:
        return result("passed", observed, n, f"passed: {metric} {obs_s} >= {bound} on {n} rows")
    return result("failed", observed, n, f"failed: {metric} {obs_s} < {bound} on {n} rows")


# --------------------------------------------------------------------------- helpers


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _pair(value: float, bound: float) -> tuple[str, str]:
    """Both numbers short, unless rounding would make them print equal while they differ by
    more than the comparison tolerance."""
    a, b = _fmt(value), _fmt(bound)
    if a == b and abs(value - bound) > _TOLERANCE:
        return repr(float(value)), repr(float(bound))
    return a, b


def _finite(x: float, what: str) -> float:
    x = float(x)
    if not math.isfinite(x):  # never reaches XCom, the registry or a report as NaN/inf
        raise DataValidationError(f"the {what} came out as {x}; please report this input")
    return x
