"""Read-only view of one model's stored history over a period, for the monitoring report and the
Model health page: drift runs and their features, label checks, alerts, versions and events.

Nothing here writes or creates anything: a store whose tables were never created (a model
that has not run yet, an older release without the alert tables) reads as empty, so a page
never turns a look into a schema change. The same statements run on SQLite and PostgreSQL.

No Airflow imports here: this module is part of the pure core.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from modelguard.storage.db import to_naive_utc

__all__ = ["MonitoringHistory"]

_RESULT_TABLES = ("mg_drift_runs", "mg_drift_features", "mg_monitoring_checks")
_REGISTRY_TABLES = ("mg_model_versions", "mg_champions", "mg_model_events")
_ALERT_TABLE = "mg_alerts"


class MonitoringHistory:
    """What the report reads of one model; the constructor does no I/O."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._present: set[str] | None = None

    def _has(self, *tables: str) -> bool:
        if self._present is None:
            from modelguard.storage.source import missing_tables

            wanted = [*_RESULT_TABLES, *_REGISTRY_TABLES, _ALERT_TABLE]
            self._present = set(wanted) - set(missing_tables(self.engine, wanted))
        return all(t in self._present for t in tables)

    # ------------------------------------------------------------------ registry

    def versions(self, model_name: str):
        """Every version of the model, oldest first."""
        if not self._has(*_REGISTRY_TABLES):
            return []
        from modelguard.storage.registry import ModelRegistry

        return ModelRegistry(self.engine).list_versions(model_name)

    def events(self, model_name: str):
        """The model's event log in the order it was written."""
        if not self._has(*_REGISTRY_TABLES):
            return []
        from modelguard.storage.registry import ModelRegistry

        return ModelRegistry(self.engine).events(model_name)

    def champion_id(self, model_name: str) -> int | None:
        """The version id the champion pointer names (None: no champion yet)."""
        if not self._has(*_REGISTRY_TABLES):
            return None
        from modelguard.storage.registry import champions_table as c

        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(c.c.version_id).where(c.c.model_name == model_name)
            ).scalar_one_or_none()

    # ------------------------------------------------------------------ results

    def drift_runs(self, model_name: str, since: datetime, until: datetime):
        """Drift runs of the model (every DAG) whose interval ends in ``(since, until]``."""
        if not self._has("mg_drift_runs"):
            return []
        from modelguard.storage.results import DriftRunRecord, drift_runs_table

        return self._rows(drift_runs_table, DriftRunRecord, model_name, since, until)

    def drift_features(self, model_name: str, since: datetime, until: datetime):
        """Feature rows of those runs."""
        if not self._has("mg_drift_features"):
            return []
        from modelguard.storage.results import FeatureDriftRecord, drift_features_table

        return self._rows(drift_features_table, FeatureDriftRecord, model_name, since, until)

    def checks(self, model_name: str, since: datetime, until: datetime):
        """Label checks (performance, concept drift) whose sends window ends in
        ``(since, until]``."""
        if not self._has("mg_monitoring_checks"):
            return []
        from modelguard.storage.results import MonitoringCheck, monitoring_checks_table

        return self._rows(monitoring_checks_table, MonitoringCheck, model_name, since, until)

    def drift_run(self, model_name: str, dag_id: str, start: datetime, end: datetime):
        """The drift run of one interval of one of the model's DAGs, or None."""
        if not self._has("mg_drift_runs"):
            return None
        from modelguard.storage.results import DriftRunRecord
        from modelguard.storage.results import drift_runs_table as t

        query = sa.select(t).where(
            t.c.model_name == model_name,
            t.c.dag_id == dag_id,
            t.c.interval_start == to_naive_utc(start),
            t.c.interval_end == to_naive_utc(end),
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else _record(DriftRunRecord, row)

    def latest_interval_end(self, model_name: str) -> datetime | None:
        """The newest drift interval end of the model: where its stored history ends."""
        if not self._has("mg_drift_runs"):
            return None
        from modelguard.storage.results import drift_runs_table as t

        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.max(t.c.interval_end)).where(t.c.model_name == model_name)
            ).scalar_one_or_none()

    # ------------------------------------------------------------------ alerts

    def alerts(self, model_name: str, since: datetime, until: datetime, limit: int | None = None):
        """Alert episodes overlapping ``[since, until)``, most severe first."""
        if not self._has(_ALERT_TABLE):
            return []
        from modelguard.storage.alerts import AlertStore

        return AlertStore(self.engine).list_alerts(
            model_name, since=since, until=until, limit=limit
        )

    # ------------------------------------------------------------------ helpers

    def _rows(self, table: sa.Table, cls, model_name: str, since: datetime, until: datetime):
        query = (
            sa.select(table)
            .where(
                table.c.model_name == model_name,
                table.c.interval_end > to_naive_utc(since),
                table.c.interval_end <= to_naive_utc(until),
            )
            .order_by(table.c.interval_end, table.c.interval_start, table.c.dag_id)
        )
        with self.engine.connect() as conn:
            return [_record(cls, row) for row in conn.execute(query)]


def _record(cls, row):
    import dataclasses

    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})
