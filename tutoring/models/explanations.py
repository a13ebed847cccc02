from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel
from tutoring.errors import explanation_error_text
from tutoring.models.lessons import Exercise, ExerciseAttempt, Lesson, LessonVersion


class TutoringSession(SchoolOwnedModel):
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutoring_sessions"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="sessions")
    lesson_version = models.ForeignKey(LessonVersion, on_delete=models.PROTECT, related_name="+")
    # A teacher's "try as a student" preview: never billed to a student, hidden from history.
    is_preview = models.BooleanField(default=False)
    preview_profile = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="session_public_id"),
        ]
        indexes = [
            models.Index(fields=["school", "student", "-started_at"]),
            models.Index(fields=["school", "lesson", "-started_at"]),
        ]


class Message(SchoolOwnedModel):
    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        TUTOR = "tutor", _("Tutor")

    session = models.ForeignKey(TutoringSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    explanation = models.ForeignKey(
        "tutoring.Explanation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="message_public_id"),
        ]
        indexes = [models.Index(fields=["school", "session", "created_at"])]


class Explanation(SchoolOwnedModel):
    """One generation job and its result. The database row is the source of truth."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Writing")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")
        BLOCKED = "blocked", _("Blocked")

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question")
        ANSWER_REVIEW = "answer_review", _("Explain my answer")

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.BLOCKED)

    session = models.ForeignKey(
        TutoringSession, on_delete=models.CASCADE, related_name="explanations"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    lesson_version = models.ForeignKey(LessonVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.QUESTION)
    question = models.TextField()
    exercise = models.ForeignKey(
        Exercise, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    exercise_attempt = models.ForeignKey(
        ExerciseAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_preview = models.BooleanField(default=False)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempt = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=100, blank=True)
    content = models.TextField(blank=True)
    prompt_version = models.CharField(max_length=20, blank=True)
    messages_sent = models.JSONField(default=list, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    reserved_tokens = models.PositiveIntegerField(default=0)
    cost_microdollars = models.PositiveBigIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    provider_request_id = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    last_error_detail = models.CharField(max_length=300, blank=True)
    retry_count = models.PositiveSmallIntegerField(default=0)

    cache_key = models.CharField(max_length=64, blank=True)
    served_from_cache = models.BooleanField(default=False)
    cached_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    is_helpful = models.BooleanField(null=True, blank=True)
    feedback_comment = models.TextField(blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="explanation_public_id"),
        ]
        indexes = [
            models.Index(fields=["school", "session", "queued_at"]),
            models.Index(fields=["school", "student", "-queued_at"]),
            models.Index(
                fields=["school", "cache_key"],
                condition=models.Q(status="succeeded"),
                name="explanation_cache",
            ),
            models.Index(
                fields=["status", "queued_at"],
                name="explanation_sweep",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_retrying(self) -> bool:
        """Waiting again after a provider error: the question is saved and will be answered."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING) and bool(self.error_code)

    @property
    def error_text(self) -> str:
        """The failure as the reader should see it, in their language where the code is known."""
        return explanation_error_text(self.error_code, self.error_message)
