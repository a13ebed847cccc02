"""Hostile input on the web pages: the site's own 400 or 413 page, never a 500, nothing
written. tests/test_hostile_input.py feeds the same to every page; these pin what a
person sees."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD, published_lesson
from tutoring.models import Lesson

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


def page(response) -> str:
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert 'class="site-header"' in text  # the site's own look, not Django's bare page
    return text


def lessons(school) -> int:
    with school_context(school):
        return Lesson.objects.count()


def test_a_nul_in_the_history_search_is_the_sites_400_page(client, school, teacher, student):
    published_lesson(school, teacher, [student])
    response = login(client, student).get("/s/riverside/history/?q=a%00b")
    assert response.status_code == 400
    text = page(response)
    assert "Bad request" in text
    assert "The address contains a NUL character, which is not allowed." in text
    assert student.display_name in text  # still signed in: the usual navigation


def test_a_nul_in_the_admin_data_search_is_400_not_500(client, school_admin):
    response = login(client, school_admin).get("/s/riverside/admin/data/?q=a%00b")
    assert response.status_code == 400
    page(response)


def test_invalid_utf8_in_a_query_is_400(client, school_admin):
    response = login(client, school_admin).get("/s/riverside/admin/data/?q=%ff%fe")
    assert response.status_code == 400
    assert "not valid UTF-8" in page(response)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_nul_in_the_query_is_the_same_400(async_client, school_admin):
    # Production runs ASGI; the query string then comes from the scope, not from META.
    from asgiref.sync import async_to_sync

    async_to_sync(async_client.aforce_login)(school_admin)
    response = async_to_sync(async_client.get)("/s/riverside/admin/data/?q=a%00b")
    assert response.status_code == 400
    page(response)


def test_a_nul_in_a_lesson_form_is_400_and_creates_nothing(client, school, teacher, student):
    published_lesson(school, teacher, [student])
    response = login(client, teacher).post(
        "/s/riverside/teach/lessons/new/",
        "title=Frac%00tions&material=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "The request contains a NUL character, which is not allowed." in page(response)
    assert lessons(school) == 1


def test_invalid_utf8_in_a_form_is_400_and_creates_nothing(client, school, teacher, student):
    published_lesson(school, teacher, [student])
    response = login(client, teacher).post(
        "/s/riverside/teach/lessons/new/",
        b"title=Frac\xfftions&material=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "The request body is not valid UTF-8 text." in page(response)
    assert lessons(school) == 1


def test_a_form_over_the_limit_is_the_sites_413_page(client, teacher, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    response = login(client, teacher).post("/s/riverside/teach/lessons/new/", {"title": "x" * 2000})
    assert response.status_code == 413
    text = page(response)
    assert "Request too large" in text
    assert "at most 1000 bytes" in text


@pytest.mark.parametrize("debug", [False, True])
def test_djangos_own_form_limit_is_the_same_413_page(client, teacher, settings, debug):
    settings.DEBUG = debug  # DEBUG would show Django's technical page for the exception
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # below REQUEST_BODY_MAX_BYTES
    response = login(client, teacher).post("/s/riverside/teach/lessons/new/", {"title": "x" * 2000})
    assert response.status_code == 413
    assert "Request too large" in page(response)


def test_too_many_form_fields_is_the_sites_400_page(client, teacher, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    data = "&".join(f"f{i}=x" for i in range(50))
    response = login(client, teacher).post(
        "/s/riverside/teach/lessons/new/", data, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "This request could not be understood." in page(response)


def test_a_nul_in_the_address_itself_is_400(client, student):
    response = login(client, student).get("/s/riverside/invitations/abc%00def/")
    assert response.status_code == 400
    page(response)


def test_a_multipart_form_with_a_nul_is_refused_at_the_edge(client, teacher):
    response = login(client, teacher).post(
        "/s/riverside/teach/lessons/new/", {"title": "Frac\x00tions"}
    )
    assert response.status_code == 400
    assert "The request contains a NUL character, which is not allowed." in page(response)


def test_the_refusal_is_in_the_readers_language(client, student):
    login(client, student)
    with translation.override("zh-hans"):
        response = client.get("/s/riverside/history/?q=a%00b", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "请求" in page(response)
