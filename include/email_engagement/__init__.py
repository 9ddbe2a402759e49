"""Synthetic B2B cold-email engagement data and the classifier modelguard monitors.

``schema`` (column names, feature kinds, table), ``generator`` (deterministic sends with drift
scenarios, idempotent database writes, CLI) and ``model`` (scikit-learn pipeline, train, save,
load). No Airflow imports here; submodules are imported on demand to keep this import light.
"""
