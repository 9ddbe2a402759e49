"""One drift check of one window, end to end, without Airflow.

The operator only resolves connections and the window and calls ``run_drift_check``; keeping the
sequence here lets it be tested directly and reused by other orchestrators. Order matters for
"nothing partial": everything that can fail on bad input (no champion, missing columns, wrong
dtypes, too few rows) fails before any report file or row is written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelguard.config import DriftDetectionConfig, ModelguardConfig
from modelguard.core.window import Window

VERDICTS = ("major", "minor", "healthy")


@dataclass(frozen=True)
class DriftCheckResult:
    """The small verdict pushed to XCom: URIs and names, never data."""

    verdict: str
    dataset_drift: bool
    drifted_features: list[str]
    major_features: list[str]
    report_uri: str | None
    html_uri: str | None
    model_name: str
    model_version: int
    model_version_id: int
    window_start: str
    window_end: str
    n_rows: int
    summary: str
    # Rows of the source table whose send time is no date-time (they lie in no window):
    # UnparseableTimes.to_dict() (count, example), None when not measured.
    unparseable_times: dict[str, Any] | None = None

    def to_xcom(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftCheckResult:
        """Inverse of :meth:`to_xcom`."""
        from modelguard.core.records import fields_from_dict

        if isinstance(data, dict):
            data = {"unparseable_times": None, **data}  # pushed before it was measured
        values = fields_from_dict(cls, data)
        values["drifted_features"] = [str(f) for f in values["drifted_features"]]
        values["major_features"] = [str(f) for f in values["major_features"]]
        return cls(**values)

    @classmethod
    def from_xcom(cls, value: Any, task_id: str, key: str = "return_value") -> DriftCheckResult:
        """What the drift task pushed, read back (MalformedResultError naming the task)."""
        from modelguard.core.records import from_xcom

        return from_xcom(cls, value, task_id, key)


CHAMPION_AT_INTERVAL_END = "champion_at_interval_end"
CURRENT_CHAMPION = "current_champion"
JUDGE_WITH = (CHAMPION_AT_INTERVAL_END, CURRENT_CHAMPION)


def judged_version(registry, model_name: str, at, judge_with: str = CHAMPION_AT_INTERVAL_END):
    """The model version an interval ending at ``at`` is judged with: by default the champion
    of that time (so a reprocess repeats its first verdicts); ``current_champion`` re-judges
    history with today's champion, on purpose."""
    from modelguard.exceptions import ConfigError

    if judge_with == CHAMPION_AT_INTERVAL_END:
        return registry.champion_at(model_name, at)
    if judge_with == CURRENT_CHAMPION:
        return registry.get_champion(model_name)
    raise ConfigError(
        f"judge_with={judge_with!r} is not one of {', '.join(JUDGE_WITH)}: "
        "champion_at_interval_end judges each interval with the champion of its time"
    )


def report_dir(report_root: Path, dag_id: str, window: Window) -> Path:
    """One folder per (DAG, window): a rerun of the same window replaces its files.

    Resolved and confined to ``report_root`` (:func:`modelguard.storage.paths.inside`): a DAG
    id of ``..``, ``a/b`` or a symlinked DAG folder pointing out is an
    :class:`~modelguard.exceptions.UnsafePathError` before anything is written or deleted."""
    from modelguard.storage.paths import check_part, inside

    check_part(dag_id, what="DAG id")
    return inside(report_root, dag_id, window.label, root_name="storage.report_root")


def run_drift_check(
    *,
    config: ModelguardConfig,
    thresholds: DriftDetectionConfig,
    source_engine,
    registry_engine,
    window: Window,
    dag_id: str,
    run_id: str | None,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> DriftCheckResult:
    from modelguard.core.timing import phase
    from modelguard.drift.detection import ReferenceProfile, detect_drift
    from modelguard.drift.report import summarize, write_drift_reports
    from modelguard.storage.paths import inside
    from modelguard.storage.registry import ModelRegistry
    from modelguard.storage.results import DriftRunRecord, FeatureDriftRecord, ResultStore
    from modelguard.storage.source import read_window, unparseable_times

    with phase("registry"):
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)
        registry.ensure_schema()
        champion = judged_version(registry, config.model.name, window.end, judge_with)
    with phase("profile"):
        profile = ReferenceProfile.from_stored(champion.reference_profile, champion.profile_arrays)
    columns = [config.source.time_column, *profile.features]
    with phase("read"):
        frame = read_window(
            source_engine, config.source.table, config.source.time_column, window, columns
        )
        if log:
            log.info("Read %d rows of %s for %s", len(frame), config.source.table, window)
        bad_times = unparseable_times(source_engine, config.source.table, config.source.time_column)
    if bad_times.count and log:
        log.warning("%s", bad_times.message())
    with phase("compute"):
        report = detect_drift(
            profile,
            frame,
            config=thresholds,
            model_name=champion.model_name,
            model_version=champion.version,
            window={"start": window.start.isoformat(), "end": window.end.isoformat()},
        )
        report_dict = report.to_dict()
        summary = summarize(report_dict)

    with phase("write"):
        out_dir = report_dir(config.storage.report_root, dag_id, window)
        staging = inside(
            out_dir.parent, out_dir.name + ".partial", root_name="the DAG's report folder"
        )
        shutil.rmtree(staging, ignore_errors=True)
        write_drift_reports(report_dict, staging, title=f"Drift report: {champion.label}")
        shutil.rmtree(out_dir, ignore_errors=True)
        staging.rename(out_dir)
    json_path = out_dir / "drift_report.json"
    html_path = out_dir / "drift_report.html"

    store = ResultStore(registry_engine)
    with phase("write"):
        store.ensure_schema()
    common = dict(
        dag_id=dag_id,
        interval_start=window.start,
        interval_end=window.end,
        model_name=champion.model_name,
        model_version_id=champion.id,
        run_id=run_id,
    )
    run = DriftRunRecord(
        **common,
        verdict=report.verdict,
        dataset_drift=report.dataset_drift,
        n_reference=report.n_reference,
        n_current=report.n_current,
        report_uri=json_path.as_uri(),
        html_uri=html_path.as_uri(),
        summary={
            "text": summary,
            "drifted_features": report.drifted_features,
            "unparseable_times": bad_times.to_dict(),
        },
    )
    features = [
        FeatureDriftRecord(
            **common,
            feature=f.name,
            feature_type=f.type,
            psi=f.psi,
            ks_statistic=f.ks_statistic,
            ks_pvalue=f.ks_pvalue,
            chi2_statistic=f.chi2_statistic,
            chi2_pvalue=f.chi2_pvalue,
            pvalue_adjusted=f.pvalue_adjusted,
            effect_size=f.effect_size,
            severity=f.severity,
            drifted=f.drifted,
            reason=f.reason,
            missing_share_reference=f.missing_share_reference,
            missing_share_current=f.missing_share_current,
            new_categories=[{"category": c, "share": s} for c, s in f.new_categories.items()],
        )
        for f in report.features.values()
    ]
    with phase("write"):
        store.save_drift_run(run, features)
    return DriftCheckResult(
        verdict=report.verdict,
        dataset_drift=report.dataset_drift,
        drifted_features=report.drifted_features,
        major_features=[
            n for n, f in report.features.items() if f.drifted and f.severity == "major"
        ],
        report_uri=json_path.as_uri(),
        html_uri=html_path.as_uri(),
        model_name=champion.model_name,
        model_version=champion.version,
        model_version_id=champion.id,
        window_start=window.start.isoformat(),
        window_end=window.end.isoformat(),
        n_rows=report.n_current,
        summary=summary,
        unparseable_times=bad_times.to_dict(),
    )
