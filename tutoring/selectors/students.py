"""Reads of student profiles.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from accounts.models import Membership, School, User
from tutoring.models import (
    StudentProfile,
)

Role = Membership.Role


def student_profile_get(*, school: School, user: User) -> StudentProfile | None:
    return StudentProfile.objects.for_school(school).filter(user=user).first()
