"""Settings for the test suite: PostgreSQL as the runtime role, Redis, the owner for DDL.

Defaults match `make services`; any variable already in the environment wins.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_index = int(_worker[2:]) if _worker.startswith("gw") and _worker[2:].isdigit() else 0
# Several test runs at once on one machine (developers in parallel): LANTERN_TEST_SLOT=N
# gives each its own test database and Redis databases.
_slot = int(os.environ.get("LANTERN_TEST_SLOT", "0"))

os.environ.setdefault(
    "DATABASE_URL", "postgres://lantern_app:lantern_app_dev@127.0.0.1:5432/lantern"
)
os.environ.setdefault(
    "DATABASE_OWNER_URL", "postgres://lantern_owner:lantern_owner_dev@127.0.0.1:5432/lantern"
)
# One Redis database per xdist worker, so real Celery workers never take each other's tasks.
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{1 + 2 * _slot + _worker_index}")
os.environ.setdefault("LANTERN_TESTING", "1")
os.environ.setdefault("LLM_PROVIDER", "offline")
os.environ.pop("OPENAI_API_KEY", None)
# The PgBouncer profile (`make test-pgbouncer`): every connection goes through a private
# PgBouncer in transaction mode. Inherited by the workers and web servers tests spawn.
_pgbouncer = os.environ.get("LANTERN_PGBOUNCER", "") == "1"
if _pgbouncer:
    os.environ["DATABASE_POOLER"] = "transaction"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if _slot:
    DATABASES["default"]["TEST"] = {"NAME": f"test_lantern_slot{_slot}"}  # noqa: F405

if _pgbouncer:
    from tests.pgbouncer import start_for

    _db = DATABASES["default"]  # noqa: F405
    _roles = [(_db["USER"], _db["PASSWORD"])]
    if DATABASE_OWNER_CREDENTIALS is not None:  # noqa: F405
        _roles.append(DATABASE_OWNER_CREDENTIALS)  # noqa: F405
    # Started here, before any connection exists: the settings are read once, at import.
    _bouncer = start_for(
        _db["HOST"] or "127.0.0.1", int(_db["PORT"] or 5432), _roles, admin_user=_roles[-1][0]
    )
    _db["HOST"], _db["PORT"] = _bouncer.host, str(_bouncer.port)
    # A server session keeps the application_name of the last client that set one, and
    # tests tell processes apart by it (tests/faults' connection killer): set ours, so
    # PgBouncer sets it on every server session it lends this process.
    _db["OPTIONS"]["application_name"] = "lantern-tests"
