"""factory_boy factories. Tenant rows are created through services or inside the school
context, so RLS applies to the fixtures exactly as it does to the application."""

from __future__ import annotations

from typing import Any

import factory

from accounts.models import Membership, School, User
from accounts.services import membership_create

TEST_PASSWORD = "correct-horse-battery-staple"


class SchoolFactory(factory.django.DjangoModelFactory[School]):
    class Meta:
        model = School
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", TEST_PASSWORD)
        # factory_boy passes every field by keyword; *args is always empty.
        return model_class.objects.create_user(*args, password=password, **kwargs)  # type: ignore[misc]


def member(school: School, role: str, *, user: User | None = None, **user_fields: Any) -> User:
    """A user (new unless given) with `role` in `school`."""
    user = user or UserFactory.create(**user_fields)
    membership_create(school=school, user=user, role=role)
    return user


__all__ = ["TEST_PASSWORD", "Membership", "SchoolFactory", "UserFactory", "member"]


def published_lesson(school, teacher, students=(), **contract):  # type: ignore[no-untyped-def]
    """A class taught by `teacher` with `students` enrolled and one published lesson with
    an exercise (answer 3/5). Returns the lesson."""
    from accounts.tenancy import school_context
    from tutoring.services import lessons as svc

    with school_context(school):
        actor = Membership.objects.for_school(school).get(user=teacher)
        classroom = svc.classroom_create(actor=actor, name=contract.pop("class_name", "Class 5B"))
        for student in students:
            svc.classroom_enroll(actor=actor, classroom=classroom, user=student)
        fields = {
            "title": "Fractions",
            "objectives": "Add fractions with the same denominator",
            "key_concepts": "numerator, denominator",
            "material": "To add fractions with the same denominator, add the numerators and "
            "keep the denominator: $\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$.",
            "worked_examples": "$\\frac{2}{6} + \\frac{3}{6} = \\frac{5}{6}$",
            "misconceptions": "Adding the denominators too.",
            "language": "en",
            "reading_level": "elementary",
        }
        fields.update(contract)
        lesson = svc.lesson_create(actor=actor, classroom=classroom, **fields)
        svc.exercise_save(
            actor=actor,
            lesson=lesson,
            prompt="What is 1/5 + 2/5?",
            answer_key="3/5",
            accepted_answers=["three fifths"],
        )
        return svc.lesson_publish(actor=actor, lesson=lesson)


def membership_of(school, user):  # type: ignore[no-untyped-def]
    """The user's Membership in `school` (call inside the school's context)."""
    return Membership.objects.for_school(school).select_related("school", "user").get(user=user)
