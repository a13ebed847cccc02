"""Forms of the teacher and school-admin pages. They parse and validate input only; the
services do the writing (and validate again)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from tutoring.languages import language_code_clean
from tutoring.models import SchoolSettings
from tutoring.models.lessons import AnswerPolicy, ReadingLevel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_MARKDOWN_CHARS = 50_000
MAX_MICRODOLLARS_PER_MILLION = 1_000_000_000_000  # a million dollars per million tokens
MICRO = Decimal(1_000_000)

# Suggestions for the language inputs (a <datalist>); any well-formed code is accepted.
LANGUAGE_SUGGESTIONS: tuple[tuple[str, StrOrPromise], ...] = (
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("de", _("German")),
    ("pt", _("Portuguese")),
    ("ar", _("Arabic")),
    ("hi", _("Hindi")),
    ("ja", _("Japanese")),
    ("ko", _("Korean")),
)


def _clean_language(value: str) -> str:
    return language_code_clean(value)  # the one rule, which the services apply again


def _language_input() -> forms.TextInput:
    return forms.TextInput(attrs={"list": "language-codes", "autocomplete": "off"})


class ClassroomForm(forms.Form):
    name = forms.CharField(label=_("Class name"), max_length=120)
    subject = forms.CharField(label=_("Subject"), max_length=80, required=False)


class EnrollForm(forms.Form):
    student = forms.ChoiceField(
        label=_("Student"),
        error_messages={"invalid_choice": _("Choose a student of this school.")},
    )

    def __init__(self, *args: Any, students: Iterable[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.students = {str(m.public_id): m for m in students}
        self.fields["student"].choices = [("", _("Choose a student"))] + [  # type: ignore[attr-defined]
            (key, f"{m.user.display_name} ({m.user.email})") for key, m in self.students.items()
        ]

    def clean_student(self) -> Membership:
        return self.students[self.cleaned_data["student"]]


class LessonForm(forms.Form):
    """Every field of the lesson contract (LessonContract.CONTRACT_FIELDS)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    subject = forms.CharField(label=_("Subject"), max_length=80, required=False)
    grade_band = forms.CharField(
        label=_("Grade band"), max_length=40, required=False, help_text=_("For example: 5-6")
    )
    objectives = forms.CharField(
        label=_("Objectives"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What students should be able to do after the lesson."),
    )
    key_concepts = forms.CharField(
        label=_("Key concepts"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    material = forms.CharField(
        label=_("Material (Markdown, math with $…$)"),
        required=False,
        max_length=MAX_MARKDOWN_CHARS,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Students read this; the tutor is told to stay within it."),
    )
    worked_examples = forms.CharField(
        label=_("Worked examples"),
        required=False,
        max_length=MAX_MARKDOWN_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    misconceptions = forms.CharField(
        label=_("Common misconceptions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The tutor watches for these and addresses them gently."),
    )
    tone = forms.CharField(
        label=_("Tone"), max_length=120, required=False, help_text=_("For example: warm, brief")
    )
    reading_level = forms.ChoiceField(label=_("Reading level"), choices=ReadingLevel.choices)
    language = forms.CharField(
        label=_("Language"),
        max_length=10,
        initial="en",
        widget=_language_input(),
        help_text=_("The lesson's language code; students may get answers in their own."),
    )
    answer_policy = forms.ChoiceField(label=_("Answer policy"), choices=AnswerPolicy.choices)
    full_solution_after_tries = forms.IntegerField(
        label=_("Full solution after this many tries"),
        min_value=0,
        max_value=20,
        initial=3,
        help_text=_("0 means never unlock the full solution by tries."),
    )
    solution_released = forms.BooleanField(
        label=_("Full solutions released (the tutor may show complete answers)"),
        required=False,
    )

    def clean_language(self) -> str:
        return _clean_language(self.cleaned_data.get("language", "")) or "en"


class LessonCreateForm(LessonForm):
    classroom = forms.ChoiceField(label=_("Class"))

    def __init__(self, *args: Any, classrooms: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classroom"].choices = [("", _("Choose a class"))] + [  # type: ignore[attr-defined]
            (str(c.public_id), c.name) for c in classrooms
        ]
        self.order_fields(["classroom"])


class MarkdownPreviewForm(forms.Form):
    material = forms.CharField(required=False, max_length=MAX_MARKDOWN_CHARS)


class ExerciseForm(forms.Form):
    prompt = forms.CharField(
        label=_("Question (Markdown)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    answer_key = forms.CharField(label=_("Answer"), max_length=500)
    accepted_answers = forms.CharField(
        label=_("Other accepted answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line. Case and spaces do not matter."),
    )
    misconception_tags = forms.CharField(
        label=_("Misconception tags"),
        required=False,
        max_length=500,
        help_text=_("Comma-separated, for example: adds denominators, sign error"),
    )
    solution = forms.CharField(
        label=_("Worked solution (Markdown)"),
        required=False,
        max_length=MAX_MARKDOWN_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean_accepted_answers(self) -> list[str]:
        lines = self.cleaned_data.get("accepted_answers", "").splitlines()
        answers = [line.strip() for line in lines if line.strip()]
        if any(len(a) > 500 for a in answers):
            raise forms.ValidationError(_("Each answer can have at most 500 characters."))
        return answers

    def clean_misconception_tags(self) -> list[str]:
        raw = self.cleaned_data.get("misconception_tags", "")
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    @staticmethod
    def initial_for(exercise: Any) -> dict[str, str]:
        return {
            "prompt": exercise.prompt,
            "answer_key": exercise.answer_key,
            "accepted_answers": "\n".join(exercise.accepted_answers or []),
            "misconception_tags": ", ".join(exercise.misconception_tags or []),
            "solution": exercise.solution,
        }


class PreviewProfileForm(forms.Form):
    """The pretend student of a "try as a student" preview."""

    reading_level = forms.ChoiceField(
        label=_("Reading level"),
        choices=[("", _("The lesson's level"))] + list(ReadingLevel.choices),
        required=False,
    )
    language = forms.CharField(
        label=_("Language"),
        max_length=10,
        required=False,
        widget=_language_input(),
        help_text=_("Leave empty for the lesson's language."),
    )
    interests = forms.CharField(
        label=_("Interests"),
        max_length=300,
        required=False,
        help_text=_("For examples the tutor may use, e.g. football, music"),
    )

    def clean_language(self) -> str:
        return _clean_language(self.cleaned_data.get("language", ""))

    def profile(self) -> dict[str, str]:
        return {
            name: str(self.cleaned_data.get(name) or "")
            for name in ("reading_level", "language", "interests")
        }


class PreviewQuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Ask as the student would"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TranscriptFilterForm(forms.Form):
    student = forms.ChoiceField(label=_("Student"), required=False)
    lesson = forms.ChoiceField(label=_("Lesson"), required=False)
    feedback = forms.ChoiceField(
        label=_("Feedback"),
        required=False,
        choices=[
            ("", _("Any")),
            ("helpful", _("Rated helpful")),
            ("not_helpful", _("Rated not helpful")),
            ("none", _("Not rated")),
        ],
    )
    flagged = forms.ChoiceField(
        label=_("Safety flags"),
        required=False,
        choices=[("", _("Any")), ("only", _("Flagged only"))],
    )

    def __init__(
        self, *args: Any, students: Iterable[Membership], lessons: Iterable[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [("", _("All students"))] + [  # type: ignore[attr-defined]
            (str(m.public_id), f"{m.user.display_name} ({m.user.email})") for m in students
        ]
        self.fields["lesson"].choices = [("", _("All lessons"))] + [  # type: ignore[attr-defined]
            (str(lesson.public_id), f"{lesson.title} · {lesson.classroom.name}")
            for lesson in lessons
        ]


# --- School admin -------------------------------------------------------------------------


def _price_field(label: StrOrPromise) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_digits=13,
        decimal_places=6,
        required=False,
        help_text=_("US dollars per million tokens; empty or 0 means not configured."),
    )


def microdollars_to_dollars(value: int) -> Decimal:
    return (Decimal(value) / MICRO).normalize()


class SchoolSettingsForm(forms.Form):
    llm_provider = forms.ChoiceField(
        label=_("Provider"), choices=SchoolSettings.Provider.choices, required=False
    )
    llm_model = forms.CharField(
        label=_("Model"),
        max_length=100,
        required=False,
        help_text=_("Empty for the platform's default model, e.g. gpt-4o-mini"),
    )
    llm_base_url = forms.URLField(
        label=_("API base URL"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_("Only for an OpenAI-compatible server other than OpenAI's own."),
    )
    prompt_price = _price_field(_("Price of prompt tokens"))
    completion_price = _price_field(_("Price of answer tokens"))
    ai_policy_text = forms.CharField(
        label=_("AI-use policy shown to students"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    @classmethod
    def initial_for(cls, row: SchoolSettings) -> dict[str, Any]:
        return {
            "llm_provider": row.llm_provider,
            "llm_model": row.llm_model,
            "llm_base_url": row.llm_base_url,
            "prompt_price": microdollars_to_dollars(row.prompt_price_per_million),
            "completion_price": microdollars_to_dollars(row.completion_price_per_million),
            "ai_policy_text": row.ai_policy_text,
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "llm_provider": data["llm_provider"],
            "llm_model": data["llm_model"],
            "llm_base_url": data["llm_base_url"],
            "prompt_price_per_million": int((data["prompt_price"] or 0) * MICRO),
            "completion_price_per_million": int((data["completion_price"] or 0) * MICRO),
            "ai_policy_text": data["ai_policy_text"],
        }


class ProviderKeyForm(forms.Form):
    label = forms.CharField(
        label=_("Label"), max_length=80, required=False, help_text=_("For example: OpenAI 2025")
    )
    key = forms.CharField(
        label=_("API key"),
        max_length=500,
        # render_value=False: a form shown again with errors never echoes the secret back.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    activate = forms.BooleanField(label=_("Use this key from now on"), required=False, initial=True)


class BudgetForm(forms.Form):
    monthly_token_budget = forms.IntegerField(
        label=_("School tokens per month"),
        validators=[MinValueValidator(0), MaxValueValidator(10**15)],
        help_text=_("0 turns the tutor off for the whole school."),
    )
    student_daily_token_budget = forms.IntegerField(
        label=_("Tokens per student per day"),
        validators=[MinValueValidator(0), MaxValueValidator(2_000_000_000)],
    )
