"""Forms of the safety pages: they parse input; the services validate and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.audit import AuditEvent
from tutoring.models import ModerationAction, ModerationCategory, SafetySettings, Severity
from tutoring.safety.review import DECISIONS
from tutoring.safety.rules import rules_of
from tutoring.safety.selectors import REVIEW_FILTERS


class SafetySettingsForm(forms.Form):
    """One row of (action, severity, notify) per category, then the school's switches."""

    safety_contacts = forms.CharField(
        label=_("Safety contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "E-mail addresses told at once about messages in categories marked “notify” and "
            "about escalations. One per line."
        ),
    )
    help_resources_text = forms.CharField(
        label=_("Help resources"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Shown to a student after the kind reply to a message about self-harm: for "
            "example the school counsellor's room and a local helpline number."
        ),
    )
    is_pii_redaction_enabled = forms.BooleanField(
        label=_(
            "Remove names, e-mail addresses, phone numbers, addresses and ids before "
            "questions go to the AI service"
        ),
        required=False,
    )
    is_policy_acceptance_required = forms.BooleanField(
        label=_("Students must accept the AI-use policy before the tutor answers"),
        required=False,
    )
    guardian_consent_under_age = forms.IntegerField(
        label=_("Guardian confirmation needed under this age"),
        required=False,
        min_value=1,
        max_value=21,
        help_text=_(
            "With the policy required, younger students also need a guardian's confirmation, "
            "recorded by a school admin. Students without a recorded birth date count as "
            "younger. Leave empty for no guardian confirmation."
        ),
    )
    transcript_retention_days = forms.IntegerField(
        label=_("Keep transcripts for (days)"),
        min_value=1,
        max_value=3650,
        help_text=_("Sessions with no activity for longer are deleted every night."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for category, label in ModerationCategory.choices:
            self.fields[f"{category}_action"] = forms.ChoiceField(
                label=_("%(category)s: what happens") % {"category": label},
                choices=ModerationAction.choices,
            )
            self.fields[f"{category}_severity"] = forms.ChoiceField(
                label=_("%(category)s: severity") % {"category": label},
                choices=Severity.choices,
            )
            self.fields[f"{category}_notify"] = forms.BooleanField(
                label=_("%(category)s: notify the safety contacts") % {"category": label},
                required=False,
            )

    @staticmethod
    def initial_for(row: SafetySettings) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "safety_contacts": "\n".join(row.safety_contacts),
            "help_resources_text": row.help_resources_text,
            "is_pii_redaction_enabled": row.is_pii_redaction_enabled,
            "is_policy_acceptance_required": row.is_policy_acceptance_required,
            "guardian_consent_under_age": row.guardian_consent_under_age,
            "transcript_retention_days": row.transcript_retention_days,
        }
        for category, rule in rules_of(row).items():
            initial[f"{category}_action"] = rule.action
            initial[f"{category}_severity"] = rule.severity
            initial[f"{category}_notify"] = rule.notify
        return initial

    def rule_rows(self) -> list[dict[str, Any]]:
        """The bound fields per category, for the rules table."""
        return [
            {
                "label": label,
                "action": self[f"{category}_action"],
                "severity": self[f"{category}_severity"],
                "notify": self[f"{category}_notify"],
            }
            for category, label in ModerationCategory.choices
        ]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "rules": {
                category: {
                    "action": data[f"{category}_action"],
                    "severity": data[f"{category}_severity"],
                    "notify": data[f"{category}_notify"],
                }
                for category in ModerationCategory.values
            },
            "safety_contacts": data["safety_contacts"],
            "help_resources_text": data["help_resources_text"],
            "is_pii_redaction_enabled": data["is_pii_redaction_enabled"],
            "is_policy_acceptance_required": data["is_policy_acceptance_required"],
            "guardian_consent_under_age": data["guardian_consent_under_age"],
            "transcript_retention_days": data["transcript_retention_days"],
        }


class ReviewFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("open", _("To review")), ("decided", _("Decided")), ("all", _("All"))],
    )

    def show_value(self) -> str:
        value = self.cleaned_data.get("show") if self.is_valid() else ""
        return value if value in REVIEW_FILTERS else "open"


class ReviewDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[],  # set in __init__ from the service's DECISIONS
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a false positive. Visible to the school's staff."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "reviewed": _("Reviewed: handled, nothing more to do"),
            "false_positive": _("False positive: nothing was wrong"),
            "escalated": _("Escalate: tell the school's safety contacts now"),
        }
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = [(str(s), labels[str(s)]) for s in DECISIONS]


class PolicyPublishForm(forms.Form):
    text = forms.CharField(
        label=_("Policy text"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Publishing creates a new version; every student must accept it again before the "
            "tutor answers (when acceptance is required). The tutor is also told this text."
        ),
    )


class GuardianForm(forms.Form):
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=150)


class BirthDateForm(forms.Form):
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty erases it."),
    )


class StudentDeleteForm(forms.Form):
    confirm_email = forms.EmailField(
        label=_("Type the student's e-mail address to confirm"),
    )

    def __init__(self, *args: Any, expected_email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected_email = expected_email.lower()

    def clean_confirm_email(self) -> str:
        value = self.cleaned_data["confirm_email"].strip().lower()
        if value != self.expected_email:
            raise forms.ValidationError(_("This is not the student's e-mail address."))
        return value


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = cast(forms.ChoiceField, self.fields["action"])
        action.choices = [("", _("All actions")), *AuditEvent.Action.choices]

    def action_value(self) -> str:
        return (self.cleaned_data.get("action") or "") if self.is_valid() else ""
