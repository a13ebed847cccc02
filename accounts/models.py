"""Users (global, e-mail login), schools (the tenant) and memberships (a role in a school)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Global: one account may belong to several schools through memberships."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    preferred_language = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Stamped into every JWT this user gets (accounts/tokens.py); moving it on ends them all.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a real password change or an inactive account also moves `token_version`.

        Why here and not in a service: Django's password forms (change, reset, the operator
        admin) and `manage.py changepassword` all end in `set_password()` + `save()`, and
        this is the one point where Django itself tells a real change (`_password` is set)
        from a hash upgrade at sign-in (which clears it first). Only this row changes, in
        the same UPDATE, so the revocation commits or rolls back with the password. Saving
        an inactive account moves it too, so reactivating it brings no old token back.
        """
        if not self._state.adding and (
            self._password is not None  # type: ignore[attr-defined]  # set by set_password(); not in the stubs
            or not self.is_active
        ):
            # F(): two changes at once both count; a stale in-memory copy cannot undo one.
            self.token_version = models.F("token_version") + 1  # type: ignore[assignment]
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)
        if isinstance(self.token_version, models.expressions.Combinable):
            self.refresh_from_db(fields=["token_version"])

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


class School(models.Model):
    """The tenant. Every tenant-owned row points at one school."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    timezone = models.CharField(max_length=64, default="UTC")
    default_language = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Membership(SchoolOwnedModel):
    """A user's role in one school. One per user and school."""

    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        TEACHER = "teacher", _("Teacher")
        SCHOOL_ADMIN = "school_admin", _("School admin")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="membership_one_per_school"),
            models.UniqueConstraint(fields=["school", "public_id"], name="membership_public_id"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.school_id}:{self.role}"

    def has_role(self, role: str) -> bool:
        """True when this membership's role is `role` or above (student < teacher < admin)."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


ROLE_RANK: dict[str, int] = {
    Membership.Role.STUDENT: 0,
    Membership.Role.TEACHER: 1,
    Membership.Role.SCHOOL_ADMIN: 2,
}


class Invitation(SchoolOwnedModel):
    """A single-use, expiring invitation. Only the SHA-256 of the token is stored."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "token_hash"], name="invitation_token"),
            models.UniqueConstraint(fields=["school", "public_id"], name="invitation_public_id"),
        ]
        ordering = ["-created_at"]

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


__all__ = ["Invitation", "Membership", "ROLE_RANK", "School", "User"]

# The audit trail lives in its own module; importing it here registers the model.
from accounts.audit import AuditEvent  # noqa: E402

__all__ += ["AuditEvent"]
