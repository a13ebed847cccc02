"""Forms of the student pages. They parse and validate input only; the services do the
writing (and validate again, so a form that lets something through is still safe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from tutoring.models.lessons import ReadingLevel
from tutoring.services.explanations import MAX_QUESTION_CHARS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_ANSWER_CHARS = 500
MAX_COMMENT_CHARS = 1000

# The languages a student may ask the tutor to answer in; "" keeps the lesson's language.
ANSWER_LANGUAGES: tuple[tuple[str, StrOrPromise], ...] = (
    ("", _("Same as the lesson")),
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("ar", "العربية"),
    ("hi", "हिन्दी"),
    ("ja", "日本語"),
    ("ko", "한국어"),
)


class AskForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"),
        max_length=MAX_QUESTION_CHARS,
        error_messages={
            "required": _("Type a question first."),
            "max_length": _("Your question is too long (at most %(limit_value)d characters)."),
        },
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Ask anything about this lesson…")}
        ),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=MAX_ANSWER_CHARS,
        error_messages={
            "required": _("Type an answer first."),
            "max_length": _("That answer is too long."),
        },
    )


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(
        choices=(("yes", _("Helpful")), ("no", _("Not helpful"))),
        error_messages={"required": _("Choose helpful or not helpful.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=MAX_COMMENT_CHARS
    )

    @property
    def is_helpful(self) -> bool:
        return self.cleaned_data["helpful"] == "yes"


class StudentProfileForm(forms.Form):
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    preferred_language = forms.ChoiceField(
        label=_("Language of the tutor's answers"), choices=ANSWER_LANGUAGES, required=False
    )
    reading_level = forms.ChoiceField(
        label=_("Reading level"),
        choices=(("", _("Same as the lesson")), *ReadingLevel.choices),
        required=False,
    )
    interests = forms.CharField(
        label=_("Interests"),
        max_length=300,
        required=False,
        help_text=_("The tutor uses them for examples, e.g. “football, drawing”."),
    )
    accommodations = forms.CharField(
        label=_("What helps you read and learn"),
        max_length=300,
        required=False,
        help_text=_("e.g. “short sentences”, “one step at a time”."),
    )
