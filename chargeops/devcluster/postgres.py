"""A throwaway PostgreSQL server on loopback, for the store's tests and the gateway's benchmarks.

The ``postgres_server`` fixture in ``tests/conftest.py`` starts one per test session; a benchmark or
``.ci/run`` can do the same::

    with postgres.PostgresServer.start() as server:
        url = server.create_database()        # postgresql+asyncpg://postgres@127.0.0.1:<port>/<name>

It uses Debian's ``postgresql`` package (``make system-deps`` installs it): ``initdb`` makes a fresh
cluster in a temporary folder, ``postgres`` serves it on 127.0.0.1 at a free port with its socket in
that folder, and ``stop`` shuts it down and removes the folder. Durability is off (``fsync=off``), as
nothing here outlives the run. PostgreSQL refuses to run as root, so under root (CI) both run as the
``postgres`` user through ``setpriv``, which also asks the kernel to stop the server if we die.
"""

import atexit
import contextlib
import glob
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from chargeops.devcluster import errors, ports, processes

INSTALL_HINT = (
    "PostgreSQL is not installed. Install Debian's package with `make system-deps` "
    "(or `apt-get install -y postgresql`), or point CHARGEOPS_POSTGRES_BIN at a folder with initdb and postgres."
)
# Overrides where the server binaries are; by default the newest /usr/lib/postgresql/<major>/bin.
BIN_ENV = "CHARGEOPS_POSTGRES_BIN"
_DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"

# The superuser of the test cluster; loopback connections need no password (``--auth=trust``).
SUPERUSER = "postgres"
# The OS user that runs the server when we are root (Debian's package creates it).
_OS_USER = "postgres"

# A cold start takes about a second here; thirty is only reached when something is wrong.
DEFAULT_START_TIMEOUT_S = 30.0
_POLL_INTERVAL_S = 0.05
# Fast shutdown (SIGINT) ends sessions and exits within a second; past this it is stuck.
_STOP_GRACE_S = 10.0
_START_ATTEMPTS = 3
_PORT_TAKEN = "Address already in use"

# Safe unquoted in SQL and as a URL path segment.
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# The test server trades durability for speed and allows enough connections for several engines
# ("replicas") per test.
_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def find_binaries() -> Path:
    """The folder holding ``initdb``, ``postgres``, ``psql`` and ``pg_isready``."""
    configured = os.environ.get(BIN_ENV)
    candidates = (
        [Path(configured)]
        if configured
        else sorted(
            (Path(folder) for folder in glob.glob(_DEBIAN_BIN_GLOB)),
            key=lambda folder: _major_version(folder.parent.name),
            reverse=True,
        )
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise errors.PostgresNotFoundError(INSTALL_HINT)


class PostgresServer:
    """A running PostgreSQL cluster; ``stop`` it, or use it as a context manager."""

    def __init__(self, *, workdir: Path, bin_dir: Path, port: int) -> None:
        # Use ``PostgresServer.start``; this only holds what it made.
        self.workdir = workdir
        self.bin_dir = bin_dir
        self.port = port
        self.host = ports.LOOPBACK
        self._process: processes.ManagedProcess | None = None

    @classmethod
    def start(cls, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> Self:
        """Create a cluster in a new temporary folder, start the server and return once it accepts queries."""
        bin_dir = find_binaries()
        workdir = Path(tempfile.mkdtemp(prefix="chargeops-postgres-"))
        server = cls(workdir=workdir, bin_dir=bin_dir, port=0)
        atexit.register(server.stop)
        try:
            server._initdb()
            for attempt in range(1, _START_ATTEMPTS + 1):
                server.port = ports.free_port()
                try:
                    server._run(deadline=time.monotonic() + timeout_s)
                except errors.PostgresStartError as exc:
                    server._stop_process()
                    if _PORT_TAKEN not in exc.log_tail or attempt == _START_ATTEMPTS:
                        raise
                else:
                    return server
        except BaseException:
            server.stop()
            raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def url(self, database: str, *, driver: str = "postgresql+asyncpg") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create an empty database (a copy of ``template`` if given) and return its URL."""
        name = name or f"t_{secrets.token_hex(6)}"
        for value in (name, template):
            if value is not None and not _DATABASE_NAME.match(value):
                raise ValueError(f"{value!r} is not a plain lowercase database name")
        sql = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        self.psql(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any session still connected to it."""
        if not _DATABASE_NAME.match(name):
            raise ValueError(f"{name!r} is not a plain lowercase database name")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run ``sql`` with ``psql`` as the superuser and return its output (tuples only)."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                *("-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", database),
                *("-v", "ON_ERROR_STOP=1", "-X", "-q", "-t", "-A", "-c", sql),
            ],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise errors.PostgresCommandError(
                f"psql failed ({result.returncode}) on {sql!r}: {result.stderr.strip()}",
                sql=sql,
                output=result.stdout + result.stderr,
            )
        return result.stdout

    def stop(self) -> None:
        """Shut the server down (fast: sessions are ended) and remove its folder. Safe to call twice."""
        self._stop_process()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server process (fast shutdown: sessions are ended) and keep its data, for ``resume``.

        For fault tests: clients see PostgreSQL go away, then come back with everything committed.
        """
        self._stop_process()

    def resume(self, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> None:
        """Start the halted server again on the same port and data; return once it accepts connections.

        Call it from the main thread: under root the server's death signal is tied to the calling thread.
        """
        if self._process is not None:
            raise RuntimeError("PostgreSQL is still running; halt() first")
        self._run(deadline=time.monotonic() + timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs (its backends are its children)."""
        return self._process.popen.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """The server's log (stdout and stderr)."""
        return self.workdir / "postgres.log"

    def _initdb(self) -> None:
        data = self.workdir / "data"
        if _as_root():
            shutil.chown(self.workdir, user=_OS_USER, group=_OS_USER)
        result = subprocess.run(
            [
                *_as_os_user(),
                str(self.bin_dir / "initdb"),
                *("-D", str(data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C"),
                # Nothing here needs to survive a crash, so skip the fsync of every new file.
                "--no-sync",
            ],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise errors.PostgresStartError(f"initdb failed ({result.returncode}):\n{output}", log_tail=output)

    def _run(self, *, deadline: float) -> None:
        """Start ``postgres`` and wait until ``pg_isready`` says it accepts connections."""
        settings = [arg for key, value in _SERVER_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
        self._process = processes.spawn(
            "postgres",
            [
                # Under root: setpriv drops to the postgres user and sets SIGINT (fast shutdown) as the
                # death signal, since changing user clears the one ``processes.spawn`` asked for.
                *_as_os_user(pdeathsig="INT"),
                str(self.bin_dir / "postgres"),
                *("-D", str(self.workdir / "data"), "-h", self.host, "-p", str(self.port), "-k", str(self.workdir)),
                *settings,
            ],
            log_path=self.log_path,
        )
        while True:
            if not self._process.running():
                raise errors.PostgresStartError(
                    f"postgres exited with code {self._process.popen.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{self._process.log_tail()}",
                    log_tail=self._process.log_tail(),
                )
            if self._ready():
                return
            if time.monotonic() > deadline:
                raise errors.PostgresStartError(
                    f"postgres did not accept connections in time; last lines of {self.log_path}:\n"
                    f"{self._process.log_tail()}",
                    log_tail=self._process.log_tail(),
                )
            time.sleep(_POLL_INTERVAL_S)

    def _ready(self) -> bool:
        probe = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-q"],
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return probe.returncode == 0

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.running():
            with contextlib.suppress(ProcessLookupError):
                # SIGTERM would be a "smart" shutdown that waits for every client to disconnect.
                process.popen.send_signal(signal.SIGINT)
        try:
            process.popen.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def _as_root() -> bool:
    return os.geteuid() == 0


def _as_os_user(*, pdeathsig: str | None = None) -> list[str]:
    """The command prefix that runs a PostgreSQL binary as the ``postgres`` user when we are root."""
    if not _as_root():
        return []
    prefix = ["setpriv", f"--reuid={_OS_USER}", f"--regid={_OS_USER}", "--init-groups"]
    if pdeathsig is not None:
        prefix.append(f"--pdeathsig={pdeathsig}")
    return [*prefix, "--"]


def _major_version(name: str) -> int:
    return int(name) if name.isdigit() else -1
