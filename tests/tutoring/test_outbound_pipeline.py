"""Issue #13 through the whole pipeline: a student asks over the API, a real Celery worker
answers, and the school admin's own server (a second fake, which logs every request's
Authorization header) sees only what it may."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.conftest import wait_for
from tests.factories import membership_of, published_lesson
from tests.fakes.dns import ScriptedResolver
from tests.fakes.openai_server import FakeOpenAI
from tutoring.services import keys as key_services
from tutoring.services.budgets import school_settings_get
from tutoring.services.school_admin import school_settings_update

SCHOOL_KEY = "sk-test-school-own-key-0123456789"


@pytest.fixture
def admins_server() -> Iterator[FakeOpenAI]:
    """A server the school admin controls, on 127.0.0.1 like the platform's fake."""
    with FakeOpenAI(reply="From the school's own server.") as fake:
        yield fake


@pytest.fixture
def private_network_allowed(settings, admins_server: FakeOpenAI) -> None:
    """The operator allows 127.0.0.1 (over http) as a self-hosted model network."""
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]


def _set_base_url(school, url: str) -> None:
    """Writes the row as a school whose setting predates the rule would have it."""
    with school_context(school):
        row = school_settings_get(school)
        row.llm_base_url = url
        row.save(update_fields=["llm_base_url"])


def _add_school_key(school, admin) -> None:
    with school_context(school):
        key_services.provider_key_create(
            actor=membership_of(school, admin), secret=SCHOOL_KEY, label="Own", activate=True
        )


def _ask_and_wait(student, lesson) -> dict:
    client = bearer_client(student)
    url = school_url("riverside", "sessions")
    session = client.post(url, {"lesson_id": str(lesson.public_id)}).json()
    asked = client.post(
        school_url("riverside", f"sessions/{session['id']}/questions"), {"question": "Why?"}
    )
    assert asked.status_code == 202

    def finished():
        body = client.get(asked.headers["Location"]).json()
        return body if body["status"] in ("succeeded", "failed", "blocked") else None

    return wait_for(finished, timeout=30)


def _authorizations(fake: FakeOpenAI) -> list[str]:
    return [r["headers"].get("authorization", "") for r in fake.requests]


@pytest.mark.worker
def test_the_platform_key_never_goes_to_a_server_the_school_chose(
    school,
    teacher,
    student,
    fake_llm,
    settings,
    admins_server,
    private_network_allowed,
    celery_worker_thread,
) -> None:
    # The address itself is allowed (allow-listed): only the key rule stands in the way.
    _set_base_url(school, admins_server.base_url)
    lesson = published_lesson(school, teacher, [student])
    body = _ask_and_wait(student, lesson)
    assert admins_server.requests == []
    assert not any(settings.OPENAI_API_KEY in h for h in _authorizations(admins_server))
    assert fake_llm.chat_requests() == []  # nor is the question quietly sent elsewhere
    assert body["status"] == "failed"
    assert body["error"]["code"] == "own_key_required"
    assert "school's own API key" in body["error"]["message"]
    assert settings.OPENAI_API_KEY not in str(body)


@pytest.mark.worker
def test_a_school_with_its_own_key_uses_its_own_allow_listed_server(
    school,
    teacher,
    student,
    school_admin,
    fake_llm,
    settings,
    admins_server,
    private_network_allowed,
    celery_worker_thread,
) -> None:
    _add_school_key(school, school_admin)
    with school_context(school):
        school_settings_update(
            actor=membership_of(school, school_admin), llm_base_url=admins_server.base_url
        )
    lesson = published_lesson(school, teacher, [student])
    body = _ask_and_wait(student, lesson)
    assert body["status"] == "succeeded"
    assert body["content"] == "From the school's own server."
    assert admins_server.chat_requests() and admins_server.moderation_requests()
    assert set(_authorizations(admins_server)) == {f"Bearer {SCHOOL_KEY}"}
    assert fake_llm.requests == []


@pytest.mark.worker
def test_a_school_url_that_later_resolves_to_loopback_fails_with_the_generic_code(
    school,
    teacher,
    student,
    school_admin,
    fake_llm,
    settings,
    admins_server,
    monkeypatch,
    celery_worker_thread,
) -> None:
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWED_PORTS = [443, admins_server.port]
    resolver = ScriptedResolver.install(monkeypatch)
    resolver.script("llm.school.example", "93.184.216.34", "127.0.0.1")
    _add_school_key(school, school_admin)
    with school_context(school):
        school_settings_update(
            actor=membership_of(school, school_admin),
            llm_base_url=f"http://llm.school.example:{admins_server.port}/v1",
        )
    lesson = published_lesson(school, teacher, [student])
    body = _ask_and_wait(student, lesson)
    assert admins_server.requests == []
    assert body["status"] == "failed"
    assert body["error"]["code"] == "provider_address_refused"
    assert "school administrator" in body["error"]["message"]
    assert "127.0.0.1" not in body["error"]["message"]
