from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SchoolOwnedModel
from tutoring.models.classes import Classroom


class AnswerPolicy(models.TextChoices):
    HINTS_FIRST = "hints_first", _("Socratic hints first")
    WORKED_STEP = "worked_step", _("Show one worked step")
    FULL_SOLUTION = "full_solution", _("Full solution allowed")


class ReadingLevel(models.TextChoices):
    EARLY = "early", _("Early reader (ages 6-8)")
    ELEMENTARY = "elementary", _("Elementary (ages 8-11)")
    MIDDLE = "middle", _("Middle school (ages 11-14)")
    HIGH = "high", _("High school (ages 14-18)")


class LessonContract(models.Model):
    """The teacher's pedagogy contract: what the tutor is told about this lesson."""

    title = models.CharField(_("title"), max_length=200)
    subject = models.CharField(_("subject"), max_length=80, blank=True)
    grade_band = models.CharField(_("grade band"), max_length=40, blank=True)
    objectives = models.TextField(_("objectives"), blank=True)
    key_concepts = models.TextField(_("key concepts"), blank=True)
    material = models.TextField(_("material (Markdown)"), blank=True)
    worked_examples = models.TextField(_("worked examples"), blank=True)
    misconceptions = models.TextField(_("common misconceptions"), blank=True)
    tone = models.CharField(_("tone"), max_length=120, blank=True, default="warm, encouraging")
    reading_level = models.CharField(
        _("reading level"), max_length=20, choices=ReadingLevel.choices, default=ReadingLevel.MIDDLE
    )
    language = models.CharField(_("language"), max_length=10, default="en")
    answer_policy = models.CharField(
        _("answer policy"),
        max_length=20,
        choices=AnswerPolicy.choices,
        default=AnswerPolicy.HINTS_FIRST,
    )
    full_solution_after_tries = models.PositiveSmallIntegerField(
        _("full solution after this many tries"), default=3
    )
    solution_released = models.BooleanField(
        _("full solutions released by the teacher"), default=False
    )

    CONTRACT_FIELDS = (
        "title",
        "subject",
        "grade_band",
        "objectives",
        "key_concepts",
        "material",
        "worked_examples",
        "misconceptions",
        "tone",
        "reading_level",
        "language",
        "answer_policy",
        "full_solution_after_tries",
        "solution_released",
    )

    class Meta:
        abstract = True

    def contract(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.CONTRACT_FIELDS}


class Lesson(SchoolOwnedModel, LessonContract):
    """The editable lesson. Publishing snapshots the contract into a LessonVersion."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="lessons")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_version = models.ForeignKey(
        "tutoring.LessonVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="lesson_public_id"),
        ]
        indexes = [models.Index(fields=["school", "classroom", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class LessonVersion(SchoolOwnedModel, LessonContract):
    """An immutable snapshot; explanations keep the version they were written for."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "lesson", "number"], name="lesson_version_no"
            ),
            models.UniqueConstraint(fields=["school", "public_id"], name="lessonversion_public_id"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"


class Exercise(SchoolOwnedModel):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="exercises")
    position = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField(_("question"))
    answer_key = models.CharField(_("answer"), max_length=500)
    accepted_answers = models.JSONField(_("other accepted answers"), default=list, blank=True)
    misconception_tags = models.JSONField(_("misconception tags"), default=list, blank=True)
    solution = models.TextField(_("worked solution"), blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="exercise_public_id"),
        ]

    def __str__(self) -> str:
        return self.prompt[:60]


class ExerciseAttempt(SchoolOwnedModel):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="attempts")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    answer = models.CharField(max_length=500)
    is_correct = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "public_id"], name="attempt_public_id"),
        ]
        indexes = [models.Index(fields=["school", "student", "exercise"])]
