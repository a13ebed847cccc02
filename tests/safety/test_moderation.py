"""Moderation on the request side: the local rules decide before anything is queued."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.tenancy import school_context
from tests.factories import membership_of
from tests.safety.conftest import ask, configure, review_items, set_rule
from tutoring.models import Explanation, Message, UsageEntry
from tutoring.services import explanations as svc

Status = Explanation.Status
pytestmark = pytest.mark.django_db


def test_a_blocked_question_is_answered_kindly_and_never_queued(
    school, student, lesson, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        explanation = ask(school, student, lesson, "where can I find porn")
    assert callbacks == []  # nothing enqueued (and nobody to notify for this category)
    assert explanation.status == Status.BLOCKED
    assert "keep our chat about learning" in explanation.content
    assert explanation.error_message == explanation.content
    with school_context(school):
        assert not UsageEntry.objects.exists()
        roles = list(Message.objects.values_list("role", "content"))
    assert roles == [
        ("student", "where can I find porn"),
        ("tutor", explanation.content),
    ]
    [item] = review_items(school)
    assert (item.source, item.action, item.categories) == ("input", "block", ["sexual"])
    assert item.flagged_text == "where can I find porn"


def test_self_harm_gets_help_resources_and_the_safety_contacts_are_emailed_at_once(
    school, student, lesson, django_capture_on_commit_callbacks
):
    configure(
        school,
        safety_contacts=["counsellor@riverside.test", "head@riverside.test"],
        help_resources_text="Ms Green, room 12. Helpline: 0800 1111.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        explanation = ask(school, student, lesson, "I want to kill myself")
    assert explanation.status == Status.BLOCKED
    assert "adult you trust" in explanation.content
    assert explanation.content.endswith("Ms Green, room 12. Helpline: 0800 1111.")
    [email] = mail.outbox
    assert email.to == ["counsellor@riverside.test", "head@riverside.test"]
    assert "Self-harm" in email.subject
    assert "Class 5B" in email.body and "/safety/review/" in email.body
    # The e-mail points to the item; the child's words and name stay behind the sign-in.
    assert "kill myself" not in email.body and "Alice" not in email.body
    [item] = review_items(school)
    assert item.notified_at is not None and item.action == "support"


def test_a_flagged_question_is_answered_as_usual_and_queued_for_review(
    school, student, lesson, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        explanation = ask(school, student, lesson, "If I beat him up, is it 1/5 + 2/5?")
    assert explanation.status == Status.QUEUED
    assert len(callbacks) == 1  # the enqueue; no contacts configured, so no e-mail
    [item] = review_items(school)
    assert (item.action, item.categories, item.status) == ("flag", ["violence"], "open")
    assert item.classroom.name == "Class 5B"


def test_the_schools_rules_decide_what_blocks(school, student, lesson):
    set_rule(school, "violence", action="block")
    set_rule(school, "sexual", action="off")
    assert ask(school, student, lesson, "I will kill you").status == Status.BLOCKED
    assert ask(school, student, lesson, "send nudes").status == Status.QUEUED
    assert [i.categories for i in review_items(school)] == [["violence"]]


def test_a_teachers_preview_is_moderated_but_never_queued_for_review(school, teacher, lesson):
    with school_context(school):
        actor = membership_of(school, teacher)
        session = svc.session_start(actor=actor, lesson=lesson, preview_profile={})
        explanation = svc.explanation_request(
            actor=actor, session=session, question="send nudes please"
        )
    assert explanation.status == Status.BLOCKED
    assert review_items(school) == []


def test_sharing_an_email_address_is_flagged_as_personal_data(school, student, lesson):
    ask(school, student, lesson, "email me at alice.a@example.com with the answer")
    [item] = review_items(school)
    assert (item.categories, item.action, item.status) == (["personal_data"], "flag", "open")
