from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel
from tutoring.models.lessons import ReadingLevel


class StudentProfile(SchoolOwnedModel):
    """What personalizes explanations. Never holds the name or e-mail (those stay on User)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_profiles"
    )
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    reading_level = models.CharField(
        _("reading level"), max_length=20, choices=ReadingLevel.choices, blank=True
    )
    interests = models.CharField(_("interests (for examples)"), max_length=300, blank=True)
    accommodations = models.CharField(
        _("accommodations"), max_length=300, blank=True, help_text=_('e.g. "short sentences"')
    )
    # Stable, meaningless id sent to the provider as the safety identifier.
    pseudonym = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="student_profile_once"),
            models.UniqueConstraint(fields=["school", "public_id"], name="profile_public_id"),
        ]
