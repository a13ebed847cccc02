from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel


class Classroom(SchoolOwnedModel):
    name = models.CharField(_("name"), max_length=120)
    subject = models.CharField(_("subject"), max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="classroom_public_id"),
        ]

    def __str__(self) -> str:
        return self.name


class ClassroomMember(SchoolOwnedModel):
    """A teacher or an enrolled student of a class."""

    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        STUDENT = "student", _("Student")

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classroom_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "classroom", "user"], name="classroom_member_once"
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="classmember_public_id"),
        ]
        indexes = [models.Index(fields=["school", "user", "role"])]
