"""Synthetic B2B SaaS support tickets and the escalation classifier modelguard monitors.

``schema`` (column names, feature kinds, table), ``generator`` (deterministic tickets with drift
scenarios, idempotent database writes, CLI) and ``model`` (one-hot + scaling + logistic
regression, train, save, load). The second example model next to ``email_engagement``: another
table, other features, another estimator, the same modelguard. No Airflow imports here;
submodules are imported on demand to keep this import light.
"""
