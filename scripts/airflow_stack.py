"""The real Airflow 3 topology from the project's venv, on PostgreSQL, without Docker.

Starts ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` as separate
processes (LocalExecutor) on a fresh metadata database created on the PostgreSQL server of an
admin DSN, all bound to 127.0.0.1 on free ports, with the modelguard connections, a known admin
user (SimpleAuthManager) and one shared set of secrets. Every process it started is stopped by
PID (children included) at the end, also on failure and Ctrl-C, and the database is dropped.

Library (used by the stack tests)::

    with AirflowStack(pg_admin_dsn=..., source_url=..., registry_url=...) as stack:
        stack.base_url, stack.username, stack.password, stack.pids, stack.logs
        stack.kill("scheduler", signal.SIGKILL, children=True)
        stack.start("scheduler")
        stack.airflow("backfill", "create", "--dag-id", ...)

CLI::

    .venv/bin/python scripts/airflow_stack.py up --pg-admin-dsn postgresql://u:pw@localhost/postgres \\
        --source-url sqlite:////abs/source.db --registry-url sqlite:////abs/registry.db

The script imports no Airflow: it only builds an environment and runs the ``airflow`` CLI.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HOST = "127.0.0.1"
AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
HEALTH_PATH = "/api/v2/monitor/health"
# Health keys of /api/v2/monitor/health per component (the api-server answering is its health).
_HEALTH_KEYS = {
    "scheduler": ("scheduler", "latest_scheduler_heartbeat"),
    "dag-processor": ("dag_processor", "latest_dag_processor_heartbeat"),
    "triggerer": ("triggerer", "latest_triggerer_heartbeat"),
}
# Stop in two waves, each in parallel: the api-server last, as tasks the scheduler's LocalExecutor
# workers are finishing still report to its execution API.
_STOP_WAVES = (("scheduler", "triggerer", "dag-processor"), ("api-server",))


def dependent_dags(config_location: str | os.PathLike) -> tuple[str, ...]:
    """Every model's DAGs that monitoring and people trigger: unpaused by the setup, or their
    runs would wait silently (``modelguard.factory.dependent_dag_ids``)."""
    from modelguard.factory import dependent_dag_ids

    return tuple(dependent_dag_ids(config_location))


DEFAULT_CONFIG = ROOT / "config"  # the example models of this repository

# Settings every process must get with the same (deployment-specific) value.
SHARED_SETTINGS = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
    "AIRFLOW_CONN_MODELGUARD_SOURCE",
    "AIRFLOW_CONN_MODELGUARD_REGISTRY",
)
# What the venv must have installed (`make install`: editable installs of the repo, no
# PYTHONPATH): the package, and the example models the repo's config/ names as model.estimator.
REQUIRED_PACKAGES = ("modelguard", "email_engagement", "support_escalation", "synthetic_source")

# Not topology, speed: short intervals so the stack tests are fast, a modest executor.
TUNING_SETTINGS = {
    "AIRFLOW__CORE__PARALLELISM": "8",
    "AIRFLOW__API__WORKERS": "1",
    # look for new/removed DAG files every 5 s (the 2.x [scheduler] dag_dir_list_interval)
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    # re-parse an unchanged file at most every 10 s (default 30)
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
    # a task whose supervisor stopped heartbeating (killed scheduler/worker) fails after 60 s
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    # a restarted scheduler adopts/resets the dead one's tasks within 15 s, not 300 s
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
}


def topology_settings() -> dict[str, str]:
    """The fixed Airflow settings of the topology (env var -> value), shared with docker-compose.

    Deployment-specific values (database, secrets, URLs, paths) are named in ``SHARED_SETTINGS``.
    """
    return {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }


class StackError(RuntimeError):
    """The stack could not be started, checked or stopped as asked."""


# --------------------------------------------------------------------------------------------
# small helpers


def connection_json(url: str) -> str:
    """An ``AIRFLOW_CONN_*`` value for a SQLAlchemy URL, as the modelguard hook reads it."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if not scheme or "://" not in url:
        raise StackError(f"{url!r} is not a SQLAlchemy URL; give e.g. sqlite:////abs/path.db")
    conn_type = "postgres" if scheme.startswith("postgres") else scheme
    return json.dumps({"conn_type": conn_type, "extra": {"sqlalchemy_url": url}})


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports free on ``host`` right now (sockets held until all are picked)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def clean_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment minus anything that configures Airflow or modelguard.

    The test process sets AIRFLOW_HOME and AIRFLOW__* for in-process Airflow; the stack must not
    inherit them.
    """
    dropped = ("AIRFLOW_", "_AIRFLOW", "MODELGUARD_CONFIG")
    return {k: v for k, v in environ.items() if not k.startswith(dropped)}


def airflow_executable() -> Path:
    """The venv's ``airflow`` next to this interpreter (not resolved: venvs symlink python)."""
    for candidate in (
        Path(sys.executable).with_name("airflow"),
        ROOT / ".venv" / "bin" / "airflow",
    ):
        if candidate.exists():
            return candidate
    raise StackError(
        f"no airflow executable next to {sys.executable} or in {ROOT / '.venv/bin'}; "
        "run this with the project's venv (make install, then .venv/bin/python)"
    )


def check_installed(
    airflow: Path, env: Mapping[str, str], packages: Iterable[str] = REQUIRED_PACKAGES
) -> None:
    """Fail before anything starts when the venv of ``airflow`` cannot import ``packages``."""
    python = airflow.with_name("python")
    code = (
        "import importlib.util as u, sys; print(*(n for n in sys.argv[1:] if not u.find_spec(n)))"
    )
    missing = subprocess.run(
        [str(python), "-c", code, *packages],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if missing:
        raise StackError(
            f"{python} cannot import {', '.join(missing)}: install the repo into that venv "
            "(make install, i.e. pip install -e . -e ./include -c requirements.lock)"
        )


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file (or why there are none)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (orphans reparented to a non-reaping PID 1 linger as zombies)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _signal(procs: Iterable[psutil.Process], sig: int) -> None:
    for p in procs:
        try:
            p.send_signal(sig)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def wait_gone(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process is gone (zombies count as gone); return those still alive."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in procs if alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def terminate_tree(root: psutil.Process, grace: float) -> list[psutil.Process]:
    """SIGTERM ``root``, give it ``grace`` seconds to stop its children, then SIGKILL what's left.

    Returns every process of the tree that was seen (for callers checking they are all gone).
    """
    seen = {p.pid: p for p in [root, *descendants(root)]}
    _signal([root], signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(root) and time.monotonic() < deadline:
        seen.update({p.pid: p for p in descendants(root)})  # it may spawn while shutting down
        time.sleep(0.2)
    seen.update({p.pid: p for p in descendants(root)})
    left = [p for p in seen.values() if alive(p)]
    if left:  # the root did not stop in time, or left children behind
        _signal(left, signal.SIGTERM)
        left = wait_gone(left, 5)
    if left:
        seen.update({c.pid: c for p in left for c in descendants(p)})
        _signal([p for p in seen.values() if alive(p)], signal.SIGKILL)
        left = wait_gone(seen.values(), 10)
    if left:
        raise StackError(f"processes {[p.pid for p in left]} survived SIGKILL; check them by hand")
    return list(seen.values())


# --------------------------------------------------------------------------------------------
# the metadata database


def _libpq_url(dsn: str) -> str:
    """A libpq URI for psycopg2 from a libpq or SQLAlchemy URL (drops ``+driver``)."""
    parts = urllib.parse.urlsplit(dsn)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise StackError(
            f"the PostgreSQL admin DSN must be a postgresql:// URL, got scheme {parts.scheme!r}; "
            "give e.g. postgresql://user:password@localhost:5432/postgres"
        )
    return urllib.parse.urlunsplit(parts._replace(scheme="postgresql"))


def _with_database(dsn: str, database: str, scheme: str) -> str:
    parts = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit(parts._replace(scheme=scheme, path=f"/{database}"))


def _admin_execute(dsn: str, sql: str) -> None:
    import psycopg2
    from psycopg2 import errors

    try:
        conn = psycopg2.connect(_libpq_url(dsn), connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise StackError(f"cannot connect to PostgreSQL with the admin DSN: {exc}".strip()) from exc
    try:
        conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute(sql)
    except errors.InsufficientPrivilege as exc:
        user = urllib.parse.urlsplit(dsn).username
        raise StackError(
            f"the admin DSN's role {user!r} may not create/drop databases ({str(exc).strip()}); "
            f"grant it: psql -c 'ALTER ROLE \"{user}\" CREATEDB' as a superuser"
        ) from exc
    finally:
        conn.close()


def create_database(dsn: str, name: str) -> None:
    _admin_execute(dsn, f'CREATE DATABASE "{name}"')


def drop_database(dsn: str, name: str) -> None:
    # FORCE (PostgreSQL 13+) ends connections an orphaned process may still hold.
    _admin_execute(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# the stack


@dataclass
class _Component:
    name: str
    popen: subprocess.Popen
    started_at: float
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def process(self) -> psutil.Process | None:
        try:
            return psutil.Process(self.popen.pid)
        except psutil.NoSuchProcess:
            return None

    def running(self) -> bool:
        return self.popen.poll() is None


class AirflowStack:
    """The four Airflow 3 processes on a fresh PostgreSQL metadata DB; a context manager.

    ``start()``/``stop()`` without a component act on the whole stack (DB, migration, processes,
    health); with one they act on that process only, for fault tests. ``env`` is the environment
    of every process; ``extra_env`` of ``start``/``restart`` overrides it for that launch only.
    """

    def __init__(
        self,
        pg_admin_dsn: str,
        source_url: str,
        registry_url: str,
        config_path: str | os.PathLike | None = None,
        home: str | os.PathLike | None = None,
        extra_env: Mapping[str, str] | None = None,
        *,
        username: str = "admin",
        password: str | None = None,
        keep_db: bool = False,
        serve_logs: bool = False,
        startup_timeout: float = 240.0,
        grace: float = 20.0,
        verbose: bool = True,
    ) -> None:
        self.pg_admin_dsn = pg_admin_dsn
        _libpq_url(pg_admin_dsn)  # fail early on a wrong scheme
        self.keep_db = keep_db
        self.serve_logs = serve_logs
        self.startup_timeout = startup_timeout
        self.grace = grace
        self.verbose = verbose
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.config_path = Path(config_path or DEFAULT_CONFIG).resolve()
        token = secrets.token_hex(4)
        self.home = (
            Path(home).expanduser().resolve() if home else ROOT / ".airflow" / f"stack-{token}"
        )
        self.log_dir = self.home / "stack-logs"
        self.db_name = f"airflow_stack_{token}"
        self.metadata_url = _with_database(pg_admin_dsn, self.db_name, "postgresql+psycopg2")
        api_port, worker_log_port, trigger_log_port, health_port = free_ports(4)
        self.port = api_port
        self.base_url = f"http://{HOST}:{api_port}"
        self.logs = {c: self.log_dir / f"{c}.log" for c in (*COMPONENTS, "db-migrate")}
        self.env = self._build_env(
            source_url,
            registry_url,
            self.config_path,
            ports=(worker_log_port, trigger_log_port, health_port),
            extra_env=extra_env or {},
        )
        self._components: dict[str, _Component] = {}
        self._orphans: list[psutil.Process] = []
        self._db_created = False
        self._closed = False

    # ---- environment

    def _build_env(
        self,
        source_url: str,
        registry_url: str,
        config_path: Path,
        ports: tuple[int, int, int],
        extra_env: Mapping[str, str],
    ) -> dict[str, str]:
        worker_log_port, trigger_log_port, health_port = ports
        env = clean_environ(os.environ)
        env["PATH"] = os.pathsep.join([str(airflow_executable().parent), env.get("PATH", "")])
        env["AIRFLOW_HOME"] = str(self.home)
        env.update(topology_settings())
        env.update(TUNING_SETTINGS)
        env.update(
            {
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API__HOST": HOST,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                # The plugin comes from modelguard's entry point: an empty plugins folder.
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.home / "plugins"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.username}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
                    self.home / "passwords.json"
                ),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log_port),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": HOST,
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
                "AIRFLOW_CONN_MODELGUARD_SOURCE": connection_json(source_url),
                "AIRFLOW_CONN_MODELGUARD_REGISTRY": connection_json(registry_url),
            }
        )
        env["MODELGUARD_CONFIG"] = str(config_path)
        env.update(extra_env)
        return env

    def _say(self, message: str) -> None:
        if self.verbose:
            print(f"[airflow-stack] {message}", file=sys.stderr, flush=True)

    # ---- lifecycle

    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(
        self, component: str | None = None, extra_env: Mapping[str, str] | None = None
    ) -> None:
        """Start the whole stack (``component=None``) or one stopped/killed component."""
        if component is not None:
            if not self._db_created:
                raise StackError(f"start() the whole stack before starting {component!r} alone")
            self._launch(self._check_component(component), extra_env)
            return
        if self._components or self._closed:
            raise StackError("this stack was already started; make a new AirflowStack")
        atexit.register(self.stop)
        began = time.monotonic()
        try:
            check_installed(airflow_executable(), self.env)
            self._prepare_home()
            self._say(f"home {self.home}; process logs in {self.log_dir}")
            create_database(self.pg_admin_dsn, self.db_name)
            self._db_created = True
            self._say(f"created metadata database {self.db_name}; migrating")
            self._migrate()
            for name in COMPONENTS:
                self._launch(name, extra_env)
            self.wait_healthy(self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        self._say(
            f"healthy after {self.startup_seconds:.1f} s at {self.base_url} (pids {self.pids})"
        )

    def _prepare_home(self) -> None:
        if self.home.exists() and any(self.home.iterdir()):
            raise StackError(
                f"stack home {self.home} is not empty; give a new or empty folder (the stack "
                "owns its AIRFLOW_HOME)"
            )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({self.username: self.password}) + "\n")
        passwords.chmod(0o600)

    def _migrate(self) -> None:
        with self.logs["db-migrate"].open("w") as log:
            done = subprocess.run(
                [str(airflow_executable()), "db", "migrate"],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
        if done.returncode != 0:
            raise StackError(
                f"airflow db migrate failed (exit {done.returncode}); log "
                f"{self.logs['db-migrate']}:\n{tail(self.logs['db-migrate'])}"
            )

    def _check_component(self, component: str) -> str:
        if component not in COMPONENTS:
            raise StackError(f"unknown component {component!r}; choose one of {COMPONENTS}")
        return component

    def _command(self, component: str) -> list[str]:
        cmd = [str(airflow_executable()), component]
        if component in ("scheduler", "triggerer") and not self.serve_logs:
            # Airflow's log servers bind every interface (no host setting); task logs are read
            # from the shared local log folder instead.
            cmd.append("--skip-serve-logs")
        return cmd

    def _launch(self, component: str, extra_env: Mapping[str, str] | None) -> None:
        current = self._components.get(component)
        if current is not None and current.running():
            raise StackError(
                f"{component} is already running (pid {current.popen.pid}); kill it first"
            )
        if self._closed:
            raise StackError("this stack was stopped; make a new AirflowStack")
        overrides = dict(extra_env or {})
        log_path = self.logs[component]
        with log_path.open("a") as log:
            log.write(f"\n=== {datetime.now().isoformat()} starting {component} {overrides}\n")
            log.flush()
            started_at = time.time()
            popen = subprocess.Popen(
                self._command(component),
                env={**self.env, **overrides},
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches only this script
            )
        self._components[component] = _Component(component, popen, started_at, overrides)
        self._say(f"started {component} pid {popen.pid}, log {log_path}")

    def restart(self, component: str, extra_env: Mapping[str, str] | None = None) -> None:
        """Stop ``component`` gracefully, start it again with ``env`` plus ``extra_env``."""
        self.stop(component)
        self.start(component, extra_env)

    def kill(
        self, component: str, sig: int = signal.SIGTERM, children: bool = False, wait: float = 30.0
    ) -> list[int]:
        """Send ``sig`` to a component (and its descendants if ``children``); wait for it to exit.

        Returns the signalled PIDs. Descendants left alone become orphans, killed at ``stop()``.
        """
        comp = self._components.get(self._check_component(component))
        proc = comp.process if comp is not None and comp.running() else None
        if proc is None:
            raise StackError(f"{component} is not running; start it first")
        tree = descendants(proc)
        targets = [proc, *tree] if children else [proc]
        _signal(targets, sig)
        if not children:
            self._orphans.extend(tree)
        if wait:
            try:
                comp.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired as exc:
                raise StackError(
                    f"{component} (pid {proc.pid}) still runs {wait} s after signal {sig}; "
                    "use signal.SIGKILL or stop() it"
                ) from exc
            wait_gone(targets, 10)
        return [p.pid for p in targets]

    def stop(self, component: str | None = None) -> None:
        """Stop one component, or everything (processes by PID, orphans, then the database)."""
        if component is not None:
            comp = self._components.get(self._check_component(component))
            if comp is not None:
                self._stop_component(comp)
            return
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.stop)
        errors: list[str] = []
        for wave in _STOP_WAVES:
            comps = [self._components[n] for n in wave if n in self._components]
            with ThreadPoolExecutor(max_workers=max(1, len(comps))) as pool:
                errors.extend(e for e in pool.map(self._try_stop, comps) if e)
        self._stop_orphans()
        if self._db_created and not self.keep_db:
            try:
                began = time.monotonic()
                drop_database(self.pg_admin_dsn, self.db_name)
                self._db_created = False
                self._say(f"dropped database {self.db_name} in {time.monotonic() - began:.1f} s")
            except StackError as exc:
                errors.append(str(exc))
        elif self._db_created:
            self._say(f"kept metadata database {self.db_name}: {self.metadata_url}")
        if errors:
            raise StackError("; ".join(errors))

    def _try_stop(self, comp: _Component) -> str | None:
        try:
            self._stop_component(comp)
        except StackError as exc:
            return str(exc)
        return None

    def _stop_component(self, comp: _Component) -> None:
        proc = comp.process
        if proc is not None and comp.running():
            began = time.monotonic()
            terminate_tree(proc, self.grace)
            self._say(f"stopped {comp.name} pid {proc.pid} in {time.monotonic() - began:.1f} s")
        try:
            comp.popen.wait(timeout=10)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{comp.name} (pid {comp.popen.pid}) did not exit") from exc

    def _stop_orphans(self) -> None:
        orphans = [p for p in self._orphans if alive(p)]
        for p in list(orphans):
            orphans.extend(descendants(p))
        _signal(orphans, signal.SIGKILL)
        left = wait_gone(orphans, 10)
        if left:
            raise StackError(f"orphaned processes {[p.pid for p in left]} survived SIGKILL")

    # ---- state

    @property
    def pids(self) -> dict[str, int]:
        """PID of the latest process launched per component (it may have been killed since)."""
        return {name: comp.popen.pid for name, comp in self._components.items()}

    def is_running(self, component: str) -> bool:
        comp = self._components.get(self._check_component(component))
        return comp is not None and comp.running()

    def processes(self, component: str | None = None) -> list[psutil.Process]:
        """The live processes of one component (or all, orphans included), children included."""
        names = [self._check_component(component)] if component else list(self._components)
        found: list[psutil.Process] = []
        for name in names:
            proc = self._components[name].process if name in self._components else None
            if proc is not None and alive(proc):
                found.extend([proc, *descendants(proc)])
        if component is None:
            for orphan in self._orphans:
                if alive(orphan):
                    found.extend([orphan, *descendants(orphan)])
        return found

    # ---- health

    def health(self) -> dict[str, Any]:
        """The api-server's ``/api/v2/monitor/health`` answer (raises if it does not answer)."""
        with urllib.request.urlopen(self.base_url + HEALTH_PATH, timeout=5) as response:
            return json.loads(response.read())

    def _unhealthy(self, health: Mapping[str, Any]) -> list[str]:
        """Components whose latest heartbeat is missing, stale or older than their process."""
        problems = []
        if health.get("metadatabase", {}).get("status") != "healthy":
            problems.append("metadatabase")
        for name, (key, beat_key) in _HEALTH_KEYS.items():
            info = health.get(key) or {}
            beat = info.get(beat_key)
            started = self._components[name].started_at
            fresh = beat is not None and datetime.fromisoformat(beat).timestamp() >= started - 1
            if info.get("status") != "healthy" or not fresh:
                problems.append(name)
        return problems

    def wait_healthy(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the api-server answers and every component heartbeats since it started."""
        deadline = time.monotonic() + timeout
        last: str = "no answer yet"
        while True:
            self._check_all_running()
            try:
                health = self.health()
                problems = self._unhealthy(health)
                if not problems:
                    return health
                last = f"not healthy yet: {problems}; health {json.dumps(health)}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = f"{self.base_url}{HEALTH_PATH} does not answer: {exc}"
            if time.monotonic() >= deadline:
                raise StackError(
                    f"the stack was not healthy within {timeout:.0f} s ({last}); logs:\n"
                    + self.log_tails()
                )
            time.sleep(1.0)

    def _check_all_running(self) -> None:
        for name in COMPONENTS:
            comp = self._components.get(name)
            if comp is None or not comp.running():
                code = None if comp is None else comp.popen.returncode
                raise StackError(
                    f"{name} is not running (exit code {code}); start it (stack.start({name!r})) "
                    f"or read its log {self.logs[name]}:\n" + self.log_tails([name])
                )

    def log_tails(self, names: Iterable[str] | None = None, lines: int = 40) -> str:
        names = list(names) if names is not None else [*COMPONENTS, "db-migrate"]
        return "\n".join(
            f"----- {name}: {self.logs[name]}\n{tail(self.logs[name], lines)}" for name in names
        )

    # ---- DAGs

    def _api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def unpause(self, dag_ids: Iterable[str] | None = None, timeout: float = 180.0) -> None:
        """Unpause ``dag_ids`` (default: every model's :func:`dependent_dags`) through the REST
        API once the dag-processor has parsed them."""
        if dag_ids is None:
            dag_ids = dependent_dags(self.config_path)
        token = self._api(
            "POST", "/auth/token", {"username": self.username, "password": self.password}
        )["access_token"]
        waiting = list(dag_ids)
        deadline = time.monotonic() + timeout
        while waiting:
            for dag_id in list(waiting):
                try:
                    self._api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token)
                    waiting.remove(dag_id)
                except urllib.error.HTTPError as exc:
                    if exc.code != 404:
                        raise StackError(f"could not unpause {dag_id}: {exc}") from exc
            if waiting and time.monotonic() >= deadline:
                raise StackError(
                    f"{waiting} not parsed within {timeout:.0f} s; read the dag-processor log "
                    f"{self.logs['dag-processor']}"
                )
            if waiting:
                time.sleep(2.0)
        self._say(f"unpaused {', '.join(dag_ids)}")

    # ---- CLI passthrough

    def airflow(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 300.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` with the stack's environment (e.g. ``backfill create``)."""
        done = subprocess.run(
            [str(airflow_executable()), *args],
            env={**self.env, **(extra_env or {})},
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise StackError(
                f"airflow {' '.join(args)} failed (exit {done.returncode}):\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done


# --------------------------------------------------------------------------------------------
# CLI


def _parse_env_pairs(pairs: Iterable[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--extra-env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Run the real Airflow 3 topology (api-server, scheduler, dag-processor, triggerer; "
            "LocalExecutor) from the project's venv on a fresh PostgreSQL metadata database, "
            "bound to 127.0.0.1 on free ports. Ctrl-C or SIGTERM stops every process and drops "
            "the database."
        )
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack and stay in the foreground until Ctrl-C")
    up.add_argument(
        "--pg-admin-dsn",
        required=True,
        help="PostgreSQL URL of a role allowed to CREATE DATABASE, e.g. "
        "postgresql://user:pw@localhost:5432/postgres (a fresh airflow_stack_<hex> is created)",
    )
    up.add_argument("--source-url", required=True, help="SQLAlchemy URL of modelguard_source")
    up.add_argument("--registry-url", required=True, help="SQLAlchemy URL of modelguard_registry")
    up.add_argument(
        "--config",
        default=os.environ.get("MODELGUARD_CONFIG") or str(DEFAULT_CONFIG),
        help="model config file or folder passed as MODELGUARD_CONFIG (default: "
        "$MODELGUARD_CONFIG, else the repo's config/ folder: every example model)",
    )
    up.add_argument("--home", help="AIRFLOW_HOME, new or empty (default .airflow/stack-<hex>)")
    up.add_argument("--username", default="admin", help="admin user (default admin)")
    up.add_argument("--password", help="admin password (default: random, printed)")
    up.add_argument("--keep-db", action="store_true", help="keep the metadata database at exit")
    up.add_argument(
        "--serve-logs",
        action="store_true",
        help="start the scheduler/triggerer log servers (they bind all interfaces, not loopback)",
    )
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to become healthy")
    up.add_argument(
        "--unpause",
        nargs="*",
        default=None,
        metavar="DAG_ID",
        help="DAGs to unpause once parsed (default: every model's retraining, deployment and "
        "rollback DAGs, which monitoring and people trigger); give none to leave all paused",
    )
    up.add_argument(
        "--extra-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every process, e.g. AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=True",
    )
    return parser


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_up(args: argparse.Namespace) -> int:
    stack = AirflowStack(
        pg_admin_dsn=args.pg_admin_dsn,
        source_url=args.source_url,
        registry_url=args.registry_url,
        config_path=args.config,
        home=args.home,
        extra_env=_parse_env_pairs(args.extra_env),
        username=args.username,
        password=args.password,
        keep_db=args.keep_db,
        serve_logs=args.serve_logs,
        startup_timeout=args.timeout,
    )
    # explicit: a shell starting this in the background may have set SIGINT to "ignore"
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    reported: set[str] = set()
    try:
        stack.start()
        if args.unpause is None:
            stack.unpause()
        elif args.unpause:
            stack.unpause(args.unpause)
        print(f"Airflow:  {stack.base_url}  (REST API {stack.base_url}/api/v2)")
        print(f"user:     {stack.username}\npassword: {stack.password}")
        print(f"pids:     {stack.pids}")
        print(f"home:     {stack.home}\nlogs:     {stack.log_dir}")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            time.sleep(2)
            for name in COMPONENTS:
                if not stack.is_running(name) and name not in reported:
                    reported.add(name)
                    print(f"WARNING: {name} exited; see {stack.logs[name]}", flush=True)
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abort cleanup
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "up":
        return run_up(args)
    raise SystemExit(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
