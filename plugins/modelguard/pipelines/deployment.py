"""The champion/challenger gate end to end, without Airflow: evaluate, deploy or reject, verify,
roll back.

Each step takes the verdict of the step before as a small :class:`GateVerdict` (its ``to_dict()``
is what travels through XCom and what the registry stores with a promotion or rejection), so the
operators stay thin and a rerun of one step needs nothing but its inputs. Every check that
can refuse (no champion, no challenger, schema mismatch, too few labels, corrupted artifact,
stale decision) runs before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.window import Window
from modelguard.exceptions import InsufficientDataError, RegistryError, SchemaMismatchError


@dataclass(frozen=True)
class GateVerdict:
    """The gate's verdict on one challenger: the evaluation's decision and the numbers the later
    steps need (who was compared, what the challenger is expected to achieve, the windows). The
    full :class:`modelguard.deployment.evaluation.EvaluationResult` is in the registry's
    ``evaluated`` event."""

    decision: str
    reasons: tuple[str, ...]
    challenger_id: int
    challenger: str
    champion_id: int
    champion: str
    test: str
    pvalue: float
    b: int
    c: int
    n: int
    primary_metric: str
    improvement: float | None
    expected_metric: float | None
    champion_metric: float | None
    validation_window: tuple[str, str]
    post_deployment_window: tuple[str, str]
    as_of: str

    def to_dict(self) -> dict[str, Any]:
        """The XCom, and the ``evaluation`` stored with a promotion or rejection."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "challenger_id": self.challenger_id,
            "challenger": self.challenger,
            "champion_id": self.champion_id,
            "champion": self.champion,
            "test": self.test,
            "pvalue": self.pvalue,
            "b": self.b,
            "c": self.c,
            "n": self.n,
            "primary_metric": self.primary_metric,
            "improvement": self.improvement,
            "expected_metric": self.expected_metric,
            "champion_metric": self.champion_metric,
            "validation_window": list(self.validation_window),
            "post_deployment_window": list(self.post_deployment_window),
            "as_of": self.as_of,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateVerdict:
        """Inverse of :meth:`to_dict`."""
        from modelguard.core.records import fields_from_dict
        from modelguard.exceptions import MalformedResultError

        values = fields_from_dict(cls, data)
        values["reasons"] = tuple(str(r) for r in values["reasons"])
        for key in ("validation_window", "post_deployment_window"):
            window = values[key]
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise MalformedResultError(
                    f"GateVerdict.from_dict: {key!r} must be [start, end]; got {window!r}"
                )
            values[key] = (str(window[0]), str(window[1]))
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value") -> GateVerdict:
        """What the evaluation task pushed, read back (MalformedResultError naming the task)."""
        from modelguard.core.records import from_xcom

        return from_xcom(cls, value, task_id, key)


def read_labelled(source_engine, config: ModelguardConfig, window: Window, as_of: datetime):
    """Sends of ``window`` whose outcome had matured by ``as_of``: features and label only
    (:func:`modelguard.storage.source.read_matured`, the one reader of matured labels)."""
    from modelguard.storage.source import read_matured

    src = config.source
    labelled = read_matured(
        source_engine,
        src.table,
        src.time_column,
        src.label_column,
        src.label_time_column,
        window,
        as_of,
        [*config.features, src.label_column],
    )
    labelled[src.label_column] = labelled[src.label_column].astype(int)
    return labelled


def schema_difference(champion: dict[str, str], challenger: dict[str, str]) -> list[str]:
    """Human-readable differences between two feature schemas (empty when equal)."""
    diffs = [f"missing {c!r}" for c in champion if c not in challenger]
    diffs += [f"extra {c!r}" for c in challenger if c not in champion]
    diffs += [
        f"{c!r} is {challenger[c]} (champion: {t})"
        for c, t in champion.items()
        if c in challenger and challenger[c] != t
    ]
    return diffs


def evaluate_challenger(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    as_of: datetime,
    challenger_id: int | None = None,
    run_id: str | None = None,
    log=None,
) -> GateVerdict:
    """McNemar gate of the challenger against the champion; the result goes to the registry."""
    from modelguard.deployment.evaluation import compare, gate_windows
    from modelguard.storage.registry import ModelRegistry

    name = config.model.name
    registry = ModelRegistry(registry_engine, config.storage.artifact_root)
    registry.ensure_schema()
    champion = registry.get_champion(name)
    if challenger_id is None:
        challenger = registry.latest_challenger(name)
    else:
        challenger = registry.get_version(challenger_id)
    if challenger.model_name != name or challenger.status != "challenger":
        raise RegistryError(
            f"version id {challenger.id} is {challenger.label} with status {challenger.status!r};"
            f" only a challenger of {name!r} can be evaluated"
        )
    diffs = schema_difference(champion.feature_schema, challenger.feature_schema)
    if diffs:
        raise SchemaMismatchError(
            f"{challenger.label} does not take the champion's features ({champion.label}): "
            + "; ".join(diffs)
        )
    validation, post = gate_windows(as_of, config.deployment, config.source.label_delay_hours)
    frame = read_labelled(source_engine, config, validation, as_of)
    needed = config.deployment.min_validation_rows
    if len(frame) < needed:
        raise InsufficientDataError(
            f"validation window {validation} has {len(frame)} rows with matured labels as of "
            f"{as_of:%Y-%m-%d %H:%M}, fewer than deployment.min_validation_rows ({needed}); "
            "wait for labels to mature or widen deployment.validation_window_days"
        )
    champion_model = registry.load_model(champion)
    challenger_model = registry.load_model(challenger)
    result = compare(
        champion_model,
        challenger_model,
        frame,
        config.source.label_column,
        config=config.deployment,
    )
    summary = "; ".join(result.reasons)
    registry.record_evaluation(
        name, challenger.id, champion.id, result.to_dict(), run_id=run_id, reason=summary
    )
    if log:
        log.info(
            "Evaluated %s against %s on %s: %s",
            challenger.label,
            champion.label,
            validation,
            summary,
        )
    metric = result.primary_metric
    return GateVerdict(
        decision=result.decision,
        reasons=tuple(result.reasons),
        challenger_id=challenger.id,
        challenger=challenger.label,
        champion_id=champion.id,
        champion=champion.label,
        test=result.test,
        pvalue=result.pvalue,
        b=result.b,
        c=result.c,
        n=result.n,
        primary_metric=metric,
        improvement=result.improvement,
        expected_metric=getattr(result.challenger, metric),
        champion_metric=getattr(result.champion, metric),
        validation_window=(validation.start.isoformat(), validation.end.isoformat()),
        post_deployment_window=(post.start.isoformat(), post.end.isoformat()),
        as_of=as_of.isoformat(),
    )


def deploy_challenger(
    *, config, registry_engine, verdict: GateVerdict, run_id=None, log=None, approval=None
):
    """Promote the evaluated challenger; refuses a stale decision (the champion changed).

    ``approval`` (:class:`modelguard.pipelines.approval.ApprovalAnswer`): with
    ``deployment.approval: human``, the person's answer, which must approve this challenger;
    it is stored with the promotion and named in its reason."""
    from modelguard.storage.registry import ModelRegistry

    if verdict.decision != "deploy":
        raise RegistryError(
            f"the evaluation decided {verdict.decision!r}, not 'deploy': "
            + "; ".join(verdict.reasons)
        )
    reason = "; ".join(verdict.reasons)
    if approval is not None:
        from modelguard.pipelines.approval import APPROVED, approval_note, check_answer

        check_answer(approval, verdict, APPROVED)
        reason = f"{approval_note(approval)}; {reason}"
    promoted = ModelRegistry(registry_engine, config.storage.artifact_root).promote(
        config.model.name,
        verdict.challenger_id,
        expected_champion_id=verdict.champion_id,
        run_id=run_id,
        reason=reason,
        evaluation=verdict.to_dict(),
        # Monitoring judges intervals after the gate's as_of with the new champion.
        effective_at=datetime.fromisoformat(verdict.as_of) if verdict.as_of else None,
        approval=None if approval is None else approval.to_dict(),
    )
    if log:
        log.info("Promoted %s (was %s)", promoted.label, verdict.champion)
    return {"champion_id": promoted.id, "champion": promoted.label}


def reject_challenger(*, config, registry_engine, verdict: GateVerdict, run_id=None, log=None):
    from modelguard.storage.registry import ModelRegistry

    rejected = ModelRegistry(registry_engine, config.storage.artifact_root).reject(
        config.model.name,
        verdict.challenger_id,
        run_id=run_id,
        reason="; ".join(verdict.reasons),
        evaluation=verdict.to_dict(),
    )
    if log:
        log.info("Rejected %s: %s", rejected.label, "; ".join(verdict.reasons))
    return {"rejected_id": rejected.id, "rejected": rejected.label}


def check_deployment(
    *,
    config,
    source_engine,
    registry_engine,
    verdict: GateVerdict,
    as_of: datetime,
    run_id: str | None = None,
    log=None,
) -> dict[str, Any]:
    """The deployed champion on the freshest matured window vs what its evaluation promised."""
    from modelguard.deployment.evaluation import post_deployment_check
    from modelguard.storage.registry import ModelRegistry

    registry = ModelRegistry(registry_engine, config.storage.artifact_root)
    champion = registry.get_champion(config.model.name)
    if champion.id != verdict.challenger_id:
        return {
            "status": "skipped",
            "reason": f"the champion is {champion.label}, not the deployed version id "
            f"{verdict.challenger_id}: nothing to verify",
            "champion_id": champion.id,
        }
    start, end = (datetime.fromisoformat(t) for t in verdict.post_deployment_window)
    window = Window(start, end)
    frame = read_labelled(source_engine, config, window, as_of)
    check = post_deployment_check(
        registry.load_model(champion),
        frame,
        config.source.label_column,
        expected=verdict.expected_metric,
        config=config.deployment,
    )
    out = {
        **check.to_dict(),
        "champion_id": champion.id,
        "window": [start.isoformat(), end.isoformat()],
    }
    registry.record_check(config.model.name, champion.id, out, run_id=run_id, reason=check.reason)
    if log:
        log.info("Post-deployment check of %s on %s: %s", champion.label, window, check.reason)
    return out


def rollback_champion(
    *,
    config,
    registry_engine,
    reason: str,
    target_version_id: int | None = None,
    expected_champion_id: int | None = None,
    effective_at: datetime | None = None,
    run_id: str | None = None,
    log=None,
) -> dict[str, Any]:
    """Restore the previous (or a named) version; RollbackFailedError needs a person.

    ``effective_at``: the data time from which monitoring judges with the restored version."""
    from modelguard.storage.registry import ModelRegistry

    result = ModelRegistry(registry_engine, config.storage.artifact_root).rollback(
        config.model.name,
        target_version_id=target_version_id,
        run_id=run_id,
        reason=reason,
        max_attempts=config.deployment.max_rollback_attempts,
        expected_champion_id=expected_champion_id,
        effective_at=effective_at,
    )
    if log:
        log.warning(
            "Rolled back %s; champion is now %s (%s)",
            result.rolled_back.label,
            result.restored.label,
            reason,
        )
    return {
        "restored_id": result.restored.id,
        "restored": result.restored.label,
        "rolled_back_id": result.rolled_back.id,
        "rolled_back": result.rolled_back.label,
        "failed_attempts": result.failed_attempts,
    }
