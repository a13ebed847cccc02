"""A private PgBouncer in transaction mode, for the `make test-pgbouncer` profile.

`config/test_settings.py` starts one per test process when LANTERN_PGBOUNCER=1 and points the
database settings' HOST/PORT at it, so the test process and everything it spawns (Celery
workers, web servers: they are given the test process's settings) reach PostgreSQL only
through it. Like the fake servers it binds 127.0.0.1 on a free port, keeps its files in a
temporary folder and is stopped by its own pid: at exit, or by the kernel when the process
that started it dies (PR_SET_PDEATHSIG), so a killed test run leaves no pooler holding
connections to a test database.

Authentication works whatever the machine's loopback method is: the auth_file holds the
roles' plain passwords (from the database URLs), so PgBouncer can answer a scram, md5,
password or trust server, and clients authenticate to it with scram-sha-256.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.live import free_port

# Small on purpose: with more client connections than server connections, consecutive
# transactions of one client land on different server sessions, which is what the profile
# is for (a leak of session state shows up at once).
DEFAULT_POOL_SIZE = 2
MAX_CLIENT_CONN = 400
_PR_SET_PDEATHSIG = 1


def pgbouncer_binary() -> str:
    """Debian installs it in /usr/sbin, which is often not on a user's PATH."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise RuntimeError("LANTERN_PGBOUNCER=1 needs pgbouncer (apt-get install pgbouncer)")
    return found


def _quote(value: str) -> str:
    """auth_file syntax: double-quoted, a double quote doubled."""
    return '"' + value.replace('"', '""') + '"'


def _unprivileged_user() -> pwd.struct_passwd | None:
    """PgBouncer refuses to run as root (CI runs as root): drop to postgres, or nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither user postgres nor nobody exists")


def _child_setup(user: pwd.struct_passwd | None) -> Callable[[], None]:
    def setup() -> None:
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        # After the credential change, which would clear it.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup


@dataclass
class PgBouncer:
    """PgBouncer in front of `upstream_host:upstream_port`, every database name routed there
    (test databases are created after it starts), for the given (user, password) roles."""

    upstream_host: str
    upstream_port: int
    roles: list[tuple[str, str]]
    admin_user: str
    default_pool_size: int = DEFAULT_POOL_SIZE

    def __post_init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="lantern-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.aliases: dict[str, str] = {}

    def _write_config(self) -> Path:
        users = self.workdir / "userlist.txt"
        users.write_text(
            "".join(f"{_quote(user)} {_quote(password)}\n" for user, password in self.roles)
        )
        users.chmod(0o600)
        # Empty passwords (a trust-only machine) cannot do scram: trust the loopback instead.
        auth_type = "scram-sha-256" if all(password for _, password in self.roles) else "trust"
        ini = self.workdir / "pgbouncer.ini"
        ini.write_text(
            "\n".join(
                [
                    "[databases]",
                    *(
                        f"{alias} = host={self.upstream_host} port={self.upstream_port} "
                        f"dbname={name}"
                        for alias, name in self.aliases.items()
                    ),
                    f"* = host={self.upstream_host} port={self.upstream_port}",
                    "[pgbouncer]",
                    f"listen_addr = {self.host}",
                    f"listen_port = {self.port}",
                    f"unix_socket_dir = {self.workdir}",
                    f"auth_type = {auth_type}",
                    f"auth_file = {users}",
                    f"admin_users = {self.admin_user}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.default_pool_size}",
                    f"max_client_conn = {MAX_CLIENT_CONN}",
                    # Lantern keeps no session state; nothing to reset between clients.
                    "server_reset_query =",
                    "ignore_startup_parameters = extra_float_digits",
                    f"logfile = {self.workdir / 'pgbouncer.log'}",
                    "log_connections = 0",
                    "log_disconnections = 0",
                    "",
                ]
            )
        )
        return ini

    def start(self) -> None:
        ini = self._write_config()
        user = _unprivileged_user()
        if user is not None:
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
            [pgbouncer_binary(), "-q", str(ini)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_child_setup(user),  # noqa: PLW1509 - setuid and prctl only
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.workdir / "pgbouncer.log"
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    self.stop()
                    raise RuntimeError(f"pgbouncer did not start on port {self.port}:\n{tail}")
                time.sleep(0.05)

    def add_alias(self, alias: str, dbname: str, admin_password: str) -> None:
        """Another name for `dbname`: its clients get their own pool of server sessions
        (PgBouncer pools per database name and role), which no other client ever uses."""
        self.aliases[alias] = dbname
        self._write_config()
        self.admin("RELOAD", admin_password)

    def admin(self, command: str, password: str) -> list[tuple[object, ...]]:
        """Run an admin console command (simple query protocol only) as `admin_user`."""
        import psycopg

        with psycopg.connect(
            host=self.host,
            port=self.port,
            dbname="pgbouncer",
            user=self.admin_user,
            password=password,
            autocommit=True,
        ) as conn:
            cursor = psycopg.ClientCursor(conn)
            cursor.execute(command)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_for(
    upstream_host: str,
    upstream_port: int,
    roles: list[tuple[str, str]],
    admin_user: str,
) -> PgBouncer:
    """Start one for this process and stop it when the process exits."""
    global _running  # noqa: PLW0603 - one pooler per process, started once by the settings
    pool_size = int(os.environ.get("LANTERN_PGBOUNCER_POOL_SIZE", DEFAULT_POOL_SIZE))
    bouncer = PgBouncer(upstream_host, upstream_port, roles, admin_user, pool_size)
    bouncer.start()
    atexit.register(bouncer.stop)
    _running = bouncer
    return bouncer


def running() -> PgBouncer | None:
    """This process's PgBouncer, when the profile is on (each test process has its own)."""
    return _running


_running: PgBouncer | None = None
