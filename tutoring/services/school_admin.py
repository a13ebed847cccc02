"""School settings edited by a school admin: provider, model, prices, budgets, AI policy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership
from llm import outbound
from tutoring.errors import InvalidInput, PermissionDeniedError
from tutoring.models import ProviderKey, SchoolSettings
from tutoring.services.budgets import school_settings_get
from tutoring.services.providers import school_base_url

EDITABLE_SETTINGS = (
    "llm_provider",
    "llm_model",
    "llm_base_url",
    "prompt_price_per_million",
    "completion_price_per_million",
    "monthly_token_budget",
    "student_daily_token_budget",
    "ai_policy_text",
)
MAX_POLICY_CHARS = 5000
# Upper bounds keep values inside the columns (PositiveIntegerField / BigIntegerField).
_INTEGER_LIMITS: dict[str, int] = {
    "prompt_price_per_million": 10**12,
    "completion_price_per_million": 10**12,
    "monthly_token_budget": 10**15,
    "student_daily_token_budget": 2_000_000_000,
}
_url_validator = URLValidator(schemes=["http", "https"])


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE_SETTINGS))
    if unknown:
        raise InvalidInput(
            _("These settings cannot be changed here: %(names)s") % {"names": ", ".join(unknown)}
        )
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name in _INTEGER_LIMITS:
            if isinstance(value, bool) or not isinstance(value, int):
                errors[name] = [_("Enter a whole number.")]
            elif not 0 <= value <= _INTEGER_LIMITS[name]:
                errors[name] = [
                    _("Enter a number between 0 and %(n)s.") % {"n": _INTEGER_LIMITS[name]}
                ]
            else:
                cleaned[name] = value
            continue
        text = "" if value is None else str(value).strip()
        if name == "llm_provider" and text not in SchoolSettings.Provider.values:
            errors[name] = [_("Choose a listed provider.")]
        elif name == "llm_model" and (len(text) > 100 or any(c.isspace() for c in text)):
            errors[name] = [_("A model name has no spaces and at most 100 characters.")]
        elif name == "llm_base_url" and text:
            errors.update(_base_url_errors(text))
        elif name == "ai_policy_text" and len(text) > MAX_POLICY_CHARS:
            errors[name] = [_("At most %(n)s characters.") % {"n": MAX_POLICY_CHARS}]
        cleaned[name] = text
    if errors:
        raise InvalidInput(_("Some settings are not valid; nothing was saved."), fields=errors)
    return cleaned


def _base_url_errors(text: str) -> dict[str, list[str]]:
    if len(text) > 200:
        return {"llm_base_url": [_("At most 200 characters.")]}
    try:
        _url_validator(text)
    except ValidationError:
        return {"llm_base_url": [_("Enter an http:// or https:// address.")]}
    if school_base_url(text) is None:
        return {}  # the platform's own address: the operator chose it
    try:
        outbound.check_url(text)
    except outbound.OutboundRefused:
        # One message whatever the reason: the reason would tell what exists where.
        return {"llm_base_url": [str(outbound.REFUSED_MESSAGE)]}
    return {}


def _own_key_errors(actor: Membership, cleaned: dict[str, Any]) -> dict[str, list[str]]:
    """A base URL of the school's own needs the school's own key: the platform's key is
    only ever sent to the platform's address (tutoring/services/providers.py)."""
    url = cleaned.get("llm_base_url")
    if not url or school_base_url(url) is None or cleaned.get("llm_provider") == "offline":
        return {}
    if ProviderKey.objects.for_school(actor.school).filter(is_active=True).exists():
        return {}
    return {
        "llm_base_url": [
            _(
                "A server of the school's own needs the school's own API key: add one under "
                "Provider keys first. The platform's key is only used with the platform's "
                "AI service."
            )
        ]
    }


def school_settings_update(*, actor: Membership, **fields: Any) -> SchoolSettings:
    """Change the actor's school settings. School admins only.

    All-or-nothing: every field is validated before anything is written, so a bad value
    raises InvalidInput (with per-field messages) and leaves the row as it was. A base URL
    of the school's own must pass the outbound rule (llm/outbound.py; one message
    for every refusal) and needs an active key of the school's own. Locks the
    settings row (the same lock budget checks take). Idempotent.
    Prices are micro-dollars per million tokens; budgets are tokens.
    """
    if not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()
    cleaned = _validated(fields)
    key_errors = _own_key_errors(actor, cleaned)
    if key_errors:
        raise InvalidInput(_("Some settings are not valid; nothing was saved."), fields=key_errors)
    with transaction.atomic():
        row = school_settings_get(actor.school, lock=True)
        changed = [name for name, value in cleaned.items() if getattr(row, name) != value]
        before = {name: getattr(row, name) for name in changed}
        for name in changed:
            setattr(row, name, cleaned[name])
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
            _audit_changes(actor, before, cleaned)
    return row


BUDGET_FIELDS = frozenset(
    {
        "monthly_token_budget",
        "student_daily_token_budget",
        "prompt_price_per_million",
        "completion_price_per_million",
    }
)


def _audit_changes(actor: Membership, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Budgets and prices in one audit entry, the rest (provider, model, policy text) in
    another; the policy text itself is too long for the trail, its change is noted."""
    budgets = {n: {"from": before[n], "to": after[n]} for n in before if n in BUDGET_FIELDS}
    others = {
        n: ({"from": before[n], "to": after[n]} if n != "ai_policy_text" else "changed")
        for n in before
        if n not in BUDGET_FIELDS
    }
    for action, details in (
        (AuditEvent.Action.BUDGET_CHANGED, budgets),
        (AuditEvent.Action.SETTINGS_CHANGED, others),
    ):
        if details:
            audit_record(
                school=actor.school,
                action=action,
                actor=actor,
                target=", ".join(sorted(details)),
                details=details,
            )
