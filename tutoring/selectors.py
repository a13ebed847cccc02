"""Reads of tutoring data. Always given the school; related rows named so a page costs a
fixed number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, School, User
from tutoring.errors import NotFound
from tutoring.models import (
    Classroom,
    ClassroomMember,
    Exercise,
    ExerciseAttempt,
    Explanation,
    Lesson,
    Message,
    StudentProfile,
    TutoringSession,
)


def classroom_list_for_member(*, member: Membership) -> QuerySet[Classroom]:
    """Classes the member teaches or is enrolled in; school admins see every class."""
    classes = Classroom.objects.for_school(member.school).filter(archived_at__isnull=True)
    if not member.has_role(Membership.Role.SCHOOL_ADMIN):
        # Exists, not a join: a join on members would make the count below see only the
        # member's own row.
        classes = classes.filter(
            Exists(
                ClassroomMember.objects.for_school(member.school).filter(
                    classroom=OuterRef("pk"), user_id=member.user_id
                )
            )
        )
    return classes.annotate(
        student_count=Count("members", filter=Q(members__role=ClassroomMember.Role.STUDENT))
    ).order_by("name")


def classroom_get(*, member: Membership, public_id: str) -> Classroom:
    classroom = classroom_list_for_member(member=member).filter(public_id=public_id).first()
    if classroom is None:
        raise NotFound()
    return classroom


def classroom_members(*, school: School, classroom: Classroom) -> QuerySet[ClassroomMember]:
    return (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom)
        .select_related("user")
        .order_by("role", "user__email")
    )


def lesson_list_for_member(*, member: Membership) -> QuerySet[Lesson]:
    """Students: published lessons of their classes. Teachers: their classes' lessons.
    School admins: all lessons."""
    lessons = Lesson.objects.for_school(member.school).select_related("classroom")
    if member.role == Membership.Role.STUDENT:
        lessons = lessons.filter(
            status=Lesson.Status.PUBLISHED,
            classroom__members__user_id=member.user_id,
            classroom__members__role=ClassroomMember.Role.STUDENT,
        )
    elif not member.has_role(Membership.Role.SCHOOL_ADMIN):
        lessons = lessons.filter(
            classroom__members__user_id=member.user_id,
            classroom__members__role=ClassroomMember.Role.TEACHER,
        )
    return lessons.order_by("classroom__name", "title")


def lesson_get(*, member: Membership, public_id: str) -> Lesson:
    """The one door to a lesson for a member; NotFound when they may not see it."""
    lesson = (
        lesson_list_for_member(member=member)
        .select_related("published_version")
        .filter(public_id=public_id)
        .first()
    )
    if lesson is None:
        raise NotFound()
    return lesson


def exercise_list(*, school: School, lesson: Lesson) -> QuerySet[Exercise]:
    return Exercise.objects.for_school(school).filter(lesson=lesson).order_by("position", "id")


def exercise_get(*, member: Membership, public_id: str) -> Exercise:
    exercise = (
        Exercise.objects.for_school(member.school)
        .select_related("lesson", "lesson__classroom")
        .filter(public_id=public_id)
        .first()
    )
    if exercise is None:
        raise NotFound()
    lesson_get(member=member, public_id=str(exercise.lesson.public_id))
    return exercise


def exercise_attempt_get(*, member: Membership, public_id: str) -> ExerciseAttempt:
    attempt = (
        ExerciseAttempt.objects.for_school(member.school)
        .select_related("exercise", "exercise__lesson")
        .filter(public_id=public_id, student_id=member.user_id)
        .first()
    )
    if attempt is None:
        raise NotFound()
    return attempt


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
    if session.student_id != member.user_id and not _teaches_lesson(member, session.lesson):
        raise NotFound()
    return session


def _teaches_lesson(member: Membership, lesson: Lesson) -> bool:
    from tutoring.services.lessons import teaches

    return member.has_role(Membership.Role.TEACHER) and teaches(member, lesson.classroom)


def message_list(*, school: School, session: TutoringSession) -> QuerySet[Message]:
    return (
        Message.objects.for_school(school)
        .filter(session=session)
        .select_related("explanation")
        .order_by("created_at", "id")
    )


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
    if explanation.student_id != member.user_id and not _teaches_lesson(
        member, explanation.session.lesson
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


def student_profile_get(*, school: School, user: User) -> StudentProfile | None:
    return StudentProfile.objects.for_school(school).filter(user=user).first()


# --- Student pages ------------------------------------------------------------------------

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
