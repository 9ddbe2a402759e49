"""Where a task's time goes: named phases on one clock, with the imports counted apart.

Under the scheduler a task process pays for more than its work: Airflow's task runner starts
(forked from the executor's worker, so Airflow itself is already imported), parses the DAG file,
and every module the task needs is imported again in every task process. :func:`task_timer`
measures, for one task process:

* ``startup``: from the creation of the process (its start time in ``/proc``, a resolution of
  10 ms; None where there is no ``/proc``) to the start of the timed method, of which
  ``dag_file`` is the time :func:`modelguard.factory.build_dags` (the DAG file) took in this
  process, None when it did not run here.
  Under ``dag.test()`` the process is the test's, so ``startup`` is its age, not a task's;
* every named phase of the timed method (``with phase("read"): ...`` anywhere in the code it
  calls): wall time on :func:`time.perf_counter`, without the imports done inside it; time in
  no named phase is ``other``;
* ``imports``: the time spent in ``import`` statements that loaded new modules while the timer
  ran, wherever they happened, and ``modules``: how many were loaded. It wraps
  ``builtins.__import__`` for the timer's lifetime only; imports through
  :func:`importlib.import_module` outside an ``import`` statement are not seen (they count in
  their phase).

Not covered: what Airflow does after the method returns (pushing the XCom, reporting the
state). The sum of the phases is the method's wall time exactly; a task's duration in Airflow
is ``startup`` + that + the remainder.

Pure: no Airflow import. The operators log :meth:`TaskTiming.log_line` (one line, JSON).
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

LOG_PREFIX = "modelguard timing "
"""Start of the one log line a timed task writes; the rest is the JSON of :meth:`TaskTiming.to_dict`."""

IMPORTS = "imports"
OTHER = "other"
HEAVY_PACKAGES = (
    "pandas",
    "scipy.special",
    "scipy.stats",
    "scipy.optimize",
    "matplotlib",
    "sklearn",
)
"""Packages whose import a task's timing names (``heavy``) when the task loaded them."""

_active: TaskTimer | None = None
_spans: dict[str, tuple[float, float]] = {}


def note_span(name: str, start: float, end: float | None = None) -> None:
    """Record that ``name`` took ``[start, end]`` (``perf_counter``) in this process, before any
    timer ran (the DAG file's parse); the next timer reports the span if it lies inside the
    process's life."""
    _spans[name] = (start, time.perf_counter() if end is None else end)


def process_started_at() -> float | None:
    """This process's creation on the ``perf_counter`` clock (CLOCK_MONOTONIC, which counts
    from boot like ``/proc``'s start times), or None where ``/proc`` cannot tell."""
    try:
        with open(f"/proc/{os.getpid()}/stat", "rb") as handle:
            stat = handle.read()
        # the fields after the command name, which is in parentheses and may hold spaces
        fields_after = stat[stat.rindex(b")") + 2 :].split()
        ticks = int(fields_after[19])  # field 22 of proc(5): starttime, in clock ticks
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    started_seconds_ago = uptime - ticks / os.sysconf("SC_CLK_TCK")
    return time.perf_counter() - max(0.0, started_seconds_ago)


@dataclass(frozen=True)
class TaskTiming:
    """One timed method's breakdown, in seconds. ``phases`` add up to ``seconds``."""

    task: str
    seconds: float
    phases: dict[str, float]
    modules: int
    startup: float | None = None
    dag_file: float | None = None
    heavy: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "seconds": round(self.seconds, 4),
            "phases": {k: round(v, 4) for k, v in self.phases.items()},
            "modules": self.modules,
            "startup": None if self.startup is None else round(self.startup, 4),
            "dag_file": None if self.dag_file is None else round(self.dag_file, 4),
            "heavy": list(self.heavy),
        }
        out.update(self.extra)
        return out

    def log_line(self) -> str:
        return LOG_PREFIX + json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_log_line(cls, line: str) -> TaskTiming | None:
        """The timing of a line :meth:`log_line` wrote (anywhere in ``line``), else None."""
        at = line.find(LOG_PREFIX)
        if at < 0:
            return None
        text = line[at + len(LOG_PREFIX) :].strip()
        try:
            data, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            return None
        known = {"task", "seconds", "phases", "modules", "startup", "dag_file", "heavy"}
        return cls(
            task=str(data["task"]),
            seconds=float(data["seconds"]),
            phases={str(k): float(v) for k, v in data["phases"].items()},
            modules=int(data["modules"]),
            startup=data.get("startup"),
            dag_file=data.get("dag_file"),
            heavy=tuple(data.get("heavy") or ()),
            extra={k: v for k, v in data.items() if k not in known},
        )


class TaskTimer:
    """The clock of one timed method: phases in segments, imports taken out of the phase they
    happened in. Use :func:`task_timer` and :func:`phase`, not this class directly."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.modules = 0
        self._current = OTHER
        self._stack: list[str] = []
        self._segment = self.started
        self._thread = threading.get_ident()
        self._original_import: Callable[..., Any] | None = None
        self._hook: Callable[..., Any] = self._import
        self._in_import = threading.local()
        self.timing: TaskTiming | None = None
        self._had = {name for name in HEAVY_PACKAGES if name in sys.modules}

    # -- phases ---------------------------------------------------------------------------------

    def _close_segment(self) -> None:
        now = time.perf_counter()
        self.seconds[self._current] = self.seconds.get(self._current, 0.0) + now - self._segment
        self._segment = now

    def enter(self, name: str) -> None:
        self._close_segment()
        self._stack.append(self._current)
        self._current = name

    def switch(self, name: str) -> None:
        self._close_segment()
        self._current = name

    def leave(self) -> None:
        self._close_segment()
        self._current = self._stack.pop() if self._stack else OTHER

    # -- imports --------------------------------------------------------------------------------

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        original = self._original_import
        assert original is not None
        if getattr(self._in_import, "on", False):
            return original(name, globals, locals, fromlist, level)
        before = len(sys.modules)
        start = time.perf_counter()
        self._in_import.on = True
        try:
            return original(name, globals, locals, fromlist, level)
        finally:
            self._in_import.on = False
            loaded = len(sys.modules) - before
            if loaded > 0 and threading.get_ident() == self._thread:
                elapsed = time.perf_counter() - start
                # the segment running now will count the import's wall time: move it
                self.seconds[self._current] = self.seconds.get(self._current, 0.0) - elapsed
                self.seconds[IMPORTS] = self.seconds.get(IMPORTS, 0.0) + elapsed
                self.modules += loaded

    def install(self) -> None:
        self._original_import = builtins.__import__
        builtins.__import__ = self._hook

    def uninstall(self) -> None:
        if builtins.__import__ is self._hook and self._original_import is not None:
            builtins.__import__ = self._original_import

    # -- result ---------------------------------------------------------------------------------

    def finish(self) -> TaskTiming:
        while self._stack:
            self.leave()
        self._close_segment()
        total = self._segment - self.started
        order = [IMPORTS, *(k for k in self.seconds if k not in (IMPORTS, OTHER)), OTHER]
        phases = {k: max(0.0, self.seconds[k]) for k in order if k in self.seconds}
        born = process_started_at()
        startup = None if born is None else max(0.0, self.started - born)
        dag_file = None
        span = _spans.get("dag_file")
        if span is not None and (born is None or span[1] > born):  # not inherited from a parent
            dag_file = span[1] - (span[0] if born is None else max(span[0], born))
        heavy = tuple(n for n in HEAVY_PACKAGES if n in sys.modules and n not in self._had)
        self.timing = TaskTiming(
            self.task, total, phases, self.modules, startup, dag_file, heavy=heavy
        )
        return self.timing


@contextmanager
def task_timer(task: str, log: Any = None) -> Generator[TaskTimer | None]:
    """Time the block as task ``task``; on the way out (also on an error) log one line
    (:meth:`TaskTiming.log_line`) through ``log.info``. Inside another timer it does nothing
    (yields None): the outer one keeps the clock."""
    global _active
    if _active is not None:
        yield None
        return
    timer = TaskTimer(task)
    timer.install()
    _active = timer
    try:
        yield timer
    finally:
        _active = None
        timer.uninstall()
        timing = timer.finish()
        if log is not None:
            log.info("%s", timing.log_line())


def switch_phase(name: str) -> None:
    """From here on, count the time as phase ``name`` (until the next switch or the end of the
    enclosing :func:`phase`): for a long function in sections, without indenting them."""
    timer = _active
    if timer is not None and threading.get_ident() == timer._thread:
        timer.switch(name)


@contextmanager
def phase(name: str) -> Generator[None]:
    """Count the block's time as phase ``name`` of the running task timer (nothing without
    one). Nested phases count their own time; the outer phase resumes after them."""
    timer = _active
    if timer is None or threading.get_ident() != timer._thread:
        yield
        return
    timer.enter(name)
    try:
        yield
    finally:
        timer.leave()
