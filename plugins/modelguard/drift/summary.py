"""Window summaries: everything a drift verdict reads from a window, mergeable across partitions.

A window's verdict needs, per feature, only counts and one sorted array: the bin counts over the
profile's edges, the missing and +-inf counts, the category counts by category text (new
categories included, in order of first appearance) and the ascending finite values (for KS and
the Wasserstein distance). Counts add, and sorted runs merge exactly, so a window summarised in
partitions (hours of the window, one mapped Airflow task each) and merged in partition order is
byte for byte the summary of the whole window, and
:func:`~modelguard.drift.detection.detect_drift_from_summary` gives it the same report as
:func:`~modelguard.drift.detection.detect_drift` on the whole frame. No sketch, no error bound:
KS is exact because the values are kept.

Serialised as one zip file (an npz: ``header.json`` plus one ``.npy`` entry per array) with a
format version, validated on load like :meth:`ReferenceProfile.from_stored`. The bytes are
deterministic (fixed zip timestamps), so equal summaries are equal files. Pure: no Airflow, no
file I/O (``modelguard.storage.partitions`` writes and reads the files).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelguard.core import stats
from modelguard.drift.detection import (
    NumericProfile,
    ReferenceProfile,
    numeric_column,
    require_columns,
)
from modelguard.exceptions import DataValidationError, SummaryMismatchError

SUMMARY_FORMAT = 1
HEADER_NAME = "header.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
STRING_KIND, CODE_KIND = "string", "code"
"""What a categorical feature's values were: strings, or integer codes (a category is their
text either way, and a window mixing the two is refused, partitions or not)."""


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """One numeric feature of a window against the profile's ``edges``."""

    edges: np.ndarray  # the profile's edges the counts were taken on
    counts: np.ndarray  # int64 per bin (len(edges) + 1), +-inf in the outer bins; no missing
    n_missing: int
    n_pos_inf: int
    n_neg_inf: int
    finite: np.ndarray  # ascending finite values, float64, -0.0 written as 0.0

    kind = "numeric"

    @property
    def n_rows(self) -> int:
        return int(self.finite.size) + self.n_missing + self.n_pos_inf + self.n_neg_inf

    def sorted_values(self) -> np.ndarray:
        """All non-missing values ascending (-inf first, +inf last), as the KS test reads them."""
        if not (self.n_pos_inf or self.n_neg_inf):
            return self.finite
        return np.concatenate(
            (
                np.full(self.n_neg_inf, -np.inf),
                self.finite,
                np.full(self.n_pos_inf, np.inf),
            )
        )


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """One categorical feature of a window: counts by category text, first appearance first."""

    categories: tuple[str, ...]
    counts: np.ndarray  # int64 per category, each >= 1
    n_missing: int
    value_kind: str | None  # STRING_KIND / CODE_KIND; None when every value is missing

    kind = "categorical"

    @property
    def n_rows(self) -> int:
        return int(self.counts.sum()) + self.n_missing


FeatureSummary = NumericSummary | CategoricalSummary


@dataclass(frozen=True, eq=False)
class WindowSummary:
    """A window (or one partition of it) summarised against one reference profile."""

    profile_key: str  # :func:`profile_key` of the profile the counts were taken against
    n_rows: int
    features: dict[str, FeatureSummary]

    def check_profile(self, profile: ReferenceProfile) -> None:
        """:class:`SummaryMismatchError` unless this summary was taken against ``profile``:
        the same features and kinds, the same bin edges, the same profile."""
        _check_against(self, profile, "the window summary")

    def to_bytes(self, meta: dict[str, Any] | None = None) -> bytes:
        """The npz bytes (``header.json`` with ``meta``, which must be JSON-safe, and arrays);
        the same summary and meta give the same bytes."""
        header: dict[str, Any] = {
            "format": SUMMARY_FORMAT,
            "profile_key": self.profile_key,
            "n_rows": self.n_rows,
            "meta": meta or {},
            "features": [],
        }
        arrays: dict[str, np.ndarray] = {}
        for i, (name, s) in enumerate(self.features.items()):
            entry: dict[str, Any] = {"name": name, "type": s.kind, "n_missing": s.n_missing}
            if isinstance(s, NumericSummary):
                entry.update(
                    edges=[float(e) for e in s.edges], n_pos_inf=s.n_pos_inf, n_neg_inf=s.n_neg_inf
                )
                arrays[f"finite_{i}"] = s.finite
            else:
                entry.update(categories=list(s.categories), value_kind=s.value_kind)
            arrays[f"counts_{i}"] = s.counts
            header["features"].append(entry)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            text = json.dumps(header, sort_keys=True, allow_nan=False).encode()
            zf.writestr(zipfile.ZipInfo(HEADER_NAME, _ZIP_TIME), text)
            for key, arr in arrays.items():
                out = io.BytesIO()
                np.lib.format.write_array(out, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(f"{key}.npy", _ZIP_TIME), out.getvalue())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "window summary") -> tuple[WindowSummary, dict]:
        """Inverse of :meth:`to_bytes`: (summary, meta), every key and array checked (counts
        whole and consistent with the sorted values and edges, values finite and ascending);
        anything else is a :class:`SummaryMismatchError` naming ``where`` and the key."""
        return _load(data, where)


# ----------------------------------------------------------------------------- summarise


def profile_key(profile: ReferenceProfile) -> str:
    """A digest of the profile's JSON (edges, categories, counts, sizes): summaries of two
    partitions merge only when taken against the same profile."""
    text = json.dumps(profile.to_json(), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def summarise(profile: ReferenceProfile, frame, *, what: str = "current window") -> WindowSummary:
    """The summary of ``frame`` (a window or one partition of it) against ``profile``.

    Missing feature columns and values of the wrong type are refused here
    (:class:`DataValidationError`); a feature with no value at all is not, since one empty
    partition is no empty window: :func:`detect_drift_from_summary` refuses it once the whole
    window is known."""
    require_columns(frame, profile.feature_types, what)
    features: dict[str, FeatureSummary] = {}
    for name, ref in profile.features.items():
        col = frame[name]
        missing = bool(col.isna().all())
        if isinstance(ref, NumericProfile):
            values = None if missing else numeric_column(col, name, what)
            features[name] = _numeric_summary(ref.edges, values, len(col))
        else:
            features[name] = _categorical_summary(col, missing, f"{what}: feature {name!r}")
    return WindowSummary(profile_key=profile_key(profile), n_rows=len(frame), features=features)


def _numeric_summary(edges: np.ndarray, values: np.ndarray | None, n: int) -> NumericSummary:
    if values is None:
        empty = np.zeros(0, dtype=np.float64)
        counts = np.zeros(edges.size + 1, dtype=np.int64)
        return NumericSummary(edges, counts, n, 0, 0, empty)
    n_missing = int(np.count_nonzero(np.isnan(values)))
    valid = np.sort(values)[: values.size - n_missing]  # NaN sorts last
    n_neg = int(np.searchsorted(valid, -np.inf, side="right"))
    n_pos = int(valid.size - np.searchsorted(valid, np.inf, side="left"))
    finite = valid[n_neg : valid.size - n_pos]
    _canonical_zeros(finite)
    counts = stats.bin_counts_sorted(valid, edges, n_missing)[:-1]
    return NumericSummary(edges, counts, n_missing, n_pos, n_neg, finite)


def _canonical_zeros(ascending: np.ndarray) -> None:
    """-0.0 as 0.0, in place: a sort leaves the two zeros in any order, and a merged summary
    must be byte for byte the whole window's (no value or statistic changes: -0.0 == 0.0)."""
    lo = int(np.searchsorted(ascending, 0.0, side="left"))
    hi = int(np.searchsorted(ascending, 0.0, side="right"))
    if hi > lo:
        ascending[lo:hi] = 0.0


def _categorical_summary(col, missing: bool, label: str) -> CategoricalSummary:
    if missing:
        return CategoricalSummary((), np.zeros(0, dtype=np.int64), len(col), None)
    codes, categories = stats.category_codes(col, label)
    counts = np.bincount(codes + 1, minlength=len(categories) + 1)
    # category_codes refuses a column mixing strings with numbers, so one value tells its kind
    first = col.iloc[int(np.argmax(codes >= 0))]
    kind = STRING_KIND if isinstance(first, str) else CODE_KIND
    return CategoricalSummary(tuple(categories), counts[1:].astype(np.int64), int(counts[0]), kind)


# ----------------------------------------------------------------------------- merge


def merge(summaries: list[WindowSummary]) -> WindowSummary:
    """One summary of the partitions, in their order (the window's time order): counts added,
    categories in order of first appearance, sorted runs merged exactly (a stable sort of the
    concatenated runs, timsort, which finds the runs). Summaries of different profiles are a
    :class:`SummaryMismatchError` naming the partition."""
    summaries = list(summaries)
    if not summaries:
        raise SummaryMismatchError("merge needs at least one window summary; got none")
    first = summaries[0]
    for i, other in enumerate(summaries[1:], start=1):
        _check_same(first, other, f"partition {i}")
    features: dict[str, FeatureSummary] = {}
    for name, s0 in first.features.items():
        parts = [s.features[name] for s in summaries]
        if isinstance(s0, NumericSummary):
            features[name] = _merge_numeric(parts)
        else:
            features[name] = _merge_categorical(name, parts)
    return WindowSummary(
        profile_key=first.profile_key,
        n_rows=sum(s.n_rows for s in summaries),
        features=features,
    )


def _merge_numeric(parts: list[NumericSummary]) -> NumericSummary:
    finite = np.concatenate([p.finite for p in parts])
    finite.sort(kind="stable")
    return NumericSummary(
        edges=parts[0].edges,
        counts=np.sum([p.counts for p in parts], axis=0, dtype=np.int64),
        n_missing=sum(p.n_missing for p in parts),
        n_pos_inf=sum(p.n_pos_inf for p in parts),
        n_neg_inf=sum(p.n_neg_inf for p in parts),
        finite=finite,
    )


def _merge_categorical(name: str, parts: list[CategoricalSummary]) -> CategoricalSummary:
    kinds = sorted({p.value_kind for p in parts if p.value_kind is not None})
    if len(kinds) > 1:
        raise DataValidationError(
            f"current window: feature {name!r} is categorical but its values are strings in "
            "some partitions and integer codes in others; a category is the text of a string "
            "or of an integer code, never both: cast the column to str"
        )
    totals: dict[str, int] = {}
    for p in parts:
        for category, count in zip(p.categories, p.counts.tolist(), strict=True):
            totals[category] = totals.get(category, 0) + count
    return CategoricalSummary(
        categories=tuple(totals),
        counts=np.fromiter(totals.values(), dtype=np.int64, count=len(totals)),
        n_missing=sum(p.n_missing for p in parts),
        value_kind=kinds[0] if kinds else None,
    )


# ----------------------------------------------------------------------------- checks


def _check_against(summary: WindowSummary, profile: ReferenceProfile, where: str) -> None:
    names, expected = list(summary.features), list(profile.features)
    if names != expected:
        raise SummaryMismatchError(
            f"{where} holds features {names} but the profile has {expected}: it was taken "
            "against another profile; summarise the window again against this one"
        )
    for name, ref in profile.features.items():
        s = summary.features[name]
        if s.kind != ref.kind:
            raise SummaryMismatchError(
                f"{where}: feature {name!r} is {s.kind} there but {ref.kind} in the profile"
            )
        if isinstance(s, NumericSummary) and not np.array_equal(s.edges, ref.edges):
            raise SummaryMismatchError(
                f"{where}: feature {name!r} was binned on edges {s.edges.tolist()!r:.200}, the "
                f"profile has {ref.edges.tolist()!r:.200}; summarise the window again against "
                "this profile"
            )
    key = profile_key(profile)
    if summary.profile_key != key:
        raise SummaryMismatchError(
            f"{where} was taken against profile {summary.profile_key[:12]}, not this one "
            f"({key[:12]}): another model version or a rebuilt profile; summarise the window "
            "again against this profile"
        )


def _check_same(first: WindowSummary, other: WindowSummary, where: str) -> None:
    if other.profile_key != first.profile_key or list(other.features) != list(first.features):
        raise SummaryMismatchError(
            f"{where} was taken against profile {other.profile_key[:12]} with features "
            f"{list(other.features)}, partition 0 against {first.profile_key[:12]} with "
            f"{list(first.features)}; every partition of a window must be summarised against "
            "the same profile"
        )
    for name, s0 in first.features.items():
        s = other.features[name]
        if s.kind != s0.kind or (
            isinstance(s, NumericSummary) and not np.array_equal(s.edges, s0.edges)
        ):
            raise SummaryMismatchError(
                f"{where}: feature {name!r} was summarised differently from partition 0 "
                f"({s.kind} vs {s0.kind}, or other bin edges); summarise every partition "
                "against the same profile"
            )


# ----------------------------------------------------------------------------- load


_HEADER_KEYS = ("features", "format", "meta", "n_rows", "profile_key")
_FEATURE_KEYS = {
    "numeric": ("edges", "n_missing", "n_neg_inf", "n_pos_inf", "name", "type"),
    "categorical": ("categories", "n_missing", "name", "type", "value_kind"),
}
_MAX_COUNT = 2**53


def _fail(where: str, problem: str) -> SummaryMismatchError:
    return SummaryMismatchError(
        f"{where} {problem}; summarise the partition again (it is rewritten on a rerun)"
    )


def _count(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        raise _fail(where, f"key {key!r} must be an integer in [0, 2**53]; got {value!r:.80}")
    return value


def _exact(entry: Any, keys: tuple[str, ...], where: str) -> dict:
    if not isinstance(entry, dict) or tuple(sorted(entry)) != keys:
        got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise _fail(where, f"must hold exactly the keys {', '.join(keys)}; got {got!r:.200}")
    return entry


def _load(data: bytes, where: str) -> tuple[WindowSummary, dict]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _fail(where, f"must be bytes (an npz archive); got {type(data).__name__}")
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
            names = zf.namelist()
            header = json.loads(zf.read(HEADER_NAME)) if HEADER_NAME in names else None
            arrays = {
                n.removesuffix(".npy"): np.lib.format.read_array(
                    io.BytesIO(zf.read(n)), allow_pickle=False
                )
                for n in names
                if n != HEADER_NAME
            }
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: zip, json and npy parsers
        # raise many types (BadZipFile, JSONDecodeError, ValueError, EOFError, ...)
        raise _fail(where, f"is not a readable npz archive ({type(exc).__name__}: {exc})") from exc
    if header is None:
        raise _fail(where, f"has no {HEADER_NAME}")
    fmt = header.get("format") if isinstance(header, dict) else None
    if isinstance(fmt, bool) or fmt != SUMMARY_FORMAT:
        raise SummaryMismatchError(
            f"{where} has format {fmt!r}; this modelguard reads format {SUMMARY_FORMAT}: "
            "summarise the partition again with this version"
        )
    _exact(header, _HEADER_KEYS, where)
    key = header["profile_key"]
    if not isinstance(key, str) or len(key) != 64:
        raise _fail(where, f"key 'profile_key' must be a sha256 hex digest; got {key!r:.80}")
    n_rows = _count(header["n_rows"], where, "n_rows")
    if not isinstance(header["meta"], dict):
        raise _fail(where, "key 'meta' must be a dict")
    entries = header["features"]
    if not isinstance(entries, list) or not entries:
        raise _fail(where, "key 'features' must be a non-empty list")
    features: dict[str, FeatureSummary] = {}
    used: set[str] = set()
    for i, e in enumerate(entries):
        kind = e.get("type") if isinstance(e, dict) else None
        if kind not in _FEATURE_KEYS:
            raise _fail(where, f"feature {i} has type {kind!r}; expected numeric or categorical")
        _exact(e, _FEATURE_KEYS[kind], f"{where} feature {i}")
        name = e["name"]
        if not isinstance(name, str) or not name or name in features:
            raise _fail(where, f"feature {i} has name {name!r}, empty or repeated")
        at = f"{where} feature {name!r}"
        names = (f"counts_{i}", f"finite_{i}") if kind == "numeric" else (f"counts_{i}",)
        for array_name in names:
            if array_name not in arrays:
                raise _fail(at, f"has no array {array_name}")
        used.update(names)
        counts = arrays[f"counts_{i}"]
        if counts.dtype != np.int64 or counts.ndim != 1 or (counts.size and counts.min() < 0):
            raise _fail(at, "counts must be a 1-D array of non-negative int64")
        n_missing = _count(e["n_missing"], at, "n_missing")
        if kind == "numeric":
            s = _load_numeric(e, counts, arrays[f"finite_{i}"], n_missing, at)
        else:
            s = _load_categorical(e, counts, n_missing, at)
        if s.n_rows != n_rows:
            raise _fail(at, f"holds {s.n_rows} rows, the summary {n_rows}")
        features[name] = s
    unknown = sorted(set(arrays) - used)
    if unknown:
        raise _fail(where, f"holds unknown arrays {', '.join(unknown)}")
    return WindowSummary(profile_key=key, n_rows=n_rows, features=features), header["meta"]


def _load_numeric(
    e: dict, counts: np.ndarray, finite: np.ndarray, n_missing: int, at: str
) -> NumericSummary:
    raw = e["edges"]
    ok = isinstance(raw, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in raw
    )
    edges = np.asarray(raw if ok else [], dtype=np.float64)
    if not ok or not np.all(np.isfinite(edges)) or not np.all(edges[1:] > edges[:-1]):
        raise _fail(
            at, f"key 'edges' must be finite, strictly increasing numbers; got {raw!r:.120}"
        )
    if finite.dtype != np.float64 or finite.ndim != 1:
        raise _fail(at, "the sorted values must be a 1-D float64 array")
    if not np.all(np.isfinite(finite)) or not np.all(finite[1:] >= finite[:-1]):
        raise _fail(at, "the sorted values must be finite and ascending")
    if np.any(np.signbit(finite) & (finite == 0)):
        raise _fail(at, "the sorted values hold -0.0 (written as 0.0 in a summary)")
    n_pos = _count(e["n_pos_inf"], at, "n_pos_inf")
    n_neg = _count(e["n_neg_inf"], at, "n_neg_inf")
    expected = stats.bin_counts_sorted(finite, edges, 0)[:-1]
    if expected.size:
        expected[0] += n_neg
        expected[-1] += n_pos
    if counts.shape != expected.shape or not np.array_equal(counts, expected):
        raise _fail(at, "counts do not match its sorted values binned on its edges")
    return NumericSummary(edges, counts, n_missing, n_pos, n_neg, finite)


def _load_categorical(e: dict, counts: np.ndarray, n_missing: int, at: str) -> CategoricalSummary:
    categories = e["categories"]
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise _fail(at, "key 'categories' must be a list of strings")
    if len(set(categories)) != len(categories):
        raise _fail(at, "key 'categories' holds duplicates")
    if counts.size != len(categories) or (counts.size and counts.min() < 1):
        raise _fail(at, "counts must hold one count >= 1 per category")
    kind = e["value_kind"]
    if kind not in (STRING_KIND, CODE_KIND, None) or (kind is None) != (not categories):
        raise _fail(at, f"key 'value_kind' is {kind!r}; expected string or code (null if empty)")
    return CategoricalSummary(tuple(categories), counts, n_missing, kind)
