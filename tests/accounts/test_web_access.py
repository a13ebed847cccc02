"""The school in the URL and the user's membership decide what a page shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import School
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


def test_sign_in_with_email_and_password_lands_on_the_only_school(client, student):
    response = client.post(
        reverse("login"), {"username": student.email, "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/s/riverside/lessons/"  # the student's home
    assert "Riverside School" in response.content.decode()


def test_wrong_password_shows_a_form_error(client, student):
    response = client.post(reverse("login"), {"username": student.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode().replace(
        "e-mail", "email"
    )


def test_anonymous_user_is_sent_to_sign_in(client, school):
    response = client.get("/s/riverside/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/s/riverside/", "/s/riverside/admin/members/"])
def test_outsider_gets_404_on_every_school_url(client, outsider, school_admin, path):
    assert login(client, outsider).get(path).status_code == 404


def test_missing_school_and_foreign_school_look_the_same(client, outsider, school):
    login(client, outsider)
    missing = client.get("/s/no-such-school/")
    foreign = client.get("/s/riverside/")
    assert missing.status_code == foreign.status_code == 404


def test_student_cannot_open_the_members_page(client, student):
    assert login(client, student).get("/s/riverside/admin/members/").status_code == 403


def test_member_of_both_schools_sees_only_the_school_in_the_url(
    client, both_schools_user, student, outsider
):
    login(client, both_schools_user)
    page = client.get("/s/riverside/admin/members/").content.decode()
    assert "alice@riverside.test" in page
    assert "olga@hilltop.test" not in page
    page = client.get("/s/hilltop/admin/members/").content.decode()
    assert "olga@hilltop.test" in page
    assert "alice@riverside.test" not in page


def test_school_picker_lists_both_schools(client, both_schools_user):
    page = login(client, both_schools_user).get("/").content.decode()
    assert "Riverside School" in page and "Hilltop Academy" in page


def test_suspended_school_shows_a_clear_page(client, student, school):
    School.objects.filter(pk=school.pk).update(status=School.Status.SUSPENDED)
    response = login(client, student).get("/s/riverside/")
    assert response.status_code == 403
    assert "This school is suspended" in response.content.decode()


def test_member_action_with_another_schools_member_id_is_404(
    client, school_admin, outsider, other_school
):
    from accounts.models import Membership
    from accounts.tenancy import school_context

    with school_context(other_school):
        foreign = Membership.objects.get(user=outsider)
    login(client, school_admin)
    url = f"/s/riverside/admin/members/{foreign.public_id}/deactivate/"
    assert client.post(url).status_code == 404
    with school_context(other_school):
        assert Membership.objects.get(user=outsider).is_active


def test_language_switcher_serves_simplified_chinese(client, student):
    login(client, student)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/s/riverside/", follow=True).content.decode()
    assert 'lang="zh-hans"' in page
    assert "退出" in page  # "Sign out"


def test_pages_carry_a_content_security_policy_without_inline_scripts(client, student):
    response = login(client, student).get("/s/riverside/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
