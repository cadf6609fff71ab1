"""A PostgreSQL cluster that a test or benchmark creates, crashes and restarts itself.

A crash test must own the server it stops: stopping a shared one would break
every other test (and everyone else) using it. So this makes a fresh cluster
with `initdb` in a temporary directory, serves it on a free loopback port with
`pg_ctl`, and deletes it afterwards. It runs with either kind of PostgreSQL
binaries modeldesk meets: those bundled in pgserver's wheel (what the embedded
server runs) or the machine's own installation (`pg_config --bindir`).

PostgreSQL refuses to run as root, so under root the cluster belongs to an
unprivileged system user (`postgres`, or the `pgserver` user pgserver creates).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from modeldesk.testing.live_server import free_port

logger = logging.getLogger(__name__)

BinariesKind = Literal["bundled", "system"]
# Tried in order when running as root; PostgreSQL will not run as root itself.
_SERVICE_USERS = ("postgres", "pgserver", "nobody")
# An immediate stop crashes PostgreSQL, not the machine: what it wrote is in
# the page cache, so skipping fsync only saves time. `synchronous_commit` stays
# on: turned off, a crash would lose the last commits, which no test expects of
# a production server.
_SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c max_connections=100"
_PG_CTL_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresBinaries:
    kind: BinariesKind
    bindir: Path

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def bundled_binaries() -> PostgresBinaries | None:
    """The binaries in pgserver's wheel, the embedded server's, when installed."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return _if_complete("bundled", Path(POSTGRES_BIN_PATH))


def system_binaries() -> PostgresBinaries | None:
    """The machine's PostgreSQL installation, as `pg_config --bindir` names it."""
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and (binaries := _if_complete("system", Path(found))) is not None:
            return binaries
    # Debian's layout, when pg_config (a -dev package) is not installed.
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (binaries := _if_complete("system", bindir)) is not None:
            return binaries
    return None


def available_binaries() -> list[PostgresBinaries]:
    """Every kind of PostgreSQL binaries on this machine: bundled first, then system."""
    return [found for found in (bundled_binaries(), system_binaries()) if found is not None]


def _if_complete(kind: BinariesKind, bindir: Path) -> PostgresBinaries | None:
    needed = ("initdb", "pg_ctl", "postgres")
    if all(os.access(bindir / name, os.X_OK) for name in needed):
        return PostgresBinaries(kind, bindir)
    return None


def _service_user() -> pwd.struct_passwd | None:
    """The user the cluster runs as: None (this process's own user) unless running as root."""
    if os.geteuid() != 0:
        return None
    for name in _SERVICE_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"running as root and none of the users {_SERVICE_USERS} exists")


class OwnedPostgres:
    """A cluster of our own: `start()`, `crash()` (an immediate stop), `start()` again, `close()`.

    Use it as a context manager; leaving stops the server and deletes the cluster.
    """

    def __init__(self, binaries: PostgresBinaries) -> None:
        self.binaries = binaries
        self.port = free_port()
        self._base = Path(tempfile.mkdtemp(prefix=f"modeldesk-owned-pg-{binaries.kind}-"))
        self._data = self._base / "data"
        self._sockets = self._base / "sockets"
        self.log_file = self._base / "postgresql.log"
        user = _service_user()
        self._uid = None if user is None else user.pw_uid
        self._gid = None if user is None else user.pw_gid
        self._sockets.mkdir()
        self.log_file.touch()
        if user is not None:
            for path in (self._base, self._sockets, self.log_file):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self._data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        """Whether a postmaster serves the cluster (pg_ctl's own answer)."""
        status = subprocess.run(
            [self.binaries.tool("pg_ctl"), "status", "-D", str(self._data)],
            capture_output=True,
            check=False,
            user=self._uid,
            group=self._gid,
        )
        return status.returncode == 0

    def start(self) -> float:
        """Start the server; returns `time.monotonic()` when it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._sockets} {_SERVER_OPTIONS}"
        )
        self._pg_ctl("start", "-l", str(self.log_file), "-o", options)
        accepting = time.monotonic()
        logger.info("owned PostgreSQL (%s) accepting on port %d", self.binaries.kind, self.port)
        return accepting

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every backend is killed at once, no checkpoint."""
        self._pg_ctl("stop", "-m", "immediate")
        logger.info("owned PostgreSQL (%s) stopped with -m immediate", self.binaries.kind)

    def close(self) -> None:
        if self._data.exists() and self.running:
            self._pg_ctl("stop", "-m", "fast")
        shutil.rmtree(self._base, ignore_errors=True)

    def server_log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self._data), "-w", "-t", str(_PG_CTL_TIMEOUT_SECONDS), *args)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [self.binaries.tool(tool), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self._base,
            user=self._uid,
            group=self._gid,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )

    def __enter__(self) -> OwnedPostgres:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
