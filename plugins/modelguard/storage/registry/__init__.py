"""Model registry: versions, the champion pointer and an append-only event log (SQLAlchemy Core).

Tables (all keyed by model name):

``mg_model_versions``
    One row per trained model version. ``version`` is a per-model sequence starting at 1.
``mg_champions``
    The champion pointer: one row per model name (primary key), so a model has at most one
    champion by construction. The pointed-at version also carries ``status = "champion"``; both
    are written in the same transaction.
``mg_model_events``
    Append-only log (registered, evaluated, promoted, rejected, rolled_back, rollback_failed,
    post_deployment_check, approval_timed_out).
    Nothing in this module deletes a version or an event.

Lifecycle (champion/challenger gate): a version is registered as ``challenger``; an evaluation
against the champion is logged (:meth:`ModelRegistry.record_evaluation`); the challenger is then
either promoted (:meth:`~ModelRegistry.promote`: old champion ``archived``, new one ``champion``)
or ``rejected`` (:meth:`~ModelRegistry.reject`). :meth:`~ModelRegistry.rollback` demotes the
champion to ``rolled_back`` and restores an earlier champion whose artifact still hashes to the
recorded sha256.

Every change of champion is a compare-and-swap on the pointer row, in one transaction with the
status changes and the event: the pointer is only moved ``WHERE version_id = <expected>`` and the
row count is checked, so a decision taken against a champion that has since changed raises
:class:`StaleDecisionError` and changes nothing. On PostgreSQL the pointer row is first locked with
``SELECT ... FOR UPDATE``. On SQLite the conditional ``UPDATE`` is the first statement of the
transaction, so SQLite's writer lock is taken before anything is read and the check and the write
are atomic. The champion history (bootstrap, promotions, restorations by a rollback) is derived
from the ``promoted`` and ``rolled_back`` events, which are written in those same transactions.

Artifacts are joblib files under ``storage.artifact_root``, written, verified and loaded by
the artifact store (:mod:`modelguard.storage.artifacts`): the sha256 recorded at registration
is checked against the exact bytes that are then unpickled, so a file that was changed or
replaced, or a URI outside the root, is never loaded.

Modules: :mod:`.rows` (statuses, events, tables, row types, single-row reads and writes),
:mod:`.history` (the champion history from the event log), :mod:`.gate` (evaluate, promote,
reject; the compare-and-swap), :mod:`.rollback`, and :mod:`.model_registry` (register,
bootstrap, artifacts, reads) whose :class:`ModelRegistry` combines them.

No Airflow imports here: this module is part of the pure core.
"""

from modelguard.storage.artifacts import sha256_file
from modelguard.storage.registry.model_registry import ModelRegistry
from modelguard.storage.registry.rollback import RollbackResult
from modelguard.storage.registry.rows import (
    EVENT_APPROVAL_TIMED_OUT,
    EVENT_CHECKED,
    EVENT_EVALUATED,
    EVENT_PROMOTED,
    EVENT_REGISTERED,
    EVENT_REJECTED,
    EVENT_ROLLBACK_FAILED,
    EVENT_ROLLED_BACK,
    EVENTS,
    FEATURE_TYPES,
    STATUS_ARCHIVED,
    STATUS_CHALLENGER,
    STATUS_CHAMPION,
    STATUS_REJECTED,
    STATUS_ROLLED_BACK,
    STATUSES,
    ModelEvent,
    ModelVersion,
    champions_table,
    model_events_table,
    model_versions_table,
)

__all__ = [
    "EVENTS",
    "EVENT_APPROVAL_TIMED_OUT",
    "EVENT_CHECKED",
    "EVENT_EVALUATED",
    "EVENT_PROMOTED",
    "EVENT_REGISTERED",
    "EVENT_REJECTED",
    "EVENT_ROLLBACK_FAILED",
    "EVENT_ROLLED_BACK",
    "FEATURE_TYPES",
    "STATUSES",
    "STATUS_ARCHIVED",
    "STATUS_CHALLENGER",
    "STATUS_CHAMPION",
    "STATUS_REJECTED",
    "STATUS_ROLLED_BACK",
    "ModelEvent",
    "ModelRegistry",
    "ModelVersion",
    "RollbackResult",
    "champions_table",
    "model_events_table",
    "model_versions_table",
    "sha256_file",
]
