"""Student profiles: what personalizes explanations."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from tutoring.errors import InvalidInput
from tutoring.languages import language_code_clean
from tutoring.models import StudentProfile
from tutoring.models.lessons import ReadingLevel
from tutoring.services import worker_sql

EDITABLE = ("grade", "preferred_language", "reading_level", "interests", "accommodations")


def profile_get_or_create(*, school_member: Membership, user: User | None = None) -> StudentProfile:
    """The student's profile in the member's school, created empty on first use."""
    user = user or school_member.user
    profile = worker_sql.student_profile_row(school_member.school, user.pk)  # every claim
    if profile is None:
        profile, _created = StudentProfile.objects.for_school(school_member.school).get_or_create(
            user=user, defaults={"school": school_member.school}
        )
    return profile


def profile_update(*, actor: Membership, profile: StudentProfile, **fields: str) -> StudentProfile:
    """Students edit their own profile; teachers and admins may edit any in their school."""
    if profile.user_id != actor.user_id and not actor.has_role(Membership.Role.TEACHER):
        raise InvalidInput(_("You can only change your own profile."))
    reading_level = fields.get("reading_level")
    if reading_level and reading_level not in ReadingLevel.values:
        raise InvalidInput(
            _("Unknown reading level."), fields={"reading_level": [_("Choose a listed level.")]}
        )
    if "preferred_language" in fields:
        try:
            fields["preferred_language"] = language_code_clean(str(fields["preferred_language"]))
        except ValidationError as exc:
            raise InvalidInput(
                exc.messages[0], fields={"preferred_language": exc.messages}
            ) from exc
    for name in EDITABLE:
        if name in fields:
            setattr(profile, name, str(fields[name]).strip()[:300])
    profile.save()
    return profile
