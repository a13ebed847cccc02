"""Refresh tokens die with the events that should end them (a password change or reset, a
deactivation, a removal from a school), and a refresh token rotates exactly once even when
several clients race with it (security issue #13, findings 4 and 5)."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.tenancy import school_context
from tests.api.conftest import API, school_url
from tests.factories import TEST_PASSWORD, member, membership_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-Brand-new-pass-42"


def sign_in(email: str, password: str = TEST_PASSWORD) -> dict:
    response = APIClient().post(f"{API}/auth/token", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str) -> Any:
    return APIClient().post(f"{API}/auth/token/refresh", {"refresh": token})


def assert_refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "token_invalid"


def me_with(access: str):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(f"{API}/me")


def admin_client(admin: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(admin.email)['access']}")
    return client


def member_id(school, user: User) -> str:  # type: ignore[no-untyped-def]
    with school_context(school):
        return str(membership_of(school, user).public_id)


# --- Password change and reset --------------------------------------------------------------


def test_a_web_password_change_ends_every_refresh_and_access_token(client, student) -> None:
    phone, tablet = sign_in(student.email), sign_in(student.email)
    client.login(email=student.email, password=TEST_PASSWORD)
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302

    assert_refused(refresh(phone["refresh"]))
    assert_refused(refresh(tablet["refresh"]))
    assert me_with(phone["access"]).status_code == 401
    # The person who changed it signs in again with the new password, and that works.
    fresh = sign_in(student.email, NEW_PASSWORD)
    assert refresh(fresh["refresh"]).status_code == 200
    assert me_with(fresh["access"]).status_code == 200


def test_a_password_reset_ends_every_refresh_token(client, student) -> None:
    tokens = sign_in(student.email)
    client.post(reverse("password_reset"), {"email": student.email})
    found = re.search(r"(/accounts/reset/\S+/)", str(mail.outbox[-1].body))
    assert found, "the reset e-mail carries a link"
    link = found.group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302

    assert_refused(refresh(tokens["refresh"]))
    assert me_with(tokens["access"]).status_code == 401


def test_an_operator_setting_a_password_in_the_admin_ends_the_tokens(client, student) -> None:
    tokens = sign_in(student.email)
    User.objects.create_superuser("ops@lantern.test", password=TEST_PASSWORD)
    client.login(email="ops@lantern.test", password=TEST_PASSWORD)
    changed = client.post(
        f"/operator/accounts/user/{student.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert changed.status_code == 302
    assert_refused(refresh(tokens["refresh"]))


def test_the_changepassword_command_ends_the_tokens(monkeypatch, student) -> None:
    from django.contrib.auth.management.commands import changepassword
    from django.core.management import call_command

    tokens = sign_in(student.email)
    monkeypatch.setattr(
        changepassword, "getpass", SimpleNamespace(getpass=lambda *a, **k: NEW_PASSWORD)
    )
    call_command("changepassword", student.email)
    assert_refused(refresh(tokens["refresh"]))


def test_a_hash_upgrade_at_sign_in_is_not_a_password_change(settings, student) -> None:
    # Django re-hashes a password at sign-in when the preferred hasher changed; that must
    # neither revoke the tokens held nor hand out a token that is dead on arrival.
    held = sign_in(student.email)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    fresh = sign_in(student.email)
    student.refresh_from_db()
    assert student.password.startswith("pbkdf2_sha256$")
    assert me_with(fresh["access"]).status_code == 200
    assert refresh(fresh["refresh"]).status_code == 200
    assert refresh(held["refresh"]).status_code == 200


def test_a_wrong_old_password_changes_nothing_and_keeps_the_tokens(client, student) -> None:
    tokens = sign_in(student.email)
    client.login(email=student.email, password=TEST_PASSWORD)
    refused = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200
    assert refresh(tokens["refresh"]).status_code == 200


# --- Deactivation and removal ---------------------------------------------------------------


def test_deactivating_a_member_in_the_api_ends_their_refresh_tokens(
    school, school_admin, student
) -> None:
    tokens = sign_in(student.email)
    patched = admin_client(school_admin).patch(
        school_url("riverside", f"admin/members/{member_id(school, student)}"),
        {"is_active": False},
    )
    assert patched.status_code == 200, patched.content
    assert_refused(refresh(tokens["refresh"]))
    assert me_with(tokens["access"]).status_code == 401


def test_a_member_deactivated_on_the_web_page_cannot_refresh(
    client, school, school_admin, student
) -> None:
    tokens = sign_in(student.email)
    client.login(email=school_admin.email, password=TEST_PASSWORD)
    page = client.post(f"/s/riverside/admin/members/{member_id(school, student)}/deactivate/")
    assert page.status_code == 302
    assert_refused(refresh(tokens["refresh"]))


def test_reactivating_a_member_does_not_bring_old_tokens_back(
    school, school_admin, student
) -> None:
    tokens = sign_in(student.email)
    admin = admin_client(school_admin)
    url = school_url("riverside", f"admin/members/{member_id(school, student)}")
    assert admin.patch(url, {"is_active": False}).status_code == 200
    assert admin.patch(url, {"is_active": True}).status_code == 200
    assert_refused(refresh(tokens["refresh"]))


def test_a_deactivated_then_reactivated_user_keeps_no_old_token(student) -> None:
    tokens = sign_in(student.email)
    student.is_active = False
    student.save()
    assert refresh(tokens["refresh"]).status_code == 401
    student.is_active = True
    student.save()
    assert_refused(refresh(tokens["refresh"]))


def test_removal_from_one_school_ends_every_refresh_token_of_that_user(
    school, other_school, school_admin
) -> None:
    # A student in two schools: removal from Riverside ends the Hilltop sessions too,
    # because a refresh token is the user's, not a school's.
    pat = member(school, Membership.Role.STUDENT, email="pat@both.test")
    member(other_school, Membership.Role.STUDENT, user=pat)
    tokens = sign_in(pat.email)
    removed = admin_client(school_admin).delete(
        school_url("riverside", f"admin/students/{member_id(school, pat)}/data")
    )
    assert removed.status_code == 200, removed.content
    assert_refused(refresh(tokens["refresh"]))
    # Signing in again still opens Hilltop.
    again = APIClient()
    again.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in(pat.email)['access']}")
    assert [s["slug"] for s in again.get(f"{API}/me").json()["schools"]] == ["hilltop"]


def test_other_users_keep_their_tokens(school, school_admin, student, other_student) -> None:
    kept = sign_in(other_student.email)
    admin_client(school_admin).patch(
        school_url("riverside", f"admin/members/{member_id(school, student)}"),
        {"is_active": False},
    )
    assert refresh(kept["refresh"]).status_code == 200


# --- Rotation -------------------------------------------------------------------------------


def test_only_the_newest_token_of_a_rotation_chain_works(student) -> None:
    first = sign_in(student.email)["refresh"]
    second = refresh(first).json()["refresh"]
    third = refresh(second).json()["refresh"]
    assert_refused(refresh(first))
    assert_refused(refresh(second))
    assert refresh(third).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_let_exactly_one_through(school) -> None:
    student = member(school, Membership.Role.STUDENT, email="alice@riverside.test")
    token = sign_in(student.email)["refresh"]
    racers = 6
    barrier = threading.Barrier(racers)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def race() -> None:
        # Each thread has its own database connection, as separate web processes would.
        client = APIClient()
        try:
            barrier.wait(timeout=10)
            response = client.post(f"{API}/auth/token/refresh", {"refresh": token})
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [401] * (racers - 1), answers
    for status, body in answers:
        if status == 401:
            assert body["error"]["code"] == "token_invalid"
    winner = next(body for status, body in answers if status == 200)
    assert refresh(winner["refresh"]).status_code == 200
    assert_refused(refresh(token))


# --- The operator admin ---------------------------------------------------------------------


@pytest.fixture
def operator_client(client, db):  # type: ignore[no-untyped-def]
    User.objects.create_superuser("ops@lantern.test", password=TEST_PASSWORD)
    client.login(email="ops@lantern.test", password=TEST_PASSWORD)
    return client


def _membership_pk(school, user: User) -> int:  # type: ignore[no-untyped-def]
    with school_context(school):
        return membership_of(school, user).pk


def test_an_operator_deactivating_a_membership_ends_the_tokens(
    operator_client, school, student
) -> None:
    tokens = sign_in(student.email)
    pk = _membership_pk(school, student)
    changed = operator_client.post(
        f"/operator/accounts/membership/{pk}/change/",
        {"user": student.pk, "role": "student", "public_id": member_id(school, student)},
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert_refused(refresh(tokens["refresh"]))


def test_an_operator_deleting_a_membership_ends_the_tokens(
    operator_client, school, student
) -> None:
    tokens = sign_in(student.email)
    deleted = operator_client.post(
        "/operator/accounts/membership/",
        {
            "action": "delete_selected",
            "_selected_action": [_membership_pk(school, student)],
            "post": "yes",
        },
    )
    assert deleted.status_code == 302
    assert_refused(refresh(tokens["refresh"]))


def test_the_daily_flush_forgets_expired_refresh_tokens_and_keeps_live_ones(student) -> None:
    from datetime import timedelta

    import time_machine
    from django.conf import settings
    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.tasks import expired_tokens_flush_task
    from config.celery import app

    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert isinstance(lifetime, timedelta)
    with time_machine.travel(timezone.now() - lifetime - timedelta(days=1)):
        old = sign_in(student.email)
    live = sign_in(student.email)
    assert OutstandingToken.objects.filter(user=student).count() == 2

    assert expired_tokens_flush_task.apply().result == 1
    assert OutstandingToken.objects.filter(user=student).count() == 1
    assert_refused(refresh(old["refresh"]))
    assert refresh(live["refresh"]).status_code == 200
    # beat knows the task by the name it is registered under
    schedule = settings.CELERY_BEAT_SCHEDULE["flush-expired-tokens"]
    assert schedule["task"] in app.tasks
