"""Errors a user can act on. Every message names the thing that is wrong and what is allowed."""


class ModelguardError(Exception):
    """Base class of every modelguard error."""


class ConfigError(ModelguardError):
    """The configuration file is missing a key, has an unknown key, a wrong type or a bad value."""


class DataValidationError(ModelguardError):
    """Input data cannot be analysed: empty window, missing column, wrong dtype, all values missing."""


class ProfileError(ModelguardError):
    """A reference profile cannot be built or does not match the data it is compared with."""


class RegistryError(ModelguardError):
    """The model registry refused an operation (unknown model or version, no champion, ...)."""


class NoChampionError(RegistryError):
    """No champion is registered for a model name yet."""


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
