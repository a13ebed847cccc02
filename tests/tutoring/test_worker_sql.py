"""The worker's explicit statements return and write what the ORM would, and keep the
tenancy guarantees: the school's id is in every school-owned statement and checked against
the school context, and another school's rows are never read or written."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import School
from accounts.tenancy import SchoolContextMismatch, school_context
from tests.factories import membership_of, published_lesson
from tutoring.models import (
    ClassroomMember,
    Exercise,
    Explanation,
    Message,
    ProviderKey,
    SafetySettings,
    SchoolSettings,
    StudentProfile,
    UsageEntry,
)
from tutoring.safety.rules import safety_settings_get
from tutoring.services import explanations as svc
from tutoring.services import keys, worker_sql
from tutoring.services import lessons as lesson_svc
from tutoring.services.budgets import school_settings_get
from tutoring.services.profiles import profile_get_or_create

pytestmark = pytest.mark.django_db


def _asked(school, student, teacher, question="How do I add fractions?"):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def _same_fields(got: Any, expected: Any) -> None:
    assert type(got) is type(expected) and got._state.adding is False
    for field in type(expected)._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name


def test_the_claimed_row_is_the_orms_with_its_related_rows_in_one_statement(
    school, teacher, student
):
    asked = _asked(school, student, teacher)
    with school_context(school):
        expected = Explanation.objects.select_related(
            "session__student", "lesson_version", "exercise"
        ).get(pk=asked.pk)
        with CaptureQueriesContext(connection) as queries:
            got = worker_sql.claimed_explanation_row(school, asked.pk)
            assert got is not None
            assert got.session.student.full_name == "Alice Anders"  # joined: no query
            assert got.lesson_version.material == expected.lesson_version.material
            assert got.exercise is None
    assert len(queries) == 1
    _same_fields(got, expected)
    _same_fields(got.session, expected.session)
    _same_fields(got.session.student, expected.session.student)
    _same_fields(got.lesson_version, expected.lesson_version)
    assert got.messages_sent == expected.messages_sent  # JSON, converted like the ORM's
    assert got.queued_at.tzinfo is not None and got.public_id == expected.public_id


def test_an_answer_review_brings_its_exercise(school, teacher, student):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        exercise = Exercise.objects.get(lesson=lesson)
        attempt = lesson_svc.exercise_attempt_submit(actor=actor, exercise=exercise, answer="1/2")
        asked = svc.explain_my_answer(actor=actor, attempt=attempt)
        got = worker_sql.claimed_explanation_row(school, asked.pk)
    assert got is not None and got.exercise is not None
    _same_fields(got.exercise, exercise)
    assert got.exercise.accepted_answers == exercise.accepted_answers  # a JSON list


def test_the_settings_key_profile_and_roster_are_what_the_orm_reads(
    school, teacher, student, school_admin
):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        keys.provider_key_create(
            actor=membership_of(school, school_admin), secret="sk-test-" + "9" * 32
        )
        profile = profile_get_or_create(school_member=membership_of(school, student))
        school_settings_get(school)
        safety_settings_get(school)
        pairs: list[tuple[Any, Any]] = [
            (worker_sql.school_settings_row(school), SchoolSettings.objects.get()),
            (worker_sql.school_settings_row(school, lock=True), SchoolSettings.objects.get()),
            (worker_sql.safety_settings_row(school), SafetySettings.objects.get()),
            (worker_sql.active_provider_key_row(school), ProviderKey.objects.get(is_active=True)),
            (worker_sql.student_profile_row(school, student.pk), profile),
        ]
        roster = worker_sql.class_roster_names(school, lesson.pk)
        expected_roster = list(
            ClassroomMember.objects.filter(classroom__lessons__pk=lesson.pk).values_list(
                "user__full_name", flat=True
            )
        )
    for got, expected in pairs:
        _same_fields(got, expected)  # the JSON rules and contacts included
    assert sorted(roster) == sorted(expected_roster) and "Alice Anders" in roster
    got_school = worker_sql.school_by_id(school.pk)
    assert got_school is not None
    _same_fields(got_school, School.objects.get(pk=school.pk))
    assert worker_sql.school_by_id(10**9) is None


def test_history_is_the_orms_newest_first_without_the_question_or_blocked_turns(
    school, teacher, student
):
    asked = _asked(school, student, teacher)
    with school_context(school):
        session = asked.session
        Message.objects.create(school=school, session=session, role="tutor", content="Earlier.")
        blocked = Explanation.objects.get(pk=asked.pk)
        later = timezone.now() + timedelta(seconds=1)
        expected = list(
            Message.objects.filter(session_id=session.pk, created_at__lt=later)
            .exclude(explanation_id=blocked.pk)
            .exclude(explanation__status=Explanation.Status.BLOCKED)
            .order_by("-created_at", "-id")
            .values_list("role", "content")
        )
        got = worker_sql.history_turns_newest_first(
            school, session_id=session.pk, before=later, explanation_id=blocked.pk
        )
        assert got == expected == [("tutor", "Earlier.")]
        with_question = worker_sql.history_turns_newest_first(
            school, session_id=session.pk, before=later, explanation_id=0
        )
        assert ("student", "How do I add fractions?") in with_question
        Explanation.objects.filter(pk=blocked.pk).update(status=Explanation.Status.BLOCKED)
        assert worker_sql.history_turns_newest_first(
            school, session_id=session.pk, before=later, explanation_id=0
        ) == [("tutor", "Earlier.")]
        earlier = asked.queued_at - timedelta(days=1)
        assert not worker_sql.history_turns_newest_first(
            school, session_id=session.pk, before=earlier, explanation_id=0
        )


def test_the_writes_store_what_the_orm_would(school, teacher, student):
    asked = _asked(school, student, teacher)
    sent = [{"role": "user", "content": "Why? 为什么"}]
    finished = timezone.now()
    with school_context(school):
        assert worker_sql.explanation_claim_update(
            school, asked.pk, now=finished, lease_until=finished + timedelta(minutes=5)
        )
        values = {"content": "Keep it.", "messages_sent": sent, "finished_at": finished}
        assert worker_sql.explanation_attempt_update(school, asked.pk, 2, values) == 0  # not it
        assert worker_sql.explanation_attempt_update(school, asked.pk, 1, values) == 1
        row = Explanation.objects.get(pk=asked.pk)
        made = worker_sql.tutor_message_insert(
            school, session_id=asked.session_id, content="¾ 四分之三", explanation_id=asked.pk
        )
        entry = worker_sql.usage_entry_insert(
            school,
            explanation_id=asked.pk,
            student_id=student.pk,
            is_preview=False,
            provider="openai",
            model="m",
            prompt_tokens=3,
            completion_tokens=4,
        )
        stored_message = Message.objects.get(pk=made.pk)
        stored_entry = UsageEntry.objects.get(pk=entry.pk)
    assert (row.status, row.attempt, row.content, row.messages_sent) == (
        "running",
        1,
        "Keep it.",
        sent,
    )
    assert row.finished_at == finished and row.started_at == finished
    _same_fields(made, stored_message)
    _same_fields(entry, stored_entry)
    assert (stored_message.role, stored_message.school_id) == ("tutor", school.pk)
    assert stored_entry.total_tokens == 7 and stored_entry.public_id is not None


def _statements(school: School, pk: int) -> dict[str, Callable[[], Any]]:
    now = timezone.now()
    return {
        "settings": lambda: worker_sql.school_settings_row(school),
        "safety": lambda: worker_sql.safety_settings_row(school, lock=True),
        "key": lambda: worker_sql.active_provider_key_row(school),
        "profile": lambda: worker_sql.student_profile_row(school, 1),
        "roster": lambda: worker_sql.class_roster_names(school, 1),
        "claimed": lambda: worker_sql.claimed_explanation_row(school, pk),
        "history": lambda: worker_sql.history_turns_newest_first(
            school, session_id=1, before=now, explanation_id=pk
        ),
        "budget": lambda: worker_sql.budget_tokens_used(school, 1, now.date(), now.date()),
        "claim": lambda: worker_sql.explanation_claim_update(school, pk, now=now, lease_until=now),
        "result": lambda: worker_sql.explanation_attempt_update(school, pk, 1, {"content": "x"}),
    }


@pytest.mark.parametrize("name", sorted(_statements(School(pk=1), 1)))
def test_every_statement_names_its_school_and_refuses_another_schools_context(
    name, school, other_school, teacher, student
):
    asked = _asked(school, student, teacher)
    with school_context(school), CaptureQueriesContext(connection) as queries:
        _statements(school, asked.pk)[name]()
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert re.search(rf"school_id\"? = {school.pk}\b", sql), sql

    with school_context(other_school), pytest.raises(SchoolContextMismatch):
        _statements(school, asked.pk)[name]()


def test_another_schools_rows_are_never_read_or_written(school, other_school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school):
        lesson_id = Explanation.objects.get(pk=asked.pk).session.lesson_id
    now = timezone.now()
    with school_context(other_school):
        assert worker_sql.claimed_explanation_row(other_school, asked.pk) is None
        assert worker_sql.class_roster_names(other_school, lesson_id) == []
        assert worker_sql.student_profile_row(other_school, student.pk) is None
        assert not worker_sql.history_turns_newest_first(
            other_school, session_id=asked.session_id, before=now, explanation_id=0
        )
        assert not worker_sql.explanation_claim_update(
            other_school, asked.pk, now=now, lease_until=now
        )
    with school_context(school):
        assert Explanation.objects.get(pk=asked.pk).status == Explanation.Status.QUEUED
        assert StudentProfile.objects.filter(user=student).count() <= 1
