"""Hostile request bodies and query strings on the API: a 4xx in the error envelope (413
`payload_too_large`, 400 `json_too_deep` / `invalid_encoding` / `parse_error`), never a 500,
and nothing written. tests/test_hostile_input.py feeds the same to every endpoint; these
pin the details (messages, the limits themselves, their settings)."""

from __future__ import annotations

import json

import pytest

from accounts.tenancy import school_context
from tests.api.conftest import API, World, bearer_client, school_url
from tests.api.test_envelope import envelope
from tests.factories import TEST_PASSWORD
from tutoring.models import Explanation, Lesson

pytestmark = pytest.mark.django_db


def post_raw(client, path: str, body: bytes):
    return client.generic("POST", path, body, content_type="application/json")


def nested(depth: int) -> bytes:
    """{"question": [[…["Why?"]…]]} with `depth` levels in all."""
    return b'{"question": ' + b"[" * (depth - 1) + b'"Why?"' + b"]" * (depth - 1) + b"}"


def questions(world: World) -> int:
    with school_context(world.school):
        return Explanation.objects.count()


def test_a_10_mb_body_on_sign_in_is_413_payload_too_large(db) -> None:
    body = json.dumps({"email": "a@b.test", "password": "x" * 10 * 1024 * 1024}).encode()
    response = post_raw(bearer_client(None), f"{API}/auth/token", body)
    assert response.status_code == 413
    error = envelope(response)
    assert error["code"] == "payload_too_large"
    assert error["message"] == (
        "The request body is too large: at most 1048576 bytes are accepted."
    )


def test_the_body_limit_is_a_setting(world: World, student, settings) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 100
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    response = bearer_client(student).post(path, {"question": "Why? " * 30})
    assert response.status_code == 413
    assert envelope(response)["code"] == "payload_too_large"
    assert questions(world) == 2


def test_djangos_own_body_limit_answers_413_in_the_envelope_too(world: World, student, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100  # below REQUEST_BODY_MAX_BYTES
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    response = bearer_client(student).post(path, {"question": "Why? " * 30})
    assert response.status_code == 413
    assert envelope(response)["code"] == "payload_too_large"


def test_json_nested_1000_deep_on_a_question_is_400_json_too_deep(world: World, student) -> None:
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    response = post_raw(bearer_client(student), path, b"[" * 1000 + b"]" * 1000)
    assert response.status_code == 400
    error = envelope(response)
    assert error["code"] == "json_too_deep"
    assert error["message"] == "The JSON is nested too deeply: at most 32 levels are accepted."
    assert questions(world) == 2


def test_json_nested_deep_and_unclosed_is_400_not_500(db) -> None:
    response = post_raw(bearer_client(None), f"{API}/auth/token", b'{"email": ' + b"[" * 5000)
    assert response.status_code == 400
    assert envelope(response)["code"] == "json_too_deep"


def test_json_at_the_depth_limit_passes_the_edge_and_one_more_level_does_not(
    world: World, student
) -> None:
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    client = bearer_client(student)
    at_limit = post_raw(client, path, nested(32))
    assert at_limit.status_code == 400
    assert envelope(at_limit)["code"] == "invalid_input"  # the serializer's answer
    assert envelope(post_raw(client, path, nested(33)))["code"] == "json_too_deep"


def test_the_depth_limit_is_a_setting(world: World, student, settings) -> None:
    settings.REQUEST_JSON_MAX_DEPTH = 2
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    response = post_raw(bearer_client(student), path, nested(3))
    assert envelope(response)["code"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_depth(world: World, student) -> None:
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    question = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\\" {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'
    response = bearer_client(student).post(path, {"question": question})
    assert response.status_code == 202
    assert questions(world) == 3


def test_a_nul_in_a_json_string_on_lesson_creation_is_400_invalid_encoding(
    world: World, teacher
) -> None:
    response = bearer_client(teacher).post(
        school_url("riverside", "teaching/lessons"),
        {"classroom_id": str(world.classroom.public_id), "title": "Frac\u0000tions"},
    )
    assert response.status_code == 400
    error = envelope(response)
    assert error["code"] == "invalid_encoding"
    assert error["message"] == "The request contains a NUL character, which is not allowed."
    with school_context(world.school):
        assert Lesson.objects.count() == 1


def test_a_nul_in_a_json_key_or_a_raw_nul_byte_is_refused_as_well(db) -> None:
    client = bearer_client(None)
    for body in (b'{"email\\u0000": "x"}', b'{"email": "a\x00b", "password": "x"}'):
        response = post_raw(client, f"{API}/auth/token", body)
        assert response.status_code == 400
        assert envelope(response)["code"] == "invalid_encoding"


def test_invalid_utf8_and_lone_surrogates_in_json_are_400_invalid_encoding(db) -> None:
    client = bearer_client(None)
    for body in (b'{"email": "\xff\xfe", "password": "x"}', b'{"email": "\\ud800"}'):
        response = post_raw(client, f"{API}/auth/token", body)
        assert response.status_code == 400
        error = envelope(response)
        assert error["code"] == "invalid_encoding"
        assert error["message"] == "The request body is not valid UTF-8 text."


def test_a_surrogate_pair_is_an_ordinary_character(world: World, student) -> None:
    path = school_url("riverside", f"sessions/{world.session.public_id}/questions")
    response = post_raw(bearer_client(student), path, b'{"question": "Why \\ud83d\\ude00?"}')
    assert response.status_code == 202
    assert questions(world) == 3


def test_sign_in_still_works_through_the_checked_parser(student) -> None:
    response = bearer_client(None).post(
        f"{API}/auth/token", {"email": student.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert {"access", "refresh"} <= set(response.json())


def test_a_nul_or_bad_utf8_in_the_query_is_400_invalid_encoding(world: World, teacher) -> None:
    client = bearer_client(teacher)
    for query, message in (
        ("q=a%00b", "The address contains a NUL character, which is not allowed."),
        ("lesson=%ff%fe", "The address contains characters that are not valid UTF-8 text."),
    ):
        response = client.get(school_url("riverside", f"teaching/transcripts?{query}"))
        assert response.status_code == 400
        error = envelope(response)
        assert (error["code"], error["message"]) == ("invalid_encoding", message)


def test_a_request_data_too_big_inside_a_view_maps_to_413() -> None:
    from django.core.exceptions import RequestDataTooBig

    from base.api_errors import api_exception_handler

    response = api_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["error"]["code"] == "payload_too_large"


def test_the_parser_checks_on_its_own_when_the_edge_did_not_run(db) -> None:
    """A request that did not pass the middleware (built by hand, as in a test or a
    management command) gets the same answers from DRF's parser."""
    from rest_framework.test import APIRequestFactory

    from accounts.api import TokenObtainApi

    factory = APIRequestFactory()
    view = TokenObtainApi.as_view()
    for body, code in (
        (b"[" * 1000 + b"]" * 1000, "json_too_deep"),
        (b'{"email": "a\\u0000b", "password": "x"}', "invalid_encoding"),
        (b'{"email": "\xff"}', "invalid_encoding"),
    ):
        request = factory.post(f"{API}/auth/token", body, content_type="application/json")
        response = view(request)
        assert response.status_code == 400
        assert response.data["error"]["code"] == code


def test_every_code_the_edge_answers_is_documented() -> None:
    from pathlib import Path

    from django.conf import settings

    from base.parsers import INPUT_ERRORS

    guide = Path(settings.BASE_DIR, "docs/api.md").read_text()
    for error in INPUT_ERRORS:
        assert f"| {error.status_code} | `{error.default_code}` |" in guide
