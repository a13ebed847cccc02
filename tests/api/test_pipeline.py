"""Ask over the API, then watch the answer arrive: polling, and the Server-Sent Events
stream (resumable with Last-Event-ID). A real Celery worker and the fake OpenAI server."""

from __future__ import annotations

import json
import threading
import warnings

import pytest
from django.db import connection

from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.conftest import wait_for
from tests.factories import membership_of, published_lesson
from tutoring.live import channel as streaming
from tutoring.models import Explanation
from tutoring.services import explanations as explanation_services

TERMINAL = ("succeeded", "failed", "blocked")


def url(path: str) -> str:
    return school_url("riverside", path)


def sse_events(response) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of each event in a streamed response; comments skipped."""
    with warnings.catch_warnings():
        # The test client is synchronous: Django gathers the async stream, and says so.
        warnings.simplefilter("ignore")
        raw = b"".join(response).decode()
    events = []
    for block in raw.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "event" in fields:
            events.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return events


def _ask(client, lesson, question="Why do we keep the denominator?"):
    session = client.post(url("sessions"), {"lesson_id": str(lesson.public_id)}).json()
    return client.post(url(f"sessions/{session['id']}/questions"), {"question": question})


@pytest.mark.worker
def test_ask_then_poll_until_the_explanation_has_succeeded(
    school, teacher, student, fake_llm, celery_worker_thread
) -> None:
    lesson = published_lesson(school, teacher, [student])
    client = bearer_client(student)
    asked = _ask(client, lesson)
    assert asked.status_code == 202 and asked.json()["status"] == "queued"

    def finished():
        body = client.get(asked.headers["Location"]).json()
        return body if body["status"] in TERMINAL else None

    body = wait_for(finished, timeout=30)
    assert body["status"] == "succeeded"
    assert body["content"] == "A **fraction** is a part of a whole: $\\frac{1}{2}$ is one half."
    assert "<strong>fraction</strong>" in body["content_html"]
    assert '<span class="math inline">\\(\\frac{1}{2}\\)</span>' in body["content_html"]
    assert body["usage"]["total_tokens"] > 0
    assert body["finished_at"] and body["error"] is None


@pytest.mark.worker
def test_the_stream_carries_the_answer_to_the_end(
    school, teacher, student, fake_llm, celery_worker_thread
) -> None:
    fake_llm.set_default(reply="one two three four five six", chunk_delay=0.05)
    lesson = published_lesson(school, teacher, [student])
    client = bearer_client(student)
    asked = _ask(client, lesson).json()
    response = client.get(url(f"explanations/{asked['id']}/stream"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    assert events[-1][1] == "done"
    done = events[-1][2]
    assert done["status"] == "succeeded" and done["text"] == "one two three four five six"
    streamed = "".join(data["text"] for _id, name, data in events if name == "delta")
    # Whatever part arrived live adds up to a prefix of the answer, ids count characters.
    assert done["text"].startswith(streamed)
    ids = [int(event_id) for event_id, name, _data in events if name == "delta"]  # type: ignore[arg-type]  # deltas carry ids
    assert ids == sorted(ids) and (not ids or ids[-1] == len(streamed))


@pytest.mark.django_db(transaction=True)
def test_a_reconnect_with_last_event_id_resumes_where_it_stopped(school, teacher, student) -> None:
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = explanation_services.session_start(actor=actor, lesson=lesson)
        explanation = explanation_services.explanation_request(
            actor=actor, session=session, question="Why?"
        )
        Explanation.objects.filter(pk=explanation.pk).update(status=Explanation.Status.RUNNING)
    public_id = str(explanation.public_id)
    publisher = streaming.DeltaPublisher(public_id)
    publisher.delta("Hello ")  # what the worker had written before the client dropped

    def worker_finishes() -> None:
        client = streaming._client()
        assert client is not None  # the test settings configure Redis
        wait_for(lambda: client.pubsub_numsub(streaming.channel(public_id))[0][1])
        publisher.delta("world")
        with school_context(school):
            Explanation.objects.filter(pk=explanation.pk).update(
                status=Explanation.Status.SUCCEEDED, content="Hello world"
            )
        publisher.done("succeeded")
        connection.close()

    worker = threading.Thread(target=worker_finishes)
    worker.start()
    response = bearer_client(student).get(
        url(f"explanations/{public_id}/stream"), HTTP_LAST_EVENT_ID="3"
    )
    events = sse_events(response)
    worker.join(10)
    deltas = [(event_id, data["text"]) for event_id, name, data in events if name == "delta"]
    assert deltas == [("6", "lo "), ("11", "world")]
    assert events[-1][1] == "done" and events[-1][2]["text"] == "Hello world"


@pytest.mark.django_db
def test_a_finished_explanation_streams_its_stored_answer_at_once(world, student) -> None:
    response = bearer_client(student).get(url(f"explanations/{world.explanation.public_id}/stream"))
    events = sse_events(response)
    assert [name for _id, name, _data in events] == ["done"]
    assert events[0][2]["status"] == "succeeded"
    assert "<strong>size</strong>" in events[0][2]["html"]


@pytest.mark.django_db
def test_the_stream_refuses_a_bad_token_in_the_envelope(world) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nope")
    response = client.get(url(f"explanations/{world.explanation.public_id}/stream"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
