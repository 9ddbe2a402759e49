"""Where a model stands, read from its stores without writing anything: the champion (since when,
its baseline metrics), its recent versions, the last monitoring verdicts and the open decisions.

An *open decision* is a ``retrain`` verdict whose retraining has not finished: never started
(a backfill, a paused or failed trigger), started with no challenger registered yet (running or
failed), or a challenger registered by that run that the gate has not judged yet. A retraining
run registers its challenger with the run id the decision recorded (``retraining_run_id``), which
is how the two are matched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from modelguard.config import ModelguardConfig
from modelguard.core.window import Window
from modelguard.exceptions import TableNotFoundError

NOT_STARTED = "not_started"
STARTED = "started"
AWAITING_GATE = "awaiting_gate"

_REGISTRY_TABLES = ["mg_model_versions", "mg_champions", "mg_model_events"]
_DECISIONS_TABLE = "mg_monitoring_decisions"
_JUDGED_EVENTS = ("evaluated", "rejected", "promoted")


@dataclass(frozen=True)
class VersionInfo:
    """One model version, without its profile and artifact bytes."""

    id: int
    version: int
    label: str
    status: str
    created_at: datetime
    strategy: str | None
    training_start: datetime | None
    training_end: datetime | None
    run_id: str | None
    metrics: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, v) -> VersionInfo:
        return cls(
            v.id,
            v.version,
            v.label,
            v.status,
            v.created_at,
            v.strategy,
            v.training_start,
            v.training_end,
            v.run_id,
            v.metrics,
        )


@dataclass(frozen=True)
class ChampionInfo:
    """The champion, when it became champion (wall time) and from which data time it judges
    monitoring intervals (None: the bootstrap, which judges everything before the next change)."""

    version: VersionInfo
    since: datetime | None
    effective_at: datetime | None
    how: str  # "bootstrap", "promotion" or "rollback"


@dataclass(frozen=True)
class Verdict:
    """One monitoring decision of one interval."""

    dag_id: str
    interval_start: datetime
    interval_end: datetime
    decision: str
    reason: str | None
    model_version_id: int | None
    decided_at: datetime
    retraining_started_at: datetime | None
    retraining_run_id: str | None
    judged_by: str | None  # the label of the version that judged the interval

    @classmethod
    def of(cls, d, labels: dict[int, str]) -> Verdict:
        return cls(
            d.dag_id,
            d.interval_start,
            d.interval_end,
            d.decision,
            d.reason,
            d.model_version_id,
            d.decided_at,
            d.retraining_started_at,
            d.retraining_run_id,
            labels.get(d.model_version_id),
        )

    @property
    def window(self) -> Window:
        return Window(self.interval_start, self.interval_end)

    @property
    def trigger_run_id(self) -> str:
        """The run id monitoring gives the retraining of this interval."""
        from modelguard.pipelines.retrain_decision import retraining_run_id

        return retraining_run_id(self.dag_id, self.window)


@dataclass(frozen=True)
class OpenDecision:
    """A ``retrain`` verdict whose retraining has not finished, what state it is in and what to
    do about it."""

    verdict: Verdict
    state: str  # NOT_STARTED, STARTED or AWAITING_GATE
    detail: str
    challenger: str | None = None


@dataclass(frozen=True)
class ModelStatus:
    model_name: str
    champion: ChampionInfo | None
    versions: list[VersionInfo]
    n_versions: int
    verdicts: list[Verdict]
    open_decisions: list[OpenDecision]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: datetimes as ISO strings."""
        return _jsonable(asdict(self))


def model_status(
    config: ModelguardConfig, registry_engine, *, versions: int = 5, verdicts: int = 10
) -> ModelStatus:
    """Read the status of ``config.model.name``; nothing is written (no table is created).

    Raises :class:`ConnectionFailedError` when the registry cannot be opened (a SQLite file that
    does not exist included) and :class:`TableNotFoundError` when it holds no registry tables.
    """
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.results import ResultStore
    from modelguard.storage.source import masked_url, missing_tables

    name = config.model.name
    missing = missing_tables(registry_engine, [*_REGISTRY_TABLES, _DECISIONS_TABLE])
    if any(t in missing for t in _REGISTRY_TABLES):
        raise TableNotFoundError(
            f"the registry {masked_url(registry_engine.url)} has no modelguard tables "
            f"({', '.join(t for t in _REGISTRY_TABLES if t in missing)} missing): nothing was "
            "ever registered there; check the URL or storage.registry_conn_id, or bootstrap the "
            "first champion with `modelguard bootstrap`"
        )
    registry = ModelRegistry(registry_engine)
    all_versions = registry.list_versions(name)
    events = registry.events(name)
    champion = _champion(registry, name, events)
    decisions = [] if _DECISIONS_TABLE in missing else ResultStore(registry_engine).decisions(name)
    labels = {v.id: v.label for v in all_versions}
    return ModelStatus(
        model_name=name,
        champion=champion,
        versions=[VersionInfo.of(v) for v in reversed(all_versions[-versions:])]
        if versions > 0
        else [],
        n_versions=len(all_versions),
        verdicts=[Verdict.of(d, labels) for d in decisions[:verdicts]],
        open_decisions=_open_decisions(name, decisions, all_versions, events, labels),
    )


def _champion(registry, name: str, events) -> ChampionInfo | None:
    from modelguard.exceptions import NoChampionError

    try:
        current = registry.get_champion(name)
    except NoChampionError:
        return None
    since = effective = None
    how = "bootstrap"
    for e in events:  # the last change that made it champion
        if e.event == "promoted" and e.version_id == current.id:
            how = "bootstrap" if (e.details or {}).get("bootstrap") else "promotion"
        elif (
            e.event == "rolled_back" and (e.details or {}).get("restored_version_id") == current.id
        ):
            how = "rollback"
        else:
            continue
        since = e.at
        text = (e.details or {}).get("effective_at")
        effective = datetime.fromisoformat(text) if isinstance(text, str) else None
    return ChampionInfo(VersionInfo.of(current), since, effective, how)


def _open_decisions(name, decisions, versions, events, labels) -> list[OpenDecision]:
    from modelguard.factory.ids import ModelDagIds

    retraining_dag = ModelDagIds(name).retraining
    by_run = {v.run_id: v for v in versions if v.run_id}
    judged = {e.version_id for e in events if e.event in _JUDGED_EVENTS}
    out = []
    for d in decisions:
        if d.decision != "retrain":
            continue
        verdict = Verdict.of(d, labels)
        if d.retraining_started_at is None:
            out.append(
                OpenDecision(
                    verdict,
                    NOT_STARTED,
                    "retraining never started (a backfill, or the trigger was paused or failed); "
                    f"start it with: airflow dags trigger {retraining_dag} --run-id "
                    f"{verdict.trigger_run_id} --conf "
                    f'\'{{"as_of": "{d.interval_end.isoformat()}+00:00"}}\'',
                )
            )
            continue
        challenger = by_run.get(d.retraining_run_id)
        if challenger is None:
            out.append(
                OpenDecision(
                    verdict,
                    STARTED,
                    f"retraining {d.retraining_run_id} started "
                    f"{d.retraining_started_at:%Y-%m-%d %H:%M}; no challenger registered yet "
                    "(running, or failed: see that DAG run)",
                )
            )
        elif challenger.status == "challenger" and challenger.id not in judged:
            out.append(
                OpenDecision(
                    verdict,
                    AWAITING_GATE,
                    f"{challenger.label} registered by {d.retraining_run_id}; the gate has not "
                    "judged it yet",
                    challenger.label,
                )
            )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
