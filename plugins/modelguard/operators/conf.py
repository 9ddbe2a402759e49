"""A run's conf may only hold the DAG's own params, each a finite value.

Airflow validates the value of every declared param before a run exists, but accepts conf keys
no param declares: a misspelled ``strateg`` would be ignored and the run would quietly use the
default strategy. Every modelguard DAG sets :func:`refuse_unknown_conf` as the ``pre_execute``
of its tasks (``default_args``), so the first task of such a run fails, naming the key.

NaN and Infinity (the REST API's JSON, read by Python's json, can carry them) are refused by
the numeric params' schemas at trigger time (``modelguard.factory.monitoring``): in Airflow 3
the execution API turns them into null before a task sees its conf, so a task could not tell
them from "empty". The check here refuses them too, for a conf that reaches a task by another
way (an operator run outside a DAG run, a future Airflow that keeps them).
"""

from __future__ import annotations

import math
from typing import Any


def unknown_conf_keys(conf: Any, known: Any) -> list[str]:
    """The keys of ``conf`` that are not in ``known``, sorted (as text, whatever their type)."""
    if not isinstance(conf, dict):
        return []
    return sorted(str(k) for k in conf if k not in set(known or ()))


def bad_conf_values(conf: Any) -> list[str]:
    """The keys of ``conf`` whose value holds NaN or an infinity (at any depth), sorted: no
    modelguard param takes one, and NaN passes every range check."""
    if not isinstance(conf, dict):
        return []
    return sorted(str(k) for k, v in conf.items() if not _finite(v))


def _finite(value: Any, depth: int = 0) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if depth > 20:
        return True  # deeper than any param; JSON cannot be recursive
    if isinstance(value, dict):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v, depth + 1) for v in value)
    return True


def refuse_unknown_conf(context: Any) -> None:
    """Fail the task when the run's conf is not a mapping, holds a key the DAG declares no
    param for, or a value with NaN or an infinity."""
    from modelguard.exceptions import ConfigError, UnknownParamError

    dag = context.get("dag")
    run = context.get("dag_run")
    conf = getattr(run, "conf", None)
    dag_id = getattr(dag, "dag_id", "this DAG")
    known = sorted((getattr(dag, "params", None) or {}).keys())
    if conf is not None and not isinstance(conf, dict):
        raise ConfigError(
            f"the run's conf is {type(conf).__name__} ({conf!r:.80}); allowed: a mapping of "
            f"{dag_id}'s params ({', '.join(known) or 'none'}) to their values"
        )
    unknown = [k for k in conf or {} if k not in set(known)]
    if unknown:
        raise UnknownParamError(
            f"the run's conf has key(s) {', '.join(repr(k) for k in unknown)} that {dag_id} "
            f"does not know; its params are: {', '.join(known) or '(none)'}. Fix the spelling "
            "and trigger again (an unknown key would otherwise be ignored and its default used)"
        )
    bad = bad_conf_values(conf)
    if bad:
        raise ConfigError(
            f"the run's conf gives {', '.join(repr(k) for k in bad)} a value with NaN or an "
            "infinity; allowed: finite numbers only (leave the param empty to use the config)"
        )
