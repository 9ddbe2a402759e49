"""The fast read (PostgreSQL: COPY into pandas.read_csv; SQLite: the cursor's tuples) gives the
frame the first implementation gave, dtypes and values, bit for bit.

The oracle is that implementation itself, kept here only: ``pd.DataFrame.from_records`` over
SQLAlchemy's ``Row`` objects of the same statement (``select_frame`` replaced for the read), the
time columns then converted as every read converts them.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelguard.core.window import Window
from modelguard.exceptions import DataValidationError, TableNotFoundError
from modelguard.storage import frames
from modelguard.storage.source import read_matured, read_window
from tests.conftest_db import engine_spec

T0 = datetime(2026, 9, 1)
W = Window(T0, T0 + timedelta(days=1))
AS_OF = T0 + timedelta(days=5)

TEXTS = [
    "",
    "NA",
    "nan",
    "NaN",
    "null",
    "NULL",
    "None",
    "1",
    "-1.5",
    "N/A",
    "#N/A",
    "True",
    "t",
    " ",
    " padded ",
    "a,b",
    'quote"d',
    '""',
    "multi\nline",
    "cr\rlf\r\n",
    "Zürich 東京 🎉",
    "\\.",
    "\\N",
    "mgnull",
]
FLOATS = [
    0.1,
    1 / 3,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1.7976931348623157e308,
    5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1e-300,
    123456789012345680.0,
    -2.5,
]
INTS = [0, 1, -1, 2**53, 2**53 + 1, -(2**53 + 1), 2**63 - 1, -(2**63), 2**62 + 3]
INTS_32 = [0, 1, -1, 2**31 - 1, -(2**31), 12345]
REALS = [1.1, 3.4028235e38, 1.4e-45, -0.0, math.nan, math.inf, 16777217.0]
DECIMALS = [
    Decimal("1.50"),
    Decimal("-1e-30"),
    Decimal("123456789012345678901234567890.123"),
    Decimal("0"),
    Decimal("NaN"),
]
TZ_PLUS_2 = timezone(timedelta(hours=2))


def _column_types(dialect: str) -> dict[str, sa.types.TypeEngine]:
    """One column of each kind a source table may declare (SQLite has no real REAL)."""
    return {
        "id": sa.Integer(),
        "sent_at": sa.DateTime(),
        "i": sa.Integer(),
        "b": sa.BigInteger(),
        "s": sa.SmallInteger(),
        "flag": sa.Boolean(),
        "txt": sa.Text(),
        "vc": sa.String(40),
        "num": sa.Numeric(),
        "dbl": sa.Float(),
        "rl": sa.REAL() if dialect == "postgresql" else sa.Float(),
        "ts": sa.DateTime(),
        "tstz": sa.DateTime(timezone=True),
        "day": sa.Date(),
        "label": sa.Integer(),
        "label_at": sa.DateTime(),
    }


def _value(kind: str, i: int) -> Any:
    """Row ``i``'s value of column ``kind``: every third row (and more) NULL somewhere."""
    if kind == "id":
        return i
    if kind == "sent_at":
        return T0 + timedelta(minutes=7 * i, microseconds=i * 1001)
    if kind == "i":
        return None if i % 5 == 4 else INTS_32[i % len(INTS_32)]
    if kind == "b":
        return None if i % 5 == 4 else INTS[i % len(INTS)]
    if kind == "s":
        return i % 7 - 3
    if kind == "flag":
        return None if i % 4 == 3 else bool(i % 2)
    if kind in ("txt", "vc"):
        return None if i % 6 == 5 else TEXTS[i % len(TEXTS)][:40]
    if kind == "num":
        return None if i % 3 == 2 else DECIMALS[i % len(DECIMALS)]
    if kind == "dbl":
        return None if i % 7 == 6 else FLOATS[i % len(FLOATS)]
    if kind == "rl":
        return None if i % 8 == 7 else REALS[i % len(REALS)]
    if kind == "ts":
        if i % 5 == 1:
            return None
        if i % 10 in (3, 8):  # the first and the last microsecond Python knows
            return datetime.min if i % 10 == 3 else datetime.max
        return datetime(1901, 1, 1) + timedelta(days=977 * i, seconds=i, microseconds=10 * i)
    if kind == "tstz":
        if i % 5 == 2:
            return None
        return datetime(2026, 3, 29, 0, 30, tzinfo=TZ_PLUS_2) + timedelta(hours=5 * i)
    if kind == "day":
        if i % 4 == 0:
            return None
        return date(1, 1, 1) + timedelta(days=(3333 * i) % 3652058) if i % 9 else date.max
    if kind == "label":
        return None if i % 3 == 0 else i % 2
    if kind == "label_at":
        return None if i % 9 == 8 else T0 + timedelta(days=i % 7, hours=i)
    raise AssertionError(kind)


def _make_table(
    engine: sa.Engine,
    rows: list[dict[str, Any]],
    name: str = "src",
    types: dict[str, sa.types.TypeEngine] | None = None,
) -> sa.Table:
    types = types or _column_types(engine.dialect.name)
    table = sa.Table(name, sa.MetaData(), *(sa.Column(c, t) for c, t in types.items()))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    if rows:
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
    return table


def _rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    kinds = _column_types("postgresql")
    return [{k: _value(k, i) for k in kinds} for i in range(start, start + n)]


def _oracle_frame(conn, stmt, columns, types) -> pd.DataFrame:
    """The first implementation's frame: from_records over SQLAlchemy Row objects."""
    return pd.DataFrame.from_records(list(conn.execute(stmt)), columns=columns)


def _old_way(monkeypatch: pytest.MonkeyPatch, read, *args, **kwargs) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(frames, "select_frame", _oracle_frame)
        return read(*args, **kwargs)


def _assert_identical(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Same columns, dtypes and values; floats bit for bit (-0.0 is no 0.0, every NaN the
    same NaN), objects of the same type and repr (Decimal('1.50') is no Decimal('1.5'))."""
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for column in old.columns:
        a, b = new[column], old[column]
        assert a.dtype == b.dtype, column
        assert type(a.array) is type(b.array), column
        if b.dtype == np.float64:
            assert np.array_equal(a.to_numpy().view(np.int64), b.to_numpy().view(np.int64)), column
        if b.dtype == object:
            assert [_shown(v) for v in a] == [_shown(v) for v in b], column


def _shown(value: Any) -> tuple[type, str]:
    return type(value), repr(bytes(value) if isinstance(value, memoryview) else value)


def _both_ways(monkeypatch, read, *args, **kwargs) -> pd.DataFrame:
    new = read(*args, **kwargs)
    old = _old_way(monkeypatch, read, *args, **kwargs)
    _assert_identical(new, old)
    return new


def _copy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a read that would leave the COPY path for the tuples (PostgreSQL)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the read left the COPY path")

    monkeypatch.setattr(frames, "tuples_frame", refuse)


# -- every kind of column ---------------------------------------------------------------------


def test_every_type_reads_as_before(engine, monkeypatch):
    _make_table(engine, _rows(60))
    if engine.dialect.name == "postgresql":
        # psycopg2 sends -0.0 as a numeric literal, which has no sign; store a real one
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE src SET dbl = '-0'::float8, rl = '-0'::real WHERE id = 2"))
    if engine.dialect.name == "postgresql":
        _copy_only(monkeypatch)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W)
    assert len(frame) == 60
    # the values themselves, not only their agreement with the oracle
    assert frame["sent_at"].dtype == "datetime64[us]"
    assert frame["txt"].dtype == "str"
    assert frame["txt"].isna().sum() == 10 and (frame["txt"] == "").sum() == 3
    assert set(frame["txt"].dropna()) >= {"NA", "nan", "null", "1", "", "Zürich 東京 🎉"}
    assert frame["i"].dtype == np.float64  # a NULL makes an integer column float
    assert frame["s"].dtype == np.int64
    if engine.dialect.name == "postgresql":
        assert frame["b"].iloc[5] == float(-(2**53 + 1)) == -(2.0**53)
        assert frame["b"].iloc[6] == 2.0**63 and math.isnan(frame["b"].iloc[4])
        assert frame["flag"].dtype == object and set(frame["flag"]) == {True, False, None}
        assert frame["num"].iloc[0] == Decimal("1.50") and str(frame["num"].iloc[0]) == "1.50"
        assert frame["day"].iloc[1] == date(1, 1, 1) + timedelta(days=3333)
        assert str(frame["tstz"].dtype) == "datetime64[us, UTC]"
        assert frame["tstz"].iloc[0] == pd.Timestamp("2026-03-28 22:30", tz="UTC")
        dbl = frame["dbl"].to_numpy()
        assert np.signbit(dbl[2]) and dbl[2] == 0.0 and dbl[4] == math.inf and dbl[7] == 5e-324


def test_without_nulls_types_stay_narrow(engine, monkeypatch):
    rows = [
        r | {"b": 2**63 - 1 - k, "flag": k % 2 == 0, "txt": "x"} for k, r in enumerate(_rows(5))
    ]
    _make_table(engine, rows)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, ["b", "flag", "txt"])
    assert frame["b"].tolist() == [2**63 - 1 - k for k in range(5)]
    assert frame["b"].dtype == np.int64
    if engine.dialect.name == "postgresql":
        assert frame["flag"].dtype == bool


@pytest.mark.parametrize("column", list(_column_types("postgresql")))
def test_one_column_alone(engine, monkeypatch, column):
    """One selected column: a row of one '' text is an empty line of the CSV."""
    _make_table(engine, _rows(30))
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, [column])
    assert list(frame.columns) == [column]


def test_only_empty_texts(engine, monkeypatch):
    rows = [r | {"txt": "", "vc": None} for r in _rows(4)]
    _make_table(engine, rows)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, ["txt"])
    assert frame["txt"].tolist() == [""] * 4
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, ["vc", "txt"])
    assert frame["vc"].tolist() == [None] * 4


def test_column_selection_and_order(engine, monkeypatch):
    _make_table(engine, _rows(20))
    wanted = ["txt", "sent_at", "dbl", "txt", "id", "sent_at", "flag"]
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, wanted)
    assert list(frame.columns) == ["txt", "sent_at", "dbl", "id", "flag"]
    assert frame["id"].tolist() == list(range(20))  # ordered by sent_at


@pytest.mark.parametrize("kind", [k for k in _column_types("postgresql") if k != "sent_at"])
def test_a_column_null_on_every_row(engine, monkeypatch, kind):
    rows = [r | {kind: None} for r in _rows(7)]
    _make_table(engine, rows)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W)
    assert frame[kind].dtype == object and frame[kind].tolist() == [None] * 7


@pytest.mark.parametrize(
    "values",
    [[math.nan] * 3, [math.nan, None, math.nan], [None, None, math.nan], [math.inf, None, None]],
)
@pytest.mark.parametrize("kind", ["dbl", "rl"])
def test_nan_is_no_null(engine, monkeypatch, values, kind):
    """A float column of NaN (and NULL) is float64, one of NULL only is object (SQLite stores
    NaN as NULL)."""
    rows = [r | {kind: v} for r, v in zip(_rows(3), values, strict=True)]
    _make_table(engine, rows)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, [kind])
    if engine.dialect.name == "postgresql":
        assert frame[kind].dtype == np.float64


def test_empty_window(engine, monkeypatch):
    _make_table(engine, _rows(10))
    later = Window(T0 + timedelta(days=30), T0 + timedelta(days=31))
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", later)
    assert frame.empty and list(frame.columns) == list(_column_types("postgresql"))
    assert frame["sent_at"].dtype == "datetime64[us]"
    assert all(dtype == np.dtype(object) for dtype in frame.drop(columns="sent_at").dtypes)
    _make_table(engine, [])
    _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W, ["dbl", "sent_at"])


def test_a_window_of_one_row(engine, monkeypatch):
    _make_table(engine, _rows(10))
    one = Window(T0 + timedelta(minutes=14), T0 + timedelta(minutes=15))
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", one)
    assert frame["id"].tolist() == [2]


def test_read_matured(engine, monkeypatch):
    _make_table(engine, _rows(60))
    frame = _both_ways(
        monkeypatch, read_matured, engine, "src", "sent_at", "label", "label_at", W, AS_OF
    )
    assert 0 < len(frame) < 60 and frame["label"].notna().all()
    assert frame["label_at"].dtype == "datetime64[us]"
    _both_ways(
        monkeypatch,
        read_matured,
        engine,
        "src",
        "sent_at",
        "label",
        "label_at",
        W,
        datetime(2026, 9, 3, 12, tzinfo=UTC),
        ["label_at", "num", "label"],
    )


def test_more_rows_than_a_parser_chunk(engine, monkeypatch):
    """read_csv parses 2**20 / (number of columns) rows at a time (rounded down to a power of
    two: 32,768 for 16 columns): an integer column whose first NULL is in a later chunk still
    comes out float64, each value rounded as one float64 conversion rounds it."""
    n = 40_000
    types = {"sent_at": sa.DateTime(), "i": sa.BigInteger(), "t": sa.Text()}
    types |= {f"x{j}": sa.Float() for j in range(13)}
    rows = [
        {
            "sent_at": T0 + timedelta(microseconds=500 * k),
            "i": None if k == n - 1 else 2**53 + k,
            "t": str(k) if k < n - 1 else "",
        }
        | {f"x{j}": k / (j + 7) for j in range(13)}
        for k in range(n)
    ]
    _make_table(engine, rows, types=types)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W)
    assert frame["i"].dtype == np.float64 and frame["i"].iloc[1] == float(2**53)
    assert frame["t"].iloc[-1] == "" and frame["t"].iloc[7] == "7"


# -- PostgreSQL: when the COPY path gives way to the tuples ------------------------------------


@pytest.fixture
def pg(pg_engine) -> sa.Engine:
    return pg_engine


def test_a_text_equal_to_the_null_marker_is_text(pg, monkeypatch):
    monkeypatch.setattr(frames.secrets, "token_hex", lambda _n: "fixed")
    rows = [r | {"txt": "mgnullfixed" if k % 2 else None} for k, r in enumerate(_rows(6))]
    _make_table(pg, rows)
    frame = _both_ways(monkeypatch, read_window, pg, "src", "sent_at", W, ["txt", "id"])
    assert frame["txt"].isna().tolist() == [True, False] * 3
    assert set(frame["txt"].dropna()) == {"mgnullfixed"}


def _sql_table(pg: sa.Engine, declared: str, first_row: str) -> None:
    """A table made in SQL (``declared``: name and columns), holding ``first_row`` at 01:00 and
    a row of NULLs but the time at 02:00."""
    name, columns = declared.split(" ", 1)
    nulls = ", ".join(["NULL"] * (columns.count(",")))
    with pg.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {declared}"))
        conn.execute(
            sa.text(f"INSERT INTO {name} VALUES {first_row}, ('2026-09-01 02:00', {nulls})")
        )


@pytest.mark.parametrize(
    ("column_sql", "value_sql"),
    [
        ("timestamp", "'infinity'"),
        ("timestamp", "'-infinity'"),
        ("date", "'infinity'"),
        ("jsonb", "'{\"a\": [1, 2]}'"),
        ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
        ("integer[]", "'{1,2,NULL}'"),
        ("bytea", "'\\x00ff'"),
        ("interval", "'1 day 02:00'"),
        ("time", "'12:34:56.5'"),
        ("money", "'12.34'"),
    ],
)
def test_values_and_types_copy_does_not_read(pg, monkeypatch, column_sql, value_sql):
    _sql_table(pg, f"odd (sent_at timestamp, v {column_sql})", f"('2026-09-01 01:00', {value_sql})")
    frame = _both_ways(monkeypatch, read_window, pg, "odd", "sent_at", W)
    assert frame["v"].iloc[0] is not None


def test_odd_column_names(pg, monkeypatch):
    """Names that need quoting, a % that psycopg2's binding must leave alone, unicode."""
    names = ["sent_at", "pct%", "with space", 'quo"te', "Ünï", "select"]
    types = dict.fromkeys(names, sa.Float()) | {"sent_at": sa.DateTime(), "Ünï": sa.Text()}
    rows = [{n: float(k) for n in names} | {"sent_at": T0, "Ünï": "ü"} for k in range(3)]
    _make_table(pg, rows, types=types)
    _copy_only(monkeypatch)
    frame = _both_ways(monkeypatch, read_window, pg, "src", "sent_at", W, names[::-1])
    assert list(frame.columns) == names[::-1] and frame["pct%"].tolist() == [0.0, 1.0, 2.0]


def test_a_label_time_of_minus_infinity(pg, monkeypatch):
    """'-infinity' is at or before any as_of: read the old way, and converted as it was."""
    _sql_table(
        pg, "lab (sent_at timestamp, y int, y_at timestamp)", "('2026-09-01 01:00', 1, '-infinity')"
    )
    new = read_matured(pg, "lab", "sent_at", "y", "y_at", W, AS_OF)
    old = _old_way(monkeypatch, read_matured, pg, "lab", "sent_at", "y", "y_at", W, AS_OF)
    _assert_identical(new, old)


@pytest.mark.parametrize(
    ("zone", "offsets"), [("Europe/Berlin", 2), ("Asia/Kolkata", 1), ("America/St_Johns", 1)]
)
def test_a_session_off_utc(pg, monkeypatch, zone, offsets):
    """Timestamptz values come in the session's offsets (+05:30, -02:30, summer and winter):
    one offset is a fixed-offset dtype, two (Berlin's clocks moved on 2026-03-29) an object
    column; the window compares the same either way."""
    url, schema = engine_spec(pg)
    options = f"-csearch_path={schema} -ctimezone={zone}"
    zoned = sa.create_engine(url, connect_args={"options": options})
    try:
        _make_table(zoned, _rows(40))
        frame = _both_ways(monkeypatch, read_window, zoned, "src", "sent_at", W)
        shown = frame["tstz"].dropna().map(lambda t: t.utcoffset()).nunique()
        assert shown == offsets
        assert (frame["tstz"].dtype == object) == (offsets > 1)
        after_the_move = Window(T0 + timedelta(minutes=7), T0 + timedelta(minutes=22))
        frame = _both_ways(monkeypatch, read_window, zoned, "src", "sent_at", after_the_move)
        assert len(frame) == 3 and str(frame["tstz"].dtype).startswith("datetime64[us, UTC")
        spring = Window(datetime(2026, 3, 28), datetime(2026, 4, 10))
        frame = _both_ways(monkeypatch, read_window, zoned, "src", "tstz", spring, ["tstz", "id"])
        assert len(frame) == 32 and frame["tstz"].dtype == "datetime64[us]"
    finally:
        zoned.dispose()


def test_a_server_printing_rounded_floats(pg, monkeypatch):
    """extra_float_digits = 0 makes PostgreSQL print 15 digits (and the tuples of such a
    session hold rounded floats); the COPY read still gets every bit."""
    url, schema = engine_spec(pg)
    _make_table(pg, _rows(20))
    exact = read_window(pg, "src", "sent_at", W, ["dbl", "rl"])
    assert exact["dbl"].iloc[1] == 1 / 3
    rounded = sa.create_engine(
        url, connect_args={"options": f"-csearch_path={schema} -cextra_float_digits=0"}
    )
    try:
        assert _old_way(monkeypatch, read_window, rounded, "src", "sent_at", W)["dbl"].iloc[1] != (
            1 / 3
        )
        _copy_only(monkeypatch)
        _assert_identical(read_window(rounded, "src", "sent_at", W, ["dbl", "rl"]), exact)
    finally:
        rounded.dispose()


def test_errors_stay_the_same(pg, monkeypatch):
    _make_table(pg, _rows(3))
    with pytest.raises(TableNotFoundError, match="'nope'"):
        read_window(pg, "nope", "sent_at", W)
    with pytest.raises(DataValidationError, match="'zz' not found in table 'src'"):
        read_window(pg, "src", "sent_at", W, ["zz"])
    with pytest.raises(DataValidationError, match="time column 'txt'"):
        read_window(pg, "src", "txt", W)


def test_a_database_error_during_copy_is_sqlalchemy_s(pg):
    """A failure inside COPY surfaces as SQLAlchemy's error class, as an execute's would."""
    _make_table(pg, _rows(3))
    with pg.begin() as conn:
        conn.execute(sa.text("CREATE VIEW boom AS SELECT sent_at, 1 / (id - 1) AS v FROM src"))
    with pytest.raises(sa.exc.DataError, match="division by zero"):
        read_window(pg, "boom", "sent_at", W)


# -- generated rows ---------------------------------------------------------------------------

_texts = st.one_of(
    st.sampled_from(TEXTS),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
)
_row = st.fixed_dictionaries(
    {
        "i": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        "dbl": st.one_of(st.none(), st.floats(allow_nan=True), st.sampled_from(FLOATS)),
        "txt": st.one_of(st.none(), _texts),
        "flag": st.one_of(st.none(), st.booleans()),
    }
)
_GENERATED = {
    "sent_at": sa.DateTime(),
    "i": sa.BigInteger(),
    "dbl": sa.Float(),
    "txt": sa.Text(),
    "flag": sa.Boolean(),
}


@settings(
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(_row, max_size=25))
@example(rows=[{"i": None, "dbl": None, "txt": "", "flag": None}])
@example(rows=[{"i": 2**63 - 1, "dbl": math.nan, "txt": "NA", "flag": True}] * 2)
def test_generated_rows(engine, monkeypatch, rows):
    stamped = [r | {"sent_at": T0 + timedelta(seconds=k)} for k, r in enumerate(rows)]
    _make_table(engine, stamped, types=_GENERATED)
    frame = _both_ways(monkeypatch, read_window, engine, "src", "sent_at", W)
    assert len(frame) == len(rows)
