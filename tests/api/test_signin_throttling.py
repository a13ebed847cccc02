"""Sign-in throttles key on the trusted client address and on the account (issue #13,
finding 3): a new X-Forwarded-For per request is not a new bucket, and neither many
accounts from one address nor one account from many addresses is unthrottled."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import API
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = f"{API}/auth/token"


def _token(email: str, password: str = "wrong-password", **meta: Any):
    return APIClient().post(TOKEN, {"email": email, "password": password}, **meta)


def test_spraying_with_a_new_x_forwarded_for_each_time_is_throttled_per_address(db) -> None:
    # No trusted proxy (the default): the header is the client's own words and is ignored.
    responses = [
        _token(f"pupil{i}@riverside.test", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        for i in range(40)
    ]
    statuses = [r.status_code for r in responses]
    assert statuses == [401] * 20 + [429] * 20  # API_THROTTLE_AUTH: 20/min
    throttled = responses[-1]
    assert throttled.json()["error"]["code"] == "throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60


def test_behind_one_trusted_proxy_the_rightmost_untrusted_address_is_the_key(settings) -> None:
    settings.TRUSTED_PROXIES = "1"
    # The load balancer (10.0.0.1) appends the address it saw; whatever the client wrote
    # to the left of it changes nothing.
    statuses = [
        _token(
            f"pupil{i}@riverside.test",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.7",
        ).status_code
        for i in range(21)
    ]
    assert statuses == [401] * 20 + [429]
    # Another client behind the same balancer has its own budget.
    other = _token(
        "pupil99@riverside.test", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert other.status_code == 401


def test_spraying_one_account_from_many_addresses_is_limited_per_account(student) -> None:
    responses = [_token(student.email, REMOTE_ADDR=f"203.0.113.{i}") for i in range(40)]
    statuses = [r.status_code for r in responses]
    assert statuses == [401] * 10 + [429] * 30  # API_THROTTLE_AUTH_ACCOUNT: 10/min
    assert responses[-1].json()["error"]["code"] == "throttled"
    assert "Retry-After" in responses[-1].headers
    # The e-mail's case and spaces do not make a new account to count.
    assert _token(" ALICE@riverside.test ", REMOTE_ADDR="203.0.113.200").status_code == 429


def test_the_account_limit_spares_an_address_the_account_signed_in_from(student) -> None:
    home = "192.0.2.10"
    assert _token(student.email, TEST_PASSWORD, REMOTE_ADDR=home).status_code == 200
    for i in range(15):
        _token(student.email, REMOTE_ADDR=f"203.0.113.{i}")
    assert _token(student.email, TEST_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429
    # The attacker spent the account's budget; the person at their usual address is not
    # stopped by it.
    assert _token(student.email, TEST_PASSWORD, REMOTE_ADDR=home).status_code == 200


def test_a_body_that_is_not_an_object_is_invalid_input_not_a_crash(db) -> None:
    response = APIClient().post(TOKEN, [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def _api_views(patterns, found=None):
    from django.urls import URLPattern

    found = [] if found is None else found
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None:
                found.append(view)
        else:
            _api_views(pattern.url_patterns, found)
    return found


def test_every_api_throttle_reads_the_client_address_through_the_one_rule() -> None:
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    from base.api_throttles import _SettingsRateThrottle

    assert not api_settings.DEFAULT_THROTTLE_CLASSES
    throttles = {
        t for view in _api_views(get_resolver().url_patterns) for t in view.throttle_classes
    }
    assert throttles, "no throttled endpoint found: the walk is broken"
    # DRF's own get_ident trusts X-Forwarded-For; ours asks base/client_address.py.
    assert all(t.get_ident is _SettingsRateThrottle.get_ident for t in throttles), throttles


def test_a_sign_in_sprayer_at_the_shared_address_does_not_stop_refreshes_there(student) -> None:
    tablet = _token(student.email, TEST_PASSWORD).json()
    statuses = [_token(f"pupil{i}@riverside.test").status_code for i in range(25)]
    assert statuses[-1] == 429  # sign-ins from this address are throttled now
    refreshed = APIClient().post(f"{API}/auth/token/refresh", {"refresh": tablet["refresh"]})
    assert refreshed.status_code == 200  # the school's devices still refresh
