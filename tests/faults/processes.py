"""Real moving parts for the fault scenarios: a private Redis, Celery worker processes, the
sweeper loop, a database connection killer and a fake OpenAI server that remembers what it
answered to each request.

Everything binds to 127.0.0.1. Every process started here is stopped by the object that
started it (by its own pid), never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import Action, Error, FakeOpenAI, Hang, Malformed, Reply
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
WORKER_APP_NAME = "lantern-faults-worker"  # PGAPPNAME of worker connections (the killer's target)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready within {timeout}s")
        time.sleep(0.05)


def _stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


# -- Redis -------------------------------------------------------------------------------------


class RedisServer:
    """A private, non-persistent redis-server on a free port: stopping it loses every key, as
    a crashed or restarted Redis without persistence would. The shared Redis is never touched."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(self.is_up, 10, f"redis-server on port {self.port}")

    def is_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process, grace=5)
            self.process = None


# -- Celery workers ------------------------------------------------------------------------------


class WorkerFleet:
    """Celery worker processes, started exactly as in production (threads pool, both queues)."""

    def __init__(
        self,
        env: dict[str, str],
        logdir: Path,
        *,
        count: int = 2,
        concurrency: int = 20,
        queues: str = "default,llm",
    ) -> None:
        self.env = env
        self.logdir = logdir
        self.concurrency = concurrency
        self.queues = queues
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.logs: list[Path] = [logdir / f"worker-{i}.log" for i in range(count)]
        self.starts = [0] * count
        self.kills = 0
        self._marks = [0] * count

    def start(self, index: int) -> None:
        self.starts[index] += 1
        name = f"faults{index}-{uuid.uuid4().hex[:6]}@127.0.0.1"
        with self.logs[index].open("ab") as log:
            log.write(f"\n=== start {self.starts[index]} as {name} ===\n".encode())
            log.flush()
            self.processes[index] = subprocess.Popen(  # noqa: S603
                [
                    str(CELERY),
                    "-A",
                    "config",
                    "worker",
                    "-P",
                    "threads",
                    "-c",
                    str(self.concurrency),
                    "-Q",
                    self.queues,
                    "-n",
                    name,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_all(self, *, wait: bool = True) -> None:
        for index in range(len(self.processes)):
            self.start(index)
        if wait:
            for index in range(len(self.processes)):
                self.wait_ready(index)

    def log_since_start(self, index: int) -> str:
        """The worker's log since its latest start."""
        text = self.logs[index].read_text(errors="replace")
        return text[text.rfind(f"=== start {self.starts[index]} as ") :]

    def wait_ready(self, index: int, timeout: float = 60) -> None:
        """Until the worker's log says it consumes (or fail with the log's tail)."""

        def ready() -> bool:
            process = self.processes[index]
            if process is None or process.poll() is not None:
                raise AssertionError(f"worker {index} exited early:\n{self.tail(index)}")
            return " ready." in self.log_since_start(index)

        _wait_until(ready, timeout, f"worker {index}")

    def wait_busy(self, index: int, tasks: int, timeout: float = 60) -> None:
        """Until the worker (since its latest start) has received `tasks` tasks."""
        _wait_until(
            lambda: self.log_since_start(index).count("] received") >= tasks,
            timeout,
            f"worker {index} receiving {tasks} tasks",
        )

    def kill(self, index: int) -> None:
        """SIGKILL: no warm shutdown, no acks, tasks in flight die with the process."""
        process = self.processes[index]
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            self.kills += 1

    def alive(self) -> list[bool]:
        return [p is not None and p.poll() is None for p in self.processes]

    def stop_all(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()  # warm shutdown
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)

    def tail(self, index: int, lines: int = 60) -> str:
        try:
            text = self.logs[index].read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def mark(self) -> None:
        """Start counting log lines from here (a new scenario on the same workers)."""
        self.kills = 0
        for index, log in enumerate(self.logs):
            self._marks[index] = log.stat().st_size if log.exists() else 0

    def grep(self, needle: str) -> list[str]:
        """Log lines containing `needle` since the last `mark()`."""
        found: list[str] = []
        for index, log in enumerate(self.logs):
            with contextlib.suppress(FileNotFoundError), log.open("rb") as handle:
                handle.seek(self._marks[index])
                text = handle.read().decode(errors="replace")
                found += [line for line in text.splitlines() if needle in line]
        return found

    def ensure_running(self) -> None:
        """Restart any worker that is not running (a supervisor's job in production)."""
        for index, running in enumerate(self.alive()):
            if not running:
                self.start(index)
        for index in range(len(self.processes)):
            self.wait_ready(index)


# -- The sweeper, as beat would run it ---------------------------------------------------------


class SweeperLoop(threading.Thread):
    """Runs the real `tutoring.tasks.explanations_sweep` task body every `interval` seconds
    (beat does it every minute in production), in this process, publishing through this
    process's Celery app like a `default` worker would."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="faults-sweeper", daemon=True)
        self.interval = interval
        self._stop_event = threading.Event()
        self.sweeps = 0
        self.requeued = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from django.db import connection

        from tutoring.tasks import explanations_sweep

        while not self._stop_event.wait(self.interval):
            try:
                result = explanations_sweep()
                self.sweeps += 1
                self.requeued += result["requeued"]
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried next time
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            finally:
                connection.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(30)


# -- PostgreSQL connection killer -----------------------------------------------------------


class ConnectionKiller(threading.Thread):
    """Plays PostgreSQL restarts for the workers: `restarts` times, for `down_seconds` it
    terminates every worker connection to the test database every 0.1 s (connections die
    mid-transaction and idle in the pool, new ones die as they are opened), then it leaves
    the database alone for `up_seconds`.

    The machine's PostgreSQL cluster is shared with other test runs, so it cannot really be
    restarted. The killer connects as the application role: the owner role is neither a
    superuser nor a member of pg_signal_backend, and PostgreSQL lets a role signal only the
    backends of roles it is a member of (itself included). Workers are told apart from this
    process's connections by their application_name (PGAPPNAME).
    """

    def __init__(
        self,
        conninfo: dict[str, Any],
        database: str,
        *,
        restarts: int,
        down_seconds: float,
        up_seconds: float,
    ) -> None:
        super().__init__(name="faults-pg-killer", daemon=True)
        self.conninfo = conninfo
        self.database = database
        self.planned = restarts
        self.down_seconds = down_seconds
        self.up_seconds = up_seconds
        self._stop_event = threading.Event()
        self.restarts = 0
        self.terminated = 0

    def run(self) -> None:
        import psycopg

        # Never prepare: the same statement runs every 0.1 s, and behind PgBouncer in
        # transaction mode (`make test-pgbouncer`) the 6th run (psycopg prepares on the
        # 5th) meets a server session without it: "prepared statement ... does not exist".
        with psycopg.connect(**self.conninfo, autocommit=True, prepare_threshold=None) as conn:
            while self.restarts < self.planned and not self._stop_event.is_set():
                down_until = time.monotonic() + self.down_seconds
                while time.monotonic() < down_until and not self._stop_event.is_set():
                    rows = conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = %s "
                        "AND pid <> pg_backend_pid()",
                        [self.database, WORKER_APP_NAME],
                    ).fetchall()
                    self.terminated += sum(1 for (ok,) in rows if ok)
                    self._stop_event.wait(0.1)
                self.restarts += 1
                self._stop_event.wait(self.up_seconds)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(30)


# -- A fake OpenAI that remembers what it did ------------------------------------------------


def describe(action: Action) -> dict[str, Any]:
    if isinstance(action, Error):
        return {"outcome": str(action.status), "retry_after": action.retry_after}
    if isinstance(action, Hang):
        return {"outcome": "hang"}
    if isinstance(action, Malformed):
        return {"outcome": "malformed"}
    if isinstance(action, Reply):
        return {"outcome": "reply"}
    return {"outcome": type(action).__name__.lower()}


class RecordingFakeOpenAI(FakeOpenAI):
    """The shared fake, plus the action chosen for each chat request in its log entry
    (`outcome`, `retry_after`), so a test can tell which request got a 429 and when the next
    request for the same question arrived. The handler thread records the entry and then
    picks the action, so a thread-local links the two."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._current = threading.local()

    def _record(self, entry: dict[str, Any]) -> None:
        self._current.entry = entry
        super()._record(entry)

    def _next_chat_action(self) -> tuple[Action, float, float]:
        action, latency, chunk_delay = super()._next_chat_action()
        entry = getattr(self._current, "entry", None)
        if entry is not None:
            with self._lock:
                entry.update(describe(action))
        return action, latency, chunk_delay


def print_now(line: str) -> None:
    """Straight to the real stdout, whether or not pytest captures output."""
    out = sys.__stdout__
    assert out is not None  # a process started with stdout closed has nothing to print to
    out.write(line + "\n")
    out.flush()
