"""What the request log says about refused and failed requests: a 403 is one line (who was
refused where is all an operator needs), a 500 keeps its traceback (someone must fix it)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _request_log(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def _formatted(record: logging.LogRecord) -> str:
    """The record as the configured console handler writes it."""
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    return console.format(record)


def test_a_forbidden_page_is_logged_as_one_line_without_a_traceback(client, student, caplog):
    assert client.login(email=student.email, password=TEST_PASSWORD)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/s/riverside/admin/members/").status_code == 403
    [record] = _request_log(caplog)
    assert record.levelno == logging.WARNING and record.status_code == 403
    assert record.exc_info is None
    line = _formatted(record)
    assert "Forbidden" in line and "/s/riverside/admin/members/" in line
    assert "\n" not in line and "Traceback" not in line


def test_a_server_error_is_still_logged_with_its_traceback(student, caplog, monkeypatch):
    from accounts import views

    def broken(**kwargs):
        raise RuntimeError("the school picker broke")

    monkeypatch.setattr(views, "membership_list_for_user", broken)
    client = Client(raise_request_exception=False)
    assert client.login(email=student.email, password=TEST_PASSWORD)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/").status_code == 500
    [record] = _request_log(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Traceback" in _formatted(record) and "the school picker broke" in _formatted(record)
