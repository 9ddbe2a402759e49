"""`make bench`: modelguard against scipy, NannyML and Evidently on the same data, one table.

For every size the data is generated once (bench_data.py) and each tool runs in a process of
its own (bench_tools.py): modelguard and the scipy baseline with the project's .venv, NannyML
and Evidently with .venv-bench (they need pandas < 3; usage telemetry off). Reported per tool
and size: the median wall time of ``--repeat`` runs, the process's peak RSS, what one run added
to the memory it started with, the ratio to modelguard (to the floor for modelguard's own
phases, to the COPY floor for the read), and which columns each tool flagged against the shifts
the generator made. Also: read_window from PostgreSQL against COPY -> pandas.read_csv, the
profile with and without the target against the sort + factorize floor, the fast paths of
detect_drift checked against modelguard.core.stats (PASS/FAIL; a FAIL exits non-zero), and
the cost from 100k to 10M rows with its fitted exponent. Writes bench/results/bench.json and
bench/results/bench.png. Prints numbers; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_data

ROOT = bench_data.ROOT
BENCH = ROOT / "bench"
DEFAULT_DSN = "postgresql+psycopg2://modelguard:modelguard@localhost:5432/modelguard_test"
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
}
PROJECT_TOOLS = ("modelguard", "scipy")
BENCH_TOOLS = ("nannyml", "evidently")
MAX_ROWS = {"nannyml": 3_000_000, "evidently": 1_000_000}
"""Largest size each third-party tool runs at (Evidently takes minutes per 1M-row run)."""
READ_MEMORY_SHARE = 0.7
"""A read is skipped when its peak, extrapolated from the size before, would pass this share
of the memory available (the row-tuple read costs about 1 KB a row)."""

SERIES: list[tuple[str, str, tuple[str, ...]]] = [
    ("modelguard profile + detect", "modelguard", ("profile", "detect")),
    ("modelguard detect_drift", "modelguard", ("detect",)),
    ("modelguard profile", "modelguard", ("profile",)),
    ("modelguard profile with target", "modelguard", ("profile_target",)),
    ("floor: sort + factorize both frames", "modelguard", ("floor",)),
    ("scipy baseline", "scipy", ("drift",)),
    ("NannyML", "nannyml", ("drift",)),
    ("Evidently", "evidently", ("drift",)),
    ("read_window (PostgreSQL)", "read", ("read_window",)),
    ("floor: COPY -> read_csv", "read", ("copy_floor",)),
]
"""What the table, the scaling curve and the plot show: (label, child, its timed phases)."""


# ----------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    mem = {}
    with open("/proc/meminfo") as fh:
        for line in fh:
            key, value = line.split(":", 1)
            mem[key] = int(value.split()[0]) * 1024
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(mem["MemTotal"] / 2**30, 1),
        "available_gib": round(mem["MemAvailable"] / 2**30, 1),
        "arch": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "ci_running": Path("/tmp/ci-running").exists(),
    }


def available_bytes() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


# ----------------------------------------------------------------------------- children


def run_child(python: str, tool: str, data: str, work: Path, args: list[str]) -> dict[str, Any]:
    """Run bench_tools.py in its own process; its result with the process's peak RSS (from
    wait4) and, on failure, the end of its log."""
    out = work / f"{tool}-{Path(data).name}.json"
    log = work / f"{tool}-{Path(data).name}.log"
    out.unlink(missing_ok=True)
    env = {**os.environ, **TELEMETRY_OFF}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [python, str(BENCH / "bench_tools.py"), tool, data, str(out), *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        print(f"  {tool} at {data} failed (exit {proc.returncode}):\n    " + "\n    ".join(tail))
        return {"tool": tool, "failed": True, "error": tail[-1] if tail else "", "wall_s": wall}
    result = json.loads(out.read_text())
    result["max_rss_mib"] = usage.ru_maxrss / 1024.0  # KiB on Linux
    result["wall_s"] = wall
    result["load_average_before"] = load  # 1-minute: how busy the machine was
    return result


def series_seconds(record: dict[str, Any] | None, phases: tuple[str, ...]) -> float | None:
    if not record or record.get("failed"):
        return None
    got = record.get("phases", {})
    if not all(p in got for p in phases):
        return None
    return sum(got[p]["median"] for p in phases)


def series_added_mib(record: dict[str, Any], phases: tuple[str, ...]) -> float:
    return max(record["phases"][p]["peak_above_start_mib"] for p in phases)


# ----------------------------------------------------------------------------- the table


def describe_flags(flagged: list[str]) -> str:
    """Flagged columns read against the shifts: how many of the real ones, the negligible one,
    and any column that was not shifted at all."""
    got = set(flagged)
    expected = [c for c in bench_data.EXPECTED if c in got]
    missed = [c for c in bench_data.EXPECTED if c not in got]
    parts = [f"{len(expected)}/{len(bench_data.EXPECTED)} shifts"]
    if missed:
        parts[0] += f" (missed {', '.join(missed)})"
    negligible = [c for c in bench_data.NEGLIGIBLE if c in got]
    if negligible:
        parts.append(f"+ negligible {', '.join(negligible)}")
    others = sorted(got - set(bench_data.SHIFTS), key=list(bench_data.FEATURES).index)
    if others:
        parts.append(f"+ {len(others)} unshifted ({', '.join(others)})")
    return "; ".join(parts)


def table_rows(records: list[dict[str, Any]], sizes: list[int]) -> list[list[str]]:
    """One row per size and series: rows, what, median s, ratio, peak RSS, added, flagged."""
    rows = []
    for n in sizes:
        at = {r["tool"]: r for r in records if r.get("n_rows") == n or r.get("n") == n}
        mg_total = series_seconds(at.get("modelguard"), ("profile", "detect"))
        floor = series_seconds(at.get("modelguard"), ("floor",))
        copy_floor = series_seconds(at.get("read"), ("copy_floor",))
        frame_mib = bench_data.frame_bytes(n) / 2**20
        for label, tool, phases in SERIES:
            record = at.get(tool)
            if record is None:
                continue
            if record.get("failed"):
                rows.append([f"{n:,}", label, "failed", "", "", "", record.get("error", "")[:60]])
                continue
            if record.get("skipped"):
                rows.append([f"{n:,}", label, "skipped", "", "", "", record["skipped"]])
                continue
            seconds = series_seconds(record, phases)
            ratio = ""
            if tool in ("scipy", "nannyml", "evidently") and mg_total:
                ratio = f"{seconds / mg_total:.1f}x modelguard"
            elif tool == "modelguard" and phases != ("floor",) and floor:
                ratio = f"{seconds / floor:.2f}x floor"
            elif phases == ("read_window",) and copy_floor:
                ratio = f"{seconds / copy_floor:.2f}x COPY"
            added = series_added_mib(record, phases)
            flags = ""
            if "flagged" in record and phases in (("profile", "detect"), ("drift",)):
                flags = describe_flags(record["flagged"])
            rows.append(
                [
                    f"{n:,}",
                    label,
                    f"{seconds:.3f}",
                    ratio,
                    f"{record['max_rss_mib']:,.0f}",
                    f"{added:,.0f} ({added / frame_mib:.2f}x)",
                    flags,
                ]
            )
    return rows


HEADER = ["rows", "what", "median s", "ratio", "peak RSS MiB", "added MiB (x frame)", "flagged"]


def render(rows: list[list[str]], header: list[str] = HEADER) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4, 5}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def scaling(records: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """Per series: its median seconds at each size and the fitted exponent."""
    out = []
    for label, tool, phases in SERIES:
        points = {}
        for r in records:
            if r.get("tool") == tool and r.get("n_rows") in sizes:
                seconds = series_seconds(r, phases)
                if seconds is not None:
                    points[r["n_rows"]] = seconds
        if points:
            ns = sorted(points)
            out.append(
                {
                    "series": label,
                    "seconds": {str(n): points[n] for n in ns},
                    "exponent": bench_data.fitted_exponent(ns, [points[n] for n in ns]),
                }
            )
    return out


def render_scaling(curves: list[dict[str, Any]], sizes: list[int]) -> str:
    header = ["series", *(f"{n:,}" for n in sizes), "exponent"]
    rows = []
    for c in curves:
        cells = [c["series"]]
        cells += [f"{c['seconds'][str(n)]:.3f}" if str(n) in c["seconds"] else "-" for n in sizes]
        cells.append(f"{c['exponent']:.2f}" if c["exponent"] is not None else "-")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def merge_checks(check_records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per check over every size it ran at: passed only if it passed at all."""
    merged: dict[str, dict[str, Any]] = {}
    for record in check_records:
        if record.get("failed"):
            merged.setdefault(
                "check_run",
                {
                    "check": "check_run",
                    "label": "equality checks ran",
                    "passed": False,
                    "sizes": [],
                    "worst_difference": 0.0,
                    "worst_feature": "-",
                    "failed": [],
                },
            )
            continue
        for c in record["checks"]:
            m = merged.setdefault(c["check"], {**c, "sizes": [], "failed": []})
            m["sizes"].append(record["n_rows"])
            m["passed"] = m["passed"] and c["passed"]
            m["failed"] += [f"{f} at {record['n_rows']:,}" for f in c["failed"]]
            if c["worst_difference"] > m["worst_difference"] or len(m["sizes"]) == 1:
                m["worst_difference"], m["worst_feature"] = (
                    c["worst_difference"],
                    c["worst_feature"],
                )
    return list(merged.values())


def render_checks(checks: list[dict[str, Any]]) -> str:
    lines = []
    for c in checks:
        sizes = ", ".join(f"{n:,}" for n in c["sizes"])
        status = "PASS" if c["passed"] else "FAIL"
        detail = f"{c.get('features', '?')} features at {sizes} rows; worst |diff| {c['worst_difference']:.3g} ({c['worst_feature']})"
        if c["failed"]:
            detail += f"; failed: {', '.join(c['failed'][:5])}"
        lines.append(f"{status}  {c['label']}: {detail}")
    return "\n".join(lines)


LEGEND = """\
Shifted columns of the current frame (bench/bench_data.py; every other column is unchanged):
{shifts}
Flag rules: modelguard: the shipped config/main_config.yaml; scipy baseline: p < 0.05 (KS /
chi-square) or PSI > 0.25; NannyML: an alert (KS, Jensen-Shannon / chi-square, Jensen-Shannon)
in a majority of its 10 chunks of the current frame, thresholds from 10 reference chunks;
Evidently: DataDriftPreset's defaults (normed Wasserstein / Jensen-Shannon, 0.1).
"modelguard profile + detect" is the comparable job (summarise the reference, test the
current frame); a monitoring run pays only detect_drift, the profile being stored.
Ratios: other tools against modelguard profile + detect; modelguard's phases against the
floor (np.sort of the 20 numeric and pandas.factorize of the 5 categorical columns of both
frames); read_window against COPY (...) TO STDOUT -> pandas.read_csv of the same window.
Peak RSS: the process's peak (imports and both frames included). Added: the most one run
added to the memory it started with, and that as a multiple of one frame's 25 columns at
8 bytes a value ({frame_note})."""


def summary_text(result: dict[str, Any]) -> str:
    m = result["machine"]
    head = (
        f"modelguard benchmark, {result['date']}: {m['cpu']}, {m['nproc']} cores, {m['ram_gib']} GiB, "
        f"Python {m['python']}; {'CI WAS RUNNING (numbers not quiet)' if m['ci_running'] or result.get('ci_running_at_end') else 'machine quiet (no CI run)'}"
    )
    shifts = "\n".join(f"  {c}: {s}" for c, s in bench_data.SHIFTS.items())
    sizes = result["sizes"]
    frame_note = ", ".join(f"{bench_data.frame_bytes(n) / 2**20:,.0f} MiB at {n:,}" for n in sizes)
    parts = [
        head,
        "",
        result["table"],
        "",
        LEGEND.format(shifts=shifts, frame_note=frame_note),
    ]
    if result["scaling"]:
        parts += [
            "",
            "Scaling: median seconds by rows; exponent k of time ~ rows^k (1 linear, n log n 1.07):",
            render_scaling(result["scaling"], result["scaling_sizes"]),
        ]
    parts += [
        "",
        "Fast paths against modelguard.core.stats and scipy (profile keeping every reference value):",
        render_checks(result["checks"]) or "(no checks ran)",
    ]
    return "\n".join(parts)


# ----------------------------------------------------------------------------- the plot


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    for curve in result["scaling"]:
        ns = [int(n) for n in curve["seconds"]]
        style = "--" if curve["series"].startswith("floor") else "-"
        k = curve["exponent"]
        label = curve["series"] + (f" (k={k:.2f})" if k is not None else "")
        ax.plot(ns, list(curve["seconds"].values()), style, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows per frame (reference and current)")
    ax.set_ylabel("median wall time, s")
    ax.set_title(
        f"modelguard bench {result['date'][:10]}: {result['machine']['nproc']} cores, {result['machine']['ram_gib']} GiB"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- main


def parse_sizes(text: str) -> list[int]:
    return sorted({int(float(x)) for x in text.split(",") if x.strip()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("100000,1000000"),
        help="sizes of the table",
    )
    parser.add_argument(
        "--scaling",
        type=parse_sizes,
        default=parse_sizes("100000,300000,1000000,3000000,10000000"),
        help="sizes of the scaling curve ('' for none)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--tools", default="modelguard,scipy,nannyml,evidently")
    parser.add_argument("--bench-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--dsn", default=os.environ.get("MODELGUARD_BENCH_PG_DSN", DEFAULT_DSN))
    parser.add_argument("--schema", default="modelguard_bench", help="schema of the read table")
    parser.add_argument("--no-read", action="store_true", help="leave out the PostgreSQL read")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench", help="work folder")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    missing = [t for t in tools if t in BENCH_TOOLS] and not Path(args.bench_python).exists()
    if missing:
        print(
            f"{args.bench_python} not found: run `make bench-venv` (NannyML and Evidently left out)"
        )
        tools = [t for t in tools if t not in BENCH_TOOLS]
    sizes = sorted(set(args.sizes))
    all_sizes = sorted(set(sizes) | set(args.scaling))
    args.data.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "sizes": sizes,
        "scaling_sizes": sorted(set(args.scaling)),
        "repeat": args.repeat,
        "tools": tools,
        "shifts": bench_data.SHIFTS,
        "records": [],
    }
    print(f"bench: sizes {sizes}, scaling {args.scaling}, tools {tools}, repeat {args.repeat}")
    repeat = ["--repeat", str(args.repeat)]
    records, check_records = result["records"], []
    for n in all_sizes:
        folder = bench_data.write_data(args.data / f"data-{n}", n)
        for tool in tools:
            if n > MAX_ROWS.get(tool, n):
                continue
            python = args.bench_python if tool in BENCH_TOOLS else sys.executable
            print(f"  {n:>10,} rows: {tool} ...", flush=True)
            records.append({**run_child(python, tool, str(folder), args.data, repeat), "n": n})
        if n in sizes and "modelguard" in tools:
            print(f"  {n:>10,} rows: equality checks ...", flush=True)
            check_records.append(run_child(sys.executable, "check", str(folder), args.data, []))
        shutil.rmtree(folder)
    if not args.no_read and "modelguard" in tools:
        records += read_records(args, all_sizes)
    result["checks"] = merge_checks(check_records)
    result["table"] = render(table_rows(records, sizes))
    result["scaling"] = scaling(records, result["scaling_sizes"]) if args.scaling else []
    result["versions"] = {
        "project": next(
            (r["versions"] for r in records if r.get("tool") == "modelguard" and "versions" in r),
            {},
        ),
        "bench_venv": next(
            (r["versions"] for r in records if r.get("tool") in BENCH_TOOLS and "versions" in r), {}
        ),
    }
    result["ci_running_at_end"] = Path("/tmp/ci-running").exists()
    text = summary_text(result)
    result["text"] = text
    print()
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bench.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    if result["scaling"]:
        plot(result, args.results / "bench.png")
    print(
        f"\nwrote {args.results / 'bench.json'}"
        + (f" and {args.results / 'bench.png'}" if result["scaling"] else "")
    )
    failed_tools = [r for r in records if r.get("failed")]
    failed_checks = [c for c in result["checks"] if not c["passed"]]
    if failed_checks or failed_tools:
        print(f"{len(failed_checks)} check(s) FAILED, {len(failed_tools)} run(s) failed")
        return 1
    return 0


def read_records(args: argparse.Namespace, sizes: list[int]) -> list[dict[str, Any]]:
    """Load one table of the largest size into PostgreSQL, then read the window of the first n
    rows for each size; a size whose extrapolated peak memory would not fit is skipped."""
    largest = max(sizes)
    print(f"  read: loading {largest:,} rows into PostgreSQL ...", flush=True)
    load = run_child(
        sys.executable,
        "load-read",
        str(largest),
        args.data,
        ["--dsn", args.dsn, "--schema", args.schema],
    )
    if load.get("failed"):
        print("  read: PostgreSQL not reachable or load failed; read rows left out")
        return []
    print(f"  read: loaded in {load['seconds']:.0f} s", flush=True)
    out: list[dict[str, Any]] = []
    previous: tuple[int, float] | None = None
    try:
        for n in sizes:
            if previous is not None:
                predicted = previous[1] * 2**20 * n / previous[0]
                if predicted > READ_MEMORY_SHARE * available_bytes():
                    note = f"predicted peak {predicted / 2**30:.1f} GiB > {READ_MEMORY_SHARE:.0%} of available"
                    print(f"  {n:>10,} rows: read skipped ({note})")
                    out.append({"tool": "read", "n": n, "n_rows": n, "skipped": note})
                    continue
            print(f"  {n:>10,} rows: read ...", flush=True)
            record = {
                **run_child(
                    sys.executable,
                    "read",
                    str(n),
                    args.data,
                    ["--dsn", args.dsn, "--schema", args.schema, "--repeat", str(args.repeat)],
                ),
                "n": n,
            }
            out.append(record)
            if not record.get("failed"):
                previous = (n, record["max_rss_mib"])
    finally:
        run_child(
            sys.executable,
            "drop-read",
            "0",
            args.data,
            ["--dsn", args.dsn, "--schema", args.schema],
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
