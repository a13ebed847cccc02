"""Hardening: sign-in lockout, single-use expiring reset links, password rules, and a
clean `check --deploy` under production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_repeated_failures_lock_out_that_address_and_email_pair(client, settings, student):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert _sign_in(client, student.email, "wrong-password").status_code == 200
    locked = _sign_in(client, "ALICE@riverside.test", "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # Even the right password waits out the lockout.
    assert _sign_in(client, student.email, TEST_PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_lock_out_the_rest_of_the_class(
    client, settings, student, other_student
):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(client, student.email, "wrong-password")
    assert _sign_in(client, other_student.email, TEST_PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, settings, student):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(client, student.email, "wrong-password")
    later = timezone.now() + timedelta(seconds=settings.LOGIN_BACKOFF_SECONDS + 1)
    with time_machine.travel(later):
        assert _sign_in(client, student.email, TEST_PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, settings, student):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _sign_in(client, student.email, "wrong-password")
    assert _sign_in(client, student.email, TEST_PASSWORD).status_code == 302
    client.logout()
    assert _sign_in(client, student.email, "wrong-password").status_code == 200


def test_a_locked_out_pair_gets_no_api_token_either(client, settings, student):
    from rest_framework.test import APIClient

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(client, student.email, "wrong-password")
    response = APIClient().post(
        "/api/v1/auth/token", {"email": student.email, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert "access" not in response.json()


def _reset_link(client, email):
    client.post(reverse("password_reset"), {"email": email})
    return re.search(r"(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)


def _use_reset_link(client, link, password="a-Brand-new-pass-42"):
    page = client.get(link, follow=True)
    if "new_password1" not in page.content.decode():
        return page
    return client.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


def test_a_password_reset_link_works_once(client, student):
    link = _reset_link(client, student.email)
    assert _use_reset_link(client, link).status_code == 302
    assert client.login(email=student.email, password="a-Brand-new-pass-42")
    client.logout()
    second = _use_reset_link(client, link, password="another-Pass-77")
    assert "new_password1" not in second.content.decode()
    assert not client.login(email=student.email, password="another-Pass-77")


def test_a_password_reset_link_expires(client, settings, student):
    link = _reset_link(client, student.email)
    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later):
        page = _use_reset_link(client, link)
    assert "new_password1" not in page.content.decode()


@pytest.mark.parametrize("weak", ["password123", "12345678901", "short"])
def test_weak_passwords_are_refused_on_reset(client, student, weak):
    link = _reset_link(client, student.email)
    response = _use_reset_link(client, link, password=weak)
    assert response.status_code == 200
    assert "new_password2" in response.content.decode()  # the form again, with the error
    assert not client.login(email=student.email, password=weak)


def test_check_deploy_is_clean_under_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    env.update(
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="a-production-secret-" + "x7Yq" * 12,
        FIELD_ENCRYPTION_KEYS="bGFudGVybi1kZXYtb25seS1ub3QtZm9yLXByb2QtMzI=",
        ALLOWED_HOSTS="lantern.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
