"""The school's AI-use policy: versions, acceptance, guardian confirmation, the tutor's gate.

Versions are immutable and numbered per school; publishing a new one makes every student
accept again. Publishing also writes the text to `SchoolSettings.ai_policy_text`, the
text the tutor itself is told (so what students accepted and what the tutor follows are
the same words).

The gate is off by default (`SafetySettings.is_policy_acceptance_required`): with it on, a
student must have accepted the current version, and a student under the school's guardian
age (or whose birth date was not recorded) also needs a guardian's confirmation recorded by
a school admin, before the tutor answers. No published version: nothing to accept, the gate
stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership, School, User
from tutoring.errors import InvalidInput, NotFound, PermissionDeniedError, PolicyNotAccepted
from tutoring.models import PolicyAcceptance, PolicyVersion, SafetySettings, StudentBirthDate
from tutoring.safety.rules import safety_settings_get
from tutoring.services.budgets import school_settings_get

MAX_POLICY_CHARS = 5000
MAX_GUARDIAN_NAME_CHARS = 150


def policy_current(school: School) -> PolicyVersion | None:
    """The latest published version, or None."""
    return PolicyVersion.objects.for_school(school).order_by("-number").first()


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def needs_guardian(row: SafetySettings, birth_date: date | None, today: date) -> bool:
    """A guardian must confirm when the school sets an age and the student is younger, or
    their birth date is unknown (the careful default for a platform used by children)."""
    if row.guardian_consent_under_age is None:
        return False
    if birth_date is None:
        return True
    return age_on(birth_date, today) < row.guardian_consent_under_age


@dataclass(frozen=True)
class PolicyStatus:
    """Where one student stands with the current policy."""

    is_required: bool
    version: PolicyVersion | None
    accepted_at: object | None  # datetime
    needs_guardian: bool
    guardian_confirmed_at: object | None

    @property
    def is_satisfied(self) -> bool:
        if not self.is_required or self.version is None:
            return True
        if self.accepted_at is None:
            return False
        return not self.needs_guardian or self.guardian_confirmed_at is not None


def policy_status(*, school: School, student_id: int) -> PolicyStatus:
    """The student's standing with the current version (3 small reads)."""
    row = safety_settings_get(school)
    version = policy_current(school)
    acceptance = (
        PolicyAcceptance.objects.for_school(school)
        .filter(version=version, student_id=student_id)
        .first()
        if version is not None
        else None
    )
    birth = (
        StudentBirthDate.objects.for_school(school)
        .filter(student_id=student_id)
        .values_list("birth_date", flat=True)
        .first()
    )
    return PolicyStatus(
        is_required=row.is_policy_acceptance_required,
        version=version,
        accepted_at=acceptance.accepted_at if acceptance else None,
        needs_guardian=needs_guardian(row, birth, timezone.localdate()),
        guardian_confirmed_at=acceptance.guardian_confirmed_at if acceptance else None,
    )


def policy_gate(*, actor: Membership, row: SafetySettings | None = None) -> None:
    """Raise PolicyNotAccepted unless the student may use the tutor under the policy.

    No query when the gate is off (the default) and the caller passes the school's safety
    settings `row`; teachers' previews are not gated (the caller skips them).
    """
    row = row or safety_settings_get(actor.school)
    if not row.is_policy_acceptance_required:
        return
    status = policy_status(school=actor.school, student_id=actor.user_id)
    if status.is_satisfied:
        return
    if status.accepted_at is None:
        raise PolicyNotAccepted()
    raise PolicyNotAccepted(
        _(
            "Your school needs a parent or guardian to confirm the AI-use policy before you "
            "use the tutor. Ask your teacher."
        )
    )


def policy_publish(*, actor: Membership, text: str) -> PolicyVersion:
    """Publish a new version (number + 1). School admins only. Every student must accept
    it again. Serialised per school by the safety settings row lock, so two admins
    publishing at once get consecutive numbers. Recorded in the audit trail."""
    if not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write the policy first."), fields={"text": [_("Required.")]})
    if len(text) > MAX_POLICY_CHARS:
        raise InvalidInput(
            _("The policy is too long (at most %(n)s characters).") % {"n": MAX_POLICY_CHARS},
            fields={"text": [_("Too long.")]},
        )
    school = actor.school
    with transaction.atomic():
        safety_settings_get(school, lock=True)
        latest = PolicyVersion.objects.for_school(school).aggregate(n=Max("number"))["n"] or 0
        version = PolicyVersion.objects.for_school(school).create(
            school=school, number=latest + 1, text=text, published_by=actor.user
        )
        settings_row = school_settings_get(school, lock=True)
        if settings_row.ai_policy_text != text:
            settings_row.ai_policy_text = text
            settings_row.save(update_fields=["ai_policy_text", "updated_at"])
        audit_record(
            school=school,
            action=AuditEvent.Action.POLICY_PUBLISHED,
            actor=actor,
            target=_("version %(n)s") % {"n": version.number},
            details={"number": version.number, "characters": len(text)},
        )
    return version


def policy_accept(*, actor: Membership, version: PolicyVersion) -> PolicyAcceptance:
    """The student accepts `version`, which must be the current one. Idempotent (the first
    acceptance time is kept)."""
    if version.school_id != actor.school_id:
        raise NotFound()
    current = policy_current(actor.school)
    if current is None or current.pk != version.pk:
        raise InvalidInput(
            _("A newer version of the policy was published. Read it and accept it instead."),
            fields={"version": [_("Not the current version.")]},
        )
    with transaction.atomic():
        acceptance, _created = (
            PolicyAcceptance.objects.for_school(actor.school)
            .select_for_update()
            .get_or_create(
                version=version,
                student_id=actor.user_id,
                defaults={"school": actor.school},
            )
        )
        if acceptance.accepted_at is None:
            acceptance.accepted_at = timezone.now()
            acceptance.save(update_fields=["accepted_at"])
    return acceptance


def _student_membership(actor: Membership, student: User) -> Membership:
    membership = (
        Membership.objects.for_school(actor.school)
        .filter(user=student, role=Membership.Role.STUDENT)
        .first()
    )
    if membership is None:
        raise NotFound(_("That person is not a student of this school."))
    return membership


def guardian_confirm(
    *, actor: Membership, student: User, version: PolicyVersion, guardian_name: str
) -> PolicyAcceptance:
    """A school admin records that the student's guardian confirmed `version`. Recorded in
    the audit trail. Re-recording updates the name and time."""
    if not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()
    if version.school_id != actor.school_id:
        raise NotFound()
    guardian_name = (guardian_name or "").strip()
    if not guardian_name:
        raise InvalidInput(
            _("Write the guardian's name."), fields={"guardian_name": [_("Required.")]}
        )
    if len(guardian_name) > MAX_GUARDIAN_NAME_CHARS:
        raise InvalidInput(
            _("At most %(n)s characters.") % {"n": MAX_GUARDIAN_NAME_CHARS},
            fields={"guardian_name": [_("Too long.")]},
        )
    membership = _student_membership(actor, student)
    with transaction.atomic():
        acceptance, _created = (
            PolicyAcceptance.objects.for_school(actor.school)
            .select_for_update()
            .get_or_create(version=version, student=student, defaults={"school": actor.school})
        )
        acceptance.guardian_confirmed_at = timezone.now()
        acceptance.guardian_confirmed_by = actor.user
        acceptance.guardian_name = guardian_name
        acceptance.save(
            update_fields=["guardian_confirmed_at", "guardian_confirmed_by", "guardian_name"]
        )
        audit_record(
            school=actor.school,
            action=AuditEvent.Action.GUARDIAN_CONFIRMED,
            actor=actor,
            target=f"student {membership.public_id}",
            details={"version": version.number},
        )
    return acceptance


def birth_date_set(*, actor: Membership, student: User, birth_date: date | None) -> None:
    """Record (or with None, erase) a student's birth date; school admins only. Used only to
    decide whether a guardian must confirm the policy."""
    if not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()
    _student_membership(actor, student)
    today = timezone.localdate()
    rows = StudentBirthDate.objects.for_school(actor.school)
    if birth_date is None:
        rows.filter(student=student).delete()
        return
    if birth_date > today or birth_date.year < today.year - 100:
        raise InvalidInput(
            _("Enter a real birth date."), fields={"birth_date": [_("Not a valid date.")]}
        )
    rows.update_or_create(
        student=student, defaults={"birth_date": birth_date, "school": actor.school}
    )


__all__ = [
    "PolicyStatus",
    "age_on",
    "birth_date_set",
    "guardian_confirm",
    "needs_guardian",
    "policy_accept",
    "policy_current",
    "policy_gate",
    "policy_publish",
    "policy_status",
]
