"""What every benchmark sets up for itself, and tears down.

- its own PostgreSQL database `lantern_bench_<name>`, created by the owner role and migrated
  with `manage.py migrate` (which runs as the owner), then used as the app role `lantern_app`
  so row-level security is on exactly as in production;
- its own Redis database (broker and live deltas), flushed at the start;
- its own subprocesses: the fake OpenAI server, Celery workers, web servers. Each starts in
  its own process group and is stopped by its id when the benchmark ends, even on failure.

Connection URLs default to the ones of `config/test_settings.py` (`make services`); a
DATABASE_URL / DATABASE_OWNER_URL already in the environment wins (its database name is
replaced by the benchmark's).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PYTHON = sys.executable
APP_URL_DEFAULT = "postgres://lantern_app:lantern_app_dev@127.0.0.1:5432/lantern"
OWNER_URL_DEFAULT = "postgres://lantern_owner:lantern_owner_dev@127.0.0.1:5432/lantern"
# libpq reads PGAPPNAME, so the workers' connections are told apart in pg_stat_activity.
WORKER_APPLICATION_NAME = "lantern-bench-worker"
WEB_APPLICATION_NAME = "lantern-bench-web"
# A fixed, valid Fernet key: the benchmark databases hold no real secrets.
BENCH_FERNET_KEY = "YmVuY2gtb25seS1rZXktbm90LWZvci1wcm9kdWN0aW8="
BENCH_API_KEY = "sk-bench-not-a-real-key-0123456789"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass(frozen=True)
class Bench:
    """One benchmark's private resources."""

    name: str
    redis_db: int

    @property
    def database(self) -> str:
        return f"lantern_bench_{self.name}"

    @property
    def app_url(self) -> str:
        return _with_database(os.environ.get("DATABASE_URL", APP_URL_DEFAULT), self.database)

    @property
    def owner_url(self) -> str:
        return _with_database(
            os.environ.get("DATABASE_OWNER_URL", OWNER_URL_DEFAULT), self.database
        )

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:6379/{self.redis_db}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of this benchmark's processes (the script's own included):
        production-like settings (DEBUG off, so no per-query logging) on the bench database."""
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.app_url,
            DATABASE_OWNER_URL=self.owner_url,
            REDIS_URL=self.redis_url,
            CELERY_BROKER_URL=self.redis_url,
            DEBUG="false",
            SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
            FIELD_ENCRYPTION_KEYS=BENCH_FERNET_KEY,
            SECURE_SSL_REDIRECT="false",
            # Plain static storage: the benchmarks never run collectstatic.
            LANTERN_TESTING="1",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
        )
        env.pop("LANTERN_TEST_SLOT", None)
        env.update(extra)
        return env

    # -- database ----------------------------------------------------------------------

    def create_database(self, *, keep: bool = False) -> bool:
        """Create (or with `keep`, reuse) and migrate the database. True when created."""
        import psycopg
        from psycopg import sql

        owner_url = self.owner_url
        # CREATE/DROP DATABASE run from the owner's usual database (`lantern`).
        admin_url = os.environ.get("DATABASE_OWNER_URL", OWNER_URL_DEFAULT)
        owner = urlsplit(owner_url).username or ""
        app = urlsplit(self.app_url).username or ""
        name = sql.Identifier(self.database)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if exists and keep:
                return False
            if exists:
                conn.execute(sql.SQL("DROP DATABASE {}").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, sql.Identifier(owner)))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
            conn.execute(
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    name, sql.Identifier(app)
                )
            )
        with psycopg.connect(owner_url, autocommit=True) as conn:
            # PostgreSQL 15: schema public belongs to the database owner, who may grant it.
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app)))
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=self.env(),
            check=True,
        )
        return True

    def owner_connection(self) -> Any:
        """An autocommit psycopg connection as the owner that sees every school.

        The owner is subject to FORCE RLS too; `app.cross_school` is set for this session
        only (a private connection, never a pooled one the application reuses).
        """
        import psycopg

        conn = psycopg.connect(self.owner_url, autocommit=True)
        conn.execute("SELECT set_config('app.cross_school', 'on', false)")
        return conn

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def setup_django(self, **extra_env: str) -> None:
        """Configure this process like the benchmark's subprocesses and start Django."""
        os.environ.update(self.env(**extra_env))
        import django

        django.setup()


# -- subprocesses ------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class Processes:
    """Subprocesses started by one benchmark; `stop_all()` ends them (by their own ids)."""

    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lantern-bench-")))
    started: list[Process] = field(default_factory=list)

    def start(
        self,
        name: str,
        command: Sequence[str],
        env: dict[str, str],
        *,
        stdout_pipe: bool = False,
    ) -> Process:
        log_path = self.log_dir / f"{name}.log"
        log: IO[bytes] = log_path.open("wb")
        popen = subprocess.Popen(
            list(command),
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE if stdout_pipe else log,
            stderr=log,
            start_new_session=True,
        )
        process = Process(name, popen, log_path)
        self.started.append(process)
        return process

    def stop(self, process: Process, timeout: float = 15.0) -> None:
        if process.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
            try:
                process.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.started)):
            self.stop(process)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


@dataclass
class FakeServer:
    process: Process
    base_url: str

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        import httpx2

        return httpx2.get(f"{self.root}/_stats", timeout=5).json()

    def reset_stats(self) -> dict[str, Any]:
        import httpx2

        return httpx2.post(f"{self.root}/_stats/reset", timeout=5).json()


def fake_openai_start(
    processes: Processes,
    env: dict[str, str],
    *,
    latency: float,
    reply: str,
    chunk_delay: float = 0.0,
    port: int = 0,
) -> FakeServer:
    """The fake OpenAI server as a subprocess (`port` 0: an ephemeral one)."""
    command = [
        PYTHON,
        "-m",
        "tests.fakes.openai_server",
        "--port",
        str(port),
        "--latency",
        str(latency),
        "--chunk-delay",
        str(chunk_delay),
        "--reply",
        reply,
    ]
    process = processes.start("fake-openai", command, env, stdout_pipe=True)
    assert process.popen.stdout is not None
    line = process.popen.stdout.readline().decode()
    match = re.search(r"(http://\S+/v1)", line)
    if not match:
        raise RuntimeError(f"fake OpenAI server did not start: {line!r}\n{process.log_tail()}")
    return FakeServer(process, match.group(1))


def worker_start(
    processes: Processes,
    env: dict[str, str],
    *,
    name: str,
    concurrency: int,
    queues: str = "llm,default",
    include: Sequence[str] = ("bench.bare_tasks",),
) -> Process:
    """A Celery worker (threads pool, like production's `llm` worker) and wait until it
    answers a ping."""
    command = [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config.celery",
        "worker",
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "-Q",
        queues,
        "-n",
        f"{name}@bench",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
    for module in include:
        command += ["--include", module]
    process = processes.start(name, command, env | {"PGAPPNAME": WORKER_APPLICATION_NAME})
    from config.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"worker {name} exited:\n{process.log_tail()}")
        if app.control.ping(destination=[f"{name}@bench"], timeout=0.5):
            return process
    raise RuntimeError(f"worker {name} did not answer a ping:\n{process.log_tail()}")


def wait_for_http(url: str, timeout: float = 60.0, process: Process | None = None) -> None:
    import httpx2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        with contextlib.suppress(httpx2.HTTPError):
            httpx2.get(url, timeout=1)
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


# -- measuring ---------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total_kb = 0
    for current in _descendants(pid):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{current}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                total_kb += int(match.group(1))
    return round(total_kb / 1024, 1)


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process, its threads and its live children have used."""
    total = 0
    for current in _descendants(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load: other work on the machine skews every figure."""
    return [round(x, 2) for x in os.getloadavg()]


class Sampler:
    """Calls `probe()` every `interval` seconds in a thread and keeps the maximum."""

    def __init__(self, probe: Callable[[], float], interval: float = 0.05) -> None:
        self.probe = probe
        self.interval = interval
        self.peak: float = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, float(self.probe()))
                self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def _version(module: str) -> str:
    from importlib import metadata

    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version(module)
    return "?"


def machine(bench: Bench | None = None) -> dict[str, Any]:
    """Where the figures come from."""
    mem_kb = 0
    with contextlib.suppress(OSError):
        match = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kb = int(match.group(1)) if match else 0
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "python": platform.python_version(),
        "django": _version("django"),
        "celery": _version("celery"),
        "psycopg": _version("psycopg"),
        "openai": _version("openai"),
        "redis_py": _version("redis"),
    }
    if bench is not None:
        with contextlib.suppress(Exception), bench.owner_connection() as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        with contextlib.suppress(Exception):
            import redis

            info["redis"] = redis.Redis.from_url(bench.redis_url).info()["redis_version"]
    return info


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2, default=str), flush=True)


@contextlib.contextmanager
def timed() -> Iterator[dict[str, float]]:
    box: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start
