"""Lantern behind PgBouncer in transaction mode (`make test-pgbouncer`; skipped otherwise).

PgBouncer runs with a server pool of 2 (tests/pgbouncer.py) and these tests open more client
connections than that, holding each transaction open a little, so consecutive transactions of
one client run on different server sessions and every server session serves several
clients. Each test checks that this handing-over really happened before trusting its result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.models import School, User
from accounts.tenancy import school_context
from tests.factories import UserFactory
from tests.pgbouncer import running
from tutoring.models import Classroom

pytestmark = pytest.mark.skipif(running() is None, reason="needs LANTERN_PGBOUNCER=1")

CLIENTS = 6  # more client connections than PgBouncer's server pool (2)
# psycopg prepares a statement on its 5th run by default (prepare_threshold=5).
RUNS = 20


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads at once, each with its own Django connection; return
    the results, or raise the first error a thread met."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    return results


def _row(sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _assert_sessions_were_shared(backends_per_client: list[set[int]]) -> None:
    everything = set().union(*backends_per_client)
    bouncer = running()
    assert bouncer is not None
    assert len(everything) <= bouncer.default_pool_size, "PgBouncer is not in the path"
    assert any(len(seen) > 1 for seen in backends_per_client), (
        "no client's transactions moved between server sessions: the test proved nothing"
    )


def test_the_settings_say_the_database_is_behind_a_transaction_pooler() -> None:
    db = settings.DATABASES["default"]
    assert settings.DATABASE_POOLER == "transaction"
    assert db["OPTIONS"]["prepare_threshold"] is None
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True


@pytest.mark.django_db(transaction=True)
def test_a_query_run_past_the_prepare_threshold_works_on_every_server_session(
    school: School,
) -> None:
    with school_context(school):
        Classroom.objects.create(school=school, name="Fractions")

    def client(_: int) -> set[int]:
        backends: set[int] = set()
        for _run in range(RUNS):
            with school_context(school):
                names = list(Classroom.objects.filter(name="Fractions").values_list("name"))
                assert names == [("Fractions",)]
                backends.add(_row("SELECT pg_backend_pid() FROM pg_sleep(0.002)")[0])
        return backends

    _assert_sessions_were_shared(_in_threads(CLIENTS, client))


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_do_break_through_this_pgbouncer(school: School) -> None:
    """The hazard the settings avoid is real here (so the test above can fail): a psycopg
    connection that prepares (threshold 0: at once) meets a server session that never saw
    its statement. PgBouncer 1.21+ can track them (max_prepared_statements); 1.18 cannot."""
    db = settings.DATABASES["default"]
    dsn = {
        "host": db["HOST"],
        "port": db["PORT"],
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "autocommit": True,
    }
    with psycopg.connect(**dsn, prepare_threshold=0) as preparing, psycopg.connect(**dsn) as other:
        preparing.execute("SELECT %s::int", [1])  # prepared on server session A
        # Another client takes session A (PgBouncer hands out the most recently used one)
        # for a transaction, so the next statement of `preparing` runs on session B.
        with other.transaction():
            other.execute("SELECT pg_backend_pid()")
            with pytest.raises(psycopg.errors.InvalidSqlStatementName):
                for value in range(2, 10):
                    preparing.execute("SELECT %s::int", [value])


@pytest.mark.django_db(transaction=True)
def test_a_school_context_never_leaks_into_another_transaction_through_pgbouncer(
    school: School, other_school: School
) -> None:
    with school_context(school):
        Classroom.objects.create(school=school, name="Riverside maths")
    with school_context(other_school):
        Classroom.objects.create(school=other_school, name="Hilltop maths")
    expected = {school.pk: ["Riverside maths"], other_school.pk: ["Hilltop maths"], None: None}
    # Only RLS filters this query: the ORM's own school filter is not in it.
    visible_sql = (
        "SELECT current_setting('app.school_id', true), pg_backend_pid(), "
        "(SELECT array_agg(name ORDER BY name) FROM tutoring_classroom) FROM pg_sleep(0.003)"
    )

    def client(index: int) -> list[tuple[int | None, int]]:
        served: list[tuple[int | None, int]] = []
        for run in range(RUNS):
            target = [school.pk, other_school.pk, None][(index + run) % 3]
            if target is None:
                with transaction.atomic():
                    setting, backend, names = _row(visible_sql)
                assert setting in (None, ""), "a transaction without a context inherited one"
            else:
                with school_context(target):
                    setting, backend, names = _row(visible_sql)
                assert setting == str(target)
            assert names == expected[target], f"school {target} saw {names}"
            served.append((target, backend))
        return served

    results = _in_threads(CLIENTS, client)
    _assert_sessions_were_shared([{backend for _, backend in served} for served in results])
    by_backend: dict[int, set[int | None]] = {}
    for served in results:
        for target, backend in served:
            by_backend.setdefault(backend, set()).add(target)
    assert any(len(targets) == 3 for targets in by_backend.values()), (
        "no server session served both schools and a context-free transaction"
    )


@pytest.mark.django_db(transaction=True)
def test_a_session_level_setting_would_leak_through_pgbouncer() -> None:
    """Why the context must be transaction-local: in transaction mode a session-level
    setting stays on the server session and the next client on it sees it (a harmless name
    here; the server connections are closed afterwards)."""
    db = settings.DATABASES["default"]
    dsn = {
        "host": db["HOST"],
        "port": db["PORT"],
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "autocommit": True,
    }
    bouncer = running()
    assert bouncer is not None and settings.DATABASE_OWNER_CREDENTIALS is not None
    try:
        with psycopg.connect(**dsn) as setter, psycopg.connect(**dsn) as reader:
            setter.execute("SELECT set_config('lantern_test.leak', 'school 1', false)")
            seen = {
                reader.execute("SELECT current_setting('lantern_test.leak', true)").fetchone()
                for _ in range(5)
            }
        assert ("school 1",) in seen
    finally:
        bouncer.admin(f'RECONNECT "{db["NAME"]}"', settings.DATABASE_OWNER_CREDENTIALS[1])


@pytest.mark.django_db(transaction=True)
def test_djangos_pool_lends_its_connections_to_many_threads_through_pgbouncer(
    school: School,
) -> None:
    """Two pools in a row: Django's (per process, client connections to PgBouncer) and
    PgBouncer's (server connections). More threads than either; all are served."""
    if not settings.DATABASE_POOL:
        pytest.skip("DATABASE_POOL is off")
    pool = getattr(connection, "pool", None)  # the PostgreSQL backend's psycopg pool
    assert pool is not None, "Django's pool is on behind PgBouncer"
    max_size = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    with school_context(school):
        Classroom.objects.create(school=school, name="Pooled")

    def client(_: int) -> int:
        for _run in range(5):
            with school_context(school):
                assert list(Classroom.objects.values_list("name", flat=True)) == ["Pooled"]
                _row("SELECT pg_sleep(0.002)")
            connection.close()  # back to Django's pool between transactions
        return 5

    assert sum(_in_threads(max_size + 4, client)) == 5 * (max_size + 4)
    stats = pool.get_stats()
    assert stats["pool_max"] == max_size
    assert stats.get("connections_num", 0) <= stats["requests_num"]


@pytest.mark.django_db(transaction=True)
def test_iterating_a_queryset_outside_a_transaction_survives_session_changes() -> None:
    """`.iterator()` outside a transaction would use a WITH HOLD server-side cursor, which
    lives in one server session; DISABLE_SERVER_SIDE_CURSORS keeps it client-side."""
    for number in range(30):
        UserFactory.create(email=f"reader{number}@pool.test")

    def client(index: int) -> int:
        if index == 0:
            return sum(1 for _ in User.objects.order_by("pk").iterator(chunk_size=2))
        for _run in range(RUNS):
            with transaction.atomic():
                _row("SELECT pg_sleep(0.002)")
        return 0

    assert _in_threads(CLIENTS, client)[0] == User.objects.count()
