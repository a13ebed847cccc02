"""Writes of accounts data: schools, memberships, invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Invitation, Membership, School, User
from accounts.tenancy import school_context
from accounts.tokens import user_tokens_revoke
from base.errors import LanternError


class AccountsError(LanternError):
    """A domain error with a machine-readable code and a message a person can act on.

    Every code is declared in STATUSES with its HTTP status: the API maps it from there
    and the schema's `ErrorCode` enum lists them, so a code raised but not declared is a
    bug (ValueError), caught by the first test that raises it."""

    STATUSES: ClassVar[dict[str, int]] = {
        "invalid": 400,
        "invitation_invalid": 400,
        "wrong_user": 400,
        "sign_in_first": 400,
        "not_found": 404,
        "already_member": 409,
        "slug_taken": 409,
        "own_role": 409,
        "own_membership": 409,
    }

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            if code not in self.STATUSES:
                raise ValueError(f"undeclared AccountsError code {code!r}")
            self.code = code
        self.status = self.STATUSES[self.code]

    @classmethod
    def declared_codes(cls) -> set[str]:
        return set(cls.STATUSES)


def school_create(
    *, name: str, slug: str, default_language: str = "en", timezone_name: str = "UTC"
) -> School:
    """Create a school. Raises AccountsError(code="slug_taken") when the slug is used."""
    if School.objects.filter(slug=slug).exists():
        raise AccountsError(_("That address is already taken."), code="slug_taken")
    return School.objects.create(
        name=name, slug=slug, default_language=default_language, timezone=timezone_name
    )


def membership_create(*, school: School, user: User, role: str) -> Membership:
    """Add `user` to `school` with `role`, or update the role of an existing membership.

    Idempotent: a second call with the same role changes nothing.
    """
    with school_context(school):
        membership, created = Membership.objects.for_school(school).get_or_create(
            user=user, defaults={"role": role, "school": school}
        )
        if not created and (membership.role != role or not membership.is_active):
            membership.role = role
            membership.is_active = True
            membership.save(update_fields=["role", "is_active"])
    return membership


def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """Change a member's role. An admin cannot demote themselves (the school keeps an admin)."""
    if membership.school_id != actor.school_id:
        raise AccountsError(_("No such member."), code="not_found")
    if membership.pk == actor.pk and role != Membership.Role.SCHOOL_ADMIN:
        raise AccountsError(_("You cannot change your own role."), code="own_role")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if previous != role:
        audit_record(
            school=actor.school,
            action=AuditEvent.Action.ROLE_CHANGED,
            actor=actor,
            target=membership.user.email,
            details={"from": previous, "to": role},
        )
    return membership


@transaction.atomic
def membership_set_active(
    *, actor: Membership, membership: Membership, is_active: bool
) -> Membership:
    """Activate or deactivate a member of the actor's school. Deactivating ends every API
    token the user holds, in this transaction (for all their schools: tokens are the
    user's). Raises AccountsError for another school's member or the actor themselves."""
    if membership.school_id != actor.school_id:
        raise AccountsError(_("No such member."), code="not_found")
    if membership.pk == actor.pk:
        raise AccountsError(_("You cannot deactivate yourself."), code="own_membership")
    changed = membership.is_active != is_active
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    if not is_active:
        user_tokens_revoke(user=membership.user)
    if changed:
        audit_record(
            school=actor.school,
            action=AuditEvent.Action.MEMBER_STATUS_CHANGED,
            actor=actor,
            target=membership.user.email,
            details={"is_active": is_active},
        )
    return membership


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once, in the e-mail; only its hash is stored
    accept_path: str


def invitation_create(*, actor: Membership, email: str, role: str) -> IssuedInvitation:
    """Invite `email` to the actor's school; e-mails the link on commit.

    Raises AccountsError(code="already_member") when the address is already an active member.
    """
    school = actor.school
    email = email.strip().lower()
    if Membership.objects.for_school(school).filter(user__email=email, is_active=True).exists():
        raise AccountsError(_("This person is already a member."), code="already_member")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.for_school(school).create(
        school=school,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    path = reverse("invitation_accept", kwargs={"school_slug": school.slug, "token": token})
    transaction.on_commit(lambda: _send_invitation(invitation, path))
    return IssuedInvitation(invitation=invitation, token=token, accept_path=path)


def _send_invitation(invitation: Invitation, path: str) -> None:
    base = settings.SITE_URL.rstrip("/")
    send_mail(
        subject=_("You are invited to %(school)s on Lantern") % {"school": invitation.school.name},
        message=_("Open this link to join %(school)s: %(url)s")
        % {"school": invitation.school.name, "url": f"{base}{path}"},
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_resend(*, actor: Membership, invitation: Invitation) -> IssuedInvitation:
    """Revoke `invitation` and issue a fresh one (new token, new expiry) to the same address."""
    invitation_revoke(actor=actor, invitation=invitation)
    return invitation_create(actor=actor, email=invitation.email, role=invitation.role)


def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    if invitation.school_id != actor.school_id:
        raise AccountsError(_("No such invitation."), code="not_found")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def invitation_get_pending(*, school: School, token: str) -> Invitation:
    """The pending invitation for `token`, or AccountsError(code="invitation_invalid")."""
    invitation = Invitation.objects.for_school(school).filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        raise AccountsError(
            _("This invitation link is invalid, used or expired. Ask for a new one."),
            code="invitation_invalid",
        )
    return invitation


def invitation_accept(
    *, school: School, token: str, password: str | None, full_name: str = "", user: User | None
) -> Membership:
    """Accept an invitation: single use, checked under a row lock.

    A new address gets an account with `password`; a signed-in user with the invited address
    just joins. Raises AccountsError for invalid/used/expired tokens or a mismatched user.
    """
    with transaction.atomic():
        invitation = invitation_get_pending(school=school, token=token)
        invitation = Invitation.objects.for_school(school).select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise AccountsError(_("This invitation was already used."), code="invitation_invalid")
        if user is not None and user.is_authenticated:
            if user.email.lower() != invitation.email:
                raise AccountsError(
                    _("This invitation is for another e-mail address."), code="wrong_user"
                )
        else:
            user = User.objects.filter(email=invitation.email).first()
            if user is None:
                user = User.objects.create_user(
                    invitation.email, password=password, full_name=full_name
                )
            elif password:
                raise AccountsError(
                    _("You already have an account: sign in, then open the link again."),
                    code="sign_in_first",
                )
        membership = membership_create(school=school, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return membership
