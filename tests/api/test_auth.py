"""Signing in with JWT, refresh rotation, signing out, and who am I."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import API, bearer_client, school_url
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(email: str, password: str = TEST_PASSWORD) -> dict:
    response = APIClient().post(f"{API}/auth/token", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def test_signing_in_gives_tokens_that_open_the_api(student) -> None:
    tokens = sign_in("alice@riverside.test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get(f"{API}/me")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@riverside.test"


def test_a_wrong_password_is_401_invalid_credentials(student) -> None:
    response = APIClient().post(
        f"{API}/auth/token", {"email": "alice@riverside.test", "password": "wrong"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_missing_credentials_are_invalid_input_per_field(db) -> None:
    response = APIClient().post(f"{API}/auth/token", {})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_refresh_rotates_and_the_old_refresh_token_stops_working(student) -> None:
    tokens = sign_in("alice@riverside.test")
    client = APIClient()
    rotated = client.post(f"{API}/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert rotated.json()["access"]

    reused = client.post(f"{API}/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_invalid"

    again = client.post(f"{API}/auth/token/refresh", {"refresh": rotated.json()["refresh"]})
    assert again.status_code == 200


def test_logout_blacklists_the_refresh_token(student) -> None:
    tokens = sign_in("alice@riverside.test")
    client = APIClient()
    assert client.post(f"{API}/auth/logout", {"refresh": tokens["refresh"]}).status_code == 204
    refreshed = client.post(f"{API}/auth/token/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "token_invalid"


def test_logout_with_a_garbage_token_is_401_token_invalid(db) -> None:
    response = APIClient().post(f"{API}/auth/logout", {"refresh": "garbage"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_an_access_token_is_not_a_refresh_token(student) -> None:
    tokens = sign_in("alice@riverside.test")
    response = APIClient().post(f"{API}/auth/token/refresh", {"refresh": tokens["access"]})
    assert response.status_code == 401


def test_a_bad_bearer_token_is_401_token_invalid_with_www_authenticate(school) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = client.get(school_url("riverside", "lessons"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_is_401_not_authenticated(school) -> None:
    response = APIClient().get(f"{API}/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_deactivated_user_cannot_use_their_token(student) -> None:
    client = bearer_client(student)
    student.is_active = False
    student.save()
    assert client.get(f"{API}/me").status_code == 401


def test_me_lists_every_school_and_my_role_in_it(both_schools_user) -> None:
    body = bearer_client(both_schools_user).get(f"{API}/me").json()
    assert body["email"] == "bea@both.test" and body["full_name"] == "Bea Both"
    assert [(s["slug"], s["role"], s["is_active"]) for s in body["schools"]] == [
        ("hilltop", "school_admin", True),
        ("riverside", "school_admin", True),
    ]


def test_a_session_cookie_also_works_for_the_docs_page(client, student) -> None:
    client.force_login(student)
    assert client.get(f"{API}/me").status_code == 200


def test_sign_in_is_throttled_per_address(student, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth": "3/min",
        },
    }
    client = APIClient()
    statuses = [
        client.post(
            f"{API}/auth/token", {"email": "alice@riverside.test", "password": "x"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
