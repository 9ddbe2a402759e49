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
from modelguard.core.timing import phase
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
    n_partitions: int | None = None,
) -> DriftCheckResult:
    """Judge the window and record the verdict. The window is read here, or, with
    ``n_partitions``, is the merge of the summary files the partitions' tasks wrote
    (:func:`summarise_partition`); the verdict, report, stored rows and result are the same
    either way (one decision path: :func:`~modelguard.drift.detection.detect_drift` is
    summarise-then-decide)."""
    from functools import partial

    from modelguard.drift.detection import detect_drift, detect_drift_from_summary

    champion, profile = _judge_with(config, registry_engine, window, judge_with)
    if n_partitions is None:
        frame = _read_features(config, source_engine, profile, window, log)
        decide = partial(detect_drift, profile, frame)
    else:
        merged = _merged_partitions(config, champion, window, n_partitions, dag_id, log)
        decide = partial(detect_drift_from_summary, profile, merged)
    bad_times = _unparseable_times(config, source_engine, log)
    with phase("compute"):
        report = decide(
            config=thresholds,
            model_name=champion.model_name,
            model_version=champion.version,
            window={"start": window.start.isoformat(), "end": window.end.isoformat()},
        )
    return _record(config, registry_engine, report, champion, bad_times, window, dag_id, run_id)


@dataclass(frozen=True)
class PartitionResult:
    """What one summarise_partition task pushes to XCom: where its file is, never the data."""

    partition: int
    n_partitions: int
    uri: str
    n_rows: int
    window_start: str
    window_end: str

    def to_xcom(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarise_partition(
    *,
    config: ModelguardConfig,
    source_engine,
    registry_engine,
    window: Window,
    partition: int,
    n_partitions: int,
    dag_id: str,
    judge_with: str = CHAMPION_AT_INTERVAL_END,
    log=None,
) -> PartitionResult:
    """One partition of a partitioned drift check: read only its part of the window
    (:func:`~modelguard.core.window.split_window`), summarise it against the champion's
    profile and write the summary file (replacing a rerun's). Judges nothing: an empty
    partition or one without a feature's values is fine, the merge decides."""
    from modelguard.drift.summary import summarise
    from modelguard.storage.partitions import partition_dir, partition_path, write_partition

    part = _partition_window(window, partition, n_partitions)
    champion, profile = _judge_with(config, registry_engine, window, judge_with)
    frame = _read_features(config, source_engine, profile, part, log)
    with phase("compute"):
        summary = summarise(profile, frame, what=f"current window (partition {partition} {part})")
    meta = _partition_meta(dag_id, window, part, partition, n_partitions, champion.id)
    folder = partition_dir(config.storage.report_root, dag_id, window)
    with phase("write"):
        path = write_partition(partition_path(folder, partition, n_partitions), summary, meta)
    return PartitionResult(
        partition=partition,
        n_partitions=n_partitions,
        uri=path.as_uri(),
        n_rows=summary.n_rows,
        window_start=part.start.isoformat(),
        window_end=part.end.isoformat(),
    )


def merge_and_decide(*, n_partitions: int, **kwargs: Any) -> DriftCheckResult:
    """The verdict of a partitioned drift check: :func:`run_drift_check` on the partitions'
    files (read back and checked: this run's window, partition and champion, merged in time
    order); the same report, stored rows and result as the one-task check."""
    return run_drift_check(n_partitions=n_partitions, **kwargs)


def _merged_partitions(
    config: ModelguardConfig, champion, window: Window, n_partitions: int, dag_id: str, log
):
    from modelguard.drift.summary import merge
    from modelguard.exceptions import SummaryMismatchError
    from modelguard.storage.partitions import partition_dir, partition_path, read_partition

    folder = partition_dir(config.storage.report_root, dag_id, window)
    summaries = []
    for i in range(n_partitions):
        part = _partition_window(window, i, n_partitions)
        where = f"drift partition {i} of {n_partitions} {part}"
        with phase("read"):
            summary, meta = read_partition(partition_path(folder, i, n_partitions), where)
        expected = _partition_meta(dag_id, window, part, i, n_partitions, champion.id)
        if meta != expected:
            raise SummaryMismatchError(
                f"{where} was written for {meta!r:.300}, not for this run's {expected!r:.300} "
                "(another champion or window); clear the run's drift partitions to run them again"
            )
        summaries.append(summary)
    with phase("compute"):
        merged = merge(summaries)
    if log:
        log.info("Merged %d partitions: %d rows for %s", n_partitions, merged.n_rows, window)
    return merged


def _read_features(config: ModelguardConfig, source_engine, profile, window: Window, log):
    """The window's send times and the profile's feature columns, nothing else."""
    from modelguard.storage.source import read_window

    columns = [config.source.time_column, *profile.features]
    with phase("read"):
        frame = read_window(
            source_engine, config.source.table, config.source.time_column, window, columns
        )
    if log:
        log.info("Read %d rows of %s for %s", len(frame), config.source.table, window)
    return frame


def _partition_window(window: Window, index: int, n: int) -> Window:
    from modelguard.core.window import split_window
    from modelguard.exceptions import DataValidationError

    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        raise DataValidationError(f"drift partition {index!r} is not one of 0..{n - 1}")
    return split_window(window, n)[index]


def _partition_meta(
    dag_id: str, window: Window, part: Window, index: int, n: int, version_id: int
) -> dict[str, Any]:
    """What a partition file says it is, checked by the merge."""
    return {
        "dag_id": dag_id,
        "window": [window.start.isoformat(), window.end.isoformat()],
        "partition": [index, n],
        "part": [part.start.isoformat(), part.end.isoformat()],
        "model_version_id": version_id,
    }


def _judge_with(config: ModelguardConfig, registry_engine, window: Window, judge_with: str):
    """(champion, profile) the window is judged with."""
    from modelguard.drift.detection import ReferenceProfile
    from modelguard.storage.registry import ModelRegistry

    with phase("registry"):
        registry = ModelRegistry(registry_engine, config.storage.artifact_root)
        registry.ensure_schema()
        champion = judged_version(registry, config.model.name, window.end, judge_with)
    with phase("profile"):
        profile = ReferenceProfile.from_stored(champion.reference_profile, champion.profile_arrays)
    return champion, profile


def _unparseable_times(config: ModelguardConfig, source_engine, log):
    from modelguard.storage.source import unparseable_times

    with phase("read"):
        bad_times = unparseable_times(source_engine, config.source.table, config.source.time_column)
    if bad_times.count and log:
        log.warning("%s", bad_times.message())
    return bad_times


def _record(
    config: ModelguardConfig,
    registry_engine,
    report,
    champion,
    bad_times,
    window: Window,
    dag_id: str,
    run_id: str | None,
) -> DriftCheckResult:
    """Write the report files, replace the stored rows of (DAG, window), and return the
    verdict: the same for a whole-window and a partitioned check."""
    from modelguard.drift.report import summarize, write_drift_reports
    from modelguard.storage.paths import inside
    from modelguard.storage.results import DriftRunRecord, FeatureDriftRecord, ResultStore

    with phase("compute"):
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
