"""A private, throwaway PostgreSQL server for modelguard's stores in the stack tests.

Airflow's metadata DB lives on the machine's server; the source table, the registry and the
results store live here, so a test can stop and restart *this* server in the middle of a run
(a real restart, not a dropped connection) without touching Airflow's own database. Built from
the machine's PostgreSQL binaries (``initdb``, ``pg_ctl``); as root it runs as ``postgres``.
Loopback only, a free port, trust authentication (nothing else can reach it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bin(name: str) -> str:
    for folder in _BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    raise PostgresUnavailable(
        f"{name} not found (looked in /usr/lib/postgresql/*/bin and PATH): install the "
        "PostgreSQL server package (Debian: postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresInstance:
    """``start()`` / ``stop()`` / ``restart()`` a server on ``root``; ``url(db)`` for SQLAlchemy."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        self._user = None if os.geteuid() != 0 else "postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def init(self) -> None:
        for folder in (self.root, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        if self._user:
            entry = pwd.getpwnam(self._user)
            for folder in (self.root, self.socket_dir):
                os.chown(folder, entry.pw_uid, entry.pw_gid)
        self._run(
            _bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.socket_dir} -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create ``name`` (the stack script's own helper) and return its SQLAlchemy URL."""
        from airflow_stack import create_database  # scripts/ is on sys.path (tests/stack/conftest)

        create_database(self.url(), name)
        return self.url(name)
