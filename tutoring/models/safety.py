"""Safety, privacy and oversight: per-school rules, the AI-use policy, the review queue.

Every model is school-owned (RLS, fail-closed manager). The logic lives in
tutoring/safety/ (services and selectors); these are fields and constraints only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel
from tutoring.models.classes import Classroom


class ModerationCategory(models.TextChoices):
    SELF_HARM = "self_harm", _("Self-harm")
    VIOLENCE = "violence", _("Violence")
    SEXUAL = "sexual", _("Sexual content")
    HARASSMENT = "harassment", _("Harassment or bullying")
    HATE = "hate", _("Hate")
    PERSONAL_DATA = "personal_data", _("Sharing personal data")


class ModerationAction(models.TextChoices):
    """What happens to a message in a category, strictest last."""

    OFF = "off", _("Allow (no check)")
    FLAG = "flag", _("Answer, and queue for review")
    SUPPORT = "support", _("Do not answer; reply kindly with help resources")
    BLOCK = "block", _("Do not answer; reply kindly")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


def default_moderation_rules() -> dict[str, dict[str, Any]]:
    """The rules a school starts with (docs/safety.md explains each choice)."""

    def rule(action: str, severity: str, *, notify: bool = False) -> dict[str, Any]:
        return {"action": action, "severity": severity, "notify": notify}

    return {
        "self_harm": rule("support", "high", notify=True),
        "violence": rule("flag", "high", notify=True),
        "sexual": rule("block", "high"),
        "hate": rule("block", "medium"),
        "harassment": rule("flag", "medium"),
        "personal_data": rule("flag", "low"),
    }


class SafetySettings(SchoolOwnedModel):
    """A school's safety and privacy switches. One row per school, created on first use."""

    rules = models.JSONField(_("moderation rules"), default=default_moderation_rules)
    safety_contacts = models.JSONField(_("safety contacts (e-mail addresses)"), default=list)
    help_resources_text = models.TextField(_("help resources shown to a student"), blank=True)
    is_pii_redaction_enabled = models.BooleanField(
        _("remove names and contact details before the AI service"), default=True
    )
    is_policy_acceptance_required = models.BooleanField(
        _("students must accept the AI-use policy"), default=False
    )
    guardian_consent_under_age = models.PositiveSmallIntegerField(
        _("guardian confirmation needed under this age"), null=True, blank=True, default=13
    )
    transcript_retention_days = models.PositiveIntegerField(
        _("keep transcripts for (days)"), default=365
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school"], name="safety_settings_once"),
            models.UniqueConstraint(
                fields=["school", "public_id"], name="safetysettings_public_id"
            ),  # noqa: E501
        ]


class PolicyVersion(SchoolOwnedModel):
    """One published version of the school's AI-use policy. Never edited: publish anew."""

    number = models.PositiveIntegerField()
    text = models.TextField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="policy_version_no"),
            models.UniqueConstraint(fields=["school", "public_id"], name="policyversion_public_id"),
        ]


class PolicyAcceptance(SchoolOwnedModel):
    """A student's acceptance of one version and, when needed, a guardian's confirmation
    recorded by a school admin. Either may come first."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    guardian_confirmed_at = models.DateTimeField(null=True, blank=True)
    guardian_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    guardian_name = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "version", "student"], name="policy_acceptance_once"
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="policyaccept_public_id"),
        ]


class StudentBirthDate(SchoolOwnedModel):
    """Recorded by a school admin only to decide whether a guardian must confirm the policy."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    birth_date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "student"], name="student_birth_date_once"),
            models.UniqueConstraint(fields=["school", "public_id"], name="birthdate_public_id"),
        ]


class ReviewItem(SchoolOwnedModel):
    """A flagged or blocked message waiting for (or decided by) the class's teachers."""

    class Source(models.TextChoices):
        INPUT = "input", _("Student message")
        OUTPUT = "output", _("Tutor reply")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        REVIEWED = "reviewed", _("Reviewed")
        FALSE_POSITIVE = "false_positive", _("False positive")
        ESCALATED = "escalated", _("Escalated")

    explanation = models.ForeignKey(
        "tutoring.Explanation", on_delete=models.CASCADE, related_name="+"
    )
    classroom = models.ForeignKey(Classroom, null=True, on_delete=models.SET_NULL, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=10, choices=ModerationAction.choices)
    categories = models.JSONField(default=list)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    detector = models.CharField(max_length=20)  # "local" rules or "openai" moderation
    flagged_text = models.TextField()  # what was checked; a hidden reply stays only here
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "explanation", "source"], name="review_item_once"
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="reviewitem_public_id"),
        ]
        indexes = [
            models.Index(fields=["school", "status", "-created_at"]),
            models.Index(fields=["school", "classroom", "status"]),
        ]
