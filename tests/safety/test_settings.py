"""The safety settings page and service: all or nothing, admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import school_context
from tests.factories import membership_of
from tutoring.errors import InvalidInput, PermissionDeniedError
from tutoring.safety.rules import rules_of, safety_settings_get, safety_settings_update

pytestmark = pytest.mark.django_db


def _form_data(client, url):
    form = client.get(url).context["form"]
    return {k: v for k, v in form.initial.items() if v is not None and v is not False}


def test_a_new_school_starts_with_the_documented_defaults(school):
    with school_context(school):
        row = safety_settings_get(school)
        rules = rules_of(row)
    assert (rules["self_harm"].action, rules["self_harm"].notify) == ("support", True)
    assert (rules["violence"].action, rules["violence"].notify) == ("flag", True)
    assert rules["sexual"].action == rules["hate"].action == "block"
    assert row.is_pii_redaction_enabled and not row.is_policy_acceptance_required
    assert row.transcript_retention_days == 365


def test_a_bad_contact_address_shows_an_error_and_saves_nothing(client, school, school_admin):
    client.force_login(school_admin)
    url = reverse("admin_safety", args=["riverside"])
    data = _form_data(client, url)
    data.update(safety_contacts="counsellor@riverside.test\nnot-an-address", sexual_action="off")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "“not-an-address” is not an e-mail address." in response.content.decode()
    with school_context(school):
        row = safety_settings_get(school)
    assert row.safety_contacts == [] and rules_of(row)["sexual"].action == "block"


def test_only_school_admins_change_safety_settings(client, school, teacher, outsider):
    url = reverse("admin_safety", args=["riverside"])
    client.force_login(teacher)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    with school_context(school), pytest.raises(PermissionDeniedError):
        safety_settings_update(actor=membership_of(school, teacher), transcript_retention_days=9)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transcript_retention_days", 0),
        ("guardian_consent_under_age", 40),
        ("rules", {"violence": {"action": "explode"}}),
        ("rules", {"gossip": {"action": "block"}}),
        ("is_policy_acceptance_required", "yes"),
    ],
)
def test_the_service_refuses_bad_values_by_field(school, school_admin, field, value):
    with school_context(school):
        with pytest.raises(InvalidInput) as refused:
            safety_settings_update(actor=membership_of(school, school_admin), **{field: value})
    assert refused.value.fields
