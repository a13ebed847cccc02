"""The AI-use policy: versions, acceptance, guardian confirmation and the tutor's gate."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from accounts.audit import AuditEvent
from accounts.models import Membership
from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.factories import member, membership_of
from tests.safety.conftest import ask, configure
from tutoring.errors import PolicyNotAccepted
from tutoring.models import Explanation, PolicyVersion
from tutoring.safety import policy
from tutoring.services.budgets import school_settings_get

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _publish(school, admin, text="Use the tutor to learn, not to copy."):
    with school_context(school):
        return policy.policy_publish(actor=membership_of(school, admin), text=text)


def _accept(school, student, version):
    with school_context(school):
        policy.policy_accept(actor=membership_of(school, student), version=version)


def test_the_gate_is_off_by_default(school, school_admin, student, lesson):
    _publish(school, school_admin)
    assert ask(school, student, lesson, "How do I add fractions?").status == "queued"


def test_a_required_policy_gates_the_tutor_until_the_student_accepts(
    school, school_admin, student, lesson
):
    configure(school, is_policy_acceptance_required=True, guardian_consent_under_age=None)
    version = _publish(school, school_admin)
    with pytest.raises(PolicyNotAccepted) as refused:
        ask(school, student, lesson, "How do I add fractions?")
    assert (refused.value.code, refused.value.status) == ("policy_not_accepted", 403)
    with school_context(school):
        assert not Explanation.objects.exists()
    _accept(school, student, version)
    assert ask(school, student, lesson, "How do I add fractions?").status == "queued"


def test_a_new_version_gates_again(school, school_admin, student, lesson):
    configure(school, is_policy_acceptance_required=True, guardian_consent_under_age=None)
    _accept(school, student, _publish(school, school_admin))
    second = _publish(school, school_admin, text="Version two: cite the tutor.")
    assert second.number == 2
    with pytest.raises(PolicyNotAccepted):
        ask(school, student, lesson, "How do I add fractions?")
    with school_context(school), pytest.raises(policy.InvalidInput):
        first = PolicyVersion.objects.get(number=1)
        policy.policy_accept(actor=membership_of(school, student), version=first)
    _accept(school, student, second)
    assert ask(school, student, lesson, "How do I add fractions?").status == "queued"


def test_a_young_student_also_needs_a_guardians_confirmation(school, school_admin, student, lesson):
    configure(school, is_policy_acceptance_required=True, guardian_consent_under_age=13)
    version = _publish(school, school_admin)
    _accept(school, student, version)
    with pytest.raises(PolicyNotAccepted) as refused:
        ask(school, student, lesson, "How do I add fractions?")
    assert "guardian" in refused.value.message
    with school_context(school):
        admin = membership_of(school, school_admin)
        policy.birth_date_set(actor=admin, student=student, birth_date=date(2000, 1, 1))
    assert ask(school, student, lesson, "An adult now?").status == "queued"
    with school_context(school):
        policy.birth_date_set(actor=admin, student=student, birth_date=date.today())
        with pytest.raises(PolicyNotAccepted):
            ask(school, student, lesson, "A baby now?")
        policy.guardian_confirm(
            actor=admin, student=student, version=version, guardian_name="Ann Anders"
        )
    assert ask(school, student, lesson, "Confirmed now?").status == "queued"


def test_publishing_is_audited_and_is_what_the_tutor_is_told(school, school_admin):
    _publish(school, school_admin, text="Be honest about using the tutor.")
    with school_context(school):
        assert school_settings_get(school).ai_policy_text == "Be honest about using the tutor."
        event = AuditEvent.objects.get(action="policy_published")
    assert event.actor_label == "admin@riverside.test" and event.details["number"] == 1


def test_a_student_reads_and_accepts_on_the_policy_page(client, school, school_admin, student):
    version = _publish(school, school_admin, text="No copying answers.")
    client.force_login(student)
    url = reverse("safety_policy", args=["riverside"])
    page = client.get(url).content.decode()
    assert "No copying answers." in page and "I have read and accept this policy" in page
    assert client.post(url, {"version": version.number}).status_code == 302
    assert "You accepted this version" in client.get(url).content.decode()


def test_accepting_an_older_version_on_the_page_is_refused(client, school, school_admin, student):
    _publish(school, school_admin)
    _publish(school, school_admin, text="Version two.")
    client.force_login(student)
    response = client.post(reverse("safety_policy", args=["riverside"]), {"version": 1})
    assert response.status_code == 400
    assert "newer version" in response.content.decode()


def test_admins_see_who_has_and_has_not_accepted(
    client, school, school_admin, student, other_student, django_assert_num_queries
):
    configure(school, guardian_consent_under_age=None)
    _accept(school, student, _publish(school, school_admin))
    client.force_login(school_admin)
    url = reverse("admin_policy", args=["riverside"])
    client.get(url)
    with django_assert_num_queries(15):
        page = client.get(url).content.decode()
    assert "1 of 2 students ready" in page
    assert page.index("Alice Anders") < page.index("Bob Brown")
    assert "not yet" in page
    for n in range(3):
        member(school, Role.STUDENT, email=f"kid{n}@riverside.test", full_name=f"Kid {n}")
    with django_assert_num_queries(15):
        page = client.get(url).content.decode()
    assert "1 of 5 students ready" in page


def test_an_admin_publishes_a_new_version_from_the_page(client, school, school_admin):
    client.force_login(school_admin)
    url = reverse("admin_policy", args=["riverside"])
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "Version one text."}).status_code == 302
    assert "Version 1" in client.get(url).content.decode()


def test_other_members_cannot_publish(client, school, teacher, outsider):
    client.force_login(teacher)
    assert client.get(reverse("admin_policy", args=["riverside"])).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("admin_policy", args=["riverside"])).status_code == 404


def test_the_api_shows_the_policy_and_records_acceptance(school, school_admin, student):
    version = _publish(school, school_admin, text="API policy.")
    configure(school, is_policy_acceptance_required=True, guardian_consent_under_age=None)
    api = bearer_client(student)
    shown = api.get(school_url("riverside", "policy")).json()
    assert (shown["version"], shown["text"], shown["may_use_tutor"]) == (1, "API policy.", False)
    stale = api.post(school_url("riverside", "policy/acceptance"), {"version": 7})
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invalid_input"
    accepted = api.post(school_url("riverside", "policy/acceptance"), {"version": version.number})
    assert accepted.status_code == 200 and accepted.json()["may_use_tutor"] is True
