"""A client generated from openapi/schema.yaml drives a student's mobile journey against the
live app: sign in, lessons, a session, ask, poll, stream (resumed with `last_event_id`),
history, refresh and sign out.

Every answer is parsed by the generated models with `raise_on_unexpected_status=True`, so
the test fails when the server and the committed schema disagree: an undocumented status,
a field missing or of another type, an enum value the schema does not list, a field or a
contract header (Location, ETag, Retry-After, Idempotent-Replayed) the schema does not
declare. The explanation is written by a real Celery worker through the fake OpenAI server.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api import generated_client as gen
from tests.factories import TEST_PASSWORD, published_lesson

pytestmark = pytest.mark.worker

REPLY = (
    "A fraction names equal parts of a whole: the denominator says how many equal parts "
    "the whole is cut into, and the numerator says how many of those parts you take. When "
    "the parts are the same size you add the numerators and keep the denominator."
)


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return gen.generate_client(tmp_path_factory.mktemp("generated"))


@pytest.fixture
def live_app(
    transactional_db: None, fake_llm: Any, celery_worker_thread: Any, tmp_path: Path
) -> Any:
    app = gen.LiveApp(fake_llm.base_url, tmp_path / "uvicorn.log")
    try:
        app.start()
        yield app
    finally:
        app.stop()


def _server_accepts_password(user: Any) -> None:
    # The test settings hash with MD5 for speed; the live app runs the real settings.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(TEST_PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


class Journey:
    """Calls one generated operation and checks what the generated models cannot."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def call(self, operation_id: str, expected: int, **kwargs: Any) -> Any:
        response = gen.operation(operation_id).sync_detailed(**kwargs)
        assert response.status_code == expected, (operation_id, response.content[:500])
        assert not gen.undeclared_headers(self.spec, operation_id, response), (
            operation_id,
            gen.undeclared_headers(self.spec, operation_id, response),
        )
        assert not gen.missing_headers(self.spec, operation_id, response), (
            operation_id,
            gen.missing_headers(self.spec, operation_id, response),
        )
        assert not gen.undeclared_fields(response.parsed), (
            operation_id,
            gen.undeclared_fields(response.parsed),
        )
        return response


def _stream(client: Any, models: Any, stop_after_delta: bool, **kwargs: Any) -> list[Any]:
    """The stream's events, each parsed by the generated model of its event type.

    The generated function would return the whole stream as one string once it closes;
    a mobile client reads it as it arrives, so the request the generated module builds
    (`_get_kwargs`) is sent through the generated client's own httpx client."""
    stream_op = gen.operation("explanation_stream_get")
    event_models = {
        "delta": models.StreamDelta,
        "status": models.StreamStatus,
        "reset": models.StreamReset,
        "done": models.StreamDone,
    }
    events: list[Any] = []
    request = stream_op._get_kwargs(**kwargs)
    with client.get_httpx_client().stream(**request) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
                continue
            if "event" in fields:
                parsed = event_models[fields["event"]].from_dict(json.loads(fields["data"]))
                assert not gen.undeclared_fields(parsed), fields
                events.append((fields.get("id"), fields["event"], parsed))
                if fields["event"] == "done" or (stop_after_delta and fields["event"] == "delta"):
                    break
            fields = {}
    return events


def test_a_generated_client_completes_the_mobile_journey(
    client_package, live_app, school, teacher, student, fake_llm
) -> None:
    models = gen.models()
    journey = Journey(gen.schema())
    lesson = published_lesson(school, teacher, [student])
    _server_accepts_password(student)
    # Slow enough that the answer is still being written when the stream is opened.
    fake_llm.set_default(reply=REPLY, chunk_delay=0.1)

    anonymous = client_package.Client(base_url=live_app.base_url, raise_on_unexpected_status=True)

    # Sign in.
    tokens = journey.call(
        "token_obtain_post",
        200,
        client=anonymous,
        body=models.TokenInputRequest(email=student.email, password=TEST_PASSWORD),
    ).parsed
    api = client_package.AuthenticatedClient(
        base_url=live_app.base_url, token=tokens.access, raise_on_unexpected_status=True
    )
    me = journey.call("me_get", 200, client=api).parsed
    slug = me.schools[0].slug
    assert slug == school.slug

    # Lessons.
    lessons = journey.call("lesson_list_get", 200, client=api, school_slug=slug).parsed
    assert [item.id for item in lessons.results] == [lesson.public_id]
    detail = journey.call(
        "lesson_detail_get", 200, client=api, school_slug=slug, lesson_id=lessons.results[0].id
    )
    assert detail.parsed.title == "Fractions" and detail.headers["ETag"]

    # A session, then a question (both with an Idempotency-Key).
    session = journey.call(
        "session_list_post",
        201,
        client=api,
        school_slug=slug,
        body=models.SessionStartRequest(lesson_id=lesson.public_id),
        idempotency_key=str(uuid.uuid4()),
    ).parsed
    ask_key = str(uuid.uuid4())
    asked = journey.call(
        "explanation_request_post",
        202,
        client=api,
        school_slug=slug,
        session_id=session.id,
        body=models.QuestionInputRequest(question="Why do we keep the denominator?"),
        idempotency_key=ask_key,
    )
    explanation = asked.parsed
    assert asked.headers["Location"].endswith(f"/explanations/{explanation.id}")
    assert explanation.status in (
        models.ExplanationStatusEnum.QUEUED,
        models.ExplanationStatusEnum.RUNNING,
    )

    # Poll once while it is being written.
    journey.call(
        "explanation_detail_get", 200, client=api, school_slug=slug, explanation_id=explanation.id
    )

    # Stream until the first piece of text, drop the connection, resume after it.
    first = _stream(api, models, True, school_slug=slug, explanation_id=explanation.id)
    received = "".join(data.text for _id, name, data in first if name == "delta")
    assert received, first
    rest = _stream(
        api,
        models,
        False,
        school_slug=slug,
        explanation_id=explanation.id,
        last_event_id_query=len(received),
    )
    done = rest[-1][2]
    assert rest[-1][1] == "done" and done.status == models.ExplanationStatusEnum.SUCCEEDED
    resumed = received + "".join(data.text for _id, name, data in rest if name == "delta")
    # Resumed while it was still being written; the ids go on from where the client
    # resumed (last_event_id was honoured).
    assert any(name == "delta" for _id, name, _data in rest), rest
    assert all(int(i) > len(received) for i, name, _data in rest if name == "delta")
    # Resuming sends nothing twice: what was streamed is the start of the whole answer.
    assert done.text == REPLY and REPLY.startswith(resumed)

    # Poll again: final. Retrying the question with its key replays it.
    final = journey.call(
        "explanation_detail_get", 200, client=api, school_slug=slug, explanation_id=explanation.id
    ).parsed
    assert final.status == models.ExplanationStatusEnum.SUCCEEDED and final.content == REPLY
    replay = journey.call(
        "explanation_request_post",
        202,
        client=api,
        school_slug=slug,
        session_id=session.id,
        body=models.QuestionInputRequest(question="Why do we keep the denominator?"),
        idempotency_key=ask_key,
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.parsed.id == explanation.id

    # History.
    history = journey.call(
        "session_detail_get", 200, client=api, school_slug=slug, session_id=session.id
    ).parsed
    assert [m.role for m in history.messages] == [
        models.MessageRoleEnum.STUDENT,
        models.MessageRoleEnum.TUTOR,
    ]
    sessions = journey.call(
        "session_list_get", 200, client=api, school_slug=slug, page_size=1
    ).parsed
    assert [s.id for s in sessions.results] == [session.id]

    # Refresh, then sign out; the old refresh token is refused in the envelope.
    refreshed = journey.call(
        "token_refresh_post",
        200,
        client=anonymous,
        body=models.RefreshInputRequest(refresh=tokens.refresh),
    ).parsed
    journey.call(
        "logout_post",
        204,
        client=anonymous,
        body=models.RefreshInputRequest(refresh=refreshed.refresh),
    )
    refused = journey.call(
        "token_refresh_post",
        401,
        client=anonymous,
        body=models.RefreshInputRequest(refresh=refreshed.refresh),
    ).parsed
    assert refused.error.code == models.ErrorCode.TOKEN_INVALID


def test_the_generated_client_is_refused_in_the_envelope_with_a_typed_code(
    client_package, live_app, school, student
) -> None:
    models = gen.models()
    journey = Journey(gen.schema())
    anonymous = client_package.Client(base_url=live_app.base_url, raise_on_unexpected_status=True)
    bad = journey.call(
        "token_obtain_post",
        401,
        client=anonymous,
        body=models.TokenInputRequest(email=student.email, password="wrong-password"),
    ).parsed
    assert bad.error.code == models.ErrorCode.INVALID_CREDENTIALS
    signed_out = journey.call("lesson_list_get", 401, client=anonymous, school_slug=school.slug)
    assert signed_out.parsed.error.code == models.ErrorCode.NOT_AUTHENTICATED
    assert signed_out.headers["WWW-Authenticate"]

    _server_accepts_password(student)
    tokens = journey.call(
        "token_obtain_post",
        200,
        client=anonymous,
        body=models.TokenInputRequest(email=student.email, password=TEST_PASSWORD),
    ).parsed
    api = client_package.AuthenticatedClient(
        base_url=live_app.base_url, token=tokens.access, raise_on_unexpected_status=True
    )
    # A filter naming nothing, and a page size out of range: 400 naming the parameter.
    unknown = journey.call(
        "lesson_list_get", 400, client=api, school_slug=school.slug, classroom=uuid.uuid4()
    ).parsed
    assert unknown.error.code == models.ErrorCode.INVALID_INPUT
    assert list(unknown.error.fields.additional_properties) == ["classroom"]
    too_big = journey.call(
        "session_list_get", 400, client=api, school_slug=school.slug, page_size=101
    ).parsed
    assert list(too_big.error.fields.additional_properties) == ["page_size"]
