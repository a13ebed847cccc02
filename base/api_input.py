"""Strict input for API v1: JSON values of the type the schema says, and filters that name
something real.

DRF coerces quietly: `0` becomes the string "0" or `false`, `1` a UUID, `true` the integer
1. A generated client never sends those, so a value of the wrong JSON type is a client bug
the API should name, not guess at: `InputSerializer` (the base of every input serializer)
refuses it with 400 `invalid_input` and the field in `fields`. Query strings are text by
nature and are left to the fields' own parsing.

`filter_object` is the one rule for a filter naming an object (`?lesson=<id>`): one the
caller cannot see, or that does not exist, is a 400 naming the parameter, on every list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers

M = TypeVar("M", bound=Model)
S = TypeVar("S", bound=type[serializers.BaseSerializer])

_TEXT_FIELDS = (serializers.CharField, serializers.UUIDField)


def type_problem(field: serializers.Field, value: Any) -> str | None:
    """Why `value` (parsed JSON) is not of `field`'s JSON type, or None. `None` is left to
    the field (`allow_null`)."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else _("Send true or false.")
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole else _("Send a whole number.")
    if isinstance(field, _TEXT_FIELDS):
        return None if isinstance(value, str) else _("Send a string.")
    if isinstance(field, serializers.ChoiceField) and all(
        isinstance(choice, str) for choice in field.choices
    ):
        return None if isinstance(value, str) else _("Send one of the listed strings.")
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            if problem := type_problem(field.child, item):
                return problem
    return None


class StrictInput:
    """Mixin for serializers: refuse JSON values of the wrong type before DRF coerces."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and (problem := type_problem(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class InputSerializer(StrictInput, serializers.Serializer):
    """The base of every API input serializer (bodies and query filters)."""


def strict(serializer: S) -> S:
    """A strict subclass of a library's serializer (simplejwt's sign-in)."""
    return type(f"Strict{serializer.__name__}", (StrictInput, serializer), {})  # type: ignore[return-value]


def filter_object(queryset: QuerySet[M], public_id: Any, parameter: str) -> M:
    """The object `?<parameter>=<public_id>` names in `queryset` (what the caller may see),
    or a 400 `invalid_input` naming the parameter."""
    found = queryset.filter(public_id=public_id).first()
    if found is None:
        raise serializers.ValidationError({parameter: [_("No such item among yours.")]})
    return found


__all__ = ["InputSerializer", "StrictInput", "filter_object", "strict", "type_problem"]
