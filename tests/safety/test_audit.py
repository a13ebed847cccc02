"""The audit trail: every audited action leaves an entry; nobody rewrites it; only the
school's own admins read it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts import services as account_services
from accounts.audit import AuditEvent, AuditTrailIsAppendOnly, audit_record
from accounts.models import Membership
from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD, membership_of
from tests.safety.conftest import ask, review_items
from tutoring.safety import policy, review
from tutoring.services import keys
from tutoring.services.school_admin import school_settings_update

pytestmark = pytest.mark.django_db


def _events(school, action=None):
    with school_context(school):
        events = AuditEvent.objects.order_by("id")
        if action:
            events = events.filter(action=action)
        return list(events)


def test_a_sign_in_is_recorded_in_each_school_of_the_person(
    client, school, other_school, both_schools_user
):
    assert (
        client.post(
            reverse("login"), {"username": "bea@both.test", "password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    for s in (school, other_school):
        [event] = _events(s, "sign_in")
        assert event.actor_label == "bea@both.test" and event.ip_address == "127.0.0.1"


def test_role_changes_and_deactivations_are_recorded(school, school_admin, teacher):
    with school_context(school):
        admin = membership_of(school, school_admin)
        target = membership_of(school, teacher)
        account_services.membership_change_role(
            actor=admin, membership=target, role=Membership.Role.SCHOOL_ADMIN
        )
        account_services.membership_set_active(actor=admin, membership=target, is_active=False)
    [role] = _events(school, "role_changed")
    assert role.details == {"from": "teacher", "to": "school_admin"}
    assert role.target == "teacher@riverside.test"
    [status] = _events(school, "member_status_changed")
    assert status.details == {"is_active": False}


def test_key_creation_activation_and_revocation_are_recorded_without_the_key(school, school_admin):
    secret = "sk-live-abcdefghijklmnop1234"
    with school_context(school):
        admin = membership_of(school, school_admin)
        first = keys.provider_key_create(actor=admin, secret=secret, label="Main").key
        second = keys.provider_key_create(actor=admin, secret=secret + "x", activate=False).key
        keys.provider_key_activate(actor=admin, key=second)
        keys.provider_key_revoke(actor=admin, key=first)
    actions = [e.action for e in _events(school) if e.action.startswith("key_")]
    assert actions == [
        "key_created",
        "key_activated",
        "key_created",
        "key_activated",
        "key_revoked",
    ]
    assert _events(school, "key_revoked")[0].target == "Main …1234"
    assert secret not in str([(e.target, e.details) for e in _events(school)])


def test_budget_and_settings_changes_are_recorded(school, school_admin):
    with school_context(school):
        school_settings_update(
            actor=membership_of(school, school_admin),
            monthly_token_budget=5_000,
            llm_model="gpt-4.1-mini",
        )
    [budget] = _events(school, "budget_changed")
    assert budget.details == {"monthly_token_budget": {"from": 2_000_000, "to": 5_000}}
    [settings_event] = _events(school, "settings_changed")
    assert settings_event.details["llm_model"]["to"] == "gpt-4.1-mini"


def test_review_decisions_and_guardian_confirmations_are_recorded(
    school, school_admin, teacher, student, lesson
):
    ask(school, student, lesson, "I will beat him up")
    [item] = review_items(school)
    with school_context(school):
        review.review_item_decide(
            actor=membership_of(school, teacher), item=item, status="reviewed", note="Talked."
        )
        admin = membership_of(school, school_admin)
        version = policy.policy_publish(actor=admin, text="Policy.")
        policy.guardian_confirm(actor=admin, student=student, version=version, guardian_name="Ann")
    [decided] = _events(school, "review_decided")
    assert decided.actor_label == "teacher@riverside.test"
    assert decided.details["status"] == "reviewed"
    assert len(_events(school, "guardian_confirmed")) == 1


def test_safety_settings_changes_are_recorded(client, school, school_admin):
    client.force_login(school_admin)
    url = reverse("admin_safety", args=["riverside"])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    data["violence_action"] = "block"
    data["safety_contacts"] = "Counsellor@Riverside.test"
    assert client.post(url, data).status_code == 302
    [event] = _events(school, "safety_settings_changed")
    assert event.details["safety_contacts"] == ["counsellor@riverside.test"]
    assert event.details["rules"]["violence"]["action"] == "block"


def test_the_trail_cannot_be_changed_or_deleted(school, school_admin):
    with school_context(school):
        event = audit_record(school=school, action="sign_in", actor=school_admin)
        with pytest.raises(AuditTrailIsAppendOnly):
            event.save()
        with pytest.raises(AuditTrailIsAppendOnly):
            event.delete()
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.filter(pk=event.pk).update(target="forged")
        with pytest.raises(AuditTrailIsAppendOnly):
            AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET target = 'forged'",
        "DELETE FROM accounts_auditevent",
    ],
)
def test_the_database_refuses_the_application_role_any_change(school, school_admin, sql):
    with school_context(school):
        audit_record(school=school, action="sign_in", actor=school_admin)
        with pytest.raises(Exception) as refused, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)


def test_only_this_schools_admins_read_the_trail(
    client, school, school_admin, teacher, outsider, django_assert_num_queries
):
    client.force_login(school_admin)  # a sign-in: the first entry
    url = reverse("admin_audit", args=["riverside"])
    client.get(url)
    with django_assert_num_queries(11):
        page = client.get(url).content.decode()
    assert "Signed in" in page and "admin@riverside.test" in page
    with school_context(school):
        for _ in range(5):
            audit_record(school=school, action="sign_in", actor=teacher)
    with django_assert_num_queries(11):
        assert (
            client.get(url).content.decode().count("Signed in") == 6 + 1
        )  # 6 entries + the filter option
    client.force_login(teacher)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    hilltop = client.get(reverse("admin_audit", args=["hilltop"])).content.decode()
    assert "admin@riverside.test" not in hilltop and "olga@hilltop.test" in hilltop


def test_the_api_lists_the_trail_for_admins_only(school, school_admin, teacher, outsider):
    from tests.api.conftest import bearer_client, school_url

    with school_context(school):
        audit_record(school=school, action="sign_in", actor=school_admin)
    url = school_url("riverside", "admin/audit-events")
    listed = bearer_client(school_admin).get(url).json()
    assert [e["action"] for e in listed["results"]] == ["sign_in"]
    assert bearer_client(teacher).get(url).status_code == 403
    assert bearer_client(outsider).get(url).status_code == 404
