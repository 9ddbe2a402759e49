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
# Every pattern is anchored with \Z and used with fullmatch: "$" also matches before a final
# newline, so "sends\n" would pass as a name.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_FACTORY_PATH = re.compile(rf"{_DOTTED}:{_DOTTED}\Z")
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+\Z")
# PostgreSQL truncates longer identifiers silently (two long column names could become one).
MAX_IDENTIFIER_LENGTH = 63
# Durations are bounded so that every date computed from them stays a date (a window end minus
# label_delay_hours, the cut-off of max_history_days, ...): at most a century.
MAX_HOURS = 100 * 365 * 24
MAX_DAYS = 100 * 365
MAX_MONTHS = 100 * 12
# An integer key is stored and compared in SQL and numpy: it must fit a signed 64-bit integer.
MAX_INTEGER = 2**63 - 1
# The years a date (monitoring.start_date) may fall in: far enough from year 1 and 9999 that
# no date arithmetic of the monitoring overflows.
DATE_YEARS = (1900, 2999)
# Mapped drift partitions of one window: Airflow's default [core] max_map_length.
MAX_DRIFT_PARTITIONS = 1024
# A model config is a page of YAML; a bigger file is a mistake (or an attack on the parser).
MAX_CONFIG_BYTES = 1024 * 1024


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
    label_delay_hours: float = field(metadata=_range(0, MAX_HOURS))


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
    validation_window_days: int = field(metadata=_range(1, MAX_DAYS))
    max_rollback_attempts: int = field(metadata=_range(1))
    primary_metric: str = field(metadata=_choices(*PRIMARY_METRICS))
    decision_threshold: float = field(metadata=_range(0, 1, open_lo=True, open_hi=True))
    min_validation_rows: int = field(metadata=_range(1))
    post_deployment_window_days: int = field(metadata=_range(1, MAX_DAYS))
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
    sliding_window_months: int = field(metadata=_range(1, MAX_MONTHS))
    weighted_retraining: bool
    weight_half_life_days: float = field(metadata=_range(0, MAX_DAYS, open_lo=True))
    min_drifted_importance: float = field(metadata=_range(0, 1, open_lo=True))
    cooldown_hours: float = field(metadata=_range(0, MAX_HOURS))
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

    max_staleness_hours: float = field(metadata=_range(0, MAX_HOURS, open_lo=True))
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
    max_history_days: int = field(metadata=_range(1, MAX_DAYS))
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
    # 1: one detect_drift task; N > 1: N mapped summarise_partition tasks over equal parts of
    # the window, then merge_and_decide (README: Scaling out). At most Airflow's default
    # [core] max_map_length.
    drift_partitions: int = field(metadata=_range(1, MAX_DRIFT_PARTITIONS))

    @property
    def deferrable_sensors(self) -> bool | None:
        """True/False when the config decides; None: Airflow's ``[operators] default_deferrable``."""
        return {"deferrable": True, "reschedule": False}.get(self.sensor_mode)

    @property
    def schedule_cron(self) -> str:
        """The cron expression whose periods are ``monitoring_interval`` seconds long."""
        return interval_to_cron(self.monitoring_interval)


CALIBRATION_METHODS = ("isotonic", "histogram")


@dataclass(frozen=True)
class PerformanceEstimationConfig:
    """The estimate of the champion's performance on the newest window from its own scores,
    before the labels mature (``estimate_performance``; README: Estimated performance)."""

    enabled: bool
    # central share of the simulated realised values the interval covers
    interval_level: float = field(metadata=_range(0.5, 1, open_hi=True))
    simulations: int = field(metadata=_range(20, 5000))
    calibration_method: str = field(metadata=_choices(*CALIBRATION_METHODS))
    calibration_bins: int = field(metadata=_range(2, 1000))  # histogram method only
    min_calibration_rows: int = field(metadata=_range(10))
    min_rows: int = field(metadata=_range(1))
    # stored estimates of earlier windows whose realised value one run fills in, at most
    realise_batch: int = field(metadata=_range(1, 1000))


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
    renotify_hours: float = field(metadata=_range(0, MAX_HOURS, open_lo=True))
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
    performance_estimation: PerformanceEstimationConfig
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
    entries of a folder (not hidden ones), sorted by name so every parse sees the same order.

    An entry of a folder that is not a readable file (a broken link, a folder named
    ``x.yaml``) is listed too, so loading it names the problem instead of the model silently
    having no DAGs."""
    path = _resolved(location, "config location")  # tasks may run from another folder
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.suffix in CONFIG_SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise ConfigError(f"config folder {path} holds no *.yaml model config")
        return files
    if path.exists():
        raise ConfigError(
            f"config location {path} is neither a file nor a folder; point {CONFIG_ENV_VAR} "
            "(or [modelguard] config_path) at a model config file or a folder of them"
        )
    raise ConfigError(
        f"config location {path} does not exist; point {CONFIG_ENV_VAR} (or [modelguard] "
        "config_path) at a model config file or a folder of them"
    )


def _resolved(location: str | Path, what: str) -> Path:
    """``location`` made absolute, or a ConfigError naming it (a NUL byte, a symlink loop)."""
    text = str(location)
    if not text.strip():
        raise ConfigError(f"{what} {text!r} is blank; allowed: the path of a file or folder")
    try:
        return Path(location).expanduser().resolve()
    except ValueError as exc:  # an embedded NUL byte
        raise ConfigError(f"{what} {text!r} is not a valid path: {exc}") from None
    except RuntimeError as exc:  # Python 3.11: a symlink loop
        raise ConfigError(f"{what} {text!r} cannot be resolved: {exc} (a symlink loop)") from None
    except OSError as exc:
        raise ConfigError(f"{what} {text!r} cannot be resolved: {exc.strerror}") from None


def load_config(path: str | Path | None = None) -> ModelguardConfig:
    """Load and validate one model's YAML config; without ``path``, the file
    ``MODELGUARD_CONFIG`` names.

    Every problem of the file itself (missing, a folder, unreadable, not UTF-8, not YAML, empty,
    duplicate keys) is one :class:`ConfigError` that names the file."""
    if path is None:
        named = os.environ.get(CONFIG_ENV_VAR)
        if not named or not named.strip():
            raise ConfigError(
                f"no config given: pass the model config's path or set {CONFIG_ENV_VAR}"
                + (f" (it is {named!r})" if named else "")
            )
        path = named
    text = _read_config_text(path)
    path = Path(path)
    raw = _parse_yaml(text, path)
    if raw is None:
        raise ConfigError(
            f"config file {path} is empty; allowed: a mapping of the sections "
            f"{', '.join(f.name for f in dataclasses.fields(ModelguardConfig) if f.name != 'path')}"
        )
    if not isinstance(raw, dict):
        raise ConfigError(
            f"config file {path}: its top level is {_kind(raw)} ({_short(raw)}); allowed: a "
            "mapping of sections (model:, source:, features:, ...)"
        )
    return config_from_dict(raw, base_dir=path.parent, path=path)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_config_text(location: str | Path) -> str:
    """The text of a config file, or a ConfigError that names the file and the problem."""
    import errno
    import stat

    text = str(location)
    if not text.strip():
        raise ConfigError(f"config file {text!r} is blank; allowed: the path of a model config")
    path = Path(location)
    try:
        info = path.stat()
    except ValueError as exc:  # an embedded NUL byte
        raise ConfigError(f"config file {text!r} is not a valid path: {exc}") from None
    except FileNotFoundError:
        if path.is_symlink():
            raise ConfigError(
                f"config file {path} is a broken symbolic link (to {os.readlink(path)}, which "
                "does not exist)"
            ) from None
        raise ConfigError(
            f"config file {path} does not exist (set {CONFIG_ENV_VAR} to its path)"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"config file {path} cannot be read: a symlink loop") from None
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            names = ", ".join(p.name for p in model_config_files(path))
        except ConfigError:
            raise ConfigError(
                f"config {path} is a folder, not a model config file, and holds no *.yaml "
                "model config"
            ) from None
        raise ConfigError(
            f"config {path} is a folder of model configs; load one of its files ({names})"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"config file {path} is not a regular file (a device, pipe or socket); allowed: a "
            "YAML file"
        )
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"config file {path} is larger than {MAX_CONFIG_BYTES} bytes ({info.st_size}); a "
            "model config is a page of YAML"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark is fine
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {data[exc.start]:#04x} on line "
            f"{line}: {exc.reason}); save it as UTF-8"
        ) from None


def _parse_yaml(text: str, path: Path) -> Any:
    """The YAML of a config file through :class:`_StrictYamlLoader`: duplicate keys and merge
    keys refused (each naming its dotted key and lines), every other problem of the text one
    error naming the file, line and column."""
    import yaml

    try:
        loader = _strict_yaml_loader()(text)
    except yaml.YAMLError as exc:  # an unprintable character, found before parsing
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    loader.name = str(path)  # marks (line, column) name the file
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        errors = _key_errors(loader, node, path)
        if errors:
            raise _config_error(errors, path)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply to be a config") from None
    finally:
        loader.dispose()


_YAML_TAG = "tag:yaml.org,2002:"
_STRICT_LOADER = None


def _strict_yaml_loader():
    """PyYAML's SafeLoader, stricter where YAML 1.1 silently changes a value.

    * unquoted dates stay text, so the loader parses them and an impossible one
      (``2026-02-30``) is an error naming its key, not a ``ValueError`` from PyYAML;
    * ``1e-3`` is a number (as in YAML 1.2 and JSON; YAML 1.1 reads it as a string);
    * an integer with a leading zero (``010``, octal 8 in YAML 1.1) or in base 60 (``1:30``,
      90) is refused rather than read as another number than it looks;
    * a tagged scalar that cannot be built (``!!int ten``) names its line, not a raw error.
    """
    global _STRICT_LOADER
    if _STRICT_LOADER is not None:
        return _STRICT_LOADER
    import yaml
    from yaml.constructor import ConstructorError

    class StrictYamlLoader(yaml.SafeLoader):
        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, TypeError, OverflowError) as exc:
                tag = node.tag.replace(_YAML_TAG, "!!")
                raise ConstructorError(
                    None,
                    None,
                    f"{tag} {node.value!r} cannot be read: {exc}",
                    node.start_mark,
                ) from None

        def construct_yaml_int(self, node):
            text = str(self.construct_scalar(node)).replace("_", "")
            where = (
                f"config file {self.name}, line {node.start_mark.line + 1}, column "
                f"{node.start_mark.column + 1}"
            )
            if re.fullmatch(r"[-+]?0[0-9]+", text):
                raise ConfigError(
                    f"{where}: {text!r} has a leading zero (YAML 1.1 reads it as an octal "
                    "number); allowed: a decimal integer without leading zeros, or a quoted "
                    "string"
                )
            if ":" in text:
                raise ConfigError(
                    f"{where}: {text!r} is a base 60 number in YAML 1.1; allowed: a decimal "
                    "number, or a quoted string"
                )
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node):
            text = str(self.construct_scalar(node))
            if ":" in text:
                where = (
                    f"config file {self.name}, line {node.start_mark.line + 1}, column "
                    f"{node.start_mark.column + 1}"
                )
                raise ConfigError(
                    f"{where}: {text!r} is a base 60 number in YAML 1.1; allowed: a decimal "
                    "number, or a quoted string"
                )
            return super().construct_yaml_float(node)

    StrictYamlLoader.add_constructor(_YAML_TAG + "int", StrictYamlLoader.construct_yaml_int)
    StrictYamlLoader.add_constructor(_YAML_TAG + "float", StrictYamlLoader.construct_yaml_float)
    StrictYamlLoader.add_implicit_resolver(
        _YAML_TAG + "float",
        re.compile(r"[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+\Z"),
        list("-+0123456789"),
    )
    StrictYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _YAML_TAG + "timestamp"]
        for first, resolvers in StrictYamlLoader.yaml_implicit_resolvers.items()
    }
    _STRICT_LOADER = StrictYamlLoader
    return StrictYamlLoader


def _key_errors(loader: Any, root: Any, path: Path) -> list[str]:
    """Every key given twice in one mapping (at any depth) and every merge key ``<<``, each
    naming its dotted key and lines. Keys that load equal (``1``, ``1.0``, ``true``) are the same
    key, as in the dict they would become; without this check the last one silently wins."""
    import yaml

    errors: list[str] = []
    seen: set[int] = set()

    def walk(node, where: str) -> None:
        if id(node) in seen:  # an alias (possibly recursive) is checked once
            return
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{where}[{i}]")
        elif isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if key_node.tag == _YAML_TAG + "merge":
                    errors.append(
                        f"{where or 'config'}: the merge key << (line {line} of {path}) is not allowed; "
                        "write every key out (a merged key that is also given would be "
                        "silently replaced)"
                    )
                    continue
                key = loader.construct_object(key_node, deep=True)
                name = f"{where}.{key}" if where else str(key)
                try:
                    earlier = first.get(key)
                except TypeError:  # an unhashable key: PyYAML refuses it while constructing
                    walk(value_node, name)
                    continue
                if earlier is not None:
                    errors.append(
                        f"{name}: given twice, at lines {earlier} and {line} of {path}; allowed: each key "
                        "once (YAML would silently keep the last)"
                    )
                else:
                    first[key] = line
                walk(value_node, name)

    walk(root, "")
    return errors


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
        return _convert_number(tp, value, key, meta.get("range"))
    if tp is str:
        allowed = meta.get("choices")
        if not isinstance(value, str) or not value.strip():
            one_of = f"; allowed: {', '.join(allowed)}" if allowed else ""
            raise ConfigError(f"{key}: {_short(value)} is not a non-empty string{one_of}")
        if allowed and value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
        if meta.get("identifier") and not _is_identifier(value):
            raise ConfigError(
                f"{key}: {value!r} is not a valid name; allowed: letters, digits and _, not "
                f"starting with a digit, at most {MAX_IDENTIFIER_LENGTH} characters"
            )
        if meta.get("factory_path") and not _FACTORY_PATH.fullmatch(value):
            raise ConfigError(
                f"{key}: {value!r} is not a factory path; expected 'package.module:function', "
                "e.g. email_engagement.model:train_model"
            )
        if value != value.strip() or not value.isprintable():
            raise ConfigError(
                f"{key}: {value!r} has surrounding blanks or a control character (a newline, "
                "a tab); allowed: the name alone"
            )
        return value
    if tp is Path:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: {value!r} is not a path string")
        try:
            p = Path(value).expanduser()
            return p if p.is_absolute() else (base_dir / p).resolve()
        except ValueError as exc:  # an embedded NUL byte
            raise ConfigError(f"{key}: {value!r} is not a valid path: {exc}") from None
        except RuntimeError as exc:  # Python 3.11: a symlink loop
            raise ConfigError(
                f"{key}: {value!r} cannot be resolved: {exc} (a symlink loop)"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{key}: {value!r} cannot be resolved: {exc.strerror}") from None
    if tp is datetime:
        return _parse_datetime(key, value)
    if origin is tuple:
        items = _convert_list(key, value, meta.get("choices"))
        if meta.get("emails"):
            bad = [v for v in items if not isinstance(v, str) or not _EMAIL.fullmatch(v)]
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


def _is_identifier(value: str) -> bool:
    return len(value) <= MAX_IDENTIFIER_LENGTH and _IDENTIFIER.fullmatch(value) is not None


def _convert_number(tp: type, value: Any, key: str, rng) -> int | float:
    """An ``int`` or ``float`` key's value. Accepted: a YAML/JSON number in the key's range;
    for an integer key also a float with an integral value (``10.0``, as JSON Schema counts
    it). Refused, each naming the key, the value and the range: booleans, strings (also
    ``"0.1"``: a quoted number is a string), NaN, infinities, non-integral floats for an integer
    key, integers beyond 64 bits and numbers beyond the float range."""
    what = "an integer" if tp is int else "a number"
    allowed = f"allowed: {what} in {_interval(rng)}"
    if isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} is not {what} (a boolean); {allowed}")
    if isinstance(value, str):
        hint = "; write the number without quotes" if _numeric(value) else ""
        raise ConfigError(f"{key}: {value!r} is not {what} (a string{hint}); {allowed}")
    if not isinstance(value, int | float):
        raise ConfigError(f"{key}: {_short(value)} is not {what}; {allowed}")
    if isinstance(value, float) and math.isnan(value):
        raise ConfigError(f"{key}: nan is not {what}; {allowed}")
    if isinstance(value, float) and math.isinf(value):
        raise ConfigError(f"{key}: {value!r} is not a finite number; {allowed}")
    if tp is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{key}: {value!r} is not an integer; {allowed}")
            value = int(value)
        if abs(value) > MAX_INTEGER:
            raise ConfigError(
                f"{key}: {_short(value)} is too large for a 64-bit integer; {allowed}"
            )
        value = int(value)  # a plain int (not a subclass)
    else:
        try:
            value = float(value) + 0.0  # + 0.0: a negative zero is zero
        except OverflowError:
            raise ConfigError(
                f"{key}: {_short(value)} is too large for a number; {allowed}"
            ) from None
    _check_range(key, value, rng)
    return value


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _convert_features(key: str, value: Any) -> dict[str, str]:
    shape = "a mapping of column -> numeric|categorical"
    if isinstance(value, dict) and not value:
        raise ConfigError(f"{key}: {{}} is empty; allowed: {shape} with at least one column")
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: {_short(value)} is not a mapping; allowed: {shape}")
    errors = []
    for column, kind in value.items():
        if not isinstance(column, str):
            errors.append(
                f"{key}: the key {column!r} ({type(column).__name__}) is not a column name "
                f"(YAML reads an unquoted true, yes, 1 or 1.5 as a value); allowed: a name of "
                f"letters, digits and _, at most {MAX_IDENTIFIER_LENGTH} characters"
            )
        elif not _is_identifier(column):
            errors.append(
                f"{key}: the key {column!r} is not a column name; allowed: letters, digits and "
                f"_, not starting with a digit, at most {MAX_IDENTIFIER_LENGTH} characters"
            )
        elif kind not in FEATURE_TYPES:
            errors.append(
                f"{key}.{column}: {_short(kind)} is not a feature type; allowed: "
                f"{', '.join(FEATURE_TYPES)}"
            )
    if errors:
        raise ConfigError(errors=errors)
    return dict(value)


_DATE_ALLOWED = (
    "allowed: a date such as 2026-06-01, or a UTC date-time such as 2026-06-01T06:00:00 (or "
    f"with Z / +00:00), in the years {DATE_YEARS[0]} to {DATE_YEARS[1]}"
)


def _parse_datetime(key: str, value: Any) -> datetime:
    """A naive UTC datetime from a date or an ISO date-time. An offset other than zero is
    refused rather than converted: the key is a UTC time, and a local one is a mistake."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(
                f"{key}: {value!r} is not an ISO date or datetime ({exc}); {_DATE_ALLOWED}"
            ) from None
    else:
        raise ConfigError(f"{key}: {_short(value)} is not an ISO date or datetime; {_DATE_ALLOWED}")
    if parsed.tzinfo is not None:
        offset = parsed.utcoffset()
        if offset:
            raise ConfigError(
                f"{key}: {value!r} has the UTC offset {parsed.strftime('%z')}; the key is in UTC: "
                f"{_DATE_ALLOWED}"
            )
        parsed = parsed.replace(tzinfo=None)
    if not DATE_YEARS[0] <= parsed.year <= DATE_YEARS[1]:
        raise ConfigError(f"{key}: {value!r} is out of range; {_DATE_ALLOWED}")
    return datetime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
    )


def _interval(rng) -> str:
    if rng is None:
        return "(-inf, inf)"
    lo, hi, open_lo, open_hi = rng
    left = "(" if open_lo or lo is None else "["
    right = ")" if open_hi or hi is None else "]"
    lo_s = "-inf" if lo is None else lo
    hi_s = "inf" if hi is None else hi
    return f"{left}{lo_s}, {hi_s}{right}"


def _check_range(key: str, value: float, rng) -> None:
    if rng is None:
        return
    lo, hi, open_lo, open_hi = rng
    too_low = lo is not None and (value <= lo if open_lo else value < lo)
    too_high = hi is not None and (value >= hi if open_hi else value > hi)
    if too_low or too_high:
        raise ConfigError(f"{key}: {value!r} is out of range; allowed {_interval(rng)}")


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
    source_keys = ("time_column", "label_column", "label_time_column")
    columns = [valid.get(f"source.{k}") for k in source_keys]
    for i, (k, column) in enumerate(zip(source_keys, columns, strict=True)):
        earlier = [source_keys[j] for j in range(i) if column is not None and columns[j] == column]
        if earlier:
            errors.append(
                f"source.{k}: {column!r} is also source.{earlier[0]}; allowed: three different "
                "columns (send time, outcome, outcome time)"
            )
    features = valid.get("features.columns") or ()
    for column in sorted({c for c in columns if c is not None} & set(features)):
        errors.append(
            f"features.{column}: is also the source's time or label column; a feature must "
            "be a model input"
        )
    errors.extend(_case_errors([c for c in columns if c is not None], features))
    errors.extend(_history_errors(valid))
    return errors


def _case_errors(source_columns: list[str], features: Any) -> list[str]:
    """Column names that differ only in case are one column on SQLite (and for unquoted names
    on PostgreSQL): the reader would return one column's values for both names."""
    errors = []
    seen = {c.lower(): f"the source column {c}" for c in source_columns if isinstance(c, str)}
    for column in features:
        if not isinstance(column, str):
            continue
        other = seen.get(column.lower())
        if other is not None and not other.endswith(f" {column}"):
            errors.append(
                f"features.{column}: differs from {other} only in case, and a database may "
                "read both as one column; allowed: names that differ in more than case"
            )
        seen.setdefault(column.lower(), f"features.{column}")
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
