"""Answers that carry a secret are never stored by a browser or proxy cache: the provider
key shown once (API and web page) and the token pairs of signing in and refreshing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import API, World, bearer_client, school_url
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

KEY = "sk-test-Kd93jfQ0aZ71mWx4"


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_the_api_answer_that_shows_a_new_provider_key_is_not_stored(
    world: World, school_admin
) -> None:
    created = bearer_client(school_admin).post(
        school_url("riverside", "admin/provider-keys"), {"key": KEY, "label": "Main"}
    )
    assert created.status_code == 201 and created.json()["key"] == KEY
    assert _no_store(created)


def test_the_web_page_that_shows_a_new_provider_key_is_not_stored(client, school_admin) -> None:
    assert client.login(email=school_admin.email, password=TEST_PASSWORD)
    created = client.post(
        "/s/riverside/admin/keys/", {"label": "Main", "key": KEY, "activate": "on"}
    )
    assert created.status_code == 201 and KEY in created.content.decode()
    assert _no_store(created)


def test_token_pairs_from_signing_in_and_refreshing_are_not_stored(student) -> None:
    client = APIClient()
    signed_in = client.post(
        f"{API}/auth/token", {"email": student.email, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200 and signed_in.json()["access"]
    assert _no_store(signed_in)
    refreshed = client.post(f"{API}/auth/token/refresh", {"refresh": signed_in.json()["refresh"]})
    assert refreshed.status_code == 200 and refreshed.json()["refresh"]
    assert _no_store(refreshed)
