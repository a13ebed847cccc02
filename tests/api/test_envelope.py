"""One error envelope for every kind of failure, and pagination that behaves."""

from __future__ import annotations

import pytest

from accounts.models import School
from tests.api.conftest import API, World, bearer_client, school_url

pytestmark = pytest.mark.django_db


def envelope(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def test_unreadable_json_is_400_parse_error(world: World, student) -> None:
    response = bearer_client(student).generic(
        "POST",
        school_url("riverside", f"sessions/{world.session.public_id}/questions"),
        "{not json",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert envelope(response)["code"] == "parse_error"


def test_a_form_post_is_415_unsupported_media_type(world: World, student) -> None:
    response = bearer_client(student).post(
        school_url("riverside", "sessions"), {"lesson_id": "x"}, format="multipart"
    )
    assert response.status_code == 415
    assert envelope(response)["code"] == "unsupported_media_type"


def test_a_wrong_method_is_405_method_not_allowed(world: World, student) -> None:
    response = bearer_client(student).delete(school_url("riverside", "lessons"))
    assert response.status_code == 405
    assert envelope(response)["code"] == "method_not_allowed"


def test_an_unknown_endpoint_is_404_in_the_envelope(db) -> None:
    response = bearer_client(None).get(f"{API}/no/such/thing")
    assert response.status_code == 404
    assert envelope(response)["code"] == "not_found"


def test_a_malformed_id_is_404(world: World, student) -> None:
    response = bearer_client(student).get(school_url("riverside", "lessons/not-a-uuid"))
    assert response.status_code == 404
    assert envelope(response)["code"] == "not_found"


def test_a_suspended_school_is_403_school_suspended(world: World, school, student) -> None:
    School.objects.filter(pk=school.pk).update(status=School.Status.SUSPENDED)
    response = bearer_client(student).get(school_url("riverside", "lessons"))
    assert response.status_code == 403
    assert envelope(response)["code"] == "school_suspended"


def test_validation_errors_name_each_field(world: World, school_admin) -> None:
    response = bearer_client(school_admin).post(
        school_url("riverside", "admin/invitations"), {"email": "nope", "role": "wizard"}
    )
    assert response.status_code == 400
    error = envelope(response)
    assert error["code"] == "invalid_input"
    assert error["fields"] == {
        "email": ["Enter a valid email address."],
        "role": ['"wizard" is not a valid choice.'],
    }


def test_a_crash_answers_500_in_the_envelope_and_writes_nothing(
    world: World, school, student, monkeypatch
) -> None:
    from accounts.tenancy import school_context
    from tutoring.models import TutoringSession
    from tutoring.services import explanations

    original = explanations.session_start

    def start_then_crash(**kwargs):
        original(**kwargs)
        raise ZeroDivisionError("a bug after the write")

    monkeypatch.setattr(explanations, "session_start", start_then_crash)
    response = bearer_client(student).post(
        school_url("riverside", "sessions"), {"lesson_id": str(world.lesson.public_id)}
    )
    assert response.status_code == 500
    assert envelope(response)["code"] == "server_error"
    assert "ZeroDivision" not in response.content.decode()
    with school_context(school):
        assert TutoringSession.objects.count() == 1  # the world's own; the new one rolled back


def test_pages_have_count_next_and_previous_in_a_stable_order(
    world: World, school, teacher, student
) -> None:
    from tests.factories import published_lesson

    for i in range(4):
        published_lesson(school, teacher, [student], class_name=f"C{i}", title=f"L{i}")
    client = bearer_client(student)
    first = client.get(school_url("riverside", "lessons"), {"page_size": 2}).json()
    assert first["count"] == 5 and first["previous"] is None
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None and second["previous"]
    titles = [lesson["title"] for page in (first, second, third) for lesson in page["results"]]
    assert titles == ["Fractions", "L0", "L1", "L2", "L3"]


def test_a_page_past_the_end_is_404(world: World, student) -> None:
    response = bearer_client(student).get(school_url("riverside", "lessons"), {"page": 9})
    assert response.status_code == 404
    assert envelope(response)["code"] == "not_found"
