"""Rows to and from model instances, for the worker's explicit SQL (worker_sql.py).

The plumbing every statement there shares, so each statement is only its SQL: names come
from the models' `_meta` (so a new field is read and written too), values go in as each
field adapts them (`get_db_prep_save`), rows come back as the ORM builds them (the
backend's and the field's converters, then `Model.from_db`), and statement text is built
once per vendor. School-owned reads and inserts refuse another school's context
(`school_scope_check`) and always name `school_id`. Everything runs on the thread's
connection, so transactions, the school context, RLS and query counting apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from accounts.models import School
from accounts.tenancy import school_scope_check

M = TypeVar("M", bound=Model)

_STATEMENTS: dict[tuple[str, Any], str] = {}


def thread_connection() -> BaseDatabaseWrapper:
    """The thread's connection, looked up once per statement: every attribute of the
    `django.db.connection` proxy is a lookup of its own, and a statement here reads a
    dozen (with this and each statement's text built once, the claimed row's read went
    from 477 Python calls to 404, cProfile)."""
    return connections[DEFAULT_DB_ALIAS]


def statement_text(db: BaseDatabaseWrapper, key: Any, build: Callable[[], str]) -> str:
    """The statement `key`, built once per database vendor: its names come from the
    models and never change, and building it on every call cost CPU for nothing."""
    full = (db.vendor, key)
    sql = _STATEMENTS.get(full)
    if sql is None:
        sql = _STATEMENTS[full] = build()
    return sql


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table_name(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def model_field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, Field)  # a concrete column, never a reverse relation
    return found


def column_list(model: type[Model]) -> str:
    """The model's columns, qualified by its table, in `concrete_fields` order."""
    table = table_name(model)
    return ", ".join(f"{table}.{quote(field.column)}" for field in model._meta.concrete_fields)


@cache
def _converters(model: type[Model], vendor: str) -> tuple[tuple[int, tuple[Any, ...], Any], ...]:
    """The converters the ORM applies to each column of `model` (e.g. JSON text to
    objects; on SQLite also booleans, dates and UUIDs): backend first, then the field's."""
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = list(connection.ops.get_db_converters(column))
        from_db_value = getattr(field, "from_db_value", None)  # the custom-field hook
        if from_db_value is not None:
            functions.append(from_db_value)
        if functions:
            found.append((index, tuple(functions), column))
    return tuple(found)


def instance_from_row(
    db: BaseDatabaseWrapper, model: type[M], row: Sequence[Any], start: int = 0
) -> tuple[M, int]:
    """The instance `model.from_db` builds from `row[start:]`, and where its columns end."""
    fields = model._meta.concrete_fields
    end = start + len(fields)
    values = list(row[start:end])
    for index, functions, column in _converters(model, db.vendor):
        value = values[index]
        for function in functions:
            value = function(value, column, db)
        values[index] = value
    return model.from_db(db.alias, _attnames(model), values), end


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def fetch_all(db: BaseDatabaseWrapper, sql: str, params: Any) -> list[tuple[Any, ...]]:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def execute(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> int:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def one_row_of_school(
    model: type[M], school: School, condition: str, params: Sequence[Any]
) -> M | None:
    """The first row of `model` in `school` matching `condition` (SQL with %s values)."""
    school_scope_check(school, model.__name__)
    db = thread_connection()
    sql = statement_text(
        db,
        (model, condition),
        lambda: (
            f"SELECT {column_list(model)} FROM {table_name(model)}"  # noqa: S608  names from the model
            f" WHERE {table_name(model)}.{quote('school_id')} = %s {condition}"
        ),
    )
    rows = fetch_all(db, sql, [school.pk, *params])
    return instance_from_row(db, model, rows[0])[0] if rows else None


def save_values(db: BaseDatabaseWrapper, model: type[Model], values: dict[str, Any]) -> list[Any]:
    """Values for a write, each adapted by its field as `save()` and `update()` do."""
    fields = _fields_named(model, tuple(values))
    return [
        field.get_db_prep_save(value, db)
        for field, value in zip(fields, values.values(), strict=True)
    ]


@cache
def _fields_named(model: type[Model], names: tuple[str, ...]) -> tuple[Field[Any, Any], ...]:
    return tuple(model_field(model, name) for name in names)


def set_clause(model: type[Model], names: Sequence[str]) -> str:
    return ", ".join(f"{quote(model_field(model, name).column)} = %s" for name in names)


@cache
def _insert_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    meta = model._meta
    return tuple(field for field in meta.local_concrete_fields if field is not meta.auto_field)


def insert_row(model: type[M], school: School, values: dict[str, Any]) -> M:
    """`create()` of one school-owned row: defaults (the public id) and `auto_now_add`
    apply, every value is adapted by its field; the new primary key is set. No signals."""
    school_scope_check(school, model.__name__)
    obj = model(school=school, **values)
    meta = model._meta
    fields = _insert_fields(model)
    db = thread_connection()
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), db) for field in fields]
    returning = db.features.can_return_columns_from_insert
    sql = statement_text(
        db,
        ("insert", model, returning),
        lambda: (
            f"INSERT INTO {table_name(model)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
            f" VALUES ({', '.join(['%s'] * len(fields))})"
            + (f" RETURNING {quote(meta.pk.column)}" if returning else "")
        ),
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            obj.pk = cursor.fetchone()[0]
        else:  # an SQLite older than 3.35 (the demo)
            obj.pk = db.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    obj._state.adding = False
    obj._state.db = db.alias
    return obj
