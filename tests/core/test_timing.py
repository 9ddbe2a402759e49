"""The task phase timer: phases add up to the wall time, imports are taken out of the phase
they happened in, and the hook it installs is gone afterwards."""

from __future__ import annotations

import builtins
import logging
import sys
import time

import pytest

from modelguard.core import timing
from modelguard.core.timing import TaskTiming, phase, switch_phase, task_timer


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    """A module that takes 0.1 s to import, not imported yet."""
    name = f"mg_slow_import_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_phases_add_up_to_the_wall_time_and_nested_phases_count_their_own():
    with task_timer("t") as timer:
        with phase("read"):
            time.sleep(0.03)
            with phase("compute"):
                time.sleep(0.05)
            time.sleep(0.02)
        time.sleep(0.01)
    t = timer.timing
    assert sum(t.phases.values()) == pytest.approx(t.seconds, abs=1e-6)
    assert t.phases["read"] == pytest.approx(0.05, abs=0.02)
    assert t.phases["compute"] == pytest.approx(0.05, abs=0.02)
    assert t.phases["other"] == pytest.approx(0.01, abs=0.02)
    assert "imports" not in t.phases


def test_an_import_is_counted_as_imports_not_in_its_phase(slow_module):
    with task_timer("t") as timer:
        with phase("compute"):
            __import__(slow_module)
            # already loaded: no second count
            __import__(slow_module)
    t = timer.timing
    assert t.phases["imports"] == pytest.approx(0.1, abs=0.05)
    assert t.phases["compute"] < 0.02
    assert t.modules == 1
    assert t.heavy == ()


def test_the_import_hook_is_removed_also_after_an_error():
    original = builtins.__import__
    with pytest.raises(ZeroDivisionError), task_timer("t"):
        assert builtins.__import__ is not original
        1 / 0  # noqa: B018
    assert builtins.__import__ is original
    assert timing._active is None


def test_a_timer_inside_a_timer_leaves_the_clock_to_the_outer_one():
    with task_timer("outer") as outer:
        with task_timer("inner") as inner:
            switch_phase("write")
            time.sleep(0.02)
    assert inner is None
    assert outer.timing.phases["write"] == pytest.approx(0.02, abs=0.015)


def test_without_a_timer_phases_do_nothing():
    with phase("read"):
        switch_phase("write")
    assert timing._active is None


def test_the_log_line_is_one_line_that_reads_back(caplog):
    log = logging.getLogger("mg-timing-test")
    with caplog.at_level(logging.INFO, logger="mg-timing-test"), task_timer("detect_drift", log):
        with phase("read"):
            time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if timing.LOG_PREFIX in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    back = TaskTiming.from_log_line("[2026-01-01 00:00:00] INFO - " + lines[0])
    assert back.task == "detect_drift"
    assert back.phases["read"] == pytest.approx(0.01, abs=0.01)
    assert TaskTiming.from_log_line("no timing here") is None


def test_startup_is_the_age_of_the_process_and_a_dag_file_span_is_reported():
    born = timing.process_started_at()
    assert born is not None and born < time.perf_counter()
    start = time.perf_counter()
    timing.note_span("dag_file", start, start + 0.25)
    try:
        with task_timer("t") as timer:
            pass
    finally:
        timing._spans.clear()
    assert timer.timing.dag_file == pytest.approx(0.25)
    assert timer.timing.startup == pytest.approx(timer.started - born, abs=0.05)


def test_a_span_from_before_the_process_started_is_not_reported():
    born = timing.process_started_at()
    timing.note_span("dag_file", born - 10, born - 5)  # inherited from a parent, say
    try:
        with task_timer("t") as timer:
            pass
    finally:
        timing._spans.clear()
    assert timer.timing.dag_file is None
