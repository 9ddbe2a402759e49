"""Episodes replayed from observations: one per condition episode, reminders after
renotify_hours of data time, clears, escalations, reruns and backfills in any order."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from modelguard.alerts.conditions import ANY_KEY, AlertCondition, Assessment
from modelguard.alerts.episodes import Observation, anchor, plan_episodes, replay
from modelguard.alerts.records import AlertRecord

T0 = datetime(2026, 7, 1)
DAG = "m_monitoring"


def at(hour: int) -> datetime:
    return T0 + timedelta(hours=hour)


def obs(hour, *conditions, judged=(("drift", "dataset"),), dag_id=DAG, source="raise_alerts"):
    conds = tuple(
        AlertCondition(kind, key, sev, f"{kind} {sev} at {hour}") for kind, key, sev in conditions
    )
    return Observation(
        dag_id=dag_id,
        source=source,
        interval_start=at(hour) - timedelta(hours=1),
        interval_end=at(hour),
        assessment=Assessment(conds, tuple(judged)),
        run_id=f"run_{hour}",
    )


DRIFT_W = ("drift", "dataset", "warning")
DRIFT_C = ("drift", "dataset", "critical")


class Store:
    """The stored episodes and observations, as the SQL store keeps them (in memory)."""

    def __init__(self, renotify_hours: float = 6):
        self.renotify_hours = renotify_hours
        self.alerts: dict[int, AlertRecord] = {}
        self.observations: dict[tuple, Observation] = {}
        self.events: list[tuple[int, str, datetime]] = []
        self._ids = itertools.count(1)

    def record(self, o: Observation):
        stored = list(self.alerts.values())
        since = anchor(o.interval_end, stored)
        changes = plan_episodes(
            model_name="m",
            current=o,
            previous=self.observations.get(o.identity),
            observations=[x for x in self.observations.values() if x.interval_end >= since],
            stored=stored,
            renotify_hours=self.renotify_hours,
        )
        self.observations[o.identity] = o
        for change in changes:
            alert_id = change.alert_id or next(self._ids)
            self.alerts[alert_id] = AlertRecord(alert_id=alert_id, **change.values)
            self.events += [(alert_id, e, o.interval_end) for e in change.events]
        return changes

    def episodes(self):
        return [
            (
                a.kind,
                a.key,
                a.severity,
                a.status,
                a.first_interval_end,
                a.last_interval_end,
                a.cleared_interval_end,
            )
            for a in sorted(self.alerts.values(), key=lambda a: a.first_interval_end)
        ]

    def open(self):
        return [a for a in self.alerts.values() if a.status == "open"]


def test_a_persisting_condition_is_one_episode_reminded_after_renotify_hours():
    s = Store(renotify_hours=6)
    for hour in range(1, 14):
        s.record(obs(hour, DRIFT_W))
    assert len(s.alerts) == 1
    (a,) = s.alerts.values()
    assert (a.status, a.first_interval_end, a.last_interval_end) == ("open", at(1), at(13))
    assert [(e, t) for _, e, t in s.events] == [
        ("opened", at(1)),
        ("reminder", at(7)),
        ("reminder", at(13)),
    ]
    assert a.last_notified_interval_end == at(13)


def test_clear_escalate_and_reopen_as_a_new_episode():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2, DRIFT_C))
    s.record(obs(3))  # judged, absent: clears
    s.record(obs(4, DRIFT_W))
    assert [(e, t) for _, e, t in s.events] == [
        ("opened", at(1)),
        ("escalated", at(2)),
        ("cleared", at(3)),
        ("opened", at(4)),
    ]
    assert s.episodes() == [
        ("drift", "dataset", "critical", "cleared", at(1), at(2), at(3)),
        ("drift", "dataset", "warning", "open", at(4), at(4), None),
    ]


def test_an_interval_that_did_not_judge_the_condition_leaves_it_open():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2, judged=()))  # e.g. the drift check failed
    assert [a.status for a in s.alerts.values()] == ["open"]
    assert [e for _, e, _ in s.events] == ["opened"]


def test_a_rerun_of_the_same_interval_changes_nothing():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2, DRIFT_W))
    before = dict(s.alerts)
    assert s.record(obs(2, DRIFT_W)) == []
    assert s.record(obs(1, DRIFT_W)) == []
    assert s.alerts == before and len(s.events) == 1


def test_a_rerun_that_no_longer_sees_the_condition_clears_or_withdraws_it():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2, DRIFT_W))
    s.record(obs(2))  # the newest interval rerun without drift: cleared there
    assert s.episodes() == [("drift", "dataset", "warning", "cleared", at(1), at(1), at(2))]
    s.record(obs(1))  # and the first too: nothing is left of it
    (a,) = s.alerts.values()
    assert a.status == "cleared"
    s2 = Store()
    s2.record(obs(1, DRIFT_W))
    s2.record(obs(1))
    (a,) = s2.alerts.values()
    assert a.status == "cleared" and a.details["withdrawn"] is True
    assert [e for _, e, _ in s2.events] == ["opened", "cleared"]


def test_a_rerun_of_the_clearing_interval_reopens_the_episode():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2))
    s.record(obs(2, DRIFT_W))
    assert s.episodes() == [("drift", "dataset", "warning", "open", at(1), at(2), None)]
    assert [e for _, e, _ in s.events] == ["opened", "cleared", "opened"]


def test_a_rerun_joining_two_episodes_keeps_the_older_one():
    s = Store()
    s.record(obs(1, DRIFT_W))
    s.record(obs(2))
    s.record(obs(3, DRIFT_W))
    s.record(obs(2, DRIFT_W))
    assert len(s.open()) == 1
    (survivor,) = s.open()
    assert (survivor.first_interval_end, survivor.last_interval_end) == (at(1), at(3))
    (merged,) = [a for a in s.alerts.values() if a.status == "cleared"]
    assert merged.details["merged_into"] == survivor.alert_id


def test_a_backfill_of_an_older_interval_extends_splits_or_records_history():
    s = Store()
    for hour in (5, 6):
        s.record(obs(hour, DRIFT_W))
    s.record(obs(4, DRIFT_W))  # borders the episode: extends it back, tells nobody
    assert s.episodes() == [("drift", "dataset", "warning", "open", at(4), at(6), None)]
    assert [e for _, e, _ in s.events] == ["opened"]
    s.record(obs(5))  # falls inside: splits it
    assert s.episodes() == [
        ("drift", "dataset", "warning", "cleared", at(4), at(4), at(5)),
        ("drift", "dataset", "warning", "open", at(6), at(6), None),
    ]
    s.record(obs(1, DRIFT_C))  # before a judged absent interval (hour 5? no: hour 4 present)
    s.record(obs(2))
    assert s.episodes()[0] == ("drift", "dataset", "critical", "cleared", at(1), at(1), at(2))


def test_history_found_by_a_backfill_is_recorded_cleared():
    s = Store()
    s.record(obs(10))
    s.record(obs(3, DRIFT_W))
    assert s.episodes() == [("drift", "dataset", "warning", "cleared", at(3), at(3), at(10))]
    assert [e for _, e, _ in s.events] == ["opened", "cleared"]


@pytest.mark.parametrize("seed", range(6))
def test_episodes_do_not_depend_on_the_order_runs_arrive_in(seed):
    import random

    pattern = [DRIFT_W, DRIFT_W, None, DRIFT_C, DRIFT_W, None, None, DRIFT_W]
    observations = [obs(h + 1, *([c] if c else [])) for h, c in enumerate(pattern)]
    in_order = Store()
    for o in observations:
        in_order.record(o)
    shuffled = observations[:]
    random.Random(seed).shuffle(shuffled)
    other = Store()
    for o in shuffled:
        other.record(o)
    assert other.episodes() == in_order.episodes()
    assert len(other.open()) <= 1


def test_health_keys_are_judged_by_the_wildcard_and_cleared_one_by_one():
    judged = (("health", ANY_KEY),)
    s = Store()
    s.record(
        obs(
            1,
            ("health", "health:schema", "critical"),
            ("health", "health:row_count", "warning"),
            judged=judged,
        )
    )
    s.record(obs(2, ("health", "health:schema", "critical"), judged=judged))
    by_key = {a.key: a.status for a in s.alerts.values()}
    assert by_key == {"health:schema": "open", "health:row_count": "cleared"}


def test_one_off_alerts_are_never_cleared_by_monitoring():
    s = Store()
    s.record(
        obs(
            1,
            ("approval_timeout", "approval:v3", "warning"),
            judged=(("approval_timeout", "approval:v3"),),
            source="approval_timed_out",
            dag_id="m_retraining",
        )
    )
    s.record(obs(2))  # a monitoring run judges drift only
    (a,) = s.alerts.values()
    assert (a.kind, a.status) == ("approval_timeout", "open")


def test_changes_come_critical_first_and_two_dags_share_episodes():
    s = Store()
    changes = s.record(
        obs(
            1,
            DRIFT_W,
            ("performance", "degradation", "critical"),
            judged=(("drift", "dataset"), ("performance", "degradation")),
        )
    )
    assert [c.values["kind"] for c in changes] == ["performance", "drift"]
    s.record(obs(2, DRIFT_W, dag_id="m_monitoring_daily"))
    assert len([a for a in s.alerts.values() if a.kind == "drift"]) == 1


def test_replay_alone():
    spans = replay("drift", "dataset", [obs(3), obs(1, DRIFT_W), obs(2, DRIFT_C), obs(4, DRIFT_W)])
    assert [
        (
            sp.first.interval_end,
            sp.last.interval_end,
            sp.severity,
            sp.cleared_by and sp.cleared_by.interval_end,
        )
        for sp in spans
    ] == [
        (at(1), at(2), "critical", at(3)),
        (at(4), at(4), "warning", None),
    ]
