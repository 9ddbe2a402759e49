"""Errors a user can act on. Every message names the thing that is wrong and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence


class ModelguardError(Exception):
    """Base class of every modelguard error."""


class ConfigError(ModelguardError):
    """The configuration file is missing a key, has an unknown key, a wrong type or a bad value.

    ``errors`` holds every problem found, one line each, each naming its key: the loader checks
    the whole file before it raises, so one run of the config check lists everything to fix.
    Raised with one message, ``errors`` is that message; raised with ``errors=[...]``, the
    message is the single error as is, or a header and one indented line per error.
    """

    def __init__(self, *args: object, errors: Sequence[str] | None = None) -> None:
        if errors is not None:
            errors = tuple(str(e) for e in errors)
            if not args:
                args = (format_errors(errors),)
        else:
            errors = (str(args[0]),) if args else ()
        super().__init__(*args)
        self.errors: tuple[str, ...] = errors


def format_errors(errors: Sequence[str], what: str = "the config") -> str:
    """One error as it is; several as ``N errors in <what>:`` and one indented line each."""
    if len(errors) == 1:
        return errors[0]
    return f"{len(errors)} errors in {what}:\n" + "\n".join(f"  {e}" for e in errors)


class DataValidationError(ModelguardError):
    """Input data cannot be analysed: empty window, missing column, wrong dtype, all values missing."""


class ProfileError(ModelguardError):
    """A reference profile cannot be built or does not match the data it is compared with."""


class RegistryError(ModelguardError):
    """The model registry refused an operation (unknown model or version, no champion, ...)."""


class NoChampionError(RegistryError):
    """No champion is registered for a model name yet."""


class ChampionExistsError(RegistryError):
    """A bootstrap was asked for a model that already has a champion (and no replacement)."""


class ArtifactIntegrityError(RegistryError):
    """A model artifact is missing or its sha256 does not match the registry."""


class InsufficientDataError(DataValidationError):
    """A window holds too few usable (e.g. labelled) rows to decide anything."""


class SchemaMismatchError(ModelguardError):
    """Two models (or a model and its data) disagree on the feature schema."""


class StaleDecisionError(RegistryError):
    """The champion changed between a decision (evaluation) and its execution (promotion)."""


class RollbackFailedError(RegistryError):
    """No earlier version could be restored; the current champion stays. Needs a person."""


class StoreUnavailableError(ModelguardError):
    """A SQL store (the source table or the registry) cannot be used at all: its Airflow
    connection is not defined, its database cannot be reached or refuses the login, or the table
    is missing. Raised before any query, so that a task fails naming the connection id and the
    table instead of with a driver traceback, and a sensor fails at once instead of waiting."""


class ConnectionNotDefinedError(StoreUnavailableError, ConfigError):
    """No Airflow connection has the configured id."""


class ConnectionFailedError(StoreUnavailableError):
    """The database of a connection cannot be opened: server down or unreachable, wrong
    login/password, unknown database, missing SQLite file. May be transient (server down):
    whether the task tries again is the task's ``retries``."""


class TableNotFoundError(StoreUnavailableError, DataValidationError):
    """The configured table does not exist in the connection's database."""


class UnknownParamError(ConfigError):
    """A run's conf holds a key that is none of the DAG's params (a misspelling, usually)."""


class UnknownStrategyError(ModelguardError, ValueError):
    """A retraining strategy name that is not one of ``retraining.STRATEGIES``."""


class ChallengerValidationError(ModelguardError):
    """A retrained model failed one or more pre-gate checks; the message lists every one."""


class InvalidModelConfigError(ConfigError):
    """A model config of the folder cannot be loaded: its DAGs are left out while the other
    models' DAGs load; its ``<file>_config_error`` DAG's task raises this, naming every error."""


class InvalidArgumentError(ModelguardError, ValueError):
    """A modelguard function was given a value it does not accept: a threshold outside (0, 1),
    ``bins`` below 1, a number that is not finite, an option that does not apply. Also a
    ``ValueError``, which is what such a mistake is in Python."""


class NotADatetimeError(InvalidArgumentError, TypeError):
    """A time argument is not a ``datetime`` (also a ``TypeError``, as it always was)."""


class MalformedResultError(ModelguardError, ValueError):
    """A result handed from one step to the next (a drift report, a check, an evaluation as a
    dict) lacks keys or holds values of the wrong kind: producer and consumer disagree."""


class NotJSONSerializableError(ModelguardError, TypeError):
    """A value to be stored as JSON (metrics, a check, a report) has a type JSON cannot hold."""


class ModelInterfaceError(ModelguardError, TypeError):
    """A model lacks ``predict_proba`` or returns something that is not an (n, 2) array of
    probabilities for the classes 0 and 1."""


class EstimatorError(ModelguardError):
    """The estimator factory cannot be imported or failed to fit."""


class StoreError(ModelguardError):
    """The result store refused a write (inconsistent records, bad interval, ...)."""


class UnsupportedConnectionError(ConfigError):
    """An Airflow connection cannot be turned into a SQLAlchemy URL (type or fields)."""


class ArtifactPathError(ArtifactIntegrityError):
    """An artifact URI or path that is not a local file under ``storage.artifact_root``: another
    scheme or host, or a path that climbs out of the root (``..``, an absolute path elsewhere, a
    symlink pointing out). Never read, never written."""


class UnsafePathError(InvalidArgumentError):
    """A name that becomes part of a written or deleted path (a DAG id, a model name, a window
    label, a file name) would put that path outside its root: empty, ``.``, ``..``, absolute,
    holding a separator or NUL, or a folder that is a symlink pointing out of the root. Nothing
    is written or deleted."""


class InvalidIdError(InvalidArgumentError, RegistryError):
    """A model version id that is not an integer >= 1 (``True``, ``'1'``, ``1.0``, ``0``), or a
    model name that breaks the identifier rule. Both an :class:`InvalidArgumentError` and a
    :class:`RegistryError`, so callers catching either keep working."""


class CandidateUnusableError(RegistryError):
    """A rollback candidate changed status while the rollback was running; the next one is
    tried."""


class UsageError(ModelguardError):
    """The ``modelguard`` command line names something that cannot be used (an option value)."""


class NotificationError(ModelguardError):
    """An alert notification could not be delivered (a server down or refusing it, a channel's
    connection without what it needs). Recorded on the notification, never raised out of the
    alert task: the alert itself is stored either way."""


class ReportWriteError(StoreError):
    """A monitoring report could not be written under ``storage.report_root`` (a folder that
    does not exist and cannot be created, or is not writable)."""


class EstimationUnavailableError(DataValidationError):
    """The champion's performance cannot be estimated from its scores: a calibration set too
    small, with one class only or with identical scores, or a window with too few rows. The
    estimate task records the estimate as ``unavailable`` with this message; it never fails."""


class CopyReadNotExactError(ModelguardError):
    """Internal to ``storage.frames``: the COPY read cannot promise the frame of the driver's row
    tuples, so the tuples are read instead. Caught there; never reaches a user."""


class SummaryMismatchError(ModelguardError):
    """A window summary (one partition's file) cannot be read, or was taken against another
    profile, other bin edges or another format than the one it is merged or judged with."""
