"""A run's conf may only hold the DAG's own params.

Airflow validates the value of every declared param before a run exists, but accepts conf keys
no param declares: a misspelled ``strateg`` would be ignored and the run would quietly use the
default strategy. Every modelguard DAG sets :func:`refuse_unknown_conf` as the ``pre_execute``
of its tasks (``default_args``), so the first task of such a run fails, naming the key.
"""

from __future__ import annotations

from typing import Any


def unknown_conf_keys(conf: Any, known: Any) -> list[str]:
    """The keys of ``conf`` that are not in ``known``, sorted."""
    if not isinstance(conf, dict):
        return []
    return sorted(str(k) for k in conf if k not in set(known or ()))


def refuse_unknown_conf(context: Any) -> None:
    """Fail the task when the run's conf holds a key the DAG declares no param for."""
    from modelguard.exceptions import UnknownParamError

    dag = context.get("dag")
    run = context.get("dag_run")
    known = sorted((getattr(dag, "params", None) or {}).keys())
    unknown = unknown_conf_keys(getattr(run, "conf", None), known)
    if unknown:
        dag_id = getattr(dag, "dag_id", "this DAG")
        raise UnknownParamError(
            f"the run's conf has key(s) {', '.join(repr(k) for k in unknown)} that {dag_id} "
            f"does not know; its params are: {', '.join(known) or '(none)'}. Fix the spelling "
            "and trigger again (an unknown key would otherwise be ignored and its default used)"
        )
