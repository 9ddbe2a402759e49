"""The monitoring report of one model over one period: one data model behind the JSON report
file, the page's JSON API and the Model health page (pure: no I/O, no Airflow).

:func:`assemble_report` turns rows already read from the stores into a :class:`ModelReport`;
:func:`report_json` is its stable, sorted, strict JSON. Reading the rows is
:mod:`modelguard.pipelines.model_report`'s job.
"""

from modelguard.reporting.model_report import (
    SCHEMA_VERSION,
    Champion,
    ChampionChange,
    ConceptPoint,
    DeploymentEvent,
    DriftInterval,
    EstimatePoint,
    Evaluation,
    FeaturePoint,
    FeatureSeries,
    ModelReport,
    PerformancePoint,
    Period,
    VersionEntry,
    assemble_report,
    report_json,
)

__all__ = [
    "SCHEMA_VERSION",
    "Champion",
    "ChampionChange",
    "ConceptPoint",
    "DeploymentEvent",
    "DriftInterval",
    "EstimatePoint",
    "Evaluation",
    "FeaturePoint",
    "FeatureSeries",
    "ModelReport",
    "Period",
    "PerformancePoint",
    "VersionEntry",
    "assemble_report",
    "report_json",
]
