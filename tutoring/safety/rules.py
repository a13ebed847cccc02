"""A school's safety settings: moderation rules, safety contacts, privacy switches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership, School
from tutoring.errors import InvalidInput, PermissionDeniedError
from tutoring.models import ModerationAction, SafetySettings, Severity
from tutoring.models.safety import default_moderation_rules
from tutoring.services import worker_sql

MAX_CONTACTS = 20
MAX_HELP_TEXT_CHARS = 2000
MAX_RETENTION_DAYS = 3650
_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}
_ACTION_RANK = {
    ModerationAction.OFF: 0,
    ModerationAction.FLAG: 1,
    ModerationAction.SUPPORT: 2,
    ModerationAction.BLOCK: 3,
}


@dataclass(frozen=True)
class Rule:
    action: str
    severity: str
    notify: bool


def severity_rank(severity: str) -> int:
    return _SEVERITY_RANK.get(severity, 0)  # type: ignore[call-overload]


def action_rank(action: str) -> int:
    return _ACTION_RANK.get(action, 0)  # type: ignore[call-overload]


def safety_settings_get(school: School, *, lock: bool = False) -> SafetySettings:
    """The school's safety settings row, created with the defaults on first use."""
    row = worker_sql.safety_settings_row(school, lock=lock)  # read on every claim
    if row is None:
        SafetySettings.objects.for_school(school).get_or_create(school=school)
        row = worker_sql.safety_settings_row(school, lock=lock)
    assert row is not None  # created just above
    return row


def rules_of(row: SafetySettings) -> dict[str, Rule]:
    """Every category's rule: the school's where valid, else the default (so a category
    added in a later release applies at once with its default)."""
    defaults = default_moderation_rules()
    stored = row.rules if isinstance(row.rules, dict) else {}
    rules: dict[str, Rule] = {}
    for category, default in defaults.items():
        merged = {**default, **(stored.get(category) or {})}
        action = merged["action"] if merged["action"] in ModerationAction.values else "flag"
        severity = merged["severity"] if merged["severity"] in Severity.values else "medium"
        rules[category] = Rule(action=action, severity=severity, notify=bool(merged["notify"]))
    return rules


def _clean_rules(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise InvalidInput(_("The moderation rules are not valid."), fields={"rules": []})
    defaults = default_moderation_rules()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, dict[str, Any]] = {}
    for category, default in defaults.items():
        rule = {**default, **(value.get(category) or {})}
        if rule["action"] not in ModerationAction.values:
            errors[f"rules.{category}.action"] = [_("Choose a listed action.")]
        if rule["severity"] not in Severity.values:
            errors[f"rules.{category}.severity"] = [_("Choose a listed severity.")]
        cleaned[category] = {
            "action": rule["action"],
            "severity": rule["severity"],
            "notify": bool(rule["notify"]),
        }
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        errors["rules"] = [_("Unknown categories: %(names)s") % {"names": ", ".join(unknown)}]
    if errors:
        raise InvalidInput(_("Some rules are not valid; nothing was saved."), fields=errors)
    return cleaned


def parse_contacts(value: str | list[str]) -> list[str]:
    """E-mail addresses from a list or from text (one per line, or comma-separated).

    Raises InvalidInput naming the first address that is not valid.
    """
    items = value if isinstance(value, list) else value.replace(",", "\n").splitlines()
    contacts: list[str] = []
    for item in items:
        address = str(item).strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput(
                _("“%(address)s” is not an e-mail address.") % {"address": address[:100]},
                fields={"safety_contacts": [_("Enter one e-mail address per line.")]},
            ) from None
        if address not in contacts:
            contacts.append(address)
    if len(contacts) > MAX_CONTACTS:
        raise InvalidInput(
            _("At most %(n)s safety contacts.") % {"n": MAX_CONTACTS},
            fields={"safety_contacts": [_("Too many addresses.")]},
        )
    return contacts


EDITABLE = (
    "rules",
    "safety_contacts",
    "help_resources_text",
    "is_pii_redaction_enabled",
    "is_policy_acceptance_required",
    "guardian_consent_under_age",
    "transcript_retention_days",
)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(
            _("These settings cannot be changed here: %(names)s") % {"names": ", ".join(unknown)}
        )
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name == "rules":
            cleaned[name] = _clean_rules(value)
        elif name == "safety_contacts":
            cleaned[name] = parse_contacts(value)
        elif name == "help_resources_text":
            text = str(value or "").strip()
            if len(text) > MAX_HELP_TEXT_CHARS:
                errors[name] = [_("At most %(n)s characters.") % {"n": MAX_HELP_TEXT_CHARS}]
            cleaned[name] = text
        elif name in ("is_pii_redaction_enabled", "is_policy_acceptance_required"):
            if not isinstance(value, bool):
                errors[name] = [_("Choose yes or no.")]
            cleaned[name] = value
        elif name == "guardian_consent_under_age":
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 21
            ):
                errors[name] = [_("Enter an age between 1 and 21, or leave it empty.")]
            cleaned[name] = value
        elif name == "transcript_retention_days":
            if isinstance(value, bool) or not isinstance(value, int):
                errors[name] = [_("Enter a whole number of days.")]
            elif not 1 <= value <= MAX_RETENTION_DAYS:
                errors[name] = [
                    _("Enter a number of days between 1 and %(n)s.") % {"n": MAX_RETENTION_DAYS}
                ]
            cleaned[name] = value
    if errors:
        raise InvalidInput(_("Some settings are not valid; nothing was saved."), fields=errors)
    return cleaned


def safety_settings_update(*, actor: Membership, **fields: Any) -> SafetySettings:
    """Change the actor's school's safety settings. School admins only.

    All-or-nothing: every field is validated first (InvalidInput with per-field messages).
    Each change is recorded in the audit trail with the names of the changed settings.
    Idempotent: saving the same values writes nothing and records nothing.
    """
    if not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()
    cleaned = _clean(fields)
    with transaction.atomic():
        row = safety_settings_get(actor.school, lock=True)
        changed = [name for name, value in cleaned.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, cleaned[name])
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
            audit_record(
                school=actor.school,
                action=AuditEvent.Action.SAFETY_SETTINGS_CHANGED,
                actor=actor,
                target=", ".join(changed),
                details={
                    name: cleaned[name]
                    for name in changed
                    if name != "help_resources_text"  # long free text: the name is enough
                },
            )
    return row


__all__ = [
    "Rule",
    "action_rank",
    "parse_contacts",
    "rules_of",
    "safety_settings_get",
    "safety_settings_update",
    "severity_rank",
]
