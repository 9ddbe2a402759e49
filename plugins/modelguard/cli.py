"""The ``modelguard`` command: check configs, bootstrap the first champion, show a model's status,
write its monitoring report.

    modelguard check-config [PATH ...] [--connections]
    modelguard bootstrap [--config PATH [--model NAME]] --start ISO --end ISO [--as-of ISO]
                         [--replace] [--source-url URL --registry-url URL] [--json]
    modelguard status [--config PATH [--model NAME]] [--registry-url URL] [--json]
    modelguard report [--config PATH [--model NAME]] --start ISO --end ISO [--output FILE]
                      [--registry-url URL] [--base-url URL]

A PATH is a model config file or a folder of them; without one, the command reads where the
DAGs do (``MODELGUARD_CONFIG``, else Airflow's ``[modelguard] config_path``).

Exit codes: 0 done; 1 a config error, a refusal (the model already has a champion) or data
that cannot be used; 2 a usage error; 3 a store that cannot be reached (connection undefined,
database down or missing, table missing). An expected error is one line on stderr, never a
traceback (``--debug`` shows it). Stores come from ``--source-url`` / ``--registry-url``, else
from the config's Airflow connection ids, resolved as tasks resolve them (``AIRFLOW_CONN_*`` or
Airflow's database); Airflow is imported only then, so the other commands stay quick.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from modelguard.exceptions import (
    ConfigError,
    ModelguardError,
    StoreUnavailableError,
    UsageError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_STORE = 3

_log_level: int | None = None
"""The level of the command's own logging; None when main() was called with arguments from
inside a process (a test, a wrapper), whose logging stays as the caller set it up."""


# ------------------------------------------------------------------------------- check-config


def config_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The model config files the paths name (a folder: its ``*.yaml``/``*.yml``, as the DAG
    factory reads it) and one error per path that names none."""
    from modelguard.config import model_config_files

    files: list[Path] = []
    errors: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(f"{path}: no such file or folder")
            continue
        try:
            files.extend(model_config_files(path))
        except ConfigError as exc:
            errors.append(f"{path}: {exc}")
    return files, errors


def check_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modelguard.config import load_config

    files, path_errors = config_files(args.paths or [_config_location()])
    for line in path_errors:
        print(line, file=err)
    loaded: dict[Path, Any] = {}
    n_errors = len(path_errors)
    for path in files:
        try:
            config = load_config(path)
        except ConfigError as exc:
            n_errors += len(exc.errors)
            for line in exc.errors:
                print(f"{path}: {line}", file=out)
            continue
        loaded[path] = config
        print(f"{path}: ok: {summary(config)}", file=out)
    for line in _shared_names(loaded):
        n_errors += 1
        print(line, file=out)
    if args.connections:
        for path, config in loaded.items():
            for line in _connection_problems(config):
                n_errors += 1
                print(f"{path}: {line}", file=out)
    bad = len(files) - len(loaded)
    print(
        f"{len(files)} config file(s) checked: {len(loaded)} valid, {bad} invalid"
        + (f"; {n_errors} error(s)" if n_errors else ""),
        file=out,
    )
    return EXIT_ERROR if n_errors else EXIT_OK


def summary(config) -> str:
    """One line per model: what it is called, reads, predicts with and is judged by."""
    d = config.deployment
    return (
        f"model {config.model.name}: {len(config.features)} features "
        f"({len(config.numeric_features)} numeric, {len(config.categorical_features)} "
        f"categorical), source {config.source.conn_id}:{config.source.table}, registry "
        f"{config.storage.registry_conn_id}, {d.primary_metric} at threshold "
        f"{d.decision_threshold}, every {config.monitoring.monitoring_interval} s"
    )


def _shared_names(loaded: dict[Path, Any]) -> list[str]:
    """Two configs of one model name would share its DAG ids, champion and decisions: the DAG
    factory loads only the first, and so must a person be told."""
    owners: dict[str, Path] = {}
    lines = []
    for path, config in loaded.items():
        name = config.model.name
        if name in owners:
            lines.append(
                f"{path}: model.name: {name!r} is already the model of {owners[name]}; every "
                "model config needs a name of its own"
            )
        else:
            owners[name] = path
    return lines


def _connection_problems(config) -> list[str]:
    """Open both Airflow connections of ``config`` (the source's table checked), as a task's
    first step does; one line per connection that fails."""
    try:
        ModelguardDbHook = _airflow_hooks().ModelguardDbHook
    except ImportError as exc:  # pragma: no cover - Airflow is a dependency
        return [f"cannot check connections without Airflow ({exc})"]
    problems = []
    checks = (
        ("source.conn_id", config.source.conn_id, config.source.table),
        ("storage.registry_conn_id", config.storage.registry_conn_id, None),
    )
    for key, conn_id, table in checks:
        try:
            ModelguardDbHook(conn_id).verify(table=table)
        except (StoreUnavailableError, ConfigError) as exc:
            problems.append(f"{key}: {exc}")
    return problems


# ------------------------------------------------------------------------------- bootstrap


def bootstrap(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modelguard.pipelines.bootstrap import run_bootstrap

    config = model_config(args.config, args.model)
    source = _engine(config.source.conn_id, args.source_url, "source", table=config.source.table)
    registry = _engine(config.storage.registry_conn_id, args.registry_url, "registry")
    result = run_bootstrap(
        config,
        source,
        registry,
        args.start,
        args.end,
        as_of=args.as_of,
        replace=args.replace,
        run_id=args.run_id,
    )
    if args.json:
        json.dump(result.to_dict(), out, indent=2, default=str)
        print(file=out)
        return EXIT_OK
    v = result.version
    m = v.metrics
    replaced = f", replacing {result.replaced.label} (archived)" if result.replaced else ""
    print(f"champion: {v.label}{replaced}", file=out)
    print(
        f"  trained on {m.get('n_train')} sends of {args.start:%Y-%m-%d %H:%M}.."
        f"{args.end:%Y-%m-%d %H:%M} whose outcome was known by "
        f"{(args.as_of or args.end):%Y-%m-%d %H:%M}",
        file=out,
    )
    print(
        f"  holdout ({m.get('n_holdout')} rows) at threshold {m.get('decision_threshold')}: "
        + _metrics_line(m),
        file=out,
    )
    return EXIT_OK


# ------------------------------------------------------------------------------- status


def status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modelguard.pipelines.status import model_status

    config = model_config(args.config, args.model)
    registry = _engine(
        config.storage.registry_conn_id, args.registry_url, "registry", create_ok=False
    )
    result = model_status(config, registry, versions=args.versions, verdicts=args.verdicts)
    if args.json:
        json.dump(result.to_dict(), out, indent=2)
        print(file=out)
    else:
        print_status(result, config, out)
    return EXIT_OK


def print_status(s, config, out: TextIO) -> None:
    primary = config.deployment.primary_metric
    print(f"model {s.model_name}", file=out)
    c = s.champion
    if c is None:
        print(
            "champion: none yet; train and register the first one with "
            "`modelguard bootstrap --start ... --end ...`",
            file=out,
        )
    else:
        v = c.version
        since = f"since {c.since:%Y-%m-%d %H:%M} UTC" if c.since else ""
        effective = (
            f", judging data from {c.effective_at:%Y-%m-%d %H:%M}"
            if c.effective_at
            else ", judging all data before the next change"
        )
        print(f"champion: {v.label} by {c.how} {since}{effective}", file=out)
        print(
            f"  trained on {_span(v.training_start, v.training_end)} ({v.strategy}); "
            + _metrics_line(v.metrics),
            file=out,
        )
    print(f"versions ({len(s.versions)} newest of {s.n_versions}):", file=out)
    for v in s.versions:
        value = v.metrics.get(primary)
        shown = f"{primary} {value:.4f}" if isinstance(value, int | float) else ""
        print(
            f"  {v.label:<28} {v.status:<11} created {v.created_at:%Y-%m-%d %H:%M}  "
            f"{v.strategy or '-':<14} trained {_span(v.training_start, v.training_end)}  {shown}",
            file=out,
        )
    print(f"last {len(s.verdicts)} monitoring verdict(s) (newest interval first):", file=out)
    if not s.verdicts:
        print("  none recorded yet", file=out)
    for d in s.verdicts:
        judged = f", judged by {d.judged_by}" if d.judged_by else ""
        print(f"  {d.window}  {d.decision:<8} {d.dag_id}{judged}", file=out)
        if d.reason:
            print(f"      {d.reason}", file=out)
    print(f"open decisions: {len(s.open_decisions) or 'none'}", file=out)
    for o in s.open_decisions:
        print(f"  {o.verdict.window} {o.verdict.dag_id}: {o.state}: {o.detail}", file=out)


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "?"
    return f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"


def _metrics_line(m: dict[str, Any]) -> str:
    keys = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
    parts = []
    for key in keys:
        value = m.get(key)
        parts.append(f"{key} {value:.4f}" if isinstance(value, int | float) else f"{key} -")
    return ", ".join(parts)


# ------------------------------------------------------------------------------- report


def report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modelguard.pipelines.model_report import build_model_report
    from modelguard.reporting import Period, report_json

    if args.start >= args.end:
        raise UsageError(
            f"--start {args.start.isoformat()} must be before --end {args.end.isoformat()}; "
            "the period is half-open [start, end)"
        )
    period = Period(args.start, args.end)
    if args.output is not None:
        _check_output(args.output)
    config = model_config(args.config, args.model)
    registry = _engine(
        config.storage.registry_conn_id, args.registry_url, "registry", create_ok=False
    )
    result = build_model_report(config, registry, period, base_url=args.base_url)
    text = report_json(result)
    if args.output is None:
        out.write(text)
        return EXIT_OK
    from modelguard.exceptions import ReportWriteError
    from modelguard.storage.artifacts import atomic_write_text

    path = Path(args.output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        raise ReportWriteError(
            f"--output {path}: cannot write the report ({exc.strerror or exc}); give a file "
            "in a folder you may write"
        ) from exc
    counts = result.counts
    print(
        f"wrote {path}: {config.model.name} [{period.start.isoformat()}, "
        f"{period.end.isoformat()}): {counts['drift_intervals']} drift interval(s) "
        f"({counts['drift_major_intervals']} major), {counts['performance_points']} "
        f"performance point(s) ({counts['performance_not_matured']} not matured), "
        f"{counts['alerts']} alert(s), {counts['deployments']} deployment(s), "
        f"{counts['rollbacks']} rollback(s)",
        file=out,
    )
    return EXIT_OK


def _check_output(output: str) -> None:
    """``--output`` names one file the user chose (no root confines it): refuse a NUL, an empty
    name, an existing folder or a name ending in a separator before the report is built."""
    problem = None
    if not output.strip():
        problem = "is empty"
    elif "\x00" in output:
        problem = "holds a NUL character"
    elif output.endswith(("/", "\\")) or Path(output).is_dir():
        problem = "is a folder"
    if problem:
        raise UsageError(
            f"--output {output!r} {problem}; give the path of a JSON file to write (its folder "
            "is created), or leave --output out to print the report"
        )


# ------------------------------------------------------------------------------- configs


def _config_location() -> Path:
    """Where the DAGs find their configs: ``MODELGUARD_CONFIG``, else Airflow's ``[modelguard]
    config_path`` (Airflow imported only then)."""
    from modelguard.factory import config_location

    try:
        return config_location()
    finally:
        _setup_logging(_log_level)  # reading Airflow's config may have imported Airflow


def model_config(location: str | Path | None, model: str | None):
    """The config of one model: the file ``location`` names (default: where the DAGs look), or
    in a folder of model configs the one file, or the one whose ``model.name`` is ``model``."""
    from modelguard.config import load_config, model_config_files

    where = Path(location) if location is not None else _config_location()
    if location is not None and not where.exists():
        raise ConfigError(f"--config {where}: no such file or folder")
    files = model_config_files(where)
    if len(files) == 1 and not where.is_dir():
        config = load_config(files[0])
        if model is not None and config.model.name != model:
            raise UsageError(
                f"--model {model!r}: {files[0]} is the config of {config.model.name!r}; "
                "give the config of that model, or its folder"
            )
        return config
    if model is None:
        if len(files) == 1:
            return load_config(files[0])
        raise UsageError(
            f"{where} is a folder of {len(files)} model configs "
            f"({', '.join(p.name for p in files)}): name the model with --model NAME"
        )
    names: dict[str, Path] = {}
    broken: list[str] = []
    for path in files:
        try:
            config = load_config(path)
        except ConfigError:
            broken.append(path.name)
            continue
        if config.model.name == model:
            return config
        names[config.model.name] = path
    unreadable = (
        f"; unreadable: {', '.join(broken)} (see modelguard check-config)" if broken else ""
    )
    raise UsageError(
        f"--model {model!r}: no config in {where} has that model.name; its models: "
        f"{', '.join(sorted(names)) or 'none'}{unreadable}"
    )


# ------------------------------------------------------------------------------- stores


def _engine(conn_id: str, url: str | None, what: str, *, table=None, create_ok=True):
    """An engine for ``url``, else for the Airflow connection ``conn_id``, opened once (and
    ``table`` checked) so an unreachable store fails here, naming the option or connection.
    ``create_ok``: a SQLite file that does not exist yet is fine (a store created on first use);
    otherwise it is refused as a wrong path."""
    from modelguard.storage.source import check_table, connect, engine_for_url

    if url is None:
        try:
            hooks = _airflow_hooks()
        except ImportError as exc:  # pragma: no cover - Airflow is a dependency
            raise UsageError(
                f"no --{what}-url given and Airflow cannot be imported ({exc}) to resolve the "
                f"connection {conn_id!r}; give --{what}-url"
            ) from exc
        engine = engine_for_url(hooks.ModelguardDbHook(conn_id).get_sqlalchemy_url())
        named = hooks.naming_connection(conn_id)
    else:
        try:
            engine = engine_for_url(url)
        except Exception as exc:  # sqlalchemy's ArgumentError / NoSuchModuleError
            raise UsageError(
                f"--{what}-url {url!r} is not a usable SQLAlchemy URL ({exc}); e.g. "
                "sqlite:////abs/path.db or postgresql+psycopg2://user:password@host:5432/db"
            ) from None
        named = _naming_option(f"--{what}-url")
    with named:
        if table is not None:
            check_table(engine, table)
        else:
            connect(engine, new_sqlite_file_ok=create_ok).close()
    return engine


def _airflow_hooks():
    """``modelguard.hooks.db``, imported on first need. Importing Airflow points logging at
    stdout, which is the command's output (``--json``): the command's logging is set again."""
    import modelguard.hooks.db as hooks

    _setup_logging(_log_level)
    return hooks


@contextmanager
def _naming_option(option: str) -> Generator[None]:
    """Prefix a store error with the option that named the store."""
    try:
        yield
    except StoreUnavailableError as exc:
        raise type(exc)(f"{option}: {exc}") from exc.__cause__


# ------------------------------------------------------------------------------- parser


def _iso(text: str) -> datetime:
    from modelguard.core.window import to_naive_utc

    try:
        return to_naive_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or date-time, e.g. 2026-06-01 or "
            "2026-06-01T00:00:00Z (naive = UTC)"
        ) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelguard",
        description="Check modelguard configs, bootstrap a model's first champion, show status, "
        "write a monitoring report.",
        epilog="exit codes: 0 done, 1 error or refusal, 2 usage, 3 store unreachable",
    )
    # accepted before or after the command; SUPPRESS: a subcommand does not reset them
    common = argparse.ArgumentParser(add_help=False)
    for p, default in ((parser, False), (common, argparse.SUPPRESS)):
        p.add_argument("--debug", action="store_true", default=default, help="show tracebacks")
        p.add_argument(
            "-v", "--verbose", action="store_true", default=default, help="log progress to stderr"
        )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "check-config",
        parents=[common],
        help="validate model configs, listing every error",
        description="Load each config and print every error, naming the file and the key.",
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="a model config file or a folder of them (default: where the DAGs look, "
        "$MODELGUARD_CONFIG or [modelguard] config_path)",
    )
    check.add_argument(
        "--connections",
        action="store_true",
        help="also open each config's Airflow connections (the source table checked)",
    )
    check.set_defaults(run=check_config)

    config_help = (
        "the model's config file, or a folder of model configs (default: where the DAGs look, "
        "$MODELGUARD_CONFIG or [modelguard] config_path)"
    )
    model_help = "the model (model.name) when the config is a folder of several"
    boot = sub.add_parser(
        "bootstrap",
        parents=[common],
        help="train and register a model's first champion",
        description="Train config model.estimator on the sends of [start, end) whose outcome "
        "matured by --as-of, score a holdout at deployment.decision_threshold and make it the "
        "champion. Refused when the model has a champion, unless --replace.",
    )
    boot.add_argument("--config", default=None, help=config_help)
    boot.add_argument("--model", default=None, help=model_help)
    boot.add_argument("--start", required=True, type=_iso, help="first send time (ISO, UTC)")
    boot.add_argument("--end", required=True, type=_iso, help="end of the sends, exclusive")
    boot.add_argument("--as-of", type=_iso, default=None, help="outcomes known by (default: end)")
    boot.add_argument(
        "--replace",
        "--force",
        dest="replace",
        action="store_true",
        help="when the model has a champion, promote the new version over it (kept, archived)",
    )
    boot.add_argument("--source-url", default=None, help="SQLAlchemy URL (default: source.conn_id)")
    boot.add_argument(
        "--registry-url", default=None, help="SQLAlchemy URL (default: storage.registry_conn_id)"
    )
    boot.add_argument("--run-id", default=None, help="recorded with the version and its events")
    boot.add_argument("--json", action="store_true", help="print the result as JSON")
    boot.set_defaults(run=bootstrap)

    stat = sub.add_parser(
        "status",
        parents=[common],
        help="champion, versions, verdicts and open decisions of a model",
        description="Read-only: the champion and its metrics, recent versions, the last "
        "monitoring verdicts and retrain decisions whose retraining has not finished.",
    )
    stat.add_argument("--config", default=None, help=config_help)
    stat.add_argument("--model", default=None, help=model_help)
    stat.add_argument(
        "--registry-url", default=None, help="SQLAlchemy URL (default: storage.registry_conn_id)"
    )
    stat.add_argument("--versions", type=_count, default=5, help="versions shown (default 5)")
    stat.add_argument("--verdicts", type=_count, default=10, help="verdicts shown (default 10)")
    stat.add_argument("--json", action="store_true", help="print the status as JSON")
    stat.set_defaults(run=status)

    rep = sub.add_parser(
        "report",
        parents=[common],
        help="a model's monitoring report of a period, as JSON",
        description="Read-only: the champion and its history, versions with their evaluations, "
        "drift per feature over time, performance over time (label delay shown), alerts, "
        "deployments and rollbacks of [start, end), as the weekly report task writes it.",
    )
    rep.add_argument("--config", default=None, help=config_help)
    rep.add_argument("--model", default=None, help=model_help)
    rep.add_argument("--start", required=True, type=_iso, help="period start (ISO, UTC)")
    rep.add_argument("--end", required=True, type=_iso, help="period end, exclusive")
    rep.add_argument(
        "--output", default=None, help="write the JSON to this file (default: standard output)"
    )
    rep.add_argument(
        "--registry-url", default=None, help="SQLAlchemy URL (default: storage.registry_conn_id)"
    )
    rep.add_argument(
        "--base-url",
        default="",
        help="Airflow's URL, prefixed to the interval report links (default: root-relative)",
    )
    rep.set_defaults(run=report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (expected errors: one line on stderr)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    global _log_level
    if argv is None:  # the command itself, not a caller inside a process: it owns logging
        _log_level = logging.INFO if args.verbose else logging.WARNING
        _setup_logging(_log_level)
    out, err = sys.stdout, sys.stderr
    try:
        return args.run(args, out, err)
    except Exception as exc:
        code = _exit_code(exc)
        if args.debug or code is None:
            raise
        print(f"modelguard {args.command}: error: {_message(exc)}", file=err)
        return code


def _setup_logging(level: int | None) -> None:
    """Logs to stderr: stdout is the command's output (``--json``)."""
    if level is not None:
        logging.basicConfig(
            level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
        )


def _exit_code(exc: BaseException) -> int | None:
    """The exit code of an expected error; None for a bug (shown with its traceback)."""
    import sqlalchemy.exc

    if isinstance(exc, StoreUnavailableError | sqlalchemy.exc.OperationalError):
        return EXIT_STORE
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, ModelguardError):
        return EXIT_ERROR
    return None


def _message(exc: BaseException) -> str:
    """One line; a config error with several errors keeps one indented line per error. A
    database error gives the driver's reason, not the SQL statement."""
    orig = getattr(exc, "orig", None)
    if orig is not None:
        return f"the database refused: {' '.join(str(orig).split())}; check the store and retry"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, ConfigError) and len(exc.errors) > 1:
        return text
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
