"""Tenancy: every tenant-owned row belongs to one school, enforced three times.

1. Edge: views resolve the school from the URL and the user's membership
   (`accounts.access.school_access`, the one door, used by the web and API base views).
2. ORM, fail-closed: `SchoolOwnedModel.objects` raises `SchoolContextMissing` outside a
   school context; `Model.objects.for_school(school)` is the normal door and
   `Model.objects.unscoped_cross_school()` the loudly named escape hatch (admin, migrations,
   operator commands, tests; elsewhere with a `# cross-school:` comment saying why).
3. Database: PostgreSQL row-level security on `app.school_id`, set per transaction with
   `set_config(..., true)` so it never outlives the transaction (safe with pools and
   PgBouncer in transaction mode). `EnableRowLevelSecurity` is the migration operation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.apps import apps
from django.db import connection, models, transaction
from django.db.migrations.operations.base import Operation
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

if TYPE_CHECKING:
    from accounts.models import School

_active_school: ContextVar[School | None] = ContextVar("lantern_active_school", default=None)
_cross_school: ContextVar[bool] = ContextVar("lantern_cross_school", default=False)


class SchoolContextMissing(RuntimeError):
    """A tenant model was queried with no school context: a bug, never a user error."""


class SchoolContextMismatch(RuntimeError):
    """`for_school(a)` was called while school `b` is active: a cross-school leak attempt."""


def current_school() -> School | None:
    return _active_school.get()


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _set_db_setting(name: str, value: str) -> None:
    """Transaction-local: never `false` here, a session-level value survives pool reuse."""
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _get_db_setting(name: str) -> str:
    if not _is_postgres():
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0] or ""


def set_db_user(user_id: int | None) -> None:
    """Let the user list their own memberships before a school is chosen (RLS policy)."""
    _set_db_setting("app.user_id", str(user_id) if user_id else "")


def activate_school(school: School) -> None:
    """Make `school` the context of the current transaction (ORM and database).

    Must be called inside `transaction.atomic()`; the request middleware provides one.
    The caller has already checked that the user may act in this school: RLS does not
    validate the value it is given.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("activate_school() needs a transaction (atomic block).")
    _active_school.set(school)
    _set_db_setting("app.school_id", str(school.pk))


def deactivate_school() -> None:
    _active_school.set(None)
    if connection.in_atomic_block:
        _set_db_setting("app.school_id", "")


@contextmanager
def school_context(school: School | int) -> Iterator[School]:
    """Run a block as `school`: one transaction with the ORM and database context set.

    Accepts a School or its id (tasks receive ids). Restores the previous context on exit,
    so it nests. Used by tasks, commands and tests; requests use the middleware instead.
    """
    if isinstance(school, int):
        # The models are built on this module (accounts.models imports it), so it names
        # the School model through the app registry, as Django's get_user_model() does.
        school = cast("School", apps.get_model("accounts", "School").objects.get(pk=school))
    # Outermost, the transaction is ours: the setting is transaction-local, so it starts
    # unset and ends with the commit; reading it first and restoring it after would be two
    # round trips for nothing (a worker runs several of these per explanation).
    nested = connection.in_atomic_block
    with transaction.atomic():
        previous_db = _get_db_setting("app.school_id") if nested else ""
        token = _active_school.set(school)
        _set_db_setting("app.school_id", str(school.pk))
        try:
            yield school
        finally:
            _active_school.reset(token)
        # Only on success: with an error on its way out (perhaps a dead connection) the
        # transaction is rolled back anyway, and a reset would mask the real error.
        if nested and not connection.needs_rollback:
            _set_db_setting("app.school_id", previous_db)


@contextmanager
def cross_school(reason: str) -> Iterator[None]:
    """ESCAPE HATCH: see every school's rows. Admin, migrations, operator commands, tests.

    `reason` is required so every use says why in the code.
    """
    if not reason:
        raise ValueError("cross_school() needs a reason.")
    nested = connection.in_atomic_block  # outermost: the commit ends the setting
    with transaction.atomic():
        token = _cross_school.set(True)
        _set_db_setting("app.cross_school", "on")
        try:
            yield
        finally:
            _cross_school.reset(token)
        if nested and not connection.needs_rollback:
            _set_db_setting("app.cross_school", "")


def school_scope_check(school: School, what: str) -> None:
    """Refuse a query for `school` inside another school's context (cross-school excepted)."""
    active = _active_school.get()
    if active is not None and active.pk != school.pk and not _cross_school.get():
        raise SchoolContextMismatch(
            f"{what}.objects.for_school({school.pk}) inside school {active.pk}'s context."
        )


class SchoolManager(models.Manager):
    """Fails closed: no school context, no queryset."""

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        if _cross_school.get():
            return queryset
        school = _active_school.get()
        if school is None:
            raise SchoolContextMissing(
                f"{self.model.__name__} queried without a school context; use "
                f"{self.model.__name__}.objects.for_school(school) or school_context()."
            )
        return queryset.filter(school_id=school.pk)

    def for_school(self, school: School) -> models.QuerySet:
        school_scope_check(school, self.model.__name__)
        return super().get_queryset().filter(school_id=school.pk)

    def unscoped_cross_school(self) -> models.QuerySet:
        """ESCAPE HATCH: every school's rows (RLS still applies unless `cross_school()`)."""
        return super().get_queryset()


class SchoolOwnedModel(models.Model):
    """Base of every tenant-owned model: a non-null school and a public UUID."""

    school = models.ForeignKey(
        "accounts.School", on_delete=models.CASCADE, related_name="+", editable=False
    )
    public_id = models.UUIDField(default=uuid.uuid4, editable=False)

    objects = SchoolManager()

    class Meta:
        abstract = True


# --- Request transaction ------------------------------------------------------------------


class TenantTransactionMiddleware:
    """Runs each request in one transaction in which the school context can be set.

    `ATOMIC_REQUESTS` would start the transaction after middleware, losing a
    transaction-local `set_config`; so the transaction starts here. A 5xx response rolls
    back, so a view that crashed half-way commits nothing. Streaming bodies run after this
    transaction closes and must open their own.

    Under ASGI, async views (the SSE streams) pass straight through: they open their own
    short transactions, and no thread is held for them while they stream.
    """

    sync_capable = True
    async_capable = True
    # Probes must answer without a database (liveness) or check it themselves (readiness).
    EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        if request.path in self.EXEMPT_PATHS:
            return self.get_response(request)
        return self._in_transaction(request, self.get_response)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if request.path in self.EXEMPT_PATHS or _is_async_view(request):
            return await self.get_response(request)
        # A sync view: the transaction and the view share one thread (asgiref routes the
        # view's own sync_to_async back to this thread).
        inner = async_to_sync(self.get_response)
        return await sync_to_async(self._in_transaction)(request, inner)

    @staticmethod
    def _in_transaction(
        request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponse]
    ) -> HttpResponse:
        school_token = _active_school.set(None)
        cross_token = _cross_school.set(False)
        try:
            with transaction.atomic():
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    set_db_user(user.pk)
                response = get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
            return response
        finally:
            _active_school.reset(school_token)
            _cross_school.reset(cross_token)


def _is_async_view(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)


# --- Row-level security -------------------------------------------------------------------

SCHOOL_PREDICATE = (
    "(school_id = NULLIF(current_setting('app.school_id', true), '')::bigint "
    "OR current_setting('app.cross_school', true) = 'on')"
)


def rls_statements(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS school_isolation ON "{table}"',
        f'CREATE POLICY school_isolation ON "{table}" '
        f"USING {SCHOOL_PREDICATE} WITH CHECK {SCHOOL_PREDICATE}",
    ]


class EnableRowLevelSecurity(Operation):
    """Migration operation: ENABLE + FORCE RLS with the school policy (PostgreSQL only)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, extra_sql: list[str] | None = None) -> None:
        self.model_name = model_name
        self.extra_sql = extra_sql or []

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name}
        if self.extra_sql:
            kwargs["extra_sql"] = self.extra_sql
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        for sql in rls_statements(table) + self.extra_sql:
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        schema_editor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"


def enable_cross_school_for_transaction() -> None:
    """ESCAPE HATCH for the operators' admin: the rest of this request's transaction sees
    every school. Only the Django admin (staff only) calls it."""
    _cross_school.set(True)
    _set_db_setting("app.cross_school", "on")
