"""Idempotency-Key replays and conflicts; throttles with Retry-After."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.tenancy import school_context
from base.api_throttles import api_cache
from tests.api.conftest import World, bearer_client, school_url
from tutoring.models import Explanation, Message, ProviderKey, TutoringSession

pytestmark = pytest.mark.django_db


def url(path: str) -> str:
    return school_url("riverside", path)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run each request's on-commit work (the idempotency record is written on commit)."""

    def post(client, path, body, **headers):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, body, format="json", **headers)

    return post


def test_a_retried_question_is_answered_once_and_replayed(
    world: World, school, student, committed
) -> None:
    client = bearer_client(student)
    path = url(f"sessions/{world.session.public_id}/questions")
    body = {"question": "What is a numerator?"}
    first = committed(client, path, body, HTTP_IDEMPOTENCY_KEY="q-1")
    again = committed(client, path, body, HTTP_IDEMPOTENCY_KEY="q-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    with school_context(school):
        assert Explanation.objects.filter(question="What is a numerator?").count() == 1
        assert Message.objects.filter(content="What is a numerator?").count() == 1


def test_the_same_key_with_another_body_is_409_idempotency_key_reused(
    world: World, school, student, committed
) -> None:
    client = bearer_client(student)
    path = url(f"sessions/{world.session.public_id}/questions")
    committed(client, path, {"question": "First?"}, HTTP_IDEMPOTENCY_KEY="k")
    reused = committed(client, path, {"question": "Second?"}, HTTP_IDEMPOTENCY_KEY="k")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    with school_context(school):
        assert not Explanation.objects.filter(question="Second?").exists()


def test_the_same_key_on_another_endpoint_is_also_a_conflict(
    world: World, student, committed
) -> None:
    client = bearer_client(student)
    committed(
        client,
        url("sessions"),
        {"lesson_id": str(world.lesson.public_id)},
        HTTP_IDEMPOTENCY_KEY="k",
    )
    other = committed(
        client,
        url(f"sessions/{world.session.public_id}/questions"),
        {"lesson_id": str(world.lesson.public_id)},
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert other.status_code == 409


def test_keys_belong_to_one_user(world: World, school, student, other_student, committed) -> None:
    from tests.factories import membership_of
    from tutoring.services import lessons as lesson_services

    with school_context(school):
        lesson_services.classroom_enroll(
            actor=membership_of(school, world.lesson.created_by),
            classroom=world.classroom,
            user=other_student,
        )
    body = {"lesson_id": str(world.lesson.public_id)}
    mine = committed(bearer_client(student), url("sessions"), body, HTTP_IDEMPOTENCY_KEY="same")
    theirs = committed(
        bearer_client(other_student), url("sessions"), body, HTTP_IDEMPOTENCY_KEY="same"
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_failed_request_is_not_recorded_so_a_retry_runs_again(
    world: World, school, student, committed
) -> None:
    from tutoring.services.budgets import school_settings_get

    with school_context(school):
        row = school_settings_get(school)
        row.student_daily_token_budget = 0
        row.save()
    client = bearer_client(student)
    path = url(f"sessions/{world.session.public_id}/questions")
    refused = committed(client, path, {"question": "Why?"}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 429
    with school_context(school):
        row.student_daily_token_budget = 20_000
        row.save()
    accepted = committed(client, path, {"question": "Why?"}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert accepted.status_code == 202
    assert "Idempotent-Replayed" not in accepted.headers


def test_a_retry_while_the_first_request_runs_is_told_to_wait(
    world: World, student, committed, settings
) -> None:
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 0.1
    # The first request holds the lock (it is still running in another process).
    api_cache().add(f"idem-lock:{student.pk}:{world.school.pk}:busy", "x", 30)
    response = committed(
        bearer_client(student),
        url("sessions"),
        {"lesson_id": str(world.lesson.public_id)},
        HTTP_IDEMPOTENCY_KEY="busy",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert response.headers["Retry-After"] == "1"


def test_a_malformed_key_is_invalid_input(world: World, student) -> None:
    response = bearer_client(student).post(
        url("sessions"), {"lesson_id": str(world.lesson.public_id)}, HTTP_IDEMPOTENCY_KEY="a b"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]


def test_the_record_is_kept_in_redis_for_a_day(world: World, student, committed) -> None:
    import redis

    committed(
        bearer_client(student),
        url("sessions"),
        {"lesson_id": str(world.lesson.public_id)},
        HTTP_IDEMPOTENCY_KEY="ttl",
    )
    client = redis.Redis.from_url(settings.REDIS_URL)
    ttl = client.ttl(f"idem:{student.pk}:{world.school.pk}:ttl")
    assert 23 * 3600 < ttl <= 24 * 3600
    assert not client.exists(f"idem-lock:{student.pk}:{world.school.pk}:ttl")


def test_a_replayed_key_creation_never_shows_the_key_again(
    world: World, school, school_admin, committed
) -> None:
    client = bearer_client(school_admin)
    body = {"key": "sk-live-shown-once-9999"}
    first = committed(client, url("admin/provider-keys"), body, HTTP_IDEMPOTENCY_KEY="key-1")
    again = committed(client, url("admin/provider-keys"), body, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.json()["key"] == "sk-live-shown-once-9999"
    assert again.status_code == 201 and "key" not in again.json()
    assert again.json()["id"] == first.json()["id"]
    with school_context(school):
        assert ProviderKey.objects.filter(last_four="9999").count() == 1


def test_without_a_key_each_post_creates(world: World, school, student) -> None:
    client = bearer_client(student)
    for _ in range(2):
        client.post(url("sessions"), {"lesson_id": str(world.lesson.public_id)})
    with school_context(school):
        assert TutoringSession.objects.count() == 3


# --- Throttling ------------------------------------------------------------------------------


def _rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_asking_too_often_is_429_with_retry_after(world: World, student, settings) -> None:
    _rates(settings, ask_user="2/min")
    client = bearer_client(student)
    path = url(f"sessions/{world.session.public_id}/questions")
    statuses = [client.post(path, {"question": f"Q{i}?"}).status_code for i in range(3)]
    assert statuses == [202, 202, 429]
    throttled = client.post(path, {"question": "Q?"})
    assert throttled.json()["error"]["code"] == "throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60


def test_a_school_wide_limit_stops_every_student_of_the_school(
    world: World, school, student, other_student, settings
) -> None:
    from tests.factories import membership_of
    from tutoring.services import explanations as explanation_services
    from tutoring.services import lessons as lesson_services

    _rates(settings, ask_school="2/min")
    with school_context(school):
        lesson_services.classroom_enroll(
            actor=membership_of(school, world.lesson.created_by),
            classroom=world.classroom,
            user=other_student,
        )
        bobs = explanation_services.session_start(
            actor=membership_of(school, other_student), lesson=world.lesson
        )
    alice = bearer_client(student)
    bob = bearer_client(other_student)
    alice_path = url(f"sessions/{world.session.public_id}/questions")
    bob_path = url(f"sessions/{bobs.public_id}/questions")
    assert alice.post(alice_path, {"question": "A?"}).status_code == 202
    assert bob.post(bob_path, {"question": "B?"}).status_code == 202
    blocked = bob.post(bob_path, {"question": "C?"})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers


def test_reading_is_not_throttled_by_the_ask_limits(world: World, student, settings) -> None:
    _rates(settings, ask_user="1/min", ask_school="1/min")
    client = bearer_client(student)
    assert all(client.get(url("lessons")).status_code == 200 for _ in range(3))
