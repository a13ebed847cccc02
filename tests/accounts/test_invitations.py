"""School admins invite by e-mail; the link is single-use and expires."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _invite(client, admin, email="newteacher@riverside.test", role="teacher") -> str:
    client.login(email=admin.email, password=TEST_PASSWORD)
    response = client.post("/s/riverside/admin/members/", {"email": email, "role": role})
    assert response.status_code == 302
    client.logout()
    body = str(mail.outbox[-1].body)
    link = re.search(r"(/s/riverside/invitations/[^/\s]+/)", body)
    assert link, body
    return link.group(1)


def test_invitee_sets_a_password_and_joins_with_the_invited_role(client, school_admin, school):
    link = _invite(client, school_admin)
    assert "newteacher@riverside.test" in mail.outbox[-1].to
    page = client.get(link)
    assert page.status_code == 200 and "newteacher@riverside.test" in page.content.decode()
    response = client.post(
        link,
        {"full_name": "Nina New", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
    )
    assert response.status_code == 302 and response["Location"] == "/s/riverside/"
    with school_context(school):
        membership = Membership.objects.get(user__email="newteacher@riverside.test")
    assert membership.role == "teacher"
    assert client.get("/s/riverside/", follow=True).status_code == 200


def test_invitation_link_works_only_once(client, school_admin):
    link = _invite(client, school_admin)
    data = {"full_name": "N", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"}
    assert client.post(link, data).status_code == 302
    client.logout()
    second = client.post(link, data)
    assert second.status_code == 404
    assert "invalid, used or expired" in second.content.decode()


def test_expired_invitation_is_refused(client, school_admin):
    link = _invite(client, school_admin)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        assert client.get(link).status_code == 404


def test_mismatched_passwords_keep_the_form_with_an_error(client, school_admin):
    link = _invite(client, school_admin)
    response = client.post(
        link, {"full_name": "N", "password1": "a-Long-pass-123", "password2": "different-1"}
    )
    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()


def test_invitation_token_of_one_school_does_not_work_in_another(
    client, school_admin, other_school
):
    link = _invite(client, school_admin)
    assert client.get(link.replace("riverside", "hilltop")).status_code == 404


def test_revoked_invitation_is_refused(client, school_admin, school):
    from accounts.models import Invitation

    link = _invite(client, school_admin)
    with school_context(school):
        invitation = Invitation.objects.get()
    client.login(email=school_admin.email, password=TEST_PASSWORD)
    client.post(f"/s/riverside/admin/invitations/{invitation.public_id}/revoke/")
    client.logout()
    assert client.get(link).status_code == 404


def test_inviting_an_existing_member_is_a_form_error(client, school_admin, student):
    client.login(email=school_admin.email, password=TEST_PASSWORD)
    response = client.post(
        "/s/riverside/admin/members/", {"email": student.email, "role": "student"}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def _anonymous_answer(client, path: str, slug: str, token: str) -> tuple[int, str]:
    """Status and page of an anonymous GET, with what the visitor typed (the slug and token
    echoed in the language form's `next`) and the per-request CSRF value blanked out."""
    response = client.get(path)
    body = response.content.decode()
    body = body.replace(slug, "SLUG").replace(token, "TOKEN")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body)
    return response.status_code, body


def test_an_anonymous_visitor_cannot_tell_a_school_exists_from_its_invitation_links(
    client, school_admin
):
    """A bad token at an existing school, an expired real one and a school that does not
    exist get the same status and the same page: guessing slugs reveals nothing."""
    link = _invite(client, school_admin)
    real_token = link.rstrip("/").rsplit("/", 1)[1]
    bad_token = "x" * len(real_token)
    bad_at_existing = _anonymous_answer(
        client, f"/s/riverside/invitations/{bad_token}/", "riverside", bad_token
    )
    missing_school = _anonymous_answer(
        client, f"/s/nowhere-school/invitations/{bad_token}/", "nowhere-school", bad_token
    )
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        expired = _anonymous_answer(client, link, "riverside", real_token)

    assert bad_at_existing == missing_school == expired
    status, body = missing_school
    assert status == 404
    assert "invalid, used or expired" in body and "Riverside" not in body
