"""Writing a synthetic source table, shared by the example models: idempotent replacement of a
time range (a rerun replaces, never duplicates), day-by-day seeding, and the model file helpers.
The example generators only describe their rows; how rows reach a table is the same for all."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sqlalchemy as sa

_WRITE_CHUNK = 20_000


def to_naive_utc(value: datetime | date | str | pd.Timestamp) -> datetime:
    """A naive-UTC ``datetime``; tz-aware input is converted to UTC first."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(UTC).tz_localize(None)
    return ts.to_pydatetime()


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (datetime, float, int, str); missing -> None."""
    lists: list[list[Any]] = []
    for col in columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            values = list(s.dt.to_pydatetime())
        else:
            values = s.astype(object).tolist()
        na = s.isna().to_numpy()
        if na.any():
            values = [None if flag else v for v, flag in zip(values, na.tolist(), strict=True)]
        lists.append(values)
    names = tuple(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def replace_range(
    engine: sa.Engine,
    table: sa.Table,
    frame: pd.DataFrame,
    *,
    start: datetime,
    end: datetime,
    time_column: str,
    id_column: str,
) -> int:
    """Replace the rows of ``table`` with ``start <= time_column < end`` by ``frame``, in one
    transaction.

    Creates the table if it is missing. Rerunning with the same range and frame leaves the
    table unchanged. Every row of ``frame`` must fall inside the range. Returns rows written.
    """
    start = to_naive_utc(start)
    end = to_naive_utc(end)
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    missing = [c for c in (id_column, time_column) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks required column(s) {missing}; has {list(frame.columns)}")
    columns = [c.name for c in table.columns if c.name in frame.columns]
    if len(frame):
        times = pd.to_datetime(frame[time_column])
        if times.dt.tz is not None:
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
            frame = frame.assign(**{time_column: times})
        outside = (times < pd.Timestamp(start)) | (times >= pd.Timestamp(end))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} row(s) of the frame have {time_column} outside "
                f"[{start.isoformat()}, {end.isoformat()})"
            )
    rows = records(frame, columns) if len(frame) else []
    with engine.begin() as conn:
        table.create(conn, checkfirst=True)
        time_col = table.c[time_column]
        conn.execute(sa.delete(table).where(time_col >= start, time_col < end))
        for i in range(0, len(rows), _WRITE_CHUNK):
            conn.execute(sa.insert(table), rows[i : i + _WRITE_CHUNK])
    return len(rows)


def seed_by_day(
    start: datetime,
    end: datetime,
    generate: Callable[[datetime, datetime], pd.DataFrame],
    write: Callable[[pd.DataFrame, datetime, datetime], int],
) -> int:
    """Generate [start, end) day by day and write each day; each day is its own transaction,
    so reruns replace days rather than duplicate them. Returns rows written."""
    start = to_naive_utc(start)
    end = to_naive_utc(end)
    total = 0
    day = start
    while day < end:
        nxt = min(datetime.combine(day.date(), datetime.min.time()) + timedelta(days=1), end)
        total += write(generate(day, nxt), day, nxt)
        day = nxt
    return total


def save_model(model: Any, path: str | os.PathLike[str]) -> str:
    """Dump ``model`` with joblib (creating parent directories); return the file's sha256."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target)
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a model written by :func:`save_model`."""
    return joblib.load(Path(path))


def training_rows(
    frame: pd.DataFrame, features: Any, target: str, sample_weight: Any = None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The rows of ``frame`` whose ``target`` is known: inputs, 0/1 labels, and
    ``sample_weight`` (aligned with ``frame``) cut to the same rows; refused, naming the problem,
    when there is nothing both classes can be learnt from."""
    if frame is None or len(frame) == 0:
        raise ValueError("cannot train on an empty frame")
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} is not in the frame; has {list(frame.columns)}")
    absent = [col for col in features if col not in frame.columns]
    if absent:
        raise ValueError(f"feature column(s) {absent} are not in the frame")
    labelled = frame[target].notna().to_numpy()
    if not labelled.any():
        raise ValueError(f"target column {target!r} has no non-missing values")
    y = frame.loc[labelled, target].astype(int).to_numpy()
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"target column {target!r} has a single class ({classes[0]}); need both 0 and 1"
        )
    X = frame.loc[labelled, list(features)]
    if sample_weight is None:
        return X, y, None
    weights = np.asarray(sample_weight, dtype=float)
    if weights.shape != (len(frame),):
        raise ValueError(
            f"sample_weight has shape {weights.shape}; expected ({len(frame)},) like the frame"
        )
    return X, y, weights[labelled]
