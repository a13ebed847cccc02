"""The audit trail: an append-only, per-school record of who did what, and when.

`audit_record()` is the only writer. Rows are never changed or deleted by the application:
the model and its queryset refuse it, and on PostgreSQL the runtime role has no UPDATE,
DELETE or TRUNCATE privilege on the table (accounts/migrations/0003_audit.py), so even a
bug or a raw query cannot rewrite history. School admins read it (`audit_event_list`).

Imported at the bottom of accounts/models.py so Django registers the model. The sign-in
receiver lives in accounts/signals.py (it reads memberships, which this module, loaded by
the models, must not).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolManager, SchoolOwnedModel
from base.client_address import client_address

if TYPE_CHECKING:
    from accounts.models import Membership, School, User

logger = logging.getLogger(__name__)


class AuditTrailIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit event: a bug, never a user error."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class AuditManager(SchoolManager.from_queryset(AppendOnlyQuerySet)):  # type: ignore[misc]
    pass


class AuditEvent(SchoolOwnedModel):
    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        ROLE_CHANGED = "role_changed", _("Changed a member's role")
        MEMBER_STATUS_CHANGED = "member_status_changed", _("Activated or deactivated a member")
        KEY_CREATED = "key_created", _("Added a provider key")
        KEY_ACTIVATED = "key_activated", _("Put a provider key in use")
        KEY_REVOKED = "key_revoked", _("Revoked a provider key")
        BUDGET_CHANGED = "budget_changed", _("Changed budgets")
        SETTINGS_CHANGED = "settings_changed", _("Changed the AI service settings")
        POLICY_PUBLISHED = "policy_published", _("Published an AI-use policy version")
        GUARDIAN_CONFIRMED = "guardian_confirmed", _("Recorded a guardian's confirmation")
        SAFETY_SETTINGS_CHANGED = "safety_settings_changed", _("Changed safety settings")
        STUDENT_EXPORTED = "student_exported", _("Exported a student's data")
        STUDENT_DELETED = "student_deleted", _("Deleted a student's data")
        TRANSCRIPTS_PURGED = "transcripts_purged", _("Deleted transcripts past retention")
        REVIEW_DECIDED = "review_decided", _("Decided on a flagged message")

    # No database constraint: the trail outlives the people in it (a deleted account keeps
    # its rows, shown by `actor_label`), and a foreign key would need UPDATE to null it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[AuditManager] = AuditManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="auditevent_public_id"),
        ]
        indexes = [
            models.Index(fields=["school", "-created_at"]),
            models.Index(fields=["school", "action", "-created_at"]),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    @property
    def actor_display(self) -> str:
        return self.actor_label or str(_("Lantern (automatic)"))


def audit_record(
    *,
    school: School,
    action: str,
    actor: User | Membership | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to `school`'s trail, in the caller's transaction.

    `actor` is the person acting (a User or their Membership); None for automatic work
    (the retention purge) and operator commands, which say so in `details`. `details` must
    be JSON and must not hold secrets (keys are referred to by their last four characters).
    Call inside the school's context (RLS checks the row's school on insert).
    """
    user = cast("User | None", getattr(actor, "user", actor))  # a Membership stands for its user
    return AuditEvent.objects.for_school(school).create(
        school=school,
        action=action,
        actor=user,
        actor_label=(user.email if user is not None else "")[:254],
        target=target[:300],
        details=details or {},
        ip_address=ip_address,
    )


def client_ip(request: HttpRequest | None) -> str | None:
    """The client address, as far as the trusted proxies vouch for it (the one rule in
    base/client_address.py, shared with the throttles and the lockout)."""
    if request is None:
        return None
    return client_address(request)


def audit_event_list(*, school: School, action: str = "") -> models.QuerySet[AuditEvent]:
    """The school's trail, newest first, with the acting user (one query per page)."""
    events = AuditEvent.objects.for_school(school).select_related("actor")
    if action:
        events = events.filter(action=action)
    return events.order_by("-created_at", "-id")


__all__ = [
    "AuditEvent",
    "AuditTrailIsAppendOnly",
    "audit_event_list",
    "audit_record",
    "client_ip",
]
