"""Hostile inputs against the source reader: times that are no date-time, repeated or oddly
named columns, impossible windows.

Every read and count is checked against an independent computation in Python
(``datetime.fromisoformat`` of the good rows); every row whose time is no date-time is counted
by :func:`unparseable_times`, never dropped silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelguard.core.window import Window
from modelguard.exceptions import DataValidationError, NotADatetimeError
from modelguard.storage.source import (
    count_rows,
    interval_counts,
    label_counts,
    newest_time,
    read_matured,
    read_window,
    unparseable_times,
)

W = Window(datetime(2026, 9, 1), datetime(2026, 9, 2))
AS_OF = datetime(2026, 9, 5)
GOOD_IN = [
    "2026-09-01 00:00:00",  # the start is inside
    "2026-09-01T06:30:00",
    "2026-09-01 10:00:00.123456",
    "2026-09-01T12:00:00Z",
    "2026-09-01 23:30:00+02:00",  # 21:30 UTC
    "2026-09-01 23:59:59.999999",
]
GOOD_OUT = [
    "2026-09-02 00:00:00",  # the end is outside
    "2026-09-02T01:00:00+02:00",  # 23:00 UTC on the 1st: inside after all
    "2026-08-31 23:59:59.999999",
    "2026-09-01",  # date only: midnight, inside
]
# Values SQLite stores that are no date-time text; several would fall in W if a reader took
# SQLite's (or julianday's) word for them.
HOSTILE = [
    1788220800,  # epoch seconds of 2026-09-01 00:00 UTC
    1788220800.5,
    2461284.9,  # a REAL julian day inside W
    "2461284.9",  # the same as text
    2461285,  # an integer julian day
    "garbage",
    "",
    " ",
    None,
    "2026-02-30 10:00:00",  # no such day (julianday() reads it as March 2nd)
    "2026-09-01 25:00:00",
    "2026-9-1 10:00:00",
    "12:00",  # julianday(): 2000-01-01 12:00
    "now",
    b"2026-09-01 10:00:00",  # a blob
    " 2026-09-01 10:00:00",
]


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _expected(times: list, window: Window, good: list[str]) -> list[datetime]:
    """The good times of ``times`` inside ``window``, in UTC, sorted: computed in Python."""
    ok = set(good)
    parsed = [_utc(t) for t in times if isinstance(t, str) and t in ok]
    return sorted(t for t in parsed if window.start <= t < window.end)


def _table(engine, times, labels=None, label_times=None, name="sends"):
    """A source table with untyped time columns (SQLite keeps what it is given)."""
    n = len(times)
    labels = labels if labels is not None else [1] * n
    label_times = label_times if label_times is not None else ["2026-09-03 00:00:00"] * n
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (send_time, age REAL, label INTEGER, label_time)"
        )
        if not n:
            return
        conn.execute(
            sa.text(f"INSERT INTO {name} VALUES (:t, :a, :l, :lt)"),
            [
                {"t": t, "a": float(i), "l": lab, "lt": lt}
                for i, (t, lab, lt) in enumerate(zip(times, labels, label_times, strict=True))
            ],
        )


@pytest.fixture
def sqlite(sqlite_engine):
    return sqlite_engine


# --------------------------------------------------------------------------- send times


@pytest.mark.parametrize("bad", HOSTILE, ids=repr)
def test_a_time_that_is_no_date_time_is_left_out_and_counted(sqlite, bad):
    times = [*GOOD_IN, *GOOD_OUT, bad, bad]
    _table(sqlite, times)
    expected = _expected(times, W, GOOD_IN + GOOD_OUT)
    assert len(expected) == len(GOOD_IN) + 2  # +02:00 on the 2nd and the bare date

    assert count_rows(sqlite, "sends", "send_time", W) == len(expected)
    frame = read_window(sqlite, "sends", "send_time", W, ["send_time", "age"])
    assert list(frame["send_time"].dt.to_pydatetime()) == expected
    assert interval_counts(sqlite, "sends", "send_time", [W]) == [len(expected)]
    sends, labelled = label_counts(sqlite, "sends", "send_time", "label", "label_time", W, AS_OF)
    assert (sends, labelled) == (len(expected), len(expected))
    assert newest_time(sqlite, "sends", "send_time", before=W.end) == expected[-1]

    found = unparseable_times(sqlite, "sends", "send_time")
    assert found.count == 2
    assert found.example is not None
    # The example is the value as an SQL literal: its type shows (text quoted, a blob in hex).
    if bad is None:
        assert found.example == "NULL"
    elif isinstance(bad, bytes):
        assert found.example == f"X'{bad.hex().upper()}'"
    elif isinstance(bad, str):
        assert found.example == "'" + bad + "'"
    else:
        assert float(found.example) == pytest.approx(bad)
    assert "no date-time" in found.message() and "send_time" in found.message()


def test_an_impossible_day_inside_its_window_is_left_out(sqlite):
    window = Window(datetime(2026, 2, 28), datetime(2026, 3, 3))
    times = ["2026-02-28 10:00:00", "2026-02-30 10:00:00", "2026-03-02 10:00:00"]
    _table(sqlite, times)
    assert count_rows(sqlite, "sends", "send_time", window) == 2
    frame = read_window(sqlite, "sends", "send_time", window, ["send_time"])
    assert list(frame["send_time"].dt.to_pydatetime()) == [
        datetime(2026, 2, 28, 10),
        datetime(2026, 3, 2, 10),
    ]
    assert unparseable_times(sqlite, "sends", "send_time").count == 1


def test_a_clean_table_reports_zero(sqlite):
    _table(sqlite, [*GOOD_IN, *GOOD_OUT])
    found = unparseable_times(sqlite, "sends", "send_time")
    assert (found.count, found.example) == (0, None)
    assert found.to_dict() == {"table": "sends", "column": "send_time", "count": 0, "example": None}


_good_time = st.builds(
    lambda minutes, micros, style, offset: _render(
        datetime(2026, 8, 31, 12) + timedelta(minutes=minutes, microseconds=micros),
        style,
        offset,
    ),
    st.integers(0, 48 * 60),
    st.sampled_from([0, 1, 500_000, 999_999]),
    st.sampled_from(["space", "T", "Z", "offset"]),
    st.sampled_from([-120, 0, 90, 330]),
)


def _render(value: datetime, style: str, offset: int) -> str:
    if style == "offset":
        tz = timezone(timedelta(minutes=offset))
        return value.replace(tzinfo=UTC).astimezone(tz).isoformat(sep=" ")
    text = value.isoformat(sep="T" if style in ("T", "Z") else " ")
    return text + ("Z" if style == "Z" else "")


@settings(max_examples=40)
@given(
    good=st.lists(_good_time, max_size=12),
    bad=st.lists(st.sampled_from(HOSTILE), max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_counts_and_reads_agree_with_python_on_any_mix(sqlite_engine_factory, good, bad, order):
    engine = sqlite_engine_factory()
    times = [*good, *bad]
    order.shuffle(times)
    _table(engine, times)
    expected = _expected(times, W, good)
    assert count_rows(engine, "sends", "send_time", W) == len(expected)
    frame = read_window(engine, "sends", "send_time", W, ["send_time"])
    assert list(frame["send_time"].dt.to_pydatetime()) == expected
    assert unparseable_times(engine, "sends", "send_time").count == len(bad)
    engine.dispose()


@pytest.fixture
def sqlite_engine_factory(tmp_path):
    made = []

    def make():
        engine = sa.create_engine(f"sqlite:///{tmp_path / f'h{len(made)}.db'}")
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


# --------------------------------------------------------------------------- label times


@pytest.mark.parametrize("bad", [b for b in HOSTILE if b is not None], ids=repr)
def test_a_label_time_that_is_no_date_time_is_not_labelled_and_counted(sqlite, bad):
    times = GOOD_IN
    label_times = ["2026-09-03 00:00:00"] * len(times)
    label_times[1] = bad
    label_times[2] = bad
    _table(sqlite, times, label_times=label_times)
    sends, labelled = label_counts(sqlite, "sends", "send_time", "label", "label_time", W, AS_OF)
    assert (sends, labelled) == (len(times), len(times) - 2)
    frame = read_matured(
        sqlite, "sends", "send_time", "label", "label_time", W, AS_OF, ["send_time", "label_time"]
    )
    assert len(frame) == labelled
    assert set(frame["label_time"]) == {datetime(2026, 9, 3)}
    found = unparseable_times(
        sqlite, "sends", "label_time", time_column="send_time", window=W, label_column="label"
    )
    assert found.count == 2


def test_a_missing_label_time_of_an_unknown_label_is_no_problem(sqlite):
    _table(sqlite, GOOD_IN, labels=[None] * len(GOOD_IN), label_times=[None] * len(GOOD_IN))
    assert label_counts(sqlite, "sends", "send_time", "label", "label_time", W, AS_OF) == (
        len(GOOD_IN),
        0,
    )
    found = unparseable_times(
        sqlite, "sends", "label_time", time_column="send_time", window=W, label_column="label"
    )
    assert found.count == 0


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    ("asked", "got"),
    [
        (["send_time", "age", "age"], ["send_time", "age"]),
        (["age", "send_time", "age", "send_time"], ["age", "send_time"]),
        (["label", "label", "label"], ["label"]),
        (["age", "label", "age"], ["age", "label"]),
    ],
)
def test_a_column_asked_twice_is_read_once_in_first_order(sqlite, asked, got):
    _table(sqlite, GOOD_IN)
    frame = read_window(sqlite, "sends", "send_time", W, asked)
    assert list(frame.columns) == got
    assert frame.columns.is_unique and len(frame) == len(GOOD_IN)
    matured = read_matured(sqlite, "sends", "send_time", "label", "label_time", W, AS_OF, asked)
    assert list(matured.columns) == got


@pytest.mark.parametrize(
    "columns",
    [["AGE"], ["Age"], ["send_time", "age "], ["nope"]],
)
def test_a_name_differing_in_case_or_spacing_is_refused_naming_it(sqlite, columns):
    _table(sqlite, GOOD_IN)
    with pytest.raises(DataValidationError, match="not found in table 'sends'") as info:
        read_window(sqlite, "sends", "send_time", W, columns)
    assert repr(columns[-1]) in str(info.value) and "case included" in str(info.value)


@pytest.mark.parametrize("columns", [[""], [None], [3], "age", 5], ids=repr)
def test_column_lists_that_are_no_names_are_refused(sqlite, columns):
    _table(sqlite, GOOD_IN)
    with pytest.raises(DataValidationError, match="column"):
        read_window(sqlite, "sends", "send_time", W, columns)


def test_quoted_names_with_spaces_and_case_are_read_correctly(engine):
    """PostgreSQL keeps "Age" and "age" apart; SQLite's names ignore case, so there the table
    has "Age" alone and asking for "age" is refused by name (above)."""
    both = engine.dialect.name == "postgresql"
    extra = ', "age" FLOAT' if both else ""
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE odd ("send time" TIMESTAMP, "Age" FLOAT{extra})'))
        values = "(:t, :big, :small)" if both else "(:t, :big)"
        conn.execute(
            sa.text(f"INSERT INTO odd VALUES {values}"),
            [
                {"t": datetime(2026, 9, 1, h), "big": 100.0 + h, "small": float(h)}
                for h in range(0, 24, 6)
            ],
        )
    asked = ["send time", "Age", "age", "Age"] if both else ["send time", "Age", "Age"]
    frame = read_window(engine, "odd", "send time", W, asked)
    assert list(frame.columns) == (["send time", "Age", "age"] if both else ["send time", "Age"])
    assert list(frame["Age"]) == [100.0, 106.0, 112.0, 118.0]
    if both:
        assert list(frame["age"]) == [0.0, 6.0, 12.0, 18.0]
    assert list(frame["send time"].dt.hour) == [0, 6, 12, 18]
    assert count_rows(engine, "odd", "send time", W) == 4


# --------------------------------------------------------------------------- windows

AWARE = datetime(2026, 9, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (Window(W.end, W.start), "is empty"),
        (Window(W.start, W.start), "is empty"),
        (Window(W.start, AWARE), "mixes a naive and an aware"),
        (Window(W.start.replace(tzinfo=UTC), W.end), "mixes a naive and an aware"),
    ],
)
def test_impossible_windows_are_refused_naming_them(sqlite, window, message):
    _table(sqlite, GOOD_IN)
    for call in (
        lambda: count_rows(sqlite, "sends", "send_time", window),
        lambda: read_window(sqlite, "sends", "send_time", window, ["age"]),
        lambda: label_counts(sqlite, "sends", "send_time", "label", "label_time", window, AS_OF),
        lambda: interval_counts(sqlite, "sends", "send_time", [W, window]),
    ):
        with pytest.raises(DataValidationError, match=message) as info:
            call()
        assert window.start.isoformat() in str(info.value)


@pytest.mark.parametrize("bound", ["2026-09-01", 1788220800, None, 2.5], ids=repr)
def test_a_bound_that_is_no_datetime_is_refused(sqlite, bound):
    _table(sqlite, GOOD_IN)
    with pytest.raises(NotADatetimeError, match="must be a datetime"):
        count_rows(sqlite, "sends", "send_time", Window(bound, W.end))


def test_newest_time_refuses_since_after_before(sqlite):
    _table(sqlite, GOOD_IN)
    with pytest.raises(DataValidationError, match="is empty"):
        newest_time(sqlite, "sends", "send_time", before=W.start, since=W.end)


def test_an_aware_window_reads_like_its_naive_utc_twin(sqlite):
    _table(sqlite, [*GOOD_IN, *GOOD_OUT])
    tz = timezone(timedelta(hours=2))
    aware = Window(
        W.start.replace(tzinfo=UTC).astimezone(tz), W.end.replace(tzinfo=UTC).astimezone(tz)
    )
    assert count_rows(sqlite, "sends", "send_time", aware) == count_rows(
        sqlite, "sends", "send_time", W
    )


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_null_send_times_are_counted(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE sends (send_time TIMESTAMP, age FLOAT)"))
        conn.execute(
            sa.text("INSERT INTO sends VALUES (:t, 1.0)"),
            [
                {"t": datetime(2026, 9, 1, 3)},
                {"t": None},
                {"t": None},
                {"t": datetime(2026, 9, 1, 5)},
            ],
        )
    assert count_rows(pg_engine, "sends", "send_time", W) == 2
    found = unparseable_times(pg_engine, "sends", "send_time")
    assert (found.count, found.example) == (2, "NULL")


@pytest.mark.postgres
def test_postgres_text_time_column_is_refused_clearly(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE sends (send_time TEXT, age FLOAT)"))
        conn.execute(sa.text("INSERT INTO sends VALUES ('2026-09-01 03:00:00', 1.0)"))
    for call in (
        lambda: count_rows(pg_engine, "sends", "send_time", W),
        lambda: read_window(pg_engine, "sends", "send_time", W, ["age"]),
        lambda: newest_time(pg_engine, "sends", "send_time", before=W.end),
    ):
        with pytest.raises(DataValidationError, match="time column 'send_time'.*timestamp"):
            call()
