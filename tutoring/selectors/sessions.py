"""Reads of tutoring sessions: a student's own, a teacher's transcripts, previews.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, School
from tutoring.errors import NotFound
from tutoring.models import (
    ClassroomMember,
    Explanation,
    Lesson,
    Message,
    TutoringSession,
)
from tutoring.selectors.classes import taught_classrooms, teaches

Role = Membership.Role


def session_list_for_student(*, member: Membership) -> QuerySet[TutoringSession]:
    return (
        TutoringSession.objects.for_school(member.school)
        .filter(student_id=member.user_id, is_preview=False)
        .select_related("lesson")
        .order_by("-started_at")
    )


def session_get(*, member: Membership, public_id: str) -> TutoringSession:
    """A student's own session, or a session of a class the teacher teaches."""
    session = (
        TutoringSession.objects.for_school(member.school)
        .select_related("lesson", "lesson__classroom", "lesson_version", "student")
        .filter(public_id=public_id)
        .first()
    )
    if session is None:
        raise NotFound()
    if session.student_id != member.user_id and not teaches(member, session.lesson.classroom):
        raise NotFound()
    return session


def message_list(*, school: School, session: TutoringSession) -> QuerySet[Message]:
    return (
        Message.objects.for_school(school)
        .filter(session=session)
        .select_related("explanation")
        .order_by("created_at", "id")
    )


# A lesson visit keeps one session: questions asked within this window continue it, so
# follow-ups share its context; after it a new visit starts a fresh session.
SESSION_REUSE_WINDOW = timedelta(hours=12)


def session_current_for_lesson(*, member: Membership, lesson: Lesson) -> TutoringSession | None:
    """The student's latest open, non-preview session on `lesson` started within
    SESSION_REUSE_WINDOW, or None. One query; lesson and version are loaded with it."""
    return (
        TutoringSession.objects.for_school(member.school)
        .filter(
            student_id=member.user_id,
            lesson=lesson,
            is_preview=False,
            ended_at__isnull=True,
            started_at__gte=timezone.now() - SESSION_REUSE_WINDOW,
        )
        .select_related("lesson", "lesson_version")
        .order_by("-started_at")
        .first()
    )


class FeedbackFilter:
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    NONE = "none"


def transcript_list(
    *,
    member: Membership,
    student_id: int | None = None,
    lesson_id: int | None = None,
    feedback: str = "",
    flagged_only: bool = False,
) -> QuerySet[TutoringSession]:
    """Student sessions (never previews) in the member's classes, newest first, with the
    student and lesson, `explanation_count`, `last_activity_at`, `helpful_count` and
    `not_helpful_count`.

    `feedback`: "helpful" / "not_helpful" (at least one explanation rated so), "none" (no
    explanation rated). `flagged_only`: safety flags do not exist yet, so nothing matches.
    """
    sessions = (
        TutoringSession.objects.for_school(member.school)
        .filter(
            is_preview=False,
            lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "lesson", "lesson__classroom")
    )
    if student_id is not None:
        sessions = sessions.filter(student_id=student_id)
    if lesson_id is not None:
        sessions = sessions.filter(lesson_id=lesson_id)
    rated = Explanation.objects.for_school(member.school).filter(session=OuterRef("pk"))
    if feedback == FeedbackFilter.HELPFUL:
        sessions = sessions.filter(Exists(rated.filter(is_helpful=True)))
    elif feedback == FeedbackFilter.NOT_HELPFUL:
        sessions = sessions.filter(Exists(rated.filter(is_helpful=False)))
    elif feedback == FeedbackFilter.NONE:
        sessions = sessions.exclude(Exists(rated.filter(is_helpful__isnull=False)))
    if flagged_only:
        sessions = sessions.none()
    return sessions.annotate(
        explanation_count=Count("explanations"),
        last_activity_at=Max("explanations__queued_at"),
        helpful_count=Count("explanations", filter=Q(explanations__is_helpful=True)),
        not_helpful_count=Count("explanations", filter=Q(explanations__is_helpful=False)),
    ).order_by("-started_at")


def transcript_get(*, member: Membership, public_id: object) -> TutoringSession:
    """A student session of one of the member's classes; NotFound otherwise (previews too)."""
    session = (
        TutoringSession.objects.for_school(member.school)
        .filter(
            public_id=public_id,
            is_preview=False,
            lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "lesson", "lesson__classroom", "lesson_version")
        .first()
    )
    if session is None:
        raise NotFound()
    return session


def transcript_filter_students(*, member: Membership) -> QuerySet[Membership]:
    """Student memberships of the people enrolled in the member's classes (for the
    transcript filter; the membership's public id stands for the student in URLs)."""
    enrolled = ClassroomMember.objects.for_school(member.school).filter(
        classroom__in=taught_classrooms(member=member).values("pk"),
        role=ClassroomMember.Role.STUDENT,
    )
    return (
        Membership.objects.for_school(member.school)
        .filter(user_id__in=enrolled.values("user_id"))
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def preview_session_get(*, member: Membership, public_id: object) -> TutoringSession:
    """The member's own preview session ("try as a student")."""
    session = (
        TutoringSession.objects.for_school(member.school)
        .filter(public_id=public_id, is_preview=True, student_id=member.user_id)
        .select_related("lesson", "lesson__classroom", "lesson_version")
        .first()
    )
    if session is None:
        raise NotFound()
    return session
