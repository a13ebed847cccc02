"""Sign-in backoff instead of a lockout (issue #13, finding 7): an account that failed too
often from one address waits there a short, growing window, told with 429 and Retry-After
on the API and on the web alike; a pupil sharing the school's address who does not know
the teacher's password cannot keep the teacher out beyond that short window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.conftest import API
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = f"{API}/auth/token"
SCHOOL_NAT = "203.0.113.50"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _api(email: str, password: str, address: str = SCHOOL_NAT):
    return APIClient().post(TOKEN, {"email": email, "password": password}, REMOTE_ADDR=address)


def _web(client, email: str, password: str, address: str = SCHOOL_NAT):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def _assert_locked_out(response, seconds: int) -> None:
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(seconds)
    body = response.json()
    assert body["error"]["code"] == "locked_out"
    assert f"Try again in {seconds} seconds" in body["error"]["message"]
    assert "access" not in body


def test_the_api_answers_a_backed_off_account_429_with_retry_after(settings, teacher) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            assert _api(teacher.email, "wrong-password").status_code == 401
        _assert_locked_out(_api(teacher.email, "wrong-password"), 30)
        clock.shift(10)
        # The right password waits too: the window is not an oracle for guesses.
        _assert_locked_out(_api(teacher.email, TEST_PASSWORD), 20)
        clock.shift(21)
        assert _api(teacher.email, TEST_PASSWORD).status_code == 200
        # A success clears the count: the next mistake is a plain 401 again.
        assert _api(teacher.email, "wrong-password").status_code == 401


def test_the_web_says_the_same_with_retry_after(client, settings, teacher) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            assert _web(client, teacher.email, "wrong-password").status_code == 200
        locked = _web(client, teacher.email, "wrong-password")
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "30"
        assert "Try again in 30 seconds" in locked.content.decode()
        clock.shift(5)
        again = _web(client, teacher.email, TEST_PASSWORD)
        assert again.status_code == 429 and again.headers["Retry-After"] == "25"
        assert "_auth_user_id" not in client.session
        clock.shift(26)
        assert _web(client, teacher.email, TEST_PASSWORD).status_code == 302


def test_a_pupil_at_the_shared_address_cannot_keep_the_teacher_out(client, teacher) -> None:
    with time_machine.travel(START - timedelta(days=1)):
        # The teacher signs in at school every day.
        assert _api(teacher.email, TEST_PASSWORD).status_code == 200
    with time_machine.travel(START, tick=False) as clock:
        # A pupil behind the school's NAT hammers the teacher's account on both doors.
        for attempt in range(20):
            _web(client, teacher.email, "guess")
            if attempt < 8:  # the API's per-address rate limit is another matter (docs)
                _api(teacher.email, "guess")
        # Elsewhere (the teacher's phone on mobile data) nothing is held up at all.
        assert _api(teacher.email, TEST_PASSWORD, address="198.51.100.7").status_code == 200
        # At the school, all those refused guesses did not lengthen the first short wait.
        _assert_locked_out(_api(teacher.email, TEST_PASSWORD), 30)
        clock.shift(31)
        assert _api(teacher.email, TEST_PASSWORD).status_code == 200
        assert _web(client, teacher.email, TEST_PASSWORD).status_code == 302


def test_each_failure_after_a_wait_doubles_the_next_up_to_the_cap(settings, teacher) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            _api(teacher.email, "guess")
        waits = []
        for _ in range(6):
            response = _api(teacher.email, "guess")
            assert response.status_code == 429
            waits.append(int(response.headers["Retry-After"]))
            clock.shift(waits[-1])
        assert waits == [30, 60, 120, 240, 300, 300]  # LOGIN_BACKOFF_MAX_SECONDS caps it
        # Whatever the guesser did, the teacher's right password works after the window.
        assert _api(teacher.email, TEST_PASSWORD).status_code == 200


def test_failures_are_forgotten_after_an_hour_of_quiet(settings, teacher) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            _api(teacher.email, "guess")
        clock.shift(61 * 60)
        assert _api(teacher.email, "guess").status_code == 401


def test_a_web_sign_in_does_not_fail_when_redis_is_unreachable(client, teacher, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    import base.api_throttles

    # Remembering the sign-in address (for the API's per-account limit) is best effort.
    dead = RedisCache("redis://127.0.0.1:1/0", {})
    monkeypatch.setattr(base.api_throttles, "api_cache", lambda: dead)
    assert _web(client, teacher.email, TEST_PASSWORD).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_web_and_the_api_answer_the_same_429(settings, teacher) -> None:
    # Production runs ASGI, where axes' middleware takes its async branch.
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    post = async_to_sync(AsyncClient().post)
    with time_machine.travel(START, tick=False):
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            response = post(reverse("login"), {"username": teacher.email, "password": "x"})
            assert response.status_code == 200
        locked = post(reverse("login"), {"username": teacher.email, "password": "x"})
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
        api = post(
            TOKEN,
            {"email": teacher.email, "password": TEST_PASSWORD},
            content_type="application/json",
        )
        _assert_locked_out(api, 30)
