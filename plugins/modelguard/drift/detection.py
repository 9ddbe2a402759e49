"""Data drift: a reference profile built once per model version, and reports against it.

The profile keeps everything later comparisons need (bin edges and counts, category counts, a
sorted sample for KS, missing shares, feature->target relations), so monitoring reads only the
new window and never re-reads training data. Numeric columns are sorted once per frame; binning
and the KS statistic then work on sorted arrays, which is what keeps a 1M-row check near the
cost of sorting.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelguard.config import DriftDetectionConfig, section_with
from modelguard.core import stats
from modelguard.core.records import fields_from_dict
from modelguard.core.scoring import binary_labels, require_unique_columns
from modelguard.exceptions import DataValidationError, MalformedResultError, ProfileError

FEATURE_TYPES = ("numeric", "categorical")
MISSING_LABEL = "missing"
"""Display label of the missing-value bin. A category may have the same text, so the bin is
identified by position and by ``bins["kinds"]`` (see :data:`BIN_KINDS`), never by this label."""
BIN_KINDS = ("bin", "category", "new", "missing")
"""What each entry of a report's ``bins["labels"]`` is: a numeric bin, a reference category, a
category the reference never saw, or the missing values (always the last entry)."""
PROFILE_FORMAT = 1


@dataclass(frozen=True)
class NumericProfile:
    edges: np.ndarray  # unique interior quantile edges
    counts: np.ndarray  # per bin, then missing
    n_rows: int
    n_missing: int
    sorted_sample: np.ndarray  # all sorted values, or evenly spaced order statistics
    mean: float | None
    std: float | None
    concept: dict[str, Any] = field(default_factory=dict)

    kind = "numeric"

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows


@dataclass(frozen=True)
class CategoricalProfile:
    categories: tuple[str, ...]
    counts: np.ndarray  # per category, then missing
    n_rows: int
    n_missing: int
    concept: dict[str, Any] = field(default_factory=dict)

    kind = "categorical"

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows


FeatureProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class ReferenceProfile:
    features: dict[str, FeatureProfile]
    n_rows: int
    bins: int
    target: str | None = None
    target_rate: float | None = None

    @property
    def feature_types(self) -> dict[str, str]:
        return {name: p.kind for name, p in self.features.items()}

    def to_json(self) -> dict[str, Any]:
        """The small part of the profile, JSON-safe; the sorted samples go in ``arrays_bytes``."""
        feats: dict[str, Any] = {}
        for name, p in self.features.items():
            entry: dict[str, Any] = {
                "type": p.kind,
                "counts": [int(c) for c in p.counts],
                "n_rows": p.n_rows,
                "n_missing": p.n_missing,
                "concept": p.concept,
            }
            if isinstance(p, NumericProfile):
                entry.update(edges=[float(e) for e in p.edges], mean=p.mean, std=p.std)
                entry["sample_size"] = int(p.sorted_sample.size)
            else:
                entry["categories"] = list(p.categories)
            feats[name] = entry
        return {
            "format": PROFILE_FORMAT,
            "n_rows": self.n_rows,
            "bins": self.bins,
            "target": self.target,
            "target_rate": self.target_rate,
            "features": feats,
        }

    def arrays_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {
            f"sample__{name}": p.sorted_sample
            for name, p in self.features.items()
            if isinstance(p, NumericProfile)
        }
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_stored(cls, data: dict[str, Any], arrays: bytes | None) -> ReferenceProfile:
        """Inverse of :meth:`to_json` and :meth:`arrays_bytes`, validated against the schema.

        A stored profile comes from the registry's database, so it is checked as input:
        every key present and of its type, no unknown key, counts non-negative integers of
        the right length summing to ``n_rows``, edges finite and strictly increasing, the
        sample 1-D, finite, sorted and of its recorded size, rates in [0, 1]. Anything else
        is a :class:`ProfileError` naming the feature and the key.
        """
        if not isinstance(data, dict):
            raise ProfileError(
                f"reference profile must be a dict (ReferenceProfile.to_json()); got "
                f"{type(data).__name__}"
            )
        fmt = data.get("format")
        if isinstance(fmt, bool) or fmt != PROFILE_FORMAT:
            raise ProfileError(
                f"reference profile format {fmt!r} is not supported "
                f"(expected {PROFILE_FORMAT}); rebuild the profile for this model version"
            )
        _exact_keys(data, _PROFILE_KEYS, "reference profile")
        n_rows = _stored_int(data["n_rows"], "reference profile key 'n_rows'", minimum=1)
        bins = _stored_int(data["bins"], "reference profile key 'bins'", minimum=1)
        target = data["target"]
        if target is not None and not (isinstance(target, str) and target):
            raise ProfileError(
                f"reference profile key 'target' must be a column name or null; got {target!r}"
            )
        if target is None:
            if data["target_rate"] is not None:
                raise ProfileError(
                    "reference profile key 'target_rate' must be null when 'target' is null; "
                    f"got {data['target_rate']!r}"
                )
            target_rate = None
        else:
            target_rate = _stored_float(
                data["target_rate"], "reference profile key 'target_rate'", low=0.0, high=1.0
            )
        entries = data["features"]
        if not isinstance(entries, dict) or not entries:
            raise ProfileError(
                "reference profile key 'features' must be a non-empty dict of feature name to "
                f"profile; got {entries!r:.80}"
            )
        samples = _load_samples(arrays)
        feats: dict[str, FeatureProfile] = {}
        for name, e in entries.items():
            if not isinstance(name, str) or not name:
                raise ProfileError(f"reference profile feature name {name!r} is not a string")
            feats[name] = _stored_feature(name, e, n_rows, bins, target is not None, samples)
        unknown = sorted(set(samples) - {n for n, f in feats.items() if f.kind == "numeric"})
        if unknown:
            raise ProfileError(
                f"reference profile arrays hold samples for {', '.join(map(repr, unknown))}, "
                "which are not numeric features of the profile"
            )
        return cls(features=feats, n_rows=n_rows, bins=bins, target=target, target_rate=target_rate)


_PROFILE_KEYS = ("format", "n_rows", "bins", "target", "target_rate", "features")
_FEATURE_KEYS = {
    "numeric": (
        "type",
        "counts",
        "n_rows",
        "n_missing",
        "concept",
        "edges",
        "mean",
        "std",
        "sample_size",
    ),
    "categorical": ("type", "counts", "n_rows", "n_missing", "concept", "categories"),
}
_CONCEPT_KEYS = ("mutual_information", "correlation", "target_rate_by_bin")
_SAMPLE_PREFIX = "sample__"
_RATE_SLACK = 1e-9
"""Rounding room for a stored correlation or mutual information at its bound."""


def _exact_keys(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in entry]
    unknown = sorted(str(k) for k in entry if k not in keys)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"lacks key(s) {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"has unknown key(s) {', '.join(map(repr, unknown))}")
        raise ProfileError(
            f"{where} {' and '.join(parts)}; expected exactly {', '.join(keys)} "
            "(rebuild the profile for this model version)"
        )


_MAX_STORED_INT = 2**53
"""Row counts beyond this are not real (and would overflow int64 sums)."""


def _stored_int(value: Any, where: str, *, minimum: int = 0) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not minimum <= value <= _MAX_STORED_INT
    ):
        raise ProfileError(f"{where} must be an integer in [{minimum}, 2**53]; got {value!r:.80}")
    return int(value)


def _stored_float(
    value: Any,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    optional: bool = False,
) -> float | None:
    if value is None and optional:
        return None
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    number = float(value) if ok else math.nan
    if not (
        ok
        and math.isfinite(number)
        and (low is None or number >= low)
        and (high is None or number <= high)
    ):
        bounds = f" in [{low:g}, {high:g}]" if low is not None and high is not None else ""
        bounds = bounds or (f" >= {low:g}" if low is not None else "")
        none = " or null" if optional else ""
        raise ProfileError(f"{where} must be a finite number{bounds}{none}; got {value!r:.80}")
    return number


def _stored_list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ProfileError(f"{where} must be a list; got {type(value).__name__}")
    return value


def _load_samples(arrays: bytes | None) -> dict[str, np.ndarray]:
    """The sorted samples of the numeric features; bytes that are not the npz archive
    :meth:`ReferenceProfile.arrays_bytes` writes are a :class:`ProfileError`."""
    if arrays is None or len(arrays) == 0:
        return {}
    if not isinstance(arrays, bytes | bytearray | memoryview):
        raise ProfileError(
            f"reference profile arrays must be bytes (an npz archive); got {type(arrays).__name__}"
        )
    try:
        with np.load(io.BytesIO(bytes(arrays)), allow_pickle=False) as npz:
            loaded = {k: npz[k] for k in npz.files}
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: numpy's zip, zlib and header
        # parsers raise a dozen types (BadZipFile, zlib.error, SyntaxError from the header's
        # literal_eval, ValueError, EOFError, ...); each one means "not a readable archive"
        raise ProfileError(
            f"reference profile arrays are not a readable npz archive ({type(exc).__name__}: "
            f"{exc}); rebuild the profile for this model version"
        ) from exc
    samples: dict[str, np.ndarray] = {}
    for key, arr in loaded.items():
        if not key.startswith(_SAMPLE_PREFIX):
            raise ProfileError(
                f"reference profile arrays hold {key!r}; expected only {_SAMPLE_PREFIX}<feature>"
            )
        samples[key.removeprefix(_SAMPLE_PREFIX)] = arr
    return samples


def _stored_feature(
    name: str,
    e: Any,
    n_rows: int,
    bins: int,
    has_target: bool,
    samples: dict[str, np.ndarray],
) -> FeatureProfile:
    where = f"reference profile feature {name!r}"
    if not isinstance(e, dict):
        raise ProfileError(f"{where} must be a dict; got {type(e).__name__}")
    kind = e.get("type")
    if kind not in FEATURE_TYPES:
        raise ProfileError(f"{where} key 'type' must be one of {FEATURE_TYPES}; got {kind!r:.80}")
    _exact_keys(e, _FEATURE_KEYS[kind], where)
    raw_counts = _stored_list(e["counts"], f"{where} key 'counts'")
    for c in raw_counts:
        _stored_int(c, f"{where} key 'counts' entry")
    counts = np.asarray(raw_counts, dtype=np.int64)
    feature_rows = _stored_int(e["n_rows"], f"{where} key 'n_rows'", minimum=1)
    if feature_rows != n_rows:
        raise ProfileError(
            f"{where} key 'n_rows' is {feature_rows}, but the profile has {n_rows} rows"
        )
    n_missing = _stored_int(e["n_missing"], f"{where} key 'n_missing'")
    if n_missing >= n_rows:
        raise ProfileError(
            f"{where} key 'n_missing' is {n_missing} of {n_rows} rows; a profiled feature has "
            "at least one value"
        )
    if kind == "numeric":
        raw_edges = _stored_list(e["edges"], f"{where} key 'edges'")
        edges = np.asarray(
            [_stored_float(x, f"{where} key 'edges' entry") for x in raw_edges], dtype=np.float64
        )
        if edges.size > bins - 1 or not np.all(edges[1:] > edges[:-1]):
            raise ProfileError(
                f"{where} key 'edges' must be at most bins - 1 = {bins - 1} strictly increasing "
                f"numbers; got {raw_edges!r:.120}"
            )
        expected = edges.size + 2
    else:
        categories = _stored_list(e["categories"], f"{where} key 'categories'")
        if not categories or not all(isinstance(c, str) for c in categories):
            raise ProfileError(f"{where} key 'categories' must be a non-empty list of strings")
        if len(set(categories)) != len(categories):
            raise ProfileError(f"{where} key 'categories' holds duplicates")
        expected = len(categories) + 1
    if counts.size != expected:
        what = "len(edges) + 2" if kind == "numeric" else "len(categories) + 1"
        raise ProfileError(
            f"{where} key 'counts' has {counts.size} entries; expected {what} = {expected}"
        )
    if int(counts.sum()) != n_rows or int(counts[-1]) != n_missing:
        raise ProfileError(
            f"{where} key 'counts' sums to {int(counts.sum())} with {int(counts[-1])} missing; "
            f"expected {n_rows} rows with n_missing {n_missing}"
        )
    concept = _stored_concept(e["concept"], where, has_target, counts.size)
    if kind == "categorical":
        return CategoricalProfile(
            categories=tuple(categories),
            counts=counts,
            n_rows=n_rows,
            n_missing=n_missing,
            concept=concept,
        )
    mean = _stored_float(e["mean"], f"{where} key 'mean'", optional=True)
    std = _stored_float(e["std"], f"{where} key 'std'", low=0.0, optional=True)
    size = _stored_int(e["sample_size"], f"{where} key 'sample_size'", minimum=1)
    if size > n_rows - n_missing:
        raise ProfileError(
            f"{where} key 'sample_size' is {size}, more than its {n_rows - n_missing} values"
        )
    if name not in samples:
        raise ProfileError(f"reference profile has no stored sample for {name!r}")
    sample = samples[name]
    if sample.dtype != np.float64 or sample.ndim != 1 or sample.size != size:
        raise ProfileError(
            f"{where}: the stored sample must be a 1-D float64 array of sample_size {size}; got "
            f"dtype {sample.dtype}, shape {sample.shape}"
        )
    if not np.all(np.isfinite(sample)) or not np.all(sample[1:] >= sample[:-1]):
        raise ProfileError(f"{where}: the stored sample must be finite and sorted ascending")
    # the sample keeps the reference minimum, and the maximum when it holds two values or more
    if edges.size and (edges[0] < sample[0] or (size > 1 and edges[-1] > sample[-1])):
        raise ProfileError(
            f"{where} key 'edges' lie outside the sample's range [{sample[0]:g}, {sample[-1]:g}]"
        )
    return NumericProfile(
        edges=edges,
        counts=counts,
        n_rows=n_rows,
        n_missing=n_missing,
        sorted_sample=sample,
        mean=mean,
        std=std,
        concept=concept,
    )


def _stored_concept(concept: Any, where: str, has_target: bool, n_bins: int) -> dict[str, Any]:
    """{} without a target; else MI, correlation and one rate (or null) per bin."""
    where = f"{where} key 'concept'"
    if not isinstance(concept, dict):
        raise ProfileError(f"{where} must be a dict; got {type(concept).__name__}")
    if not has_target:
        if concept:
            raise ProfileError(f"{where} must be empty: the profile has no target")
        return {}
    _exact_keys(concept, _CONCEPT_KEYS, where)
    mi = _stored_float(
        concept["mutual_information"], f"{where} 'mutual_information'", low=-_RATE_SLACK
    )
    corr = _stored_float(
        concept["correlation"],
        f"{where} 'correlation'",
        low=-1 - _RATE_SLACK,
        high=1 + _RATE_SLACK,
        optional=True,
    )
    rates = _stored_list(concept["target_rate_by_bin"], f"{where} 'target_rate_by_bin'")
    if len(rates) != n_bins:
        raise ProfileError(
            f"{where} 'target_rate_by_bin' has {len(rates)} entries for {n_bins} bins"
        )
    checked = [
        _stored_float(r, f"{where} 'target_rate_by_bin' entry", low=0.0, high=1.0, optional=True)
        for r in rates
    ]
    return {"mutual_information": mi, "correlation": corr, "target_rate_by_bin": checked}


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    type: str
    tests: tuple[str, ...]
    psi: float | None
    ks_statistic: float | None
    ks_pvalue: float | None
    chi2_statistic: float | None
    chi2_pvalue: float | None
    pvalue_adjusted: float | None
    effect_size: float | None
    effect_measure: str
    severity: str
    drifted: bool
    reason: str
    missing_share_reference: float
    missing_share_current: float
    new_categories: dict[str, float]
    n_reference: int
    n_current: int
    bins: dict[str, list]
    # Added with the scale/tail rule; reports stored before it load with these defaults.
    psi_pvalue: float | None = None
    wasserstein: float | None = None  # Wasserstein-1 in reference spreads (numeric only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "tests": list(self.tests),
            "psi": self.psi,
            "ks_statistic": self.ks_statistic,
            "ks_pvalue": self.ks_pvalue,
            "chi2_statistic": self.chi2_statistic,
            "chi2_pvalue": self.chi2_pvalue,
            "pvalue_adjusted": self.pvalue_adjusted,
            "effect_size": self.effect_size,
            "effect_measure": self.effect_measure,
            "severity": self.severity,
            "drifted": self.drifted,
            "reason": self.reason,
            "missing_share_reference": self.missing_share_reference,
            "missing_share_current": self.missing_share_current,
            "new_categories": dict(self.new_categories),
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "bins": self.bins,
            "psi_pvalue": self.psi_pvalue,
            "wasserstein": self.wasserstein,
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> FeatureDrift:
        """Inverse of :meth:`to_dict` (which leaves the name to the report's key); a report
        stored before ``psi_pvalue`` and ``wasserstein`` existed loads with them None."""
        if isinstance(data, dict):
            data = {**_FEATURE_DRIFT_ADDED, "name": name, **data}
        values = fields_from_dict(cls, data)
        values["tests"] = tuple(values["tests"])
        values["new_categories"] = dict(values["new_categories"])
        return cls(**values)


_FEATURE_DRIFT_ADDED: dict[str, Any] = {"psi_pvalue": None, "wasserstein": None}
"""FeatureDrift fields newer than the first stored reports, with the value an old one means."""


@dataclass(frozen=True)
class DriftReport:
    dataset_drift: bool
    dataset_drift_reason: str
    verdict: str  # "major" | "minor" | "healthy"
    features: dict[str, FeatureDrift]
    n_reference: int
    n_current: int
    thresholds: dict[str, Any]
    model_name: str | None = None
    model_version: int | None = None
    window: dict[str, str] | None = None

    @property
    def drifted_features(self) -> list[str]:
        return [name for name, f in self.features.items() if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "window": self.window,
            "verdict": self.verdict,
            "dataset_drift": self.dataset_drift,
            "dataset_drift_reason": self.dataset_drift_reason,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "thresholds": self.thresholds,
            "drifted_features": self.drifted_features,
            "features": {name: f.to_dict() for name, f in self.features.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Inverse of :meth:`to_dict` (the stored drift_report.json); the derived
        ``drifted_features`` key is ignored."""
        values = fields_from_dict(cls, data)
        if not isinstance(values["features"], dict):
            raise MalformedResultError(
                f"DriftReport.from_dict: 'features' must be a dict; got "
                f"{type(values['features']).__name__}"
            )
        values["features"] = {
            name: FeatureDrift.from_dict(name, f) for name, f in values["features"].items()
        }
        return cls(**values)


# ----------------------------------------------------------------------------- column handling


def require_columns(frame, features: dict[str, str], what: str) -> None:
    """:class:`DataValidationError` naming the feature columns ``frame`` (``what``) lacks.
    Shared with concept drift, which reads the same profile's features. Duplicated column
    names are refused too (``frame[name]`` would be two columns)."""
    require_unique_columns(frame, what)
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{what} is missing feature column(s) {', '.join(missing)}; "
            f"columns present: {', '.join(map(str, frame.columns))}"
        )


def numeric_values(frame, name: str, what: str) -> np.ndarray:
    """Feature ``name`` as float64 (missing = NaN); an all-missing or non-numeric column is a
    :class:`DataValidationError` saying how to fix it."""
    col = frame[name]
    if col.isna().all():
        raise DataValidationError(only_missing_message(what, name))
    return numeric_column(col, name, what)


def only_missing_message(what: str, name: str) -> str:
    return f"{what}: feature {name!r} has only missing values"


def numeric_column(col, name: str, what: str) -> np.ndarray:
    """A column holding at least one value as float64 (missing = NaN); a non-numeric dtype is
    a :class:`DataValidationError` saying how to fix it."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        example = col.dropna().iloc[0]
        raise DataValidationError(
            f"{what}: feature {name!r} is numeric but its column has dtype {col.dtype} "
            f"(e.g. {example!r}); cast it to a number or declare it categorical"
        )
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite_reference(values: np.ndarray, name: str) -> None:
    """A reference feature must be finite: its quantiles become the stored bin edges (see
    stats.quantile_edges). A current window may hold +-inf (counted in the reason)."""
    infinite = np.isinf(values)
    n_infinite = int(np.count_nonzero(infinite))
    if n_infinite:
        n_pos = int(np.count_nonzero(values[infinite] > 0))
        raise DataValidationError(
            f"reference data: feature {name!r} holds {n_infinite} infinite value(s) "
            f"({n_pos} +inf, {n_infinite - n_pos} -inf) among {values.size} rows; a reference "
            "must hold finite numbers (missing as NaN), since its quantiles are the stored bin "
            "edges: drop, cap or mark those rows missing before profiling"
        )


def _mean_std(valid: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation; near the float limits (sum or square overflowing) they are
    computed on values scaled by the largest magnitude, so they stay finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(valid.mean()), float(valid.std())
        if math.isfinite(mean) and math.isfinite(std):
            return mean, std
        scale = float(np.max(np.abs(valid)))
        scaled = valid / scale
        return float(scaled.mean() * scale), float(scaled.std() * scale)


def category_index(frame, name: str, what: str) -> tuple[np.ndarray, list[str]]:
    """Per-row category index of feature ``name`` (-1 = missing) and its categories as
    strings, by the one rule of :func:`modelguard.core.stats.category_codes` (shared with
    concept drift); an all-missing column is a :class:`DataValidationError`."""
    col = frame[name]
    if col.isna().all():
        raise DataValidationError(only_missing_message(what, name))
    return stats.category_codes(col, f"{what}: feature {name!r}")


def _sorted_valid(values: np.ndarray) -> tuple[np.ndarray, int]:
    n_missing = int(np.count_nonzero(np.isnan(values)))
    ordered = np.sort(values)  # NaN sorts last
    return ordered[: values.size - n_missing], n_missing


def _evenly_spaced(sorted_values: np.ndarray, size: int) -> np.ndarray:
    if sorted_values.size <= size:
        return sorted_values.copy()
    idx = np.linspace(0, sorted_values.size - 1, size).round().astype(np.int64)
    return sorted_values[idx]


# ----------------------------------------------------------------------------- profile


def build_reference_profile(
    frame,
    features: dict[str, str],
    target: str | None = None,
    *,
    bins: int = 10,
    sample_size: int = 20_000,
) -> ReferenceProfile:
    """Summarise the training frame for later drift checks.

    ``sample_size`` bounds the sorted values kept per numeric feature: below it KS is exact
    against the full reference; above it the sample is the evenly spaced order statistics,
    whose ECDF is within 1/sample_size of the full one.
    """
    what = "reference data"
    if not features:
        raise ProfileError("a reference profile needs at least one feature; got none")
    for name, kind in features.items():
        if kind not in FEATURE_TYPES:
            raise ProfileError(f"feature {name!r}: type {kind!r} is not one of {FEATURE_TYPES}")
    if len(frame) == 0:
        raise DataValidationError("reference data has no rows; a profile needs training data")
    require_columns(frame, features, what)
    y = _target_values(frame, target) if target else None
    profiles: dict[str, FeatureProfile] = {}
    for name, kind in features.items():
        if kind == "numeric":
            values = numeric_values(frame, name, what)
            _finite_reference(values, name)
            valid, n_missing = _sorted_valid(values)
            edges = stats.quantile_edges(valid, bins, assume_sorted=True)
            counts = stats.bin_counts_sorted(valid, edges, n_missing)
            concept = numeric_concept(values, edges, y) if y is not None else {}
            mean, std = _mean_std(valid)
            profiles[name] = NumericProfile(
                edges=edges,
                counts=counts,
                n_rows=int(values.size),
                n_missing=n_missing,
                sorted_sample=_evenly_spaced(valid, sample_size),
                mean=mean,
                std=std,
                concept=concept,
            )
        else:
            codes, categories = category_index(frame, name, what)
            counts = np.bincount(codes + 1, minlength=len(categories) + 1)
            concept = _categorical_concept(codes, len(categories), y) if y is not None else {}
            profiles[name] = CategoricalProfile(
                categories=tuple(categories),
                counts=np.concatenate([counts[1:], counts[:1]]),
                n_rows=int(counts.sum()),
                n_missing=int(counts[0]),
                concept=concept,
            )
    return ReferenceProfile(
        features=profiles,
        n_rows=len(frame),
        bins=bins,
        target=target,
        target_rate=float(y.mean()) if y is not None else None,
    )


def _target_values(frame, target: str) -> np.ndarray:
    """The target as float 0/1, checked like every labelled frame (missing labels, values
    other than 0/1 and strings refused with counts: a rate of 1.98 is not a rate)."""
    if target not in frame.columns:
        raise DataValidationError(f"reference data has no target column {target!r}")
    return binary_labels(frame, target, "reference data").astype(np.float64)


def mutual_information(bin_index: np.ndarray, n_bins: int, y: np.ndarray) -> tuple[float, list]:
    """MI (nats) between a binned feature and a 0/1 target, and the target rate per bin.

    The contingency table is one bincount over ``2 * bin + label`` (np.add.at, unbuffered,
    cost 15x more and made the feature->target summaries four times the rest of a profile)."""
    flat = np.asarray(bin_index, dtype=np.int64) * 2 + (y > 0.5)
    table = np.bincount(flat, minlength=2 * n_bins).reshape(n_bins, 2).astype(np.float64)
    n = table.sum()
    joint = table / n
    px = joint.sum(axis=1, keepdims=True)
    py = joint.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = joint * np.log(joint / (px * py))
    mi = float(np.nansum(terms))
    totals = table.sum(axis=1)
    rates = [float(table[i, 1] / totals[i]) if totals[i] else None for i in range(n_bins)]
    return mi, rates


def numeric_concept(values: np.ndarray, edges: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Feature->target relation of numeric ``values`` binned with the profile's ``edges``: MI,
    correlation and the target rate per bin (missing values last)."""
    missing = np.isnan(values)
    idx = np.where(missing, edges.size + 1, np.searchsorted(edges, values, side="left"))
    mi, rates = mutual_information(idx, edges.size + 2, y)
    return {
        "mutual_information": mi,
        "correlation": _correlation(values, y),
        "target_rate_by_bin": rates,
    }


def _correlation(values: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation over the finite values (a current +-inf is binned but has no
    place in a correlation); None when either side is constant. Values near the float limits
    are scaled first (the correlation does not change with scale; the sums would overflow)."""
    ok = np.isfinite(values)
    x, t = values[ok], y[ok]
    if x.size <= 2 or t.std() == 0:
        return None
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        magnitude = float(np.max(np.abs(x)))
        if magnitude > 1e150 or 0 < magnitude < 1e-150:
            x = x / magnitude
        if x.std() == 0:
            return None
        corr = float(np.corrcoef(x, t)[0, 1])
    return corr if math.isfinite(corr) else None


def _categorical_concept(codes: np.ndarray, n_categories: int, y: np.ndarray) -> dict[str, Any]:
    idx = np.where(codes < 0, n_categories, codes)
    mi, rates = mutual_information(idx, n_categories + 1, y)
    return {"mutual_information": mi, "correlation": None, "target_rate_by_bin": rates}


# ----------------------------------------------------------------------------- detection


def resolve_thresholds(
    config: DriftDetectionConfig | None = None, **overrides: Any
) -> DriftDetectionConfig:
    """The config's ``drift_detection`` section with validated overrides (None = keep)."""
    if config is None:
        from modelguard.config import load_config

        config = load_config().drift_detection
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return section_with(config, "drift_detection", **overrides) if overrides else config


def detect_drift(
    profile: ReferenceProfile,
    current_frame,
    *,
    config: DriftDetectionConfig | None = None,
    model_name: str | None = None,
    model_version: int | None = None,
    window: dict[str, str] | None = None,
    **overrides: Any,
) -> DriftReport:
    """Compare one window with the profile; thresholds default to ``drift_detection`` config.

    Summarise, then decide: the window's :class:`~modelguard.drift.summary.WindowSummary`
    (bin and category counts, sorted values) is all the verdict reads, so a window summarised
    in partitions and merged gets the same report from :func:`detect_drift_from_summary`."""
    from modelguard.drift.summary import summarise

    th = resolve_thresholds(config, **overrides)
    _require_rows(len(current_frame), th)
    return detect_drift_from_summary(
        profile,
        summarise(profile, current_frame),
        config=th,
        model_name=model_name,
        model_version=model_version,
        window=window,
    )


def _require_rows(n_current: int, th: DriftDetectionConfig) -> None:
    if n_current == 0:
        raise DataValidationError("current window has no rows; nothing to compare")
    if n_current < th.min_rows:
        raise DataValidationError(
            f"current window has {n_current} rows, fewer than drift_detection.min_rows "
            f"({th.min_rows}); widen the window or lower min_rows"
        )


def detect_drift_from_summary(
    profile: ReferenceProfile,
    summary,
    *,
    config: DriftDetectionConfig | None = None,
    model_name: str | None = None,
    model_version: int | None = None,
    window: dict[str, str] | None = None,
    **overrides: Any,
) -> DriftReport:
    """The verdict of a window from its summary (one frame's, or partitions' merged): the
    one place the drift rules are applied. A summary computed against another profile is a
    :class:`~modelguard.exceptions.SummaryMismatchError`."""
    th = resolve_thresholds(config, **overrides)
    summary.check_profile(profile)
    n_current = summary.n_rows
    _require_rows(n_current, th)
    what = "current window"

    partial: dict[str, dict[str, Any]] = {}
    infinite: dict[str, tuple[int, int]] = {}
    for name, ref in profile.features.items():
        s = summary.features[name]
        if s.n_missing == n_current:
            raise DataValidationError(only_missing_message(what, name))
        if isinstance(ref, NumericProfile):
            if s.n_pos_inf or s.n_neg_inf:
                infinite[name] = (s.n_pos_inf, s.n_neg_inf)
            partial[name] = _numeric_drift(ref, s, n_current, th)
        else:
            counts = np.concatenate(([s.n_missing], s.counts))
            partial[name] = _categorical_drift(ref, counts, list(s.categories), th)

    for p in partial.values():
        p["pvalue"] = _feature_pvalue(p)
    tested = [n for n, p in partial.items() if p["pvalue"] is not None]
    adjusted = stats.benjamini_hochberg([partial[n]["pvalue"] for n in tested])
    for name, p_adj in zip(tested, adjusted, strict=True):
        partial[name]["pvalue_adjusted"] = float(p_adj)

    features = {name: _verdict(name, p, th) for name, p in partial.items()}
    for name, (n_pos, n_neg) in infinite.items():
        features[name] = _with_infinite_note(features[name], n_pos, n_neg)
    drifted = [f for f in features.values() if f.drifted]
    share = len(drifted) / len(features)
    major = [f.name for f in drifted if f.severity == "major"]
    dataset_drift = bool(major) or share >= th.dataset_drift_share
    verdict = "major" if dataset_drift else ("minor" if drifted else "healthy")
    if major:
        why = f"major drift in {', '.join(major)}"
    else:
        cmp = ">=" if share >= th.dataset_drift_share else "<"
        why = f"{share:.0%} of features drifted, {cmp} dataset_drift_share {th.dataset_drift_share:.0%}"
    return DriftReport(
        dataset_drift=dataset_drift,
        dataset_drift_reason=why,
        verdict=verdict,
        features=features,
        n_reference=profile.n_rows,
        n_current=n_current,
        thresholds={
            "psi_warning": th.psi_warning,
            "psi_critical": th.psi_critical,
            "ks_significance": th.ks_significance,
            "min_ks_statistic": th.min_ks_statistic,
            "min_cramers_v": th.min_cramers_v,
            "min_wasserstein": th.min_wasserstein,
            "dataset_drift_share": th.dataset_drift_share,
            "numeric_tests": list(th.numeric_tests),
            "categorical_tests": list(th.categorical_tests),
        },
        model_name=model_name,
        model_version=model_version,
        window=window,
    )


def _numeric_drift(ref: NumericProfile, s, n_current: int, th) -> dict[str, Any]:
    """``s``: the feature's :class:`~modelguard.drift.summary.NumericSummary`."""
    valid = s.sorted_values()  # ascending, +-inf at the ends, no NaN
    n_missing = s.n_missing
    cur_counts = np.append(s.counts, n_missing)
    psi_on = "psi" in th.numeric_tests
    out: dict[str, Any] = {
        "type": "numeric",
        "tests": tuple(th.numeric_tests),
        "psi": stats.psi_from_counts(ref.counts, cur_counts) if psi_on else None,
        "psi_pvalue": stats.psi_pvalue(ref.counts, cur_counts) if psi_on else None,
        "effect_measure": "ks_statistic",
        "ref": ref,
        "n_current": n_current,
        "n_missing": n_missing,
        "new_categories": {},
        "bins": _bins(edge_labels(ref.edges), ref.counts, cur_counts),
        "test_pvalue": None,
        "wasserstein": None,
    }
    sample = ref.sorted_sample
    if valid.size and sample.size:
        # an effect size that sees scale and tails, which KS D (a largest gap) and 10
        # quantile bins barely do: a 1.5x wider normal has D ~ 0.10 but W1 ~ 0.40 spreads
        out["wasserstein"] = stats.wasserstein_normalised(sample, valid)
    if "ks" in th.numeric_tests:
        if max(sample.size, valid.size) > stats.KS_EXACT_MAX_N:
            d = stats.ks_statistic_sorted(sample, valid)
            p = stats.ks_pvalue(d, sample.size, valid.size)
        else:  # scipy's exact method, statistic and p-value alike
            d, p = stats.ks_2samp(sample, valid)
        out.update(ks_statistic=float(d), ks_pvalue=float(p), test_pvalue=float(p), effect_size=d)
    return out


def _categorical_drift(
    ref: CategoricalProfile, counts: np.ndarray, values: list[str], th
) -> dict[str, Any]:
    index = {c: i for i, c in enumerate(ref.categories)}
    new = [v for v in values if v not in index]
    categories = list(ref.categories) + new
    pos = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    ref_counts = np.zeros(k + 1, dtype=np.int64)
    ref_counts[: len(ref.categories)] = ref.counts[:-1]
    ref_counts[k] = ref.counts[-1]
    cur_counts = np.zeros(k + 1, dtype=np.int64)
    for v, c in zip(values, counts[1:], strict=True):
        cur_counts[pos[v]] += c
    cur_counts[k] = counts[0]
    n_current = int(counts.sum())
    out: dict[str, Any] = {
        "type": "categorical",
        "tests": tuple(th.categorical_tests),
        "psi": stats.psi_from_counts(ref_counts, cur_counts)
        if "psi" in th.categorical_tests
        else None,
        "psi_pvalue": stats.psi_pvalue(ref_counts, cur_counts)
        if "psi" in th.categorical_tests
        else None,
        "effect_measure": "cramers_v",
        "ref": ref,
        "n_current": n_current,
        "n_missing": int(counts[0]),
        "new_categories": {v: float(cur_counts[pos[v]] / n_current) for v in new},
        "bins": _bins(
            categories + [MISSING_LABEL],
            ref_counts,
            cur_counts,
            ["category"] * len(ref.categories) + ["new"] * len(new) + ["missing"],
        ),
        "test_pvalue": None,
    }
    if "chi2" in th.categorical_tests:
        stat, p, _dof = stats.chi2_from_counts(ref_counts, cur_counts)
        present = int(np.count_nonzero(ref_counts + cur_counts))
        v = stats.cramers_v_balanced(stat, int(ref_counts.sum()), n_current, present)
        out.update(chi2_statistic=float(stat), chi2_pvalue=float(p), test_pvalue=float(p))
        out["effect_size"] = float(v)
    return out


def _feature_pvalue(p: dict[str, Any]) -> float | None:
    """One p-value per feature for Benjamini-Hochberg: the KS / chi-square p-value, and when
    PSI is configured too, the smaller of it and PSI's own p-value, Bonferroni-doubled. One
    p-value per feature keeps the chance that a same-distribution window flags anything at
    ``ks_significance`` whichever of the feature's tests fires.

    The chi-square p-value is left out where its limit does not hold (a cell expecting fewer
    than 5 values, e.g. rare categories in a small window: there it rejects a same-
    distribution window about twice as often as it should) and PSI's simulated p-value is
    there to take its place; the reported ``chi2_pvalue`` is unchanged."""
    test_p = p.get("test_pvalue")
    if p["type"] == "categorical" and p.get("psi_pvalue") is not None and _sparse_table(p):
        test_p = None
    found = [x for x in (test_p, p.get("psi_pvalue")) if x is not None]
    if not found:
        return None
    return min(1.0, len(found) * min(found))


def _sparse_table(p: dict[str, Any]) -> bool:
    """Whether a cell of the 2 x k table expects fewer than 5 values (Cochran's rule), from the
    proportions and sizes of both samples; cells empty in both are not in the table."""
    n, m = float(p["ref"].n_rows), float(p["n_current"])
    ref = np.asarray(p["bins"]["reference"], dtype=np.float64) * n
    cur = np.asarray(p["bins"]["current"], dtype=np.float64) * m
    pooled = (ref + cur) / (n + m)
    pooled = pooled[pooled > 0]
    return bool(pooled.size and min(n, m) * pooled.min() < 5.0)


def _verdict(name: str, p: dict[str, Any], th) -> FeatureDrift:
    """A feature drifts when its adjusted p-value is below ``ks_significance`` (the window
    differs beyond chance) and one effect size reaches its floor (the difference matters):
    PSI >= psi_warning, KS D >= min_ks_statistic (Cramér's V >= min_cramers_v), or
    Wasserstein-1 >= min_wasserstein reference spreads. Severity stays PSI's alone."""
    ref = p["ref"]
    psi = p["psi"]
    severity = "none"
    if psi is not None:
        severity = (
            "major" if psi >= th.psi_critical else ("minor" if psi >= th.psi_warning else "none")
        )
    reasons: list[str] = []
    if psi is not None:
        level = {"major": "critical", "minor": "warning"}.get(severity)
        if level:
            limit = th.psi_critical if severity == "major" else th.psi_warning
            reasons.append(f"PSI {psi:.3f} >= {level} {limit:g}")
        else:
            reasons.append(f"PSI {psi:.3f} < warning {th.psi_warning:g}")
        if p.get("psi_pvalue") is not None:
            reasons.append(f"PSI p {p['psi_pvalue']:.3g}")
    p_adj = p.get("pvalue_adjusted")
    effect = p.get("effect_size")
    w1 = p.get("wasserstein")
    effects = [severity != "none"]
    if effect is not None:
        test = "KS D" if p["type"] == "numeric" else "Cramér's V"
        floor = th.min_ks_statistic if p["type"] == "numeric" else th.min_cramers_v
        effects.append(effect >= floor)
        reasons.append(f"{test} {effect:.3f} {'>=' if effect >= floor else '<'} floor {floor:g}")
    if w1 is not None:
        effects.append(w1 >= th.min_wasserstein)
        cmp_w = ">=" if w1 >= th.min_wasserstein else "<"
        reasons.append(f"W1 {w1:.3f} spreads {cmp_w} floor {th.min_wasserstein:g}")
    if p_adj is not None:
        cmp_p = "<" if p_adj < th.ks_significance else ">="
        reasons.append(f"adjusted p {p_adj:.3g} {cmp_p} {th.ks_significance:g}")
        drifted = p_adj < th.ks_significance and any(effects)
    else:  # no test configured that gives a p-value: PSI's severity alone, as before
        drifted = severity == "major"
    miss_ref = ref.missing_share
    miss_cur = p["n_missing"] / p["n_current"]
    if abs(miss_cur - miss_ref) >= 0.01:
        reasons.append(f"missing share {miss_ref:.1%} -> {miss_cur:.1%}")
    if p["new_categories"]:
        listed = ", ".join(f"{c} ({s:.1%})" for c, s in p["new_categories"].items())
        reasons.append(f"categories not in the reference: {listed}")
    prefix = "drifted: " if drifted else "no drift: "
    return FeatureDrift(
        name=name,
        type=p["type"],
        tests=p["tests"],
        psi=_finite(psi),
        ks_statistic=_finite(p.get("ks_statistic")),
        ks_pvalue=_finite(p.get("ks_pvalue")),
        chi2_statistic=_finite(p.get("chi2_statistic")),
        chi2_pvalue=_finite(p.get("chi2_pvalue")),
        pvalue_adjusted=_finite(p_adj),
        effect_size=_finite(effect),
        effect_measure=p["effect_measure"],
        severity=severity,
        drifted=drifted,
        reason=prefix + "; ".join(reasons),
        missing_share_reference=float(miss_ref),
        missing_share_current=float(miss_cur),
        new_categories=p["new_categories"],
        n_reference=int(ref.n_rows),
        n_current=p["n_current"],
        bins=p["bins"],
        psi_pvalue=_finite(p.get("psi_pvalue")),
        wasserstein=_finite(w1),
    )


def _with_infinite_note(feature: FeatureDrift, n_pos: int, n_neg: int) -> FeatureDrift:
    """+-inf in a current window are legitimate extremes: they fall in the open outer bins and
    at the ends of the KS ECDF. They are named in the reason, so a column of sentinels is seen."""
    parts = [f"{n} {sign}inf" for n, sign in ((n_pos, "+"), (n_neg, "-")) if n]
    note = f"{' and '.join(parts)} among {feature.n_current} current values (in the outer bins)"
    return dataclasses.replace(feature, reason=f"{feature.reason}; {note}")


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):  # never reaches a report or the store as NaN/inf
        raise DataValidationError(f"a drift statistic came out as {x}; please report this input")
    return x


def edge_labels(edges: np.ndarray) -> list[str]:
    """Display labels of the bins of ``edges``: right-closed intervals, then missing."""
    bounds = ["-inf", *(f"{e:.4g}" for e in edges), "inf"]
    labels = [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    labels[-1] = labels[-1][:-1] + ")"
    return labels + [MISSING_LABEL]


def _bins(
    labels: list[str],
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    kinds: list[str] | None = None,
) -> dict[str, list]:
    """Shares per bin; ``kinds`` (default: numeric bins, then missing) says what each label
    is (:data:`BIN_KINDS`), so a category named "missing" is never taken for the missing bin."""
    if kinds is None:
        kinds = ["bin"] * (len(labels) - 1) + ["missing"]
    return {
        "labels": labels,
        "kinds": kinds,
        "reference": [float(c) for c in ref_counts / max(ref_counts.sum(), 1)],
        "current": [float(c) for c in cur_counts / max(cur_counts.sum(), 1)],
    }
