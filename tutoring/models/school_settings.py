from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel


class SchoolSettings(SchoolOwnedModel):
    """Per-school provider, model, budgets and prices. One row per school."""

    class Provider(models.TextChoices):
        DEFAULT = "", _("Platform default")
        OPENAI = "openai", _("OpenAI-compatible API")
        OFFLINE = "offline", _("Offline (no AI service)")

    llm_provider = models.CharField(
        _("provider"), max_length=20, choices=Provider.choices, blank=True, default=""
    )
    llm_model = models.CharField(_("model"), max_length=100, blank=True)
    llm_base_url = models.URLField(_("API base URL"), blank=True)
    monthly_token_budget = models.PositiveBigIntegerField(
        _("school tokens per month"), default=2_000_000
    )
    student_daily_token_budget = models.PositiveIntegerField(
        _("tokens per student per day"), default=20_000
    )
    # Prices per million tokens, in micro-dollars (0 = not configured).
    prompt_price_per_million = models.PositiveBigIntegerField(default=0)
    completion_price_per_million = models.PositiveBigIntegerField(default=0)
    ai_policy_text = models.TextField(_("AI-use policy shown to students"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school"], name="school_settings_once"),
            models.UniqueConstraint(fields=["school", "public_id"], name="settings_public_id"),
        ]


class ProviderKey(SchoolOwnedModel):
    """A school's own provider key, encrypted at rest; shown once, then only its last four."""

    label = models.CharField(_("label"), max_length=80, blank=True)
    encrypted_key = models.TextField(editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school"], condition=models.Q(is_active=True), name="one_active_key"
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="providerkey_public_id"),
        ]

    def __repr__(self) -> str:
        return f"<ProviderKey …{self.last_four} active={self.is_active}>"

    __str__ = __repr__


class UsageEntry(SchoolOwnedModel):
    """The usage ledger: one row per provider call that produced an explanation."""

    explanation = models.ForeignKey(
        "tutoring.Explanation", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_preview = models.BooleanField(default=False)
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    prompt_tokens = models.PositiveIntegerField()
    completion_tokens = models.PositiveIntegerField()
    cost_microdollars = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Exactly one charge per explanation, whatever the number of deliveries.
            models.UniqueConstraint(fields=["school", "explanation"], name="usage_once"),
            models.UniqueConstraint(fields=["school", "public_id"], name="usage_public_id"),
        ]
        indexes = [
            models.Index(fields=["school", "created_at"]),
            models.Index(fields=["school", "student", "created_at"]),
        ]

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsagePeriod(SchoolOwnedModel):
    """Tokens used in one budget period, kept in step with the ledger by the finish: the
    school's per month (`student` empty, `period_start` the 1st) and a student's per day.

    The budget check reads one row of each under the school's lock, instead of summing the
    month's ledger, which grew with a school's usage (bench/scale.py: 372 ms at 100,000 rows
    in one school, so that school's claims ran three a second).
    """

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    period_start = models.DateField()  # UTC, like the budgets
    tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "period_start"],
                condition=models.Q(student__isnull=True),
                name="usage_period_school_once",
            ),
            models.UniqueConstraint(
                fields=["school", "student", "period_start"],
                condition=models.Q(student__isnull=False),
                name="usage_period_student_once",
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="usage_period_public_id"),
        ]

    def __repr__(self) -> str:
        return f"<UsagePeriod {self.period_start} student={self.student_id} {self.tokens}>"
