"""Every URL that takes a school or an object answers 404 to anyone outside that school.

The URL list is not written by hand: the test walks the URL configuration, so a new page or
endpoint is covered the day it is added. Ids are real objects of the victim school.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Invitation, Membership
from accounts.services import invitation_create
from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD, membership_of, published_lesson
from tutoring.models import ClassroomMember, Exercise, ProviderKey, TutoringSession
from tutoring.models.safety import ReviewItem
from tutoring.services import explanations as explanation_services
from tutoring.services import generation
from tutoring.services.keys import provider_key_create
from tutoring.services.lessons import exercise_attempt_submit

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


SCHOOL_ROUTES = sorted({r for r in _routes(get_resolver()) if "<slug:school_slug>" in r})


@pytest.fixture
def victim_ids(school, teacher, student, school_admin, settings):
    """One real object of `school` for every id a URL can take."""
    settings.LLM_PROVIDER = "offline"
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        pupil = membership_of(school, student)
        exercise = Exercise.objects.get(lesson=lesson)
        attempt = exercise_attempt_submit(actor=pupil, exercise=exercise, answer="3/10")
        session = explanation_services.session_start(actor=pupil, lesson=lesson)
        # The local rules flag this (violence): a review item for the queue.
        explanation = explanation_services.explanation_request(
            actor=pupil, session=session, question="I will kill this homework, how do I add?"
        )
        admin = membership_of(school, school_admin)
        invitation_create(actor=admin, email="new@riverside.test", role="teacher")
        provider_key_create(actor=admin, secret="sk-test-" + "5" * 24)
    generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    with school_context(school):
        return {
            "classroom_id": lesson.classroom.public_id,
            "lesson_id": lesson.public_id,
            "exercise_id": exercise.public_id,
            "attempt_id": attempt.public_id,
            "session_id": TutoringSession.objects.get(pk=session.pk).public_id,
            "explanation_id": explanation.public_id,
            "member_id": Membership.objects.get(user=student).public_id,
            "enrolment_id": ClassroomMember.objects.get(user=student).public_id,
            "invitation_id": Invitation.objects.get().public_id,
            "key_id": ProviderKey.objects.get().public_id,
            "item_id": ReviewItem.objects.get().public_id,
            "number": 1,
            "action": "revoke",
            "token": "not-a-token",
        }


def _url(route: str, slug: str, ids: dict) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        return slug if name == "school_slug" else str(ids[name])

    return "/" + PARAM.sub(fill, route)


def _outsider_clients(client, outsider):
    """The outsider signed in both ways: a session (web) and a bearer token (API)."""
    from rest_framework.test import APIClient

    client.login(email=outsider.email, password=TEST_PASSWORD)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(outsider).access_token}")
    return client, api


def _statuses(clients, url: str) -> set[int]:
    web, api = clients
    http = api if url.startswith("/api/") else web
    return {http.get(url).status_code, http.post(url, {}).status_code}


@pytest.mark.django_db
def test_every_school_url_is_covered():
    assert len(SCHOOL_ROUTES) > 60  # the walk found the web pages and the API


@pytest.mark.django_db(transaction=True)
def test_an_outsider_gets_404_on_every_url_of_another_school(
    client, outsider, other_school, victim_ids
):
    clients = _outsider_clients(client, outsider)
    leaks = {}
    for route in SCHOOL_ROUTES:
        if "invitations/<str:token>" in route:
            continue  # public: the token is the credential (tested in test_invitations)
        url = _url(route, "riverside", victim_ids)
        statuses = _statuses(clients, url) - {404, 405}
        if statuses:
            leaks[url] = statuses
    assert leaks == {}


@pytest.mark.django_db(transaction=True)
def test_another_schools_ids_under_your_own_school_look_like_missing_ids(
    client, outsider, other_school, victim_ids
):
    """Inside their own school the outsider may reach every page; another school's object
    ids must then answer exactly as ids that exist nowhere (404, or the same 400 when the
    empty body is refused before the lookup), never with the object."""
    import uuid

    clients = _outsider_clients(client, outsider)
    missing_ids = {
        name: (uuid.uuid4() if name.endswith("_id") else value)
        for name, value in victim_ids.items()
    }
    leaks = {}
    for route in SCHOOL_ROUTES:
        if not re.search(r"<uuid:\w+>", route):
            continue
        foreign = _statuses(clients, _url(route, "hilltop", victim_ids))
        missing = _statuses(clients, _url(route, "hilltop", missing_ids))
        if foreign != missing or foreign - {400, 404, 405}:
            leaks[route] = (foreign, missing)
    assert leaks == {}


@pytest.mark.django_db(transaction=True)
def test_a_missing_school_looks_exactly_like_a_foreign_one(client, outsider, victim_ids):
    clients = _outsider_clients(client, outsider)
    for route in SCHOOL_ROUTES[:20]:
        if "invitations/<str:token>" in route:
            continue
        assert _statuses(clients, _url(route, "no-such-school", victim_ids)) <= {404, 405}
