"""Reads of explanations: one door (`explanation_get`), a student's lists, a class's
recent questions.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import Membership, School
from tutoring.errors import NotFound
from tutoring.models import (
    Explanation,
    TutoringSession,
)
from tutoring.selectors.classes import taught_classrooms, teaches

Role = Membership.Role


def explanation_get(*, member: Membership, public_id: str) -> Explanation:
    """A student's own explanation, or one from a class the teacher teaches."""
    explanation = (
        Explanation.objects.for_school(member.school)
        .select_related("session", "session__lesson", "session__lesson__classroom")
        .filter(public_id=public_id)
        .first()
    )
    if explanation is None:
        raise NotFound()
    if explanation.student_id != member.user_id and not teaches(
        member, explanation.session.lesson.classroom
    ):
        raise NotFound()
    return explanation


def explanation_list_for_student(*, member: Membership, search: str = "") -> QuerySet[Explanation]:
    explanations = (
        Explanation.objects.for_school(member.school)
        .filter(student_id=member.user_id, is_preview=False)
        .select_related("session", "session__lesson")
        .order_by("-queued_at")
    )
    if search:
        explanations = explanations.filter(
            Q(question__icontains=search) | Q(content__icontains=search)
        )
    return explanations


def explanation_list_for_session(
    *, school: School, session: TutoringSession
) -> QuerySet[Explanation]:
    """A session's explanations in the order they were asked (the tutor conversation)."""
    return (
        Explanation.objects.for_school(school).filter(session=session).order_by("queued_at", "id")
    )


def explanation_list_needing_attention(
    *, member: Membership, finished_since: datetime
) -> QuerySet[Explanation]:
    """The student's explanations still being written, or finished since `finished_since`
    (newest first)."""
    return explanation_list_for_student(member=member).filter(
        Q(status__in=[Explanation.Status.QUEUED, Explanation.Status.RUNNING])
        | Q(finished_at__gte=finished_since)
    )


def recent_explanations(*, member: Membership, limit: int = 10) -> list[Explanation]:
    """The latest student questions in the member's classes (previews excluded)."""
    return list(
        Explanation.objects.for_school(member.school)
        .filter(
            is_preview=False,
            session__lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "session", "session__lesson")
        .order_by("-queued_at")[:limit]
    )


def session_explanations(*, school: School, session: TutoringSession) -> QuerySet[Explanation]:
    """A session's explanations, oldest first, with the exercise they were about."""
    return (
        Explanation.objects.for_school(school)
        .filter(session=session)
        .select_related("exercise")
        .order_by("queued_at", "id")
    )
