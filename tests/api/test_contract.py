"""The API's contract where the schema and the server used to disagree: strict input types,
one rule for unknown filter values, paging parameters, followable pages, the error-code
enum generated from the error classes, the Idempotency-Key pattern, 503 for an unreachable
backing service."""

from __future__ import annotations

import gc
import re

import pytest
from django.db import OperationalError

from base.api_headers import IDEMPOTENCY_KEY_MAX_LENGTH
from tests.api.conftest import API, bearer_client, school_url
from tests.factories import membership_of, published_lesson

pytestmark = pytest.mark.django_db


def _schema() -> dict:
    return bearer_client(None).get(f"{API}/schema/", {"format": "json"}).json()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("sessions", {"lesson_id": 0}, "lesson_id"),
        ("sessions", {"lesson_id": 1}, "lesson_id"),
    ],
)
def test_a_number_where_a_string_belongs_is_refused_not_coerced(
    school, teacher, student, path, body, field
) -> None:
    published_lesson(school, teacher, [student])
    response = bearer_client(student).post(school_url("riverside", path), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert field in response.json()["error"]["fields"]


def test_a_number_as_a_question_or_a_boolean_is_refused(school, teacher, student) -> None:
    lesson = published_lesson(school, teacher, [student])
    client = bearer_client(student)
    session = client.post(school_url("riverside", "sessions"), {"lesson_id": str(lesson.public_id)})
    asked = client.post(
        school_url("riverside", f"sessions/{session.json()['id']}/questions"), {"question": 0}
    )
    assert asked.status_code == 400 and "question" in asked.json()["error"]["fields"]
    profile = client.patch(school_url("riverside", "profile"), {"interests": 0}, format="json")
    assert profile.status_code == 400 and "interests" in profile.json()["error"]["fields"]


def _member(school, user):
    from accounts.tenancy import school_context

    with school_context(school):
        return membership_of(school, user)


def test_zero_is_not_false_in_a_json_body(school, school_admin, student) -> None:
    member = _member(school, student)
    response = bearer_client(school_admin).patch(
        school_url("riverside", f"admin/members/{member.public_id}"), {"is_active": 0}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"is_active": ["Send true or false."]}
    assert _member(school, student).is_active


def test_a_number_for_the_provider_base_url_is_refused_not_coerced(school, school_admin) -> None:
    response = bearer_client(school_admin).patch(
        school_url("riverside", "admin/provider"), {"llm_base_url": 0}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"llm_base_url": ["Send a string."]}


def test_a_number_for_a_refresh_token_is_refused_as_input(db) -> None:
    response = bearer_client(None).post(f"{API}/auth/token/refresh", {"refresh": 0})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"refresh": ["Send a string."]}


def test_signing_in_with_a_number_for_a_password_is_refused_as_input(student) -> None:
    response = bearer_client(None).post(
        f"{API}/auth/token", {"email": student.email, "password": 0}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


@pytest.mark.parametrize("value", ["null", "0", "-1", "abc", "101", ""])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_a_400(school, student, value) -> None:
    response = bearer_client(student).get(school_url("riverside", "lessons"), {"page_size": value})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["page_size"]


def test_a_page_that_does_not_parse_is_a_400_and_one_past_the_last_a_404(school, student) -> None:
    client = bearer_client(student)
    assert client.get(school_url("riverside", "lessons"), {"page": "x"}).status_code == 400
    assert client.get(school_url("riverside", "lessons"), {"page": "9"}).status_code == 404


def test_pages_carry_the_next_page_number_and_links_relative_to_the_request(
    school, teacher, student, settings
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    for title in ("One", "Two", "Three"):
        published_lesson(school, teacher, [student], title=title, class_name=title)
    client = bearer_client(student)
    first = client.get(
        school_url("riverside", "lessons"), {"page_size": 2}, HTTP_HOST="internal:8000"
    ).json()
    assert first["next_page"] == 2 and first["previous_page"] is None
    # Never built from the Host header (wrong behind a proxy): a path and a query.
    assert first["next"].startswith(f"{API}/schools/riverside/lessons?")
    assert "internal" not in first["next"]
    second = client.get(
        school_url("riverside", "lessons"), {"page_size": 2, "page": first["next_page"]}
    ).json()
    assert second["next_page"] is None and second["previous_page"] == 1
    assert len(second["results"]) == 1


@pytest.mark.parametrize(
    ("path", "parameter", "as_teacher"),
    [
        ("lessons", "classroom", False),
        ("sessions", "lesson", False),
        ("teaching/lessons", "classroom", True),
        ("teaching/transcripts", "lesson", True),
        ("teaching/transcripts", "student", True),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_the_parameter_on_every_list(
    school, teacher, student, path, parameter, as_teacher
) -> None:
    published_lesson(school, teacher, [student])
    client = bearer_client(teacher if as_teacher else student)
    response = client.get(
        school_url("riverside", path), {parameter: "7d1c5a52-3f0e-4b7e-9b3c-2f3d1f0a9e61"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert list(response.json()["error"]["fields"]) == [parameter]


def test_error_codes_in_the_schema_are_an_enum_generated_from_the_error_classes() -> None:
    from base.api_schema import error_codes
    from tutoring.errors import TutoringError

    class ExampleNewError(TutoringError):
        code = "example_new_error"
        status = 409

    assert "example_new_error" in error_codes()
    del ExampleNewError  # gone again, so the committed schema stays what the code generates
    gc.collect()
    assert "example_new_error" not in error_codes()
    schema = _schema()["components"]["schemas"]
    assert schema["ErrorDetail"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    enum = set(schema["ErrorCode"]["enum"])
    expected = {"budget_exhausted", "idempotency_key_reused", "already_member", "throttled"}
    assert expected | {"method_not_allowed", "service_unavailable", "token_invalid"} <= enum


def test_the_idempotency_key_in_the_schema_matches_the_servers_check(
    school, teacher, student
) -> None:
    lesson = published_lesson(school, teacher, [student])
    operation = _schema()["paths"][f"{API}/schools/{{school_slug}}/sessions"]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    pattern = header["schema"]["pattern"]
    assert header["schema"]["maxLength"] == IDEMPOTENCY_KEY_MAX_LENGTH
    client = bearer_client(student)
    body = {"lesson_id": str(lesson.public_id)}
    url = school_url("riverside", "sessions")
    for key in ("a" * 200, "a" * 201, "bad key", "ok.key:1-_", "é"):
        answer = client.post(url, body, HTTP_IDEMPOTENCY_KEY=key)
        assert (answer.status_code == 201) == bool(re.fullmatch(pattern, key)), key


def test_every_operation_declares_the_statuses_any_request_can_meet() -> None:
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            responses = set(operation["responses"])
            assert {"405", "503"} <= responses, (method, path)
            if method in ("post", "put", "patch"):
                assert {"413", "415"} <= responses, (method, path)
            for status in ("201", "202"):
                if status in responses and not path.endswith(("/attempts", "/students")):
                    assert "Location" in operation["responses"][status]["headers"], (method, path)


def test_an_unreachable_database_is_a_503_with_retry_after(school, student, monkeypatch) -> None:
    from tutoring.api import student_lessons as student_api

    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(student_api.selectors, "classroom_list_for_member", unreachable)
    response = bearer_client(student).get(school_url("riverside", "classes"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"].isdigit()


def test_the_student_export_is_typed_and_nothing_is_left_out(
    school, teacher, school_admin, student
) -> None:
    from accounts.tenancy import school_context
    from tutoring.safety import data_rights

    published_lesson(school, teacher, [student])
    member = _member(school, student)
    response = bearer_client(school_admin).post(
        school_url("riverside", f"admin/students/{member.public_id}/export")
    )
    assert response.status_code == 200
    with school_context(school):
        raw = data_rights.student_data_export(school=school, student=member, actor=None)
    body = response.json()
    raw.pop("exported_at"), body.pop("exported_at")
    assert body == raw
    operation = _schema()["paths"][
        f"{API}/schools/{{school_slug}}/admin/students/{{member_id}}/export"
    ]["post"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/StudentExport"


def test_a_resume_position_that_does_not_parse_is_a_400_on_the_stream(world, student) -> None:
    url = school_url("riverside", f"explanations/{world.explanation.public_id}/stream")
    response = bearer_client(student).get(url, {"last_event_id": "abc"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"last_event_id": ["Use a whole number from 0."]}
