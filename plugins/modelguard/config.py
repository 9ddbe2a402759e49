"""Typed, frozen configuration of one model, loaded from its YAML file.

One file describes one model (source, features, estimator, thresholds, schedules); a folder of
such files is a set of models (:func:`model_config_files`). Where the files are is the
deployment's choice: ``MODELGUARD_CONFIG`` here, or Airflow's ``[modelguard] config_path`` in the
Airflow layer (``modelguard.factory``), never a path relative to this package.

The loader is strict on purpose: a typo in a threshold silently falling back to a default is how
a monitoring system ends up watching nothing. Every error names the key, the value and what is
allowed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from modelguard.exceptions import ConfigError, format_errors

CONFIG_ENV_VAR = "MODELGUARD_CONFIG"
CONFIG_SUFFIXES = (".yaml", ".yml")

FEATURE_TYPES = ("numeric", "categorical")
NUMERIC_TESTS = ("psi", "ks")
CATEGORICAL_TESTS = ("psi", "chi2")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FACTORY_PATH = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def _range(lo: float | None = None, hi: float | None = None, *, open_lo=False, open_hi=False):
    """Field metadata: the allowed interval, checked by the loader."""
    return {"range": (lo, hi, open_lo, open_hi)}


def _choices(*allowed: str):
    return {"choices": allowed}


@dataclass(frozen=True)
class ModelConfig:
    name: str = field(metadata={"identifier": True})
    # "package.module:function" fitting (frame, features, target, *, sample_weight=None) -> model
    estimator: str = field(metadata={"factory_path": True})


@dataclass(frozen=True)
class SourceConfig:
    conn_id: str
    table: str = field(metadata={"identifier": True})
    time_column: str = field(metadata={"identifier": True})
    label_column: str = field(metadata={"identifier": True})
    label_time_column: str = field(metadata={"identifier": True})
    label_delay_hours: float = field(metadata=_range(0))


@dataclass(frozen=True)
class StorageConfig:
    registry_conn_id: str
    artifact_root: Path
    report_root: Path


PRIMARY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
APPROVAL_MODES = ("auto", "human")


@dataclass(frozen=True)
class DeploymentConfig:
    significance_level: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))
    min_improvement: float = field(metadata=_range(0, 1))
    validation_window_days: int = field(metadata=_range(1))
    max_rollback_attempts: int = field(metadata=_range(1))
    primary_metric: str = field(metadata=_choices(*PRIMARY_METRICS))
    decision_threshold: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))
    min_validation_rows: int = field(metadata=_range(1))
    post_deployment_window_days: int = field(metadata=_range(1))
    post_deployment_max_drop: float = field(metadata=_range(0, 1))
    # auto: the gate's decision deploys; human: a person approves it first (HITL task)
    approval: str = field(metadata=_choices(*APPROVAL_MODES))
    # how long a human approval may wait; then nothing is deployed (fractions allowed)
    approval_timeout_hours: float = field(metadata=_range(0, 720, open_lo=True))


@dataclass(frozen=True)
class DriftDetectionConfig:
    psi_critical: float = field(metadata=_range(0, open_lo=True))
    psi_warning: float = field(metadata=_range(0, open_lo=True))
    ks_significance: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))
    concept_drift_threshold: float = field(metadata=_range(0, open_lo=True))
    psi_bins: int = field(metadata=_range(2, 100))
    min_ks_statistic: float = field(metadata=_range(0, 1))
    min_cramers_v: float = field(metadata=_range(0, 1))
    dataset_drift_share: float = field(metadata=_range(0, 1, open_lo=True))
    numeric_tests: tuple[str, ...] = field(metadata=_choices(*NUMERIC_TESTS))
    categorical_tests: tuple[str, ...] = field(metadata=_choices(*CATEGORICAL_TESTS))
    reference_sample_size: int = field(metadata=_range(100))
    min_rows: int = field(metadata=_range(1))
    min_wasserstein: float = field(metadata=_range(0))


STRATEGIES = ("sliding_window", "weighted", "full_batch")


@dataclass(frozen=True)
class RetrainingConfig:
    drift_threshold: float = field(metadata=_range(0, open_lo=True))
    performance_threshold: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))
    sliding_window_months: int = field(metadata=_range(1))
    weighted_retraining: bool
    weight_half_life_days: float = field(metadata=_range(0, open_lo=True))
    min_drifted_importance: float = field(metadata=_range(0, 1, open_lo=True))
    cooldown_hours: float = field(metadata=_range(0))
    min_new_labelled_rows: int = field(metadata=_range(0))
    min_training_rows: int = field(metadata=_range(1))
    min_positive_rows: int = field(metadata=_range(1))
    holdout_share: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))

    @property
    def default_strategy(self) -> str:
        """``weighted`` when ``weighted_retraining`` is on, else ``sliding_window``."""
        return "weighted" if self.weighted_retraining else "sliding_window"


SENSOR_MODES = ("airflow_default", "reschedule", "deferrable")


@dataclass(frozen=True)
class AlertThresholdsConfig:
    drift_critical: float = field(metadata=_range(0, open_lo=True))
    performance_degradation: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))


ROW_COUNT_SEASONS = ("day", "week")
SEASON_DAYS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class HealthConfig:
    """What the ``check_health`` task of the monitoring DAGs calls healthy."""

    max_staleness_hours: float = field(metadata=_range(0, open_lo=True))
    row_count_history_days: int = field(metadata=_range(1, 366))
    row_count_season: str = field(metadata=_choices(*ROW_COUNT_SEASONS))
    row_count_min_points: int = field(metadata=_range(1, 366))
    row_count_low_ratio: float = field(metadata=_range(0, 1, open_hi=True))
    row_count_high_ratio: float = field(metadata=_range(1, open_lo=True))
    recent_runs: int = field(metadata=_range(0, 1000))

    @property
    def row_count_points(self) -> int:
        """How many earlier intervals the usual row count is taken from."""
        return self.row_count_history_days // SEASON_DAYS[self.row_count_season]


@dataclass(frozen=True)
class MonitoringConfig:
    monitoring_interval: int = field(metadata=_range(60, 86400))
    alert_thresholds: AlertThresholdsConfig
    max_history_days: int = field(metadata=_range(1))
    retention_batch_size: int = field(metadata=_range(1, 5000))
    health: HealthConfig
    window_hours: int = field(metadata=_range(0, 24 * 366))
    start_date: datetime
    catchup: bool
    label_window_hours: int = field(metadata=_range(1, 24 * 366))
    min_labelled_rows: int = field(metadata=_range(1))
    min_label_share: float = field(metadata=_range(0, 1, open_lo=True))
    sensor_mode: str = field(metadata=_choices(*SENSOR_MODES))
    data_wait_minutes: int = field(metadata=_range(1, 7 * 24 * 60))
    label_wait_minutes: int = field(metadata=_range(1, 7 * 24 * 60))
    data_poke_seconds: int = field(metadata=_range(1, 24 * 3600))
    label_poke_seconds: int = field(metadata=_range(1, 24 * 3600))

    @property
    def deferrable_sensors(self) -> bool | None:
        """True/False when the config decides; None: Airflow's ``[operators] default_deferrable``."""
        return {"deferrable": True, "reschedule": False}.get(self.sensor_mode)

    @property
    def schedule_cron(self) -> str:
        """The cron expression whose periods are ``monitoring_interval`` seconds long."""
        return interval_to_cron(self.monitoring_interval)


CHANNEL_TYPES = ("log", "email", "webhook")
ALERT_SEVERITIES = ("critical", "warning")  # as modelguard.alerts.records.SEVERITIES


@dataclass(frozen=True)
class ChannelConfig:
    """One way of telling people about alerts. ``conn_id`` names the Airflow connection of an
    ``email`` (SMTP) or ``webhook`` (HTTP) channel; ``to`` the addresses of an ``email`` one. A
    key a channel type does not use is refused rather than ignored."""

    name: str = field(metadata={"identifier": True})
    type: str = field(metadata=_choices(*CHANNEL_TYPES))
    min_severity: str = field(metadata=_choices(*ALERT_SEVERITIES))
    conn_id: str | None = field(default=None, metadata={"for_types": ("email", "webhook")})
    to: tuple[str, ...] | None = field(
        default=None, metadata={"for_types": ("email",), "emails": True}
    )

    def accepts(self, severity: str) -> bool:
        """Whether an alert of ``severity`` reaches this channel (``min_severity`` or worse)."""
        order = ALERT_SEVERITIES
        return order.index(severity) <= order.index(self.min_severity)


@dataclass(frozen=True)
class AlertsConfig:
    renotify_hours: float = field(metadata=_range(0, open_lo=True))
    notify_backfills: bool
    notification_retries: int = field(metadata=_range(0, 10))
    retry_delay_seconds: float = field(metadata=_range(0, 300))
    channels: tuple[ChannelConfig, ...]


@dataclass(frozen=True)
class ModelguardConfig:
    model: ModelConfig
    source: SourceConfig
    features: dict[str, str]
    storage: StorageConfig
    deployment: DeploymentConfig
    drift_detection: DriftDetectionConfig
    retraining: RetrainingConfig
    monitoring: MonitoringConfig
    alerts: AlertsConfig
    path: Path | None = field(default=None, compare=False)

    @property
    def numeric_features(self) -> list[str]:
        return [c for c, t in self.features.items() if t == "numeric"]

    @property
    def categorical_features(self) -> list[str]:
        return [c for c, t in self.features.items() if t == "categorical"]


def interval_to_cron(seconds: int) -> str:
    """Cron for a period that divides an hour (in minutes) or a day (in hours)."""
    if seconds % 60 == 0 and seconds < 3600 and 3600 % seconds == 0:
        return f"*/{seconds // 60} * * * *"
    if seconds % 3600 == 0 and 86400 % seconds == 0:
        hours = seconds // 3600
        return "0 * * * *" if hours == 1 else ("0 0 * * *" if hours == 24 else f"0 */{hours} * * *")
    raise ConfigError(
        f"monitoring.monitoring_interval: {seconds} does not divide an hour (in whole minutes) "
        "or a day (in whole hours); allowed e.g. 300, 900, 3600, 7200, 21600, 86400"
    )


def model_config_files(location: str | Path) -> list[Path]:
    """The model config files at ``location``: the file itself, or the ``*.yaml``/``*.yml``
    files of a folder (not hidden ones), sorted by name so every parse sees the same order."""
    path = Path(location).expanduser().resolve()  # tasks may run from another folder
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix in CONFIG_SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise ConfigError(f"config folder {path} holds no *.yaml model config")
        return files
    raise ConfigError(
        f"config location {path} does not exist; point {CONFIG_ENV_VAR} (or [modelguard] "
        "config_path) at a model config file or a folder of them"
    )


def load_config(path: str | Path | None = None) -> ModelguardConfig:
    """Load and validate one model's YAML config; without ``path``, the file
    ``MODELGUARD_CONFIG`` names."""
    import yaml

    if path is None:
        named = os.environ.get(CONFIG_ENV_VAR)
        if not named:
            raise ConfigError(
                f"no config given: pass the model config's path or set {CONFIG_ENV_VAR}"
            )
        path = named
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"config {path} is a folder of model configs; load one of its files "
            f"({', '.join(p.name for p in model_config_files(path))})"
        )
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist (set {CONFIG_ENV_VAR} to its path)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    return config_from_dict(raw, base_dir=path.parent, path=path)


def config_from_dict(
    raw: Any, *, base_dir: str | Path, path: Path | None = None
) -> ModelguardConfig:
    """Validate a parsed config mapping; relative paths resolve against ``base_dir``.

    Checks everything before raising: one :class:`ConfigError` whose ``errors`` lists every
    unknown or missing key, wrong type, out-of-range value and bad choice, then every
    cross-field check whose keys are valid on their own, each naming its key.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"config must be a mapping of sections, got {type(raw).__name__}")
    loader = _Loader(Path(base_dir))
    sections = loader.collect(ModelguardConfig, raw, "", skip={"path"})
    loader.errors.extend(_cross_field_errors(loader.valid))
    if loader.errors:
        raise _config_error(loader.errors, path)
    return ModelguardConfig(**sections, path=path)


def with_overrides(config: ModelguardConfig, section: str, **values: Any) -> ModelguardConfig:
    """A copy of ``config`` with keys of one section replaced and re-validated (e.g. UI params)."""
    new_section = section_with(getattr(config, section), section, **values)
    cfg = dataclasses.replace(config, **{section: new_section})
    _check_cross_field(cfg)
    return cfg


def section_with(current: Any, section: str, **values: Any) -> Any:
    """A copy of one config section with some keys replaced, validated like the file is."""
    merged = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
    loader = _Loader(Path("."))
    for key in values:
        if key not in merged:
            loader.errors.append(f"{section}.{key}: unknown key; allowed: {', '.join(merged)}")
    merged.update((k, v) for k, v in values.items() if k in merged)
    converted = loader.convert_fields(type(current), merged, f"{section}.")
    if isinstance(current, DriftDetectionConfig):
        loader.errors.extend(_drift_section_errors(loader.valid))
    if loader.errors:
        raise _config_error(loader.errors)
    return type(current)(**converted)


def _config_error(errors: list[str], path: Path | None = None) -> ConfigError:
    return ConfigError(
        format_errors(errors, f"config file {path}" if path else "the config"), errors=errors
    )


class _Loader:
    """One pass over a config: every problem goes to ``errors`` (the pass goes on), and every
    value that converts goes to ``valid`` under its dotted key, for the cross-field checks."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.errors: list[str] = []
        self.valid: dict[str, Any] = {}

    def collect(self, cls, raw: Any, prefix: str, skip: set[str] = frozenset()) -> dict[str, Any]:
        """The fields of ``cls`` in ``raw`` that convert, by name."""
        if not isinstance(raw, dict):
            self.errors.append(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
            return {}
        fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
        names = [f.name for f in fields]
        for key in sorted(set(raw) - set(names), key=str):
            self.errors.append(f"{prefix}{key}: unknown key; allowed keys here: {', '.join(names)}")
        kind = raw.get("type")
        for f in fields:
            for_types = f.metadata.get("for_types")
            if for_types is None:
                if f.name not in raw:
                    self.errors.append(f"{prefix}{f.name}: missing key (required)")
            elif kind in for_types and f.name not in raw:
                self.errors.append(f"{prefix}{f.name}: missing key (required for type {kind})")
            elif isinstance(kind, str) and kind not in for_types and f.name in raw:
                self.errors.append(
                    f"{prefix}{f.name}: not used by type {kind}; only type "
                    f"{' or '.join(for_types)} takes it"
                )
                raw = {k: v for k, v in raw.items() if k != f.name}
        present = {k: v for k, v in raw.items() if k in names}
        return self.convert_fields(cls, present, prefix, skip)

    def collect_list(self, cls, raw: Any, key: str) -> tuple[Any, ...] | None:
        """A non-empty list of ``cls`` sections; each error names its item, as
        ``alerts.channels[1].conn_id``. None when any item is wrong."""
        if not isinstance(raw, list) or not raw:
            self.errors.append(f"{key}: {raw!r} is not a non-empty list of mappings")
            return None
        before = len(self.errors)
        items = []
        for i, item in enumerate(raw):
            values = self.collect(cls, item, f"{key}[{i}].")
            if len(self.errors) == before:
                items.append(cls(**values))
        names = [item.get("name") for item in raw if isinstance(item, dict)]
        for name in sorted({n for n in names if isinstance(n, str) and names.count(n) > 1}):
            self.errors.append(f"{key}: the name {name!r} is given to more than one entry")
        return tuple(items) if len(self.errors) == before else None

    def convert_fields(
        self, cls, raw: dict, prefix: str, skip: set[str] = frozenset()
    ) -> dict[str, Any]:
        """Convert the fields of ``cls`` present in ``raw``; a field that fails is left out."""
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in skip or f.name not in raw:
                continue
            key = f"{prefix}{f.name}"
            tp = hints[f.name]
            if dataclasses.is_dataclass(tp) and not isinstance(raw[f.name], tp):
                before = len(self.errors)
                nested = self.collect(tp, raw[f.name], f"{key}.")
                if len(self.errors) == before:
                    values[f.name] = tp(**nested)
                continue
            item = _section_list_item(tp)
            if item is not None:
                value = raw[f.name]
                if isinstance(value, tuple) and all(isinstance(v, item) for v in value):
                    values[f.name] = value  # sections already built (section_with)
                else:
                    built = self.collect_list(item, value, key)
                    if built is not None:
                        values[f.name] = built
                continue
            if typing.get_origin(tp) is dict and isinstance(raw[f.name], dict):
                # the names alone, for the cross-field checks, even when a kind is wrong
                self.valid[f"{key}.columns"] = [c for c in raw[f.name] if isinstance(c, str)]
            try:
                values[f.name] = _convert(tp, raw[f.name], key, self.base_dir, f.metadata)
            except ConfigError as exc:
                self.errors.extend(exc.errors)
            else:
                self.valid[key] = values[f.name]
        return values


def _section_list_item(tp) -> type | None:
    """The section class of a ``tuple[Section, ...]`` field (a list of sections), else None."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis and dataclasses.is_dataclass(args[0]):
            return args[0]
    return None


def _optional_of(tp):
    """``X`` of ``X | None``, else None."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


def _convert(tp, value: Any, key: str, base_dir: Path, meta) -> Any:
    inner = _optional_of(tp)
    if inner is not None:
        tp = inner  # an optional key that is given must hold a value of its type
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, tp):
        return value  # a section already built (section_with); raw sections go through _Loader
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: {value!r} is not a boolean (true or false)")
        return value
    if tp in (int, float):
        ok = isinstance(value, int) if tp is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise ConfigError(
                f"{key}: {value!r} is not {'an integer' if tp is int else 'a number'}"
            )
        value = tp(value)
        _check_range(key, value, meta.get("range"))
        return value
    if tp is str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: {value!r} is not a non-empty string")
        allowed = meta.get("choices")
        if allowed and value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
        if meta.get("identifier") and not _IDENTIFIER.match(value):
            raise ConfigError(
                f"{key}: {value!r} is not a valid name (letters, digits and _, not starting "
                "with a digit)"
            )
        if meta.get("factory_path") and not _FACTORY_PATH.match(value):
            raise ConfigError(
                f"{key}: {value!r} is not a factory path; expected 'package.module:function', "
                "e.g. email_engagement.model:train_model"
            )
        return value
    if tp is Path:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: {value!r} is not a path string")
        p = Path(value)
        return p if p.is_absolute() else (base_dir / p).resolve()
    if tp is datetime:
        return _parse_datetime(key, value)
    if origin is tuple:
        items = _convert_list(key, value, meta.get("choices"))
        if meta.get("emails"):
            bad = [v for v in items if not isinstance(v, str) or not _EMAIL.match(v)]
            if bad:
                raise ConfigError(
                    errors=[f"{key}: {v!r} is not an email address (name@domain)" for v in bad]
                )
        return items
    if origin is dict:
        return _convert_features(key, value)
    raise ConfigError(f"{key}: unsupported type {tp}")  # pragma: no cover


def _convert_list(key: str, value: Any, allowed: tuple[str, ...] | None) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"{key}: {value!r} is not a non-empty list")
    errors = [
        f"{key}: {item!r} is not allowed; allowed: {', '.join(allowed)}"
        for item in value
        if allowed and item not in allowed
    ]
    if len({repr(v) for v in value}) != len(value):
        errors.append(f"{key}: {value!r} lists an entry twice")
    if errors:
        raise ConfigError(errors=errors)
    return tuple(value)


def _convert_features(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{key}: expected a mapping of column -> numeric|categorical")
    errors = []
    for column, kind in value.items():
        if not isinstance(column, str) or not _IDENTIFIER.match(column):
            errors.append(f"{key}.{column}: not a valid column name")
        elif kind not in FEATURE_TYPES:
            errors.append(
                f"{key}.{column}: {kind!r} is not a feature type; allowed: {', '.join(FEATURE_TYPES)}"
            )
    if errors:
        raise ConfigError(errors=errors)
    return dict(value)


def _parse_datetime(key: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{key}: {value!r} is not an ISO date or datetime (e.g. 2026-06-01)")


def _check_range(key: str, value: float, rng) -> None:
    if rng is None:
        return
    lo, hi, open_lo, open_hi = rng
    too_low = lo is not None and (value <= lo if open_lo else value < lo)
    too_high = hi is not None and (value >= hi if open_hi else value > hi)
    if too_low or too_high:
        left = "(" if open_lo else "["
        right = ")" if open_hi else "]"
        lo_s = "-inf" if lo is None else lo
        hi_s = "inf" if hi is None else hi
        raise ConfigError(f"{key}: {value!r} is out of range; allowed {left}{lo_s}, {hi_s}{right}")


def _drift_section_errors(valid: dict[str, Any]) -> list[str]:
    warning = valid.get("drift_detection.psi_warning")
    critical = valid.get("drift_detection.psi_critical")
    if warning is not None and critical is not None and warning >= critical:
        return [
            f"drift_detection.psi_warning: {warning} must be below "
            f"drift_detection.psi_critical ({critical})"
        ]
    return []


def _cross_field_errors(valid: dict[str, Any]) -> list[str]:
    """Checks across keys, each run when the keys it reads are valid on their own (``valid``:
    converted values by dotted key); one whose key is wrong waits for that fix."""
    errors = _drift_section_errors(valid)
    interval = valid.get("monitoring.monitoring_interval")
    if interval is not None:
        try:
            interval_to_cron(interval)
        except ConfigError as exc:
            errors.extend(exc.errors)
    columns = [
        valid.get(f"source.{k}") for k in ("time_column", "label_column", "label_time_column")
    ]
    features = valid.get("features.columns") or ()
    for column in sorted({c for c in columns if c is not None} & set(features)):
        errors.append(
            f"features.{column}: is also the source's time or label column; a feature must "
            "be a model input"
        )
    errors.extend(_history_errors(valid))
    return errors


def _history_errors(valid: dict[str, Any]) -> list[str]:
    """What retention (``monitoring.max_history_days``) must keep for the checks that read
    history: the cool-down and ``monitoring.health.recent_runs``; and whether the row-count
    history can hold enough points."""
    errors = []
    days = valid.get("monitoring.max_history_days")
    cooldown = valid.get("retraining.cooldown_hours")
    if days is not None and cooldown is not None and 2 * cooldown > 24 * days:
        errors.append(
            f"retraining.cooldown_hours: {cooldown:g} h needs {2 * cooldown:g} h of stored "
            f"decisions (the candidates of the last cool-down and the retraining that may block "
            f"the earliest of them), more than monitoring.max_history_days keeps ({days} days); "
            f"raise max_history_days to at least {math.ceil(2 * cooldown / 24)} or lower "
            "cooldown_hours"
        )
    recent = valid.get("monitoring.health.recent_runs")
    if days is not None and recent is not None and recent > days:
        errors.append(
            f"monitoring.health.recent_runs: {recent} intervals of the daily monitoring DAG "
            f"reach further back than monitoring.max_history_days keeps ({days} days); allowed "
            f"at most {days}"
        )
    history = valid.get("monitoring.health.row_count_history_days")
    season = valid.get("monitoring.health.row_count_season")
    points = valid.get("monitoring.health.row_count_min_points")
    if history is not None and season in SEASON_DAYS and points is not None:
        if history // SEASON_DAYS[season] < points:
            errors.append(
                f"monitoring.health.row_count_history_days: {history} days hold "
                f"{history // SEASON_DAYS[season]} earlier interval(s) of the same {season}, "
                f"fewer than monitoring.health.row_count_min_points ({points}), so the row "
                f"count would never be judged; allowed at least {points * SEASON_DAYS[season]}"
            )
    return errors


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """A built config (or section) as converted values by dotted key, as a load collects them."""
    flat: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            flat.update(_flatten(value, f"{prefix}{f.name}."))
        else:
            flat[f"{prefix}{f.name}"] = value
            if isinstance(value, dict):
                flat[f"{prefix}{f.name}.columns"] = list(value)
    return flat


def _check_cross_field(cfg: ModelguardConfig) -> None:
    errors = _cross_field_errors(_flatten(cfg))
    if errors:
        raise _config_error(errors)
