"""Reads for the safety pages and API. Every read is given the school and, for the review
queue, the member: a teacher sees only items of classes they teach, a school admin all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, School, User
from tutoring.errors import NotFound
from tutoring.models import (
    PolicyAcceptance,
    PolicyVersion,
    ReviewItem,
    StudentBirthDate,
)
from tutoring.safety.policy import needs_guardian, policy_current
from tutoring.safety.rules import safety_settings_get
from tutoring.selectors.classes import taught_classrooms

REVIEW_FILTERS = ("open", "decided", "all")


def _visible_items(school: School, member: Membership) -> QuerySet[ReviewItem]:
    items = ReviewItem.objects.for_school(school)
    if member.has_role(Membership.Role.SCHOOL_ADMIN):
        return items
    # The one rule of who manages a class (tutoring.selectors.classes.teaches).
    taught = taught_classrooms(member=member, include_archived=True)
    return items.filter(classroom_id__in=taught.values("pk"))


def review_item_list(
    *, school: School, member: Membership, show: str = "open"
) -> QuerySet[ReviewItem]:
    """The member's queue: open items first by severity is left to the page; here newest
    first, with the student, the class, the decider and the session (one query)."""
    items = _visible_items(school, member).select_related(
        "student", "classroom", "decided_by", "explanation__session"
    )
    if show == "open":
        items = items.filter(status=ReviewItem.Status.OPEN)
    elif show == "decided":
        items = items.exclude(status=ReviewItem.Status.OPEN)
    return items.order_by("-created_at", "-id")


def review_item_get(*, school: School, member: Membership, public_id: UUID | str) -> ReviewItem:
    """One item the member may review, or NotFound (another class's item does not exist
    for this teacher, another school's does not exist at all)."""
    item = (
        _visible_items(school, member)
        .select_related("student", "classroom", "decided_by", "explanation__session")
        .filter(public_id=public_id)
        .first()
    )
    if item is None:
        raise NotFound()
    return item


def review_open_count(*, school: School, member: Membership) -> int:
    return _visible_items(school, member).filter(status=ReviewItem.Status.OPEN).count()


@dataclass(frozen=True)
class StudentPolicyRow:
    membership: Membership
    accepted_at: datetime | None
    needs_guardian: bool
    guardian_confirmed_at: datetime | None
    guardian_name: str
    birth_date: date | None

    @property
    def is_satisfied(self) -> bool:
        if self.accepted_at is None:
            return False
        return not self.needs_guardian or self.guardian_confirmed_at is not None


@dataclass(frozen=True)
class PolicyOverview:
    version: PolicyVersion | None
    versions: list[PolicyVersion]
    rows: list[StudentPolicyRow]

    @property
    def accepted_count(self) -> int:
        return sum(1 for r in self.rows if r.is_satisfied)


def policy_overview(*, school: School) -> PolicyOverview:
    """Every active student with where they stand on the current version: who has and has
    not accepted, who needs a guardian's confirmation. A fixed number of queries."""
    row = safety_settings_get(school)
    versions = list(
        PolicyVersion.objects.for_school(school).select_related("published_by").order_by("-number")
    )
    version = versions[0] if versions else None
    students = list(
        Membership.objects.for_school(school)
        .filter(role=Membership.Role.STUDENT, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    acceptances = (
        {
            a.student_id: a
            for a in PolicyAcceptance.objects.for_school(school).filter(version=version)
        }
        if version
        else {}
    )
    births = dict(
        StudentBirthDate.objects.for_school(school).values_list("student_id", "birth_date")
    )
    today = timezone.localdate()
    rows = []
    for m in students:
        acceptance = acceptances.get(m.user_id)
        rows.append(
            StudentPolicyRow(
                membership=m,
                accepted_at=acceptance.accepted_at if acceptance else None,
                needs_guardian=needs_guardian(row, births.get(m.user_id), today),
                guardian_confirmed_at=acceptance.guardian_confirmed_at if acceptance else None,
                guardian_name=acceptance.guardian_name if acceptance else "",
                birth_date=births.get(m.user_id),
            )
        )
    return PolicyOverview(version=version, versions=versions, rows=rows)


def student_list(*, school: School, search: str = "") -> QuerySet[Membership]:
    """The school's students (active or not), for the data-rights page."""
    students = (
        Membership.objects.for_school(school)
        .filter(role=Membership.Role.STUDENT)
        .select_related("user")
    )
    if search:
        students = students.filter(
            Q(user__email__icontains=search) | Q(user__full_name__icontains=search)
        )
    return students.order_by("user__full_name", "user__email")


def student_user_get(*, school: School, member_id: object) -> User:
    """A student of the school by membership public id, or NotFound."""
    membership = (
        Membership.objects.for_school(school)
        .filter(public_id=member_id, role=Membership.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership.user


__all__ = [
    "REVIEW_FILTERS",
    "PolicyOverview",
    "StudentPolicyRow",
    "policy_current",
    "policy_overview",
    "review_item_get",
    "review_item_list",
    "review_open_count",
    "student_list",
    "student_user_get",
]
