"""The test cast and the database set-up: migrations as the owner, tests as the runtime role.

Cast: `school` and `other_school`; in `school` a `teacher`, two students (`student`,
`other_student`) and a `school_admin`; an `outsider` who is a member of `other_school`
only; `both_schools_user`, a school admin in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from accounts.database_roles import as_owner
from accounts.models import Membership, School, User
from tests.factories import SchoolFactory, UserFactory, member

Role = Membership.Role


def _grant_test_only_privileges() -> None:
    """Test databases only: flushing after transactional tests needs TRUNCATE, and
    `reset_sequences` needs UPDATE on sequences. Never granted in production (TRUNCATE
    ignores RLS)."""
    from django.conf import settings

    if connection.vendor != "postgresql" or settings.DATABASE_OWNER_CREDENTIALS is None:
        return
    role = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker,  # type: ignore[no-untyped-def]
    django_db_keepdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock(), as_owner():
        db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb)
        _grant_test_only_privileges()
    yield
    if not django_db_keepdb:
        _release_pgbouncer_connections(db_cfg)
        with django_db_blocker.unblock(), as_owner():
            teardown_databases(db_cfg, verbosity=0)


def _release_pgbouncer_connections(db_cfg: Any) -> None:
    """Under the PgBouncer profile: PgBouncer keeps idle server connections to the test
    database, and PostgreSQL refuses to drop a database with connections. KILL closes them."""
    from django.conf import settings

    from tests.pgbouncer import running

    bouncer = running()
    if bouncer is None or settings.DATABASE_OWNER_CREDENTIALS is None:
        return
    for conn, _old_name, destroy in db_cfg:
        if destroy:
            name = conn.settings_dict["NAME"]
            aliases = [alias for alias, target in bouncer.aliases.items() if target == name]
            for pooled in (name, *aliases):
                bouncer.admin(f'KILL "{pooled}"', settings.DATABASE_OWNER_CREDENTIALS[1])


@pytest.fixture
def school(db: None) -> School:
    return SchoolFactory.create(name="Riverside School", slug="riverside")


@pytest.fixture
def other_school(db: None) -> School:
    return SchoolFactory.create(name="Hilltop Academy", slug="hilltop")


@pytest.fixture
def teacher(school: School) -> User:
    return member(school, Role.TEACHER, email="teacher@riverside.test", full_name="Tess Teacher")


@pytest.fixture
def student(school: School) -> User:
    return member(school, Role.STUDENT, email="alice@riverside.test", full_name="Alice Anders")


@pytest.fixture
def other_student(school: School) -> User:
    return member(school, Role.STUDENT, email="bob@riverside.test", full_name="Bob Brown")


@pytest.fixture
def school_admin(school: School) -> User:
    return member(school, Role.SCHOOL_ADMIN, email="admin@riverside.test", full_name="Ada Admin")


@pytest.fixture
def outsider(other_school: School) -> User:
    return member(other_school, Role.SCHOOL_ADMIN, email="olga@hilltop.test", full_name="Olga O")


@pytest.fixture
def both_schools_user(school: School, other_school: School) -> User:
    user = UserFactory.create(email="bea@both.test", full_name="Bea Both")
    member(school, Role.SCHOOL_ADMIN, user=user)
    member(other_school, Role.SCHOOL_ADMIN, user=user)
    return user


# --- The fake OpenAI server and a real Celery worker --------------------------------------


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[object]:
    from tests.fakes.openai_server import FakeOpenAI

    server = FakeOpenAI(reply="A **fraction** is a part of a whole: $\\frac{1}{2}$ is one half.")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(_fake_openai_server, settings):  # type: ignore[no-untyped-def]
    """The fake OpenAI server, reset, with the platform pointed at it (provider `openai`)."""
    import secrets

    _fake_openai_server.reset()
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test-" + secrets.token_hex(12)
    settings.OPENAI_BASE_URL = _fake_openai_server.base_url
    settings.LLM_TIMEOUT_SECONDS = 2.0
    return _fake_openai_server


@pytest.fixture
def celery_worker_thread(transactional_db):  # type: ignore[no-untyped-def]
    """A real Celery worker (threads pool) in this process, consuming this test's Redis
    database. Tests using it are transactional: the worker must see committed rows."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.control.purge()
    with start_worker(
        app,
        pool="threads",
        concurrency=8,
        perform_ping_check=False,
        shutdown_timeout=10,
        loglevel="WARNING",
    ) as worker:
        yield worker
    app.control.purge()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until `predicate()` is truthy (returns it) or fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
