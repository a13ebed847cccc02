"""Reads of classes: the one rule of who manages a class (`teaches` / `taught_classrooms`),
the classes a member sees, rosters.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import Membership, School
from tutoring.errors import NotFound
from tutoring.models import (
    Classroom,
    ClassroomMember,
    TutoringSession,
)

Role = Membership.Role


def _teacher_rows(member: Membership) -> QuerySet[ClassroomMember]:
    return ClassroomMember.objects.for_school(member.school).filter(
        user_id=member.user_id, role=ClassroomMember.Role.TEACHER
    )


def teaches(member: Membership, classroom: Classroom) -> bool:
    """The one rule of who manages a class: a school admin every class of their school; a
    member with the teacher role the classes they are a teacher of; nobody else (a student
    membership never, even with a stale teacher row). `taught_classrooms` is the same rule
    as a query."""
    if classroom.school_id != member.school_id:
        return False
    if member.has_role(Role.SCHOOL_ADMIN):
        return True
    if not member.has_role(Role.TEACHER):
        return False
    return _teacher_rows(member).filter(classroom_id=classroom.pk).exists()


def taught_classrooms(*, member: Membership, include_archived: bool = False) -> QuerySet[Classroom]:
    """Classes `member` manages (`teaches`), archived ones only with `include_archived`."""
    classes = Classroom.objects.for_school(member.school)
    if not include_archived:
        classes = classes.filter(archived_at__isnull=True)
    if member.has_role(Role.SCHOOL_ADMIN):
        return classes
    if not member.has_role(Role.TEACHER):
        return classes.none()
    # Exists, not a join: a join on `members` would also constrain the student counts.
    return classes.filter(Exists(_teacher_rows(member).filter(classroom=OuterRef("pk"))))


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


def teacher_classroom_list(*, member: Membership) -> QuerySet[Classroom]:
    """The member's classes with `student_count` and `last_activity_at` (latest student
    session, previews excluded), by name."""
    last_session = (
        TutoringSession.objects.for_school(member.school)
        .filter(lesson__classroom=OuterRef("pk"), is_preview=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return (
        taught_classrooms(member=member)
        .annotate(
            student_count=Count("members", filter=Q(members__role=ClassroomMember.Role.STUDENT)),
            last_activity_at=Subquery(last_session),
        )
        .order_by("name")
    )


def teacher_classroom_get(*, member: Membership, public_id: UUID | str) -> Classroom:
    """One of the member's classes; NotFound for anything else (another school's included)."""
    classroom = teacher_classroom_list(member=member).filter(public_id=public_id).first()
    if classroom is None:
        raise NotFound()
    return classroom


def classroom_roster(*, school: School, classroom: Classroom) -> QuerySet[ClassroomMember]:
    """Enrolled students with `last_session_at` in this class (previews excluded), by name."""
    last_session = (
        TutoringSession.objects.for_school(school)
        .filter(student_id=OuterRef("user_id"), lesson__classroom=classroom, is_preview=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, role=ClassroomMember.Role.STUDENT)
        .select_related("user")
        .annotate(last_session_at=Subquery(last_session))
        .order_by("user__full_name", "user__email")
    )


def classroom_teachers(*, school: School, classroom: Classroom) -> QuerySet[ClassroomMember]:
    return (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, role=ClassroomMember.Role.TEACHER)
        .select_related("user")
        .order_by("user__email")
    )


def classroom_student_get(
    *, school: School, classroom: Classroom, public_id: object
) -> ClassroomMember:
    """An enrolled student of the class (never one of its teachers); NotFound otherwise."""
    member = (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, public_id=public_id, role=ClassroomMember.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if member is None:
        raise NotFound()
    return member


def enrollable_students(*, school: School, classroom: Classroom) -> QuerySet[Membership]:
    """Active student memberships of the school whose user is not in the class yet."""
    enrolled = ClassroomMember.objects.for_school(school).filter(
        classroom=classroom, user_id=OuterRef("user_id")
    )
    return (
        Membership.objects.for_school(school)
        .filter(role=Role.STUDENT, is_active=True)
        .exclude(Exists(enrolled))
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
