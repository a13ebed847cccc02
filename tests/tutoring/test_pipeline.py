"""Ask -> queued -> a real Celery worker -> the model -> a stored explanation, exactly once."""

from __future__ import annotations

import threading

import pytest

from accounts.tenancy import school_context
from tests.conftest import wait_for
from tests.factories import membership_of, published_lesson
from tests.fakes.openai_server import Error, Reply
from tutoring.errors import InvalidInput, LessonNotPublished, SessionNotYours
from tutoring.models import Explanation, Message, UsageEntry
from tutoring.services import explanations as svc
from tutoring.services import generation, sweeper

Status = Explanation.Status


def _ask(school, student, lesson, question="How do I add fractions?", session=None):
    with school_context(school):
        actor = membership_of(school, student)
        session = session or svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def _reload(school, explanation):
    with school_context(school):
        return Explanation.objects.get(pk=explanation.pk)


def _finished(school, explanation):
    def check():
        row = _reload(school, explanation)
        return row if row.is_terminal else None

    return wait_for(check, timeout=30)


# --- Validation (no worker needed) --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question", "code"), [("   ", "invalid_input"), ("x" * 2001, "invalid_input")]
)
def test_bad_questions_are_refused_with_a_code_and_nothing_is_written(
    school, teacher, student, question, code
):
    lesson = published_lesson(school, teacher, [student])
    with pytest.raises(InvalidInput) as excinfo:
        _ask(school, student, lesson, question=question)
    assert excinfo.value.code == code
    with school_context(school):
        assert not Explanation.objects.exists()
        assert not Message.objects.exists()


@pytest.mark.django_db
def test_asking_in_another_students_session_is_refused(school, teacher, student, other_student):
    lesson = published_lesson(school, teacher, [student, other_student])
    with school_context(school):
        session = svc.session_start(actor=membership_of(school, student), lesson=lesson)
        with pytest.raises(SessionNotYours):
            svc.explanation_request(
                actor=membership_of(school, other_student), session=session, question="Hi?"
            )


@pytest.mark.django_db
def test_unpublished_lesson_refuses_questions(school, teacher, student):
    from tutoring.services.lessons import lesson_unpublish

    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        session = svc.session_start(actor=membership_of(school, student), lesson=lesson)
        lesson_unpublish(actor=membership_of(school, teacher), lesson=lesson)
        session.lesson.refresh_from_db()
        with pytest.raises(LessonNotPublished) as excinfo:
            svc.explanation_request(
                actor=membership_of(school, student), session=session, question="Hi?"
            )
    assert excinfo.value.code == "lesson_not_published"


@pytest.mark.django_db
def test_request_returns_at_once_with_a_queued_row(
    school, teacher, student, django_capture_on_commit_callbacks
):
    lesson = published_lesson(school, teacher, [student])
    with django_capture_on_commit_callbacks() as callbacks:
        explanation = _ask(school, student, lesson)
    assert explanation.status == Status.QUEUED
    assert len(callbacks) == 1  # the enqueue waits for the commit


# --- Through a real worker ----------------------------------------------------------------


@pytest.mark.worker
def test_offline_explanation_is_written_by_the_worker(
    school, teacher, student, celery_worker_thread, settings
):
    settings.LLM_PROVIDER = "offline"
    lesson = published_lesson(school, teacher, [student])
    explanation = _finished(school, _ask(school, student, lesson))
    assert explanation.status == Status.SUCCEEDED
    assert explanation.provider == "offline"
    assert "Offline tutor" in explanation.content
    assert "numerators" in explanation.content
    with school_context(school):
        assert UsageEntry.objects.filter(explanation=explanation).count() == 1
        roles = list(
            Message.objects.filter(session=explanation.session).values_list("role", flat=True)
        )
    assert roles == ["student", "tutor"]


@pytest.mark.worker
def test_openai_explanation_is_stored_with_usage_and_the_messages_sent(
    school, teacher, student, celery_worker_thread, fake_llm
):
    fake_llm.script(
        Reply("Add the **numerators**: $\\frac{3}{5}$.", prompt_tokens=120, completion_tokens=9)
    )
    lesson = published_lesson(school, teacher, [student])
    explanation = _finished(school, _ask(school, student, lesson))
    assert explanation.status == Status.SUCCEEDED
    assert explanation.content == "Add the **numerators**: $\\frac{3}{5}$."
    assert (explanation.prompt_tokens, explanation.completion_tokens) == (120, 9)
    assert explanation.provider_request_id
    assert explanation.prompt_version
    sent = fake_llm.chat_requests()[-1]
    assert sent["messages"] == explanation.messages_sent
    body = str(sent)
    assert "Alice" not in body and "alice@riverside.test" not in body
    assert "How do I add fractions?" in body
    with school_context(school):
        usage = UsageEntry.objects.get(explanation=explanation)
    assert usage.prompt_tokens == 120 and usage.student_id == student.pk


@pytest.mark.worker
def test_duplicate_delivery_gives_one_result_and_one_charge(
    school, teacher, student, celery_worker_thread, fake_llm
):
    from tutoring.tasks import explanation_generate

    fake_llm.set_default(latency=0.3)
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    for _ in range(3):  # the same message delivered again while the first is running
        explanation_generate.delay(school.pk, explanation.pk)
    explanation = _finished(school, explanation)
    assert explanation.status == Status.SUCCEEDED
    with school_context(school):
        assert UsageEntry.objects.filter(explanation=explanation).count() == 1
        assert Message.objects.filter(explanation=explanation, role="tutor").count() == 1
    assert len(fake_llm.chat_requests()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_row_produce_one_result(school, teacher, student, fake_llm):
    fake_llm.set_default(latency=0.3)
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = svc.session_start(actor=actor, lesson=lesson)
    explanation = _ask(school, student, lesson, session=session)
    outcomes = []

    def run():
        outcomes.append(
            generation.explanation_generate(
                school_id=school.pk, explanation_id=explanation.pk
            ).status
        )
        from django.db import connection

        connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["skipped", "skipped", "skipped", "succeeded"]
    with school_context(school):
        assert UsageEntry.objects.filter(explanation_id=explanation.pk).count() == 1


@pytest.mark.worker
def test_rate_limit_then_success_retries_after_the_providers_delay(
    school, teacher, student, celery_worker_thread, fake_llm
):
    fake_llm.script(Error.rate_limited(retry_after=1), Reply("Second time lucky."))
    lesson = published_lesson(school, teacher, [student])
    explanation = _finished(school, _ask(school, student, lesson))
    assert explanation.status == Status.SUCCEEDED
    assert explanation.content == "Second time lucky."
    assert explanation.retry_count == 1 and explanation.attempt == 2
    first, second = [r for r in fake_llm.requests if r["path"].endswith("/chat/completions")]
    assert second["received_at"] - first["received_at"] >= 1.0
    with school_context(school):
        assert UsageEntry.objects.filter(explanation=explanation).count() == 1


@pytest.mark.worker
def test_invalid_key_fails_at_once_with_a_readable_message(
    school, teacher, student, celery_worker_thread, fake_llm, settings
):
    fake_llm.script(Error.invalid_api_key())
    lesson = published_lesson(school, teacher, [student])
    explanation = _finished(school, _ask(school, student, lesson))
    assert explanation.status == Status.FAILED
    assert explanation.attempt == 1
    assert explanation.error_code == "invalid_api_key"
    assert explanation.error_message and "Traceback" not in explanation.error_message
    assert settings.OPENAI_API_KEY not in explanation.error_message
    assert settings.OPENAI_API_KEY not in explanation.last_error_detail
    with school_context(school):
        assert not UsageEntry.objects.filter(explanation=explanation).exists()


@pytest.mark.worker
def test_sweeper_reenqueues_a_row_whose_message_was_lost(
    school, teacher, student, celery_worker_thread, fake_llm, settings, monkeypatch
):
    from tutoring.tasks import explanations_sweep

    monkeypatch.setattr(svc, "_enqueue", lambda explanation: None)  # the message is lost
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    settings.LLM_STALE_QUEUED_SECONDS = 0
    assert _reload(school, explanation).status == Status.QUEUED
    assert explanations_sweep() == {"requeued": 1, "failed": 0}
    assert _finished(school, explanation).status == Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_sweeper_reclaims_a_running_row_whose_worker_died(school, teacher, student, fake_llm):
    from django.utils import timezone

    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    with school_context(school):  # a worker claimed it, then was killed
        Explanation.objects.filter(pk=explanation.pk).update(
            status=Status.RUNNING, attempt=1, lease_until=timezone.now()
        )
    result, due = sweeper.explanations_sweep()
    assert due == [(school.pk, explanation.pk)]
    outcome = generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    assert outcome.status == "succeeded"
    assert _reload(school, explanation).attempt == 2


@pytest.mark.django_db(transaction=True)
def test_live_stream_yields_deltas_that_add_up_to_the_stored_text(
    school, teacher, student, fake_llm
):
    from tutoring.live.channel import _client, channel, live_events

    fake_llm.set_default(reply="one two three four five six", chunk_delay=0.05)
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    events = []
    reader = threading.Thread(
        target=lambda: events.extend(live_events(str(explanation.public_id), timeout=20))
    )
    reader.start()
    wait_for(lambda: _client().pubsub_numsub(channel(str(explanation.public_id)))[0][1] == 1)
    generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    reader.join(20)
    text = "".join(e.text for e in events if e.type == "delta")
    assert text == _reload(school, explanation).content == "one two three four five six"
    assert events[-1].type == "done" and events[-1].status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_stored_provider_failure_is_shown_in_the_readers_language(
    school, teacher, student, fake_llm
):
    from django.utils import translation

    fake_llm.script(Error.invalid_api_key())
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    explanation = _reload(school, explanation)
    assert "API key" in explanation.error_text
    with translation.override("zh-hans"):
        assert "密钥" in explanation.error_text


@pytest.mark.django_db(transaction=True)
def test_a_question_waiting_out_a_provider_outage_says_busy_and_saved(
    school, teacher, student, fake_llm, client
):
    fake_llm.script(Error.server_error(503))
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    outcome = generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    assert outcome.status == "retry"
    explanation = _reload(school, explanation)
    assert explanation.status == Status.QUEUED and explanation.is_retrying
    client.login(email=student.email, password="correct-horse-battery-staple")
    poll = client.get(f"/s/riverside/explanations/{explanation.public_id}/poll").json()
    assert poll["status"] == "queued"
    assert poll["label"].startswith("The tutor is busy right now. Your question is saved")


@pytest.mark.django_db(transaction=True)
def test_a_generation_costs_the_same_few_queries_however_long_the_session(
    school, teacher, student, fake_llm, django_assert_num_queries
):
    """Claim (school, claim UPDATE, settings, the row with its session, key, history,
    profile, safety settings, roster, budget lock, budget sums, reservation), then finish
    (result UPDATE, usage, the school's month and the student's day counters, tutor
    message); each of the two transactions sets the school once and counts its BEGIN and
    COMMIT: 23."""
    fake_llm.set_default(reply="Keep the denominator, add the numerators.")
    lesson = published_lesson(school, teacher, [student])
    first = _ask(school, student, lesson)
    generation.explanation_generate(school_id=school.pk, explanation_id=first.pk)
    with school_context(school):
        session = Explanation.objects.get(pk=first.pk).session
    for i in range(30):
        later = _ask(
            school, student, lesson, question=f"And what about fifths? ({i})", session=session
        )
        generation.explanation_generate(school_id=school.pk, explanation_id=later.pk)
    last = _ask(school, student, lesson, question="One more question?", session=session)
    with django_assert_num_queries(23):
        outcome = generation.explanation_generate(school_id=school.pk, explanation_id=last.pk)
    assert outcome.status == "succeeded"
    assert _reload(school, last).content == "Keep the denominator, add the numerators."
