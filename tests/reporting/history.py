"""A week of stored monitoring history of one model, written through the stores' own APIs (the
registry's register/bootstrap/evaluate/promote/reject/rollback, the result store's writes, alert
rows inserted into ``mg_alerts``) and HTML drift reports on disk: what the report, the page and
its API are tested on, in process and on the real stack.

The period is ``[PERIOD_START, PERIOD_END)``; rows just outside it (and of another model) are
seeded too, so the filters are tested.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from modelguard.core.window import Window
from modelguard.drift.report import write_drift_reports
from modelguard.storage.alerts import AlertStore, alerts_table
from modelguard.storage.registry import ModelRegistry
from modelguard.storage.results import (
    DriftRunRecord,
    FeatureDriftRecord,
    MonitoringCheck,
    ResultStore,
)
from tests.drift.report.reports import make_report

MODEL = "email_engagement"
OTHER_MODEL = "churn"
DAG = f"{MODEL}_monitoring"
PERIOD_START = datetime(2026, 7, 1)
PERIOD_END = datetime(2026, 7, 8)
DELAY_HOURS = 72.0
MAJOR_END = datetime(2026, 7, 5)  # the interval [07-04, 07-05) has major drift
OUTSIDE_END = datetime(2026, 7, 7)  # its html_uri points outside report_root
# severities per feature for the six daily intervals ending 07-02 .. 07-07
SEVERITIES = {
    "company_size": ("none", "none", "minor", "major", "minor", "none"),
    "industry": ("none", "none", "none", "none", "none", "none"),
    "send_hour": ("none", "none", "none", "major", "none", "none"),
}
FEATURE_TYPES = {"company_size": "numeric", "industry": "categorical", "send_hour": "numeric"}
PSI = {"none": 0.02, "minor": 0.15, "major": 0.42}
# a 1x1 PNG, the "plot" the HTML reports link
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Seeded:
    v1: int
    v2: int
    v3: int
    major_report: Path  # written by write_drift_reports, with its plots
    intervals: tuple[Window, ...]  # the six in the period, oldest first


def _report_html(folder: Path, title: str) -> Path:
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    (folder / "plots" / "psi_overview.png").write_bytes(PNG)
    path = folder / "drift_report.html"
    path.write_text(
        f"<!doctype html><html><head><title>{title}</title><style>h1{{color:#333}}</style>"
        f'</head><body><h1 id="report-title">{title}</h1>'
        '<img src="plots/psi_overview.png" alt="PSI by feature"></body></html>'
    )
    return path


def _evaluation(decision: str, b: int, c: int, p: float, improvement: float, champion_acc: float):
    return {
        "decision": decision,
        "deploy": decision == "deploy",
        "test": "mcnemar_asymptotic",
        "b": b,
        "c": c,
        "n": 1200,
        "statistic": 9.5,
        "pvalue": p,
        "accuracy_chi2_statistic": 1.0,
        "accuracy_chi2_pvalue": 0.3,
        "primary_metric": "accuracy",
        "improvement": improvement,
        "champion": {"accuracy": champion_acc, "n": 1200},
        "challenger": {"accuracy": champion_acc + improvement, "n": 1200},
        "reasons": (
            [f"deploy: McNemar p={p} < 0.05, improvement {improvement} >= 0.02"]
            if decision == "deploy"
            else [
                f"challenger not better: b={b} > c={c}",
                f"not significant: McNemar p={p} >= 0.05",
            ]
        ),
        "significance_level": 0.05,
        "min_improvement": 0.02,
        "threshold": 0.5,
        "min_validation_rows": 500,
    }


def _registry(engine, artifact_root: Path) -> tuple[int, int, int]:
    registry = ModelRegistry(engine, artifact_root)
    registry.ensure_schema()
    ids = []
    for n, (start, end) in enumerate(
        [
            (datetime(2026, 5, 1), datetime(2026, 6, 1)),
            (datetime(2026, 5, 20), datetime(2026, 6, 20)),
            (datetime(2026, 5, 25), datetime(2026, 6, 25)),
        ],
        start=1,
    ):
        uri, sha = ModelRegistry.save_artifact({"version": n}, artifact_root, MODEL)
        version = registry.register(
            MODEL,
            artifact_uri=uri,
            artifact_sha256=sha,
            feature_schema=FEATURE_TYPES,
            reference_profile={"row_count": 100},
            metrics={
                "accuracy": 0.78 + n / 100,
                "roc_auc": 0.8,
                "n_holdout": 500,
                "nested": {"x": 1},
            },
            training_start=start,
            training_end=end,
            strategy="sliding_window",
            run_id=f"seed_{n}",
        )
        ids.append(version.id)
    v1, v2, v3 = ids
    registry.bootstrap_champion(MODEL, v1, run_id="seed_bootstrap")
    registry.record_evaluation(
        MODEL, v2, v1, _evaluation("deploy", 20, 45, 0.002, 0.03, 0.79), reason="deploy"
    )
    registry.promote(
        MODEL,
        v2,
        expected_champion_id=v1,
        reason="deploy: McNemar p=0.002",
        evaluation={"as_of": "2026-07-02T12:00:00", "decision": "deploy"},
        effective_at=datetime(2026, 7, 2, 12),
    )
    registry.record_evaluation(
        MODEL, v3, v2, _evaluation("reject", 30, 28, 0.89, -0.002, 0.82), reason="reject"
    )
    registry.reject(
        MODEL,
        v3,
        reason="challenger not better: b=30 > c=28",
        evaluation={"as_of": "2026-07-03T00:00:00", "decision": "reject"},
    )
    registry.record_check(
        MODEL,
        v2,
        {
            "status": "failed",
            "metric": "accuracy",
            "observed": 0.74,
            "expected": 0.82,
            "max_drop": 0.05,
            "n": 900,
            "reason": "failed: accuracy 0.74 < 0.77",
            "window": ["2026-07-01T00:00:00", "2026-07-03T00:00:00"],
        },
        reason="failed: accuracy 0.74 < 0.77",
    )
    registry.rollback(
        MODEL, reason="post-deployment check failed", effective_at=datetime(2026, 7, 6)
    )
    return v1, v2, v3


def _drift(engine, report_root: Path, outside: Path, v1: int, v2: int) -> tuple[Path, list[Window]]:
    store = ResultStore(engine)
    store.ensure_schema()
    ends = [PERIOD_START + timedelta(days=d) for d in range(1, 7)]  # 07-02 .. 07-07
    windows = [Window(end - timedelta(days=1), end) for end in ends]
    major_report = None
    before = Window(datetime(2026, 6, 29), datetime(2026, 6, 30))
    for i, window in enumerate([before, *windows]):
        index = i - 1
        severities = {f: (s[index] if index >= 0 else "none") for f, s in SEVERITIES.items()}
        worst = min(severities.values(), key=("major", "minor", "none").index)
        verdict = {"major": "major", "minor": "minor", "none": "healthy"}[worst]
        folder = report_root / DAG / window.label
        if window.end == MAJOR_END:  # a real report: JSON, HTML and PNG plots
            html = write_drift_reports(make_report(), folder, title=f"Drift report {window.label}")
            html = html.html_path
        else:
            html = _report_html(folder, f"Drift report {window.label}")
        if window.end == OUTSIDE_END:
            html = _report_html(outside / window.label, "outside report_root")
        if window.end == MAJOR_END:
            major_report = html
        version = (
            v1
            if window.end <= datetime(2026, 7, 2, 12) or window.end > datetime(2026, 7, 6)
            else v2
        )
        common = dict(
            dag_id=DAG,
            interval_start=window.start,
            interval_end=window.end,
            model_name=MODEL,
            model_version_id=version,
            run_id=f"scheduled__{window.end.isoformat()}",
        )
        run = DriftRunRecord(
            **common,
            verdict=verdict,
            dataset_drift=verdict == "major",
            n_reference=5000,
            n_current=720,
            report_uri=(folder / "drift_report.json").as_uri(),
            html_uri=html.as_uri(),
            summary={
                "text": f"{verdict} drift",
                "drifted_features": sorted(f for f, s in severities.items() if s == "major"),
            },
        )
        features = [
            FeatureDriftRecord(
                **common,
                feature=name,
                feature_type=FEATURE_TYPES[name],
                psi=PSI[severity],
                ks_statistic=0.3 if severity == "major" else 0.02,
                pvalue_adjusted=0.001 if severity == "major" else 0.6,
                effect_size=0.3 if severity == "major" else 0.02,
                severity=severity,
                drifted=severity == "major",
                reason=f"PSI {PSI[severity]}",
            )
            for name, severity in severities.items()
        ]
        store.save_drift_run(run, features)
    other = DriftRunRecord(
        dag_id=f"{OTHER_MODEL}_monitoring",
        interval_start=windows[0].start,
        interval_end=windows[0].end,
        model_name=OTHER_MODEL,
        model_version_id=None,
        run_id="other",
        verdict="major",
        dataset_drift=True,
        n_reference=1,
        n_current=1,
    )
    store.save_drift_run(other, [])
    return major_report, windows


def _performance(value, baseline, status, sends=1000, labelled=980):
    degraded = status == "degraded"
    metrics = None if status == "missing" else {"accuracy": value, "roc_auc": 0.8, "f1": 0.5}
    degradation = (
        None
        if status == "missing"
        else {
            "metric": "accuracy",
            "observed": value,
            "baseline": baseline,
            "relative_drop": (baseline - value) / baseline,
            "degraded": degraded,
            "threshold": 0.05,
            "higher_is_better": True,
            "reason": "accuracy dropped" if degraded else "within threshold",
        }
    )
    reason = (
        f"labels missing: {labelled} of {sends} sends have a known outcome"
        if status == "missing"
        else ("accuracy dropped 12%" if degraded else "accuracy within 5% of its baseline")
    )
    return {
        "sends": sends,
        "labelled": labelled,
        "status": status,
        "reason": reason,
        "metrics": metrics,
        "degradation": degradation,
    }


def _checks(engine, v1: int, v2: int) -> None:
    store = ResultStore(engine)
    rows = [  # sends window end, status, accuracy; judged at end + 72 h
        (datetime(2026, 6, 29), "measured", 0.81, v1),  # judged 07-02
        (datetime(2026, 6, 30), "measured", 0.80, v1),  # judged 07-03
        (datetime(2026, 7, 1), "degraded", 0.70, v2),  # judged 07-04
        (datetime(2026, 7, 2), "missing", None, v2),  # judged 07-05: labels not matured
        (datetime(2026, 7, 7), "measured", 0.8, v1),  # judged 07-10: after the period
    ]
    for end, status, value, version in rows:
        start = end - timedelta(hours=168)
        result = _performance(value, 0.80, status, labelled=300 if status == "missing" else 980)
        result.update(window=[start.isoformat(), end.isoformat()], model_version_id=version)
        store.save_check(
            MonitoringCheck(
                dag_id=DAG,
                interval_start=start,
                interval_end=end,
                check_name="performance",
                model_version_id=version,
                model_name=MODEL,
                status=status,
                result=result,
                run_id=f"scheduled__{(end + timedelta(hours=72)).isoformat()}",
            )
        )
    end = datetime(2026, 7, 1)
    store.save_check(
        MonitoringCheck(
            dag_id=DAG,
            interval_start=end - timedelta(hours=168),
            interval_end=end,
            check_name="concept_drift",
            model_version_id=v2,
            model_name=MODEL,
            status="drifted",
            result={
                "status": "drifted",
                "concept_drift": True,
                "drifted_features": ["company_size"],
                "score": 0.21,
                "reason": "concept drift in company_size",
            },
        )
    )


def _alerts(engine, v2: int) -> None:
    AlertStore(engine).ensure_schema()
    base = dict(
        model_name=MODEL,
        dag_id=DAG,
        model_version_id=v2,
        run_url=None,
        report_uri=None,
        details={},
        last_notified_interval_end=None,
        created_at=datetime(2026, 7, 5, 0, 5),
    )
    rows = [
        dict(
            base,
            kind="drift",
            key="dataset",
            severity="critical",
            status="open",
            message="major drift in company_size, send_hour",
            first_interval_start=datetime(2026, 7, 4),
            first_interval_end=MAJOR_END,
            last_interval_end=MAJOR_END,
            cleared_interval_end=None,
            run_id=f"scheduled__{MAJOR_END.isoformat()}",
        ),
        dict(
            base,
            kind="performance",
            key="accuracy",
            severity="warning",
            status="cleared",
            message="accuracy 0.70 is 12% below its baseline 0.80",
            first_interval_start=datetime(2026, 7, 3),
            first_interval_end=datetime(2026, 7, 4),
            last_interval_end=datetime(2026, 7, 4),
            cleared_interval_end=datetime(2026, 7, 5),
            run_id=None,
        ),
        dict(
            base,
            kind="health",
            key="health:source_fresh",
            severity="warning",
            status="cleared",
            message="an old episode, before the period",
            first_interval_start=datetime(2026, 6, 10),
            first_interval_end=datetime(2026, 6, 11),
            last_interval_end=datetime(2026, 6, 11),
            cleared_interval_end=datetime(2026, 6, 12),
            run_id=None,
        ),
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(alerts_table), rows)


def seed_history(engine, *, report_root: Path, artifact_root: Path, outside: Path) -> Seeded:
    """Seed the registry/results database of ``engine``; HTML reports under ``report_root``
    (one, of the interval ending :data:`OUTSIDE_END`, under ``outside`` instead)."""
    v1, v2, v3 = _registry(engine, artifact_root)
    major, windows = _drift(engine, report_root, outside, v1, v2)
    _checks(engine, v1, v2)
    _alerts(engine, v2)
    return Seeded(v1=v1, v2=v2, v3=v3, major_report=major, intervals=tuple(windows))
