"""API test helpers: a client signed in with a JWT as any member of the cast, and a clean
slate of throttle counters and idempotency records in Redis for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, School, User
from accounts.tenancy import school_context
from accounts.tokens import VersionedRefreshToken
from tests.factories import member, membership_of, published_lesson
from tutoring.models import (
    Classroom,
    ClassroomMember,
    Exercise,
    ExerciseAttempt,
    Explanation,
    Lesson,
    ProviderKey,
    TutoringSession,
)

Role = Membership.Role

API = "/api/v1"


def school_url(slug: str, path: str) -> str:
    return f"{API}/schools/{slug}/{path}"


def bearer_client(user: User | None) -> APIClient:
    """A client sending `Authorization: Bearer <access>` for `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        # As sign-in does: the token carries the user's current token version (from the row;
        # a fixture's copy may predate a revocation).
        user.refresh_from_db(fields=["token_version"])
        access = VersionedRefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def as_user() -> Callable[[User | None], APIClient]:
    return bearer_client


def _delete_api_keys() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in ("throttle:*", "idem:*", "idem-lock:*"):
        keys = list(client.scan_iter(match=pattern, count=500))
        if keys:
            client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _fresh_api_redis_state() -> Iterator[None]:
    """Throttle counters and idempotency records live in Redis, outside the test
    database's rollback: start and end every test without them."""
    _delete_api_keys()
    yield
    _delete_api_keys()


# --- A school with one of everything -----------------------------------------------------


@dataclass
class World:
    """One school's objects, as the cast made them: a published lesson taught by `teacher`
    with `student` enrolled, a session with a succeeded and a failed explanation, a wrong
    exercise attempt, a provider key and a pending invitation."""

    school: School
    classroom: Classroom
    lesson: Lesson
    exercise: Exercise
    enrolment: ClassroomMember
    student_member: Membership
    session: TutoringSession
    explanation: Explanation
    failed_explanation: Explanation
    attempt: ExerciseAttempt
    provider_key: ProviderKey
    invitation: Invitation


def build_world(school: School, teacher: User, student: User, admin: User) -> World:
    from django.utils import timezone

    from accounts import services as account_services
    from tutoring.services import explanations as explanation_services
    from tutoring.services import keys as key_services
    from tutoring.services import lessons as lesson_services

    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        student_member = membership_of(school, student)
        admin_member = membership_of(school, admin)
        exercise = Exercise.objects.get(lesson=lesson)
        session = explanation_services.session_start(actor=student_member, lesson=lesson)
        explanation = explanation_services.explanation_request(
            actor=student_member, session=session, question="Why keep the denominator?"
        )
        failed = explanation_services.explanation_request(
            actor=student_member, session=session, question="And why not add them?"
        )
        now = timezone.now()
        Explanation.objects.filter(pk=explanation.pk).update(
            status=Explanation.Status.SUCCEEDED,
            content="The denominator names the **size** of the parts: $\\frac{1}{5}$.",
            prompt_tokens=120,
            completion_tokens=30,
            started_at=now,
            finished_at=now,
            messages_sent=[{"role": "system", "content": "You are a tutor."}],
        )
        Explanation.objects.filter(pk=failed.pk).update(
            status=Explanation.Status.FAILED,
            error_code="provider_unavailable",
            error_message="The tutor is busy. Try again in a minute.",
            finished_at=now,
        )
        attempt = lesson_services.exercise_attempt_submit(
            actor=student_member, exercise=exercise, answer="3/10"
        )
        key = key_services.provider_key_create(actor=admin_member, secret="sk-test-world-0000")
        invitation = account_services.invitation_create(
            actor=admin_member, email="newcomer@example.test", role=Membership.Role.STUDENT
        ).invitation
        return World(
            school=school,
            classroom=lesson.classroom,
            lesson=lesson,
            exercise=exercise,
            enrolment=ClassroomMember.objects.get(
                classroom=lesson.classroom, user=student, role=ClassroomMember.Role.STUDENT
            ),
            student_member=student_member,
            session=session,
            explanation=Explanation.objects.get(pk=explanation.pk),
            failed_explanation=Explanation.objects.get(pk=failed.pk),
            attempt=attempt,
            provider_key=key.key,
            invitation=invitation,
        )


@pytest.fixture
def world(school: School, teacher: User, student: User, school_admin: User) -> World:
    return build_world(school, teacher, student, school_admin)


@pytest.fixture
def other_world(other_school: School, outsider: User) -> World:
    """The same in `other_school` (Hilltop), whose admin is the `outsider`."""
    hill_teacher = member(other_school, Role.TEACHER, email="hugo@hilltop.test")
    hill_student = member(other_school, Role.STUDENT, email="hana@hilltop.test")
    return build_world(other_school, hill_teacher, hill_student, outsider)
