"""Helpers of the safety tests: asking the tutor as a member of the cast, and the school's
safety settings."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import School, User
from accounts.tenancy import school_context
from tests.conftest import wait_for
from tests.factories import membership_of, published_lesson
from tutoring.models import Explanation, Lesson, ReviewItem, TutoringSession
from tutoring.safety.rules import safety_settings_get
from tutoring.services import explanations as svc


@pytest.fixture
def lesson(school: School, teacher: User, student: User, other_student: User) -> Lesson:
    return published_lesson(school, teacher, [student, other_student])


def ask(
    school: School,
    user: User,
    lesson: Lesson,
    question: str,
    session: TutoringSession | None = None,
) -> Explanation:
    with school_context(school):
        actor = membership_of(school, user)
        session = session or svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def reload(school: School, explanation: Explanation) -> Explanation:
    with school_context(school):
        return Explanation.objects.get(pk=explanation.pk)


def finished(school: School, explanation: Explanation) -> Explanation:
    def check() -> Explanation | None:
        row = reload(school, explanation)
        return row if row.is_terminal else None

    return wait_for(check, timeout=30)


def review_items(school: School) -> list[ReviewItem]:
    with school_context(school):
        return list(ReviewItem.objects.select_related("classroom").order_by("id"))


def configure(school: School, **fields: Any) -> None:
    """Set safety settings directly (test set-up; the service is tested on its own)."""
    with school_context(school):
        row = safety_settings_get(school)
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()


def set_rule(school: School, category: str, **rule: Any) -> None:
    with school_context(school):
        row = safety_settings_get(school)
        rules = dict(row.rules)
        rules[category] = {**rules[category], **rule}
        row.rules = rules
        row.save()
