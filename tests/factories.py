"""factory_boy factories. Tenant rows are created through services or inside the school
context, so RLS applies to the fixtures exactly as it does to the application."""

from __future__ import annotations

from typing import Any

import factory

from accounts.models import Membership, School, User
from accounts.services import membership_create

TEST_PASSWORD = "correct-horse-battery-staple"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", TEST_PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


def member(school: School, role: str, *, user: User | None = None, **user_fields: Any) -> User:
    """A user (new unless given) with `role` in `school`."""
    user = user or UserFactory(**user_fields)
    membership_create(school=school, user=user, role=role)
    return user


__all__ = ["TEST_PASSWORD", "Membership", "SchoolFactory", "UserFactory", "member"]
