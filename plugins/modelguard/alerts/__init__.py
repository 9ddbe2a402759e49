"""Alerts: what is wrong with a model or its pipeline (conditions), as stored episodes (records),
and how people are told (notifications). Pure: the store is :mod:`modelguard.storage.alerts`."""
