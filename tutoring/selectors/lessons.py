"""Reads of lessons and exercises: one door to a lesson (`lesson_get`) for every interface.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, QuerySet

from accounts.models import Membership, School
from tutoring.errors import NotFound
from tutoring.models import (
    ClassroomMember,
    Exercise,
    ExerciseAttempt,
    Lesson,
    LessonVersion,
)
from tutoring.selectors.classes import taught_classrooms

Role = Membership.Role


def _lessons_for(member: Membership, *, managing: bool) -> QuerySet[Lesson]:
    """The one access rule for lessons (the doors below apply it, for the web and the API).

    Students see the published lessons of the classes they are enrolled in. Teachers and
    school admins see the lessons of the classes they manage (`teaches`), archived classes
    included. `managing` (the teaching pages and endpoints, which edit): only the classes
    the member manages that are not archived (`taught_classrooms`), drafts included,
    whatever the role."""
    lessons = Lesson.objects.for_school(member.school).select_related("classroom")
    if managing:
        return lessons.filter(classroom__in=taught_classrooms(member=member).values("pk"))
    if member.role == Membership.Role.STUDENT:
        return lessons.filter(
            status=Lesson.Status.PUBLISHED,
            classroom__members__user_id=member.user_id,
            classroom__members__role=ClassroomMember.Role.STUDENT,
        )
    taught = taught_classrooms(member=member, include_archived=True)
    return lessons.filter(classroom__in=taught.values("pk"))


def lesson_list_for_member(*, member: Membership, managing: bool = False) -> QuerySet[Lesson]:
    """The lessons `member` may see (`_lessons_for`), by class then title. With `managing`,
    also the published version and `exercise_count`."""
    lessons = _lessons_for(member, managing=managing)
    if managing:
        lessons = lessons.select_related("published_version").annotate(
            exercise_count=Count("exercises")
        )
    return lessons.order_by("classroom__name", "title")


def lesson_get(*, member: Membership, public_id: UUID | str, managing: bool = False) -> Lesson:
    """The one door to a lesson, for every interface: NotFound when `member` may not see it
    (`_lessons_for`; `managing` for the pages and endpoints that edit it). One query, with
    the class and the published version."""
    lesson = (
        _lessons_for(member, managing=managing)
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


def lesson_version_list(*, school: School, lesson: Lesson) -> QuerySet[LessonVersion]:
    return (
        LessonVersion.objects.for_school(school)
        .filter(lesson=lesson)
        .select_related("created_by")
        .order_by("-number")
    )


def lesson_version_get(*, school: School, lesson: Lesson, number: int) -> LessonVersion:
    version = lesson_version_list(school=school, lesson=lesson).filter(number=number).first()
    if version is None:
        raise NotFound()
    return version
