"""`make bench-read`: reading a 1M-row window (13 features and the time column) through
``read_window``, against the floor ``COPY (...) TO STDOUT`` -> ``pandas.read_csv``, against
``pandas.read_sql`` and against the first implementation (``from_records`` over SQLAlchemy
``Row`` objects), on PostgreSQL and on SQLite.

Every time is the median of ``--repeat`` runs in one process, the methods taking turns; each
frame is checked against the first implementation's (``assert_frame_equal`` with exact values
and dtypes, floats bit for bit) and the check is printed. Peak memory is measured per method in
a process of its own (peak RSS during the read minus RSS before it). The rows are the
email_engagement generator's (``include/``): written once into the schema ``mg_bench_read`` of
``MODELGUARD_BENCH_PG_DSN`` (default: ``MODELGUARD_TEST_PG_DSN``, then the test database) and
into ``var/bench/read.sqlite``, and reused while they hold the same rows. Prints numbers,
asserts nothing; writes ``bench/results/read.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from email_engagement.generator import generate_sends
from email_engagement.schema import COLUMNS, FEATURES, TABLE, TIME_COLUMN, sends_table
from modelguard.core.window import Window
from modelguard.storage import frames
from modelguard.storage.source import (
    _order_expr,
    _to_naive_utc_series,
    _window_clause,
    engine_for_url,
    read_window,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "mg_bench_read"
DEFAULT_DSN = "postgresql+psycopg2://modelguard:modelguard@localhost:5432/modelguard_test"
START = datetime(2026, 1, 1)
SENDS_PER_HOUR = 1400
SELECTED = [TIME_COLUMN, *FEATURES]  # what the drift check reads


# -- the data ---------------------------------------------------------------------------------


def make_sends(rows: int) -> tuple[pd.DataFrame, Window]:
    """The generator's first ``rows`` sends from START (fewer if the last second is shared) and
    the window that holds exactly them."""
    hours = int(rows / SENDS_PER_HOUR * 1.3) + 24
    frame = generate_sends(START, START + timedelta(hours=hours), sends_per_hour=SENDS_PER_HOUR)
    while len(frame) <= rows:
        hours *= 2
        frame = generate_sends(START, START + timedelta(hours=hours), sends_per_hour=SENDS_PER_HOUR)
    end = frame[TIME_COLUMN].iloc[rows].to_pydatetime()
    frame = frame[frame[TIME_COLUMN] < end].reset_index(drop=True)
    return frame, Window(START, end)


def _fingerprint(rows: int) -> str:
    return f"email_engagement generate_sends seed 7, {SENDS_PER_HOUR}/h, first {rows} rows"


def load_postgres(engine: sa.Engine, frame: pd.DataFrame, fingerprint: str) -> str:
    """The sends in ``mg_bench_read.email_sends`` (reused when its comment is ``fingerprint``)."""
    table = f"{SCHEMA}.{TABLE}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        comment = conn.execute(
            sa.text("SELECT obj_description(to_regclass(:t), 'pg_class')"), {"t": table}
        ).scalar()
    if comment == fingerprint:
        return table
    metadata = sa.MetaData(schema=SCHEMA)
    sends_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    csv = frame.to_csv(index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f")
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", io.StringIO(csv))
        conn.execute(sa.text(f"COMMENT ON TABLE {table} IS :c"), {"c": fingerprint})
        conn.execute(sa.text(f"ANALYZE {table}"))
    return table


def load_sqlite(path: Path, frame: pd.DataFrame, fingerprint: str) -> str:
    """The sends in a SQLite file, times as SQLAlchemy writes them (reused when it matches)."""
    stamp = path.with_suffix(".fingerprint")
    if path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return TABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}")
    sends_table(sa.MetaData()).create(engine)
    engine.dispose()
    columns: list[list[Any]] = []
    for name in COLUMNS:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            text = values.dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype(object)
            columns.append(text.where(values.notna(), None).tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    with sqlite3.connect(path) as conn:
        marks = ", ".join("?" * len(COLUMNS))
        conn.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", zip(*columns, strict=True))
    stamp.write_text(fingerprint)
    return TABLE


# -- the ways to read -------------------------------------------------------------------------


def _statement(engine: sa.Engine, table: str, window: Window) -> sa.Select[Any]:
    """The statement read_window builds (the same helpers)."""
    schema, _, name = table.rpartition(".")
    return (
        sa.select(*(sa.column(c) for c in SELECTED))
        .select_from(sa.table(name, schema=schema or None))
        .where(_window_clause(engine, TIME_COLUMN, window))
        .order_by(_order_expr(engine, TIME_COLUMN))
    )


def _rows_frame(conn, stmt, columns, types) -> pd.DataFrame:
    """The first implementation: from_records over SQLAlchemy Row objects."""
    return pd.DataFrame.from_records(list(conn.execute(stmt)), columns=columns)


def methods(engine: sa.Engine, table: str, window: Window) -> dict[str, Callable[[], Any]]:
    stmt = _statement(engine, table, window)

    def new() -> pd.DataFrame:
        return read_window(engine, table, TIME_COLUMN, window, SELECTED)

    def old() -> pd.DataFrame:
        chosen = frames.select_frame
        frames.select_frame = _rows_frame
        try:
            return read_window(engine, table, TIME_COLUMN, window, SELECTED)
        finally:
            frames.select_frame = chosen

    def read_sql() -> pd.DataFrame:
        with engine.connect() as conn:
            frame = pd.read_sql(stmt, conn)
        # times as every read converts them (SQLite gives text), so the frames can be compared
        frame[TIME_COLUMN] = _to_naive_utc_series(frame[TIME_COLUMN], table, TIME_COLUMN)
        return frame

    found: dict[str, Callable[[], Any]] = {"read_window": new}
    if engine.dialect.name == "postgresql":

        def copy_floor() -> pd.DataFrame:
            with engine.connect() as conn:
                sql, params = frames._driver_sql(conn, stmt)
                raw = conn.connection.dbapi_connection
                with raw.cursor() as cursor:
                    select = cursor.mogrify(sql, params).decode()
                    buffer = io.BytesIO()
                    cursor.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", buffer)
                buffer.seek(0)
                return pd.read_csv(buffer, header=None, names=SELECTED)

        found["copy_floor"] = copy_floor
    else:

        def fetchall() -> list[tuple[Any, ...]]:
            with engine.connect() as conn:
                result = conn.execute(stmt)
                return result.cursor.fetchall()

        found["cursor_fetchall"] = fetchall
    found["pandas_read_sql"] = read_sql
    found["old_from_records"] = old
    return found


def identical(new: pd.DataFrame, old: pd.DataFrame) -> str:
    """'identical', or what differs (dtypes first)."""
    if list(new.columns) != list(old.columns):
        return f"columns differ: {list(new.columns)} vs {list(old.columns)}"
    dtypes = [f"{c}: {new[c].dtype} vs {old[c].dtype}" for c in old if new[c].dtype != old[c].dtype]
    if dtypes:
        return "dtypes differ: " + "; ".join(dtypes)
    try:
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    except AssertionError as exc:
        return "values differ: " + str(exc).splitlines()[0]
    for column in old:
        if old[column].dtype == np.float64:
            a, b = new[column].to_numpy().view(np.int64), old[column].to_numpy().view(np.int64)
            if not np.array_equal(a, b):
                return f"float bits differ in {column}"
    return "identical"


def time_methods(found: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    found["read_window"]()  # warm the server's and the OS's caches
    times: dict[str, list[float]] = {name: [] for name in found}
    for _ in range(repeat):
        for name, method in found.items():
            t0 = time.perf_counter()
            method()
            times[name].append(time.perf_counter() - t0)
    return times


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_of(backend: str, method: str, rows: int, dsn: str, sqlite_path: Path) -> dict[str, int]:
    """In this process: peak RSS above the RSS before the read, and the frame's own size."""
    engine, table, window = _engine_table(backend, rows, dsn, sqlite_path, load=False)
    first_hour = Window(window.start, window.start + timedelta(hours=1))
    methods(engine, table, first_hour)[method]()  # imports and connections, outside the peak
    before = _rss_bytes()
    result = methods(engine, table, window)[method]()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    size = int(result.memory_usage(deep=True).sum()) if isinstance(result, pd.DataFrame) else 0
    return {"peak_above_start": max(peak - before, 0), "frame_bytes": size}


def _engine_table(
    backend: str, rows: int, dsn: str, sqlite_path: Path, load: bool
) -> tuple[sa.Engine, str, Window]:
    frame, window = make_sends(rows) if load else (None, None)
    if backend == "postgresql":
        engine = engine_for_url(dsn)
        table = f"{SCHEMA}.{TABLE}"
        if frame is not None:
            load_postgres(engine, frame, _fingerprint(rows))
    else:
        engine = engine_for_url(f"sqlite:///{sqlite_path}")
        table = TABLE
        if frame is not None:
            load_sqlite(sqlite_path, frame, _fingerprint(rows))
    if window is None:
        window = _window_of(engine, table)
    return engine, table, window


def _window_of(engine: sa.Engine, table: str) -> Window:
    """The loaded rows' window: from START to just after the newest send."""
    with engine.connect() as conn:
        schema, _, name = table.rpartition(".")
        newest = conn.execute(
            sa.select(sa.func.max(sa.column(TIME_COLUMN))).select_from(
                sa.table(name, schema=schema or None)
            )
        ).scalar_one()
    newest = pd.Timestamp(newest).to_pydatetime()
    return Window(START, newest + timedelta(microseconds=1))


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    engine, table, window = _engine_table(backend, args.rows, args.dsn, args.sqlite, load=True)
    print(f"\n{backend}: data ready in {time.perf_counter() - t0:.0f} s", flush=True)
    found = methods(engine, table, window)
    times = time_methods(found, args.repeat)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    reference = found["old_from_records"]()
    checks = {}
    for name in found:
        if name in ("old_from_records", "cursor_fetchall"):
            continue
        checks[name] = identical(found[name](), reference)
    peaks = {}
    if not args.no_memory:
        for name in found:
            peaks[name] = _peak_in_child(backend, name, args)
    floor_name = "copy_floor" if backend == "postgresql" else "cursor_fetchall"
    floor = median[floor_name]
    print(f"{len(reference):,} rows x {len(SELECTED)} columns ({len(FEATURES)} features + time)")
    print(f"{'method':<18} {'median s':>9} {'x floor':>8} {'x read_window':>14}  peak MiB  frame")
    for name in found:
        peak = peaks.get(name, {})
        shown = f"{peak['peak_above_start'] / 2**20:8.0f}" if peak else "       -"
        print(
            f"{name:<18} {median[name]:9.2f} {median[name] / floor:8.2f} "
            f"{median[name] / median['read_window']:14.2f}  {shown}  {checks.get(name, '')}"
        )
    return {
        "rows": len(reference),
        "columns": SELECTED,
        "floor": floor_name,
        "seconds": times,
        "median_seconds": median,
        "ratio_to_floor": {n: m / floor for n, m in median.items()},
        "speedup_over_old": median["old_from_records"] / median["read_window"],
        "frame_check_against_old": checks,
        "memory": peaks,
    }


def _peak_in_child(backend: str, method: str, args: argparse.Namespace) -> dict[str, int]:
    command = [
        sys.executable,
        __file__,
        "--peak-of",
        f"{backend}:{method}",
        "--rows",
        str(args.rows),
        "--dsn",
        args.dsn,
        "--sqlite",
        str(args.sqlite),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _versions(engine: sa.Engine | None) -> dict[str, str]:
    import psycopg2

    found = {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "sqlalchemy": sa.__version__,
        "psycopg2": psycopg2.__version__.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import pyarrow

        found["pyarrow"] = pyarrow.__version__
    except ImportError:
        found["pyarrow"] = "not installed"
    if engine is not None:
        with engine.connect() as conn:
            found["postgresql"] = conn.execute(sa.text("SHOW server_version")).scalar_one()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("MODELGUARD_BENCH_PG_DSN")
        or os.environ.get("MODELGUARD_TEST_PG_DSN")
        or DEFAULT_DSN,
    )
    parser.add_argument("--sqlite", type=Path, default=ROOT / "var" / "bench" / "read.sqlite")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "read.json")
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_of:
        backend, method = args.peak_of.split(":")
        print(json.dumps(peak_of(backend, method, args.rows, args.dsn, args.sqlite)))
        return

    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, nproc {len(os.sched_getaffinity(0))}",
            "command": " ".join(["python", "bench/bench_read.py", *sys.argv[1:]]),
            "repeat": args.repeat,
            "versions": _versions(
                engine_for_url(args.dsn) if "postgresql" in args.backends else None
            ),
        }
    }
    for backend in args.backends.split(","):
        results[backend] = run_backend(backend, args)
    results["meta"]["seconds"] = round(time.perf_counter() - started)
    if "postgresql" in results:
        pg = results["postgresql"]["ratio_to_floor"]["read_window"]
        print(f"\nread_window on PostgreSQL: {pg:.2f}x the COPY floor (target <= 1.5)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
