"""Fault scenarios with real processes: PostgreSQL (the test database), Redis or RabbitMQ,
two Celery worker processes, the fake OpenAI server (its own process) and the sweeper.

The test process plays the web: it asks through `explanation_request`, the same service the
pages and the API call, one transaction per request. Workers are separate processes started
with the production command and pointed at the test database as the application role. The
Redis scenarios share one private redis-server, fake model and pair of workers for the whole
session (starting a worker costs seconds of CPU); each scenario gets healthy workers, empty
queues and a well-behaved model at its start, and breaks them as it needs. The RabbitMQ
scenario starts its own.

Each scenario records a one-line JSON summary; they are printed as each scenario finishes
and again at the end of the run, whether or not output is captured, so the guarantee is
visible in the CI log.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.models import Count

from accounts.models import School, User
from accounts.tenancy import school_context
from tests.factories import member, membership_of, published_lesson
from tests.faults.fake_process import FakeProcess
from tests.faults.processes import (
    WORKER_APP_NAME,
    ConnectionKiller,
    RedisServer,
    SweeperLoop,
    WorkerFleet,
    print_now,
)
from tutoring.errors import BudgetExhausted
from tutoring.models import Explanation, Message, UsageEntry
from tutoring.services import explanations as svc
from tutoring.services.budgets import school_settings_get

Status = Explanation.Status
RABBITMQ_URL = os.environ.get("LANTERN_FAULTS_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
REPLY = "Add the numerators and keep the denominator: $\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$."

SUMMARIES: list[dict[str, Any]] = []


def question_for(marker: str) -> str:
    """A unique question; `[marker]` identifies it in the provider's request log."""
    return f"[{marker}] How do I add 1/5 and 2/5?"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARIES:
        terminalreporter.write_sep("=", "fault scenarios (one JSON line each)")
        for summary in SUMMARIES:
            terminalreporter.write_line(json.dumps(summary))


# -- The school ----------------------------------------------------------------------------------


@dataclass
class World:
    school: School
    lesson: Any
    students: list[User]


@pytest.fixture
def world(transactional_db: None) -> World:
    """A school with a published lesson, 12 students and budgets no scenario reaches
    (scenario 6 sets its own)."""
    from tests.factories import SchoolFactory

    school = SchoolFactory.create(name="Faultline School", slug=f"faults-{uuid.uuid4().hex[:6]}")
    teacher = member(school, "teacher", email=f"t-{school.slug}@faults.test")
    students = [
        member(school, "student", email=f"s{i}-{school.slug}@faults.test") for i in range(12)
    ]
    lesson = published_lesson(school, teacher, students)
    set_budgets(school, monthly_token_budget=10**12, student_daily_token_budget=2_000_000_000)
    return World(school=school, lesson=lesson, students=students)


def set_budgets(school: School, **limits: int) -> None:
    with school_context(school):
        row = school_settings_get(school)
        for name, value in limits.items():
            setattr(row, name, value)
        row.save()


# -- The pipeline under test ---------------------------------------------------------------------


@contextmanager
def celery_app_on(broker_url: str, queue_prefix: str) -> Iterator[None]:
    """Point this process's Celery app (the web side) at another broker and queue names,
    dropping its cached connections, routes and queue declarations; restore on exit."""
    from kombu import pools

    from config.celery import app

    keys = ("broker_url", "broker_transport", "task_default_queue", "task_queues", "task_routes")
    saved = {key: app.conf[key] for key in keys}

    def forget_connections() -> None:
        # kombu shares connection pools between equal connections process-wide: close and
        # forget them all, or the next scenario would be handed a closed pool.
        pools.reset()
        app._pool = None
        app.__dict__.pop("amqp", None)

    forget_connections()
    is_redis = broker_url.startswith("redis://")
    app.conf.update(
        broker_url=broker_url,
        broker_transport="base.redis_broker:Transport" if is_redis else None,
        task_default_queue=f"{queue_prefix}default",
        task_queues={f"{queue_prefix}default": {}, f"{queue_prefix}llm": {}},
        task_routes={"tutoring.tasks.explanation_generate": {"queue": f"{queue_prefix}llm"}},
    )
    try:
        yield
    finally:
        forget_connections()
        app.conf.update(saved)


@dataclass
class Pipeline:
    world: World
    fake: FakeProcess
    workers: WorkerFleet
    sweeper: SweeperLoop
    redis: RedisServer | None
    database: str
    conninfo: dict[str, Any]
    ids: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (started, seconds)
    started_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _asked: int = 0

    # -- the web side --------------------------------------------------------------------

    def ask(self, count: int, tag: str, *, threads: int = 3) -> list[int]:
        """`count` questions from `threads` students at a time, each in a new session, as
        the web does it: one transaction, enqueue on commit. Questions are unique (tagged),
        so the cache never answers one."""
        numbers = iter(range(count))
        lock = threading.Lock()
        new: list[int] = []

        def asker() -> None:
            try:
                while True:
                    with lock:
                        number = next(numbers, None)
                    if number is None:
                        return
                    pk = self._ask_one(f"{tag}-{number}")
                    if pk is not None:
                        with lock:
                            new.append(pk)
            finally:
                connection.close()

        pool = [threading.Thread(target=asker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        return new

    def _ask_one(self, marker: str) -> int | None:
        school = self.world.school
        with self._lock:
            student = self.world.students[self._asked % len(self.world.students)]
            self._asked += 1
        started = time.monotonic()
        try:
            with school_context(school):
                actor = membership_of(school, student)
                session = svc.session_start(actor=actor, lesson=self.world.lesson)
                explanation = svc.explanation_request(
                    actor=actor, session=session, question=question_for(marker)
                )
        except BudgetExhausted as exc:
            with self._lock:
                self.refused.append(exc.code)
            return None
        finally:
            with self._lock:
                self.latencies.append((started, time.monotonic() - started))
        with self._lock:
            self.ids.append(explanation.pk)
        return explanation.pk

    # -- the database's view -----------------------------------------------------------

    def rows(self, ids: list[int] | None = None) -> list[Explanation]:
        with school_context(self.world.school):
            return list(Explanation.objects.filter(pk__in=ids or self.ids).order_by("pk"))

    def request_seconds(self, since: float, until: float) -> list[float]:
        """How long each request started in [since, until] took."""
        with self._lock:
            return [took for started, took in self.latencies if since <= started <= until]

    def count(self, **filters: Any) -> int:
        with school_context(self.world.school):
            return Explanation.objects.filter(pk__in=self.ids, **filters).count()

    def unfinished(self) -> int:
        with school_context(self.world.school):
            return (
                Explanation.objects.filter(pk__in=self.ids)
                .exclude(status__in=Explanation.TERMINAL)
                .count()
            )

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            time.sleep(0.25)

    def wait_all_terminal(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = self.unfinished()
            if not left:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{left} of {len(self.ids)} explanations still not finished after "
                    f"{timeout}s\nworker 0:\n{self.workers.tail(0)}\nworker 1:\n"
                    f"{self.workers.tail(1)}\nsweeper errors: {self.sweeper.errors[-5:]}"
                )
            time.sleep(0.25)

    def counts(self) -> dict[str, int]:
        with school_context(self.world.school):
            rows = Explanation.objects.filter(pk__in=self.ids)
            by_status = dict(rows.values_list("status").annotate(n=Count("id")))
            duplicates = (
                Message.objects.filter(explanation_id__in=self.ids, role=Message.Role.TUTOR)
                .values("explanation_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
            double_charges = (
                UsageEntry.objects.filter(explanation_id__in=self.ids)
                .values("explanation_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
        return {
            "requests": len(self.ids),
            "succeeded": by_status.get(Status.SUCCEEDED, 0),
            "failed": by_status.get(Status.FAILED, 0),
            "duplicates": duplicates,
            "double_charges": double_charges,
            "lost": len(self.ids) - sum(by_status.get(s, 0) for s in Explanation.TERMINAL),
        }

    def summary(self, scenario: str, **extra: Any) -> dict[str, Any]:
        """The scenario's counts, recorded for the end-of-run report and printed now."""
        result = {"scenario": scenario, **self.counts(), **extra}
        result["seconds"] = round(time.monotonic() - self.started_at, 1)
        SUMMARIES.append(result)
        print_now("FAULTS " + json.dumps(result))
        return result

    def assert_exactly_once(self, summary: dict[str, Any]) -> None:
        """Every finished explanation has exactly one tutor message and, when it succeeded,
        exactly one charge; failed ones are never charged."""
        assert summary["duplicates"] == 0, summary
        assert summary["double_charges"] == 0, summary
        assert summary["lost"] == 0, summary
        with school_context(self.world.school):
            succeeded = set(
                Explanation.objects.filter(pk__in=self.ids, status=Status.SUCCEEDED).values_list(
                    "pk", flat=True
                )
            )
            charged = set(
                UsageEntry.objects.filter(explanation_id__in=self.ids).values_list(
                    "explanation_id", flat=True
                )
            )
            answered = set(
                Message.objects.filter(
                    explanation_id__in=self.ids, role=Message.Role.TUTOR
                ).values_list("explanation_id", flat=True)
            )
        assert charged == succeeded, "every answer is charged once, nothing else is charged"
        assert answered == succeeded, "every answer appears once in its conversation"


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict["USER"], safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or "5432"
    return f"postgres://{user}:{password}@{host}:{port}/{settings_dict['NAME']}"


def _workers_database_url(settings_dict: dict[str, Any]) -> str:
    """Under the PgBouncer profile the workers get their own PgBouncer pool (an alias of the
    test database): the connection killer tells worker sessions by their application_name,
    and a server session shared with this process would carry this process's transactions."""
    from django.conf import settings

    from tests.pgbouncer import running

    bouncer = running()
    if bouncer is None or settings.DATABASE_OWNER_CREDENTIALS is None:
        return _database_url(settings_dict)
    alias = "faults_workers"
    bouncer.add_alias(alias, settings_dict["NAME"], settings.DATABASE_OWNER_CREDENTIALS[1])
    return _database_url({**settings_dict, "NAME": alias})


# The LLM settings of every scenario, in the workers and in this process. Short timeouts keep
# the suite fast: a call that hangs is cut after 2 s, a dead worker's claim is taken over
# after 8 s, a lost message is re-sent after 3 s, retries wait 0.25 s and up.
LLM_SETTINGS = {
    "LLM_PROVIDER": "openai",
    "LLM_TIMEOUT_SECONDS": "2",
    "LLM_LEASE_SECONDS": "8",
    "LLM_STALE_QUEUED_SECONDS": "3",
    "LLM_MAX_ATTEMPTS": "4",
    "LLM_BACKOFF_BASE_SECONDS": "0.5",
    "LLM_BACKOFF_MAX_SECONDS": "10",
}


@dataclass
class Fleet:
    """The processes a scenario runs against: broker, fake model, two Celery workers."""

    broker_url: str
    redis_url: str
    queue_prefix: str
    fake: FakeProcess
    workers: WorkerFleet
    api_key: str
    redis: RedisServer | None = None

    def stop(self) -> None:
        for stop in (
            self.workers.stop_all,
            self.fake.stop,
            self.redis.stop if self.redis else None,
        ):
            if stop is not None:
                try:
                    stop()
                except Exception as exc:  # noqa: BLE001 - one failure must not skip the rest
                    print_now(f"faults cleanup failed: {type(exc).__name__}: {exc}")
        if not self.broker_url.startswith("redis://"):
            _delete_rabbitmq_queues(self.queue_prefix)


def _start_fleet(broker: str, logdir: Path) -> Fleet:
    from django.conf import settings

    redis: RedisServer | None = None
    prefix = ""
    if broker == "redis":
        redis = RedisServer(logdir)
        redis.start()
        broker_url = redis_url = redis.url
    else:
        prefix = f"faults-{uuid.uuid4().hex[:8]}-"
        broker_url, redis_url = RABBITMQ_URL, settings.REDIS_URL
    fake = FakeProcess(logdir, reply=REPLY)
    api_key = "sk-test-" + secrets.token_hex(12)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_", "CELERY_", "LLM_", "OPENAI_", "PG"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        # The test database (its NAME is set by now), as the application role.
        "DATABASE_URL": _workers_database_url(connection.settings_dict),
        "DATABASE_POOL_MAX_SIZE": "8",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_QUEUE_PREFIX": prefix,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": api_key,
        "PGAPPNAME": WORKER_APP_NAME,
        "PYTHONUNBUFFERED": "1",
    } | LLM_SETTINGS
    workers = WorkerFleet(env, logdir, queues=f"{prefix}default,{prefix}llm")
    fleet = Fleet(broker_url, redis_url, prefix, fake, workers, api_key, redis)
    try:
        workers.start_all()
    except BaseException:
        fleet.stop()
        raise
    return fleet


@pytest.fixture(scope="session")
def redis_fleet(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """One private redis-server, fake model and pair of workers for all Redis scenarios:
    starting workers costs seconds of CPU each. Stopped before the test database goes."""
    fleet = _start_fleet("redis", tmp_path_factory.mktemp("faults-redis"))
    yield fleet
    fleet.stop()


@pytest.fixture
def rabbitmq_fleet(django_db_setup: None, tmp_path: Path) -> Iterator[Fleet]:
    if not rabbitmq_reachable():
        reason = f"RabbitMQ not reachable at {RABBITMQ_URL}"
        print_now(f"FAULTS skipped: {reason}")
        pytest.skip(reason)
    fleet = _start_fleet("rabbitmq", tmp_path)
    yield fleet
    fleet.stop()


@contextmanager
def _pipeline(fleet: Fleet, world: World, settings: Any) -> Iterator[Pipeline]:
    """One scenario on `fleet`: workers running and the model well-behaved at the start,
    this process (the web and the sweeper) on the same broker and LLM settings."""
    if fleet.redis is not None and not fleet.redis.is_up():
        fleet.redis.start()
    fleet.workers.ensure_running()
    fleet.workers.mark()
    if fleet.redis is not None:
        _purge_redis_queues(fleet.redis.url)
    fleet.fake.configure()
    values = LLM_SETTINGS | {
        "OPENAI_BASE_URL": fleet.fake.base_url,
        "OPENAI_API_KEY": fleet.api_key,
    }
    for name, value in values.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    db = connection.settings_dict
    conninfo = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or "5432",
        "user": db["USER"],
        "password": db["PASSWORD"],
        "dbname": db["NAME"],
    }
    # The sweeper's "requeued N" line every second would bury the summaries under -s.
    sweeper_log = logging.getLogger("tutoring.tasks")
    sweeper_level = sweeper_log.level
    sweeper_log.setLevel(logging.WARNING)
    with celery_app_on(fleet.broker_url, fleet.queue_prefix):
        sweeper = SweeperLoop(interval=1.0)
        sweeper.start()
        try:
            yield Pipeline(
                world=world,
                fake=fleet.fake,
                workers=fleet.workers,
                sweeper=sweeper,
                redis=fleet.redis,
                database=db["NAME"],
                conninfo=conninfo,
            )
        finally:
            sweeper.stop()
            sweeper_log.setLevel(sweeper_level)
    connection.close()


@pytest.fixture
def pipeline(redis_fleet: Fleet, world: World, settings: Any) -> Iterator[Pipeline]:
    """The pipeline on Redis, the fake model answering after 0.2 s (`pipeline.fake.configure`
    changes that)."""
    with _pipeline(redis_fleet, world, settings) as running:
        yield running


@pytest.fixture
def rabbitmq_pipeline(rabbitmq_fleet: Fleet, world: World, settings: Any) -> Iterator[Pipeline]:
    with _pipeline(rabbitmq_fleet, world, settings) as running:
        yield running


def _purge_redis_queues(url: str) -> None:
    """Drop messages a previous scenario left (for rows that no longer exist). Only the
    queue lists: kombu's exchange bindings stay, or publishing would silently go nowhere."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match="default*"):
        client.delete(key)
    for key in client.scan_iter(match="llm*"):
        client.delete(key)
    client.close()


def rabbitmq_reachable() -> bool:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001
        return False


def _delete_rabbitmq_queues(prefix: str) -> None:
    from kombu import Connection

    with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
        channel = conn.channel()
        for name in (f"{prefix}default", f"{prefix}llm"):
            channel.queue_delete(name)
            channel.exchange_delete(name)


def connection_killer(pipeline: Pipeline, **plan: Any) -> ConnectionKiller:
    return ConnectionKiller(pipeline.conninfo, pipeline.database, **plan)
