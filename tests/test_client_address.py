"""One rule for a request's client address (base/client_address.py), and the logs and the
audit trail show the address it gives."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.test import APIClient

from base.client_address import client_address, parse_trusted_proxies
from tests.factories import TEST_PASSWORD


def _address(trusted: str, forwarded: str | None, remote: str = "10.0.0.1", settings=None):
    settings.TRUSTED_PROXIES = trusted
    meta: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        ("", "203.0.113.7", "10.0.0.1"),  # no trusted proxy: the header is ignored
        ("1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # spoofed leftmost entry ignored
        ("1", None, "10.0.0.1"),  # the request skipped the proxy: its own address
        ("2", "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        ("3", "203.0.113.7, 10.0.0.2", "203.0.113.7"),  # fewer hops than proxies
        ("10.0.0.0/8", "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        ("10.0.0.0/8", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all trusted: the leftmost
        ("1", "not-an-ip", "10.0.0.1"),  # garbage never becomes a key
        ("10.0.0.0/8", "203.0.113.7, unknown", "10.0.0.1"),
        ("1", "[2001:db8::5]:443", "2001:db8::5"),
        ("1", "203.0.113.7:51234", "203.0.113.7"),
    ],
)
def test_the_client_is_the_first_hop_the_trusted_proxies_did_not_write(
    settings, trusted, forwarded, expected
) -> None:
    assert _address(trusted, forwarded, settings=settings) == expected


def test_a_direct_client_behind_cidr_trust_cannot_claim_another_address(settings) -> None:
    # 198.51.100.9 is not one of our proxies, so what it says about others is ignored.
    got = _address("10.0.0.0/8", "203.0.113.7", remote="198.51.100.9", settings=settings)
    assert got == "198.51.100.9"


def test_behind_a_proxy_on_a_unix_socket_the_count_form_still_finds_the_client(settings):
    # uvicorn on a unix socket has no peer address: the proxy is the peer.
    assert _address("1", "6.6.6.6, 203.0.113.7", remote="", settings=settings) == "203.0.113.7"
    assert _address("", "203.0.113.7", remote="", settings=settings) == "0.0.0.0"


def test_an_ipv4_mapped_remote_address_is_the_plain_ipv4_one(settings) -> None:
    assert _address("", None, remote="::ffff:192.0.2.1", settings=settings) == "192.0.2.1"


@pytest.mark.parametrize("raw", ["one", "10.0.0.0/33", "1, 10.0.0.0/8x"])
def test_a_malformed_trusted_proxies_setting_stops_start_up_naming_it(raw) -> None:
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(raw)


def test_the_request_log_shows_the_trusted_client_address(client, settings, caplog) -> None:
    settings.TRUSTED_PROXIES = "1"
    with caplog.at_level(logging.INFO, logger="lantern.request"):
        client.get("/healthz", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    lines = [r.getMessage() for r in caplog.records if r.name == "lantern.request"]
    assert lines and lines[-1].startswith("GET /healthz 200 ")
    assert lines[-1].endswith("client=203.0.113.9")
    assert "6.6.6.6" not in lines[-1] and "10.0.0.1" not in lines[-1]


def test_the_request_log_names_the_route_not_the_path_with_its_token(client, caplog, db) -> None:
    with caplog.at_level(logging.INFO, logger="lantern.request"):
        client.get("/accounts/reset/MQ/secret-reset-token-123/")
    lines = [r.getMessage() for r in caplog.records if r.name == "lantern.request"]
    assert lines and lines[-1].startswith("GET /accounts/reset/<uidb64>/<token>/ ")
    assert "secret-reset-token-123" not in lines[-1]


@pytest.mark.django_db
def test_a_failed_sign_in_is_logged_with_the_trusted_address_and_no_email(
    settings, student, caplog
) -> None:
    settings.TRUSTED_PROXIES = "1"
    with caplog.at_level(logging.WARNING, logger="axes"):
        APIClient().post(
            "/api/v1/auth/token",
            {"email": student.email, "password": "wrong-password"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        )
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("axes"))
    assert "203.0.113.9" in text
    assert student.email not in text and "6.6.6.6" not in text


@pytest.mark.django_db
def test_the_audit_trail_records_the_trusted_client_address(settings, school, student) -> None:
    from accounts.audit import AuditEvent
    from accounts.tenancy import school_context

    settings.TRUSTED_PROXIES = "10.0.0.0/8"
    response = APIClient().post(
        "/api/v1/auth/token",
        {"email": student.email, "password": TEST_PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.2",
    )
    assert response.status_code == 200
    with school_context(school):
        event = AuditEvent.objects.filter(actor=student).latest("created_at")
    assert event.ip_address == "203.0.113.9"
