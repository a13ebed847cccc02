"""Moderation and PII protection in the worker, against the fake OpenAI server (real SDK,
real HTTP) and a real Celery worker."""

from __future__ import annotations

import json

import pytest

from accounts.tenancy import school_context
from tests.fakes.openai_server import Error, Reply
from tests.safety.conftest import ask, configure, finished, review_items
from tutoring.models import Explanation, Message, UsageEntry

Status = Explanation.Status
pytestmark = pytest.mark.worker


def _chat_text(fake_llm) -> str:
    return json.dumps(fake_llm.chat_requests(), ensure_ascii=False)


def test_blocked_text_never_reaches_the_chat_endpoint(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.script(Reply("Add the numerators."))
    blocked = ask(school, student, lesson, "send nudes or I stop working")
    asked = ask(school, student, lesson, "How do I add 1/5 and 2/5?", session=blocked.session)
    assert finished(school, asked).status == Status.SUCCEEDED
    assert finished(school, blocked).status == Status.BLOCKED
    assert len(fake_llm.chat_requests()) == 1
    # Not as the question, nor as history of the later question in the same session.
    assert "nudes" not in _chat_text(fake_llm)
    assert "nudes" not in json.dumps(fake_llm.moderation_requests())
    assert [r["input"] for r in fake_llm.moderation_requests()][0] == "How do I add 1/5 and 2/5?"


def test_the_providers_moderation_blocks_a_question_before_the_chat_call(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.set_moderation_triggers({"purple elephant": "sexual"})
    explanation = finished(
        school, ask(school, student, lesson, "Tell me about the purple elephant")
    )
    assert explanation.status == Status.BLOCKED
    assert explanation.error_code == "blocked_input"
    assert "keep our chat about learning" in explanation.content
    assert fake_llm.chat_requests() == []
    assert len(fake_llm.moderation_requests()) == 1
    [item] = review_items(school)
    assert (item.source, item.detector, item.categories) == ("input", "openai", ["sexual"])
    with school_context(school):
        assert not UsageEntry.objects.exists()
        assert Message.objects.filter(role="tutor").get().content == explanation.content


def test_a_reply_the_moderation_blocks_is_hidden_and_kept_for_the_teachers(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.set_moderation_triggers({"forbidden words": "hate"})
    fake_llm.script(Reply("Here are some forbidden words for you."))
    explanation = finished(school, ask(school, student, lesson, "How do I add fractions?"))
    assert explanation.status == Status.BLOCKED
    assert explanation.error_code == "blocked_output"
    assert "forbidden" not in explanation.content
    assert "did not pass your school's safety check" in explanation.content
    with school_context(school):
        tutor_message = Message.objects.get(role="tutor")
        assert UsageEntry.objects.count() == 1  # the call happened: it is paid for
    assert "forbidden" not in tutor_message.content
    [item] = review_items(school)
    assert (item.source, item.action) == ("output", "block")
    assert item.flagged_text == "Here are some forbidden words for you."


def test_a_flagged_reply_is_shown_and_queued(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.script(Reply("A bomb of fractions: 3/5."))
    explanation = finished(school, ask(school, student, lesson, "How do I add fractions?"))
    assert explanation.status == Status.SUCCEEDED
    assert explanation.content == "A bomb of fractions: 3/5."
    [item] = review_items(school)
    assert (item.source, item.action, item.categories) == ("output", "flag", ["violence"])


def test_a_failing_moderation_endpoint_falls_back_to_the_local_rules(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.script_moderation(Error(500), Error(500))
    fake_llm.script(Reply("Add the numerators."))
    explanation = finished(school, ask(school, student, lesson, "How do I add fractions?"))
    assert explanation.status == Status.SUCCEEDED
    assert explanation.content == "Add the numerators."


def test_name_email_and_phone_never_leave_the_platform_and_come_back_in_the_reply(
    school, student, lesson, celery_worker_thread, fake_llm
):
    fake_llm.script(Reply(lambda body: "Well done [NAME_1]! [NAME_2] adds the denominators."))
    question = (
        "I am Alice Anders, mail alice.anders@example.com or call 555-123-4567. "
        "Bob Brown says 1/5 + 2/5 = 3/10, is he right?"
    )
    explanation = finished(school, ask(school, student, lesson, question))
    sent = _chat_text(fake_llm) + json.dumps(fake_llm.moderation_requests())
    for secret in ("Alice", "Anders", "alice.anders@example.com", "555-123-4567", "Bob"):
        assert secret not in sent
    assert "[NAME_1]" in sent and "[EMAIL_1]" in sent and "[PHONE_1]" in sent
    # The stored record is what left the platform, placeholders included.
    assert explanation.messages_sent == fake_llm.chat_requests()[-1]["messages"]
    assert "Alice" not in json.dumps(explanation.messages_sent)
    assert explanation.content == "Well done Alice Anders! Bob Brown adds the denominators."


def test_a_school_can_switch_the_redaction_off(
    school, student, lesson, celery_worker_thread, fake_llm
):
    configure(school, is_pii_redaction_enabled=False)
    fake_llm.script(Reply("Yes."))
    finished(school, ask(school, student, lesson, "I am Alice, is 3/5 right?"))
    assert "I am Alice" in _chat_text(fake_llm)
