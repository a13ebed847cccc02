"""ORM queries compiled to SQL once per process, then run again with new values.

The worker's hot path reads a handful of rows per explanation (the school, its settings,
its key, the row being claimed, the student's profile...). For such a one-row read,
building the queryset and compiling it cost several times the database round trip
(docs/performance.md, "the pipeline"). A `CompiledQuery` is written as an ordinary
queryset; the first run compiles it with stand-in values, finds where they landed among
the parameters, and keeps the SQL, the converters and the model populators. Later runs
put the real values in those places, execute the same statement on the thread's
connection (so RLS, the school context, query counting and `assertNumQueries` see it like
any other) and build the same instances the queryset would.

Only equality-like uses of a value are supported: each stand-in must appear exactly once
among the compiled parameters, or compiling fails loudly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Field, Model, QuerySet

# get_related_populators is Django's own row-to-related-objects helper, absent from the stubs.
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]

from accounts.tenancy import SchoolContextMissing, SchoolManager, school_scope_check

M = TypeVar("M", bound=Model)

# Stand-ins, each to be found exactly once among the compiled parameters. Integers stay
# within every integer field's range (Django compiles an out-of-range value to "no rows").
_INT_BASE = 2_147_480_000


def _stand_in(kind: type, index: int) -> Any:
    if kind is int:
        return _INT_BASE + index
    if kind is str:
        return f"\x1fcompiled-query-value-{index}\x1f"
    if kind is datetime:
        return datetime(1901, 2, 3, 4, 5, 6, index + 1, tzinfo=UTC)
    raise ImproperlyConfigured(f"CompiledQuery: unsupported value type {kind!r}")


@dataclass
class _Plan:
    sql: str
    params: list[Any]
    slots: dict[str, int]  # value name -> index in params
    kinds: dict[str, type]
    converters: list[tuple[int, list[Callable[..., Any]], Any]]
    model_rows: bool
    model: type[Model] | None = None
    init_list: list[str] | None = None
    fields_slice: slice | None = None
    populators: list[Any] | None = None


class CompiledQuery(Generic[M]):
    """`build(rows, **values)` narrows `rows`, all of `model`'s rows, to the query; `kinds`
    names each value and its type (int, str or datetime).

    For a school-owned model, `rows` are one school's: `rows()` and `first()` take the
    school first, check it like `for_school` does and fill in its id.
    """

    def __init__(self, model: type[M], build: Callable[..., QuerySet], **kinds: type) -> None:
        self._model = model
        self._school_owned = isinstance(model._default_manager, SchoolManager)
        self._build = build
        self._kinds = dict(kinds)
        if self._school_owned:
            self._kinds["school_id"] = int
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    # -- running ------------------------------------------------------------------------

    def rows(self, school: Any = None, **values: Any) -> list[Any]:
        """Model instances, or tuples for a `values_list` query."""
        if self._school_owned:
            if school is None:
                raise SchoolContextMissing(
                    f"{self._model.__name__}: a compiled query needs its school"
                )
            school_scope_check(school, self._model.__name__)
            values["school_id"] = school.pk
        elif school is not None:
            raise TypeError(f"{self._model.__name__} is not school-owned")
        connection = connections["default"]
        plan = self._plan(connection)
        params = list(plan.params)
        for name, index in plan.slots.items():
            value = values[name]
            if plan.kinds[name] is datetime:
                value = connection.ops.adapt_datetimefield_value(value)
            params[index] = value
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            fetched = cursor.fetchall()
        if plan.converters:
            fetched = [self._convert(row, plan, connection) for row in fetched]
        if not plan.model_rows:
            return [tuple(row) for row in fetched]
        assert plan.model is not None and plan.init_list is not None
        assert plan.fields_slice is not None and plan.populators is not None
        objects = []
        for row in fetched:
            obj = plan.model.from_db("default", plan.init_list, row[plan.fields_slice])
            for populator in plan.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def first(self, school: Any = None, **values: Any) -> Any | None:
        found = self.rows(school, **values)
        return found[0] if found else None

    @staticmethod
    def _convert(row: Any, plan: _Plan, connection: Any) -> list[Any]:
        row = list(row)
        for position, functions, expression in plan.converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        return row

    # -- compiling ------------------------------------------------------------------------

    def _plan(self, connection: Any) -> _Plan:
        plan = self._plans.get(connection.alias)
        if plan is None:
            with self._lock:
                plan = self._plans.get(connection.alias) or self._compile(connection)
                self._plans[connection.alias] = plan
        return plan

    def _compile(self, connection: Any) -> _Plan:
        stand_ins = {name: _stand_in(kind, i) for i, (name, kind) in enumerate(self._kinds.items())}
        if self._school_owned:
            school_id = stand_ins.pop("school_id")
            # cross-school: the school's id is a compiled value, filled in and checked
            # against the school context by `rows()` (and RLS still applies).
            rows = self._model.objects.unscoped_cross_school().filter(school_id=school_id)  # type: ignore[attr-defined]
            stand_ins_all = {**stand_ins, "school_id": school_id}
        else:
            rows = self._model._default_manager.all()
            stand_ins_all = stand_ins
        queryset = self._build(rows, **stand_ins)
        stand_ins = stand_ins_all
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        params = list(params)
        slots: dict[str, int] = {}
        for name, stand_in in stand_ins.items():
            if self._kinds[name] is datetime:
                stand_in = connection.ops.adapt_datetimefield_value(stand_in)
            found = [i for i, p in enumerate(params) if type(p) is type(stand_in) and p == stand_in]
            if len(found) != 1:
                raise ImproperlyConfigured(
                    f"CompiledQuery: value {name!r} appears {len(found)} times in {sql!r}"
                )
            slots[name] = found[0]
        select = compiler.select
        fields = [s[0] for s in select[: compiler.col_count]]
        converters = [
            (position, functions, expression)
            for position, (functions, expression) in compiler.get_converters(fields).items()
        ]
        plan = _Plan(
            sql=sql,
            params=params,
            slots=slots,
            kinds=dict(self._kinds),
            converters=converters,
            model_rows=queryset._iterable_class is ModelIterable,
        )
        if plan.model_rows:
            klass_info = compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            plan.model = klass_info["model"]
            plan.init_list = [f[0].target.attname for f in select[start:end]]
            plan.fields_slice = slice(start, end)
            plan.populators = get_related_populators(klass_info, select, connection.alias)
            if queryset._known_related_objects:  # type: ignore[attr-defined]  # private, unstubbed
                raise ImproperlyConfigured("CompiledQuery: known related objects unsupported")
        return plan


class CompiledUpdate:
    """An UPDATE of one school's rows of `model`, its SQL built once from the model's columns.

    `fields` are set to the values given to `run` (adapted by each field, as `update()`
    does); `increments` become `column = column + 1`; `where` is a condition on the model's
    columns with positional `%s` values, ANDed with the school's id. Like `update()`, no
    signals and no `auto_now`. Returns how many rows changed.
    """

    def __init__(
        self,
        model: type[Model],
        *,
        fields: Sequence[str],
        where: str,
        increments: Sequence[str] = (),
    ) -> None:
        meta = model._meta
        self._model = model
        # Columns of the model itself (never reverse relations), hence the casts.
        self._fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
        self._increments = [
            cast("Field[Any, Any]", meta.get_field(name)).column for name in increments
        ]
        self._where = where
        self._sql = ""

    def _build_sql(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        assignments = [f"{quote(field.column)} = %s" for field in self._fields]
        assignments += [f"{quote(column)} = {quote(column)} + 1" for column in self._increments]
        meta = self._model._meta
        # Names come from the model, quoted; `where` is written in code; values are bound.
        return (
            f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)}"  # noqa: S608
            f" WHERE {quote(cast('Field[Any, Any]', meta.get_field('school')).column)} = %s"
            f" AND ({self._where})"
        )

    def run(self, school: Any, values: dict[str, Any], where: Sequence[Any]) -> int:
        school_scope_check(school, self._model.__name__)
        connection = connections["default"]
        params = [field.get_db_prep_save(values[field.name], connection) for field in self._fields]
        params.append(school.pk)
        adapt = connection.ops.adapt_datetimefield_value
        params.extend(adapt(value) if isinstance(value, datetime) else value for value in where)
        if not self._sql:
            self._sql = self._build_sql(connection)
        with connection.cursor() as cursor:
            cursor.execute(self._sql, params)
            return cursor.rowcount


class CompiledInsert(Generic[M]):
    """`create()` of one school-owned row, its INSERT built once from the model's columns.

    The instance is built as usual (defaults such as the public id apply), `auto_now_add`
    fields are filled and every value is adapted by its field, as `save()` does; the new
    primary key is set on the instance. Sends no signals (like `bulk_create`).
    """

    def __init__(self, model: type[M]) -> None:
        self._model = model
        meta = model._meta
        self._fields = [
            field for field in meta.local_concrete_fields if field is not meta.auto_field
        ]
        self._sql = ""

    def _build_sql(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        meta = self._model._meta
        columns = ", ".join(quote(field.column) for field in self._fields)
        values = ", ".join(["%s"] * len(self._fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(meta.pk.column)}"
        return sql

    def create(self, school: Any, **values: Any) -> M:
        school_scope_check(school, self._model.__name__)
        connection = connections["default"]
        if not self._sql:
            self._sql = self._build_sql(connection)
        obj = self._model(school=school, **values)
        params = [
            field.get_db_prep_save(field.pre_save(obj, add=True), connection)
            for field in self._fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._sql, params)
            if connection.features.can_return_columns_from_insert:
                obj.pk = cursor.fetchone()[0]
            else:
                meta = self._model._meta
                obj.pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        obj._state.adding = False
        obj._state.db = connection.alias
        return obj


__all__ = ["CompiledInsert", "CompiledQuery", "CompiledUpdate"]
